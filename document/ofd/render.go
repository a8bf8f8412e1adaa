package ofd

import (
	"context"
	"fmt"
	"image"
	"image/color"
	"math"
	"strings"

	"github.com/tdewolff/canvas"
	"github.com/tdewolff/canvas/renderers/rasterizer"
)

// RenderOptions tune drawing. The zero value draws everything a reader shows: page content,
// templates, annotations and the seal pictures of signatures, with system fonts allowed as
// substitutes for fonts the file names but does not embed.
type RenderOptions struct {
	NoStamps      bool // leave out the seal pictures of signatures
	NoAnnotations bool
	// BundledFontsOnly ignores system fonts and uses the bundled CJK font for every font that
	// is not embedded, so output is the same on every machine (golden tests).
	BundledFontsOnly bool
}

// MaxPixels bounds a raster render (width × height): 64 Mpx is an A4 page at about 1000 dpi.
const MaxPixels = 64 << 20

// maxNesting bounds nested page blocks and composite units (each is a recursion).
const maxNesting = 64

type drawer struct {
	ctx   context.Context
	rd    *Reader
	t     *target // nil when only collecting text
	base  canvas.Matrix
	opts  RenderOptions
	fonts *fonts
	text  *[]Glyph // where glyphs go, nil when not collecting
	nest  int      // 0 = the document itself, 1 = a seal picture drawn inside it
	clip0 *clip    // clip of the whole page (a stamp's Clip for a seal picture)
	depth int
	err   error
}

// gparams are the effective drawing parameters (DrawParam inheritance resolved).
type gparams struct {
	lineWidth  float64
	join, cap  string
	dashOffset float64
	dash       []float64
	miter      float64
	fill       *Color
	stroke     *Color
}

func defaultParams() gparams { return gparams{lineWidth: 0.353, miter: 4.234} }

type state struct {
	pm    canvas.Matrix // object space → page millimetres (y down)
	clip  *clip         // canvas coordinates; nil = none
	alpha float64
	gp    gparams
	res   *Resources
}

func (d *drawer) applyDP(g *gparams, res *Resources, id ID, depth int) {
	if id == 0 || depth > 16 {
		return
	}
	dp := res.DrawParam(id)
	if dp == nil {
		return
	}
	if dp.Relative != 0 && dp.Relative != id {
		d.applyDP(g, res, dp.Relative, depth+1)
	}
	if dp.LineWidth != nil {
		g.lineWidth = *dp.LineWidth
	}
	if dp.Join != "" {
		g.join = dp.Join
	}
	if dp.Cap != "" {
		g.cap = dp.Cap
	}
	if dp.DashOffset != nil {
		g.dashOffset = *dp.DashOffset
	}
	if dp.DashPattern != nil {
		g.dash = dp.DashPattern
	}
	if dp.MiterLimit != nil {
		g.miter = *dp.MiterLimit
	}
	if dp.FillColor != nil {
		g.fill = dp.FillColor
	}
	if dp.StrokeColor != nil {
		g.stroke = dp.StrokeColor
	}
}

func parseCTM(s string) (canvas.Matrix, bool) {
	v, err := ParseFloats(s)
	if err != nil || len(v) != 6 {
		return canvas.Identity, false
	}
	return canvas.Matrix{{v[0], v[2], v[4]}, {v[1], v[3], v[5]}}, true
}

func (d *drawer) cancelled() bool {
	if d.err != nil {
		return true
	}
	if err := d.ctx.Err(); err != nil {
		d.err = err
		return true
	}
	return false
}

// drawPage draws page i: templates and layers in paint order, then annotations, then the seal
// pictures of signatures.
func (d *drawer) drawPage(i int) error {
	pg, err := d.rd.Page(i)
	if err != nil {
		return err
	}
	st := state{pm: canvas.Identity, alpha: 1, res: d.rd.Resources(pg), clip: d.clip0}
	type tpl struct {
		pg *Page
		z  string
	}
	var tpls []tpl
	for _, ref := range pg.Templates {
		tp, tr, err := d.rd.Template(ref.TemplateID)
		if err != nil {
			continue // a missing template leaves its part of the page blank
		}
		z := ref.ZOrder
		if z == "" {
			z = tr.ZOrder
		}
		tpls = append(tpls, tpl{tp, z})
	}
	drawLayers := func(p *Page, types ...string) {
		res := d.rd.Resources(p)
		for _, l := range p.Layers {
			if types != nil && !contains(types, l.Type) {
				continue
			}
			s := st
			s.res = res
			s.gp = defaultParams()
			d.applyDP(&s.gp, res, l.DrawParam, 0)
			d.block(l.Node.Children, s)
		}
	}
	for _, z := range []string{"Background", "Body", "Foreground"} {
		for _, t := range tpls {
			if strings.EqualFold(t.z, z) || (z == "Body" && !strings.EqualFold(t.z, "Background") && !strings.EqualFold(t.z, "Foreground")) {
				drawLayers(t.pg)
			}
		}
		switch z {
		case "Background":
			drawLayers(pg, "Background")
		case "Body":
			drawLayers(pg, "Body", "Custom", "")
		case "Foreground":
			drawLayers(pg, "Foreground")
		}
	}
	if d.err != nil {
		return d.err
	}
	if d.nest == 0 && !d.opts.NoAnnotations {
		annots, _ := d.rd.Annotations(pg.ID) // a broken annotation file hides annotations only
		for _, a := range annots {
			if !a.Visible || a.Appearance == nil {
				continue
			}
			s := st
			s.gp = defaultParams()
			s.pm = canvas.Identity.Translate(a.Boundary.X, a.Boundary.Y)
			d.block(a.Appearance.Children, s)
		}
	}
	if d.nest == 0 && !d.opts.NoStamps && d.t != nil {
		d.drawStamps(pg.ID)
	}
	return d.err
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if strings.EqualFold(v, s) {
			return true
		}
	}
	return false
}

// block draws page-block children (layer contents, PageBlock, composite units, appearances).
func (d *drawer) block(children []*Node, st state) {
	d.depth++
	defer func() { d.depth-- }()
	if d.depth > maxNesting {
		return
	}
	for _, n := range children {
		if d.cancelled() {
			return
		}
		switch n.Name {
		case "PageBlock":
			d.block(n.Children, st)
		case "TextObject", "PathObject", "ImageObject", "CompositeObject":
			s, ok := d.object(n, st)
			if !ok {
				continue
			}
			switch n.Name {
			case "TextObject":
				d.textObject(n, s)
			case "PathObject":
				d.pathObject(n, s)
			case "ImageObject":
				d.imageObject(n, s)
			case "CompositeObject":
				if u := s.res.Composite(parseID(n.Attr("ResourceID"))); u != nil && u.Content != nil {
					d.block(u.Content.Children, s)
				}
			}
		}
	}
}

// object applies a graphic unit's Boundary, CTM, Alpha, DrawParam, line attributes and Clips.
func (d *drawer) object(n *Node, st state) (state, bool) {
	if !parseBool(n.Attr("Visible"), true) {
		return st, false
	}
	b, _ := ParseBox(n.Attr("Boundary"))
	boxSpace := st.pm.Translate(b.X, b.Y)
	ctm, _ := parseCTM(n.Attr("CTM"))
	s := st
	s.pm = boxSpace.Mul(ctm)
	if n.HasAttr("Alpha") {
		s.alpha *= clamp(parseFloat(n.Attr("Alpha"), 255), 0, 255) / 255
	}
	d.applyDP(&s.gp, s.res, parseID(n.Attr("DrawParam")), 0)
	if n.HasAttr("LineWidth") {
		s.gp.lineWidth = parseFloat(n.Attr("LineWidth"), s.gp.lineWidth)
	}
	if v := n.Attr("Join"); v != "" {
		s.gp.join = v
	}
	if v := n.Attr("Cap"); v != "" {
		s.gp.cap = v
	}
	if n.HasAttr("DashOffset") {
		s.gp.dashOffset = parseFloat(n.Attr("DashOffset"), 0)
	}
	if n.HasAttr("DashPattern") {
		s.gp.dash, _ = ParseFloats(n.Attr("DashPattern"))
	}
	if n.HasAttr("MiterLimit") {
		s.gp.miter = parseFloat(n.Attr("MiterLimit"), s.gp.miter)
	}
	if d.t != nil {
		clips := n.Child("Clips")
		// TransFlag="true": the clip areas are in the object's own space, so its CTM applies to
		// them too (an image's clip is then its unit square); by default they are in the
		// Boundary's space.
		clipSpace := boxSpace
		if parseBool(clips.Attr("TransFlag"), false) {
			clipSpace = s.pm
		}
		for _, c := range clips.All("Clip") {
			var region *canvas.Path
			for _, a := range c.All("Area") {
				am, _ := parseCTM(a.Attr("CTM"))
				space := clipSpace.Mul(am)
				if p := a.Child("Path"); p != nil {
					pb, _ := ParseBox(p.Attr("Boundary"))
					pm, _ := parseCTM(p.Attr("CTM"))
					path, err := ParsePathData(p.ChildText("AbbreviatedData"))
					if err != nil && path.Empty() {
						continue
					}
					cp := path.Transform(d.base.Mul(space.Translate(pb.X, pb.Y).Mul(pm)))
					if cb := cp.FastBounds(); cb.W() > maxExtent || cb.H() > maxExtent || math.IsNaN(cb.W()) {
						continue
					}
					if region == nil {
						region = cp
					} else {
						region = region.Or(cp)
					}
				}
			}
			if region != nil {
				s.clip = s.clip.intersect(newPathClip(region))
			}
		}
	}
	return s, true
}

func capper(s string) canvas.Capper {
	switch s {
	case "Round":
		return canvas.RoundCap
	case "Square":
		return canvas.SquareCap
	}
	return canvas.ButtCap
}

func joiner(s string, miter float64) canvas.Joiner {
	switch s {
	case "Round":
		return canvas.RoundJoin
	case "Bevel":
		return canvas.BevelJoin
	}
	return canvas.MiterJoiner{GapJoiner: canvas.BevelJoin, Limit: math.Max(1, miter)}
}

func (d *drawer) pathObject(n *Node, s state) {
	if d.t == nil {
		return
	}
	p, err := ParsePathData(n.ChildText("AbbreviatedData"))
	if err != nil && p.Empty() {
		return
	}
	cm := d.base.Mul(s.pm)
	style := canvas.Style{FillRule: canvas.NonZero, StrokeWidth: s.gp.lineWidth, StrokeCapper: capper(s.gp.cap),
		StrokeJoiner: joiner(s.gp.join, s.gp.miter)}
	if strings.EqualFold(strings.ReplaceAll(n.Attr("Rule"), "-", ""), "EvenOdd") {
		style.FillRule = canvas.EvenOdd
	}
	if parseBool(n.Attr("Fill"), false) {
		c := ParseColor(n.Child("FillColor"))
		if c == nil {
			c = s.gp.fill
		}
		// No FillColor anywhere: the default fill is transparent (GB/T 33190 CT_Path), so
		// Fill="true" alone paints nothing.
		if c == nil {
		} else if pat := c.Node.Child("Pattern"); pat != nil {
			d.patternFill(p, pat, s)
		} else if pt, ok := d.paint(c, s.res, s.alpha, cm, p.FastBounds()); ok {
			style.Fill = pt
		}
	}
	if parseBool(n.Attr("Stroke"), true) {
		c := ParseColor(n.Child("StrokeColor"))
		if c == nil {
			c = s.gp.stroke
		}
		if c == nil {
			style.Stroke = canvas.Paint{Color: premul(0, 0, 0, s.alpha)}
		} else if pt, ok := d.paint(c, s.res, s.alpha, cm, p.FastBounds()); ok {
			style.Stroke = pt
		}
		if style.StrokeWidth <= 0 {
			// Zero width means the thinnest visible line, as in PDF: 0.1 mm on the page.
			style.StrokeWidth = 0.1 / math.Max(1e-9, math.Sqrt(math.Abs(s.pm.Det())))
		}
		if len(s.gp.dash) > 0 {
			style.Dashes = s.gp.dash
			style.DashOffset = s.gp.dashOffset
		}
	}
	d.t.path(p, style, cm, s.clip)
}

// premul returns opaque-colour (r, g, b in 0..1) premultiplied with alpha a.
func premul(r, g, b, a float64) color.RGBA {
	return color.RGBA{uint8(r*a*255 + 0.5), uint8(g*a*255 + 0.5), uint8(b*a*255 + 0.5), uint8(a*255 + 0.5)}
}

// newRaster returns an RGBA image of page box b at dpi, painted white, and its target.
func newRaster(b Box, dpi float64) (*image.RGBA, *target, canvas.Matrix, error) {
	if dpi <= 0 || dpi > 2400 {
		return nil, nil, canvas.Identity, fmt.Errorf("resolution %g dpi is out of range (1–2400)", dpi)
	}
	dpmm := dpi / 25.4
	w, h := int(math.Round(b.W*dpmm)), int(math.Round(b.H*dpmm))
	if w < 1 || h < 1 {
		return nil, nil, canvas.Identity, fmt.Errorf("page size %gx%g mm is empty at %g dpi", b.W, b.H, dpi)
	}
	if int64(w)*int64(h) > MaxPixels {
		return nil, nil, canvas.Identity, fmt.Errorf("page of %gx%g mm at %g dpi needs %dx%d pixels, more than the limit of %d", b.W, b.H, dpi, w, h, MaxPixels)
	}
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	// White paper: fill the first row, then double it (a copy is a memmove, draw.Draw's
	// uniform fill a loop).
	for i := range img.Pix[:w*4] {
		img.Pix[i] = 0xff
	}
	for n := w * 4; n < len(img.Pix); n *= 2 {
		copy(img.Pix[n:], img.Pix[:n])
	}
	ras := rasterizer.FromImage(img, canvas.DPMM(dpmm), canvas.DefaultColorSpace)
	hc := float64(h) / dpmm
	// The rasterizer evaluates gradients in pixel coordinates with y down.
	t := &target{r: ras, raster: true, dpmm: dpmm, gradView: canvas.Matrix{{dpmm, 0, 0}, {0, -dpmm, float64(h)}}, img: img}
	base := pageBase(b, hc)
	return img, t, base, nil
}

// pageBase maps page millimetres (y down, origin at the box's top-left) to canvas millimetres
// (y up) on a canvas hc high.
func pageBase(b Box, hc float64) canvas.Matrix {
	return canvas.Identity.Translate(0, hc).Scale(1, -1).Translate(-b.X, -b.Y)
}

// RenderPage draws page i (0-based) at dpi into a new image. opts may be nil.
func (r *Reader) RenderPage(ctx context.Context, i int, dpi float64, opts *RenderOptions) (*image.RGBA, error) {
	b, err := r.PageBox(i)
	if err != nil {
		return nil, err
	}
	img, t, base, err := newRaster(b, dpi)
	if err != nil {
		return nil, err
	}
	t.cache = &r.images
	d := r.newDrawer(ctx, t, base, opts)
	if err := d.drawPage(i); err != nil {
		return nil, err
	}
	return img, nil
}

func (r *Reader) newDrawer(ctx context.Context, t *target, base canvas.Matrix, opts *RenderOptions) *drawer {
	d := &drawer{ctx: ctx, rd: r, t: t, base: base}
	if opts != nil {
		d.opts = *opts
	}
	d.fonts = r.fontSet(!d.opts.BundledFontsOnly)
	return d
}

func maxf(a, b float64) float64 {
	if a > b {
		return a
	}
	return b
}

func sqrtAbsDet(m canvas.Matrix) float64 { return math.Sqrt(math.Abs(m.Det())) }

// maxPatternCells bounds the tiles one pattern fill draws.
const maxPatternCells = 4000

// patternFill fills path p (object space) with a tiling pattern: the CellContent page block
// repeated every XStep/YStep in pattern space (Pattern CTM maps it into object space), clipped
// to the path. Watermarks ("严禁复制" across the page) are drawn this way.
func (d *drawer) patternFill(p *canvas.Path, pat *Node, s state) {
	cell := pat.Child("CellContent")
	if cell == nil || d.t == nil {
		return
	}
	w, h := parseFloat(pat.Attr("Width"), 0), parseFloat(pat.Attr("Height"), 0)
	xs, ys := parseFloat(pat.Attr("XStep"), w), parseFloat(pat.Attr("YStep"), h)
	if xs <= 0 || ys <= 0 {
		return
	}
	pctm, _ := parseCTM(pat.Attr("CTM"))
	if math.Abs(pctm.Det()) < 1e-12 {
		return
	}
	cl := s.clip.intersect(newPathClip(p.Copy().Transform(d.base.Mul(s.pm))))
	// The path's bounds in pattern space give the range of cells.
	inv := pctm.Inv()
	b := p.FastBounds()
	x0, y0, x1, y1 := math.Inf(1), math.Inf(1), math.Inf(-1), math.Inf(-1)
	for _, c := range []canvas.Point{{X: b.X0, Y: b.Y0}, {X: b.X1, Y: b.Y0}, {X: b.X0, Y: b.Y1}, {X: b.X1, Y: b.Y1}} {
		q := inv.Dot(c)
		x0, y0, x1, y1 = math.Min(x0, q.X), math.Min(y0, q.Y), math.Max(x1, q.X), math.Max(y1, q.Y)
	}
	i0, i1 := int(math.Floor((x0-w)/xs)), int(math.Ceil(x1/xs))
	j0, j1 := int(math.Floor((y0-h)/ys)), int(math.Ceil(y1/ys))
	if (i1-i0+1)*(j1-j0+1) > maxPatternCells || i1 < i0 || j1 < j0 {
		return
	}
	base := s.pm.Mul(pctm)
	for j := j0; j <= j1; j++ {
		for i := i0; i <= i1; i++ {
			st := s
			st.pm = base.Translate(float64(i)*xs, float64(j)*ys)
			st.clip = cl
			d.block(cell.Children, st)
		}
	}
}
