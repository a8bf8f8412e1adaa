package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"image/color"
	"io"
	"path/filepath"
	"strings"
	"time"

	"sealdesk/document"
)

// Colours of the verdicts (the same as the app's overlays).
var (
	ColorValid         = color.RGBA{R: 0x1b, G: 0x9e, B: 0x3e, A: 0xff}
	ColorInvalid       = color.RGBA{R: 0xd9, G: 0x1e, B: 0x18, A: 0xff}
	ColorIndeterminate = color.RGBA{R: 0xc0, G: 0x80, B: 0x00, A: 0xff}
)

// IndicationColor is the colour of a verdict: green, red or amber.
func IndicationColor(ind document.Indication) color.RGBA {
	switch ind {
	case document.IndicationValid:
		return ColorValid
	case document.IndicationInvalid:
		return ColorInvalid
	}
	return ColorIndeterminate
}

// Options of a written report.
type Options struct {
	Lang Lang
	// Now is the time printed as "generated"; zero uses time.Now.
	Now time.Time
}

// WritePDF writes a verification report as an A4 PDF: the file, the verdict of the document,
// then per signature its verdict in its colour, the same lines as the app's panel, the plain
// reasons and notes. Text is real text drawn with the bundled font's glyphs (selectable,
// searchable, extractable with pdftotext), Latin and Chinese alike.
func WritePDF(w io.Writer, r *document.VerifyReport, o Options) error {
	l := o.Lang
	now := o.Now
	if now.IsZero() {
		now = time.Now()
	}
	doc, err := newTextPDF(Label("title", l) + " — " + filepath.Base(r.File))
	if err != nil {
		return err
	}
	const pt = 72 / 25.4 // points per millimetre
	const pageW, pageH, margin = 210 * pt, 297 * pt, 18 * pt
	const textW = pageW - 2*margin
	black := color.RGBA{A: 0xff}
	grey := color.RGBA{R: 0x55, G: 0x55, B: 0x55, A: 0xff}
	var page *bytes.Buffer
	y := 0.0
	newPage := func() {
		page = &bytes.Buffer{}
		doc.pages = append(doc.pages, page)
		y = pageH - margin
	}
	// line draws wrapped text (size in points) and moves down; PDF y grows upward.
	line := func(s string, size float64, col color.Color, indent float64) {
		for _, t := range doc.wrap(s, size, textW-indent) {
			if y-size*1.45 < margin {
				newPage()
			}
			y -= size * 1.2
			doc.text(page, t, margin+indent, y, size, col)
			y -= size * 0.25
		}
	}
	newPage()
	line(Label("title", l)+" — SealDesk", 18, black, 0)
	y -= 4
	line(Label("file", l)+colon(l)+filepath.Base(r.File), 11, black, 0)
	if dir := filepath.Dir(r.File); dir != "." && dir != "" {
		line(r.File, 8, grey, 0)
	}
	line(Label("format", l)+colon(l)+strings.ToUpper(string(r.Format)), 11, black, 0)
	line(Label("generated", l)+colon(l)+now.In(time.Local).Format("2006-01-02 15:04:05 MST"), 11, black, 0)
	ind := r.Indication
	if ind == "" {
		ind = document.DocumentVerdict(r)
	}
	overall := IndicationText(ind, l)
	if len(r.Signatures) == 0 {
		overall = Label("none", l)
	}
	y -= 4
	line(Label("overall", l)+colon(l)+overall, 14, IndicationColor(ind), 0)
	for i := range r.Signatures {
		s := &r.Signatures[i]
		sind := s.Indication
		if sind == "" {
			sind, _ = document.SignatureVerdict(s)
		}
		y -= 8
		line(fmt.Sprintf(Label("signature", l), s.Index+1, IndicationText(sind, l)), 13, IndicationColor(sind), 0)
		for _, kv := range Lines(s, l) {
			line(kv[0]+colon(l)+kv[1], 10, black, 12)
		}
		if rs := Reasons(s, l); len(rs) > 0 {
			line(Label("reasons", l)+strings.TrimSpace(colon(l)), 10, IndicationColor(sind), 12)
			for _, t := range rs {
				line("· "+t, 10, black, 24)
			}
		}
		if ns := Notes(s, l); len(ns) > 0 {
			line(Label("notes", l)+strings.TrimSpace(colon(l)), 10, grey, 12)
			for _, t := range ns {
				line("· "+t, 9, grey, 24)
			}
		}
	}
	if len(r.Problems) > 0 {
		y -= 8
		line(Label("document", l)+strings.TrimSpace(colon(l)), 11, black, 0)
		for _, t := range texts(r.Problems, l) {
			line("· "+t, 10, black, 12)
		}
	}
	if len(r.Uncovered) > 0 {
		y -= 8
		line(Label("uncovered", l)+strings.TrimSpace(colon(l)), 11, black, 0)
		for _, u := range r.Uncovered {
			line(u, 9, grey, 12)
		}
	}
	return doc.write(w, pageW, pageH)
}

// WriteJSON writes the report as `sealctl verify --json` prints it (docs/CLI.md).
func WriteJSON(w io.Writer, r *document.VerifyReport) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(r)
}

func colon(l Lang) string { return pick(l, "：", ": ") }
