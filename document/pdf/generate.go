package pdf

import (
	"bufio"
	"bytes"
	"compress/zlib"
	"fmt"
	"io"
	"strconv"
	"unicode/utf16"
)

// Sample documents written by code: the demo's contract and test inputs of every shape the
// signer must handle (classic xref or xref stream, rotated pages, CropBox offsets). Text uses
// the non-embedded Adobe-GB1 font STSong-Light with the UniGB-UCS2-H CMap, so the text is
// extractable (UCS-2 codes) and any CJK font a viewer has renders it.

// SampleLine is one line of text at (X, Y) points from the page's bottom-left in user space.
type SampleLine struct {
	X, Y, Size float64
	Text       string
}

// SamplePage describes one generated page.
type SamplePage struct {
	W, H    float64 // MediaBox size in points
	Rotate  int
	CropBox *[4]float64
	Lines   []SampleLine
	// Fill draws a light grey rectangle behind everything (tests look for untouched pixels).
	Fill bool
}

// SampleOptions selects the file structure.
type SampleOptions struct {
	XrefStream bool // cross-reference stream (PDF 1.5) instead of a classic table
	Compress   bool // Flate-compress content streams
}

// GenerateSample writes a PDF with the given pages.
func GenerateSample(pages []SamplePage, o SampleOptions) []byte {
	var buf bytes.Buffer
	offsets := map[int]int{}
	obj := func(num int, body string) {
		offsets[num] = buf.Len()
		fmt.Fprintf(&buf, "%d 0 obj\n%s\nendobj\n", num, body)
	}
	stream := func(num int, dict string, data []byte) {
		offsets[num] = buf.Len()
		if o.Compress {
			var z bytes.Buffer
			zw := zlib.NewWriter(&z)
			zw.Write(data)
			zw.Close()
			data = z.Bytes()
			dict += "/Filter/FlateDecode"
		}
		fmt.Fprintf(&buf, "%d 0 obj\n<<%s/Length %d>>\nstream\n", num, dict, len(data))
		buf.Write(data)
		buf.WriteString("\nendstream\nendobj\n")
	}
	version := "1.4"
	if o.XrefStream {
		version = "1.5"
	}
	fmt.Fprintf(&buf, "%%PDF-%s\n%%\xe2\xe3\xcf\xd3\n", version)
	// 1 catalog, 2 pages, 3 font, 4 descendant, 5 descriptor, 6 info, then 2 per page.
	n := len(pages)
	kids := ""
	for i := range pages {
		kids += fmt.Sprintf("%d 0 R ", 7+2*i)
	}
	obj(1, "<</Type/Catalog/Pages 2 0 R>>")
	obj(2, fmt.Sprintf("<</Type/Pages/Count %d/Kids[%s]>>", n, kids))
	obj(3, "<</Type/Font/Subtype/Type0/BaseFont/STSong-Light/Encoding/UniGB-UCS2-H/DescendantFonts[4 0 R]>>")
	obj(4, "<</Type/Font/Subtype/CIDFontType0/BaseFont/STSong-Light/CIDSystemInfo<</Registry(Adobe)/Ordering(GB1)/Supplement 4>>/FontDescriptor 5 0 R/DW 1000/W[1 95 500]>>")
	obj(5, "<</Type/FontDescriptor/FontName/STSong-Light/Flags 6/FontBBox[-25 -254 1000 880]/ItalicAngle 0/Ascent 880/Descent -120/CapHeight 880/StemV 93>>")
	obj(6, "<</Producer(SealDesk sample generator)/Title<FEFF"+utf16Hex("合同")+">>>")
	for i, p := range pages {
		pn, cn := 7+2*i, 8+2*i
		box := fmt.Sprintf("[0 0 %s %s]", num(p.W), num(p.H))
		extra := ""
		if p.Rotate != 0 {
			extra += fmt.Sprintf("/Rotate %d", p.Rotate)
		}
		if p.CropBox != nil {
			c := p.CropBox
			extra += fmt.Sprintf("/CropBox[%s %s %s %s]", num(c[0]), num(c[1]), num(c[2]), num(c[3]))
		}
		obj(pn, fmt.Sprintf("<</Type/Page/Parent 2 0 R/MediaBox%s%s/Resources<</Font<</F1 3 0 R>>>>/Contents %d 0 R>>", box, extra, cn))
		var c bytes.Buffer
		if p.Fill {
			fmt.Fprintf(&c, "0.9 g 0 0 %s %s re f 0 g\n", num(p.W), num(p.H))
		}
		for _, l := range p.Lines {
			fmt.Fprintf(&c, "BT /F1 %s Tf %s %s Td <%s> Tj ET\n", num(l.Size), num(l.X), num(l.Y), utf16Hex(l.Text))
		}
		stream(cn, "", c.Bytes())
	}
	size := 7 + 2*n
	xref := buf.Len()
	if o.XrefStream {
		offsets[size] = xref
		var data []byte
		data = append(data, 0, 0, 0, 0, 0xff, 0xff)
		for i := 1; i <= size; i++ {
			off := offsets[i]
			data = append(data, 1, byte(off>>24), byte(off>>16), byte(off>>8), byte(off), 0)
		}
		fmt.Fprintf(&buf, "%d 0 obj\n<</Type/XRef/Size %d/W[1 4 1]/Root 1 0 R/Info 6 0 R/ID[<%s><%s>]/Length %d>>\nstream\n", size, size+1, sampleID, sampleID, len(data))
		buf.Write(data)
		buf.WriteString("\nendstream\nendobj\n")
	} else {
		fmt.Fprintf(&buf, "xref\n0 %d\n0000000000 65535 f\r\n", size)
		for i := 1; i < size; i++ {
			fmt.Fprintf(&buf, "%010d 00000 n\r\n", offsets[i])
		}
		fmt.Fprintf(&buf, "trailer\n<</Size %d/Root 1 0 R/Info 6 0 R/ID[<%s><%s>]>>\n", size, sampleID, sampleID)
	}
	buf.WriteString("startxref\n" + strconv.Itoa(xref) + "\n%%EOF\n")
	return buf.Bytes()
}

const sampleID = "5365616C4465736B53616D706C650001"

func utf16Hex(s string) string {
	var b []byte
	for _, u := range utf16.Encode([]rune(s)) {
		b = append(b, hexDigits[u>>12], hexDigits[(u>>8)&15], hexDigits[(u>>4)&15], hexDigits[u&15])
	}
	return string(b)
}

// SampleContract returns the demo's 3-page Chinese contract (A4): page 2 is rotated by 90
// degrees; the last page carries the "甲方（盖章）" and "乙方（盖章）" keywords that keyword
// placement looks for.
func SampleContract() []byte {
	const w, h = 595.28, 841.89
	p1 := SamplePage{W: w, H: h, Lines: []SampleLine{
		{X: 200, Y: 760, Size: 22, Text: "技术服务合同"},
		{X: 72, Y: 700, Size: 12, Text: "合同编号：SD-2026-0001"},
		{X: 72, Y: 670, Size: 12, Text: "甲方：北京示例科技有限公司"},
		{X: 72, Y: 645, Size: 12, Text: "乙方：上海样本信息技术有限公司"},
		{X: 72, Y: 600, Size: 12, Text: "第一条  服务内容：乙方为甲方提供电子印章系统的部署与维护服务。"},
		{X: 72, Y: 575, Size: 12, Text: "第二条  服务期限：自2026年1月1日起至2026年12月31日止。"},
		{X: 72, Y: 550, Size: 12, Text: "第三条  合同金额：人民币壹拾万元整（RMB 100,000.00）。"},
	}}
	p2 := SamplePage{W: w, H: h, Rotate: 90, Lines: []SampleLine{
		{X: 72, Y: 760, Size: 12, Text: "附件一：服务清单（本页横向显示）"},
		{X: 72, Y: 735, Size: 12, Text: "1. 电子印章制作与备案"},
		{X: 72, Y: 710, Size: 12, Text: "2. 签章客户端安装与培训"},
		{X: 72, Y: 685, Size: 12, Text: "3. 签章验证服务"},
	}}
	p3 := SamplePage{W: w, H: h, Lines: []SampleLine{
		{X: 72, Y: 760, Size: 12, Text: "第四条  争议解决：双方协商不成的，提交甲方所在地人民法院诉讼解决。"},
		{X: 72, Y: 735, Size: 12, Text: "第五条  本合同一式两份，甲乙双方各执一份，自双方盖章之日起生效。"},
		{X: 72, Y: 600, Size: 14, Text: "甲方（盖章）"},
		{X: 340, Y: 600, Size: 14, Text: "乙方（盖章）"},
		{X: 72, Y: 560, Size: 12, Text: "日期：2026年  月  日"},
		{X: 340, Y: 560, Size: 12, Text: "日期：2026年  月  日"},
	}}
	return GenerateSample([]SamplePage{p1, p2, p3}, SampleOptions{Compress: true})
}

// WriteImagePDF writes a large PDF cheaply, for tests and benchmarks that need size (the
// 200 MB signing benchmark, the kill -9 test of sealctl sign): pages pages, each showing one
// uncompressed RGB image of about imgBytes bytes.
func WriteImagePDF(out io.Writer, pages int, imgBytes int) error {
	w := bufio.NewWriterSize(out, 1<<20)
	off := 0
	offsets := map[int]int{}
	write := func(s string) { n, _ := w.WriteString(s); off += n }
	write("%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
	n := 3 + 3*pages
	kids := ""
	for i := 0; i < pages; i++ {
		kids += fmt.Sprintf("%d 0 R ", 3+3*i)
	}
	offsets[1] = off
	write("1 0 obj\n<</Type/Catalog/Pages 2 0 R>>\nendobj\n")
	offsets[2] = off
	write(fmt.Sprintf("2 0 obj\n<</Type/Pages/Count %d/Kids[%s]>>\nendobj\n", pages, kids))
	side := 1
	for side*side*3 < imgBytes {
		side++
	}
	row := make([]byte, side*3)
	for i := 0; i < pages; i++ {
		p, c, im := 3+3*i, 4+3*i, 5+3*i
		offsets[p] = off
		write(fmt.Sprintf("%d 0 obj\n<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]/Resources<</XObject<</Im0 %d 0 R>>>>/Contents %d 0 R>>\nendobj\n", p, im, c))
		content := "q 500 0 0 700 50 70 cm /Im0 Do Q"
		offsets[c] = off
		write(fmt.Sprintf("%d 0 obj\n<</Length %d>>\nstream\n%s\nendstream\nendobj\n", c, len(content), content))
		offsets[im] = off
		write(fmt.Sprintf("%d 0 obj\n<</Type/XObject/Subtype/Image/Width %d/Height %d/ColorSpace/DeviceRGB/BitsPerComponent 8/Length %d>>\nstream\n", im, side, side, side*side*3))
		for y := 0; y < side; y++ {
			for x := range row {
				row[x] = byte(x*7 + y*13 + i)
			}
			m, err := w.Write(row)
			off += m
			if err != nil {
				return err
			}
		}
		write("\nendstream\nendobj\n")
	}
	xref := off
	write(fmt.Sprintf("xref\n0 %d\n0000000000 65535 f\r\n", n))
	for i := 1; i < n; i++ {
		write(fmt.Sprintf("%010d 00000 n\r\n", offsets[i]))
	}
	write(fmt.Sprintf("trailer\n<</Size %d/Root 1 0 R>>\nstartxref\n%d\n%%%%EOF\n", n, xref))
	return w.Flush()
}
