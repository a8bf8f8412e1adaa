package ui

import (
	"image"
	"image/color"
	"math"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/widget"

	"sealdesk/document"
)

// UnitsPerMM is how many fyne units one millimetre of paper takes at 100 % zoom. fyne units are
// device-independent pixels (1/96 inch at scale 1; fyne multiplies by the screen scale on
// high-DPI displays), so at 100 % a seal is previewed at its true physical size.
const UnitsPerMM = 96 / 25.4

// Zoom limits.
const (
	MinZoom = 0.25
	MaxZoom = 4
)

// MMToUnits converts millimetres to fyne units at zoom.
func MMToUnits(mm float64, zoom float32) float32 { return float32(mm*UnitsPerMM) * zoom }

// UnitsToMM converts fyne units at zoom to millimetres.
func UnitsToMM(u float32, zoom float32) float64 { return float64(u/zoom) / UnitsPerMM }

// MMToPoints converts millimetres to PDF points (what PDF-minded users read in the status bar).
func MMToPoints(mm float64) float64 { return mm / document.MMPerPoint }

// RenderDPI is the dpi to render a page at so that its pixels match the screen at zoom on a
// canvas of the given scale (high-DPI screens get sharper renders, not bigger ones).
func RenderDPI(zoom, scale float32) float64 {
	if scale <= 0 {
		scale = 1
	}
	return 96 * float64(zoom) * float64(scale)
}

// Mark is a seal on the page preview: a pending placement (Placement >= 0, draggable) or a
// resolved stamp of a keyword/cross-page placement (Placement < 0, fixed).
type Mark struct {
	Page      int
	Rect      document.Rect // the visible seal (a cross-page strip is cropped already), mm
	Picture   image.Image
	Placement int
}

// Overlay outlines a signature on its page.
type Overlay struct {
	Page  int
	Rect  document.Rect
	State SigState
	Label string
}

// PageView shows one page of a document at a zoom, with placed seals (draggable), a live preview
// of a seal being dragged in from the tray, and signature outlines. Positions are kept in mm
// (the document package's space) and converted to screen units only for drawing.
type PageView struct {
	widget.BaseWidget

	Page     int
	PageSize document.Size // mm
	Zoom     float32
	Image    image.Image
	Marks    []Mark
	Overlays []Overlay
	// Ghost is the live preview of a seal dragged from the tray (nil when none).
	Ghost        *Mark
	Selected     int // placement index of the selected mark, -1 none
	OnMarkMoved  func(placement int, r document.Rect)
	OnMarkTapped func(placement int)
	Placeholder  string
}

// NewPageView returns an empty page view.
func NewPageView() *PageView {
	p := &PageView{Zoom: 1, Selected: -1, Placeholder: T("doc.none")}
	p.ExtendBaseWidget(p)
	return p
}

// SetZoom sets the zoom (clamped) and redraws.
func (p *PageView) SetZoom(z float32) {
	p.Zoom = float32(math.Max(MinZoom, math.Min(MaxZoom, float64(z))))
	p.Refresh()
}

// PointToMM converts a position inside the view to mm on the page.
func (p *PageView) PointToMM(pos fyne.Position) (x, y float64) {
	return UnitsToMM(pos.X, p.Zoom), UnitsToMM(pos.Y, p.Zoom)
}

// clampRect keeps a seal's centre on the page (a seal may reach past the edge, as cross-page
// seals do, but never leave it).
func (p *PageView) clampRect(r document.Rect) document.Rect {
	cx, cy := r.Center()
	cx = math.Max(0, math.Min(p.PageSize.W, cx))
	cy = math.Max(0, math.Min(p.PageSize.H, cy))
	r.X, r.Y = cx-r.W/2, cy-r.H/2
	return r
}

// Nudge moves the selected placement by dx, dy mm (keyboard arrows).
func (p *PageView) Nudge(dx, dy float64) bool {
	for i := range p.Marks {
		m := &p.Marks[i]
		if m.Placement >= 0 && m.Placement == p.Selected && m.Page == p.Page {
			m.Rect.X += dx
			m.Rect.Y += dy
			m.Rect = p.clampRect(m.Rect)
			p.Refresh()
			if p.OnMarkMoved != nil {
				p.OnMarkMoved(m.Placement, m.Rect)
			}
			return true
		}
	}
	return false
}

func (p *PageView) MinSize() fyne.Size {
	p.ExtendBaseWidget(p)
	if p.PageSize.W <= 0 {
		return fyne.NewSize(200, 200)
	}
	return fyne.NewSize(MMToUnits(p.PageSize.W, p.Zoom), MMToUnits(p.PageSize.H, p.Zoom))
}

func (p *PageView) CreateRenderer() fyne.WidgetRenderer {
	r := &pageRenderer{p: p, paper: canvas.NewRectangle(color.White), img: canvas.NewImageFromImage(nil),
		text: canvas.NewText("", color.Gray{Y: 0x80})}
	r.img.FillMode = canvas.ImageFillStretch
	r.img.ScaleMode = canvas.ImageScaleSmooth
	r.text.Alignment = fyne.TextAlignCenter
	r.Refresh()
	return r
}

type pageRenderer struct {
	p     *PageView
	paper *canvas.Rectangle
	img   *canvas.Image
	text  *canvas.Text
	marks []*markWidget
	boxes []fyne.CanvasObject
	ghost *canvas.Image
	objs  []fyne.CanvasObject
}

func (r *pageRenderer) Destroy()                     {}
func (r *pageRenderer) MinSize() fyne.Size           { return r.p.MinSize() }
func (r *pageRenderer) Objects() []fyne.CanvasObject { return r.objs }

func (r *pageRenderer) Layout(size fyne.Size) {
	p := r.p
	ps := p.MinSize()
	r.paper.Resize(ps)
	r.img.Resize(ps)
	r.text.Move(fyne.NewPos(0, ps.Height/2-10))
	r.text.Resize(fyne.NewSize(size.Width, 20))
	for _, m := range r.marks {
		m.Move(fyne.NewPos(MMToUnits(m.mark.Rect.X, p.Zoom), MMToUnits(m.mark.Rect.Y, p.Zoom)))
		m.Resize(fyne.NewSize(MMToUnits(m.mark.Rect.W, p.Zoom), MMToUnits(m.mark.Rect.H, p.Zoom)))
	}
	for i, o := range p.pageOverlays() {
		if i >= len(r.boxes) {
			break
		}
		b := r.boxes[i]
		b.Move(fyne.NewPos(MMToUnits(o.Rect.X, p.Zoom), MMToUnits(o.Rect.Y, p.Zoom)))
		b.Resize(fyne.NewSize(MMToUnits(o.Rect.W, p.Zoom), MMToUnits(o.Rect.H, p.Zoom)))
	}
	if r.ghost != nil && p.Ghost != nil {
		g := p.Ghost.Rect
		r.ghost.Move(fyne.NewPos(MMToUnits(g.X, p.Zoom), MMToUnits(g.Y, p.Zoom)))
		r.ghost.Resize(fyne.NewSize(MMToUnits(g.W, p.Zoom), MMToUnits(g.H, p.Zoom)))
	}
}

func (p *PageView) pageOverlays() []Overlay {
	var out []Overlay
	for _, o := range p.Overlays {
		if o.Page == p.Page {
			out = append(out, o)
		}
	}
	return out
}

func (r *pageRenderer) Refresh() {
	p := r.p
	r.objs = r.objs[:0]
	if p.PageSize.W <= 0 {
		r.text.Text = p.Placeholder
		r.text.Color = themeForeground()
		r.objs = append(r.objs, r.text)
		r.text.Refresh()
		r.Layout(p.Size())
		return
	}
	r.objs = append(r.objs, r.paper)
	if p.Image != nil {
		r.img.Image = p.Image
		r.img.Refresh()
		r.objs = append(r.objs, r.img)
	}
	r.boxes = r.boxes[:0]
	for _, o := range p.pageOverlays() {
		b := canvas.NewRectangle(withAlpha(o.State.Color(), 0x28))
		b.StrokeColor = o.State.Color()
		b.StrokeWidth = 3
		r.boxes = append(r.boxes, b)
		r.objs = append(r.objs, b)
	}
	r.marks = r.marks[:0]
	for i := range p.Marks {
		if p.Marks[i].Page != p.Page {
			continue
		}
		m := newMarkWidget(p, p.Marks[i], i)
		r.marks = append(r.marks, m)
		r.objs = append(r.objs, m)
	}
	r.ghost = nil
	if p.Ghost != nil && p.Ghost.Page == p.Page {
		r.ghost = canvas.NewImageFromImage(p.Ghost.Picture)
		r.ghost.FillMode = canvas.ImageFillStretch
		r.ghost.Translucency = 0.35
		r.objs = append(r.objs, r.ghost)
	}
	r.Layout(p.Size())
	canvas.Refresh(p)
}

// markWidget is one seal on the page. Pending placements can be dragged and tapped (selected).
type markWidget struct {
	widget.BaseWidget
	view  *PageView
	mark  Mark
	index int // into view.Marks
}

func newMarkWidget(v *PageView, m Mark, i int) *markWidget {
	w := &markWidget{view: v, mark: m, index: i}
	w.ExtendBaseWidget(w)
	return w
}

func (m *markWidget) CreateRenderer() fyne.WidgetRenderer {
	var objs []fyne.CanvasObject
	if m.mark.Picture != nil {
		img := canvas.NewImageFromImage(m.mark.Picture)
		img.FillMode = canvas.ImageFillStretch
		img.ScaleMode = canvas.ImageScaleSmooth
		objs = append(objs, img)
	} else {
		c := canvas.NewCircle(color.Transparent)
		c.StrokeColor = sealRed
		c.StrokeWidth = 3
		objs = append(objs, c)
	}
	sel := canvas.NewRectangle(color.Transparent)
	if m.mark.Placement >= 0 && m.mark.Placement == m.view.Selected {
		sel.StrokeColor = color.NRGBA{R: 0x1e, G: 0x6f, B: 0xd9, A: 0xff}
		sel.StrokeWidth = 2
	}
	objs = append(objs, sel)
	return &markRenderer{m: m, objs: objs}
}

type markRenderer struct {
	m    *markWidget
	objs []fyne.CanvasObject
}

func (r *markRenderer) Destroy()                     {}
func (r *markRenderer) Objects() []fyne.CanvasObject { return r.objs }
func (r *markRenderer) MinSize() fyne.Size           { return fyne.NewSize(1, 1) }
func (r *markRenderer) Refresh()                     { r.Layout(r.m.Size()) }
func (r *markRenderer) Layout(s fyne.Size) {
	for _, o := range r.objs {
		o.Move(fyne.NewPos(0, 0))
		o.Resize(s)
	}
}

// Dragged moves a pending placement with the pointer (the delta is in screen units).
func (m *markWidget) Dragged(e *fyne.DragEvent) {
	if m.mark.Placement < 0 {
		return
	}
	v := m.view
	mk := &v.Marks[m.index]
	mk.Rect.X += UnitsToMM(e.Dragged.DX, v.Zoom)
	mk.Rect.Y += UnitsToMM(e.Dragged.DY, v.Zoom)
	mk.Rect = v.clampRect(mk.Rect)
	m.mark = *mk
	v.Selected = mk.Placement
	m.Move(fyne.NewPos(MMToUnits(mk.Rect.X, v.Zoom), MMToUnits(mk.Rect.Y, v.Zoom)))
}

// DragEnd reports the new position.
func (m *markWidget) DragEnd() {
	if m.mark.Placement < 0 {
		return
	}
	v := m.view
	v.Refresh()
	if v.OnMarkMoved != nil {
		v.OnMarkMoved(m.mark.Placement, v.Marks[m.index].Rect)
	}
}

// Tapped selects the placement for keyboard nudging.
func (m *markWidget) Tapped(*fyne.PointEvent) {
	if m.mark.Placement < 0 {
		return
	}
	m.view.Selected = m.mark.Placement
	m.view.Refresh()
	if m.view.OnMarkTapped != nil {
		m.view.OnMarkTapped(m.mark.Placement)
	}
}

func withAlpha(c color.Color, a uint8) color.Color {
	r, g, b, _ := c.RGBA()
	return color.NRGBA{R: uint8(r >> 8), G: uint8(g >> 8), B: uint8(b >> 8), A: a}
}

// rectAround is the w×h rectangle centred on (cx, cy), in mm.
func rectAround(cx, cy, w, h float64) document.Rect {
	return document.Rect{X: cx - w/2, Y: cy - h/2, W: w, H: h}
}
