package ses

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math"
	"sync"

	"golang.org/x/image/font/sfnt"
	"golang.org/x/image/math/fixed"
	"golang.org/x/image/vector"

	"sealdesk/assets"
)

// PictureOptions describes a generated round official-seal picture (公章 style): a red outer
// ring, a five-pointed star in the middle, text along the upper ring and a line of text below
// the star, on a transparent background.
type PictureOptions struct {
	RingText   string      // along the ring, clockwise over the top (the organisation's name)
	BottomText string      // horizontal, under the star (the seal's purpose, e.g. 合同专用章)
	SizePx     int         // square side in pixels; default 600
	Color      color.NRGBA // ink; default a seal red
}

var (
	fontOnce sync.Once
	fontVal  *sfnt.Font
	fontErr  error
)

func sealFont() (*sfnt.Font, error) {
	fontOnce.Do(func() {
		b := assets.CJKFont()
		if len(b) == 0 {
			fontErr = errors.New("the bundled CJK font is missing")
			return
		}
		fontVal, fontErr = sfnt.Parse(b)
	})
	return fontVal, fontErr
}

// GeneratePicture draws a round seal and returns it as a PNG with transparency.
func GeneratePicture(o PictureOptions) ([]byte, error) {
	img, err := DrawPicture(o)
	if err != nil {
		return nil, err
	}
	// One ink colour at 256 opacities: a paletted PNG (with tRNS) is about a quarter of the
	// RGBA size, and every signature embeds the seal.
	pal := make(color.Palette, 256)
	ink := img.NRGBAAt(img.Bounds().Dx()/2, img.Bounds().Dy()/2) // the star's centre is solid ink
	for i := range pal {
		pal[i] = color.NRGBA{R: ink.R, G: ink.G, B: ink.B, A: uint8(i)}
	}
	pm := image.NewPaletted(img.Bounds(), pal)
	for i, j := 0, 0; i < len(img.Pix); i, j = i+4, j+1 {
		pm.Pix[j] = img.Pix[i+3]
	}
	var buf bytes.Buffer
	if err := (&png.Encoder{CompressionLevel: png.BestCompression}).Encode(&buf, pm); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// DrawPicture draws a round seal as an image (see PictureOptions).
func DrawPicture(o PictureOptions) (*image.NRGBA, error) {
	if o.SizePx == 0 {
		o.SizePx = 600
	}
	if o.SizePx < 64 || o.SizePx > 4096 {
		return nil, fmt.Errorf("ses: seal picture size %d px out of range 64…4096", o.SizePx)
	}
	if o.Color == (color.NRGBA{}) {
		o.Color = color.NRGBA{R: 0xd9, G: 0x1e, B: 0x18, A: 0xff}
	}
	S := float64(o.SizePx)
	c := S / 2
	img := image.NewNRGBA(image.Rect(0, 0, o.SizePx, o.SizePx))
	ink := image.NewUniform(o.Color)
	fill := func(build func(z *vector.Rasterizer)) {
		z := vector.NewRasterizer(o.SizePx, o.SizePx)
		build(z)
		z.Draw(img, img.Bounds(), ink, image.Point{})
	}

	// Outer ring: outer circle one way, inner circle the other, so the inside stays empty.
	rOut, width := 0.485*S, 0.04*S
	fill(func(z *vector.Rasterizer) {
		circle(z, c, c, rOut, false)
		circle(z, c, c, rOut-width, true)
	})

	// Star.
	rs := 0.17 * S
	fill(func(z *vector.Rasterizer) {
		for i := 0; i < 10; i++ {
			r := rs
			if i%2 == 1 {
				r = rs * 0.382
			}
			a := float64(i) * math.Pi / 5
			x, y := c+r*math.Sin(a), c-r*math.Cos(a)
			if i == 0 {
				z.MoveTo(float32(x), float32(y))
			} else {
				z.LineTo(float32(x), float32(y))
			}
		}
		z.ClosePath()
	})

	if o.RingText == "" && o.BottomText == "" {
		return img, nil
	}
	f, err := sealFont()
	if err != nil {
		return nil, fmt.Errorf("ses: seal picture text: %w", err)
	}
	var buf sfnt.Buffer

	// Ring text: glyphs upright with their tops pointing outwards, spread over up to 250°.
	if rt := []rune(o.RingText); len(rt) > 0 {
		size := 0.12 * S
		if len(rt) > 14 {
			size *= 14 / float64(len(rt))
		}
		rBase := rOut - width - 0.02*S - size*0.88 // baseline radius: glyph tops just inside the ring
		// Each glyph gets an arc proportional to its advance (Latin letters are narrower than
		// Chinese characters), plus letter spacing.
		advs := make([]float64, len(rt))
		var total float64
		for i, r := range rt {
			advs[i] = advance(f, &buf, r, size) + 0.12*size
			total += advs[i]
		}
		scale := 1 / rBase // radians per pixel of advance
		if max := 250 * math.Pi / 180; total*scale > max {
			scale = max / total
		}
		th := -total * scale / 2
		for i, r := range rt {
			mid := th + advs[i]*scale/2
			th += advs[i] * scale
			u := [2]float64{math.Sin(mid), -math.Cos(mid)} // outwards
			v := [2]float64{math.Cos(mid), math.Sin(mid)}  // along the ring, clockwise
			px, py := c+rBase*u[0], c+rBase*u[1]
			err := glyph(f, &buf, r, size, func(x, y float64, adv float64) (float64, float64) {
				x -= adv / 2
				up := -y
				return px + x*v[0] + up*u[0], py + x*v[1] + up*u[1]
			}, fill)
			if err != nil {
				return nil, err
			}
		}
	}

	// Bottom text: horizontal, centred, under the star.
	if bt := []rune(o.BottomText); len(bt) > 0 {
		size := 0.085 * S
		if w := float64(len(bt)) * size; w > 0.6*S {
			size = 0.6 * S / float64(len(bt))
		}
		var total float64
		advs := make([]float64, len(bt))
		for i, r := range bt {
			advs[i] = advance(f, &buf, r, size)
			total += advs[i]
		}
		x0, base := c-total/2, c+0.32*S
		for i, r := range bt {
			ox := x0
			err := glyph(f, &buf, r, size, func(x, y float64, _ float64) (float64, float64) {
				return ox + x, base + y
			}, fill)
			if err != nil {
				return nil, err
			}
			x0 += advs[i]
		}
	}
	return img, nil
}

// circle adds a closed polygonal circle; reverse flips its direction.
func circle(z *vector.Rasterizer, cx, cy, r float64, reverse bool) {
	const n = 360
	for i := 0; i <= n; i++ {
		a := 2 * math.Pi * float64(i) / n
		if reverse {
			a = -a
		}
		x, y := float32(cx+r*math.Cos(a)), float32(cy+r*math.Sin(a))
		if i == 0 {
			z.MoveTo(x, y)
		} else {
			z.LineTo(x, y)
		}
	}
	z.ClosePath()
}

func advance(f *sfnt.Font, buf *sfnt.Buffer, r rune, size float64) float64 {
	gi, err := f.GlyphIndex(buf, r)
	if err != nil || gi == 0 {
		return size
	}
	a, err := f.GlyphAdvance(buf, gi, fixed.Int26_6(size*64), 0)
	if err != nil {
		return size
	}
	return float64(a) / 64
}

// glyph draws rune r at size (pixels per em); xf maps glyph space (origin on the baseline,
// y down, as sfnt returns it) to image space. Runes the font lacks are skipped.
func glyph(f *sfnt.Font, buf *sfnt.Buffer, r rune, size float64, xf func(x, y, adv float64) (float64, float64),
	fill func(func(*vector.Rasterizer))) error {
	gi, err := f.GlyphIndex(buf, r)
	if err != nil {
		return fmt.Errorf("ses: seal picture glyph %q: %w", r, err)
	}
	if gi == 0 {
		return nil
	}
	ppem := fixed.Int26_6(size * 64)
	segs, err := f.LoadGlyph(buf, gi, ppem, nil)
	if err != nil {
		return fmt.Errorf("ses: seal picture glyph %q: %w", r, err)
	}
	adv := advance(f, buf, r, size)
	pt := func(p fixed.Point26_6) (float32, float32) {
		x, y := xf(float64(p.X)/64, float64(p.Y)/64, adv)
		return float32(x), float32(y)
	}
	fill(func(z *vector.Rasterizer) {
		for _, s := range segs {
			switch s.Op {
			case sfnt.SegmentOpMoveTo:
				z.ClosePath()
				x, y := pt(s.Args[0])
				z.MoveTo(x, y)
			case sfnt.SegmentOpLineTo:
				x, y := pt(s.Args[0])
				z.LineTo(x, y)
			case sfnt.SegmentOpQuadTo:
				x1, y1 := pt(s.Args[0])
				x2, y2 := pt(s.Args[1])
				z.QuadTo(x1, y1, x2, y2)
			case sfnt.SegmentOpCubeTo:
				x1, y1 := pt(s.Args[0])
				x2, y2 := pt(s.Args[1])
				x3, y3 := pt(s.Args[2])
				z.CubeTo(x1, y1, x2, y2, x3, y3)
			}
		}
		z.ClosePath()
	})
	return nil
}
