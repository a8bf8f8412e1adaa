package ofd

import (
	"bytes"
	"context"
	"encoding/xml"
	"fmt"
	"image"
	"image/png"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"sealdesk/internal/testenv"
)

func TestExpandDeltas(t *testing.T) {
	for in, want := range map[string][]float64{
		"":                       nil,
		"1 2 3":                  {1, 2, 3},
		"g 3 1.5 2":              {1.5, 1.5, 1.5, 2},
		"g 2 1 g 2 3":            {1, 1, 3, 3},
		"4,5":                    {4, 5},
		"g 4 1.5875 3.175 g 2 1": {1.5875, 1.5875, 1.5875, 1.5875, 3.175, 1, 1},
	} {
		if got := expandDeltas(in); !reflect.DeepEqual(got, want) {
			t.Errorf("expandDeltas(%q) = %v, want %v", in, got, want)
		}
	}
}

func TestParsePathData(t *testing.T) {
	p, err := ParsePathData("M 0 0.2 L 73 0.2")
	if err != nil || p.Len() == 0 {
		t.Fatalf("%v %v", p, err)
	}
	if b := p.Bounds(); math.Abs(b.X1-73) > 1e-9 || math.Abs(b.Y0-0.2) > 1e-9 {
		t.Errorf("bounds %v", b)
	}
	// Glued numbers, commas, repeated operands, all operators.
	p, err = ParsePathData("S0,0L10,0 10,10B 10 20 0 20 0 10Q 0 5 5 5A 2 2 0 0 1 9 5C")
	if err != nil {
		t.Fatal(err)
	}
	if b := p.Bounds(); b.X0 < -1e-9 || b.X1 > 10+1e-9 || b.Y1 > 20 {
		t.Errorf("bounds %v", b)
	}
	for _, bad := range []string{"L 1", "M 1 2 3", "X 1 2", "M 1e999 0", "5 5"} {
		if _, err := ParsePathData(bad); err == nil {
			t.Errorf("ParsePathData(%q) accepted", bad)
		}
	}
}

func TestDrawParamRelative(t *testing.T) {
	res := newResources(nil)
	w1, w2 := 0.5, 1.5
	res.DrawParams[1] = &DrawParam{ID: 1, LineWidth: &w1, StrokeColor: &Color{Value: []float64{255, 0, 0}, Alpha: 255, Index: -1}, Join: "Round"}
	res.DrawParams[2] = &DrawParam{ID: 2, Relative: 1, LineWidth: &w2}
	res.DrawParams[3] = &DrawParam{ID: 3, Relative: 3} // a cycle must not hang
	d := &drawer{}
	g := defaultParams()
	d.applyDP(&g, res, 2, 0)
	if g.lineWidth != 1.5 || g.join != "Round" || g.stroke == nil || g.stroke.Value[0] != 255 {
		t.Errorf("inherited params %+v", g)
	}
	g = defaultParams()
	d.applyDP(&g, res, 3, 0)
	if g.lineWidth != 0.353 {
		t.Errorf("cycle changed params %+v", g)
	}
}

// pageWith builds a one-page 100×100 mm OFD whose layer holds body.
func pageWith(t *testing.T, body string, extraRes string) *Reader {
	t.Helper()
	page := `<ofd:Page xmlns:ofd="http://www.ofdspec.org/2016"><ofd:Content><ofd:Layer ID="2">` + body + `</ofd:Layer></ofd:Content></ofd:Page>`
	doc := strings.Replace(okDoc, "</ofd:PageArea>", "</ofd:PageArea><ofd:PublicRes>PublicRes.xml</ofd:PublicRes>", 1)
	res := `<ofd:Res xmlns:ofd="http://www.ofdspec.org/2016" BaseLoc="Res"><ofd:Fonts><ofd:Font ID="9" FontName="宋体"/></ofd:Fonts>` + extraRes + `</ofd:Res>`
	rd, err := openBytes(makeZip(t, zentry{name: "OFD.xml", data: okOFD}, zentry{name: "Doc_0/Document.xml", data: doc},
		zentry{name: "Doc_0/PublicRes.xml", data: res}, zentry{name: "Doc_0/Pages/Page_0/Content.xml", data: page}), nil)
	if err != nil {
		t.Fatal(err)
	}
	return rd
}

func TestTextPositions(t *testing.T) {
	// DeltaX with the g syntax, DeltaY, a Boundary offset and a CTM that scales by 2.
	rd := pageWith(t, `<ofd:TextObject ID="5" Boundary="10 20 80 40" CTM="2 0 0 2 0 0" Font="9" Size="5">`+
		`<ofd:TextCode X="1" Y="5" DeltaX="g 2 6" DeltaY="0 1">甲乙丙</ofd:TextCode></ofd:TextObject>`, "")
	gs, err := rd.Text(context.Background(), 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(gs) != 3 {
		t.Fatalf("%d glyphs", len(gs))
	}
	// Glyph k: object x = 1 + 6k, baseline y = 5 (+1 for the third); page = 10 + 2x, 20 + 2y.
	wantX := []float64{12, 24, 36}
	wantBase := []float64{30, 30, 32}
	for k, g := range gs {
		if math.Abs(g.Box.X-wantX[k]) > 1e-6 {
			t.Errorf("glyph %d x = %g, want %g", k, g.Box.X, wantX[k])
		}
		if base := g.Box.Y + g.Box.H - 2*5*0.12; math.Abs(base-wantBase[k]) > 1e-6 {
			t.Errorf("glyph %d baseline = %g, want %g", k, base, wantBase[k])
		}
		if math.Abs(g.Box.H-10) > 1e-6 {
			t.Errorf("glyph %d height %g, want 10 (size 5 scaled by 2)", k, g.Box.H)
		}
	}
	hits, err := rd.Find(context.Background(), 0, "乙 丙")
	if err != nil || len(hits) != 1 || math.Abs(hits[0].Rect.X-24) > 1e-6 {
		t.Errorf("Find = %+v, %v", hits, err)
	}
}

func TestCGTransform(t *testing.T) {
	m := parseCG(&Node{Children: []*Node{
		{Name: "CGTransform", Attrs: attrs("CodePosition", "1", "CodeCount", "2", "GlyphCount", "1"), Children: []*Node{{Name: "Glyphs", Text: "77"}}},
		{Name: "CGTransform", Attrs: attrs("CodePosition", "3", "CodeCount", "2", "GlyphCount", "2"), Children: []*Node{{Name: "Glyphs", Text: "5 6"}}},
	}})
	want := cgMap{1: {77}, 2: {}, 3: {5}, 4: {6}}
	if !reflect.DeepEqual(m, want) {
		t.Errorf("parseCG = %v, want %v", m, want)
	}
}

func attrs(kv ...string) (out []xml.Attr) {
	for i := 0; i+1 < len(kv); i += 2 {
		out = append(out, xml.Attr{Name: xml.Name{Local: kv[i]}, Value: kv[i+1]})
	}
	return out
}

// pixel returns the colour at (x, y) mm of a render at 25.4 dpi (1 px = 1 mm).
func pixel(img *image.RGBA, x, y int) [3]uint8 {
	o := img.PixOffset(x, y)
	return [3]uint8{img.Pix[o], img.Pix[o+1], img.Pix[o+2]}
}

func TestRenderPathClipAndColors(t *testing.T) {
	// A red filled square 10..60 clipped to the left half (Clip area 0..25 in box space),
	// a blue stroke-only frame with DrawParam colour, and an even-odd ring.
	rd := pageWith(t, `<ofd:PathObject ID="5" Boundary="10 10 50 50" Fill="true" Stroke="false"><ofd:FillColor Value="255 0 0"/>`+
		`<ofd:Clips><ofd:Clip><ofd:Area><ofd:Path Boundary="0 0 25 50"><ofd:AbbreviatedData>M 0 0 L 25 0 L 25 50 L 0 50 C</ofd:AbbreviatedData></ofd:Path></ofd:Area></ofd:Clip></ofd:Clips>`+
		`<ofd:AbbreviatedData>M 0 0 L 50 0 L 50 50 L 0 50 C</ofd:AbbreviatedData></ofd:PathObject>`+
		`<ofd:PathObject ID="6" Boundary="70 10 20 20" DrawParam="7" LineWidth="2"><ofd:AbbreviatedData>M 1 1 L 19 1 L 19 19 L 1 19 C</ofd:AbbreviatedData></ofd:PathObject>`+
		`<ofd:PathObject ID="8" Boundary="70 70 20 20" Fill="true" Stroke="false" Rule="Even-Odd"><ofd:FillColor Value="0 128 0"/>`+
		`<ofd:AbbreviatedData>M 0 0 L 20 0 L 20 20 L 0 20 C M 5 5 L 15 5 L 15 15 L 5 15 C</ofd:AbbreviatedData></ofd:PathObject>`,
		`<ofd:DrawParams><ofd:DrawParam ID="7"><ofd:StrokeColor Value="0 0 255"/></ofd:DrawParam></ofd:DrawParams>`)
	img, err := rd.RenderPage(context.Background(), 0, 25.4, &RenderOptions{BundledFontsOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		x, y int
		want [3]uint8
		what string
	}{
		{20, 30, [3]uint8{255, 0, 0}, "inside the clip"},
		{50, 30, [3]uint8{255, 255, 255}, "clipped away"},
		{71, 20, [3]uint8{0, 0, 255}, "stroke colour from the DrawParam"},
		{80, 20, [3]uint8{255, 255, 255}, "stroke only: no fill"},
		{72, 80, [3]uint8{0, 128, 0}, "even-odd ring"},
		{80, 80, [3]uint8{255, 255, 255}, "even-odd hole"},
	} {
		if got := pixel(img, c.x, c.y); got != c.want {
			t.Errorf("(%d,%d) %s: %v, want %v", c.x, c.y, c.what, got, c.want)
		}
	}
}

func TestExportPDF(t *testing.T) {
	data := SampleContract(2).Bytes()
	rd, err := Open(bytes.NewReader(data), int64(len(data)), nil)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := rd.WritePDF(context.Background(), &buf, nil); err != nil {
		t.Fatal(err)
	}
	out := buf.Bytes()
	if !bytes.HasPrefix(out, []byte("%PDF-")) {
		t.Fatalf("not a PDF: %q", out[:min(len(out), 16)])
	}
	// An independent reader (poppler) sees both pages at A4 and ink on them.
	pdfinfo := testenv.LookPath(t, "pdfinfo")
	pdftoppm := testenv.LookPath(t, "pdftoppm")
	dir := t.TempDir()
	path := filepath.Join(dir, "out.pdf")
	if err := os.WriteFile(path, out, 0o644); err != nil {
		t.Fatal(err)
	}
	info, err := exec.Command(pdfinfo, path).CombinedOutput()
	if err != nil {
		t.Fatalf("pdfinfo: %v\n%s", err, info)
	}
	if !regexp.MustCompile(`(?m)^Pages:\s+2$`).Match(info) || !regexp.MustCompile(`Page size:\s+595.\d* x 841.\d* pts`).Match(info) {
		t.Errorf("pdfinfo:\n%s", info)
	}
	if msg, err := exec.Command(pdftoppm, "-r", "30", "-f", "2", "-l", "2", "-png", path, filepath.Join(dir, "p")).CombinedOutput(); err != nil {
		t.Fatalf("pdftoppm: %v\n%s", err, msg)
	}
	f, err := os.Open(filepath.Join(dir, "p-2.png"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	dark := 0
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			if r, g, bl, _ := img.At(x, y).RGBA(); r+g+bl < 3*0x8000 {
				dark++
			}
		}
	}
	if dark < 200 {
		t.Errorf("page 2 of the PDF shows only %d dark pixels", dark)
	}
}

func TestCancelAndConcurrency(t *testing.T) {
	data := SampleLong(40).Bytes()
	rd, err := Open(bytes.NewReader(data), int64(len(data)), nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := rd.RenderPage(ctx, 0, 50, nil); err != context.Canceled {
		t.Errorf("cancelled render: %v", err)
	}
	// Pages rendered and searched from several goroutines (thumbnails fill in while the user
	// searches); more pages than the page cache holds.
	doc := NewDocument(rd, nil)
	errs := make(chan error, 8)
	for g := 0; g < 4; g++ {
		go func(g int) {
			for i := g; i < rd.NumPages(); i += 4 {
				if _, err := doc.Render(context.Background(), i, 20); err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}(g)
	}
	go func() {
		hits, err := doc.FindText(context.Background(), "第 40 页")
		if err == nil && (len(hits) != 1 || hits[0].Page != 39) {
			err = fmt.Errorf("FindText hits %+v", hits)
		}
		errs <- err
	}()
	for i := 0; i < 5; i++ {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	if len(rd.pages) > maxCachedPages {
		t.Errorf("%d pages cached, limit %d", len(rd.pages), maxCachedPages)
	}
}
