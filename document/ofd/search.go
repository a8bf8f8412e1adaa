package ofd

import (
	"context"
	"math"
	"strings"

	"github.com/tdewolff/canvas"

	"sealdesk/document"
)

// Text returns the glyphs of page i in drawing order (templates, layers, annotations), with
// boxes in page millimetres from the top-left. Boxes come from TextCode positions (DeltaX/
// DeltaY) and the font size, not from outlines, so they do not depend on which font draws.
func (r *Reader) Text(ctx context.Context, i int) ([]Glyph, error) {
	var glyphs []Glyph
	d := &drawer{ctx: ctx, rd: r, base: canvas.Identity, text: &glyphs}
	d.fonts = r.fontSet(true)
	if err := d.drawPage(i); err != nil {
		return nil, err
	}
	return glyphs, nil
}

// lineText joins a page's glyphs into one string for searching. Runs (text objects) on the same
// line join directly, so a word split over objects is found; elsewhere a newline separates
// them. idx maps each rune of the string to its glyph, -1 for separators.
func lineText(gs []Glyph) (text []rune, idx []int) {
	for k, g := range gs {
		if k > 0 && g.Run != gs[k-1].Run {
			p := gs[k-1]
			sameLine := math.Abs((g.Box.Y+g.Box.H)-(p.Box.Y+p.Box.H)) < 0.5*math.Max(g.Box.H, p.Box.H) && g.Box.X >= p.Box.X
			if !sameLine {
				text = append(text, '\n')
				idx = append(idx, -1)
			}
		}
		text = append(text, g.Rune)
		idx = append(idx, k)
	}
	return text, idx
}

// Find returns every occurrence of query on page i: the union box of the matched glyphs.
// Whitespace in the query and on the page is ignored, as producers position words with spaces
// or with DeltaX alike.
func (r *Reader) Find(ctx context.Context, i int, query string) ([]document.Hit, error) {
	q := []rune(strings.Join(strings.Fields(query), ""))
	if len(q) == 0 {
		return nil, nil
	}
	gs, err := r.Text(ctx, i)
	if err != nil {
		return nil, err
	}
	text, idx := lineText(gs)
	// Drop whitespace from the page text too, keeping the glyph mapping.
	var t []rune
	var ti []int
	for k, c := range text {
		if c != '\n' && strings.TrimSpace(string(c)) == "" {
			continue
		}
		t = append(t, c)
		ti = append(ti, idx[k])
	}
	var hits []document.Hit
	for s := 0; s+len(q) <= len(t); s++ {
		match := true
		for k := range q {
			if t[s+k] != q[k] {
				match = false
				break
			}
		}
		if !match {
			continue
		}
		x0, y0, x1, y1 := math.Inf(1), math.Inf(1), math.Inf(-1), math.Inf(-1)
		for k := s; k < s+len(q); k++ {
			b := gs[ti[k]].Box
			x0, y0 = math.Min(x0, b.X), math.Min(y0, b.Y)
			x1, y1 = math.Max(x1, b.X+b.W), math.Max(y1, b.Y+b.H)
		}
		hits = append(hits, document.Hit{Page: i, Rect: document.Rect{X: x0, Y: y0, W: x1 - x0, H: y1 - y0}, Text: string(q)})
		s += len(q) - 1
	}
	return hits, nil
}

// PlainText returns page i's text, runs on one line joined, lines separated by newlines.
func (r *Reader) PlainText(ctx context.Context, i int) (string, error) {
	gs, err := r.Text(ctx, i)
	if err != nil {
		return "", err
	}
	t, _ := lineText(gs)
	return string(t), nil
}
