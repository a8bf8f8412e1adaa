package report

import (
	"bytes"
	"compress/zlib"
	"fmt"
	"image/color"
	"io"
	"math"
	"strings"
	"sync"
	"unicode"

	sfntfont "github.com/tdewolff/font"

	"sealdesk/assets"
)

// textPDF is a small PDF writer for reports: lines of wrapped text in colours on A4 pages.
//
// Why not tdewolff/canvas's PDF renderer: the bundled font is a CID-keyed CFF, which canvas can
// neither subset (so every report would embed its 3 MB) nor shape for ASCII (its re-written
// cmap maps Latin letters to .notdef: the blank boxes of issue 11). Here each glyph used is
// drawn once into a Type 3 font from the font's own outlines, with a ToUnicode map: the text
// is real text (selectable, pdftotext finds it), every glyph renders, and a report is a few
// tens of kilobytes.
type textPDF struct {
	font      *sfntfont.SFNT
	upem      float64
	pages     []*bytes.Buffer
	glyphs    map[rune]glyphRef
	fontRunes [][]rune // per Type 3 font, the runes of codes 0..n-1
	title     string
}

type glyphRef struct {
	font int
	code byte
}

var (
	sfntOnce sync.Once
	sfntFont *sfntfont.SFNT
	sfntErr  error
)

func bundledSFNT() (*sfntfont.SFNT, error) {
	sfntOnce.Do(func() { sfntFont, sfntErr = sfntfont.ParseSFNT(assets.CJKFont(), 0) })
	return sfntFont, sfntErr
}

func newTextPDF(title string) (*textPDF, error) {
	f, err := bundledSFNT()
	if err != nil {
		return nil, fmt.Errorf("report font: %w", err)
	}
	return &textPDF{font: f, upem: float64(f.Head.UnitsPerEm), glyphs: map[rune]glyphRef{}, title: title}, nil
}

// glyphFor returns the rune's place in the Type 3 fonts, adding it on first use. Runes the
// font lacks are replaced before they get here (see clean).
func (p *textPDF) glyphFor(r rune) glyphRef {
	if g, ok := p.glyphs[r]; ok {
		return g
	}
	if len(p.fontRunes) == 0 || len(p.fontRunes[len(p.fontRunes)-1]) == 256 {
		p.fontRunes = append(p.fontRunes, nil)
	}
	i := len(p.fontRunes) - 1
	g := glyphRef{font: i, code: byte(len(p.fontRunes[i]))}
	p.fontRunes[i] = append(p.fontRunes[i], r)
	p.glyphs[r] = g
	return g
}

// advance is the advance width of r in text space units per point of font size.
func (p *textPDF) advance(r rune) float64 {
	return float64(p.font.GlyphAdvance(p.font.GlyphIndex(r))) / p.upem
}

// clean replaces what the font cannot show: control characters by spaces, missing glyphs by
// a visible substitute ("?"), so no glyph is ever missing from the page.
func (p *textPDF) clean(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r == '\t' || r == '\n' || r == '\r':
			return ' '
		case unicode.IsControl(r):
			return -1
		case p.font.GlyphIndex(r) == 0:
			if p.font.GlyphIndex('?') != 0 {
				return '?'
			}
			return -1
		}
		return r
	}, s)
}

// wrap splits s into lines no wider than width (points) at size: after spaces, and between
// CJK characters, as Chinese text breaks.
func (p *textPDF) wrap(s string, size, width float64) []string {
	var lines []string
	rs := []rune(p.clean(s))
	for len(rs) > 0 {
		w, brk := 0.0, -1
		i := 0
		for ; i < len(rs); i++ {
			w += p.advance(rs[i]) * size
			if w > width && i > 0 {
				break
			}
			if rs[i] == ' ' || isCJK(rs[i]) {
				brk = i + 1
			}
		}
		if i == len(rs) {
			lines = append(lines, string(rs))
			break
		}
		cut := i
		if brk > 0 && brk <= i {
			cut = brk
			if rs[cut-1] != ' ' && isCJK(rs[cut-1]) && cut > i {
				cut = i
			}
		}
		lines = append(lines, strings.TrimRight(string(rs[:cut]), " "))
		rs = []rune(strings.TrimLeft(string(rs[cut:]), " "))
	}
	return lines
}

func isCJK(r rune) bool {
	return unicode.Is(unicode.Han, r) || (r >= 0x3000 && r <= 0x30ff) || (r >= 0xff00 && r <= 0xffef)
}

// text draws one line at (x, y) points from the page's bottom-left.
func (p *textPDF) text(page *bytes.Buffer, s string, x, y, size float64, col color.Color) {
	r, g, b, _ := col.RGBA()
	fmt.Fprintf(page, "BT %.3f %.3f %.3f rg %.2f %.2f Td\n", float64(r)/0xffff, float64(g)/0xffff, float64(b)/0xffff, x, y)
	cur := -1
	var run []byte
	flush := func() {
		if len(run) > 0 {
			fmt.Fprintf(page, "<%X> Tj\n", run)
			run = run[:0]
		}
	}
	for _, ch := range p.clean(s) {
		gr := p.glyphFor(ch)
		if gr.font != cur {
			flush()
			fmt.Fprintf(page, "/F%d %.2f Tf\n", gr.font, size)
			cur = gr.font
		}
		run = append(run, gr.code)
	}
	flush()
	page.WriteString("ET\n")
}

// glyphProc is the content stream of one Type 3 glyph: its outline in 1000-unit glyph space.
func (p *textPDF) glyphProc(r rune) (proc []byte, width float64) {
	id := p.font.GlyphIndex(r)
	scale := 1000 / p.upem
	width = float64(p.font.GlyphAdvance(id)) * scale
	pw := &pathWriter{}
	if err := p.font.GlyphPath(pw, id, 0, 0, 0, scale, sfntfont.NoHinting); err != nil {
		pw.b.Reset()
	}
	var b bytes.Buffer
	if pw.b.Len() == 0 {
		fmt.Fprintf(&b, "%.0f 0 0 0 0 0 d1\n", width)
		return b.Bytes(), width
	}
	fmt.Fprintf(&b, "%.0f 0 %.0f %.0f %.0f %.0f d1\n", width, math.Floor(pw.minX), math.Floor(pw.minY), math.Ceil(pw.maxX), math.Ceil(pw.maxY))
	b.Write(pw.b.Bytes())
	b.WriteString("f\n")
	return b.Bytes(), width
}

// pathWriter turns glyph outlines into PDF path operators.
type pathWriter struct {
	b                      bytes.Buffer
	x, y                   float64
	minX, minY, maxX, maxY float64
	seen, open             bool
}

func (w *pathWriter) pt(x, y float64) {
	if !w.seen {
		w.minX, w.minY, w.maxX, w.maxY, w.seen = x, y, x, y, true
	}
	w.minX, w.minY = math.Min(w.minX, x), math.Min(w.minY, y)
	w.maxX, w.maxY = math.Max(w.maxX, x), math.Max(w.maxY, y)
}
func (w *pathWriter) MoveTo(x, y float64) {
	w.open = true
	w.pt(x, y)
	fmt.Fprintf(&w.b, "%.1f %.1f m\n", x, y)
	w.x, w.y = x, y
}
func (w *pathWriter) LineTo(x, y float64) {
	w.pt(x, y)
	fmt.Fprintf(&w.b, "%.1f %.1f l\n", x, y)
	w.x, w.y = x, y
}
func (w *pathWriter) QuadTo(cx, cy, x, y float64) {
	// The exact cubic of a quadratic Bézier.
	c1x, c1y := w.x+2.0/3*(cx-w.x), w.y+2.0/3*(cy-w.y)
	c2x, c2y := x+2.0/3*(cx-x), y+2.0/3*(cy-y)
	w.CubeTo(c1x, c1y, c2x, c2y, x, y)
}
func (w *pathWriter) CubeTo(c1x, c1y, c2x, c2y, x, y float64) {
	w.pt(c1x, c1y)
	w.pt(c2x, c2y)
	w.pt(x, y)
	fmt.Fprintf(&w.b, "%.1f %.1f %.1f %.1f %.1f %.1f c\n", c1x, c1y, c2x, c2y, x, y)
	w.x, w.y = x, y
}
func (w *pathWriter) Close() {
	if w.open { // a closepath needs a current point
		w.b.WriteString("h\n")
		w.open = false
	}
}

// write assembles the PDF: catalog, page tree, pages, one Type 3 font per 256 glyphs used,
// each with a ToUnicode map.
func (p *textPDF) write(out io.Writer, pageW, pageH float64) error {
	var buf bytes.Buffer
	offsets := map[int]int{}
	next := 4 // 1 catalog, 2 page tree, 3 info: written last, numbers reserved
	obj := func(n int, body string) int {
		offsets[n] = buf.Len()
		fmt.Fprintf(&buf, "%d 0 obj\n%s\nendobj\n", n, body)
		return n
	}
	alloc := func() int { next++; return next - 1 }
	stream := func(data []byte) int {
		var z bytes.Buffer
		zw := zlib.NewWriter(&z)
		zw.Write(data)
		zw.Close()
		n := alloc()
		offsets[n] = buf.Len()
		fmt.Fprintf(&buf, "%d 0 obj\n<< /Length %d /Filter /FlateDecode >>\nstream\n", n, z.Len())
		buf.Write(z.Bytes())
		buf.WriteString("\nendstream\nendobj\n")
		return n
	}
	buf.WriteString("%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
	var fonts []string
	for fi, runes := range p.fontRunes {
		procs := make([]string, len(runes))
		widths := make([]string, len(runes))
		diffs := make([]string, len(runes))
		var cmap strings.Builder
		cmap.WriteString("/CIDInit /ProcSet findresource begin 12 dict begin begincmap\n/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n/CMapName /Adobe-Identity-UCS def /CMapType 2 def\n1 begincodespacerange <00> <FF> endcodespacerange\n")
		fmt.Fprintf(&cmap, "%d beginbfchar\n", len(runes))
		for i, r := range runes {
			proc, w := p.glyphProc(r)
			procs[i] = fmt.Sprintf("/g%d %d 0 R", i, stream(proc))
			widths[i] = fmt.Sprintf("%.0f", w)
			diffs[i] = fmt.Sprintf("/g%d", i)
			fmt.Fprintf(&cmap, "<%02X> <%s>\n", i, utf16Hex(r))
		}
		cmap.WriteString("endbfchar\nendcmap CMapName currentdict /CMap defineresource pop end end\n")
		tu := stream([]byte(cmap.String()))
		n := obj(alloc(), fmt.Sprintf("<< /Type /Font /Subtype /Type3 /FontBBox [0 -200 1000 1000] /FontMatrix [0.001 0 0 0.001 0 0] "+
			"/CharProcs << %s >> /Encoding << /Type /Encoding /Differences [0 %s] >> /FirstChar 0 /LastChar %d /Widths [%s] "+
			"/Resources << >> /ToUnicode %d 0 R >>",
			strings.Join(procs, " "), strings.Join(diffs, " "), len(runes)-1, strings.Join(widths, " "), tu))
		fonts = append(fonts, fmt.Sprintf("/F%d %d 0 R", fi, n))
	}
	var kids []string
	for _, pg := range p.pages {
		content := stream(pg.Bytes())
		n := obj(alloc(), fmt.Sprintf("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %.2f %.2f] /Resources << /Font << %s >> >> /Contents %d 0 R >>",
			pageW, pageH, strings.Join(fonts, " "), content))
		kids = append(kids, fmt.Sprintf("%d 0 R", n))
	}
	obj(1, "<< /Type /Catalog /Pages 2 0 R >>")
	obj(2, fmt.Sprintf("<< /Type /Pages /Kids [%s] /Count %d >>", strings.Join(kids, " "), len(kids)))
	obj(3, fmt.Sprintf("<< /Title %s /Producer (SealDesk) /Creator (SealDesk) >>", pdfTextString(p.title)))
	xref := buf.Len()
	fmt.Fprintf(&buf, "xref\n0 %d\n0000000000 65535 f \n", next)
	for n := 1; n < next; n++ {
		fmt.Fprintf(&buf, "%010d 00000 n \n", offsets[n])
	}
	fmt.Fprintf(&buf, "trailer\n<< /Size %d /Root 1 0 R /Info 3 0 R >>\nstartxref\n%d\n%%%%EOF\n", next, xref)
	_, err := out.Write(buf.Bytes())
	return err
}

func utf16Hex(r rune) string {
	if r < 0x10000 {
		return fmt.Sprintf("%04X", r)
	}
	r -= 0x10000
	return fmt.Sprintf("%04X%04X", 0xd800+(r>>10), 0xdc00+(r&0x3ff))
}

// pdfTextString encodes s as a UTF-16BE PDF text string.
func pdfTextString(s string) string {
	var b strings.Builder
	b.WriteString("<FEFF")
	for _, r := range s {
		b.WriteString(utf16Hex(r))
	}
	b.WriteString(">")
	return b.String()
}
