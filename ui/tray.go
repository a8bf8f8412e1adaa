package ui

import (
	"image"
	"image/color"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"sealdesk/hub/api"
	"sealdesk/signer/ses"
)

// SealItem is one seal the user can place: its DER, picture and physical size, and the hub's
// status for it ("" when unknown).
type SealItem struct {
	Name    string
	ESID    string
	DER     []byte
	Picture image.Image
	W, H    float64 // mm
	Status  string
	// KeyURI names the identity the seal came with ("" for a seal file).
	KeyURI string
}

// Usable reports whether the hub's status allows signing with the seal (unknown counts as
// usable here; the signing step asks the hub again).
func (s *SealItem) Usable() bool {
	return s.Status == "" || s.Status == api.StatusActive || s.Status == api.StatusUnknown
}

// NewSealItem reads a DER seal. A seal whose picture cannot be decoded still gets a drawn
// stand-in so it can be placed (OFD readers draw OFD pictures themselves).
func NewSealItem(der []byte, keyURI string) (*SealItem, error) {
	s, err := ses.ParseSeal(der)
	if err != nil {
		return nil, err
	}
	_, _, w, h := ses.Picture(s)
	if w <= 0 || h <= 0 {
		w, h = 40, 40
	}
	it := &SealItem{Name: s.Info.Property.Name, ESID: s.Info.ESID, DER: der, W: w, H: h, KeyURI: keyURI}
	if img, err := ses.DecodePicture(s); err == nil {
		it.Picture = img
	} else {
		it.Picture = standInPicture()
	}
	return it, nil
}

// standInPicture is a red ring, for seals whose picture format cannot be shown.
func standInPicture() image.Image {
	const n = 128
	img := image.NewNRGBA(image.Rect(0, 0, n, n))
	for y := 0; y < n; y++ {
		for x := 0; x < n; x++ {
			dx, dy := float64(x)-n/2+0.5, float64(y)-n/2+0.5
			d := dx*dx + dy*dy
			if d < (n/2)*(n/2) && d > (n/2-8)*(n/2-8) {
				img.Set(x, y, sealRed)
			}
		}
	}
	return img
}

// SealTray shows the seals; each can be dragged onto the page view.
type SealTray struct {
	Box   *fyne.Container
	Items []*SealItem
	items []*trayItem
	view  *PageView
	// OnDrop is called when a seal is dropped on the page: page index and the seal's centre in mm.
	OnDrop func(it *SealItem, page int, cx, cy float64)
	// OnSelect is called when a seal is tapped (it becomes the seal for keyword/cross-page/
	// coordinate placements).
	OnSelect func(it *SealItem)
	Selected *SealItem
	list     *fyne.Container
}

// NewSealTray returns a tray that drops onto view.
func NewSealTray(view *PageView) *SealTray {
	t := &SealTray{view: view, list: container.NewVBox()}
	t.Box = container.NewBorder(widget.NewLabelWithStyle(T("panel.seals"), fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
		nil, nil, nil, container.NewVScroll(t.list))
	t.SetItems(nil)
	return t
}

// SetItems replaces the seals shown.
func (t *SealTray) SetItems(items []*SealItem) {
	t.Items = items
	t.items = nil
	t.list.Objects = nil
	if len(items) == 0 {
		t.list.Add(widget.NewLabel(T("seals.none")))
		t.Selected = nil
	} else {
		hint := widget.NewLabel(T("seals.drag"))
		hint.Importance = widget.LowImportance
		t.list.Add(hint)
		found := false
		for _, it := range items {
			ti := newTrayItem(t, it)
			t.items = append(t.items, ti)
			t.list.Add(ti)
			if it == t.Selected {
				found = true
			}
		}
		if !found {
			t.Selected = nil
			for _, it := range items {
				if it.Usable() {
					t.Selected = it
					break
				}
			}
		}
	}
	t.list.Refresh()
}

// trayItem is one seal in the tray: its picture, name and size. Dragging it shows a live,
// true-size preview on the page and drops a placement where it is released.
type trayItem struct {
	widget.BaseWidget
	tray     *SealTray
	item     *SealItem
	dragging bool
	moved    fyne.Delta
}

func newTrayItem(t *SealTray, it *SealItem) *trayItem {
	w := &trayItem{tray: t, item: it}
	w.ExtendBaseWidget(w)
	return w
}

func (w *trayItem) CreateRenderer() fyne.WidgetRenderer {
	img := canvas.NewImageFromImage(w.item.Picture)
	img.FillMode = canvas.ImageFillContain
	img.SetMinSize(fyne.NewSize(64, 64))
	name := widget.NewLabel(w.item.Name)
	name.Wrapping = fyne.TextWrapWord
	info := Tf("seals.size", w.item.W, w.item.H)
	if !w.item.Usable() {
		img.Translucency = 0.7 // greyed out: the hub says the seal is out of force
		info += " · " + T("seals.revoked")
		name.Importance = widget.LowImportance
	} else if w.item.Status != "" {
		info += " · " + Tf("seals.status", sealStatusText(w.item.Status))
	}
	sub := widget.NewLabel(info)
	sub.Importance = widget.LowImportance
	sel := canvas.NewRectangle(color.Transparent)
	if w.tray.Selected == w.item {
		sel.StrokeColor = sealRed
		sel.StrokeWidth = 1
	}
	c := container.NewStack(sel, container.NewBorder(nil, nil, img, nil, container.NewVBox(name, sub)))
	return widget.NewSimpleRenderer(c)
}

func (w *trayItem) Tapped(*fyne.PointEvent) {
	if !w.item.Usable() {
		return
	}
	w.tray.Selected = w.item
	for _, o := range w.tray.items {
		o.Refresh()
	}
	if w.tray.OnSelect != nil {
		w.tray.OnSelect(w.item)
	}
}

// dropPoint is where the seal's centre is in the page view's coordinates: the centre of the
// tray picture moved by the drag so far. Using the accumulated delta (not the pointer position
// of the event) keeps real drags and fyne's test driver (which reports the start position)
// in agreement.
func (w *trayItem) dropPoint() (fyne.Position, bool) {
	v := w.tray.view
	d := fyne.CurrentApp().Driver()
	if v == nil || v.PageSize.W <= 0 {
		return fyne.Position{}, false
	}
	from := d.AbsolutePositionForObject(w)
	to := d.AbsolutePositionForObject(v)
	const pic = 64 // the tray picture's size (its MinSize), at the item's left
	h := w.Size().Height
	centre := fyne.NewPos(from.X+pic/2+w.moved.DX, from.Y+h/2+w.moved.DY)
	return centre.Subtract(to), true
}

func (w *trayItem) Dragged(e *fyne.DragEvent) {
	if !w.item.Usable() {
		return
	}
	if !w.dragging {
		w.dragging, w.moved = true, fyne.Delta{}
	}
	w.moved.DX += e.Dragged.DX
	w.moved.DY += e.Dragged.DY
	p, ok := w.dropPoint()
	v := w.tray.view
	if !ok {
		return
	}
	cx, cy := v.PointToMM(p)
	if cx < 0 || cy < 0 || cx > v.PageSize.W || cy > v.PageSize.H {
		if v.Ghost != nil {
			v.Ghost = nil
			v.Refresh()
		}
		return
	}
	// Live, true-size preview: the seal's mm size drawn at the view's zoom.
	v.Ghost = &Mark{Page: v.Page, Picture: w.item.Picture, Placement: -1,
		Rect: rectAround(cx, cy, w.item.W, w.item.H)}
	v.Refresh()
}

func (w *trayItem) DragEnd() {
	if !w.dragging {
		return
	}
	w.dragging = false
	v := w.tray.view
	p, ok := w.dropPoint()
	w.moved = fyne.Delta{}
	if v.Ghost != nil {
		v.Ghost = nil
		v.Refresh()
	}
	if !ok {
		return
	}
	cx, cy := v.PointToMM(p)
	if cx < 0 || cy < 0 || cx > v.PageSize.W || cy > v.PageSize.H {
		return
	}
	w.tray.Selected = w.item
	if w.tray.OnDrop != nil {
		w.tray.OnDrop(w.item, v.Page, cx, cy)
	}
}

// sealStatusText is a registry status word in the UI language.
func sealStatusText(st string) string {
	if _, ok := messages["sealStatus."+st]; ok {
		return T("sealStatus." + st)
	}
	return st
}
