package document

import (
	"image"
	"image/draw"
	"math"
	"sort"
)

// What changed after a signature, on the page (issue 19, item 3): each change a later revision
// (PDF) or a later package edit (OFD) made is located on a page, so a reviewer sees where the
// document differs from what was signed. The formats locate changes by object first (an
// annotation's rectangle, a form widget, a page added) and fall back to a pixel difference of
// the signed and the current rendering where an object has no place of its own (a changed
// content stream, a font, a resource).

// The kinds of a ChangedRegion (stable: scripts match on them; docs/CLI.md lists them).
const (
	ChangeContent          = "content-changed"
	ChangePageAdded        = "page-added"
	ChangePageRemoved      = "page-removed"
	ChangePage             = "page-changed"
	ChangeAnnotationAdded  = "annotation-added"
	ChangeAnnotationRemove = "annotation-removed"
	ChangeAnnotation       = "annotation-changed"
	ChangeFormFilled       = "form-field-filled"
	ChangeFormFieldAdded   = "form-field-added"
	ChangeFormFieldRemoved = "form-field-removed"
	ChangeFormField        = "form-field-changed"
	ChangeSignatureAdded   = "signature-added"
	ChangeSignatureAppear  = "signature-appearance-changed"
	ChangeFileAdded        = "file-added"
	ChangeFileChanged      = "file-changed"
)

// How a ChangedRegion was located.
const (
	LocatedObject = "object" // the changed object's own rectangle (annotation /Rect, OFD Boundary)
	LocatedPixels = "pixels" // a pixel difference of the signed and the current rendering
	LocatedPage   = "page"   // the whole page: the change is on it, but no smaller area could be told
)

// ChangedRegion is one place on a page that differs from what a signature signed.
type ChangedRegion struct {
	// Page is the 0-based page of the current document; for a removed page or annotation
	// (InSigned) the page of the signed revision.
	Page int `json:"page"`
	// Rect is in millimetres from the page's visible top-left corner, as Rects.
	Rect Rect `json:"rect"`
	// Box is the same rectangle in the format's own page space: PDF default user space
	// [llx lly urx ury] in points; OFD page coordinates [x y x+w y+h] in mm.
	Box [4]float64 `json:"box"`
	// Kind is one of the Change* kinds; Code is the problem (or allowed-change) code behind it.
	Kind    string `json:"kind"`
	Code    string `json:"code,omitempty"`
	Allowed bool   `json:"allowed"`
	// Located says how the rectangle was found: object, pixels or page.
	Located  string `json:"located"`
	InSigned bool   `json:"inSigned,omitempty"`
	// What names the changed object or file (e.g. "object 12", "/Doc_0/Pages/Page_0/Content.xml").
	What string `json:"what,omitempty"`
}

// SortRegions orders regions by page, then top to bottom, left to right, and removes
// duplicates (same page, rectangle and verdict: one place is drawn once, with the kind of its
// first finding).
func SortRegions(rs []ChangedRegion) []ChangedRegion {
	sort.SliceStable(rs, func(i, j int) bool {
		a, b := rs[i], rs[j]
		if a.InSigned != b.InSigned {
			return !a.InSigned
		}
		if a.Page != b.Page {
			return a.Page < b.Page
		}
		if a.Rect.Y != b.Rect.Y {
			return a.Rect.Y < b.Rect.Y
		}
		return a.Rect.X < b.Rect.X
	})
	out := rs[:0]
	seen := map[[7]any]bool{}
	for _, r := range rs {
		k := [7]any{r.Page, math.Round(r.Rect.X * 10), math.Round(r.Rect.Y * 10), math.Round(r.Rect.W * 10), math.Round(r.Rect.H * 10), r.Allowed, r.InSigned}
		if seen[k] {
			continue
		}
		seen[k] = true
		out = append(out, r)
	}
	return out
}

// Overlaps reports whether r and o share an area.
func (r Rect) Overlaps(o Rect) bool {
	return r.X < o.X+o.W && o.X < r.X+r.W && r.Y < o.Y+o.H && o.Y < r.Y+r.H
}

// Grow returns r enlarged by d on every side.
func (r Rect) Grow(d float64) Rect { return Rect{X: r.X - d, Y: r.Y - d, W: r.W + 2*d, H: r.H + 2*d} }

// DiffCell is the side of the square cells (pixels) a pixel difference is counted in; changes
// closer than two cells join into one box.
const DiffCell = 6

// DiffThreshold is how much a pixel must change (sum of the R, G and B differences, 0–765)
// to count: renderings of the same content by the same renderer are identical, so anything
// above anti-aliasing noise is a change.
const DiffThreshold = 48

// MaxDiffBoxes bounds the boxes one page difference yields; more are joined into one.
const MaxDiffBoxes = 24

// DiffBoxes compares two renderings of the same page (a: signed, b: current) and returns the
// boxes where they differ, as fractions of the page [x0 y0 x1 y1] from the top-left. Images of
// different sizes are compared over their common area, the rest counting as changed.
func DiffBoxes(a, b image.Image) [][4]float64 {
	ra, rb := toRGBA(a), toRGBA(b)
	w := max(ra.Rect.Dx(), rb.Rect.Dx())
	h := max(ra.Rect.Dy(), rb.Rect.Dy())
	if w == 0 || h == 0 {
		return nil
	}
	cw, ch := (w+DiffCell-1)/DiffCell, (h+DiffCell-1)/DiffCell
	cells := make([]bool, cw*ch)
	any := false
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			if pixelDiffers(ra, rb, x, y) {
				cells[(y/DiffCell)*cw+x/DiffCell] = true
				any = true
				x = (x/DiffCell+1)*DiffCell - 1 // the cell is marked; skip to the next one
			}
		}
	}
	if !any {
		return nil
	}
	// Connected components, joining cells up to two cells apart.
	label := make([]int, len(cells))
	var boxes [][4]int
	stack := []int{}
	for i, c := range cells {
		if !c || label[i] != 0 {
			continue
		}
		n := len(boxes) + 1
		box := [4]int{i % cw, i / cw, i % cw, i / cw}
		label[i] = n
		stack = append(stack[:0], i)
		for len(stack) > 0 {
			j := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			x, y := j%cw, j/cw
			box = [4]int{min(box[0], x), min(box[1], y), max(box[2], x), max(box[3], y)}
			for dy := -2; dy <= 2; dy++ {
				for dx := -2; dx <= 2; dx++ {
					nx, ny := x+dx, y+dy
					if nx < 0 || ny < 0 || nx >= cw || ny >= ch {
						continue
					}
					k := ny*cw + nx
					if cells[k] && label[k] == 0 {
						label[k] = n
						stack = append(stack, k)
					}
				}
			}
		}
		boxes = append(boxes, box)
	}
	if len(boxes) > MaxDiffBoxes {
		u := boxes[0]
		for _, b := range boxes[1:] {
			u = [4]int{min(u[0], b[0]), min(u[1], b[1]), max(u[2], b[2]), max(u[3], b[3])}
		}
		boxes = [][4]int{u}
	}
	out := make([][4]float64, 0, len(boxes))
	for _, b := range boxes {
		out = append(out, [4]float64{
			float64(b[0]*DiffCell) / float64(w), float64(b[1]*DiffCell) / float64(h),
			math.Min(1, float64((b[2]+1)*DiffCell)/float64(w)), math.Min(1, float64((b[3]+1)*DiffCell)/float64(h)),
		})
	}
	return out
}

func pixelDiffers(a, b *image.RGBA, x, y int) bool {
	ina := x < a.Rect.Dx() && y < a.Rect.Dy()
	inb := x < b.Rect.Dx() && y < b.Rect.Dy()
	if ina != inb {
		return true
	}
	if !ina {
		return false
	}
	pa := a.Pix[y*a.Stride+x*4:]
	pb := b.Pix[y*b.Stride+x*4:]
	d := 0
	for k := 0; k < 3; k++ {
		v := int(pa[k]) - int(pb[k])
		if v < 0 {
			v = -v
		}
		d += v
	}
	return d > DiffThreshold
}

func toRGBA(img image.Image) *image.RGBA {
	if r, ok := img.(*image.RGBA); ok && r.Rect.Min == (image.Point{}) {
		return r
	}
	if img == nil {
		return image.NewRGBA(image.Rect(0, 0, 0, 0))
	}
	b := img.Bounds()
	r := image.NewRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	draw.Draw(r, r.Rect, img, b.Min, draw.Src)
	return r
}
