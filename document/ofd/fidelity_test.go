package ofd

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sealdesk/assets"
)

// Rendering fidelity on minimal OFDs made by the generator: each test draws the one construct a
// real file got wrong and asserts pixels where the content must be (and paper where it must not).

const fidDPI = 96

func renderBuilt(t *testing.T, b *Builder) (*Reader, *image.RGBA) {
	t.Helper()
	data := b.Bytes()
	rd, err := Open(bytes.NewReader(data), int64(len(data)), nil)
	if err != nil {
		t.Fatal(err)
	}
	img, err := rd.RenderPage(context.Background(), 0, fidDPI, &RenderOptions{BundledFontsOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	return rd, img
}

// region returns the pixel rectangle of page box (mm) at dpi.
func region(img *image.RGBA, mm Box, dpi float64) image.Rectangle {
	k := dpi / 25.4
	r := image.Rect(int(math.Floor(mm.X*k)), int(math.Floor(mm.Y*k)), int(math.Ceil((mm.X+mm.W)*k)), int(math.Ceil((mm.Y+mm.H)*k)))
	return r.Intersect(img.Bounds())
}

// count returns how many pixels of the mm box satisfy pred.
func count(img *image.RGBA, mm Box, dpi float64, pred func(c color.RGBA) bool) int {
	n := 0
	r := region(img, mm, dpi)
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			if pred(img.RGBAAt(x, y)) {
				n++
			}
		}
	}
	return n
}

func isInk(c color.RGBA) bool   { return int(c.R)+int(c.G)+int(c.B) < 3*160 }
func notPaper(c color.RGBA) bool { return int(c.R)+int(c.G)+int(c.B) < 3*245 }
func isRed(c color.RGBA) bool    { return c.R > 180 && c.G < 90 && c.B < 90 }
func isBlue(c color.RGBA) bool   { return c.B > 180 && c.R < 90 && c.G < 90 }

// mustInk fails unless at least min pixels in the box are ink (by pred).
func mustInk(t *testing.T, img *image.RGBA, what string, mm Box, pred func(color.RGBA) bool, min int) {
	t.Helper()
	if n := count(img, mm, fidDPI, pred); n < min {
		saveFailed(t, img)
		t.Errorf("%s: %d matching pixels in %v mm, want at least %d", what, n, mm, min)
	}
}

// mustBlank fails if any pixel in the box is not paper.
func mustBlank(t *testing.T, img *image.RGBA, what string, mm Box) {
	t.Helper()
	if n := count(img, mm, fidDPI, notPaper); n > 0 {
		saveFailed(t, img)
		t.Errorf("%s: %d painted pixels in %v mm, want none", what, n, mm)
	}
}

func saveFailed(t *testing.T, img *image.RGBA) {
	// Outside t.TempDir, which is removed when the test ends: the failure is to be looked at.
	out := filepath.Join(os.TempDir(), "ofd-"+strings.ReplaceAll(t.Name(), "/", "-")+".png")
	if f, err := os.Create(out); err == nil {
		png.Encode(f, img)
		f.Close()
		t.Logf("render saved to %s", out)
	}
}

func solidPNG(c color.RGBA, w, h int) []byte {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for i := 0; i < len(img.Pix); i += 4 {
		img.Pix[i], img.Pix[i+1], img.Pix[i+2], img.Pix[i+3] = c.R, c.G, c.B, c.A
	}
	var buf bytes.Buffer
	png.Encode(&buf, img)
	return buf.Bytes()
}

// Right-aligned amounts of the AntChain e-invoice: Boundary with a negative width, the text at
// X = -width, so it ends at the Boundary's x.
func TestNegativeBoundary(t *testing.T) {
	b := NewBuilder("neg")
	p := b.AddPage(100, 60)
	p.Raw(fmt.Sprintf(`<ofd:TextObject ID="9001" Boundary="80 10 -30 10" Font="%d" Size="6"><ofd:TextCode X="-30" Y="7" DeltaX="g 4 6">88888</ofd:TextCode></ofd:TextObject>`, FontID(FontSong)))
	p.Raw(`<ofd:PathObject ID="9002" Boundary="90 50 -20 -10" Stroke="false" Fill="true"><ofd:FillColor Value="255 0 0"/><ofd:AbbreviatedData>M -20 -10 L 0 -10 L 0 0 L -20 0 C</ofd:AbbreviatedData></ofd:PathObject>`)
	rd, img := renderBuilt(t, b)
	mustInk(t, img, "right-aligned text", Box{50, 10, 30, 10}, isInk, 60)
	mustBlank(t, img, "left of the text", Box{0, 0, 48, 60})
	mustInk(t, img, "path with negative width and height", Box{71, 41, 18, 8}, isRed, 200)
	hits, err := rd.Find(context.Background(), 0, "88888")
	if err != nil || len(hits) != 1 {
		t.Fatalf("find: %v %v", hits, err)
	}
	if r := hits[0].Rect; r.X < 49 || r.X+r.W > 81.5 || r.Y < 9 || r.Y+r.H > 21 {
		t.Errorf("find answers %+v mm, want inside the boundary 50..80 × 10..20", r)
	}
}

// GB/T 33190 allows colour components in hexadecimal ("#ee #20 #25"); the dms360 page is all
// "#0 #0 #0".
func TestHexColours(t *testing.T) {
	b := NewBuilder("hex")
	p := b.AddPage(100, 60)
	p.Raw(`<ofd:PathObject ID="9001" Boundary="10 10 30 20" Stroke="false" Fill="true"><ofd:FillColor Value="#ee #20 #25" ColorSpace="1"/><ofd:AbbreviatedData>M 0 0 L 30 0 L 30 20 L 0 20 C</ofd:AbbreviatedData></ofd:PathObject>`)
	p.Raw(fmt.Sprintf(`<ofd:TextObject ID="9002" Boundary="50 10 40 10" Font="%d" Size="8"><ofd:FillColor Value="#0 #0 #0"/><ofd:TextCode X="0" Y="7" DeltaX="8 8">测试文</ofd:TextCode></ofd:TextObject>`, FontID(FontSong)))
	_, img := renderBuilt(t, b)
	mustInk(t, img, "hex-coloured fill", Box{12, 12, 26, 16}, func(c color.RGBA) bool {
		return c.R == 0xee && c.G == 0x20 && c.B == 0x25
	}, 1000)
	mustInk(t, img, "hex-coloured text", Box{50, 10, 26, 10}, isInk, 80)
}

// An image clipped to its own unit square with TransFlag="true": the object's CTM applies to
// the clip (the yunnan permit's full-page background).
func TestClipTransFlag(t *testing.T) {
	b := NewBuilder("clip")
	p := b.AddPage(100, 60)
	img := b.AddImage("PNG", solidPNG(color.RGBA{0, 0, 255, 255}, 8, 8))
	p.Raw(fmt.Sprintf(`<ofd:ImageObject ID="9001" CTM="40 0 0 30 0 0" Boundary="10 10 40 30" ResourceID="%d"><ofd:Clips TransFlag="true"><ofd:Clip><ofd:Area><ofd:Path Boundary="0 0 1 1" Fill="true"><ofd:AbbreviatedData>M 0 0 L 0.5 0 L 0.5 1 L 0 1 C</ofd:AbbreviatedData></ofd:Path></ofd:Area></ofd:Clip></ofd:Clips></ofd:ImageObject>`, img))
	// Without TransFlag the same area is in Boundary space: a clip 0.5 × 1 mm.
	p.Raw(fmt.Sprintf(`<ofd:ImageObject ID="9002" CTM="30 0 0 10 0 0" Boundary="60 40 30 10" ResourceID="%d"><ofd:Clips><ofd:Clip><ofd:Area><ofd:Path Boundary="0 0 1 1"><ofd:AbbreviatedData>M 0 0 L 15 0 L 15 10 L 0 10 C</ofd:AbbreviatedData></ofd:Path></ofd:Area></ofd:Clip></ofd:Clips></ofd:ImageObject>`, img))
	_, out := renderBuilt(t, b)
	mustInk(t, out, "clipped image, left half", Box{11, 11, 18, 28}, isBlue, 1500)
	mustBlank(t, out, "clipped image, right half", Box{31, 9, 20, 32})
	mustInk(t, out, "untransformed clip", Box{61, 41, 13, 8}, isBlue, 300)
	mustBlank(t, out, "outside the untransformed clip", Box{76, 39, 16, 12})
}

// Vertical labels (购买方) are TextCodes with DeltaY and no DeltaX: X must not advance.
func TestDeltaYOnly(t *testing.T) {
	b := NewBuilder("vertical")
	p := b.AddPage(60, 60)
	p.Raw(fmt.Sprintf(`<ofd:TextObject ID="9001" Boundary="10 5 10 45" Font="%d" Size="6"><ofd:TextCode X="2" Y="8" DeltaY="10 10">购买方</ofd:TextCode></ofd:TextObject>`, FontID(FontSong)))
	rd, img := renderBuilt(t, b)
	for k := 0; k < 3; k++ {
		mustInk(t, img, fmt.Sprintf("character %d", k+1), Box{12, 8 + float64(k)*10 - 5.5, 6, 6}, isInk, 12)
	}
	mustBlank(t, img, "right of the column", Box{19.5, 0, 40, 60})
	gs, err := rd.Text(context.Background(), 0)
	if err != nil || len(gs) != 3 {
		t.Fatalf("text: %v %v", gs, err)
	}
	for k, g := range gs {
		if math.Abs(g.Box.X-12) > 0.01 {
			t.Errorf("glyph %d at x=%.2f mm, want 12", k, g.Box.X)
		}
	}
}

// Fill="true" without any FillColor paints nothing: the default fill is transparent.
func TestFillWithoutColour(t *testing.T) {
	b := NewBuilder("fill")
	p := b.AddPage(60, 40)
	p.Raw(`<ofd:PathObject ID="9001" Boundary="10 10 20 20" Stroke="false" Fill="true"><ofd:AbbreviatedData>M 0 0 L 20 0 L 20 20 L 0 20 C</ofd:AbbreviatedData></ofd:PathObject>`)
	p.Raw(`<ofd:PathObject ID="9002" Boundary="35 10 20 20" Fill="true"><ofd:AbbreviatedData>M 0 0 L 20 0 L 20 20 L 0 20 C</ofd:AbbreviatedData></ofd:PathObject>`)
	_, img := renderBuilt(t, b)
	mustBlank(t, img, "fill without colour", Box{9, 9, 22, 22})
	mustBlank(t, img, "inside the stroked square", Box{37, 12, 16, 16})
	mustInk(t, img, "stroke of the second square (default black)", Box{34, 9, 22, 2}, isInk, 20)
}

// noCmapFont is the bundled font (OpenType/CFF) without its cmap table, as subset fonts in
// converted documents come: only glyph indices (CGTransform) can address it.
func noCmapFont(t *testing.T) []byte {
	ts, _, err := readTables(assets.CJKFont())
	if err != nil {
		t.Fatal(err)
	}
	var keep []sfntTable
	for _, tb := range ts {
		if tb.tag != "cmap" {
			keep = append(keep, tb)
		}
	}
	return writeSFNT([]byte("OTTO"), keep)
}

// bareCFF is the bundled font's CFF table alone: a CID-keyed CFF font with no OpenType wrapper.
func bareCFF(t *testing.T) []byte {
	ts, _, err := readTables(assets.CJKFont())
	if err != nil {
		t.Fatal(err)
	}
	c := tableOf(ts, "CFF ")
	if c == nil {
		t.Fatal("bundled font has no CFF table")
	}
	return c
}

// The text says 一 (one horizontal stroke), CGTransform says glyph "|" of the embedded font:
// a reader that uses the embedded glyphs draws a vertical bar, one that falls back to a system
// font draws a horizontal stroke.
func TestEmbeddedFontsByGlyphIndex(t *testing.T) {
	bar := bundledFace().index('|')
	if bar == 0 {
		t.Fatal("bundled font has no |")
	}
	for _, c := range []struct {
		name, problem string
		data          func(*testing.T) []byte
	}{
		{"no-cmap", "no cmap", noCmapFont},
		{"bare-cff", "bare CFF", bareCFF},
	} {
		t.Run(c.name, func(t *testing.T) {
			b := NewBuilder("font")
			p := b.AddPage(60, 40)
			id := b.EmbedFont("Subset-"+c.name, c.data(t))
			p.Raw(fmt.Sprintf(`<ofd:TextObject ID="9001" Boundary="10 5 30 30" Font="%d" Size="20"><ofd:CGTransform CodePosition="0" CodeCount="1" GlyphCount="1"><ofd:Glyphs>%d</ofd:Glyphs></ofd:CGTransform><ofd:TextCode X="0" Y="20">一</ofd:TextCode></ofd:TextObject>`, id, bar))
			rd, img := renderBuilt(t, b)
			// em box: x 10..30, baseline y 25, top ~y 7. The bar reaches above the middle band.
			mustInk(t, img, "upper half of the bar", Box{10, 8, 12, 6}, isInk, 20)
			mustBlank(t, img, "right part of the em box (a horizontal stroke would be there)", Box{22, 8, 10, 22})
			issues := rd.FontIssues()
			if len(issues) != 1 || !strings.Contains(issues[0].Problem, c.problem) || !strings.Contains(issues[0].Fallback, "own glyphs") {
				t.Errorf("font issues %+v, want one saying %q, drawn with its own glyphs", issues, c.problem)
			}
		})
	}
}

// Latin text in an embedded font without cmap, turned 90° by the CTM (Suwell's sideways
// text): the glyphs stand in a column, read top to bottom.
func TestRotatedLatinText(t *testing.T) {
	b := NewBuilder("rotated")
	p := b.AddPage(60, 60)
	id := b.EmbedFont("Calibri-subset", noCmapFont(t))
	f := bundledFace()
	var cg strings.Builder
	for i, r := range "HHHH" {
		fmt.Fprintf(&cg, `<ofd:CGTransform CodePosition="%d" CodeCount="1" GlyphCount="1"><ofd:Glyphs>%d</ofd:Glyphs></ofd:CGTransform>`, i, f.index(r))
	}
	// CTM 0 1 -1 0: x → down, y → left; baseline at y=0 of the object, glyphs above it (y<0)
	// end up right of x = 20.
	p.Raw(fmt.Sprintf(`<ofd:TextObject ID="9001" Boundary="20 10 10 40" CTM="0 1 -1 0 0 0" Font="%d" Size="6">%s<ofd:TextCode X="0" Y="0" DeltaX="g 3 6">HHHH</ofd:TextCode></ofd:TextObject>`, id, cg.String()))
	_, img := renderBuilt(t, b)
	for k := 0; k < 4; k++ {
		mustInk(t, img, fmt.Sprintf("glyph %d of the column", k+1), Box{20, 10 + float64(k)*6, 6, 6}, isInk, 10)
	}
	mustBlank(t, img, "where unrotated text would run", Box{27, 0, 33, 9})
	mustBlank(t, img, "below the column", Box{0, 35, 60, 25})
}

// A radial shading filling a path under a circular clip: the colour must fill the clip's
// circle (the emblem of the yunnan mining licence came out as streaks).
func TestRadialShadingUnderClip(t *testing.T) {
	b := NewBuilder("radial")
	p := b.AddPage(60, 60)
	p.Raw(`<ofd:PathObject ID="9001" Boundary="10 10 40 40" Stroke="false" Fill="true"><ofd:FillColor><ofd:RadialShd StartPoint="20 20" EndPoint="20 20" EndRadius="20" Extend="3"><ofd:Segment Position="0"><ofd:Color Value="255 0 0"/></ofd:Segment><ofd:Segment Position="1"><ofd:Color Value="200 0 0"/></ofd:Segment></ofd:RadialShd></ofd:FillColor><ofd:Clips><ofd:Clip><ofd:Area><ofd:Path Boundary="0 0 40 40"><ofd:AbbreviatedData>M 20 5 B 28.3 5 35 11.7 35 20 B 35 28.3 28.3 35 20 35 B 11.7 35 5 28.3 5 20 B 5 11.7 11.7 5 20 5 C</ofd:AbbreviatedData></ofd:Path></ofd:Area></ofd:Clip><ofd:Clip><ofd:Area><ofd:Path Boundary="0 0 40 40"><ofd:AbbreviatedData>M 0 0 L 40 0 L 40 25 L 0 25 C</ofd:AbbreviatedData></ofd:Path></ofd:Area></ofd:Clip></ofd:Clips><ofd:AbbreviatedData>M 0 0 L 40 0 L 40 40 L 0 40</ofd:AbbreviatedData></ofd:PathObject>`)
	_, img := renderBuilt(t, b)
	mustInk(t, img, "centre of the clip circle", Box{22, 22, 16, 12}, isRed, 600)
	// Every pixel of the inner square must be red: streaks leave gaps.
	if n, all := count(img, Box{24, 20, 12, 12}, fidDPI, isRed), count(img, Box{24, 20, 12, 12}, fidDPI, func(color.RGBA) bool { return true }); n != all {
		saveFailed(t, img)
		t.Errorf("%d of %d pixels inside the clip are red", n, all)
	}
	mustBlank(t, img, "inside the path, outside the circle", Box{10, 10, 4, 4})
	mustBlank(t, img, "below the second clip", Box{10, 36, 40, 14})
}

// Axial shading with MapType Repeat / Reflect and a MapUnit a quarter of its length: four red
// to blue cycles (Reflect: red-blue-red-blue…) instead of one.
func TestShadingMapType(t *testing.T) {
	for _, c := range []struct {
		mapType string
		// colour expected at the start of each quarter (x = 10, 20, 30, 40 mm + 1)
		want []func(color.RGBA) bool
	}{
		{"Repeat", []func(color.RGBA) bool{isRed, isRed, isRed, isRed}},
		{"Reflect", []func(color.RGBA) bool{isRed, isBlue, isRed, isBlue}},
	} {
		t.Run(c.mapType, func(t *testing.T) {
			b := NewBuilder("shd")
			p := b.AddPage(60, 30)
			p.Raw(fmt.Sprintf(`<ofd:PathObject ID="9001" Boundary="10 10 40 10" Stroke="false" Fill="true"><ofd:FillColor><ofd:AxialShd StartPoint="0 0" EndPoint="40 0" MapType="%s" MapUnit="10" Extend="3"><ofd:Segment Position="0"><ofd:Color Value="255 0 0"/></ofd:Segment><ofd:Segment Position="1"><ofd:Color Value="0 0 255"/></ofd:Segment></ofd:AxialShd></ofd:FillColor><ofd:AbbreviatedData>M 0 0 L 40 0 L 40 10 L 0 10 C</ofd:AbbreviatedData></ofd:PathObject>`, c.mapType))
			_, img := renderBuilt(t, b)
			for q, pred := range c.want {
				mustInk(t, img, fmt.Sprintf("quarter %d", q+1), Box{10 + float64(q)*10 + 0.8, 12, 0.6, 6}, pred, 10)
			}
			if c.mapType == "Repeat" {
				mustInk(t, img, "end of the first cycle", Box{19, 12, 0.6, 6}, isBlue, 10)
			}
		})
	}
}

func renderCorpusPage(t *testing.T, rel string, page int) (*Reader, *image.RGBA) {
	t.Helper()
	rd := openCorpus(t, rel)
	img, err := rd.RenderPage(context.Background(), page, fidDPI, &RenderOptions{BundledFontsOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	return rd, img
}

// The AntChain e-invoice writes its amounts right-aligned with negative-width boundaries: each
// must be drawn, and found, inside its column (column rules from the page's own lines).
func TestCorpusAntChainAmounts(t *testing.T) {
	rd, img := renderCorpusPage(t, "real/einvoice-platform-zhejiang-2022-antchain.ofd", 0)
	b, _ := rd.PageBox(0)
	for _, c := range []struct {
		text       string
		col0, col1 float64 // the column, between its rules
		hits       int
	}{
		{"1.00000000", 94.6, 114.6, 1},  // 数量
		{"9.91150442", 114.6, 134.6, 1}, // 单价
		{"9.91", 134.6, 164.6, 2},       // 金额, line and 合计
		{"13.00%", 164.6, 175.6, 1},     // 税率
		{"1.29", 175.6, 205.8, 2},       // 税额, line and 合计
	} {
		hits, err := rd.Find(context.Background(), 0, c.text)
		if err != nil {
			t.Fatal(err)
		}
		// "9.91" is also the start of "9.91150442": keep the hits in the column.
		n := 0
		for _, h := range hits {
			r := h.Rect
			if r.X < 0 || r.Y < 0 || r.X+r.W > b.W || r.Y+r.H > b.H {
				t.Errorf("%s: hit %+v outside the page", c.text, r)
			}
			if r.X >= c.col0-0.2 && r.X+r.W <= c.col1+0.6 {
				n++
				mustInk(t, img, c.text+" drawn where found", Box{r.X, r.Y, r.W, r.H}, isInk, 8)
			}
		}
		if n != c.hits {
			t.Errorf("%s: %d hits inside column %.1f–%.1f mm, want %d (all hits %+v)", c.text, n, c.col0, c.col1, c.hits, hits)
		}
	}
}

// The dms360 page writes every colour in hexadecimal: the red title and the black text show.
func TestCorpusDms360NotBlank(t *testing.T) {
	_, img := renderCorpusPage(t, "negative/NEG-sesv1-dms360-reserialized.ofd", 0)
	mustInk(t, img, "red title", Box{20, 25, 170, 25}, isRed, 2000)
	mustInk(t, img, "body text", Box{20, 100, 170, 120}, isInk, 3000)
}

// The yunnan permit's background picture is clipped with TransFlag="true" to its own unit
// square: it covers the page, margins included.
func TestCorpusYunnanBackground(t *testing.T) {
	_, img := renderCorpusPage(t, "negative/NEG-seals-yunnan-pages-modified.ofd", 0)
	area := Box{12, 120, 5, 60} // between the picture's edge and the left panel's frame
	all := count(img, area, fidDPI, func(color.RGBA) bool { return true })
	tinted := func(c color.RGBA) bool { return int(c.R)+int(c.G)+int(c.B) < 3*253 } // the picture is a pale beige
	if n := count(img, area, fidDPI, tinted); n < all*9/10 {
		saveFailed(t, img)
		t.Errorf("background: %d of %d pixels painted, want nearly all", n, all)
	}
}

// sealctl convert draws with the same code: the mining licence (a three-stop radial shading
// under clips) and the Repeat/Reflect shadings convert (canvas's PDF writer used to panic on
// gradients of more than two stops).
func TestCorpusConvertShadings(t *testing.T) {
	for _, rel := range []string{"real/sign-gbt35275-yunnan-2sigs.ofd", "render/render-shading-helloworld.ofd"} {
		rd := openCorpus(t, rel)
		var buf bytes.Buffer
		if err := rd.WritePDF(context.Background(), &buf, &RenderOptions{BundledFontsOnly: true}); err != nil {
			t.Fatalf("%s: %v", rel, err)
		}
		if !bytes.HasPrefix(buf.Bytes(), []byte("%PDF-")) || buf.Len() < 1000 {
			t.Errorf("%s: %d bytes of output, not a PDF", rel, buf.Len())
		}
	}
}
