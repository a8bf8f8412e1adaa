package pdf

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"github.com/pdfcpu/pdfcpu/pkg/api"
	"github.com/pdfcpu/pdfcpu/pkg/pdfcpu/model"
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

// qpdfCheckLike requires qpdf to find nothing in out that it does not already find in the
// original (some corpus files carry warnings of their own, e.g. whitespace before an xref).
func qpdfCheckLike(t *testing.T, orig, out string) {
	t.Helper()
	q := testenv.LookPath(t, "qpdf")
	o, err := exec.Command(q, "--check", out).CombinedOutput()
	if err == nil && strings.Contains(string(o), "No syntax or stream encoding errors") {
		return
	}
	base, _ := exec.Command(q, "--check", orig).CombinedOutput()
	for _, line := range strings.Split(string(o), "\n") {
		if !strings.HasPrefix(line, "WARNING: ") && !strings.Contains(line, "error") {
			continue
		}
		msg := line[strings.LastIndex(line, ": ")+2:]
		if !strings.Contains(string(base), msg) {
			t.Errorf("qpdf --check %s: %q not found for the original:\n%s", out, msg, o)
		}
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
		if got := len(SignatureFields(rd.Final)); got != 1 {
			t.Fatalf("%d signature fields, want 1", got)
		}
		// Structural cross-check by an independent parser (pdfcpu, relaxed ISO 32000 validation).
		conf := model.NewDefaultConfiguration()
		conf.ValidationMode = model.ValidationRelaxed
		if err := api.Validate(bytes.NewReader(out), conf); err != nil {
			t.Errorf("pdfcpu rejects our output (xref stream %v): %v", xs, err)
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

// TestSignCorpusFiles: signing real files from other producers (classic and stream xrefs,
// hybrid files, several revisions, existing AcroForms and signatures) appends a valid
// signature, keeps every earlier signature's integrity and classifies our addition as allowed;
// qpdf accepts the output.
func TestSignCorpusFiles(t *testing.T) {
	root := filepath.Clean(testenvCorpus(t) + "pdf-signed")
	files, _ := filepath.Glob(root + "/*/*.pdf")
	ec := getSigner(t, signer.ECDSA)
	n := 0
	for _, p := range files {
		name := filepath.Base(p)
		if _, skip := integrityExceptions[name]; skip {
			continue
		}
		in, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		before := verifyBytes(t, in)
		var out bytes.Buffer
		err = Sign(context.Background(), bytes.NewReader(in), int64(len(in)), request(t, signer.ECDSA, document.ProfilePAdES, document.Stamp{Page: 0, Rect: document.Rect{X: 10, Y: 10, W: 25, H: 25}}), &out)
		if err != nil {
			// Only files whose cross-reference is broken, or that are certified with P=1 or
			// locked with a FieldMDP /P 1, may be refused.
			rd, rerr := NewReader(bytes.NewReader(in), int64(len(in)))
			var le *FieldLockedError
			if rerr == nil && !rd.Repaired && docMDPPermission(rd.Final) != 1 && !(errors.As(err, &le) && le.All) {
				t.Errorf("%s: %v", name, err)
			}
			continue
		}
		n++
		qpdfCheckLike(t, p, writeTemp(t, "out.pdf", out.Bytes()))
		rep := verifyBytes(t, out.Bytes(), ec.chain.Root.Cert)
		if len(rep.Signatures) != len(before.Signatures)+1 {
			t.Errorf("%s: %d signatures after signing, %d before", name, len(rep.Signatures), len(before.Signatures))
			continue
		}
		for i, s := range rep.Signatures {
			if s.Integrity != document.OK || s.ChangesAfter == document.Disallowed {
				t.Errorf("%s: signature %d after our signing: integrity %s changes %s %v", name, i, s.Integrity, s.ChangesAfter, s.Changes)
			}
		}
		ours := rep.Signatures[len(rep.Signatures)-1]
		if !ours.Valid {
			t.Errorf("%s: our signature: %+v", name, ours)
		}
	}
	if n < 20 {
		t.Errorf("only %d corpus files were signed", n)
	}
}
