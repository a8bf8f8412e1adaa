package overlay

import (
	"image"
	"image/color"
	"image/draw"
	"math"

	"sealdesk/document"
)

// Changed regions (issue 19, item 3): where a document differs from what a signature signed,
// drawn over the page in colours of their own so they are never mistaken for a signature's
// outline — magenta for a change the signer's permissions do not allow, blue for one they
// allow (a later signature, a permitted form fill). The app, the PDF report and the web page
// draw them with the same colours and the same hatching.
var (
	ColorChangeDisallowed = color.NRGBA{R: 0xc0, G: 0x26, B: 0xd3, A: 0xff}
	ColorChangeAllowed    = color.NRGBA{R: 0x25, G: 0x63, B: 0xeb, A: 0xff}
)

// ChangeMark is one changed region to draw.
type ChangeMark struct {
	Page      int
	Rect      document.Rect
	Allowed   bool
	Kind      string
	Signature int // index into the report's signatures
}

// Color is the mark's colour.
func (m ChangeMark) Color() color.NRGBA {
	if m.Allowed {
		return ColorChangeAllowed
	}
	return ColorChangeDisallowed
}

// ChangesOf returns the regions of signature sig (all signatures when sig < 0) that show on
// the current document's pages; regions of the signed revision only (a removed page or
// annotation) are left out, as the current pages cannot show them. A region reported by
// several signatures is returned once, disallowed winning.
func ChangesOf(r *document.VerifyReport, sig int) []ChangeMark {
	var out []ChangeMark
	index := map[[5]int64]int{}
	for i := range r.Signatures {
		if sig >= 0 && i != sig {
			continue
		}
		for _, c := range r.Signatures[i].ChangedRegions {
			if c.InSigned {
				continue
			}
			k := [5]int64{int64(c.Page), int64(math.Round(c.Rect.X * 10)), int64(math.Round(c.Rect.Y * 10)), int64(math.Round(c.Rect.W * 10)), int64(math.Round(c.Rect.H * 10))}
			if j, ok := index[k]; ok {
				if !c.Allowed && out[j].Allowed {
					out[j].Allowed, out[j].Kind, out[j].Signature = false, c.Kind, i
				}
				continue
			}
			index[k] = len(out)
			out = append(out, ChangeMark{Page: c.Page, Rect: c.Rect, Allowed: c.Allowed, Kind: c.Kind, Signature: i})
		}
	}
	return out
}

// FirstChanged returns the index of the earliest signature with changed regions on the current
// pages (the one a reviewer wants to compare against), or -1.
func FirstChanged(r *document.VerifyReport) int {
	for i := range r.Signatures {
		for _, c := range r.Signatures[i].ChangedRegions {
			if !c.InSigned {
				return i
			}
		}
	}
	return -1
}

// DrawChanges draws the marks of page (0-based) on img, a rendering of a page sizeMM large:
// a dashed frame of width px in the mark's colour over diagonal hatching, so the changed
// content stays readable beneath and the marks do not look like a signature's solid outline.
func DrawChanges(img draw.Image, page int, sizeMM document.Size, marks []ChangeMark, width int) {
	b := img.Bounds()
	if sizeMM.W <= 0 || sizeMM.H <= 0 {
		return
	}
	if width < 1 {
		width = 1
	}
	sx, sy := float64(b.Dx())/sizeMM.W, float64(b.Dy())/sizeMM.H
	for _, m := range marks {
		if m.Page != page {
			continue
		}
		pad := float64(width) // keep thin text lines inside the frame readable
		r := image.Rect(
			b.Min.X+int(math.Floor(m.Rect.X*sx-pad)), b.Min.Y+int(math.Floor(m.Rect.Y*sy-pad)),
			b.Min.X+int(math.Ceil((m.Rect.X+m.Rect.W)*sx+pad)), b.Min.Y+int(math.Ceil((m.Rect.Y+m.Rect.H)*sy+pad)),
		).Intersect(b)
		if r.Empty() {
			continue
		}
		c := m.Color()
		tint := c
		tint.A = 0x50
		step := 6 * width
		for y := r.Min.Y; y < r.Max.Y; y++ {
			for x := r.Min.X; x < r.Max.X; x++ {
				if (x+y)%step < width {
					blend(img, x, y, tint)
				}
			}
		}
		dash := 4 * width
		for i := 0; i < width; i++ {
			dashed(img, r.Inset(i), c, dash)
		}
	}
}

func blend(img draw.Image, x, y int, c color.NRGBA) {
	r0, g0, b0, _ := img.At(x, y).RGBA()
	a := uint32(c.A)
	mix := func(bg uint32, fg uint8) uint8 { return uint8((bg>>8*(255-a) + uint32(fg)*a) / 255) }
	img.Set(x, y, color.NRGBA{R: mix(r0, c.R), G: mix(g0, c.G), B: mix(b0, c.B), A: 0xff})
}

func dashed(img draw.Image, r image.Rectangle, c color.Color, dash int) {
	if r.Empty() {
		return
	}
	on := func(i int) bool { return (i/dash)%3 != 2 } // two on, one off
	for x := r.Min.X; x < r.Max.X; x++ {
		if on(x - r.Min.X) {
			img.Set(x, r.Min.Y, c)
			img.Set(x, r.Max.Y-1, c)
		}
	}
	for y := r.Min.Y; y < r.Max.Y; y++ {
		if on(y - r.Min.Y) {
			img.Set(r.Min.X, y, c)
			img.Set(r.Max.X-1, y, c)
		}
	}
}
