package pdfium

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"os"
	"path/filepath"
	"testing"
	"time"

	"sealdesk/document"
	"sealdesk/document/pdf"
	"sealdesk/signer"
	"sealdesk/signer/pki"
)

// signIdentity issues a test signer of algorithm a.
func signIdentity(t *testing.T, a signer.KeyAlgorithm) *signer.Identity {
	t.Helper()
	chain, err := pki.NewChain(a, "SealDesk PDFium Test")
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := chain.Issue(pki.Template{Kind: pki.Signer, CommonName: "PDFium Signer " + string(a), Org: "SealDesk PDFium Test"})
	if err != nil {
		t.Fatal(err)
	}
	return pki.Identity(leaf, chain, "test")
}

// TestSignaturesExactRects signs a document twice with document/pdf, first on page 2, then on
// page 1, so /Fields order (signing order) and page order disagree — the case the old by-order
// pairing got wrong — and checks each signature gets exactly its own page and rectangle (in mm
// from the visible top-left, on a page with an offset CropBox and /Rotate 90), the same
// rectangle PDFium reports for that widget.
func TestSignaturesExactRects(t *testing.T) {
	p2 := samplePage()
	p2.crop = &[4]float64{20, 30, 575, 811}
	p2.rotate = 90
	in := buildPDF([]testPage{samplePage(), p2})

	pic := image.NewRGBA(image.Rect(0, 0, 64, 64))
	for i := range pic.Pix {
		pic.Pix[i] = 0xFF
	}
	pic.Set(32, 32, color.RGBA{R: 0xFF, A: 0xFF})
	sign := func(in []byte, profile document.Profile, a signer.KeyAlgorithm, st document.Stamp) []byte {
		req := &document.SignRequest{Profile: profile, Identity: signIdentity(t, a), Picture: pic, PictureW: 40, PictureH: 40,
			Stamps: []document.Stamp{st}, Reason: "同意", Time: time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)}
		var out bytes.Buffer
		if err := pdf.Sign(context.Background(), bytes.NewReader(in), int64(len(in)), req, &out); err != nil {
			t.Fatalf("signing: %v", err)
		}
		return out.Bytes()
	}
	first := document.Stamp{Page: 1, Rect: document.Rect{X: 150, Y: 60, W: 40, H: 40}}
	second := document.Stamp{Page: 0, Rect: document.Rect{X: 30, Y: 200, W: 40, H: 40}}
	out := sign(sign(in, document.ProfilePAdES, signer.ECDSA, first), document.ProfilePDFGM, signer.SM2, second)
	path := filepath.Join(t.TempDir(), "twice.pdf")
	if err := os.WriteFile(path, out, 0o644); err != nil {
		t.Fatal(err)
	}

	d := open(t, path)
	sigs, err := d.Signatures()
	if err != nil {
		t.Fatal(err)
	}
	if len(sigs) != 2 {
		t.Fatalf("signatures = %+v, want 2", sigs)
	}
	want := []struct {
		profile string
		st      document.Stamp
	}{{"pades", first}, {"pdf-gm", second}}
	// PDFium's own widget rectangles, by field name, as a second opinion on the geometry.
	widgets, err := d.signatureWidgets(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for i, w := range want {
		s := sigs[i]
		if s.Index != i || s.Profile != w.profile || s.Name == "" {
			t.Errorf("signature %d = %+v, want profile %s", i, s, w.profile)
		}
		if len(s.Pages) != 1 || s.Pages[0] != w.st.Page || len(s.Rects) != 1 {
			t.Fatalf("signature %d (%s) on pages %v rects %v, want page %d", i, s.Name, s.Pages, s.Rects, w.st.Page+1)
		}
		r := s.Rects[0]
		if !near(r.X, w.st.Rect.X, 0.01) || !near(r.Y, w.st.Rect.Y, 0.01) || !near(r.W, w.st.Rect.W, 0.01) || !near(r.H, w.st.Rect.H, 0.01) {
			t.Errorf("signature %d (%s) rect %+v, want %+v", i, s.Name, r, w.st.Rect)
		}
		found := false
		for _, pw := range widgets {
			if pw.name != s.Name {
				continue
			}
			found = true
			if pw.page != s.Pages[0] || !near(pw.rect.X, r.X, 0.05) || !near(pw.rect.Y, r.Y, 0.05) || !near(pw.rect.W, r.W, 0.05) || !near(pw.rect.H, r.H, 0.05) {
				t.Errorf("signature %d (%s): PDFium sees its widget on page %d at %+v, we report page %d at %+v", i, s.Name, pw.page+1, pw.rect, s.Pages[0]+1, r)
			}
		}
		if !found {
			t.Errorf("PDFium lists no widget named %q", s.Name)
		}
	}
	// The fixture must be the hard case: pairing by order (the fallback) puts the first
	// signature on page 1.
	old, err := d.signaturesByOrder()
	if err != nil {
		t.Fatal(err)
	}
	if len(old) != 2 || len(old[0].Pages) != 1 || old[0].Pages[0] == first.Page {
		t.Errorf("by-order pairing gives %+v: the fixture does not separate field order from page order", old)
	}
}
