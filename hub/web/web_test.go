package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"

	"sealdesk/document"
	"sealdesk/hub/api"
	"sealdesk/hub/web"
	"sealdesk/internal/cli"
	"sealdesk/signer/ses"
)

// upload posts a file to the seal check as the page's form does.
func upload(t *testing.T, c *http.Client, base, name string, data []byte, accept string) (*http.Response, string) {
	t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, err := mw.CreateFormFile("file", name)
	if err != nil {
		t.Fatal(err)
	}
	fw.Write(data)
	mw.Close()
	req, _ := http.NewRequest("POST", base+"/", &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func read(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// sealctlVerify runs `sealctl verify FILE --json --trust root.pem --hub URL` in process.
func sealctlVerify(t *testing.T, file, hubURL, token string) *document.VerifyReport {
	t.Helper()
	var out, errb bytes.Buffer
	t.Setenv("SEALDESK_OUTBOX", t.TempDir()+"/outbox.db")
	t.Setenv("SEALDESK_HUB_TOKEN", token)
	cli.Main("sealctl", []string{"verify", file, "--json", "--trust", demoWS.Path("root.pem"), "--hub", hubURL}, nil, &out, &errb)
	var rep document.VerifyReport
	if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
		t.Fatalf("sealctl verify: %v\n%s\n%s", err, out.String(), errb.String())
	}
	return &rep
}

// TestCheckJSONIsSealctlVerify: the seal check's JSON answer is the report `sealctl verify
// --json --hub` prints for the same file (but for the file name), for the signed PDF and OFD,
// and the tampered PDF; the HTML answer shows the verdict, the facts and outlined pages.
func TestCheckJSONIsSealctlVerify(t *testing.T) {
	h := startHub(t, web.Options{})
	for _, f := range []struct {
		path, name string
		valid      bool
	}{{signed.pdf, "sample-signed.pdf", true}, {signed.ofd, "sample-signed.ofd", true}, {signed.tampered, "sample-tampered.pdf", false}} {
		resp, body := upload(t, h.srv.Client(), h.url, f.name, read(t, f.path), "application/json")
		if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
			t.Fatalf("%s: %d %s\n%s", f.name, resp.StatusCode, resp.Header.Get("Content-Type"), body)
		}
		var got document.VerifyReport
		if err := json.Unmarshal([]byte(body), &got); err != nil {
			t.Fatal(err)
		}
		want := sealctlVerify(t, f.path, h.url, h.env.A.Token)
		if got.File != f.name {
			t.Errorf("%s: file %q", f.name, got.File)
		}
		got.File, want.File = "", ""
		gj, _ := json.Marshal(got)
		wj, _ := json.Marshal(want)
		if !bytes.Equal(gj, wj) {
			t.Errorf("%s: the seal check's report differs from sealctl verify's:\nweb:     %s\nsealctl: %s", f.name, gj, wj)
		}
		if got.Valid != f.valid || len(got.Signatures) != 1 {
			t.Errorf("%s: valid %v with %d signatures, want %v", f.name, got.Valid, len(got.Signatures), f.valid)
		}
		if f.valid {
			s := got.Signatures[0]
			if s.Registry != document.OK || s.Revocation != document.OK || s.Trust != document.OK {
				t.Errorf("%s: registry %q revocation %q trust %q, want ok: %v", f.name, s.Registry, s.Revocation, s.Trust, s.Problems)
			}
		}

		resp, page := upload(t, h.srv.Client(), h.url, f.name, read(t, f.path), "")
		if resp.StatusCode != 200 {
			t.Fatalf("%s: HTML answer %d", f.name, resp.StatusCode)
		}
		state := "valid"
		if !f.valid {
			state = "invalid"
		}
		if !strings.Contains(page, `id="verdict" data-state="`+state+`"`) {
			t.Errorf("%s: the page's verdict is not %s", f.name, state)
		}
		if n := strings.Count(page, `src="data:image/png;base64,`); n < 1 {
			t.Errorf("%s: no rendered page", f.name)
		}
		if !strings.Contains(page, "文件仅在内存中验证，不会被保存") {
			t.Errorf("%s: the page does not say the upload is not kept", f.name)
		}
		for _, h := range []string{"Content-Security-Policy", "X-Content-Type-Options", "X-Frame-Options"} {
			if resp.Header.Get(h) == "" {
				t.Errorf("%s: no %s header", f.name, h)
			}
		}
	}
}

// TestCheckRefusals: garbage, an empty file, one over the limit, no file and a non-form body
// each get a clear message and a 4xx status, in Chinese by default and English on request.
func TestCheckRefusals(t *testing.T) {
	h := startHub(t, web.Options{MaxUpload: 1 << 20})
	c := h.srv.Client()
	for _, tc := range []struct {
		name string
		data []byte
		code int
		zh   string
	}{
		{"garbage.pdf", []byte("this is not a document at all, just text"), 400, "该文件不是 PDF 或 OFD 文件"},
		{"empty.pdf", nil, 400, "上传的文件是空的"},
		{"big.pdf", append([]byte("%PDF-1.7\n"), make([]byte, 1<<20)...), 413, "文件超过大小上限 1 MB"},
		// Readable by scanning its objects (as sealctl verify reads it): no signature.
		{"broken.pdf", []byte("%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF"), 200, "该文件没有签章"},
	} {
		resp, body := upload(t, c, h.url, tc.name, tc.data, "")
		if resp.StatusCode != tc.code || !strings.Contains(body, tc.zh) {
			t.Errorf("%s: %d, want %d with %q:\n%s", tc.name, resp.StatusCode, tc.code, tc.zh, excerpt(body))
		}
		resp, body = upload(t, c, h.url+"/?lang=en", tc.name, tc.data, "application/json")
		var e struct{ Error api.ErrorBody }
		if resp.StatusCode != tc.code || json.Unmarshal([]byte(body), &e) != nil || e.Error.Message == "" && tc.code != 200 {
			t.Errorf("%s (JSON): %d %s", tc.name, resp.StatusCode, body)
		}
	}
	resp, err := c.Post(h.url+"/?lang=en", "text/plain", strings.NewReader("hello"))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 415 || !strings.Contains(string(b), "Upload the file with the form") {
		t.Errorf("text/plain body: %d %s", resp.StatusCode, excerpt(string(b)))
	}
}

var tagRE = regexp.MustCompile(`(?s)<[^>]*>`)

func excerpt(html string) string {
	s := strings.Join(strings.Fields(tagRE.ReplaceAllString(html, " ")), " ")
	if len(s) > 400 {
		s = s[:400]
	}
	return s
}

// browserless is a cookie-keeping client that does not follow redirects.
func browserless(t *testing.T) *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func get(t *testing.T, c *http.Client, u string) (int, string) {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func post(t *testing.T, c *http.Client, u string, form url.Values) (int, string) {
	t.Helper()
	resp, err := c.PostForm(u, form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// signIn signs in through the form and returns the console's CSRF token.
func signIn(t *testing.T, c *http.Client, base, user, pw string) string {
	t.Helper()
	_, page := get(t, c, base+"/console/signin")
	m := csrfRE.FindStringSubmatch(page)
	if m == nil {
		t.Fatal("no CSRF token on the sign-in form")
	}
	code, body := post(t, c, base+"/console/signin", url.Values{"csrf": {m[1]}, "username": {user}, "password": {pw}})
	if code != http.StatusSeeOther {
		t.Fatalf("sign-in as %s: %d %s", user, code, excerpt(body))
	}
	_, page = get(t, c, base+"/console/seals")
	m = csrfRE.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no CSRF token on the console page: %s", excerpt(page))
	}
	return m[1]
}

// TestConsoleHTTP: sign-in, CSRF refusals, organisation isolation (by link guessing too),
// status changes through the hub's rules with their audit trail, the sign-in rate limit.
func TestConsoleHTTP(t *testing.T) {
	h := startHub(t, web.Options{})
	ctx := context.Background()
	a, b := h.env.A, h.env.B

	// Not signed in: console pages lead to the sign-in form.
	c := browserless(t)
	if code, _ := get(t, c, h.url+"/console/records"); code != http.StatusSeeOther {
		t.Errorf("console without a session: %d, want a redirect to sign-in", code)
	}
	// Sign-in without the form token, or with a wrong password.
	if code, body := post(t, c, h.url+"/console/signin", url.Values{"username": {"clerk-org-a"}, "password": {h.staff["clerk-org-a"]}}); code != 403 || !strings.Contains(body, "CSRF") {
		t.Errorf("sign-in without a CSRF token: %d %s", code, excerpt(body))
	}
	_, page := get(t, c, h.url+"/console/signin")
	tok := csrfRE.FindStringSubmatch(page)[1]
	if code, body := post(t, c, h.url+"/console/signin", url.Values{"csrf": {tok}, "username": {"clerk-org-a"}, "password": {"wrong password"}}); code != 401 || !strings.Contains(body, "用户名或密码错误") {
		t.Errorf("wrong password: %d %s", code, excerpt(body))
	}

	// An organisation user sees its own records and nothing of another organisation's,
	// whatever link it guesses.
	csrf := signIn(t, c, h.url, "clerk-org-a", h.staff["clerk-org-a"])
	if code, body := get(t, c, h.url+"/console/records"); code != 200 || !strings.Contains(body, "rec-org-a") || strings.Contains(body, "rec-org-b") {
		t.Errorf("own records: %d %s", code, excerpt(body))
	}
	for _, u := range []string{
		"/console/records?org=org-b", "/console/records/org-b/rec-org-b", "/console/records/org-a/rec-org-b",
		"/console/seals?org=org-b", "/console/seals/" + b.SealID, "/console/audit?org=org-b", "/console/orgs",
	} {
		code, body := get(t, c, h.url+u)
		if code != 403 && code != 404 || strings.Contains(body, "contract-org-b") || strings.Contains(body, "Contract seal of org-b") {
			t.Errorf("org-a's clerk at %s: %d %s", u, code, excerpt(body))
		}
	}
	if code, _ := post(t, c, h.url+"/console/seals/"+b.SealID+"/status", url.Values{"csrf": {csrf}, "action": {"suspend"}, "reason": {"guess"}}); code != 404 {
		t.Errorf("org-a's clerk suspending org-b's seal: %d, want 404", code)
	}
	// CSRF: a form without the token, or with another's, is refused and changes nothing.
	for _, form := range []url.Values{{"action": {"suspend"}, "reason": {"no token"}}, {"csrf": {tok}, "action": {"suspend"}, "reason": {"wrong token"}}} {
		if code, body := post(t, c, h.url+"/console/seals/"+a.SealID+"/status", form); code != 403 || !strings.Contains(body, "CSRF") {
			t.Errorf("status change with CSRF token %q: %d %s", form.Get("csrf"), code, excerpt(body))
		}
	}
	if s, _ := h.env.Hub.Seal(ctx, api.Principal{Role: api.RoleAdmin}, a.SealID); s.Status != api.StatusActive {
		t.Fatalf("a refused form changed the seal: %s", s.Status)
	}
	// With the token: suspended through the hub, audited as the clerk.
	if code, body := post(t, c, h.url+"/console/seals/"+a.SealID+"/status", url.Values{"csrf": {csrf}, "action": {"suspend"}, "reason": {"key mislaid"}}); code != http.StatusSeeOther {
		t.Fatalf("suspend: %d %s", code, excerpt(body))
	}
	if _, body := get(t, c, h.url+"/console/audit"); !strings.Contains(body, "seal.status") || !strings.Contains(body, "org-a:web:clerk-org-a") || !strings.Contains(body, "suspended: key mislaid") {
		t.Errorf("audit log after the suspension: %s", excerpt(body))
	}
	// Signed out: the session is gone.
	post(t, c, h.url+"/console/signout", url.Values{"csrf": {csrf}})
	if code, _ := get(t, c, h.url+"/console/seals"); code != http.StatusSeeOther {
		t.Errorf("after sign-out: %d", code)
	}

	// The admin sees every organisation.
	r := browserless(t)
	signIn(t, r, h.url, "admin", h.staff["admin"])
	if code, body := get(t, r, h.url+"/console/records?org=org-b"); code != 200 || !strings.Contains(body, "rec-org-b") {
		t.Errorf("admin, org-b's records: %d %s", code, excerpt(body))
	}
	if code, body := get(t, r, h.url+"/console/orgs"); code != 200 || !strings.Contains(body, "demo-org") {
		t.Errorf("admin, organisations: %d %s", code, excerpt(body))
	}

	// A reviewer returns org-a's application with a reason; org-a's clerk sees it returned,
	// org-b's clerk cannot open it; the return is in the audit trail, by the reviewer.
	rv := browserless(t)
	rcsrf := signIn(t, rv, h.url, "reviewer", h.staff["reviewer"])
	if code, body := get(t, rv, h.url+"/console/applications"); code != 200 || !strings.Contains(body, h.appID[:8]) {
		t.Errorf("reviewer's queue: %d %s", code, excerpt(body))
	}
	if code, body := post(t, rv, h.url+"/console/applications/"+h.appID+"/decision", url.Values{"csrf": {rcsrf}, "decision": {"return"}}); code != 422 && code != 400 || !strings.Contains(body, "reason") {
		t.Errorf("return without a reason: %d %s", code, excerpt(body))
	}
	if code, body := post(t, rv, h.url+"/console/applications/"+h.appID+"/decision", url.Values{"csrf": {rcsrf}, "decision": {"return"}, "reason": {"营业执照扫描件不清晰"}}); code != http.StatusSeeOther {
		t.Fatalf("return: %d %s", code, excerpt(body))
	}
	if _, body := get(t, rv, h.url+"/console/audit"); !strings.Contains(body, "application.returned") || !strings.Contains(body, "web:reviewer") {
		t.Errorf("audit after the return: %s", excerpt(body))
	}
	ca := browserless(t)
	signIn(t, ca, h.url, "clerk-org-a", h.staff["clerk-org-a"])
	if code, body := get(t, ca, h.url+"/console/applications/"+h.appID); code != 200 || !strings.Contains(body, `data-status="returned"`) || !strings.Contains(body, "营业执照扫描件不清晰") {
		t.Errorf("org-a's clerk, the returned application: %d %s", code, excerpt(body))
	}
	cb := browserless(t)
	signIn(t, cb, h.url, "clerk-org-b", h.staff["clerk-org-b"])
	if code, body := get(t, cb, h.url+"/console/applications/"+h.appID); code != 404 || strings.Contains(body, "Org A 合同专用章") {
		t.Errorf("org-b's clerk, org-a's application: %d %s", code, excerpt(body))
	}

	// Sign-in attempts are limited per address.
	x := browserless(t)
	_, page = get(t, x, h.url+"/console/signin")
	tok = csrfRE.FindStringSubmatch(page)[1]
	limited := false
	for i := 0; i < 15 && !limited; i++ {
		code, _ := post(t, x, h.url+"/console/signin", url.Values{"csrf": {tok}, "username": {"reviewer"}, "password": {"guess"}})
		limited = code == http.StatusTooManyRequests
	}
	if !limited {
		t.Error("15 wrong passwords in a row were never rate-limited")
	}
}

// TestSealLookup: the public lookup by esID shows the registry status and history.
func TestSealLookup(t *testing.T) {
	h := startHub(t, web.Options{})
	seal, err := ses.ParseSeal(demoWS.Seal)
	if err != nil {
		t.Fatal(err)
	}
	id := seal.Info.ESID
	code, body := get(t, h.srv.Client(), h.url+"/seal?id="+url.QueryEscape(id))
	if code != 200 || !strings.Contains(body, `data-status="active"`) || !strings.Contains(body, "DEMO-"+id) {
		t.Errorf("lookup %s: %d %s", id, code, excerpt(body))
	}
	code, body = get(t, h.srv.Client(), h.url+"/seal?id=no-such-seal")
	if code != 404 || !strings.Contains(body, "not filed") {
		t.Errorf("lookup of an unknown seal: %d %s", code, excerpt(body))
	}
}
