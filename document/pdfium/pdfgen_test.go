package pdfium

import (
	"bytes"
	"fmt"
	"strings"
	"unicode/utf16"
)

// A minimal PDF writer for tests: pages with content streams, the standard Helvetica font, a
// non-embedded CJK font (STSong-Light, UniGB-UCS2-H, the case Chinese producers emit and the
// one that needs a font on the machine), optional CropBox/Rotate and signature widgets with an
// appearance and a signature dictionary. Writing the file by hand keeps every byte known.

type testSig struct {
	name      string     // field /T
	rect      [4]float64 // user space llx lly urx ury
	subFilter string
	contents  []byte // DER for /Contents
	signed    bool   // has /V
}

type testPage struct {
	media   [4]float64
	crop    *[4]float64
	rotate  int
	content string
	sigs    []testSig
}

type pdfBuilder struct {
	objs [][]byte // object i+1
}

func (b *pdfBuilder) add(s string) int {
	b.objs = append(b.objs, []byte(s))
	return len(b.objs)
}

func (b *pdfBuilder) set(n int, s string) { b.objs[n-1] = []byte(s) }

func stream(dict, data string) string {
	return fmt.Sprintf("<< %s /Length %d >>\nstream\n%s\nendstream", dict, len(data), data)
}

// utf16Hex is a PDF text string in UTF-16BE with BOM, as hex.
func utf16Hex(s string) string {
	var sb strings.Builder
	sb.WriteString("<FEFF")
	for _, u := range utf16.Encode([]rune(s)) {
		fmt.Fprintf(&sb, "%04X", u)
	}
	sb.WriteString(">")
	return sb.String()
}

// cjkHex is the UCS-2 hex string that a UniGB-UCS2-H Tj shows.
func cjkHex(s string) string {
	var sb strings.Builder
	sb.WriteString("<")
	for _, u := range utf16.Encode([]rune(s)) {
		fmt.Fprintf(&sb, "%04X", u)
	}
	sb.WriteString(">")
	return sb.String()
}

func buildPDF(pages []testPage) []byte {
	b := &pdfBuilder{}
	catalog := b.add("")
	pagesObj := b.add("")
	helv := b.add("<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>")
	desc := b.add("<< /Type /FontDescriptor /FontName /STSong-Light /Flags 32 /FontBBox [-25 -254 1000 880] /ItalicAngle 0 /Ascent 880 /Descent -120 /CapHeight 880 /StemV 93 >>")
	cid := b.add(fmt.Sprintf("<< /Type /Font /Subtype /CIDFontType0 /BaseFont /STSong-Light /CIDSystemInfo << /Registry (Adobe) /Ordering (GB1) /Supplement 4 >> /FontDescriptor %d 0 R /DW 1000 >>", desc))
	song := b.add(fmt.Sprintf("<< /Type /Font /Subtype /Type0 /BaseFont /STSong-Light /Encoding /UniGB-UCS2-H /DescendantFonts [%d 0 R] >>", cid))
	var kids, fields []string
	for _, p := range pages {
		pageObj := b.add("")
		contents := b.add(stream("", p.content))
		var annots []string
		for _, s := range p.sigs {
			w, h := s.rect[2]-s.rect[0], s.rect[3]-s.rect[1]
			// Appearance: a red ring with a cross, like a seal.
			ap := b.add(stream(fmt.Sprintf("/Type /XObject /Subtype /Form /BBox [0 0 %g %g]", w, h),
				fmt.Sprintf("1 0 0 RG 1 0 0 rg 3 w %g %g %g %g re S %g %g %g %g re f", 2.0, 2.0, w-4, h-4, w/2-5, h/2-5, 10.0, 10.0)))
			v := ""
			if s.signed {
				sig := b.add(fmt.Sprintf("<< /Type /Sig /Filter /Adobe.PPKLite /SubFilter /%s /ByteRange [0 0 0 0] /Contents <%X> /M (D:20261126090000+08'00') /Reason (test) >>", s.subFilter, s.contents))
				v = fmt.Sprintf("/V %d 0 R", sig)
			}
			wid := b.add(fmt.Sprintf("<< /Type /Annot /Subtype /Widget /FT /Sig /T %s %s /F 132 /Rect [%g %g %g %g] /P %d 0 R /AP << /N %d 0 R >> >>",
				utf16Hex(s.name), v, s.rect[0], s.rect[1], s.rect[2], s.rect[3], pageObj, ap))
			annots = append(annots, fmt.Sprintf("%d 0 R", wid))
			fields = append(fields, fmt.Sprintf("%d 0 R", wid))
		}
		extra := ""
		if p.crop != nil {
			extra += fmt.Sprintf(" /CropBox [%g %g %g %g]", p.crop[0], p.crop[1], p.crop[2], p.crop[3])
		}
		if p.rotate != 0 {
			extra += fmt.Sprintf(" /Rotate %d", p.rotate)
		}
		if len(annots) > 0 {
			extra += " /Annots [" + strings.Join(annots, " ") + "]"
		}
		b.set(pageObj, fmt.Sprintf("<< /Type /Page /Parent %d 0 R /MediaBox [%g %g %g %g]%s /Resources << /Font << /F1 %d 0 R /F2 %d 0 R >> >> /Contents %d 0 R >>",
			pagesObj, p.media[0], p.media[1], p.media[2], p.media[3], extra, helv, song, contents))
		kids = append(kids, fmt.Sprintf("%d 0 R", pageObj))
	}
	b.set(pagesObj, fmt.Sprintf("<< /Type /Pages /Kids [%s] /Count %d >>", strings.Join(kids, " "), len(kids)))
	acro := ""
	if len(fields) > 0 {
		acro = fmt.Sprintf(" /AcroForm << /Fields [%s] /SigFlags 3 >>", strings.Join(fields, " "))
	}
	b.set(catalog, fmt.Sprintf("<< /Type /Catalog /Pages %d 0 R%s >>", pagesObj, acro))

	var out bytes.Buffer
	out.WriteString("%PDF-1.7\n%\xE2\xE3\xCF\xD3\n")
	offs := make([]int, len(b.objs))
	for i, o := range b.objs {
		offs[i] = out.Len()
		fmt.Fprintf(&out, "%d 0 obj\n%s\nendobj\n", i+1, o)
	}
	xref := out.Len()
	fmt.Fprintf(&out, "xref\n0 %d\n0000000000 65535 f \n", len(b.objs)+1)
	for _, o := range offs {
		fmt.Fprintf(&out, "%010d 00000 n \n", o)
	}
	fmt.Fprintf(&out, "trailer\n<< /Size %d /Root %d 0 R >>\nstartxref\n%d\n%%%%EOF\n", len(b.objs)+1, catalog, xref)
	return out.Bytes()
}

// a4 is an A4 page in points.
var a4 = [4]float64{0, 0, 595.28, 841.89}

// samplePage draws what the golden test looks at: coloured boxes, Latin text, Chinese text in
// a non-embedded font and a line grid.
func samplePage() testPage {
	var c strings.Builder
	c.WriteString("0.9 0.95 1 rg 40 700 515 100 re f\n")
	c.WriteString("0 0 0.6 RG 2 w 40 700 515 100 re S\n")
	c.WriteString("BT /F1 28 Tf 0 0 0.4 rg 60 760 Td (SealDesk preview test) Tj ET\n")
	c.WriteString("BT /F1 12 Tf 0 g 60 720 Td (Contract No. 2026-0042  Amount: 12,345.00 CNY) Tj ET\n")
	c.WriteString("BT /F2 24 Tf 0 g 60 640 Td " + cjkHex("电子印章测试合同") + " Tj ET\n")
	c.WriteString("BT /F2 16 Tf 0 g 60 600 Td " + cjkHex("甲方（盖章）：北京某某科技有限公司") + " Tj ET\n")
	c.WriteString("0.8 0 0 rg 60 400 120 120 re f 0 0.6 0 rg 220 400 120 120 re f 0 0 0.8 rg 380 400 120 120 re f\n")
	c.WriteString("0.5 G 0.5 w\n")
	for x := 60; x <= 500; x += 40 {
		fmt.Fprintf(&c, "%d 100 m %d 360 l S\n", x, x)
	}
	for y := 100; y <= 360; y += 40 {
		fmt.Fprintf(&c, "60 %d m 500 %d l S\n", y, y)
	}
	return testPage{media: a4, content: c.String()}
}
