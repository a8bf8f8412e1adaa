package pdf

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"sealdesk/document"
	"sealdesk/internal/testenv"
	"sealdesk/signer"
)

func qpdfCheck(t *testing.T, path string) {
	t.Helper()
	q := testenv.LookPath(t, "qpdf")
	out, err := exec.Command(q, "--check", path).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "No syntax or stream encoding errors") {
		t.Errorf("qpdf --check %s: %v\n%s", path, err, out)
	}
}

func TestSignBasicStructures(t *testing.T) {
	for _, xs := range []bool{false, true} {
		in := GenerateSample(samplePages(2), SampleOptions{XrefStream: xs, Compress: true})
		req := request(t, signer.RSA, document.ProfilePAdES, document.Stamp{Page: 0, Rect: document.Rect{X: 100, Y: 200, W: 40, H: 40}})
		out := signBytes(t, in, req)
		p := writeTemp(t, "signed.pdf", out)
		keep(t, fmt.Sprintf("basic-xs%v.pdf", xs), out)
		qpdfCheck(t, p)
		rd, err := NewReader(strings.NewReader(string(out)), int64(len(out)))
		if err != nil {
			t.Fatal(err)
		}
		if rd.Repaired {
			t.Fatalf("our output needed repair: %v", rd.RepairErr)
		}
		if got := len(signatureFields(rd.Final)); got != 1 {
			t.Fatalf("%d signature fields, want 1", got)
		}
	}
}

func keep(t *testing.T, name string, b []byte) {
	if d := os.Getenv("SEALDESK_PDF_KEEP"); d != "" {
		os.WriteFile(filepath.Join(d, name), b, 0o644)
	}
}

// TestSampleContract: the demo contract parses, has 3 pages (page 2 rotated), qpdf accepts it,
// and its text (with the keywords) is extractable by poppler.
func TestSampleContract(t *testing.T) {
	b := SampleContract()
	rd, err := NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	ps, err := rd.Final.Pages()
	if err != nil || len(ps) != 3 || ps[1].Rotate != 90 {
		t.Fatalf("pages: %v %d", err, len(ps))
	}
	p := writeTemp(t, "contract.pdf", b)
	qpdfCheck(t, p)
	pdftotext := testenv.LookPath(t, "pdftotext")
	out, err := exec.Command(pdftotext, "-f", "3", "-l", "3", p, "-").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "甲方（盖章）") || !strings.Contains(string(out), "乙方（盖章）") {
		t.Errorf("pdftotext page 3: %v\n%s", err, out)
	}
}
