package ui

import (
	"context"
	"image"
	"testing"

	"sealdesk/document"
	"sealdesk/signer/keys"
)

// pagesDoc is a document of blank A4 pages whose text search returns fixed hits: enough for
// the placement code, which only needs page sizes and hits.
type pagesDoc struct {
	n    int
	hits []document.Hit
}

func (d *pagesDoc) Format() document.Format { return document.PDF }
func (d *pagesDoc) NumPages() int           { return d.n }
func (d *pagesDoc) PageSize(i int) (document.Size, error) {
	return document.Size{W: 210, H: 297}, nil
}
func (d *pagesDoc) Render(ctx context.Context, i int, dpi float64) (image.Image, error) {
	return image.NewNRGBA(image.Rect(0, 0, 10, 14)), nil
}
func (d *pagesDoc) FindText(ctx context.Context, q string) ([]document.Hit, error) {
	return d.hits, nil
}
func (d *pagesDoc) Signatures() ([]document.SignatureInfo, error) { return nil, nil }
func (d *pagesDoc) Close() error                                  { return nil }

func TestKeywordCoordinateAndCrossPagePlacements(t *testing.T) {
	a := newTestApp(t)
	// No keys and no token events: the one key listing at start refills the tray; let it
	// happen before the test's seal goes in.
	m := NewMainWindow(a, Options{Keys: &keys.Stores{}, NoHub: true, Outbox: t.TempDir() + "/outbox.db"})
	defer m.Close()
	waitUI(t, "the key listing", func() bool { return m.eventCounts()["keys"] >= 1 })
	seal := &SealItem{Name: "测试专用章", ESID: "e1", Picture: standInPicture(), W: 40, H: 40}
	m.Tray.SetItems([]*SealItem{seal})
	doc := &pagesDoc{n: 3, hits: []document.Hit{
		{Page: 0, Rect: document.Rect{X: 100, Y: 200, W: 20, H: 6}, Text: "甲方"},
		{Page: 2, Rect: document.Rect{X: 30, Y: 40, W: 20, H: 6}, Text: "甲方"},
	}}
	m.doc, m.docPath = doc, "x.pdf"
	m.View.PageSize = document.Size{W: 210, H: 297}

	if err := m.PlaceAt(5, 10, 10); err == nil {
		t.Fatal("a placement on page 6 of 3 was accepted")
	}
	// Chosen hits: the second only.
	if err := m.PlaceHits(doc.hits[1:]); err != nil {
		t.Fatal(err)
	}
	if err := m.PlaceAt(0, 150, 60); err != nil {
		t.Fatal(err)
	}
	if err := m.PlaceCrossPage(0, 2, 120); err != nil {
		t.Fatal(err)
	}
	ps := m.Placements()
	if len(ps) != 3 {
		t.Fatalf("%d placements", len(ps))
	}
	if cx, cy := ps[0].Rect.Center(); ps[0].Page != 2 || !near(cx, 40) || !near(cy, 43) {
		t.Fatalf("keyword placement on page %d at (%.1f, %.1f)", ps[0].Page, cx, cy)
	}
	if cx, cy := ps[1].Rect.Center(); ps[1].Page != 0 || !near(cx, 150) || !near(cy, 60) || !near(ps[1].Rect.W, 40) {
		t.Fatalf("coordinate placement %+v", ps[1].Rect)
	}
	// The cross-page seal is resolved by the core into one strip per page at the right edge;
	// the strips together are as wide as the seal, and each shows only its part of the picture.
	var width float64
	pages := map[int]bool{}
	for _, mk := range m.View.Marks {
		if mk.Placement >= 0 {
			continue
		}
		pages[mk.Page] = true
		width += mk.Rect.W
		if !near(mk.Rect.X+mk.Rect.W, 210) {
			t.Errorf("strip on page %d ends at %.1f mm, not the right edge", mk.Page, mk.Rect.X+mk.Rect.W)
		}
		if b := mk.Picture.Bounds(); b.Dx() >= standInPicture().Bounds().Dx() {
			t.Errorf("strip on page %d shows the whole picture", mk.Page)
		}
	}
	if len(pages) != 3 || !near(width, 40) {
		t.Fatalf("strips on pages %v, %.2f mm wide in all", pages, width)
	}
	// Several placements, one seal: the request would carry all three.
	m.ClearPlacements()
	if len(m.Placements()) != 0 || len(m.View.Marks) != 0 {
		t.Fatal("placements not cleared")
	}
}
