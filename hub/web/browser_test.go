package web_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"sealdesk/hub/api"
	"sealdesk/hub/web"
	"sealdesk/internal/overlay"
	"sealdesk/internal/testenv"
	"sealdesk/signer/ses"
)

// TestBrowser drives the pages in a real Chromium (Debian's chromium package, headless)
// through chromedp: the public seal check with the demo's signed PDF and OFD, a tampered PDF,
// garbage, an empty file and one over the limit; the seal lookup; the reviewer's sign-in,
// a status change and the audit log; a form without its CSRF token; an organisation user
// guessing another organisation's record link. With SEALDESK_SCREENSHOTS=DIR it saves a
// screenshot of each page there (docs/screenshots holds the committed ones).
func TestBrowser(t *testing.T) {
	chromium := testenv.LookPath(t, "chromium")
	h := startHub(t, web.Options{MaxUpload: 4 << 20})
	ws := demoDocs(t)
	dir := t.TempDir()
	garbage := filepath.Join(dir, "garbage.pdf")
	empty := filepath.Join(dir, "empty.ofd")
	big := filepath.Join(dir, "big.pdf")
	os.WriteFile(garbage, []byte("GIF89a not a document"), 0o644)
	os.WriteFile(empty, nil, 0o644)
	os.WriteFile(big, append([]byte("%PDF-1.7\n"), make([]byte, 5<<20)...), 0o644)
	seal, err := ses.ParseSeal(ws.Seal)
	if err != nil {
		t.Fatal(err)
	}
	esID := seal.Info.ESID

	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(chromium), chromedp.NoSandbox,
		chromedp.DisableGPU, chromedp.WindowSize(1200, 900))
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancel()
	bctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	ctx := bctx
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("starting %s: %v", chromium, err)
	}
	run := func(what string, acts ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		sctx, cancel := context.WithTimeout(ctx, time.Minute)
		defer cancel()
		if err := chromedp.Do(sctx, acts...); err != nil {
			page, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`location.href + "\n" + document.body.innerText`))
			t.Fatalf("%s: %v\npage: %s", what, err, page)
		}
	}
	js := func(expr string) chromedp.Action[chromedp.Void] {
		return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := chromedp.Evaluate[bool]("("+expr+", true)")(ctx, tg)
			return err
		})
	}
	shots := os.Getenv("SEALDESK_SCREENSHOTS")
	shot := func(name string) {
		t.Helper()
		if shots == "" {
			return
		}
		b, err := chromedp.Run(ctx, chromedp.FullScreenshot(90))
		if err != nil {
			t.Fatalf("screenshot %s: %v", name, err)
		}
		if err := os.WriteFile(filepath.Join(shots, name+".png"), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	text := func(sel string) string {
		t.Helper()
		s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
		if err != nil {
			t.Fatalf("text of %s: %v", sel, err)
		}
		return s
	}
	check := func(file string) {
		t.Helper()
		run("upload "+filepath.Base(file),
			chromedp.Navigate(h.url+"/"),
			chromedp.WaitVisible(chromedp.CSS("#check-form")),
			chromedp.SetUploadFiles(chromedp.CSS("#file"), []string{file}),
			chromedp.Click(chromedp.CSS("#submit")),
			chromedp.WaitReady(chromedp.CSS("#verdict, #error-message")))
	}
	// outlined counts the pixels of the state's outline colour on the rendered pages.
	outlined := func(st overlay.State) int {
		t.Helper()
		srcs, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`Array.from(document.querySelectorAll(".pages img")).map(i => i.src)`))
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		want := st.Color()
		for _, s := range srcs {
			b, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(s, "data:image/png;base64,"))
			if err != nil {
				t.Fatal(err)
			}
			img, err := png.Decode(bytes.NewReader(b))
			if err != nil {
				t.Fatal(err)
			}
			n += countColour(img, want.R, want.G, want.B)
		}
		return n
	}

	// The seal check page, in Chinese, then English.
	run("open the check page", chromedp.Navigate(h.url+"/"), chromedp.WaitVisible(chromedp.CSS("#check-form")))
	if s := text("#check-form"); !strings.Contains(s, "文件仅在内存中验证，不会被保存") || !strings.Contains(s, "4 MB") {
		t.Errorf("check page: %q", s)
	}
	shot("web-1-check")

	for _, c := range []struct {
		file, shot string
		state      overlay.State
		want       string
	}{
		{signed.pdf, "web-2-report-pdf", overlay.Valid, "有效"},
		{signed.ofd, "web-3-report-ofd", overlay.Valid, "有效"},
		{signed.tampered, "web-4-report-tampered", overlay.Invalid, "未通过"},
	} {
		check(c.file)
		attr, err := chromedp.Run(ctx, chromedp.AttributeValue(chromedp.CSS("#verdict"), "data-state"))
		if err != nil {
			t.Fatalf("%s: no verdict: %v", filepath.Base(c.file), err)
		}
		if state := attr.Value; state != c.state.Name() {
			t.Errorf("%s: verdict %q, want %q: %s", filepath.Base(c.file), state, c.state.Name(), text("main"))
		}
		if s := text("main"); !strings.Contains(s, c.want) {
			t.Errorf("%s: the report does not say %q", filepath.Base(c.file), c.want)
		}
		if n := outlined(c.state); n < 100 {
			t.Errorf("%s: %d pixels of the %s outline on the pages", filepath.Base(c.file), n, c.state.Name())
		}
		if c.state == overlay.Invalid {
			// The reason: the integrity fact fails and the finding is listed.
			if s := text(".sig"); !strings.Contains(s, "完整性") || !strings.Contains(s, "未通过") || !strings.Contains(s, "原因") && !strings.Contains(s, "结论依据") {
				t.Errorf("tampered: no reason shown: %q", s)
			}
		}
		shot(c.shot)
	}

	// Garbage, an empty file, one over the limit: a clear message, never a server error.
	check(garbage)
	if s := text("#error-message"); !strings.Contains(s, "不是 PDF 或 OFD") {
		t.Errorf("garbage: %q", s)
	}
	shot("web-5-error-garbage")
	check(empty)
	if s := text("#error-message"); !strings.Contains(s, "空的") {
		t.Errorf("empty file: %q", s)
	}
	run("over the limit", chromedp.Navigate(h.url+"/"), chromedp.WaitVisible(chromedp.CSS("#check-form")),
		chromedp.SetUploadFiles(chromedp.CSS("#file"), []string{big}),
		chromedp.Click(chromedp.CSS("#submit")),
		chromedp.WaitVisible(chromedp.CSS("#client-msg")))
	if s := text("#client-msg"); !strings.Contains(s, "超过大小上限") {
		t.Errorf("over the limit: %q", s)
	}
	shot("web-6-error-too-large")
	// The same file with the script's check bypassed reaches the server, which refuses it.
	run("over the limit, no script check", js(`document.getElementById("check-form").dataset.limit = "999999999"`),
		chromedp.Click(chromedp.CSS("#submit")), chromedp.WaitVisible(chromedp.CSS("#error-message")))
	if s := text("#error-message"); !strings.Contains(s, "文件超过大小上限 4 MB") {
		t.Errorf("over the limit (server): %q", s)
	}

	// Lookup by esID.
	run("lookup", chromedp.Navigate(h.url+"/"), chromedp.SendKeys(chromedp.CSS(`input[name=id]`), esID),
		chromedp.Submit(chromedp.CSS(`input[name=id]`)), chromedp.WaitVisible(chromedp.CSS("#seal-entry")))
	if s := text("#seal-entry"); !strings.Contains(s, esID) || !strings.Contains(s, "状态历史") {
		t.Errorf("lookup: %q", s)
	}
	shot("web-7-seal-lookup")

	// A reviewer signs in, opens org-a's application (the seal picture at true size, the
	// certificate request's subject), approves it, and finds the approval in the audit log.
	signin := func(user string) {
		t.Helper()
		run("sign in as "+user, chromedp.Navigate(h.url+"/console/signin"), chromedp.WaitVisible(chromedp.CSS("#signin-form")),
			chromedp.SendKeys(chromedp.CSS("#username"), user), chromedp.SendKeys(chromedp.CSS("#password"), h.staff[user]),
			chromedp.Click(chromedp.CSS("#signin")), chromedp.WaitVisible(chromedp.CSS(".signout")))
	}
	run("sign-in page", chromedp.Navigate(h.url+"/console/signin"), chromedp.WaitVisible(chromedp.CSS("#signin-form")))
	shot("web-8-signin")
	signin("reviewer")
	run("queue", chromedp.WaitVisible(chromedp.CSS("#applications")))
	if s := text("#applications"); !strings.Contains(s, "Org A 合同专用章") || !strings.Contains(s, "待审核") {
		t.Errorf("reviewer's queue: %q", s)
	}
	shot("web-9-applications")
	run("application", chromedp.Navigate(h.url+"/console/applications/"+h.appID), chromedp.WaitVisible(chromedp.CSS("#decision-form")))
	if s := text("#application"); !strings.Contains(s, "Holder of org-a") {
		t.Errorf("application page: no CSR subject: %q", s)
	}
	// The picture shows 40 mm wide: 151 CSS pixels at 96 per inch.
	if w, err := chromedp.Run(ctx, chromedp.Evaluate[float64](`document.getElementById("picture").getBoundingClientRect().width`)); err != nil || w < 150 || w > 152 {
		t.Errorf("seal picture %v CSS px wide (%v), want 151 (40 mm)", w, err)
	}
	shot("web-10-application")
	run("approve", chromedp.SetValue(chromedp.CSS("#decision"), "approve"), chromedp.SendKeys(chromedp.CSS("#decision-reason"), "材料齐全，同意制章"),
		chromedp.Click(chromedp.CSS("#decide")), chromedp.WaitVisible(chromedp.CSS(".flash")))
	if s := text("#app-status"); s != "已批准" {
		t.Errorf("after approving: %q: %s", s, text("main"))
	}
	shot("web-11-application-approved")
	run("audit (reviewer)", chromedp.Navigate(h.url+"/console/audit"), chromedp.WaitVisible(chromedp.CSS("#audit")))
	if s := text("#audit"); !strings.Contains(s, "application.approved") || !strings.Contains(s, "web:reviewer") {
		t.Errorf("audit log after the approval: %q", s)
	}
	shot("web-12-audit-approval")
	run("sign out", chromedp.Click(chromedp.CSS(".signout button")), chromedp.WaitVisible(chromedp.CSS("#signin-form")))

	// The hub operator suspends the demo seal with a reason, and finds it in the audit log.
	signin("admin")
	run("seals", chromedp.WaitVisible(chromedp.CSS("#seals")))
	if s := text("#seals"); !strings.Contains(s, esID) || !strings.Contains(s, h.env.A.SealID) {
		t.Errorf("admin's seal list: %q", s)
	}
	shot("web-13-console-seals")
	run("suspend", chromedp.Navigate(h.url+"/console/seals/"+esID), chromedp.WaitVisible(chromedp.CSS("#status-form")),
		chromedp.SetValue(chromedp.CSS("#action"), "suspend"), chromedp.SendKeys(chromedp.CSS("#reason"), "审核暂停：材料待补"),
		chromedp.Click(chromedp.CSS("#apply")), chromedp.WaitVisible(chromedp.CSS(".flash")))
	if s := text("#seal-status"); s != "已暂停" {
		t.Errorf("after suspending: status %q", s)
	}
	shot("web-14-seal-suspended")
	run("audit", chromedp.Navigate(h.url+"/console/audit"), chromedp.WaitVisible(chromedp.CSS("#audit")))
	if s := text("#audit"); !strings.Contains(s, "seal.status") || !strings.Contains(s, "admin:web:admin") || !strings.Contains(s, "审核暂停：材料待补") {
		t.Errorf("audit log: %q", s)
	}
	shot("web-15-audit")
	// A form without its CSRF token is refused and changes nothing.
	run("no CSRF token", chromedp.Navigate(h.url+"/console/seals/"+esID), chromedp.WaitVisible(chromedp.CSS("#status-form")),
		js(`document.querySelector("#status-form input[name=csrf]").remove()`),
		chromedp.SetValue(chromedp.CSS("#action"), "resume"),
		chromedp.Click(chromedp.CSS("#apply")), chromedp.WaitVisible(chromedp.CSS("#error-message")))
	if s := text("#error-message"); !strings.Contains(s, "CSRF") {
		t.Errorf("form without a CSRF token: %q", s)
	}
	shot("web-16-csrf-refused")
	if s, _ := h.env.Hub.Seal(context.Background(), api.Principal{Role: api.RoleAdmin}, esID); s.Status != api.StatusSuspended {
		t.Errorf("the refused form changed the seal to %s", s.Status)
	}
	run("records", chromedp.Navigate(h.url+"/console/records?org=org-a"), chromedp.WaitVisible(chromedp.CSS("#records")))
	shot("web-17-records")
	run("orgs", chromedp.Navigate(h.url+"/console/orgs"), chromedp.WaitVisible(chromedp.CSS("#orgs")))
	shot("web-18-orgs")
	run("english", chromedp.Navigate(h.url+"/?lang=en"), chromedp.WaitVisible(chromedp.CSS("#check-form")))
	if s := text("#check-form"); !strings.Contains(s, "The file is checked in memory and not kept.") {
		t.Errorf("English check page: %q", s)
	}
	shot("web-19-check-english")
	run("sign out", chromedp.Navigate(h.url+"/console/seals"), chromedp.Click(chromedp.CSS(".signout button")),
		chromedp.WaitVisible(chromedp.CSS("#signin-form")))

	// An organisation user: its own records; another organisation's by a guessed link is
	// answered like a missing record.
	signin("clerk-org-a")
	run("guess org-b's record", chromedp.Navigate(h.url+"/console/records/org-b/rec-org-b"), chromedp.WaitVisible(chromedp.CSS("#error-message")))
	if s := text("main"); strings.Contains(s, "contract-org-b") || !strings.Contains(s, "not among your organisation's records") {
		t.Errorf("org-a's clerk at org-b's record: %q", s)
	}
	shot("web-20-other-org-denied")
	run("guess org-b's list", chromedp.Navigate(h.url+"/console/records?org=org-b"), chromedp.WaitVisible(chromedp.CSS("#error-message")))
	if s := text("main"); strings.Contains(s, "rec-org-b") {
		t.Errorf("org-a's clerk sees org-b's records: %q", s)
	}
}

func countColour(img image.Image, r, g, b uint8) int {
	n := 0
	bd := img.Bounds()
	for y := bd.Min.Y; y < bd.Max.Y; y++ {
		for x := bd.Min.X; x < bd.Max.X; x++ {
			cr, cg, cb, _ := img.At(x, y).RGBA()
			if uint8(cr>>8) == r && uint8(cg>>8) == g && uint8(cb>>8) == b {
				n++
			}
		}
	}
	return n
}
