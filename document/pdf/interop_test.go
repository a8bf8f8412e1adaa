package pdf

import (
	"bytes"
	"context"
	"encoding/pem"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/emmansun/gmsm/smx509"

	"sealdesk/document"
	"sealdesk/internal/testenv"
	"sealdesk/signer"
	"sealdesk/signer/pki"
)

// Independent checkers (docs/pdf.md §4): pdfsig (poppler/NSS) and mutool for RSA and ECDSA,
// PDFBox + BouncyCastle for SM2, qpdf for structure. They run on every file these tests write.

func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, _ := exec.Command(name, args...).CombinedOutput()
	return string(out)
}

// nssDB makes a temporary NSS database trusting the test roots.
func nssDB(t *testing.T, roots ...*smx509.Certificate) string {
	certutil := testenv.LookPath(t, "certutil")
	dir := t.TempDir()
	if out, err := exec.Command(certutil, "-N", "-d", "sql:"+dir, "--empty-password").CombinedOutput(); err != nil {
		t.Fatalf("certutil -N: %v %s", err, out)
	}
	for i, r := range roots {
		p := filepath.Join(dir, "root.pem")
		os.WriteFile(p, pki.PEM(r), 0o644)
		if out, err := exec.Command(certutil, "-A", "-d", "sql:"+dir, "-n", "root"+string(rune('a'+i)), "-t", "CT,C,C", "-i", p).CombinedOutput(); err != nil {
			t.Fatalf("certutil -A: %v %s", err, out)
		}
	}
	return dir
}

func verifyBytes(t *testing.T, b []byte, roots ...*smx509.Certificate) *document.VerifyReport {
	t.Helper()
	opts := &document.VerifyOptions{}
	for _, r := range roots {
		opts.TrustPEM = append(opts.TrustPEM, pki.PEM(r)...)
	}
	rep, err := Verify(context.Background(), bytes.NewReader(b), int64(len(b)), opts)
	if err != nil {
		t.Fatal(err)
	}
	rep.Decide()
	for _, c := range document.UnknownCodes(rep) {
		t.Errorf("problem code %q is not in the table of codes (document.Codes, docs/CLI.md)", c)
	}
	return rep
}

func requireValid(t *testing.T, what string, rep *document.VerifyReport, n int) {
	t.Helper()
	if len(rep.Signatures) != n {
		t.Fatalf("%s: %d signatures, want %d", what, len(rep.Signatures), n)
	}
	for _, s := range rep.Signatures {
		if !s.Valid {
			t.Errorf("%s: signature %d not valid: integrity %s trust %s changes %s problems %v", what, s.Index, s.Integrity, s.Trust, s.ChangesAfter, s.Problems)
		}
	}
	if !rep.Valid {
		t.Errorf("%s: report not valid", what)
	}
}

var pdfsigValid = regexp.MustCompile(`Signature Validation: Signature is Valid\.`)

// TestInteropPdfsigMutoolTwoSignatures: RSA and ECDSA signatures on classic-xref and xref-stream
// inputs are valid for pdfsig (chain trusted via NSS) and mutool, also the first after a second
// one is added; qpdf finds no errors; our verifier agrees.
func TestInteropPdfsigMutoolTwoSignatures(t *testing.T) {
	t.Parallel()
	pdfsig := testenv.LookPath(t, "pdfsig")
	mutool := testenv.LookPath(t, "mutool")
	rsaS, ecS := getSigner(t, signer.RSA), getSigner(t, signer.ECDSA)
	db := nssDB(t, rsaS.chain.Root.Cert, ecS.chain.Root.Cert)
	for _, xs := range []bool{false, true} {
		in := GenerateSample(samplePages(2), SampleOptions{XrefStream: xs, Compress: true})
		one := signBytes(t, in, request(t, signer.RSA, document.ProfilePAdES, document.Stamp{Page: 0, Rect: document.Rect{X: 20, Y: 20, W: 40, H: 40}}))
		two := signBytes(t, one, request(t, signer.ECDSA, document.ProfilePAdES, document.Stamp{Page: 1, Rect: document.Rect{X: 120, Y: 200, W: 40, H: 40}}))
		for i, b := range [][]byte{one, two} {
			p := writeTemp(t, "signed.pdf", b)
			keep(t, strings.ReplaceAll(t.Name(), "/", "_")+string(rune('1'+i))+".pdf", b)
			qpdfCheck(t, p)
			out := run(t, pdfsig, "-nssdir", "sql:"+db, p)
			if got := len(pdfsigValid.FindAllString(out, -1)); got != i+1 {
				t.Errorf("xrefstream=%v, %d signature(s): pdfsig says %d valid:\n%s", xs, i+1, got, out)
			}
			if c := strings.Count(out, "Certificate is Trusted"); c != i+1 {
				t.Errorf("pdfsig trusts %d certificates, want %d:\n%s", c, i+1, out)
			}
			mo := run(t, mutool, "sign", "-v", p)
			if i == 0 && !strings.Contains(mo, "unchanged since signing") {
				t.Errorf("mutool on one signature:\n%s", mo)
			}
			if i == 1 && (!strings.Contains(mo, "edits since signing") || !strings.Contains(mo, "unchanged since signing")) {
				t.Errorf("mutool on two signatures:\n%s", mo)
			}
			if strings.Contains(strings.ToLower(mo), "digest error") {
				t.Errorf("mutool digest error:\n%s", mo)
			}
			requireValid(t, "our verifier", verifyBytes(t, b, rsaS.chain.Root.Cert, ecS.chain.Root.Cert), i+1)
		}
	}
}

func javaCP(t *testing.T) (string, string) {
	java := testenv.LookPath(t, "java")
	var jars []string
	for _, j := range []string{"pdfbox2.jar", "fontbox2.jar", "commons-logging.jar", "bcprov.jar", "bcpkix.jar", "bcutil.jar"} {
		jars = append(jars, testenv.File(t, "/usr/share/java/"+j, "Java library "+j))
	}
	return java, strings.Join(jars, ":")
}

// TestInteropPDFBoxSM2: PDFBox + BouncyCastle accept our SM2 signatures in both OID styles
// (pdf-gm: GM/T 0010; pades: standard PKCS#7 OIDs).
func TestInteropPDFBoxSM2(t *testing.T) {
	t.Parallel()
	java, cp := javaCP(t)
	tool := filepath.Join(testenv.SharedTools(t), "pdf-check", "PdfSigCheck.java")
	s := getSigner(t, signer.SM2)
	// One file with both styles (one Java run: the JVM start dominates this test).
	in := GenerateSample(samplePages(1), SampleOptions{XrefStream: true, Compress: true})
	gm := signBytes(t, in, request(t, signer.SM2, document.ProfilePDFGM, document.Stamp{Page: 0, Rect: document.Rect{X: 30, Y: 30, W: 40, H: 40}}))
	both := signBytes(t, gm, request(t, signer.SM2, document.ProfilePAdES, document.Stamp{Page: 0, Rect: document.Rect{X: 100, Y: 30, W: 40, H: 40}}))
	p := writeTemp(t, "sm2.pdf", both)
	keep(t, "sm2-gm-then-pades.pdf", both)
	qpdfCheck(t, p)
	out := run(t, java, "-cp", cp, tool, p)
	if strings.Count(out, "valid=true") != 2 || strings.Contains(out, "valid=false") {
		t.Errorf("PDFBox+BC on pdf-gm + pades SM2 signatures:\n%s", out)
	}
	rep := verifyBytes(t, both, s.chain.Root.Cert)
	requireValid(t, "SM2 pdf-gm then pades", rep, 2)
	if rep.Signatures[0].Profile != string(document.ProfilePDFGM) || rep.Signatures[1].Profile != string(document.ProfilePAdES) {
		t.Errorf("profiles %s, %s", rep.Signatures[0].Profile, rep.Signatures[1].Profile)
	}
}

// TestInteropBouncyCastleSM2CMS: our verifier accepts an SM2 CMS made by BouncyCastle
// (signature algorithm 1.2.156.10197.1.501, as iText/BC producers write it).
func TestInteropBouncyCastleSM2CMS(t *testing.T) {
	t.Parallel()
	java, cp := javaCP(t)
	tool := filepath.Join(testenv.SharedTools(t), "pdf-check", "BcSm2Cms.java")
	s := getSigner(t, signer.SM2)
	in := GenerateSample(samplePages(1), SampleOptions{Compress: true})
	req := request(t, signer.SM2, document.ProfilePDFGM)
	req.Stamps = nil
	b := signBytes(t, in, req)
	rd, err := NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	f := SignatureFields(rd.Final)[0]
	cs := rd.Final.Dict(f.Value)["Contents"].(String)
	dir := t.TempDir()
	data := append(append([]byte(nil), b[:cs.Off]...), b[cs.End:]...)
	os.WriteFile(filepath.Join(dir, "data"), data, 0o644)
	key, err := smx509.MarshalPKCS8PrivateKey(s.leaf.Key)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "key.pem"), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: key}), 0o600)
	os.WriteFile(filepath.Join(dir, "cert.pem"), pki.PEM(s.leaf.Cert), 0o644)
	if out, err := exec.Command(java, "-cp", cp, tool, filepath.Join(dir, "data"), filepath.Join(dir, "key.pem"), filepath.Join(dir, "cert.pem"), filepath.Join(dir, "out.p7s")).CombinedOutput(); err != nil {
		t.Fatalf("BcSm2Cms: %v\n%s", err, out)
	}
	der, err := os.ReadFile(filepath.Join(dir, "out.p7s"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(der, []byte{0x06, 0x08, 0x2a, 0x81, 0x1c, 0xcf, 0x55, 0x01, 0x83, 0x75}) {
		t.Fatal("the BouncyCastle CMS does not use signature algorithm 1.2.156.10197.1.501")
	}
	if 2*len(der) > int(cs.End-cs.Off-2) {
		t.Fatalf("BC CMS (%d bytes) does not fit the placeholder", len(der))
	}
	hexed := []byte(strings.ToUpper(hexString(der)))
	copy(b[cs.Off+1:], hexed)
	for i := cs.Off + 1 + int64(len(hexed)); i < cs.End-1; i++ {
		b[i] = '0'
	}
	rep := verifyBytes(t, b, s.chain.Root.Cert)
	if len(rep.Signatures) != 1 || rep.Signatures[0].Integrity != document.OK {
		t.Fatalf("BouncyCastle SM2 CMS not accepted: %+v", rep.Signatures)
	}
	// The leaf-only CMS has no intermediate: trust needs it, integrity does not.
	t.Logf("BC CMS: profile %s integrity %s trust %s", rep.Signatures[0].Profile, rep.Signatures[0].Integrity, rep.Signatures[0].Trust)
}

func hexString(b []byte) string {
	var sb strings.Builder
	for _, c := range b {
		sb.WriteByte(hexDigits[c>>4])
		sb.WriteByte(hexDigits[c&15])
	}
	return sb.String()
}
