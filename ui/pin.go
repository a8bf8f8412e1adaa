package ui

import (
	"errors"
	"image/color"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"sealdesk/signer"
)

// MaxPINLen bounds the PIN entry (PKCS#11 tokens allow at most a few dozen characters).
const MaxPINLen = 64

// PINEntry is a PIN field that keeps what is typed in one fixed []byte, never in a Go string:
// no undo stack, no reveal button, no clipboard paste (it handles no shortcuts), and Take hands
// the PIN over and wipes the field. fyne's Entry keeps text as strings and an undo history even
// for passwords (desktop.md §4), which is why this widget exists.
type PINEntry struct {
	widget.BaseWidget
	buf      [MaxPINLen]byte
	n        int
	focused  bool
	OnSubmit func()
}

// NewPINEntry returns an empty PIN entry.
func NewPINEntry() *PINEntry {
	e := &PINEntry{}
	e.ExtendBaseWidget(e)
	return e
}

// Len is the number of characters typed.
func (e *PINEntry) Len() int { return e.n }

// Take returns a copy of the PIN for the caller to use and zero, and wipes the field.
func (e *PINEntry) Take() []byte {
	pin := make([]byte, e.n)
	copy(pin, e.buf[:e.n])
	e.Clear()
	return pin
}

// Clear wipes the field.
func (e *PINEntry) Clear() {
	clear(e.buf[:])
	e.n = 0
	e.Refresh()
}

// buffer exposes the backing array to tests that check it is wiped.
func (e *PINEntry) buffer() []byte { return e.buf[:] }

func (e *PINEntry) FocusGained() { e.focused = true; e.Refresh() }
func (e *PINEntry) FocusLost()   { e.focused = false; e.Refresh() }

// TypedRune accepts printable ASCII (PIN pads and tokens take nothing else).
func (e *PINEntry) TypedRune(r rune) {
	if r < 0x20 || r > 0x7e || e.n >= MaxPINLen {
		return
	}
	e.buf[e.n] = byte(r)
	e.n++
	e.Refresh()
}

func (e *PINEntry) TypedKey(k *fyne.KeyEvent) {
	switch k.Name {
	case fyne.KeyBackspace:
		if e.n > 0 {
			e.n--
			e.buf[e.n] = 0
			e.Refresh()
		}
	case fyne.KeyReturn, fyne.KeyEnter:
		if e.OnSubmit != nil {
			e.OnSubmit()
		}
	}
}

// Tapped focuses the entry.
func (e *PINEntry) Tapped(*fyne.PointEvent) {
	if c := fyne.CurrentApp().Driver().CanvasForObject(e); c != nil {
		c.Focus(e)
	}
}

func (e *PINEntry) MinSize() fyne.Size {
	e.ExtendBaseWidget(e)
	return fyne.NewSize(220, 36)
}

func (e *PINEntry) CreateRenderer() fyne.WidgetRenderer {
	bg := canvas.NewRectangle(theme.Color(theme.ColorNameInputBackground))
	bg.StrokeWidth = 1
	bg.CornerRadius = 4
	dots := canvas.NewText("", themeForeground())
	dots.TextSize = 18
	r := &pinRenderer{e: e, bg: bg, dots: dots}
	r.Refresh()
	return r
}

type pinRenderer struct {
	e    *PINEntry
	bg   *canvas.Rectangle
	dots *canvas.Text
}

func (r *pinRenderer) Destroy()                     {}
func (r *pinRenderer) MinSize() fyne.Size           { return r.e.MinSize() }
func (r *pinRenderer) Objects() []fyne.CanvasObject { return []fyne.CanvasObject{r.bg, r.dots} }
func (r *pinRenderer) Layout(s fyne.Size) {
	r.bg.Resize(s)
	r.dots.Move(fyne.NewPos(10, (s.Height-r.dots.MinSize().Height)/2))
	r.dots.Resize(r.dots.MinSize())
}
func (r *pinRenderer) Refresh() {
	// Dots are a count, not the PIN: the string holds no secret.
	r.dots.Text = strings.Repeat("●", r.e.n)
	r.dots.Color = themeForeground()
	r.bg.FillColor = theme.Color(theme.ColorNameInputBackground)
	if r.e.focused {
		r.bg.StrokeColor = theme.Color(theme.ColorNamePrimary)
		r.bg.StrokeWidth = 2
	} else {
		r.bg.StrokeColor = theme.Color(theme.ColorNameInputBorder)
		r.bg.StrokeWidth = 1
	}
	r.Layout(r.e.Size())
	canvas.Refresh(r.e)
}

// PINStatus is what the PIN dialog says about the tries left, from the token's flags and the
// last PIN error (PKCS#11 tokens give flags only; keystores give nothing). locked means the
// dialog must not offer to try.
func PINStatus(tok *signer.TokenInfo, lastErr error) (text string, locked bool) {
	var pe *signer.PINError
	switch {
	case errors.Is(lastErr, signer.ErrPINLocked) || (tok != nil && tok.PINLocked):
		return T("pin.locked"), true
	case errors.As(lastErr, &pe) && pe.TriesLeft == 0:
		return T("pin.locked"), true
	case errors.As(lastErr, &pe) && pe.TriesLeft == 1, tok != nil && tok.PINFinalTry:
		return T("pin.finalTry"), false
	case errors.As(lastErr, &pe) && pe.TriesLeft > 1:
		return T("pin.wrong") + "，" + Tf("pin.triesLeft", pe.TriesLeft), false
	case errors.As(lastErr, &pe):
		return T("pin.wrong"), false
	case tok != nil && tok.PINCountLow:
		return T("pin.countLow"), false
	}
	return "", false
}

// PINDialog asks for a PIN. The PIN reaches OnPIN as a []byte that the callee zeroes; the
// dialog keeps no copy.
type PINDialog struct {
	Entry  *PINEntry
	Status *widget.Label
	OK     *widget.Button
	d      dialog.Dialog
}

// ShowPINDialog shows the dialog. what says what is being signed (document, seal, certificate);
// tok is the token (nil for a keystore password); lastErr is the previous attempt's error.
func ShowPINDialog(w fyne.Window, what string, tok *signer.TokenInfo, lastErr error, onPIN func(pin []byte), onCancel func()) *PINDialog {
	title := T("pin.title")
	if tok == nil {
		title = T("pin.password")
	}
	p := &PINDialog{Entry: NewPINEntry(), Status: widget.NewLabel("")}
	text, locked := PINStatus(tok, lastErr)
	p.Status.SetText(text)
	p.Status.Importance = widget.WarningImportance
	desc := widget.NewLabel(what)
	desc.Wrapping = fyne.TextWrapWord
	submit := func() {
		if p.Entry.Len() == 0 {
			p.Status.SetText(T("pin.empty"))
			return
		}
		pin := p.Entry.Take()
		p.d.Hide()
		onPIN(pin)
	}
	p.Entry.OnSubmit = submit
	p.OK = widget.NewButton(T("action.ok"), submit)
	p.OK.Importance = widget.HighImportance
	cancel := widget.NewButton(T("action.cancel"), func() {
		p.Entry.Clear()
		p.d.Hide()
		if onCancel != nil {
			onCancel()
		}
	})
	if locked {
		p.OK.Disable()
	}
	body := container.NewVBox(desc, p.Entry, p.Status, container.NewHBox(layoutSpacer(), cancel, p.OK))
	p.d = dialog.NewCustomWithoutButtons(title, body, w)
	p.d.Resize(fyne.NewSize(420, 260))
	p.d.Show()
	w.Canvas().Focus(p.Entry)
	return p
}

var _ = color.Black
