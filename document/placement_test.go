package document

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"testing"
)

type fakePages struct {
	n    int
	size Size
	hits []Hit
}

func (f fakePages) NumPages() int                                   { return f.n }
func (f fakePages) PageSize(int) (Size, error)                      { return f.size, nil }
func (f fakePages) FindText(context.Context, string) ([]Hit, error) { return f.hits, nil }

func TestCrossPageStripsCoverTheSealOnce(t *testing.T) {
	doc := fakePages{n: 4, size: Size{W: 210, H: 297}}
	st, err := ResolvePlacements(context.Background(), doc, []Placement{{CrossPage: true, LastPage: -1}}, 40, 40)
	if err != nil {
		t.Fatal(err)
	}
	if len(st) != 4 {
		t.Fatalf("%d stamps, want 4", len(st))
	}
	for k, s := range st {
		if s.Page != k || math.Abs(s.Clip.W-10) > 1e-9 || math.Abs(s.Clip.X-float64(k)*10) > 1e-9 {
			t.Fatalf("stamp %d: %+v", k, s)
		}
		// The visible strip sits exactly at the right edge of its page.
		if left := s.Rect.X + s.Clip.X; math.Abs(left-200) > 1e-9 {
			t.Fatalf("stamp %d: strip starts at %.2f mm, want 200", k, left)
		}
		if math.Abs(s.Rect.Y-(297/2.0-20)) > 1e-9 {
			t.Fatalf("stamp %d: y %.2f", k, s.Rect.Y)
		}
	}
}

func TestKeywordNthAndErrors(t *testing.T) {
	doc := fakePages{n: 2, size: Size{W: 210, H: 297}, hits: []Hit{
		{Page: 0, Rect: Rect{X: 10, Y: 10, W: 20, H: 5}},
		{Page: 1, Rect: Rect{X: 50, Y: 100, W: 10, H: 4}},
	}}
	st, err := ResolvePlacements(context.Background(), doc, []Placement{{Keyword: "盖章", Nth: 2, OffsetX: 5}}, 40, 40)
	if err != nil {
		t.Fatal(err)
	}
	want := Stamp{Page: 1, Rect: Rect{X: 55 + 5 - 20, Y: 102 - 20, W: 40, H: 40}}
	if len(st) != 1 || st[0] != want {
		t.Fatalf("got %+v want %+v", st, want)
	}
	if _, err := ResolvePlacements(context.Background(), doc, []Placement{{Keyword: "x", Nth: 3}}, 40, 40); err == nil {
		t.Fatal("3rd of 2 hits: no error")
	}
	if _, err := ResolvePlacements(context.Background(), doc, []Placement{{Page: 5, Rect: &Rect{X: 1, Y: 1, W: 4, H: 4}}}, 40, 40); err == nil {
		t.Fatal("page 6 of 2: no error")
	}
}

func TestAtCentresTheSeal(t *testing.T) {
	st, err := ResolvePlacements(context.Background(), nil, []Placement{{Page: 0, At: &Point{X: 100, Y: 50}}}, 42, 42)
	if err != nil {
		t.Fatal(err)
	}
	if want := (Rect{X: 79, Y: 29, W: 42, H: 42}); st[0].Rect != want {
		t.Fatalf("got %+v want %+v", st[0].Rect, want)
	}
}

func TestSignedPathNeverOverwrites(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "a.pdf")
	if got := SignedPath(in, ""); got != filepath.Join(dir, "a-signed.pdf") {
		t.Fatal(got)
	}
	if err := os.WriteFile(filepath.Join(dir, "a-signed.pdf"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if got := SignedPath(in, ""); got != filepath.Join(dir, "a-signed-2.pdf") {
		t.Fatal(got)
	}
	other := t.TempDir()
	if got := SignedPath(in, other); got != filepath.Join(other, "a-signed.pdf") {
		t.Fatal(got)
	}
}
