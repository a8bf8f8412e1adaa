//go:build cgo

package skf_test

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/pem"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/emmansun/gmsm/smx509"

	"sealdesk/document"
	"sealdesk/document/ofd"
	"sealdesk/document/pdf"
	"sealdesk/internal/cli"
	"sealdesk/internal/testenv"
	"sealdesk/signer"
	"sealdesk/signer/keys"
	"sealdesk/signer/skf"
	"sealdesk/signer/skf/skftest"
)

// sealctl runs the CLI in this process (the SKF library is loaded here, as in the binary).
func sealctl(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := cli.Main("sealctl", args, strings.NewReader(""), &out, &errb)
	return code, out.String(), errb.String()
}

type cliEnv struct {
	dir, pinFile, outbox, trust, uri string
}

func newCLIEnv(t *testing.T, f *skftest.Fake, m *material) *cliEnv {
	dir := t.TempDir()
	e := &cliEnv{dir: dir, pinFile: filepath.Join(dir, "pin"), outbox: filepath.Join(dir, "outbox.db"),
		trust: filepath.Join(dir, "trust.pem"), uri: keyURI(f.Path)}
	t.Setenv(keys.ConfigEnv, writeConfig(t, &keys.Config{SKF: []skf.Library{{Path: f.Path, Name: "Fake SKF"}}, NoDiscovery: true}))
	t.Setenv("SEALDESK_HUB", "")
	os.Unsetenv("SEALDESK_PIN")
	for p, b := range map[string][]byte{e.pinFile: []byte(goodPIN + "\n"), e.trust: m.trustPEM,
		filepath.Join(dir, "sample.pdf"): pdf.SampleContract(), filepath.Join(dir, "sample.ofd"): ofd.SampleContract(3).Bytes()} {
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return e
}

func (e *cliEnv) sign(t *testing.T, in, out, profile, pinFile string) (int, string) {
	code, _, stderr := sealctl(t, "sign", "--in", filepath.Join(e.dir, in), "--out", filepath.Join(e.dir, out),
		"--key", e.uri, "--profile", profile, "--page", "1", "--at", "120,200", "--pin-file", pinFile, "--outbox", e.outbox)
	return code, stderr
}

func (e *cliEnv) verify(t *testing.T, file string) *document.VerifyReport {
	t.Helper()
	code, out, stderr := sealctl(t, "verify", filepath.Join(e.dir, file), "--json", "--offline", "--trust", e.trust)
	var rep document.VerifyReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("verify %s (exit %d): %v\n%s%s", file, code, err, out, stderr)
	}
	return &rep
}

// TestCLISignAndVerify: `sealctl keys list` shows the SKF key; `sealctl sign` with its skf:
// URI seals a PDF (pdf-gm, pdf-ses) and an OFD (ofd-ses4) with the seal read from the key;
// `sealctl verify` and PDFBox+BouncyCastle (pdf-gm) accept them.
func TestCLISignAndVerify(t *testing.T) {
	f := skftest.Library(t)
	m := getMaterial(t)
	f.Add(t, sealKey(t, m, 6))
	e := newCLIEnv(t, f, m)

	code, out, stderr := sealctl(t, "keys", "list")
	if code != 0 || !strings.Contains(out, "SKF library "+f.Path+" (Fake SKF)") || !strings.Contains(out, e.uri) ||
		!strings.Contains(out, "[PIN: 6 tries left]") || !strings.Contains(out, "seals: 1") {
		t.Errorf("keys list (exit %d):\n%s%s", code, out, stderr)
	}
	t.Logf("sealctl keys list:\n%s", out)
	code, out, _ = sealctl(t, "keys", "list", "--json", "--skf", f.Path)
	var l keys.Listing
	if err := json.Unmarshal([]byte(out), &l); err != nil || code != 0 {
		t.Fatalf("keys list --json (exit %d): %v", code, err)
	}
	if ids := l.Identities(); len(ids) != 1 || ids[0].URI != e.uri || ids[0].Algorithm != signer.SM2 {
		t.Errorf("keys list --json identities: %+v", ids)
	}

	for _, c := range []struct{ in, out, profile string }{
		{"sample.pdf", "gm.pdf", "pdf-gm"}, {"sample.pdf", "ses.pdf", "pdf-ses"}, {"sample.ofd", "ses4.ofd", "ofd-ses4"},
	} {
		if code, stderr := e.sign(t, c.in, c.out, c.profile, e.pinFile); code != 0 {
			t.Fatalf("sign %s (exit %d): %s", c.profile, code, stderr)
		}
		rep := e.verify(t, c.out)
		if !rep.Valid || len(rep.Signatures) != 1 {
			t.Errorf("%s: not valid: %+v", c.profile, rep)
			continue
		}
		s := rep.Signatures[0]
		if s.Profile != c.profile || s.Integrity != document.OK || s.Trust != document.OK || (c.profile != "pdf-gm" && (s.Seal == nil || s.Seal.Checks != document.OK)) {
			t.Errorf("%s: %+v", c.profile, s)
		}
		t.Logf("%s: valid, integrity %s, trust %s", c.profile, s.Integrity, s.Trust)
	}

	// PDFBox + BouncyCastle on the pdf-gm output, as document/pdf's interop test does.
	java := testenv.LookPath(t, "java")
	var jars []string
	for _, j := range []string{"pdfbox2.jar", "fontbox2.jar", "commons-logging.jar", "bcprov.jar", "bcpkix.jar", "bcutil.jar"} {
		jars = append(jars, testenv.File(t, "/usr/share/java/"+j, "Java library "+j))
	}
	tool := filepath.Join(testenv.SharedTools(t), "pdf-check", "PdfSigCheck.java")
	jout, err := exec.Command(java, "-cp", strings.Join(jars, ":"), tool, filepath.Join(e.dir, "gm.pdf")).CombinedOutput()
	if err != nil || strings.Count(string(jout), "valid=true") != 1 || strings.Contains(string(jout), "valid=false") {
		t.Errorf("PDFBox+BC on the SKF pdf-gm signature: %v\n%s", err, jout)
	}
}

// TestCLIWrongPINAndLocked: `sealctl sign` with a wrong PIN says how many tries are left and
// writes nothing; on a locked key it refuses without a PIN attempt.
func TestCLIWrongPINAndLocked(t *testing.T) {
	f := skftest.Library(t)
	m := getMaterial(t)
	f.Add(t, sealKey(t, m, 2))
	e := newCLIEnv(t, f, m)
	bad := filepath.Join(e.dir, "bad-pin")
	os.WriteFile(bad, []byte("000000"), 0o600)
	code, stderr := e.sign(t, "sample.pdf", "out.pdf", "pdf-gm", bad)
	if code == 0 || !strings.Contains(stderr, "wrong PIN (final try), 1 tries left") {
		t.Errorf("wrong PIN (exit %d): %s", code, stderr)
	}
	t.Logf("wrong PIN: %s", strings.TrimSpace(stderr))
	code, stderr = e.sign(t, "sample.pdf", "out.pdf", "pdf-gm", bad)
	if code == 0 || !strings.Contains(stderr, "locked") {
		t.Errorf("second wrong PIN (exit %d): %s", code, stderr)
	}
	before := f.VerifyCount(devName)
	code, stderr = e.sign(t, "sample.pdf", "out.pdf", "pdf-gm", e.pinFile)
	if code == 0 || !strings.Contains(stderr, signer.ErrPINLocked.Error()) {
		t.Errorf("locked key (exit %d): %s", code, stderr)
	}
	if f.VerifyCount(devName) != before {
		t.Error("SKF_VerifyPIN was called on a locked key")
	}
	t.Logf("locked: %s", strings.TrimSpace(stderr))
	if _, err := os.Stat(filepath.Join(e.dir, "out.pdf")); !errors.Is(err, os.ErrNotExist) {
		t.Error("an output file was written")
	}
}

// TestCLIKeyPulledMidSignature: the key is pulled while SKF_ECCSignData runs: `sealctl sign`
// fails with a clear error and leaves no output file (nor a temporary one).
func TestCLIKeyPulledMidSignature(t *testing.T) {
	f := skftest.Library(t)
	m := getMaterial(t)
	d := sealKey(t, m, 6)
	d.SignDelay = 3 * time.Second
	f.Add(t, d)
	e := newCLIEnv(t, f, m)
	type result struct {
		code   int
		stderr string
	}
	done := make(chan result, 1)
	go func() {
		code, stderr := e.sign(t, "sample.pdf", "pulled.pdf", "pdf-gm", e.pinFile)
		done <- result{code, stderr}
	}()
	deadline := time.Now().Add(30 * time.Second)
	for !f.SigningStarted(devName) {
		if time.Now().After(deadline) {
			t.Fatal("signing never reached SKF_ECCSignData")
		}
		time.Sleep(10 * time.Millisecond)
	}
	f.Pull(t, devName)
	r := <-done
	if r.code == 0 || !strings.Contains(r.stderr, "the token was removed") || !strings.Contains(r.stderr, "SAR_DEVICE_REMOVED") {
		t.Errorf("pulled mid-signature (exit %d): %s", r.code, r.stderr)
	}
	t.Logf("pulled mid-signature: %s", strings.TrimSpace(r.stderr))
	ents, _ := os.ReadDir(e.dir)
	for _, ent := range ents {
		if strings.Contains(ent.Name(), "pulled") {
			t.Errorf("output left behind: %s", ent.Name())
		}
	}
}

// TestWatchLatency: devices plugged and pulled on command are reported by the watcher that
// `sealctl keys watch` and the app use, within 1 s — first through SKF_WaitForDevEvent, then,
// once the library answers SAR_NOTSUPPORTYETERR, by polling SKF_EnumDev. Latencies are logged.
func TestWatchLatency(t *testing.T) {
	f := skftest.Library(t)
	m := getMaterial(t)
	d := sealKey(t, m, 6)
	f.Write(t, d)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	w, err := keys.Watch(ctx, &keys.Config{SKF: []skf.Library{{Path: f.Path}}, NoDiscovery: true})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	next := func(kind signer.EventKind) time.Time {
		t.Helper()
		timeout := time.After(10 * time.Second)
		for {
			select {
			case ev := <-w.Events():
				if ev.Kind == signer.ModuleError {
					t.Fatalf("watcher error: %s", ev.Err)
				}
				if ev.Kind == kind && ev.Token.Label == devName {
					if kind == signer.TokenInserted && ev.Token.Serial != "SD-0001" {
						t.Errorf("inserted device info %+v", ev.Token)
					}
					return time.Now()
				}
			case <-timeout:
				t.Fatalf("no %s event within 10 s", kind)
			}
		}
	}
	time.Sleep(500 * time.Millisecond) // the first poll: nothing present
	measure := func(mode string) {
		for i := 0; i < 3; i++ {
			start := time.Now()
			f.Plug(t, devName)
			in := next(signer.TokenInserted).Sub(start)
			time.Sleep(200 * time.Millisecond)
			start = time.Now()
			f.Pull(t, devName)
			out := next(signer.TokenRemoved).Sub(start)
			t.Logf("%s: inserted after %v, removed after %v", mode, in.Round(time.Millisecond), out.Round(time.Millisecond))
			if in > time.Second || out > time.Second {
				t.Errorf("%s: event later than 1 s (in %v, out %v)", mode, in, out)
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	measure("SKF_WaitForDevEvent")
	f.Control(t, true, false) // the library now answers SAR_NOTSUPPORTYETERR
	time.Sleep(1500 * time.Millisecond)
	measure("polling SKF_EnumDev")
}

// TestCLIKeysRequest: `sealctl keys request` generates a key pair on the key and writes a
// PKCS#10 request whose signature verifies with the key SKF_ExportPublicKey returns.
func TestCLIKeysRequest(t *testing.T) {
	f := skftest.Library(t)
	m := getMaterial(t)
	f.Add(t, skftest.Device{Name: devName, Serial: "SD-0003", Apps: []skftest.App{{Name: appName, PIN: goodPIN}}})
	e := newCLIEnv(t, f, m)
	uri := skf.KeyURI("Fake SKF", devName, appName, "Apply")
	out := filepath.Join(e.dir, "req.csr")
	code, stdout, stderr := sealctl(t, "keys", "request", "--key", uri, "--cn", "申请印章", "--org", "测试单位", "--out", out, "--pin-file", e.pinFile)
	if code != 0 {
		t.Fatalf("keys request (exit %d): %s", code, stderr)
	}
	t.Log(strings.TrimSpace(stdout))
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	blk, _ := pem.Decode(b)
	if blk == nil || blk.Type != "CERTIFICATE REQUEST" {
		t.Fatalf("not a PEM request:\n%s", b)
	}
	csr, err := smx509.ParseCertificateRequest(blk.Bytes)
	if err != nil || csr.CheckSignature() != nil {
		t.Fatalf("request: %v", err)
	}
	st, err := skf.Open(skf.Library{Path: f.Path, Name: "Fake SKF"})
	if err != nil {
		t.Fatal(err)
	}
	pub, err := st.PublicKey(context.Background(), uri, true)
	if err != nil || !pub.Equal(csr.PublicKey) {
		t.Fatalf("exported public key %v differs from the request's", err)
	}
}
