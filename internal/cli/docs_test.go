package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf16"
)

// docsTestPDF writes a two-page A4 PDF: page 1 has "Hello SealDesk" in Helvetica at (72, 700)
// and 合同专用章 in the non-embedded STSong-Light at (72, 600); page 2 is rotated by 90 degrees.
func docsTestPDF(t *testing.T) string {
	t.Helper()
	cjk := ""
	for _, u := range utf16.Encode([]rune("合同专用章")) {
		cjk += fmt.Sprintf("%04X", u)
	}
	content := "BT /F1 24 Tf 72 700 Td (Hello SealDesk) Tj ET BT /F2 20 Tf 72 600 Td <" + cjk + "> Tj ET"
	objs := []string{
		"<< /Type /Catalog /Pages 2 0 R >>",
		"<< /Type /Pages /Kids [3 0 R 4 0 R] /Count 2 >>",
		"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595.28 841.89] /Resources 6 0 R /Contents 5 0 R >>",
		"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595.28 841.89] /Rotate 90 /Resources 6 0 R /Contents 5 0 R >>",
		fmt.Sprintf("<< /Length %d >>\nstream\n%s\nendstream", len(content), content),
		"<< /Font << /F1 << /Type /Font /Subtype /Type1 /BaseFont /Helvetica >> /F2 7 0 R >> >>",
		"<< /Type /Font /Subtype /Type0 /BaseFont /STSong-Light /Encoding /UniGB-UCS2-H /DescendantFonts [8 0 R] >>",
		"<< /Type /Font /Subtype /CIDFontType0 /BaseFont /STSong-Light /CIDSystemInfo << /Registry (Adobe) /Ordering (GB1) /Supplement 4 >> /FontDescriptor 9 0 R >>",
		"<< /Type /FontDescriptor /FontName /STSong-Light /Flags 32 /FontBBox [0 -200 1000 900] /ItalicAngle 0 /Ascent 880 /Descent -120 /CapHeight 880 /StemV 80 >>",
	}
	var b bytes.Buffer
	b.WriteString("%PDF-1.7\n")
	offs := make([]int, len(objs))
	for i, o := range objs {
		offs[i] = b.Len()
		fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", i+1, o)
	}
	x := b.Len()
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f \n", len(objs)+1)
	for _, o := range offs {
		fmt.Fprintf(&b, "%010d 00000 n \n", o)
	}
	fmt.Fprintf(&b, "trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n", len(objs)+1, x)
	p := filepath.Join(t.TempDir(), "doc.pdf")
	if err := os.WriteFile(p, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func sealctl(args ...string) (code int, stdout, stderr string) {
	var out, errb bytes.Buffer
	code = Main("sealctl", args, nil, &out, &errb)
	return code, out.String(), errb.String()
}

func TestDocsInfo(t *testing.T) {
	p := docsTestPDF(t)
	code, out, errs := sealctl("info", p, "--json")
	if code != 0 {
		t.Fatalf("info: exit %d: %s", code, errs)
	}
	var info Info
	if err := json.Unmarshal([]byte(out), &info); err != nil {
		t.Fatalf("info --json is not JSON: %v\n%s", err, out)
	}
	if info.Format != "pdf" || info.Pages != 2 || len(info.PageSizes) != 2 || info.Signatures != 0 {
		t.Fatalf("info = %+v", info)
	}
	if s := info.PageSizes[0]; s.Page != 1 || math.Abs(s.W-210) > 0.1 || math.Abs(s.H-297) > 0.1 {
		t.Errorf("page 1 size %+v, want A4 portrait", s)
	}
	if s := info.PageSizes[1]; math.Abs(s.W-297) > 0.1 || math.Abs(s.H-210) > 0.1 {
		t.Errorf("page 2 (/Rotate 90) size %+v, want A4 landscape", s)
	}
	code, out, _ = sealctl("info", p)
	if code != 0 || !strings.Contains(out, "pages:      2") || !strings.Contains(out, "297.0 x 210.0 mm") {
		t.Errorf("info text: exit %d\n%s", code, out)
	}
	// Errors: missing file, not a document, no argument.
	if code, _, errs := sealctl("info", filepath.Join(t.TempDir(), "none.pdf")); code != 2 || errs == "" {
		t.Errorf("missing file: exit %d %q", code, errs)
	}
	junk := filepath.Join(t.TempDir(), "junk.pdf")
	os.WriteFile(junk, []byte("%PDF-1.4 but nothing else"), 0o644)
	if code, _, errs := sealctl("info", junk); code != 2 || !strings.Contains(errs, "junk.pdf") {
		t.Errorf("malformed file: exit %d %q", code, errs)
	}
	if code, _, _ := sealctl("info"); code != 2 {
		t.Errorf("no file: exit %d", code)
	}
}

func TestDocsRender(t *testing.T) {
	p := docsTestPDF(t)
	out := filepath.Join(t.TempDir(), "p2.png")
	if code, _, errs := sealctl("render", p, "--page", "2", "--dpi", "50", "-o", out); code != 0 {
		t.Fatalf("render: exit %d: %s", code, errs)
	}
	f, err := os.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	// Page 2 is A4 landscape: 841.89 x 595.28 pt at 50 dpi.
	if sz := img.Bounds().Size(); sz.X != 585 || sz.Y != 413 {
		t.Errorf("rendered %v, want 585x413", sz)
	}
	if code, _, errs := sealctl("render", p, "--page", "3", "-o", out); code != 2 || !strings.Contains(errs, "page 3") {
		t.Errorf("page out of range: exit %d %q", code, errs)
	}
	if code, _, _ := sealctl("render", p, "--page", "1"); code != 2 {
		t.Errorf("missing -o: exit %d", code)
	}
	before, _ := os.ReadFile(p)
	if code, _, _ := sealctl("render", p, "-o", p); code != 2 {
		t.Errorf("output over the input: exit %d", code)
	}
	if after, _ := os.ReadFile(p); !bytes.Equal(before, after) {
		t.Error("the input file was modified")
	}
}

func TestDocsFind(t *testing.T) {
	p := docsTestPDF(t)
	code, out, errs := sealctl("find", p, "--text", "专用章", "--json")
	if code != 0 {
		t.Fatalf("find: exit %d: %s", code, errs)
	}
	var res FindResult
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		t.Fatalf("find --json: %v\n%s", err, out)
	}
	if len(res.Hits) != 2 || res.Hits[0].Page != 1 || res.Hits[1].Page != 2 {
		t.Fatalf("hits = %+v, want one on page 1 and one on page 2", res.Hits)
	}
	// 合同专用章 at x=72 pt, 20 pt glyphs: 专用章 starts at 112 pt = 39.51 mm; baseline 600 pt
	// from the bottom = 85.48 mm from the top.
	h := res.Hits[0].Rect
	if math.Abs(h.X-39.51) > 0.3 || math.Abs(h.W-21.17) > 0.5 || h.Y > 85.48 || h.Y+h.H < 85.48 {
		t.Errorf("hit rect %+v mm", h)
	}
	code, out, _ = sealctl("find", p, "--text", "hello sealdesk")
	if code != 0 || !strings.HasPrefix(out, "page 1 ") {
		t.Errorf("text find: exit %d %q", code, out)
	}
	if code, _, errs := sealctl("find", p, "--text", "absent"); code != 1 || !strings.Contains(errs, "not found") {
		t.Errorf("no hit: exit %d %q (want 1)", code, errs)
	}
	if code, out, _ := sealctl("find", p, "--text", "absent", "--json"); code != 1 || !strings.Contains(out, `"hits": []`) {
		t.Errorf("no hit with --json: exit %d %q", code, out)
	}
	if code, _, _ := sealctl("find", p); code != 2 {
		t.Errorf("missing --text: exit %d", code)
	}
}
