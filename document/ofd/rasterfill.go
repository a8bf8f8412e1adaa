package ofd

import (
	"image"
	"image/color"
	"math"

	"github.com/srwiley/scanx"
	"github.com/tdewolff/canvas"
	"golang.org/x/image/math/fixed"
)

// Raster targets fill every path as a coverage mask (scanx, the scanner canvas's rasterizer
// uses, with the fill rule of the path) composited through the clip's coverage: even-odd
// fills and clips need no geometric path operations, which canvas gets wrong on the complex
// outlines of real documents (a national emblem came out as streaks).

// coverage is an 8-bit mask over a device rectangle.
type coverage struct {
	r   image.Rectangle
	pix []uint8
}

func (c *coverage) at(x, y int) uint8 {
	if !(image.Point{x, y}).In(c.r) {
		return 0
	}
	return c.pix[(y-c.r.Min.Y)*c.r.Dx()+x-c.r.Min.X]
}

type maskSpanner struct{ c *coverage }

func (maskSpanner) SetColor(interface{}) {}

func (m maskSpanner) GetSpanFunc() scanx.SpanFunc {
	w := m.c.r.Dx()
	return func(y, x0, x1 int, alpha uint32) {
		row := m.c.pix[y*w:]
		a := uint8(alpha >> 8)
		for x := x0; x < x1; x++ {
			row[x] = a
		}
	}
}

// scan returns the coverage of path p (canvas millimetres) over device rectangle r.
func (t *target) scan(p *canvas.Path, evenOdd bool, r image.Rectangle) *coverage {
	c := &coverage{r: r, pix: make([]uint8, r.Dx()*r.Dy())}
	if t.scanner == nil {
		t.scanner = scanx.NewScanner(nil, 0, 0)
	}
	sc := t.scanner
	*sc = *scanx.NewScanner(maskSpanner{c}, r.Dx(), r.Dy())
	sc.UseNonZeroWinding = !evenOdd
	dpmm, hp := t.dpmm, float64(t.img.Rect.Dy())
	ox, oy := float64(r.Min.X), float64(r.Min.Y)
	pt := func(q canvas.Point) fixed.Point26_6 {
		return fixed.Point26_6{X: fixed.Int26_6((q.X*dpmm - ox) * 64), Y: fixed.Int26_6((hp - q.Y*dpmm - oy) * 64)}
	}
	// Every subpath is closed: fills of open subpaths are implicitly closed (PDF and OFD alike),
	// and the scanner would otherwise carry their winding along the rest of the row.
	var start, cur canvas.Point
	open := false
	tol := canvas.PixelTolerance / dpmm
	line := func(q canvas.Point) {
		if !open {
			sc.Start(pt(start))
			open = true
		}
		sc.Line(pt(q))
	}
	for s := p.Scanner(); s.Scan(); {
		e := s.End()
		switch s.Cmd() {
		case canvas.MoveToCmd:
			if open && cur != start {
				sc.Line(pt(start))
			}
			sc.Start(pt(e))
			start, open = e, true
		case canvas.CloseCmd:
			sc.Line(pt(start))
			open = false
		case canvas.LineToCmd:
			line(e)
		case canvas.QuadToCmd:
			c := s.CP1()
			n := segments(cur.Sub(c).Length()+c.Sub(e).Length(), tol)
			for k := 1; k <= n; k++ {
				u := float64(k) / float64(n)
				v := 1 - u
				line(canvas.Point{X: v*v*cur.X + 2*u*v*c.X + u*u*e.X, Y: v*v*cur.Y + 2*u*v*c.Y + u*u*e.Y})
			}
		case canvas.CubeToCmd:
			c1, c2 := s.CP1(), s.CP2()
			n := segments(cur.Sub(c1).Length()+c1.Sub(c2).Length()+c2.Sub(e).Length(), tol)
			for k := 1; k <= n; k++ {
				u := float64(k) / float64(n)
				v := 1 - u
				line(canvas.Point{X: v*v*v*cur.X + 3*u*v*v*c1.X + 3*u*u*v*c2.X + u*u*u*e.X,
					Y: v*v*v*cur.Y + 3*u*v*v*c1.Y + 3*u*u*v*c2.Y + u*u*u*e.Y})
			}
		case canvas.ArcToCmd:
			rx, ry, rot, large, sweep := s.Arc()
			a := &canvas.Path{}
			a.MoveTo(cur.X, cur.Y)
			a.ArcTo(rx, ry, rot, large, sweep, e.X, e.Y)
			for as := a.Flatten(tol).Scanner(); as.Scan(); {
				if as.Cmd() != canvas.MoveToCmd {
					line(as.End())
				}
			}
		}
		cur = e
	}
	if open && cur != start {
		sc.Line(pt(start))
	}
	sc.Draw()
	return c
}

// device returns the device pixels of canvas rectangle b.
func (t *target) device(b canvas.Rect) image.Rectangle {
	hp := float64(t.img.Rect.Dy())
	return image.Rect(int(math.Floor(b.X0*t.dpmm)), int(math.Floor(hp-b.Y1*t.dpmm)),
		int(math.Ceil(b.X1*t.dpmm)), int(math.Ceil(hp-b.Y0*t.dpmm))).Intersect(t.img.Rect)
}

// clipCoverage returns the coverage of cl over r, at least. A clip used by more than one
// object is rasterized once over its whole extent.
func (t *target) clipCoverage(cl *clip, r image.Rectangle) *coverage {
	if m, ok := t.clipMasks[cl]; ok {
		if m != nil && r.In(m.r) {
			return m
		}
		// second use: cover the whole clip once
		r = t.device(cl.bounds)
	} else {
		if t.clipMasks == nil {
			t.clipMasks = map[*clip]*coverage{}
		}
		t.clipMasks[cl] = nil
	}
	var c *coverage
	for _, reg := range cl.regions {
		m := t.scan(reg, false, r)
		if c == nil {
			c = m
			continue
		}
		for i := range c.pix {
			c.pix[i] = uint8((uint16(c.pix[i])*uint16(m.pix[i]) + 127) / 255)
		}
	}
	if t.clipMasks[cl] == nil && r == t.device(cl.bounds) {
		t.clipMasks[cl] = c
	}
	return c
}

// rasterPath fills and strokes p (m maps it to canvas millimetres) inside cl (nil = no clip).
func (t *target) rasterPath(p *canvas.Path, style canvas.Style, m canvas.Matrix, cl *clip) {
	if style.HasFill() {
		t.fill(p.Copy().Transform(m), style.FillRule == canvas.EvenOdd, style.Fill, cl)
	}
	if style.HasStroke() {
		sp := p
		if style.IsDashed() {
			sp = sp.Dash(style.DashOffset*style.StrokeWidth, scaled(style.Dashes, style.StrokeWidth)...)
		}
		tol := canvas.PixelTolerance / t.dpmm / math.Max(1e-6, math.Sqrt(math.Abs(m.Det())))
		sp = sp.Stroke(style.StrokeWidth, style.StrokeCapper, style.StrokeJoiner, tol).Transform(m)
		t.fill(sp, false, style.Stroke, cl)
	}
}

// fill composites paint through the coverage of p (canvas millimetres) and of cl.
func (t *target) fill(p *canvas.Path, evenOdd bool, paint canvas.Paint, cl *clip) {
	if p.Empty() || (!paint.IsColor() && !paint.IsGradient()) {
		return
	}
	r := t.device(p.FastBounds())
	if cl != nil {
		r = r.Intersect(t.device(cl.bounds))
	}
	if r.Empty() {
		return
	}
	cov := t.scan(p, evenOdd, r)
	var cm *coverage
	if cl != nil {
		cm = t.clipCoverage(cl, r)
	}
	solid := paint.IsColor()
	col := paint.Color
	if solid && col.A == 0 {
		return
	}
	w := r.Dx()
	for y := r.Min.Y; y < r.Max.Y; y++ {
		crow := cov.pix[(y-r.Min.Y)*w : (y-r.Min.Y+1)*w]
		out := t.img.Pix[(y-t.img.Rect.Min.Y)*t.img.Stride+(r.Min.X-t.img.Rect.Min.X)*4:]
		for i, a := range crow {
			if a == 0 {
				continue
			}
			k := uint32(a)
			if cm != nil {
				k = k * uint32(cm.at(r.Min.X+i, y)) / 255
				if k == 0 {
					continue
				}
			}
			c := col
			if !solid {
				c = paint.Gradient.At(float64(r.Min.X+i), float64(y))
			}
			blend(out[i*4:i*4+4:i*4+4], c, k)
		}
	}
}

// blend composites premultiplied colour c with coverage k (0..255) over pixel o.
func blend(o []uint8, c color.RGBA, k uint32) {
	sr, sg, sb, sa := uint32(c.R)*k, uint32(c.G)*k, uint32(c.B)*k, uint32(c.A)*k // ×255
	keep := 255*255 - sa
	o[0] = uint8((sr*255 + uint32(o[0])*keep + 255*255/2) / (255 * 255))
	o[1] = uint8((sg*255 + uint32(o[1])*keep + 255*255/2) / (255 * 255))
	o[2] = uint8((sb*255 + uint32(o[2])*keep + 255*255/2) / (255 * 255))
	o[3] = uint8((sa*255 + uint32(o[3])*keep + 255*255/2) / (255 * 255))
}

// segments is how many straight pieces approximate a curve whose control polygon is l long
// within tolerance tol (the curve is never longer than its polygon).
func segments(l, tol float64) int {
	n := int(math.Ceil(math.Sqrt(l / (8 * tol))))
	return min(max(n, 1), 256)
}
