package ofd

import (
	"image/color"
	"math"

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
func (d *drawer) paint(c *Color, res *Resources, a float64, cm canvas.Matrix) (canvas.Paint, bool) {
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
		g := canvas.NewRadialGradient(cm.Dot(s), parseFloat(rd.Attr("StartRadius"), 0)*scale, cm.Dot(e), parseFloat(rd.Attr("EndRadius"), 0)*scale)
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
