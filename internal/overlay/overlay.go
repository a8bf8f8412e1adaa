// Package overlay is the UI-free part of showing verified signatures on page images: the
// colour class of a signature (green valid, red invalid, amber when something could not be
// established), the outlines of a report per page, and drawing them onto a rendered page.
// The desktop app (ui) and sealhub's seal-check page (hub/web) both use it, so a signature
// has the same colour everywhere.
package overlay

import (
	"image"
	"image/color"
	"image/draw"
	"math"

	"sealdesk/document"
)

// State is the colour class of a verified signature.
type State int

const (
	// Unknown: nothing failed, but something could not be established (trust, revocation or
	// registry status unknown, e.g. offline) — amber.
	Unknown State = iota
	// Valid: valid and every check answered ok — green.
	Valid
	// Invalid: a check failed — red.
	Invalid
)

// Colours of the states (the app and the web pages use the same ones).
var (
	ColorValid   = color.NRGBA{R: 0x1b, G: 0x9e, B: 0x3e, A: 0xff}
	ColorInvalid = color.NRGBA{R: 0xd9, G: 0x1e, B: 0x18, A: 0xff}
	ColorUnknown = color.NRGBA{R: 0xf0, G: 0xa0, B: 0x00, A: 0xff}
)

// Color is the outline colour of the state.
func (s State) Color() color.NRGBA {
	switch s {
	case Valid:
		return ColorValid
	case Invalid:
		return ColorInvalid
	}
	return ColorUnknown
}

// Name is the state as a stable word: valid, invalid or unknown.
func (s State) Name() string {
	switch s {
	case Valid:
		return "valid"
	case Invalid:
		return "invalid"
	}
	return "unknown"
}

// StateOf classifies a signature report by its indication (document.SignatureVerdict, the
// one verdict function of the CLI, the app, the reports and the web pages): red only for
// what was proven wrong, amber for what could not be established.
func StateOf(s *document.SignatureReport) State {
	ind := s.Indication
	if ind == "" {
		ind, _ = document.SignatureVerdict(s)
	}
	return stateOf(ind)
}

func stateOf(ind document.Indication) State {
	switch ind {
	case document.IndicationValid:
		return Valid
	case document.IndicationInvalid:
		return Invalid
	}
	return Unknown
}

// Worst is the state of a whole report: its document indication (document.DocumentVerdict).
func Worst(r *document.VerifyReport) State {
	ind := r.Indication
	if ind == "" {
		ind = document.DocumentVerdict(r)
	}
	return stateOf(ind)
}

// Outline is one signature's box on one page.
type Outline struct {
	Page      int           // 0-based
	Rect      document.Rect // mm from the page's visible top-left
	State     State
	Signature int // index into the report's signatures
	Label     string
}

// Outlines returns the page outlines of every signature of a report.
func Outlines(r *document.VerifyReport) []Outline {
	var out []Outline
	for i := range r.Signatures {
		s := &r.Signatures[i]
		st := StateOf(s)
		for j, pg := range s.Pages {
			if j >= len(s.Rects) {
				break
			}
			out = append(out, Outline{Page: pg, Rect: s.Rects[j], State: st, Signature: i, Label: s.Signer})
		}
	}
	return out
}

// Draw outlines page (0-based) of img, a rendering of a page sizeMM large, with every outline
// of that page: a frame of width px in the state's colour over a light tint of it, so the seal
// stays visible beneath.
func Draw(img draw.Image, page int, sizeMM document.Size, outlines []Outline, width int) {
	b := img.Bounds()
	if sizeMM.W <= 0 || sizeMM.H <= 0 {
		return
	}
	sx, sy := float64(b.Dx())/sizeMM.W, float64(b.Dy())/sizeMM.H
	for _, o := range outlines {
		if o.Page != page {
			continue
		}
		r := image.Rect(
			b.Min.X+int(math.Floor(o.Rect.X*sx)), b.Min.Y+int(math.Floor(o.Rect.Y*sy)),
			b.Min.X+int(math.Ceil((o.Rect.X+o.Rect.W)*sx)), b.Min.Y+int(math.Ceil((o.Rect.Y+o.Rect.H)*sy)),
		).Intersect(b)
		if r.Empty() {
			continue
		}
		c := o.State.Color()
		tint := c
		tint.A = 0x30
		draw.Draw(img, r, image.NewUniform(tint), image.Point{}, draw.Over)
		for i := 0; i < width; i++ {
			frame(img, r.Inset(i), c)
		}
	}
}

func frame(img draw.Image, r image.Rectangle, c color.Color) {
	if r.Empty() {
		return
	}
	for x := r.Min.X; x < r.Max.X; x++ {
		img.Set(x, r.Min.Y, c)
		img.Set(x, r.Max.Y-1, c)
	}
	for y := r.Min.Y; y < r.Max.Y; y++ {
		img.Set(r.Min.X, y, c)
		img.Set(r.Max.X-1, y, c)
	}
}
