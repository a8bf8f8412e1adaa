package ui

import (
	"image"
	"image/color"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/widget"
)

// ThumbDPI is the resolution of page thumbnails.
const ThumbDPI = 14

// thumb is a page thumbnail: a fixed-size image slot filled when its render arrives.
type thumb struct {
	widget.BaseWidget
	img  *canvas.Image
	page int
}

func newThumb() *thumb {
	t := &thumb{img: canvas.NewImageFromImage(nil), page: -1}
	t.img.FillMode = canvas.ImageFillContain
	t.img.SetMinSize(fyne.NewSize(90, 120))
	t.ExtendBaseWidget(t)
	return t
}

func (t *thumb) CreateRenderer() fyne.WidgetRenderer {
	bg := canvas.NewRectangle(color.NRGBA{R: 0x80, G: 0x80, B: 0x80, A: 0x30})
	bg.SetMinSize(fyne.NewSize(90, 120))
	return widget.NewSimpleRenderer(containerStack(bg, t.img))
}

// fillThumb shows page i in slot t, rendering it off the UI goroutine the first time.
func (m *MainWindow) fillThumb(i int, t *thumb) {
	t.page = i
	if img, ok := m.thumbCache[i]; ok {
		t.img.Image = img
		t.img.Refresh()
		return
	}
	t.img.Image = nil
	t.img.Refresh()
	doc := m.doc
	if doc == nil {
		return
	}
	m.thumbCache[i] = nil // in flight
	go func() {
		img, err := doc.Render(m.ctx, i, ThumbDPI)
		fyne.Do(func() {
			if doc != m.doc {
				return
			}
			if err != nil {
				delete(m.thumbCache, i)
				return
			}
			m.thumbCache[i] = img
			if t.page == i {
				t.img.Image = img
				t.img.Refresh()
			}
		})
	}()
}

var _ image.Image = (*image.NRGBA)(nil)
