package ui

import (
	"fmt"
	"image/color"
	"io"
	"sync"

	"github.com/tdewolff/canvas"
	"github.com/tdewolff/canvas/renderers/pdf"

	"sealdesk/assets"
	"sealdesk/document"
)

var (
	reportFontOnce sync.Once
	reportFont     *canvas.FontFamily
	reportFontErr  error
)

// WriteReportPDF writes a verification report as an A4 PDF in the UI language: one section per
// signature with the same lines as the signatures panel, its verdict in the overlay colour.
// Text uses the bundled CJK font, so Chinese names print on any machine.
func WriteReportPDF(w io.Writer, r *document.VerifyReport) (err error) {
	defer func() {
		// The PDF library panics on some font problems; a failed export must not end the app.
		if p := recover(); p != nil {
			err = fmt.Errorf("writing the report PDF: %v", p)
		}
	}()
	reportFontOnce.Do(func() {
		reportFont = canvas.NewFontFamily(assets.CJKFontName)
		reportFontErr = reportFont.LoadFont(assets.CJKFont(), 0, canvas.FontRegular)
	})
	if reportFontErr != nil {
		return fmt.Errorf("report font: %w", reportFontErr)
	}
	const pageW, pageH, margin, textW = 210.0, 297.0, 18.0, 210.0 - 2*18.0
	o := pdf.DefaultOptions
	out := pdf.New(w, pageW, pageH, &o)
	out.SetInfo(T("verify.report"), r.File, "", "", "SealDesk")
	black := color.RGBA{A: 0xff}
	var c *canvas.Canvas
	var ctx *canvas.Context
	y := 0.0
	first := true
	newPage := func() {
		if c != nil {
			c.RenderTo(outlineText{out})
			out.NewPage(pageW, pageH)
		}
		c = canvas.New(pageW, pageH)
		ctx = canvas.NewContext(c)
		y = pageH - margin
	}
	// line draws wrapped text and moves down; PDF y grows upward.
	line := func(s string, size float64, col color.Color) {
		face := reportFont.Face(size*72/25.4*0.35, col) // size in mm of the em box → points
		t := canvas.NewTextBox(face, s, textW, 0, canvas.Left, canvas.Top, nil)
		h := t.Bounds().H() + size*0.5
		if y-h < margin {
			newPage()
		}
		ctx.DrawText(margin, y, t)
		y -= h
	}
	newPage()
	_ = first
	line(T("verify.report")+" — SealDesk", 8, black)
	line(fmt.Sprintf("%s: %s", T("verify.file"), r.File), 4, black)
	overall := T("verify.none")
	if len(r.Signatures) > 0 {
		overall = verdict(r)
	}
	line(fmt.Sprintf("%s: %s", T("verify.overall"), overall), 5, black)
	for i := range r.Signatures {
		s := &r.Signatures[i]
		st := StateOf(s)
		y -= 3
		line(Tf("verify.sigN", s.Index+1, st.Text()), 5.5, st.Color())
		for _, l := range ReportLines(s) {
			line(l[0]+": "+l[1], 4, black)
		}
		if len(s.Pages) > 0 {
			line(fmt.Sprintf("%s: %d", T("place.page"), s.Pages[0]+1), 4, black)
		}
	}
	for _, p := range r.Problems {
		line(T("verify.problems")+": "+p.Message, 4, black)
	}
	c.RenderTo(outlineText{out})
	return out.Close()
}

// outlineText draws text as outlines: the PDF writer cannot subset the bundled CFF font, and
// embedding all of it would make every report ~3 MB. Report text need not be selectable.
type outlineText struct{ *pdf.PDF }

func (o outlineText) RenderText(t *canvas.Text, m canvas.Matrix) {
	t.RenderAsPath(o.PDF, m, canvas.DefaultResolution)
}
