package cli

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sealdesk/signer"
	"sealdesk/signer/pki"
	"sealdesk/signer/ses"
	"sealdesk/signer/softkey"
)

func run(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := Main("sealctl", args, nil, &out, &errb)
	return code, out.String(), errb.String()
}

func TestSealMakeShow(t *testing.T) {
	dir := t.TempDir()
	ch, err := pki.NewChain(signer.SM2, "CLI Test")
	if err != nil {
		t.Fatal(err)
	}
	maker, err := ch.Issue(pki.Template{Kind: pki.SealMaker, CommonName: "CLI Maker"})
	if err != nil {
		t.Fatal(err)
	}
	sg, err := ch.Issue(pki.Template{Kind: pki.Signer, CommonName: "CLI Signer"})
	if err != nil {
		t.Fatal(err)
	}
	makerFile := filepath.Join(dir, "maker.pem")
	if err := softkey.WritePEM(makerFile, maker.Key, maker.Cert, ch.Certs(), []byte("secret")); err != nil {
		t.Fatal(err)
	}
	certFile := filepath.Join(dir, "signer.pem")
	os.WriteFile(certFile, pki.PEM(sg.Cert, ch.Intermediate.Cert, ch.Root.Cert), 0o644) // leaf + chain
	t.Setenv("SEALDESK_PIN", "secret")
	out := filepath.Join(dir, "seal.esl")

	for _, v1 := range []bool{false, true} {
		args := []string{"seal", "make", "--maker-key", "file:" + makerFile, "--signer-cert", certFile,
			"--name", "测试单位 合同专用章", "--esid", "1101000000042", "--generate", "--out", out, "--valid-days", "30"}
		want := 4
		if v1 {
			args, want = append(args, "--v1"), 1
		}
		code, stdout, stderr := run(t, args...)
		if code != 0 {
			t.Fatalf("seal make: exit %d: %s", code, stderr)
		}
		if !strings.Contains(stdout, "esID 1101000000042") {
			t.Fatalf("seal make output %q", stdout)
		}
		code, stdout, stderr = run(t, "seal", "show", out, "--json", "--check")
		if code != 0 {
			t.Fatalf("seal show: exit %d: %s", code, stderr)
		}
		var got sealShowJSON
		if err := json.Unmarshal([]byte(stdout), &got); err != nil {
			t.Fatal(err)
		}
		if got.Version != want || got.ESID != "1101000000042" || got.Name != "测试单位 合同专用章" || got.Status != ses.OK ||
			len(got.Certs) != 1 || !strings.Contains(got.Certs[0].Subject, "CLI Signer") || got.Picture.Format != "png" ||
			got.Picture.WidthMM != 42 || got.Picture.WidthPx != 600 {
			t.Fatalf("seal show: %+v", got)
		}
	}

	// --trust checks the maker's chain (offline: revocation unknown, chain ok).
	roots := filepath.Join(dir, "root.pem")
	os.WriteFile(roots, pki.PEM(ch.Intermediate.Cert, ch.Root.Cert), 0o644)
	code, stdout, stderr := run(t, "seal", "show", out, "--json", "--trust", roots, "--offline")
	if code != 0 {
		t.Fatalf("show --trust: exit %d: %s", code, stderr)
	}
	var tr sealShowJSON
	if err := json.Unmarshal([]byte(stdout), &tr); err != nil {
		t.Fatal(err)
	}
	if tr.MakerTrust == nil || tr.MakerTrust.Chain != "ok" || tr.MakerTrust.Revocation != "unknown" || tr.MakerTrust.Status != "unknown" {
		t.Fatalf("maker trust: %+v", tr.MakerTrust)
	}

	// Text output names the seal; a non-seal file is an input error (exit 2).
	if code, stdout, _ := run(t, "seal", "show", out); code != 0 || !strings.Contains(stdout, "测试单位 合同专用章") {
		t.Fatalf("text show: %d %q", code, stdout)
	}
	if code, _, stderr := run(t, "seal", "show", certFile); code != 2 || !strings.Contains(stderr, "neither an SES seal") {
		t.Fatalf("show of a certificate: exit %d %q", code, stderr)
	}
	if code, _, stderr := run(t, "seal", "make", "--maker-key", "file:"+makerFile, "--out", out); code != 2 || !strings.Contains(stderr, "signer certificate") {
		t.Fatalf("make without signer cert: exit %d %q", code, stderr)
	}
	// A wrong password is an input error, and nothing is written.
	t.Setenv("SEALDESK_PIN", "wrong")
	other := filepath.Join(dir, "other.esl")
	code, _, stderr = run(t, "seal", "make", "--maker-key", "file:"+makerFile, "--signer-cert", certFile,
		"--name", "X章", "--esid", "1", "--generate", "--out", other)
	if code != 2 {
		t.Fatalf("wrong password: exit %d %q", code, stderr)
	}
	if _, err := os.Stat(other); err == nil {
		t.Fatal("output written despite the error")
	}
}

func TestSplitSealName(t *testing.T) {
	for in, want := range map[string][2]string{
		"SealDesk 演示单位 合同专用章": {"SealDesk 演示单位", "合同专用章"},
		"某某有限公司财务专用章":         {"某某有限公司", "财务专用章"},
		"某某有限公司":              {"某某有限公司", ""},
	} {
		r, b := splitSealName(in)
		if r != want[0] || b != want[1] {
			t.Errorf("splitSealName(%q) = %q, %q", in, r, b)
		}
	}
}
