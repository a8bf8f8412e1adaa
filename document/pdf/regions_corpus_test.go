package pdf_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sealdesk/document"
	"sealdesk/document/pdf"
	"sealdesk/document/pdfium"
	"sealdesk/internal/testenv"
)

// Where each attack of the shared corpus changed the page, found independently of the
// verifier: text the attack put on the page (searched with PDFium in the current document), or
// the area measured on side-by-side renderings of the signed revision and the current document
// (mm from the page's top-left, with the renderings at 60 dpi: ±1 mm).
type alteration struct {
	page int
	text string        // found on page in the current document
	rect document.Rect // or this area
}

var attackAlterations = map[string][]alteration{
	"shadow-rub/hide-v1--ATTACK.pdf":                              {{page: 0, text: "fired"}},
	"shadow-rub/hide-and-replace-v1--ATTACK.pdf":                  {{page: 0, text: "fired"}},
	"shadow-rub/hide-and-replace-v2--ATTACK.pdf":                  {{page: 0, rect: document.Rect{X: 77, Y: 67, W: 30, H: 8}}},  // "You are fired" field
	"shadow-rub/hide-v2-formviaform--ATTACK.pdf":                  {{page: 0, rect: document.Rect{X: 77, Y: 133, W: 20, H: 8}}}, // "Attacker"
	"shadow-rub/hide-v2-textviaform--ATTACK.pdf":                  {{page: 0, rect: document.Rect{X: 78, Y: 133, W: 20, H: 8}}}, // "Attacker"
	"shadow-rub/replace-v1--ATTACK.pdf":                           {{page: 0, rect: document.Rect{X: 9, Y: 9, W: 20, H: 5}}},    // "Attacker"
	"shadow-rub/replace-v2--ATTACK.pdf":                           {{page: 0, rect: document.Rect{X: 128, Y: 21, W: 48, H: 5}}}, // the account number
	"dss/dss-2236_hide.pdf":                                       {{page: 0, text: "fired"}},
	"dss/dss-2236_replace.pdf":                                    {{page: 0, rect: document.Rect{X: 35, Y: 38, W: 17, H: 5}}},    // "Attacker"
	"dss/pades-signed-annot-added.pdf":                            {{page: 0, rect: document.Rect{X: 32, Y: 154, W: 38, H: 7}}},   // "Hello"
	"dss/dss-2236_annotation-and-visible-change.pdf":              {{page: 1, rect: document.Rect{X: 33, Y: 240, W: 70, H: 14}}},  // filled-in signature/e-mail
	"certification-rub/1_03_Test_cert_p2_sign_manipulate.pdf":     {{page: 0, rect: document.Rect{X: 24, Y: 52, W: 30, H: 8}}},    // "Employee" appearance
	"certification-rub/2_03_NDA_cert_p2_sign_manipulate.pdf":      {{page: 1, rect: document.Rect{X: 42, Y: 151, W: 110, H: 10}}}, // black bar
	"certification-rub/2_04_NDA_cert_p2_sign_sign_manipulate.pdf": {{page: 0, rect: document.Rect{X: 50, Y: 50, W: 100, H: 100}}, {page: 1, rect: document.Rect{X: 42, Y: 151, W: 110, H: 10}}},
}

// Attacks that change pages as a whole: pages added to or removed from the signed document.
var attackPages = map[string]struct{ added, removed int }{
	"dss/pdf-signed-added-page.pdf": {added: 1},
	"dss/pdf-removed-pages.pdf":     {removed: 2},
}

// Attacks whose signature fails integrity: no intact signed revision exists to compare with,
// so nothing can be placed on a page (the signed bytes themselves are not what was signed); or
// whose change is not on any page (an invisible signature's dictionary).
var attackNoPlace = map[string]string{
	"certification-rub/minimal_cert_invalid.pdf": "digest mismatch",
	"dss/pdf-byterange-overlap.pdf":              "ByteRange overlaps",
	"dss/pdf-eof.pdf":                            "ByteRange invalid",
	"dss/pdf-signed-out-of-byteRange.pdf":        "ByteRange invalid",
	"dss/pdf-spoofing-attack.pdf":                "signature dictionary not in the signed revision",
	"dss/pades-spoofing-replaced-reason.pdf":     "the /Reason of an invisible signature redefined",
}

func verifyCorpus(t *testing.T, p string) *document.VerifyReport {
	t.Helper()
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	st, _ := f.Stat()
	rep, err := pdf.Verify(context.Background(), f, st.Size(), nil)
	if err != nil {
		t.Fatal(err)
	}
	rep.Decide()
	return rep
}

// TestChangedRegionsCorpus: for every attack sample the changed regions, drawn as
// disallowed, overlap what the attack altered on the page; benign samples (the signed
// originals, later signatures) have only allowed regions, and their later signatures are drawn.
func TestChangedRegionsCorpus(t *testing.T) {
	root := filepath.Clean(testenv.Corpus(t) + "/pdf-attacks")
	files, _ := filepath.Glob(root + "/*/*.pdf")
	if len(files) == 0 {
		t.Fatal("no attack samples")
	}
	seen := 0
	for _, p := range files {
		rel, _ := filepath.Rel(root, p)
		rep := verifyCorpus(t, p)
		var all []document.ChangedRegion
		for _, s := range rep.Signatures {
			all = append(all, s.ChangedRegions...)
		}
		alts, isAlt := attackAlterations[rel]
		pages, isPages := attackPages[rel]
		_, noPlace := attackNoPlace[rel]
		attack := isAlt || isPages || noPlace
		if attack {
			seen++
		}
		switch {
		case isAlt:
			d, err := pdfium.Open(p)
			if err != nil {
				t.Fatal(err)
			}
			for _, a := range alts {
				want := []document.Rect{a.rect}
				if a.text != "" {
					hits, err := d.FindText(context.Background(), a.text)
					if err != nil || len(hits) == 0 {
						t.Errorf("%s: %q not found on the page (%v)", rel, a.text, err)
					}
					want = want[:0]
					for _, h := range hits {
						if h.Page == a.page {
							want = append(want, h.Rect)
						}
					}
				}
				for _, w := range want {
					ok := false
					for _, r := range all {
						if !r.InSigned && !r.Allowed && r.Page == a.page && r.Rect.Overlaps(w) {
							ok = true
						}
					}
					if !ok {
						t.Errorf("%s: no disallowed region overlaps the altered content at page %d %+v; regions %+v", rel, a.page+1, w, all)
					}
				}
			}
			d.Close()
		case isPages:
			var added, removed int
			for _, r := range all {
				switch r.Kind {
				case document.ChangePageAdded:
					added++
				case document.ChangePageRemoved:
					removed++
					if !r.InSigned {
						t.Errorf("%s: a removed page is drawn on the signed revision", rel)
					}
				}
				if r.Allowed {
					t.Errorf("%s: allowed region %+v", rel, r)
				}
			}
			if added != pages.added || removed != pages.removed {
				t.Errorf("%s: %d pages added, %d removed; want %d, %d", rel, added, removed, pages.added, pages.removed)
			}
		case noPlace:
			for _, r := range all {
				if r.Allowed != true {
					t.Errorf("%s: unexpected disallowed region %+v", rel, r)
				}
			}
		default:
			if strings.Contains(rel, "ATTACK") || strings.Contains(rel, "manipulate") {
				t.Errorf("%s: an attack sample without an expectation", rel)
			}
			for _, r := range all {
				if !r.Allowed {
					t.Errorf("benign %s: disallowed region %+v", rel, r)
				}
			}
		}
	}
	if n := len(attackAlterations) + len(attackPages) + len(attackNoPlace); seen != n {
		t.Errorf("found %d of the %d attack samples", seen, n)
	}
	// Benign later signatures are drawn, as allowed, where they show.
	for _, rel := range []string{"certification-rub/1_02_Test_cert_p2_sign_original.pdf", "certification-rub/2_02_NDA_cert_p2_sign_original.pdf"} {
		rep := verifyCorpus(t, filepath.Join(root, rel))
		found := false
		for _, s := range rep.Signatures {
			for _, r := range s.ChangedRegions {
				found = found || (r.Kind == document.ChangeSignatureAdded && r.Allowed && r.Located == document.LocatedObject)
			}
		}
		if len(rep.Signatures) < 2 || !found {
			t.Errorf("%s: the later signature is not drawn as an allowed region", rel)
		}
	}
}
