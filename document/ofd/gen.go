package ofd

import (
	"archive/zip"
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// Builder writes new OFD packages: the generator behind test fixtures, benchmarks and the demo's
// sample.ofd. Text references fonts by name without embedding them (as tax invoices do), so
// readers draw it with their own fallback (SealDesk: the bundled CJK font). Output is
// deterministic: the same calls give the same bytes.
type Builder struct {
	Title, Author string
	DocID         string
	CustomData    []CustomData
	pages         []*PageBuilder
	media         []genMedia
	embedded      []genFont
	nextID        int
}

// Font names the builder declares (IDs fixed so output stays stable).
const (
	FontSong = "宋体"
	FontKai  = "楷体"
	FontMono = "Courier New"
)

var genFonts = []struct {
	id   int
	name string
}{{2, FontSong}, {3, FontKai}, {4, FontMono}}

type genMedia struct {
	id     int
	format string
	data   []byte
}

// genFont is a font embedded with EmbedFont.
type genFont struct {
	id   int
	name string
	data []byte
}

// PageBuilder collects one page's objects.
type PageBuilder struct {
	b    *Builder
	W, H float64
	objs []string
}

// NewBuilder starts an empty document.
func NewBuilder(title string) *Builder {
	return &Builder{Title: title, Author: "SealDesk", DocID: "5ea1de5c0ffee0000000000000000001", nextID: 100}
}

func (b *Builder) id() int { b.nextID++; return b.nextID }

// AddPage adds a page of w×h millimetres.
func (b *Builder) AddPage(w, h float64) *PageBuilder {
	p := &PageBuilder{b: b, W: w, H: h}
	b.pages = append(b.pages, p)
	return p
}

func num(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

func esc(s string) string {
	var buf bytes.Buffer
	xml.EscapeText(&buf, []byte(s))
	return buf.String()
}

// TextStyle is how Text draws.
type TextStyle struct {
	Font  string  // FontSong (default), FontKai or FontMono
	Size  float64 // mm (default 4.2333 = 12 pt)
	Color [3]int  // RGB; zero = black
	Bold  bool
}

// Advance is the width the builder gives a character at size: full width for CJK and
// full-width punctuation, half for the rest.
func Advance(r rune, size float64) float64 {
	if r >= 0x2E80 || (r >= 0x3000 && r <= 0x303F) {
		return size
	}
	return size * 0.5
}

// TextWidth is the width of s at size, by Advance.
func TextWidth(s string, size float64) float64 {
	w := 0.0
	for _, r := range s {
		w += Advance(r, size)
	}
	return w
}

// Text draws s with its top-left corner at (x, y) mm on one line, glyphs positioned by DeltaX
// (with the "g" repeat syntax where advances repeat).
func (p *PageBuilder) Text(x, y float64, s string, st TextStyle) {
	if st.Size <= 0 {
		st.Size = 4.2333
	}
	fontID := 2
	for _, f := range genFonts {
		if f.name == st.Font {
			fontID = f.id
		}
	}
	runes := []rune(s)
	if len(runes) == 0 {
		return
	}
	var deltas []float64
	for _, r := range runes[:len(runes)-1] {
		deltas = append(deltas, Advance(r, st.Size))
	}
	w := TextWidth(s, st.Size)
	var attrs string
	if st.Bold {
		attrs = ` Weight="700"`
	}
	var color string
	if st.Color != [3]int{} {
		color = fmt.Sprintf(`<ofd:FillColor Value="%d %d %d"/>`, st.Color[0], st.Color[1], st.Color[2])
	}
	dx := ""
	if len(deltas) > 0 {
		dx = ` DeltaX="` + compressDeltas(deltas) + `"`
	}
	p.objs = append(p.objs, fmt.Sprintf(`<ofd:TextObject ID="%d" Boundary="%s %s %s %s" Font="%d" Size="%s"%s>%s<ofd:TextCode X="0" Y="%s"%s>%s</ofd:TextCode></ofd:TextObject>`,
		p.b.id(), num(x), num(y), num(w+st.Size*0.1), num(st.Size*1.2), fontID, num(st.Size), attrs, color, num(st.Size*0.88), dx, esc(s)))
}

// compressDeltas writes a DeltaX list, folding runs of equal values into "g N v".
func compressDeltas(d []float64) string {
	var parts []string
	for i := 0; i < len(d); {
		j := i
		for j < len(d) && d[j] == d[i] {
			j++
		}
		if n := j - i; n > 1 {
			parts = append(parts, "g", strconv.Itoa(n), num(d[i]))
		} else {
			parts = append(parts, num(d[i]))
		}
		i = j
	}
	return strings.Join(parts, " ")
}

// Line draws a straight line of width w mm.
func (p *PageBuilder) Line(x1, y1, x2, y2, w float64) {
	x0, y0 := min(x1, x2), min(y1, y2)
	p.objs = append(p.objs, fmt.Sprintf(`<ofd:PathObject ID="%d" Boundary="%s %s %s %s" LineWidth="%s"><ofd:AbbreviatedData>M %s %s L %s %s</ofd:AbbreviatedData></ofd:PathObject>`,
		p.b.id(), num(x0-w), num(y0-w), num(abs(x2-x1)+2*w), num(abs(y2-y1)+2*w), num(w), num(x1-x0+w), num(y1-y0+w), num(x2-x0+w), num(y2-y0+w)))
}

func abs(v float64) float64 {
	if v < 0 {
		return -v
	}
	return v
}

// Path draws AbbreviatedData inside box (coordinates relative to the box), stroked and/or
// filled with RGB colours (nil = not painted).
func (p *PageBuilder) Path(box Box, data string, lineWidth float64, stroke, fill *[3]int) {
	var b strings.Builder
	fmt.Fprintf(&b, `<ofd:PathObject ID="%d" Boundary="%s %s %s %s" LineWidth="%s" Stroke="%t" Fill="%t">`,
		p.b.id(), num(box.X), num(box.Y), num(box.W), num(box.H), num(lineWidth), stroke != nil, fill != nil)
	if fill != nil {
		fmt.Fprintf(&b, `<ofd:FillColor Value="%d %d %d"/>`, fill[0], fill[1], fill[2])
	}
	if stroke != nil {
		fmt.Fprintf(&b, `<ofd:StrokeColor Value="%d %d %d"/>`, stroke[0], stroke[1], stroke[2])
	}
	fmt.Fprintf(&b, `<ofd:AbbreviatedData>%s</ofd:AbbreviatedData></ofd:PathObject>`, esc(data))
	p.objs = append(p.objs, b.String())
}

// Rect strokes a rectangle.
func (p *PageBuilder) Rect(r Box, lineWidth float64) {
	p.Path(r, fmt.Sprintf("M 0 0 L %s 0 L %s %s L 0 %s C", num(r.W), num(r.W), num(r.H), num(r.H)), lineWidth, &[3]int{0, 0, 0}, nil)
}

// Image draws an image file (PNG, JPEG, …; format is its MultiMedia Format) into box.
func (p *PageBuilder) Image(box Box, format string, data []byte) {
	id := p.b.AddImage(format, data)
	p.objs = append(p.objs, fmt.Sprintf(`<ofd:ImageObject ID="%d" Boundary="%s %s %s %s" CTM="%s 0 0 %s 0 0" ResourceID="%d"/>`,
		p.b.id(), num(box.X), num(box.Y), num(box.W), num(box.H), num(box.W), num(box.H), id))
}

// AddImage adds an image file to the document's resources and returns its resource ID, for
// objects written with Raw.
func (b *Builder) AddImage(format string, data []byte) int {
	id := b.id()
	b.media = append(b.media, genMedia{id: id, format: format, data: data})
	return id
}

// EmbedFont adds a font whose file (TrueType, OpenType, bare CFF — whatever data holds) is
// embedded in the package, and returns its resource ID for objects written with Raw.
func (b *Builder) EmbedFont(name string, data []byte) int {
	id := b.id()
	b.embedded = append(b.embedded, genFont{id: id, name: name, data: data})
	return id
}

// FontID returns the resource ID of a declared font name (FontSong, FontKai, FontMono), for
// objects written with Raw.
func FontID(name string) int {
	for _, f := range genFonts {
		if f.name == name {
			return f.id
		}
	}
	return genFonts[0].id
}

// Raw adds page-object XML as written (elements in the ofd: namespace prefix), for fixtures that
// exercise what the typed helpers do not write: clips, shadings, negative boundaries, CTMs.
// Object IDs are the caller's; they need only be unique within the page.
func (p *PageBuilder) Raw(xml string) {
	p.objs = append(p.objs, xml)
}

const ns = `xmlns:ofd="http://www.ofdspec.org/2016"`

// zipTime is the fixed modification time of generated entries (deterministic output).
var zipTime = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// WriteTo writes the package.
func (b *Builder) WriteTo(w io.Writer) (int64, error) {
	cw := &countWriter{w: w}
	zw := zip.NewWriter(cw)
	put := func(name, content string) error {
		f, err := zw.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Deflate, Modified: zipTime})
		if err != nil {
			return err
		}
		_, err = io.WriteString(f, content)
		return err
	}
	var info strings.Builder
	fmt.Fprintf(&info, `<ofd:DocID>%s</ofd:DocID><ofd:Title>%s</ofd:Title><ofd:Author>%s</ofd:Author><ofd:CreationDate>2026-01-01</ofd:CreationDate><ofd:Creator>SealDesk</ofd:Creator>`,
		esc(b.DocID), esc(b.Title), esc(b.Author))
	if len(b.CustomData) > 0 {
		info.WriteString("<ofd:CustomDatas>")
		for _, c := range b.CustomData {
			fmt.Fprintf(&info, `<ofd:CustomData Name="%s">%s</ofd:CustomData>`, esc(c.Name), esc(c.Value))
		}
		info.WriteString("</ofd:CustomDatas>")
	}
	files := []struct{ name, content string }{
		{"OFD.xml", fmt.Sprintf(`<?xml version="1.0" encoding="UTF-8"?><ofd:OFD %s Version="1.1" DocType="OFD"><ofd:DocBody><ofd:DocInfo>%s</ofd:DocInfo><ofd:DocRoot>Doc_0/Document.xml</ofd:DocRoot></ofd:DocBody></ofd:OFD>`, ns, info.String())},
	}
	var doc strings.Builder
	fmt.Fprintf(&doc, `<?xml version="1.0" encoding="UTF-8"?><ofd:Document %s><ofd:CommonData><ofd:MaxUnitID>%d</ofd:MaxUnitID>`, ns, b.nextID+len(b.pages)+1)
	if len(b.pages) > 0 {
		fmt.Fprintf(&doc, `<ofd:PageArea><ofd:PhysicalBox>0 0 %s %s</ofd:PhysicalBox></ofd:PageArea>`, num(b.pages[0].W), num(b.pages[0].H))
	}
	doc.WriteString(`<ofd:PublicRes>PublicRes.xml</ofd:PublicRes><ofd:DocumentRes>DocumentRes.xml</ofd:DocumentRes></ofd:CommonData><ofd:Pages>`)
	for i := range b.pages {
		fmt.Fprintf(&doc, `<ofd:Page ID="%d" BaseLoc="Pages/Page_%d/Content.xml"/>`, b.nextID+i+1, i)
	}
	doc.WriteString(`</ofd:Pages></ofd:Document>`)
	files = append(files, struct{ name, content string }{"Doc_0/Document.xml", doc.String()})
	var pub strings.Builder
	fmt.Fprintf(&pub, `<?xml version="1.0" encoding="UTF-8"?><ofd:Res %s BaseLoc="Res"><ofd:ColorSpaces><ofd:ColorSpace ID="1" Type="RGB" BitsPerComponent="8"/></ofd:ColorSpaces><ofd:Fonts>`, ns)
	for _, f := range genFonts {
		fmt.Fprintf(&pub, `<ofd:Font ID="%d" FontName="%s" FamilyName="%s"/>`, f.id, esc(f.name), esc(f.name))
	}
	for _, f := range b.embedded {
		fmt.Fprintf(&pub, `<ofd:Font ID="%d" FontName="%s"><ofd:FontFile>font_%d.ttf</ofd:FontFile></ofd:Font>`, f.id, esc(f.name), f.id)
	}
	pub.WriteString(`</ofd:Fonts></ofd:Res>`)
	files = append(files, struct{ name, content string }{"Doc_0/PublicRes.xml", pub.String()})
	var dres strings.Builder
	fmt.Fprintf(&dres, `<?xml version="1.0" encoding="UTF-8"?><ofd:Res %s BaseLoc="Res">`, ns)
	if len(b.media) > 0 {
		dres.WriteString(`<ofd:MultiMedias>`)
		for _, m := range b.media {
			fmt.Fprintf(&dres, `<ofd:MultiMedia ID="%d" Type="Image" Format="%s"><ofd:MediaFile>image_%d.%s</ofd:MediaFile></ofd:MultiMedia>`, m.id, esc(strings.ToUpper(m.format)), m.id, strings.ToLower(m.format))
		}
		dres.WriteString(`</ofd:MultiMedias>`)
	}
	dres.WriteString(`</ofd:Res>`)
	files = append(files, struct{ name, content string }{"Doc_0/DocumentRes.xml", dres.String()})
	for i, p := range b.pages {
		var c strings.Builder
		fmt.Fprintf(&c, `<?xml version="1.0" encoding="UTF-8"?><ofd:Page %s><ofd:Area><ofd:PhysicalBox>0 0 %s %s</ofd:PhysicalBox></ofd:Area><ofd:Content><ofd:Layer ID="%d" Type="Body">`, ns, num(p.W), num(p.H), b.nextID+len(b.pages)+1+i)
		for _, o := range p.objs {
			c.WriteString(o)
		}
		c.WriteString(`</ofd:Layer></ofd:Content></ofd:Page>`)
		files = append(files, struct{ name, content string }{fmt.Sprintf("Doc_0/Pages/Page_%d/Content.xml", i), c.String()})
	}
	for _, f := range files {
		if err := put(f.name, f.content); err != nil {
			return cw.n, err
		}
	}
	for _, m := range b.media {
		f, err := zw.CreateHeader(&zip.FileHeader{Name: fmt.Sprintf("Doc_0/Res/image_%d.%s", m.id, strings.ToLower(m.format)), Method: zip.Store, Modified: zipTime})
		if err != nil {
			return cw.n, err
		}
		if _, err := f.Write(m.data); err != nil {
			return cw.n, err
		}
	}
	for _, ft := range b.embedded {
		f, err := zw.CreateHeader(&zip.FileHeader{Name: fmt.Sprintf("Doc_0/Res/font_%d.ttf", ft.id), Method: zip.Deflate, Modified: zipTime})
		if err != nil {
			return cw.n, err
		}
		if _, err := f.Write(ft.data); err != nil {
			return cw.n, err
		}
	}
	err := zw.Close()
	return cw.n, err
}

// Bytes returns the package.
func (b *Builder) Bytes() []byte {
	var buf bytes.Buffer
	b.WriteTo(&buf) // writing to memory cannot fail
	return buf.Bytes()
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}
