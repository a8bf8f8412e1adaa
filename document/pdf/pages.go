package pdf

import (
	"fmt"
	"math"

	"sealdesk/document"
)

// Page is one page with its inherited geometry, in default user space units.
type Page struct {
	Index    int
	Ref      Ref
	Dict     Dict
	MediaBox [4]float64 // llx lly urx ury, normalised
	CropBox  [4]float64 // intersected with MediaBox
	Rotate   int        // 0, 90, 180 or 270
	UserUnit float64    // points per user space unit (1 by default)
}

// Catalog returns the document catalog.
func (v *View) Catalog() (Dict, Ref, error) {
	ref, _ := v.Trailer["Root"].(Ref)
	d := v.Dict(ref)
	if d == nil {
		return nil, ref, fmt.Errorf("the document catalog (%v) is missing", ref)
	}
	return d, ref, nil
}

// Pages walks the page tree (inherited MediaBox, CropBox, Rotate). Loops and bad nodes are errors.
func (v *View) Pages() ([]Page, error) {
	cat, _, err := v.Catalog()
	if err != nil {
		return nil, err
	}
	root, ok := cat["Pages"].(Ref)
	if !ok {
		return nil, fmt.Errorf("the catalog's /Pages is not a reference")
	}
	var pages []Page
	seen := map[int]bool{}
	type inh struct {
		media, crop Object
		rotate      Object
	}
	var walk func(ref Ref, in inh, depth int) error
	walk = func(ref Ref, in inh, depth int) error {
		if depth > 64 {
			return fmt.Errorf("page tree deeper than 64 levels")
		}
		if seen[ref.Num] {
			return fmt.Errorf("page tree node %v appears twice", ref)
		}
		seen[ref.Num] = true
		d := v.Dict(ref)
		if d == nil {
			return fmt.Errorf("page tree node %v is missing", ref)
		}
		if d["MediaBox"] != nil {
			in.media = d["MediaBox"]
		}
		if d["CropBox"] != nil {
			in.crop = d["CropBox"]
		}
		if d["Rotate"] != nil {
			in.rotate = d["Rotate"]
		}
		kids, isNode := v.Resolve(d["Kids"]).(Array)
		if NameOf(d["Type"]) == "Page" || (!isNode && NameOf(d["Type"]) != "Pages") {
			p := Page{Index: len(pages), Ref: ref, Dict: d, UserUnit: 1}
			p.MediaBox = v.box(in.media, [4]float64{0, 0, 612, 792})
			p.CropBox = intersect(v.box(in.crop, p.MediaBox), p.MediaBox)
			if r, ok := v.Num(in.rotate); ok {
				p.Rotate = ((int(r)%360)/90*90 + 360) % 360
			}
			if u, ok := v.Num(d["UserUnit"]); ok && u > 0 && u < 1e4 {
				p.UserUnit = u
			}
			pages = append(pages, p)
			return nil
		}
		for _, k := range kids {
			kr, ok := k.(Ref)
			if !ok {
				return fmt.Errorf("page tree node %v has a direct kid", ref)
			}
			if err := walk(kr, in, depth+1); err != nil {
				return err
			}
		}
		return nil
	}
	if err := walk(root, inh{}, 0); err != nil {
		return nil, err
	}
	return pages, nil
}

func (v *View) box(o Object, def [4]float64) [4]float64 {
	a := v.Array(o)
	if len(a) != 4 {
		return def
	}
	var b [4]float64
	for i := range b {
		f, ok := v.Num(a[i])
		if !ok {
			return def
		}
		b[i] = f
	}
	return [4]float64{math.Min(b[0], b[2]), math.Min(b[1], b[3]), math.Max(b[0], b[2]), math.Max(b[1], b[3])}
}

func intersect(a, b [4]float64) [4]float64 {
	r := [4]float64{math.Max(a[0], b[0]), math.Max(a[1], b[1]), math.Min(a[2], b[2]), math.Min(a[3], b[3])}
	if r[2] <= r[0] || r[3] <= r[1] {
		return b
	}
	return r
}

// VisibleSize is the page's visible size in millimetres, after rotation.
func (p *Page) VisibleSize() document.Size {
	w := (p.CropBox[2] - p.CropBox[0]) * p.UserUnit * document.MMPerPoint
	h := (p.CropBox[3] - p.CropBox[1]) * p.UserUnit * document.MMPerPoint
	if p.Rotate == 90 || p.Rotate == 270 {
		w, h = h, w
	}
	return document.Size{W: w, H: h}
}

// toUser converts a point given in millimetres from the visible top-left corner into default
// user space. Page /Rotate turns the page clockwise for display, so the visible top-left is a
// different CropBox corner for each rotation.
func (p *Page) toUser(xmm, ymm float64) (float64, float64) {
	s := 1 / (document.MMPerPoint * p.UserUnit)
	vx, vy := xmm*s, ymm*s
	c := p.CropBox
	switch p.Rotate {
	case 90:
		return c[0] + vy, c[1] + vx
	case 180:
		return c[2] - vx, c[1] + vy
	case 270:
		return c[2] - vy, c[3] - vx
	}
	return c[0] + vx, c[3] - vy
}

// fromUser is the inverse of toUser.
func (p *Page) fromUser(x, y float64) (float64, float64) {
	s := document.MMPerPoint * p.UserUnit
	c := p.CropBox
	var vx, vy float64
	switch p.Rotate {
	case 90:
		vx, vy = y-c[1], x-c[0]
	case 180:
		vx, vy = c[2]-x, y-c[1]
	case 270:
		vx, vy = c[3]-y, c[2]-x
	default:
		vx, vy = x-c[0], c[3]-y
	}
	return vx * s, vy * s
}

// RectToUser converts a rectangle in mm from the visible top-left to a user space rectangle
// [llx lly urx ury].
func (p *Page) RectToUser(r document.Rect) [4]float64 {
	x1, y1 := p.toUser(r.X, r.Y)
	x2, y2 := p.toUser(r.X+r.W, r.Y+r.H)
	return [4]float64{math.Min(x1, x2), math.Min(y1, y2), math.Max(x1, x2), math.Max(y1, y2)}
}

// RectFromUser converts a user space rectangle back to mm from the visible top-left.
func (p *Page) RectFromUser(b [4]float64) document.Rect {
	x1, y1 := p.fromUser(b[0], b[1])
	x2, y2 := p.fromUser(b[2], b[3])
	return document.Rect{X: math.Min(x1, x2), Y: math.Min(y1, y2), W: math.Abs(x2 - x1), H: math.Abs(y2 - y1)}
}
