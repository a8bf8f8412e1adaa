package cms

import (
	"bytes"
	"context"
	"encoding/pem"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/emmansun/gmsm/smx509"

	"sealdesk/internal/testenv"
	"sealdesk/signer"
	"sealdesk/signer/pki"
)

func writeFile(t *testing.T, path string, data []byte) string {
	t.Helper()
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func runCmd(name string, args ...string) (string, error) {
	out, err := exec.Command(name, args...).CombinedOutput()
	return string(out), err
}

// TestOpenSSLVerifiesOurCMS: `openssl cms -verify -binary -inform DER` (OpenSSL 3) accepts the
// RSA (PKCS#1 v1.5 and PSS) and ECDSA CMS we make, PAdES and CMS profiles, with -CAfile of the
// test root. For SM2 it logs what OpenSSL does and checks the SM2 signature itself with
// `openssl pkeyutl` (distid 1234567812345678) over our signed attributes.
func TestOpenSSLVerifiesOurCMS(t *testing.T) {
	openssl := testenv.LookPath(t, "openssl")
	dir := t.TempDir()
	content := []byte("%PDF-1.7 pretend byte ranges\n电子印章\n")
	data := writeFile(t, filepath.Join(dir, "content.bin"), content)
	for _, a := range allAlgs {
		for _, pss := range []bool{false, true} {
			if pss && a != signer.RSA {
				continue
			}
			for _, pades := range []bool{false, true} {
				name := fmt.Sprintf("%s-pss%v-pades%v", a, pss, pades)
				t.Run(name, func(t *testing.T) {
					id, p := testIdentity(t, a)
					d := signer.DefaultDigest(a)
					der, err := Sign(context.Background(), digestOf(t, d, content), Options{Identity: id, PAdES: pades, RSAPSS: pss})
					if err != nil {
						t.Fatal(err)
					}
					sig := writeFile(t, filepath.Join(dir, name+".p7s"), der)
					ca := writeFile(t, filepath.Join(dir, name+"-root.pem"), pki.PEM(p.chain.Root.Cert))
					out, err := runCmd(openssl, "cms", "-verify", "-binary", "-inform", "DER", "-in", sig,
						"-content", data, "-CAfile", ca, "-purpose", "any", "-out", os.DevNull)
					if a != signer.SM2 {
						if err != nil || !strings.Contains(out, "Verification successful") {
							t.Fatalf("openssl cms -verify rejects our %s CMS: %v\n%s", name, err, out)
						}
						return
					}
					t.Logf("openssl cms -verify on SM2 standard-OID CMS: err=%v, output: %s", err, strings.TrimSpace(out))
					// The SM2 signature itself, checked by OpenSSL's SM2 implementation.
					sd, _ := Parse(der)
					si := sd.SignerInfos[0]
					attrs := writeFile(t, filepath.Join(dir, name+".attrs"), si.RawSignedAttrs)
					sigv := writeFile(t, filepath.Join(dir, name+".sig"), si.Signature)
					pubDER, _ := smx509.MarshalPKIXPublicKey(id.Certificate.PublicKey)
					pub := writeFile(t, filepath.Join(dir, name+".pub"), pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER}))
					out, err = runCmd(openssl, "pkeyutl", "-verify", "-pubin", "-inkey", pub, "-rawin", "-digest", "sm3",
						"-pkeyopt", "distid:1234567812345678", "-in", attrs, "-sigfile", sigv)
					if err != nil || !strings.Contains(out, "Signature Verified Successfully") {
						t.Fatalf("openssl pkeyutl rejects our SM2 signature over the signed attributes: %v\n%s", err, out)
					}
					md, _ := runCmd(openssl, "dgst", "-sm3", "-r", data)
					if v, _ := si.Attr(OIDAttrMessageDigest); !bytes.Contains(v[0], hexDecode(t, strings.Fields(md)[0])) {
						t.Fatalf("message-digest is not OpenSSL's SM3 of the content")
					}
				})
			}
		}
	}
}

// TestBouncyCastleSM2: a CMS made the way BouncyCastle-based producers (iText etc.) make it —
// sigAlg 1.2.156.10197.1.501 — verifies here (gmsm's pkcs7 rejects it).
func TestBouncyCastleSM2(t *testing.T) {
	java := testenv.LookPath(t, "java")
	tool := testenv.File(t, filepath.Join(testenv.SharedTools(t), "pdf-check", "BcSm2Cms.java"), "BcSm2Cms.java")
	var cp []string
	for _, j := range []string{"bcprov", "bcpkix", "bcutil"} {
		cp = append(cp, testenv.File(t, "/usr/share/java/"+j+".jar", j+".jar"))
	}
	id, p := testIdentity(t, signer.SM2)
	dir := t.TempDir()
	content := []byte("content signed by BouncyCastle 内容")
	keyDER, err := smx509.MarshalPKCS8PrivateKey(p.leaf.Key)
	if err != nil {
		t.Fatal(err)
	}
	data := writeFile(t, filepath.Join(dir, "data"), content)
	key := writeFile(t, filepath.Join(dir, "key.pem"), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}))
	cert := writeFile(t, filepath.Join(dir, "cert.pem"), pki.PEM(id.Certificate))
	outPath := filepath.Join(dir, "bc.p7s")
	if out, err := runCmd(java, "-cp", strings.Join(cp, ":"), tool, data, key, cert, outPath); err != nil {
		t.Fatalf("BcSm2Cms: %v\n%s", err, out)
	}
	der, err := os.ReadFile(outPath)
	if err != nil {
		t.Fatal(err)
	}
	sd, err := Parse(der)
	if err != nil {
		t.Fatal(err)
	}
	si := sd.SignerInfos[0]
	if !si.SignatureAlgorithm.Algorithm.Equal(OIDSM3WithSM2) {
		t.Fatalf("BouncyCastle wrote sigAlg %s, expected 1.2.156.10197.1.501", si.SignatureAlgorithm.Algorithm)
	}
	r := sd.Verify(digestOf(t, signer.SM3, content), VerifyOptions{})
	if !r.OK || r.SignatureAlgorithm != "sm2" {
		t.Fatalf("BouncyCastle SM2 CMS: %v %+v", r.Err(), r.Checks)
	}
	if r := sd.Verify(digestOf(t, signer.SM3, []byte("other")), VerifyOptions{}); r.OK {
		t.Fatal("BouncyCastle SM2 CMS verifies for other content")
	}
}

func hexDecode(t *testing.T, s string) []byte {
	t.Helper()
	var b []byte
	if _, err := fmt.Sscanf(s, "%x", &b); err != nil {
		t.Fatal(err)
	}
	return b
}

// TestBouncyCastleVerifiesOurCMS: BouncyCastle (the library iText and PDFBox validators use)
// verifies our CMS for every algorithm, Standard style (SM2 with sigAlg 501). GM style is
// logged: BouncyCastle 1.72 knows no name for SM3 with SM2-1 (301.1) (docs/pdf.md §4).
func TestBouncyCastleVerifiesOurCMS(t *testing.T) {
	java := testenv.LookPath(t, "java")
	var cp []string
	for _, j := range []string{"bcprov", "bcpkix", "bcutil"} {
		cp = append(cp, testenv.File(t, "/usr/share/java/"+j+".jar", j+".jar"))
	}
	dir := t.TempDir()
	content := []byte("content verified by BouncyCastle 内容")
	data := writeFile(t, filepath.Join(dir, "data"), content)
	args := []string{"-cp", strings.Join(cp, ":"), "testdata/BcVerifyCms.java", data}
	want := map[string]bool{}
	for _, a := range allAlgs {
		for _, st := range []Style{Standard, GM} {
			for _, pss := range []bool{false, true} {
				if pss && a != signer.RSA {
					continue
				}
				id, _ := testIdentity(t, a)
				der, err := Sign(context.Background(), digestOf(t, signer.DefaultDigest(a), content), Options{Identity: id, Style: st, RSAPSS: pss, PAdES: true})
				if err != nil {
					t.Fatal(err)
				}
				p := filepath.Join(dir, fmt.Sprintf("%s-%s-pss%v.p7s", a, st, pss))
				writeFile(t, p, der)
				args = append(args, p)
				want[p] = st == Standard
			}
		}
	}
	out, err := runCmd(java, args...)
	if err != nil {
		t.Fatalf("java: %v\n%s", err, out)
	}
	for p, mustPass := range want {
		ok := strings.Contains(out, "OK "+p+"\n")
		switch {
		case mustPass && !ok:
			t.Errorf("BouncyCastle rejects %s:\n%s", filepath.Base(p), out)
		case !mustPass:
			t.Logf("BouncyCastle on GM-style %s: ok=%v %s", filepath.Base(p), ok, lineOf(out, p))
		}
	}
}

func lineOf(out, p string) string {
	for _, l := range strings.Split(out, "\n") {
		if strings.Contains(l, p) {
			return strings.TrimSpace(strings.Replace(l, p, "", 1))
		}
	}
	return ""
}
