package cli

import (
	"bufio"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"sealdesk/document"
	"sealdesk/document/ofd"
	"sealdesk/document/pdf"
	"sealdesk/hub/api"
	"sealdesk/hub/client"
	"sealdesk/hub/maker"
	"sealdesk/hub/server"
	"sealdesk/internal/testenv"
	"sealdesk/signer/ses"
	"sealdesk/signer/token"
)

// lifecycleEnv is a real sealhub process (the test binary run as sealhub, exactly
// cmd/sealhub's code) holding its maker and CA keys on a SoftHSM2 token, and a second
// SoftHSM2 token as the holder's USB key.
type lifecycleEnv struct {
	t                                    *testing.T
	dir, lib, dsn, url, caCert, makerURI string
	caURI                                string
	applicantA, applicantB, reviewerA    string // token files
	reviewerB, auditor                   string
	hub                                  *exec.Cmd
	paused                               chan string
}

var lifecycleSeq atomic.Int64

// storeDSN returns a fresh database of kind for a sealhub process.
func storeDSN(t *testing.T, kind, dir string) string {
	if kind == "sqlite" {
		return "sqlite:" + filepath.Join(dir, "hub.db")
	}
	base := os.Getenv("SEALDESK_TEST_POSTGRES")
	if base == "" {
		testenv.Missing(t, "PostgreSQL ($SEALDESK_TEST_POSTGRES, set by scripts/with-postgres.sh)")
	}
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { admin.Close() })
	schema := fmt.Sprintf("lc%d_%d", os.Getpid(), lifecycleSeq.Add(1))
	if _, err := admin.Exec(`CREATE SCHEMA ` + schema); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { admin.Exec(`DROP SCHEMA ` + schema + ` CASCADE`) })
	sep := "?"
	if strings.Contains(base, "?") {
		sep = "&"
	}
	return base + sep + "search_path=" + schema
}

func newLifecycleEnv(t *testing.T, kind string) *lifecycleEnv {
	lib := testenv.SoftHSMModule(t)
	if _, err := exec.LookPath("sealhub"); err != nil {
		t.Fatalf("sealhub is not on PATH (TestMain puts the test binary there): %v", err)
	}
	dir := t.TempDir()
	conf := filepath.Join(dir, "softhsm2.conf")
	os.MkdirAll(filepath.Join(dir, "tokens"), 0o700)
	os.WriteFile(conf, []byte("directories.tokendir = "+filepath.Join(dir, "tokens")+"\nobjectstore.backend = file\nlog.level = ERROR\n"), 0o644)
	t.Setenv("SOFTHSM2_CONF", conf)
	t.Setenv("SEALDESK_PIN", "123456")
	t.Setenv("SEALDESK_CONFIG", filepath.Join(dir, "config.json"))
	t.Setenv("SEALDESK_OUTBOX", filepath.Join(dir, "outbox.db"))
	st, err := token.OpenModule(token.Module{Path: lib, Reinit: true})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, l := range []string{"Hub Token", "Holder Key"} {
		if err := st.InitToken(ctx, l, []byte("12345678"), []byte("123456")); err != nil {
			t.Fatal(err)
		}
	}
	st.Close()
	e := &lifecycleEnv{t: t, dir: dir, lib: lib, dsn: storeDSN(t, kind, dir)}
	// The admin commands below sign their audit events with the hub's key too.
	t.Setenv("SEALHUB_KEY", filepath.Join(dir, "hub-key.pem"))
	if _, err := server.LoadOrCreateKey(filepath.Join(dir, "hub-key.pem")); err != nil {
		t.Fatal(err)
	}
	code, out, stderr := hubRun(t, "sealhub", "maker", "init", "--key", "pkcs11:token=Hub%20Token?module-path="+lib,
		"--org", "测试印章中心", "--ca-cert-out", filepath.Join(dir, "ca.pem"), "--json")
	var mi map[string]string
	if code != 0 || json.Unmarshal([]byte(out), &mi) != nil {
		t.Fatalf("maker init: %d %s %s", code, out, stderr)
	}
	e.caCert, e.makerURI, e.caURI = mi["caCert"], mi["makerKey"], mi["caKey"]
	db := []string{"--db", e.dsn}
	for _, o := range []struct{ id, uscc string }{{"org-a", api.USCCWithCheckDigit("91110108MA01AAAA1")}, {"org-b", api.USCCWithCheckDigit("91310000MA01BBBB2")}} {
		if code, _, stderr := hubRun(t, "sealhub", append([]string{"org", "add", "--id", o.id, "--name", "单位 " + o.id, "--uscc", o.uscc}, db...)...); code != 0 {
			t.Fatalf("org add: %s", stderr)
		}
	}
	tok := func(name string, args ...string) string {
		f := filepath.Join(dir, name+".token")
		if code, _, stderr := hubRun(t, "sealhub", append(append([]string{"token", "add", "--label", name, "--out", f}, args...), db...)...); code != 0 {
			t.Fatalf("token add %s: %s", name, stderr)
		}
		return f
	}
	e.applicantA, e.applicantB = tok("applicant-a", "--org", "org-a"), tok("applicant-b", "--org", "org-b")
	e.reviewerA, e.reviewerB = tok("reviewer-a", "--role", "reviewer", "--org", "org-a"), tok("reviewer-b", "--role", "reviewer", "--org", "org-b")
	e.auditor = tok("auditor", "--role", "auditor")
	e.start("")
	return e
}

// start runs sealhub serve; pause names a point where it stops (SEALHUB_TEST_PAUSE).
func (e *lifecycleEnv) start(pause string) {
	t := e.t
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	cmd := exec.Command("sealhub", "serve", "--listen", addr, "--db", e.dsn,
		"--maker-key", e.makerURI, "--ca-key", e.caURI, "--ca-cert", e.caCert)
	cmd.Env = append(os.Environ(), "SEALHUB_TEST_PAUSE="+pause)
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	e.hub, e.url, e.paused = cmd, "http://"+addr, make(chan string, 4)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			t.Logf("sealhub: %s", sc.Text())
			if strings.Contains(sc.Text(), "paused at") {
				e.paused <- sc.Text()
			}
		}
	}()
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	for i := 0; i < 200; i++ {
		if r, err := http.Get(e.url + "/v1/health"); err == nil {
			r.Body.Close()
			t.Setenv("SEALDESK_HUB", e.url)
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatal("sealhub did not start")
}

// kill9 kills the hub with SIGKILL, as a crash would.
func (e *lifecycleEnv) kill9() {
	e.hub.Process.Signal(syscall.SIGKILL)
	e.hub.Wait()
}

// as runs a command with a role's token; it returns the exit code, stdout and stderr.
func (e *lifecycleEnv) as(tokenFile, program string, args ...string) (int, string, string) {
	e.t.Helper()
	e.t.Setenv("SEALDESK_HUB_TOKEN_FILE", tokenFile)
	return hubRun(e.t, program, args...)
}

func (e *lifecycleEnv) must(tokenFile, program string, args ...string) string {
	e.t.Helper()
	code, out, stderr := e.as(tokenFile, program, args...)
	if code != 0 {
		e.t.Fatalf("%s %s: exit %d: %s", program, strings.Join(args, " "), code, stderr)
	}
	return out
}

func (e *lifecycleEnv) refused(what, code string, tokenFile, program string, args ...string) {
	e.t.Helper()
	c, _, stderr := e.as(tokenFile, program, args...)
	if c == 0 || !strings.Contains(stderr, "("+code+")") {
		e.t.Fatalf("%s: exit %d %q, want refusal %s", what, c, stderr, code)
	}
}

func (e *lifecycleEnv) client(tokenFile string) *client.Client {
	b, _ := os.ReadFile(tokenFile)
	c, err := client.New(e.url, client.Options{Token: strings.TrimSpace(string(b))})
	if err != nil {
		e.t.Fatal(err)
	}
	return c
}

func (e *lifecycleEnv) keyURI(object string) string {
	return "pkcs11:token=Holder%20Key;object=" + object + "?module-path=" + url.PathEscape(e.lib)
}

func appID(t *testing.T, out string) string {
	var a api.Application
	if err := json.Unmarshal([]byte(out), &a); err != nil || a.ID == "" {
		t.Fatalf("application JSON: %v %s", err, out)
	}
	return a.ID
}

// TestLifecycleEndToEnd is issue 13's run: apply with a key generated on a SoftHSM2 token →
// reviewer returns it → resubmit → approve (the hub makes the seal with its maker key on its
// own token) → fetch onto the token → sign PDF (pades, pdf-ses) and OFD (ofd-ses4) → verify;
// suspend → signing refused, the earlier document still "active at signing time"; resume;
// report lost → final; re-issue naming the lost seal; every illegal step refused with its
// code; the audit trail verified event by event with the hub key.
func TestLifecycleEndToEnd(t *testing.T) {
	if !cgoEnabled {
		testenv.Missing(t, "cgo (PKCS#11)")
	}
	for _, kind := range []string{"sqlite", "postgres"} {
		t.Run(kind, func(t *testing.T) { lifecycleRun(t, kind) })
	}
}

func lifecycleRun(t *testing.T, kind string) {
	e := newLifecycleEnv(t, kind)
	dir := e.dir
	os.WriteFile(filepath.Join(dir, "licence.pdf"), []byte("%PDF-1.4 blurred scan"), 0o644)
	os.WriteFile(filepath.Join(dir, "licence-clear.pdf"), []byte("%PDF-1.4 clear scan"), 0o644)
	os.WriteFile(filepath.Join(dir, "sample.pdf"), pdf.SampleContract(), 0o644)
	f, _ := os.Create(filepath.Join(dir, "sample.ofd"))
	ofd.SampleContract(2).WriteTo(f)
	f.Close()
	holderKey := e.keyURI("holder")

	out := e.must(e.applicantA, "sealctl", "seal", "apply", "--key", holderKey, "--new-key", "--name", "单位 org-a 合同专用章",
		"--type", "04", "--contact", "张三 010-1234", "--attach", filepath.Join(dir, "licence.pdf"), "--json")
	id := appID(t, out)
	// Illegal steps before the decision.
	e.refused("fetch before approval", api.CodeNotApproved, e.applicantA, "sealctl", "seal", "fetch", id, "--out", filepath.Join(dir, "x.esl"))
	e.refused("another organisation's application", api.CodeNotFound, e.applicantB, "sealctl", "seal", "withdraw-application", id, "--reason", "x")
	e.refused("reviewer of the same organisation", api.CodeOwnOrg, e.reviewerA, "sealhub", "app", "approve", id)
	e.refused("applicant approves", api.CodeRoleNotAllowed, e.applicantA, "sealhub", "app", "approve", id)
	e.refused("auditor returns", api.CodeRoleNotAllowed, e.auditor, "sealhub", "app", "return", id, "--reason", "x")

	pending := e.must(e.reviewerB, "sealhub", "app", "list", "--pending", "--json")
	if !strings.Contains(pending, id) {
		t.Fatalf("pending list lacks %s: %s", id, pending)
	}
	e.must(e.reviewerB, "sealhub", "app", "return", id, "--reason", "营业执照扫描件不清晰，请重新上传")
	apps := e.must(e.applicantA, "sealctl", "seal", "applications", "--json")
	if !strings.Contains(apps, "returned") || !strings.Contains(apps, "营业执照扫描件不清晰") {
		t.Fatalf("applicant does not see the return reason: %s", apps)
	}
	e.must(e.applicantA, "sealctl", "seal", "submit", id, "--attach", filepath.Join(dir, "licence-clear.pdf"))
	out = e.must(e.reviewerB, "sealhub", "app", "approve", id, "--note", "材料齐全", "--json")
	var app api.Application
	json.Unmarshal([]byte(out), &app)
	if app.Status != api.AppApproved || app.ESID == "" {
		t.Fatalf("approve: %s", out)
	}
	e.refused("approve twice", api.CodeInvalidTransition, e.reviewerB, "sealhub", "app", "approve", id)
	esid := app.ESID

	sealFile := filepath.Join(dir, "seal.esl")
	out = e.must(e.applicantA, "sealctl", "seal", "fetch", id, "--out", sealFile, "--to-token", "--key", holderKey, "--json")
	if !strings.Contains(out, `"delivered": true`) {
		t.Fatalf("fetch: %s", out)
	}
	e.refused("reviewer suspends a seal", api.CodeRoleNotAllowed, e.reviewerB, "sealctl", "seal", "set-status", esid, "--status", "suspended", "--reason", "x")

	sign := func(key, in, out, profile string) (int, string) {
		args := []string{"sign", "--in", filepath.Join(dir, in), "--out", filepath.Join(dir, out),
			"--key", key, "--profile", profile, "--page", "1", "--at", "100,120"}
		if strings.HasPrefix(profile, "ofd") {
			// The holder's key lives on SoftHSM2, which has no SM2: an ECDSA key signs the OFD
			// only when allowed explicitly (other OFD readers check with SM3 only).
			args = append(args, "--allow-non-sm2")
		}
		code, _, stderr := e.as(e.applicantA, "sealctl", args...)
		return code, stderr
	}
	verify := func(file string) document.VerifyReport {
		code, out, stderr := e.as(e.applicantA, "sealctl", "verify", filepath.Join(dir, file), "--json", "--trust", e.caCert, "--offline")
		var rep document.VerifyReport
		if err := json.Unmarshal([]byte(out), &rep); err != nil {
			t.Fatalf("verify %s: %d %s %s", file, code, out, stderr)
		}
		return rep
	}
	signed := map[string]string{"pades": "sample.pdf", "pdf-ses": "sample.pdf", "ofd-ses4": "sample.ofd"}
	for _, profile := range []string{"pades", "pdf-ses", "ofd-ses4"} {
		out := "signed-" + profile + filepath.Ext(signed[profile])
		if code, stderr := sign(holderKey, signed[profile], out, profile); code != 0 {
			t.Fatalf("sign %s: %d %s", profile, code, stderr)
		}
		rep := verify(out)
		// pades is a plain CMS signature (no SES seal in it); the registry knows its signer.
		sealOK := profile == "pades" || (rep.Signatures[0].Seal != nil && rep.Signatures[0].Seal.ESID == esid)
		if !rep.Valid || len(rep.Signatures) != 1 || rep.Signatures[0].Registry != document.OK || !sealOK {
			b, _ := json.MarshalIndent(rep, "", " ")
			t.Fatalf("verify %s: %s", profile, b)
		}
		signed[profile] = out
	}
	time.Sleep(1100 * time.Millisecond) // signing times have whole seconds (api.StatusAt)

	e.must(e.applicantA, "sealctl", "seal", "set-status", esid, "--status", "suspended", "--reason", "印章保管人休假")
	if code, stderr := sign(holderKey, "sample.pdf", "while-suspended.pdf", "pades"); code != ExitNo || !strings.Contains(stderr, "suspended") {
		t.Fatalf("signing with a suspended seal: %d %s", code, stderr)
	}
	rep := verify(signed["pades"])
	if !rep.Valid || rep.Signatures[0].Registry != document.OK {
		t.Fatalf("the document signed before the suspension no longer verifies: %+v", rep.Signatures[0])
	}
	ctx := context.Background()
	signedAt, _ := time.Parse(time.RFC3339, rep.Signatures[0].SignedAt)
	vr, err := e.client(e.applicantA).Verify(ctx, api.VerifyRequest{SealID: esid, SignedAt: signedAt})
	if err != nil || vr.StatusAtSigning != api.StatusActive || vr.Seal.Status != api.StatusSuspended {
		t.Fatalf("hub verify of the earlier signature: %v %+v", err, vr)
	}
	e.must(e.applicantA, "sealctl", "seal", "set-status", esid, "--status", "active")
	time.Sleep(1100 * time.Millisecond)
	if code, stderr := sign(holderKey, "sample.pdf", "resumed.pdf", "pades"); code != 0 {
		t.Fatalf("signing after resuming: %d %s", code, stderr)
	}
	e.must(e.applicantA, "sealctl", "seal", "set-status", esid, "--status", "lost", "--reason", "U盾遗失")
	if code, stderr := sign(holderKey, "sample.pdf", "after-lost.pdf", "pades"); code != ExitNo || !strings.Contains(stderr, "lost") {
		t.Fatalf("signing with a lost seal: %d %s", code, stderr)
	}
	e.refused("resume a lost seal", api.CodeInvalidTransition, e.applicantA, "sealctl", "seal", "set-status", esid, "--status", "active")

	// Re-issue (遗失补刻) with a new key on the token.
	key2 := e.keyURI("holder-2")
	out = e.must(e.applicantA, "sealctl", "seal", "apply", "--key", key2, "--new-key", "--name", "单位 org-a 合同专用章",
		"--type", "04", "--replaces", esid, "--reissue", "lost", "--json")
	id2 := appID(t, out)
	out = e.must(e.reviewerB, "sealhub", "app", "approve", id2, "--json")
	json.Unmarshal([]byte(out), &app)
	esid2 := app.ESID
	e.must(e.applicantA, "sealctl", "seal", "fetch", id2, "--out", filepath.Join(dir, "seal2.esl"), "--to-token", "--key", key2)
	der, _ := os.ReadFile(filepath.Join(dir, "seal2.esl"))
	s2, err := ses.ParseSeal(der)
	if err != nil || maker.Replaces(s2) != esid {
		t.Fatalf("the re-issued seal does not name %s: %v", esid, err)
	}
	hs, err := e.client(e.applicantA).Seal(ctx, esid2)
	if err != nil || hs.Replaces != esid || hs.Status != api.StatusActive {
		t.Fatalf("re-issued seal on the hub: %v %+v", err, hs)
	}
	if code, stderr := sign(key2, "sample.ofd", "reissued.ofd", "ofd-ses4"); code != 0 {
		t.Fatalf("signing with the re-issued seal: %d %s", code, stderr)
	}
	if rep := verify("reissued.ofd"); !rep.Valid {
		t.Fatalf("re-issued seal's signature: %+v", rep.Signatures)
	}

	// The audit trail: every step in order, each event verifiable with the hub key.
	aud := e.client(e.auditor)
	pub, err := aud.PinnedKey(ctx)
	if err != nil {
		t.Fatal(err)
	}
	page, err := aud.Audit(ctx, "", "", "", 1000)
	if err != nil {
		t.Fatal(err)
	}
	var steps []string
	prev := ""
	for _, ev := range page.Events {
		if err := ev.Verify(pub); err != nil || ev.Prev != prev {
			t.Fatalf("audit event %d %s: %v (prev %q, want %q)", ev.Seq, ev.Action, err, ev.Prev, prev)
		}
		prev = ev.Link()
		if (ev.Target == id || ev.Target == esid) && ev.Action != "denied" {
			steps = append(steps, ev.Action+"/"+ev.Role)
		}
	}
	want := []string{"application.submitted/org", "application.returned/reviewer", "application.resubmitted/org",
		"application.approved/reviewer", "seal.made/maker", "seal.filed/admin", "seal.fetch/org", "seal.delivered/org", "seal.status/org",
		"seal.status/org", "seal.status/org", "seal.status/org"}
	if !slices.Equal(steps, want) {
		t.Fatalf("audit steps:\n%s\nwant\n%s", strings.Join(steps, "\n"), strings.Join(want, "\n"))
	}
}

// TestLifecycleKillDuringApprove kills the hub (SIGKILL) in the middle of an approval — after
// the certificate is issued, the seal made and filed, before the transaction commits — and
// right after the commit: the first leaves no seal (and the approval can be given again),
// the second a complete one (made, filed, audited). Never a seal without its filing and
// audit events.
func TestLifecycleKillDuringApprove(t *testing.T) {
	if !cgoEnabled {
		testenv.Missing(t, "cgo (PKCS#11)")
	}
	e := newLifecycleEnv(t, "sqlite")
	ctx := context.Background()
	apply := func(object string) string {
		out := e.must(e.applicantA, "sealctl", "seal", "apply", "--key", e.keyURI(object), "--new-key", "--name", "单位 org-a 财务专用章", "--type", "02", "--json")
		return appID(t, out)
	}
	approveKilled := func(id, point string) {
		e.kill9()
		e.start(point)
		done := make(chan int, 1)
		go func() {
			c := e.client(e.reviewerB)
			_, err := c.Decide(ctx, id, "approve", "")
			done <- map[bool]int{true: 0, false: 1}[err == nil]
		}()
		select {
		case <-e.paused:
		case <-time.After(60 * time.Second):
			t.Fatalf("the hub never reached %s", point)
		}
		e.kill9()
		if <-done == 0 {
			t.Fatal("an approval killed mid-way answered success")
		}
		e.start("")
	}
	sealsOf := func() []api.Seal {
		s, err := e.client(e.applicantA).ListSeals(ctx, "", "")
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	auditFor := func(target string) []string {
		page, err := e.client(e.auditor).Audit(ctx, "", "", "", 1000)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, ev := range page.Events {
			if ev.Target == target {
				out = append(out, ev.Action)
			}
		}
		return out
	}

	// Killed before the commit: nothing of the approval exists; approving again works once.
	id := apply("k1")
	approveKilled(id, "approve")
	a, err := e.client(e.applicantA).Application(ctx, id)
	if err != nil || a.Status != api.AppSubmitted || a.ESID != "" || len(sealsOf()) != 0 {
		t.Fatalf("after a kill before the commit: %v status %s esid %q, %d seals", err, a.Status, a.ESID, len(sealsOf()))
	}
	a, err = e.client(e.reviewerB).Decide(ctx, id, "approve", "")
	if err != nil {
		t.Fatalf("approving again after the crash: %v", err)
	}
	if got := auditFor(a.ESID); !slices.Equal(got, []string{"seal.made", "seal.filed"}) {
		t.Fatalf("audit of the seal approved after the crash: %v", got)
	}

	// Killed after the commit: the seal is complete.
	id2 := apply("k2")
	approveKilled(id2, "approved")
	a2, err := e.client(e.applicantA).Application(ctx, id2)
	if err != nil || a2.Status != api.AppApproved || a2.ESID == "" {
		t.Fatalf("after a kill after the commit: %v %+v", err, a2)
	}
	s, err := e.client(e.applicantA).Seal(ctx, a2.ESID)
	if err != nil || s.Status != api.StatusFiled || s.FilingNumber == "" || !s.HasSealObject {
		t.Fatalf("the seal approved before the kill: %v %+v", err, s)
	}
	if got := auditFor(a2.ESID); !slices.Equal(got, []string{"seal.made", "seal.filed"}) {
		t.Fatalf("audit of the seal approved before the kill: %v", got)
	}
	if len(sealsOf()) != 2 {
		t.Fatalf("%d seals, want 2", len(sealsOf()))
	}
	e.must(e.applicantA, "sealctl", "seal", "fetch", id2, "--out", filepath.Join(e.dir, "k2.esl"), "--to-token", "--key", e.keyURI("k2"))
}
