package ofdsig

import (
	"bytes"
	"context"
	"testing"

	"sealdesk/document"
	"sealdesk/document/ofd"
)

// TestKeywordAndCrossPage signs package ofd's sample contract with the placements the CLI
// offers — keyword (found by the reader's FindText) and cross-page — resolved by package
// document, and checks that the verifier reports the stamps where they were put.
func TestKeywordAndCrossPage(t *testing.T) {
	f := newFixture(t)
	in := ofd.SampleContract(3).Bytes()
	rd, err := ofd.Open(bytes.NewReader(in), int64(len(in)), nil)
	if err != nil {
		t.Fatal(err)
	}
	doc := ofd.NewDocument(rd, nil)
	stamps, err := document.ResolvePlacements(context.Background(), doc, []document.Placement{
		{Keyword: "甲方（盖章）", Nth: 1},
		{CrossPage: true, FirstPage: 0, LastPage: -1},
	}, 40, 40)
	if err != nil {
		t.Fatal(err)
	}
	if len(stamps) != 1+doc.NumPages() {
		t.Fatalf("%d stamps for %d pages", len(stamps), doc.NumPages())
	}
	req := f.request(document.ProfileOFDSES4, 1)
	req.Stamps = stamps
	out := signBytes(t, in, req, nil)
	independentCheck(t, out)
	rep := verifyBytes(t, out, &document.VerifyOptions{TrustPEM: f.root, Offline: true})
	s := rep.Signatures[0]
	if !s.Valid {
		t.Fatalf("not valid: %v", s.Problems)
	}
	if len(s.Pages) != len(stamps) {
		t.Fatalf("pages %v", s.Pages)
	}
	for i, st := range stamps {
		want := st.Rect
		if st.Clip != (document.Rect{}) {
			want = document.Rect{X: st.Rect.X + st.Clip.X, Y: st.Rect.Y + st.Clip.Y, W: st.Clip.W, H: st.Clip.H}
		}
		got := s.Rects[i]
		if s.Pages[i] != st.Page || !near(got, want) {
			t.Errorf("stamp %d: page %d %+v, want page %d %+v", i, s.Pages[i], got, st.Page, want)
		}
	}
}

// near compares rectangles to the 0.001 mm Signature.xml keeps.
func near(a, b document.Rect) bool {
	d := func(x, y float64) bool { return x-y < 0.0011 && y-x < 0.0011 }
	return d(a.X, b.X) && d(a.Y, b.Y) && d(a.W, b.W) && d(a.H, b.H)
}
