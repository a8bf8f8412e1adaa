package ofd

import (
	"image"
	"image/color"
	"image/draw"
	"math"

	"github.com/srwiley/scanx"
	"github.com/tdewolff/canvas"
	"github.com/tdewolff/canvas/renderers/rasterizer"
)

// target is where drawing goes: a canvas renderer (the rasterizer for previews, the PDF writer
// for export) plus what canvas leaves out: clipping. Clip paths are kept in canvas
// coordinates; paths are intersected with them geometrically and images are masked, so both
// renderers get the same clipped result.
type target struct {
	r        canvas.Renderer
	gradView canvas.Matrix // canvas mm → the coordinates the renderer evaluates gradients in
	raster   bool
	dpmm     float64 // raster resolution, for stroke flattening tolerance
	// img is the raster itself (raster targets): images are composited into it directly
	// (rasterImage), with conversions and reductions kept in cache.
	img       *image.RGBA
	cache     *imageCache
	scanner   *scanx.Scanner
	clipMasks map[*clip]*coverage
}

// maxExtent bounds the size of anything drawn, in canvas millimetres, and maxDashes the dashes
// of one stroke: hostile files must not make flattening or dashing run for hours.
const (
	maxExtent = 10000
	maxDashes = 100000
)

// clip is a clip region in canvas coordinates: the intersection of its regions. Raster
// targets turn the regions into coverage masks and multiply them (exact whatever the shapes);
// vector targets intersect them geometrically once (path), as PDF has no mask for this.
type clip struct {
	regions []*canvas.Path
	bounds  canvas.Rect
	rect    bool // a single region that is exactly bounds (fast containment tests)

	and *canvas.Path // the intersection of regions, computed on first use
}

func newRectClip(r canvas.Rect) *clip {
	return &clip{regions: []*canvas.Path{canvas.Rectangle(r.W(), r.H()).Translate(r.X0, r.Y0)}, bounds: r, rect: true}
}

func newPathClip(p *canvas.Path) *clip {
	p = closeSubpaths(p)
	b := p.FastBounds()
	if isRectPath(p, b) {
		return newRectClip(b)
	}
	return &clip{regions: []*canvas.Path{p}, bounds: b}
}

// path returns the clip as one path (vector targets).
func (c *clip) path() *canvas.Path {
	if c.and == nil {
		c.and = c.regions[0]
		for _, r := range c.regions[1:] {
			c.and = c.and.And(r)
		}
	}
	return c.and
}

// isRectPath reports whether p is one axis-aligned rectangle (most clips in converted
// documents are), so containment tests can replace path intersection.
func isRectPath(p *canvas.Path, b canvas.Rect) bool {
	const eps = 1e-6
	on := func(v, a, c float64) bool { return math.Abs(v-a) < eps || math.Abs(v-c) < eps }
	sc := p.Scanner()
	moves := 0
	n := 0
	for sc.Scan() {
		switch sc.Cmd() {
		case canvas.MoveToCmd:
			moves++
		case canvas.LineToCmd, canvas.CloseCmd:
		default:
			return false
		}
		e := sc.End()
		if !on(e.X, b.X0, b.X1) || !on(e.Y, b.Y0, b.Y1) {
			return false
		}
		n++
	}
	return moves == 1 && n >= 4 && n <= 6
}

// intersect returns the region inside both c and o.
func (c *clip) intersect(o *clip) *clip {
	if c == nil {
		return o
	}
	if o == nil {
		return c
	}
	if c.rect && o.rect {
		b := c.bounds.And(o.bounds)
		return newRectClip(b)
	}
	if c.rect && rectContains(c.bounds, o.bounds) {
		return o
	}
	if o.rect && rectContains(o.bounds, c.bounds) {
		return c
	}
	regions := append(append([]*canvas.Path{}, c.regions...), o.regions...)
	return &clip{regions: regions, bounds: c.bounds.And(o.bounds)}
}

func rectContains(a, b canvas.Rect) bool {
	const eps = 1e-6
	return b.X0 >= a.X0-eps && b.Y0 >= a.Y0-eps && b.X1 <= a.X1+eps && b.Y1 <= a.Y1+eps
}

func rectOverlaps(a, b canvas.Rect) bool {
	return a.X0 < b.X1 && b.X0 < a.X1 && a.Y0 < b.Y1 && b.Y0 < a.Y1
}

// path draws p (in the space m maps to canvas coordinates) with style, inside cl.
func (t *target) path(p *canvas.Path, style canvas.Style, m canvas.Matrix, cl *clip) {
	if p.Empty() {
		return
	}
	b := p.FastBounds().Transform(m)
	if b.W() > maxExtent || b.H() > maxExtent || math.IsNaN(b.W()) || math.IsNaN(b.H()) {
		// Nothing real is 10 m wide; flattening or dashing such a path could take forever.
		return
	}
	if style.IsDashed() && style.StrokeWidth > 0 {
		period := 0.0
		for _, d := range style.Dashes {
			period += d
		}
		if period <= 0 || (b.W()+b.H())*4/(period*math.Max(1e-9, sqrtAbsDet(m))) > maxDashes {
			style.Dashes = nil // too many dashes to draw: a solid line shows the same shape
		}
	}
	if style.IsDashed() && style.StrokeWidth > 0 {
		// canvas takes dash lengths in units of the line width.
		style.Dashes = scaled(style.Dashes, 1/style.StrokeWidth)
		style.DashOffset /= style.StrokeWidth
		if !validDashes(style.Dashes) {
			style.Dashes = nil
		}
	}
	plain := cl == nil
	if !plain {
		if style.HasStroke() {
			w := style.StrokeWidth * math.Sqrt(math.Abs(m.Det()))
			b = canvas.Rect{X0: b.X0 - w, Y0: b.Y0 - w, X1: b.X1 + w, Y1: b.Y1 + w}
		}
		if !rectOverlaps(b, cl.bounds) {
			return
		}
		plain = cl.rect && rectContains(cl.bounds, b)
	}
	if t.raster {
		if plain {
			cl = nil
		}
		t.rasterPath(p, style, m, cl)
		return
	}
	if style.HasFill() && manyStops(style.Fill) {
		f := closeSubpaths(p.Copy().Transform(m))
		if !plain {
			f = f.And(cl.path())
		}
		t.bandedFill(f, style.FillRule, style.Fill.Gradient)
		style.Fill = canvas.Paint{}
	}
	if style.HasStroke() && manyStops(style.Stroke) {
		style.Stroke = canvas.Paint{Color: firstStop(style.Stroke.Gradient)}
	}
	if plain {
		t.r.RenderPath(p, style, m)
		return
	}
	if style.HasFill() {
		f := closeSubpaths(p.Copy().Transform(m))
		f = f.And(cl.path())
		fs := canvas.Style{Fill: style.Fill, FillRule: style.FillRule}
		t.r.RenderPath(f, fs, canvas.Identity)
	}
	if style.HasStroke() {
		sp := p
		if style.IsDashed() {
			sp = sp.Dash(style.DashOffset*style.StrokeWidth, scaled(style.Dashes, style.StrokeWidth)...)
		}
		tol := canvas.Tolerance
		if t.dpmm > 0 {
			tol = canvas.PixelTolerance / t.dpmm / math.Max(1e-6, math.Sqrt(math.Abs(m.Det())))
		}
		sp = sp.Stroke(style.StrokeWidth, style.StrokeCapper, style.StrokeJoiner, tol).Transform(m).And(cl.path())
		t.r.RenderPath(sp, canvas.Style{Fill: style.Stroke, FillRule: canvas.NonZero}, canvas.Identity)
	}
}

func validDashes(d []float64) bool {
	sum := 0.0
	for _, v := range d {
		if v < 0 || math.IsNaN(v) || math.IsInf(v, 0) {
			return false
		}
		sum += v
	}
	return sum > 1e-3 && len(d) < 64
}

func scaled(d []float64, s float64) []float64 {
	out := make([]float64, len(d))
	for i, v := range d {
		out[i] = v * s
	}
	return out
}

// image draws img with m mapping image pixel space (y up, as canvas has it) to canvas
// coordinates, inside cl, with alpha a (0..1).
func (t *target) image(img image.Image, m canvas.Matrix, cl *clip, a float64) {
	sz := img.Bounds().Size()
	if sz.X <= 0 || sz.Y <= 0 {
		return
	}
	if cl != nil {
		b := canvas.Rect{X0: 0, Y0: 0, X1: float64(sz.X), Y1: float64(sz.Y)}.Transform(m)
		if !rectOverlaps(b, cl.bounds) {
			return
		}
		if cl.rect && rectContains(cl.bounds, b) {
			cl = nil
		}
	}
	if t.raster {
		t.rasterImage(img, m, cl, a)
		return
	}
	if cl == nil && a >= 1 {
		t.r.RenderImage(img, m)
		return
	}
	// Mask a copy: pixels outside the clip get alpha 0, the rest is scaled by a.
	dst := image.NewRGBA(image.Rect(0, 0, sz.X, sz.Y))
	draw.Draw(dst, dst.Bounds(), img, img.Bounds().Min, draw.Src)
	var mask *image.RGBA
	if cl != nil {
		mask = image.NewRGBA(dst.Bounds())
		ras := rasterizer.FromImage(mask, canvas.DPMM(1), canvas.DefaultColorSpace)
		ras.RenderPath(cl.path(), canvas.Style{Fill: canvas.Paint{Color: color.RGBA{0, 0, 0, 255}}}, m.Inv())
	}
	for i := 0; i < len(dst.Pix); i += 4 {
		f := a
		if mask != nil {
			f *= float64(mask.Pix[i+3]) / 255
		}
		if f >= 1 {
			continue
		}
		for k := 0; k < 4; k++ {
			dst.Pix[i+k] = uint8(float64(dst.Pix[i+k])*f + 0.5)
		}
	}
	t.r.RenderImage(dst, m)
}

// canvas's PDF writer cannot write a gradient of more than two stops (it panics on the array
// of its stitching function), so vector targets draw such fills as bands, one two-stop
// gradient each (linear), or with the first and last stops only (radial).

func gradientStops(g canvas.Gradient) canvas.Stops {
	switch g := g.(type) {
	case *canvas.LinearGradient:
		return g.Stops
	case *canvas.RadialGradient:
		return g.Stops
	}
	return nil
}

func manyStops(p canvas.Paint) bool { return p.IsGradient() && len(gradientStops(p.Gradient)) > 2 }

func firstStop(g canvas.Gradient) color.RGBA {
	if st := gradientStops(g); len(st) > 0 {
		return st[0].Color
	}
	return color.RGBA{}
}

// bandedFill fills f (canvas coordinates) with gradient g of more than two stops.
func (t *target) bandedFill(f *canvas.Path, rule canvas.FillRule, g canvas.Gradient) {
	switch g := g.(type) {
	case *canvas.RadialGradient:
		r := *g
		r.Stops = canvas.Stops{g.Stops[0], g.Stops[len(g.Stops)-1]}
		t.r.RenderPath(f, canvas.Style{Fill: canvas.Paint{Gradient: &r}, FillRule: rule}, canvas.Identity)
	case *canvas.LinearGradient:
		d := g.End.Sub(g.Start)
		if d.Length() == 0 {
			return
		}
		b := f.FastBounds()
		big := 2 * (math.Hypot(b.W(), b.H()) + b.X1 - b.X0 + math.Abs(b.X0) + math.Abs(b.Y0) + 1)
		n := canvas.Point{X: -d.Y, Y: d.X}.Norm(big)
		u := d.Norm(1)
		for i := 0; i+1 < len(g.Stops); i++ {
			s0, s1 := g.Stops[i], g.Stops[i+1]
			if s1.Offset <= s0.Offset {
				continue
			}
			a, c := g.Start.Add(d.Mul(s0.Offset)), g.Start.Add(d.Mul(s1.Offset))
			if i == 0 {
				a = a.Sub(u.Mul(big))
			}
			if i+2 == len(g.Stops) {
				c = c.Add(u.Mul(big))
			}
			band := &canvas.Path{}
			band.MoveTo(a.X+n.X, a.Y+n.Y)
			band.LineTo(c.X+n.X, c.Y+n.Y)
			band.LineTo(c.X-n.X, c.Y-n.Y)
			band.LineTo(a.X-n.X, a.Y-n.Y)
			band.Close()
			lg := canvas.NewLinearGradient(g.Start.Add(d.Mul(s0.Offset)), g.Start.Add(d.Mul(s1.Offset)))
			lg.Stops = canvas.Stops{{Offset: 0, Color: s0.Color}, {Offset: 1, Color: s1.Color}}
			part := f
			if rule == canvas.EvenOdd {
				part = part.Settle(canvas.EvenOdd)
			}
			t.r.RenderPath(part.And(band), canvas.Style{Fill: canvas.Paint{Gradient: lg}}, canvas.Identity)
		}
	}
}

// closeSubpaths returns p with every subpath closed: a fill closes open subpaths implicitly,
// but canvas's path intersection (vector clipping) goes wrong on open ones (real clip areas
// often end without "C").
func closeSubpaths(p *canvas.Path) *canvas.Path {
	out := &canvas.Path{}
	open := false
	for s := p.Scanner(); s.Scan(); {
		e := s.End()
		switch s.Cmd() {
		case canvas.MoveToCmd:
			if open {
				out.Close()
			}
			out.MoveTo(e.X, e.Y)
			open = true
		case canvas.LineToCmd:
			out.LineTo(e.X, e.Y)
		case canvas.QuadToCmd:
			c := s.CP1()
			out.QuadTo(c.X, c.Y, e.X, e.Y)
		case canvas.CubeToCmd:
			c1, c2 := s.CP1(), s.CP2()
			out.CubeTo(c1.X, c1.Y, c2.X, c2.Y, e.X, e.Y)
		case canvas.ArcToCmd:
			rx, ry, rot, large, sweep := s.Arc()
			out.ArcTo(rx, ry, rot, large, sweep, e.X, e.Y)
		case canvas.CloseCmd:
			out.Close()
			open = false
		}
	}
	if open {
		out.Close()
	}
	return out
}
