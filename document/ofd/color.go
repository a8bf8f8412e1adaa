package ofd

import (
	"image/color"
	"math"
	"strings"

	"github.com/tdewolff/canvas"
)

// rgba converts a CT_Color to a premultiplied colour (canvas colours are premultiplied),
// applying the colour's own Alpha and the inherited alpha a (0..1). ok is false when c has no
// usable value (a shading or pattern colour; see paint).
func (d *drawer) rgba(c *Color, res *Resources, a float64) (color.RGBA, bool) {
	if c == nil {
		return color.RGBA{}, false
	}
	vals := c.Value
	csID := c.ColorSpace
	if csID == 0 {
		csID = d.rd.Doc.DefaultCS
	}
	cs := res.ColorSpace(csID)
	typ, bpc := "", 8
	if cs != nil {
		typ, bpc = cs.Type, cs.BPC
		if c.Index >= 0 && c.Index < len(cs.Palette) {
			vals = cs.Palette[c.Index]
		}
	}
	if len(vals) == 0 {
		return color.RGBA{}, false
	}
	maxV := math.Pow(2, float64(max(1, min(bpc, 16)))) - 1
	n := func(i int) float64 {
		if i >= len(vals) {
			return 0
		}
		return clamp(vals[i]/maxV, 0, 1)
	}
	if typ == "" {
		switch len(vals) {
		case 1:
			typ = "GRAY"
		case 4:
			typ = "CMYK"
		default:
			typ = "RGB"
		}
	}
	var r, g, b float64
	switch typ {
	case "GRAY":
		r, g, b = n(0), n(0), n(0)
	case "CMYK":
		k := n(3)
		r, g, b = (1-n(0))*(1-k), (1-n(1))*(1-k), (1-n(2))*(1-k)
	default:
		r, g, b = n(0), n(1), n(2)
	}
	al := clamp(c.Alpha/255*a, 0, 1)
	return color.RGBA{uint8(r*al*255 + 0.5), uint8(g*al*255 + 0.5), uint8(b*al*255 + 0.5), uint8(al*255 + 0.5)}, true
}

// paint turns a CT_Color into a canvas paint: a plain colour, or an axial/radial gradient in
// the coordinates the target expects (cm maps the object's space to canvas millimetres).
// Patterns and Gouraud shadings are not drawn (ok false).
//
// area is the bounds of what is painted, in object space: Repeat and Reflect shadings continue
// their cycles over all of it.
func (d *drawer) paint(c *Color, res *Resources, a float64, cm canvas.Matrix, area canvas.Rect) (canvas.Paint, bool) {
	if c == nil {
		return canvas.Paint{}, false
	}
	// A shading or pattern child rules over Value, which producers also write as a fallback.
	if c.Node == nil || (c.Node.Child("AxialShd") == nil && c.Node.Child("RadialShd") == nil && c.Node.Child("Pattern") == nil) {
		if col, ok := d.rgba(c, res, a); ok {
			return canvas.Paint{Color: col}, true
		}
		return canvas.Paint{}, false
	}
	if d.t == nil {
		return canvas.Paint{}, false
	}
	if ax := c.Node.Child("AxialShd"); ax != nil {
		s, ok1 := parsePos(ax.Attr("StartPoint"))
		e, ok2 := parsePos(ax.Attr("EndPoint"))
		stops := d.stops(ax, res, a)
		if !ok1 || !ok2 || len(stops) == 0 {
			return canvas.Paint{}, false
		}
		if cyc, ok := cycles(ax); ok && e != s {
			// The cycles run from StartPoint along the axis over the whole painted area.
			dir := e.Sub(s)
			l2 := dir.Dot(dir)
			t0, t1 := math.Inf(1), math.Inf(-1)
			for _, q := range corners(area) {
				t := q.Sub(s).Dot(dir) / l2
				t0, t1 = math.Min(t0, t), math.Max(t1, t)
			}
			if t1 > t0 {
				l := math.Sqrt(l2)
				if st, ok := cyc.lay(stops, t0*l, t1*l); ok {
					stops = st
					s, e = s.Add(dir.Mul(t0)), s.Add(dir.Mul(t1))
				}
			}
		}
		g := canvas.NewLinearGradient(cm.Dot(s), cm.Dot(e))
		g.Stops = stops
		return canvas.Paint{Gradient: g.SetView(d.t.gradView)}, true
	}
	if rd := c.Node.Child("RadialShd"); rd != nil {
		s, ok1 := parsePos(rd.Attr("StartPoint"))
		e, ok2 := parsePos(rd.Attr("EndPoint"))
		stops := d.stops(rd, res, a)
		if !ok1 || !ok2 || len(stops) == 0 {
			return canvas.Paint{}, false
		}
		scale := math.Sqrt(math.Abs(cm.Det()))
		r0, r1 := parseFloat(rd.Attr("StartRadius"), 0), parseFloat(rd.Attr("EndRadius"), 0)
		if cyc, ok := cycles(rd); ok && s == e && r1 > r0 {
			// Concentric circles: the cycles run outwards from StartRadius to the farthest
			// corner of the painted area.
			far := 0.0
			for _, q := range corners(area) {
				far = math.Max(far, q.Sub(s).Length())
			}
			if far > r0 {
				if st, ok := cyc.lay(stops, 0, far-r0); ok {
					stops, r1 = st, far
				}
			}
		}
		g := canvas.NewRadialGradient(cm.Dot(s), r0*scale, cm.Dot(e), r1*scale)
		g.Stops = stops
		return canvas.Paint{Gradient: g.SetView(d.t.gradView)}, true
	}
	return canvas.Paint{}, false
}

func (d *drawer) stops(shd *Node, res *Resources, a float64) canvas.Stops {
	segs := shd.All("Segment")
	var st canvas.Stops
	for i, s := range segs {
		pos := float64(i) / math.Max(1, float64(len(segs)-1))
		if s.HasAttr("Position") {
			pos = parseFloat(s.Attr("Position"), pos)
		}
		col, ok := d.rgba(ParseColor(s.Child("Color")), res, a)
		if !ok {
			continue
		}
		st.Add(pos, col)
	}
	return st
}

func parsePos(s string) (canvas.Point, bool) {
	v, err := ParseFloats(s)
	if err != nil || len(v) != 2 {
		return canvas.Point{}, false
	}
	return canvas.Point{X: v[0], Y: v[1]}, true
}

// maxShadingCycles bounds the repetitions MapType Repeat/Reflect expand into stops.
const maxShadingCycles = 1000

// shadingCycles is a shading's MapType Repeat or Reflect with its MapUnit: the segments span
// one MapUnit (object units) and repeat, or alternate direction, along the shading.
type shadingCycles struct {
	unit    float64
	reflect bool
}

func cycles(shd *Node) (shadingCycles, bool) {
	mt := strings.ToLower(shd.Attr("MapType"))
	unit := parseFloat(shd.Attr("MapUnit"), 0)
	if (mt != "repeat" && mt != "reflect") || unit <= 0 {
		return shadingCycles{}, false
	}
	return shadingCycles{unit, mt == "reflect"}, true
}

func corners(r canvas.Rect) [4]canvas.Point {
	return [4]canvas.Point{{X: r.X0, Y: r.Y0}, {X: r.X1, Y: r.Y0}, {X: r.X0, Y: r.Y1}, {X: r.X1, Y: r.Y1}}
}

// lay lays the stops of one cycle out over [d0, d1] (distance from the shading's start, in
// object units) as stops over [0, 1].
func (c shadingCycles) lay(stops canvas.Stops, d0, d1 float64) (canvas.Stops, bool) {
	u0, u1 := d0/c.unit, d1/c.unit
	if len(stops) < 2 || u1-u0 > maxShadingCycles || u1 <= u0 {
		return nil, false
	}
	at := func(u float64) color.RGBA { // colour at cycle position u
		k := math.Floor(u)
		q := u - k
		if c.reflect && int64(k)%2 != 0 {
			q = 1 - q
		}
		return stops.At(q)
	}
	pos := func(u float64) float64 { return (u - u0) / (u1 - u0) }
	out := canvas.Stops{{Offset: 0, Color: at(u0)}}
	// appended, not Add-ed: Add replaces a stop at an equal offset, and Repeat's cycles meet
	// at equal offsets (a hard edge)
	for k := math.Floor(u0); k < u1; k++ {
		rev := c.reflect && int64(k)%2 != 0
		for i := range stops {
			st := stops[i]
			q := st.Offset
			if rev {
				st = stops[len(stops)-1-i]
				q = 1 - st.Offset
			}
			if u := k + q; u > u0 && u < u1 {
				out = append(out, canvas.Stop{Offset: pos(u), Color: st.Color})
			}
		}
	}
	return append(out, canvas.Stop{Offset: 1, Color: at(u1)}), true
}
