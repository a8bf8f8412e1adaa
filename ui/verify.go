package ui

import (
	"image/color"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"sealdesk/document"
	"sealdesk/internal/overlay"
	vreport "sealdesk/internal/report"
)

// SigState is the colour class of a verified signature.
type SigState int

const (
	// SigUnknown: nothing failed, but something could not be established (trust, revocation or
	// registry status unknown, e.g. offline) — amber.
	SigUnknown SigState = iota
	// SigValid: valid and every check answered ok — green.
	SigValid
	// SigInvalid: a check failed — red.
	SigInvalid
)

var (
	colorValid   = overlay.ColorValid
	colorInvalid = overlay.ColorInvalid
	colorUnknown = overlay.ColorUnknown
	sealRed      = color.NRGBA{R: 0xc8, G: 0x10, B: 0x2e, A: 0xff}
)

// Color is the outline colour of the state.
func (s SigState) Color() color.Color {
	switch s {
	case SigValid:
		return colorValid
	case SigInvalid:
		return colorInvalid
	}
	return colorUnknown
}

// Text is the state in words.
func (s SigState) Text() string {
	switch s {
	case SigValid:
		return T("verify.valid")
	case SigInvalid:
		return T("verify.invalid")
	}
	return T("verify.unknown")
}

// StateOf classifies a signature report by its indication (internal/overlay, shared with
// sealhub's seal-check page).
func StateOf(s *document.SignatureReport) SigState { return stateFrom(overlay.StateOf(s)) }

func stateFrom(st overlay.State) SigState {
	switch st {
	case overlay.Valid:
		return SigValid
	case overlay.Invalid:
		return SigInvalid
	}
	return SigUnknown
}

// OverlaysOf returns the page outlines of every signature of a report (internal/overlay's
// Outlines, the web page's too), numbered like the panel's cards ("签章 1") so an outline and
// its card match.
func OverlaysOf(r *document.VerifyReport) []Overlay {
	var out []Overlay
	for _, o := range overlay.Outlines(r) {
		out = append(out, Overlay{Page: o.Page, Rect: o.Rect, State: stateFrom(o.State), Label: Tf("verify.sigNo", o.Signature+1)})
	}
	return out
}

// ReportLines is the report as label/value lines per signature: internal/report's lines (the
// PDF export and `sealctl verify` in Chinese print the same), then the plain reasons for the
// verdict and the other findings, from the catalogue in the UI language — never a verifier's
// developer message.
func ReportLines(s *document.SignatureReport) [][2]string {
	l := reportLang()
	lines := vreport.Lines(s, l)
	if rs := vreport.Reasons(s, l); len(rs) > 0 {
		lines = append(lines, [2]string{vreport.Label("reasons", l), strings.Join(rs, "；")})
	}
	if ns := vreport.Notes(s, l); len(ns) > 0 {
		lines = append(lines, [2]string{vreport.Label("notes", l), strings.Join(ns, "；")})
	}
	return lines
}

// SigPanel lists the signatures of the open document.
type SigPanel struct {
	Box *fyne.Container
	// OnSelect is called with a signature's first page when its card is tapped.
	OnSelect func(page int)
}

// NewSigPanel returns an empty panel.
func NewSigPanel() *SigPanel {
	p := &SigPanel{Box: container.NewVBox()}
	p.SetMessage(T("verify.none"))
	return p
}

// SetMessage replaces the panel's content with a line of text.
func (p *SigPanel) SetMessage(msg string) {
	l := widget.NewLabel(msg)
	l.Wrapping = fyne.TextWrapWord
	p.Box.Objects = []fyne.CanvasObject{l}
	p.Box.Refresh()
}

// SetReport shows a verification report.
func (p *SigPanel) SetReport(r *document.VerifyReport) {
	if r == nil || len(r.Signatures) == 0 {
		p.SetMessage(T("verify.none"))
		return
	}
	var objs []fyne.CanvasObject
	for i := range r.Signatures {
		s := &r.Signatures[i]
		st := StateOf(s)
		title := canvasText(Tf("verify.sigN", s.Index+1, st.Text()), st.Color(), true)
		form := widget.NewForm()
		for _, l := range ReportLines(s) {
			v := widget.NewLabel(l[1])
			v.Wrapping = fyne.TextWrapWord
			form.Append(l[0], v)
		}
		card := container.NewVBox(title, form, widget.NewSeparator())
		if len(s.Pages) > 0 {
			pg := s.Pages[0]
			btn := widget.NewButton(Tf("verify.goto", pg+1), func() {
				if p.OnSelect != nil {
					p.OnSelect(pg)
				}
			})
			card.Add(btn)
		}
		objs = append(objs, card)
	}
	p.Box.Objects = objs
	p.Box.Refresh()
}

// subjectName is the common name of a distinguished name ("CN=张三,O=…" → "张三"), or the name
// as it is when it has none.
func subjectName(dn string) string {
	for _, part := range strings.Split(dn, ",") {
		if k, v, ok := strings.Cut(strings.TrimSpace(part), "="); ok && strings.EqualFold(k, "CN") && v != "" {
			return v
		}
	}
	return dn
}
