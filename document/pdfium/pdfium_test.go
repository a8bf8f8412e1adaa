package pdfium

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"sealdesk/document"
	"sealdesk/internal/testenv"
)

var update = flag.Bool("update", false, "rewrite the golden PNGs under testdata/")

// testEng is shared by every test and benchmark: creating an engine costs 0.1–1 s with a warm
// compilation cache and seconds without. Host fonts are left out so that renders (and the
// golden image) are the same on every machine: Latin text uses PDFium's built-in fonts and
// Chinese text the bundled font.
var testEng *Engine

func TestMain(m *testing.M) {
	flag.Parse()
	var err error
	start := time.Now()
	testEng, err = NewEngine(Config{HostFonts: "-"})
	if err != nil {
		fmt.Fprintln(os.Stderr, "pdfium engine:", err)
		os.Exit(1)
	}
	if testing.Verbose() {
		fmt.Printf("engine init %v (cache %q)\n", time.Since(start).Round(time.Millisecond), testEng.CacheDir)
	}
	code := m.Run()
	testEng.Close()
	os.Exit(code)
}

// writePDF writes pages into a temporary file and returns its path.
func writePDF(t testing.TB, pages ...testPage) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "test.pdf")
	if err := os.WriteFile(p, buildPDF(pages), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func open(t testing.TB, path string) *Document {
	t.Helper()
	d, err := testEng.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

func near(a, b, tol float64) bool { return math.Abs(a-b) <= tol }

const mm = document.MMPerPoint

// imageDiff compares two images: the mean absolute channel difference (0–255) and the share of
// pixels whose largest channel difference exceeds 64.
func imageDiff(a, b image.Image) (mean, bad float64, err error) {
	if a.Bounds().Size() != b.Bounds().Size() {
		return 0, 0, fmt.Errorf("size %v differs from %v", a.Bounds().Size(), b.Bounds().Size())
	}
	var sum, n, badN float64
	ab, bb := a.Bounds(), b.Bounds()
	for y := 0; y < ab.Dy(); y++ {
		for x := 0; x < ab.Dx(); x++ {
			c1 := color.NRGBAModel.Convert(a.At(ab.Min.X+x, ab.Min.Y+y)).(color.NRGBA)
			c2 := color.NRGBAModel.Convert(b.At(bb.Min.X+x, bb.Min.Y+y)).(color.NRGBA)
			worst := 0.0
			for _, d := range []float64{
				math.Abs(float64(c1.R) - float64(c2.R)),
				math.Abs(float64(c1.G) - float64(c2.G)),
				math.Abs(float64(c1.B) - float64(c2.B)),
			} {
				sum += d
				worst = math.Max(worst, d)
			}
			if worst > 64 {
				badN++
			}
			n++
		}
	}
	return sum / (3 * n), badN / n, nil
}

func loadPNG(t testing.TB, path string) image.Image {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

// goldenPage is the sample page with a signed signature widget, so the golden image also shows
// that seals (form widgets) are drawn.
func goldenPage() testPage {
	p := samplePage()
	p.sigs = []testSig{{name: "合同专用章", rect: [4]float64{380, 140, 500, 260}, subFilter: "ETSI.CAdES.detached",
		contents: []byte{0x30, 0x03, 0x02, 0x01, 0x01}, signed: true}}
	return p
}

func TestGoldenImage(t *testing.T) {
	d := open(t, writePDF(t, goldenPage()))
	img, err := d.Render(context.Background(), 0, 72)
	if err != nil {
		t.Fatal(err)
	}
	if img.Bounds().Dx() != 595 || img.Bounds().Dy() != 842 {
		t.Fatalf("A4 at 72 dpi rendered as %v, want 595x842", img.Bounds().Size())
	}
	rgba := img.(*image.RGBA)
	for i := 3; i < len(rgba.Pix); i += 4 {
		if rgba.Pix[i] != 255 {
			t.Fatalf("pixel %d has alpha %d: renders must be opaque", i/4, rgba.Pix[i])
		}
	}
	golden := filepath.Join("testdata", "golden-sample-72dpi.png")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := savePNG(golden, img); err != nil {
			t.Fatal(err)
		}
		t.Logf("wrote %s", golden)
	}
	want := loadPNG(t, golden)
	mean, bad, err := imageDiff(img, want)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("golden diff: mean %.3f/255, %.4f%% pixels off by more than 64", mean, bad*100)
	// Anti-aliasing may change between PDFium builds; layout, colours and glyphs may not.
	if mean > 2 || bad > 0.005 {
		if err := os.MkdirAll(filepath.Join("testdata", "failed"), 0o755); err == nil {
			savePNG(filepath.Join("testdata", "failed", "golden-sample-72dpi.png"), img)
		}
		t.Fatalf("render differs from %s: mean %.2f, %.3f%% bad pixels (got image in testdata/failed)", golden, mean, bad*100)
	}

	// Independent spot checks, so a wrong golden file cannot pass silently: page background,
	// the three filled squares, the seal's red ring, and dark pixels where the Chinese title is.
	at := func(xPt, yTopPt float64) color.NRGBA {
		return color.NRGBAModel.Convert(img.At(int(xPt), int(yTopPt))).(color.NRGBA)
	}
	checks := []struct {
		name    string
		x, y    float64
		r, g, b uint8
	}{
		{"background", 20, 20, 255, 255, 255},
		{"red square", 120, 841.89 - 460, 204, 0, 0},
		{"green square", 280, 841.89 - 460, 0, 153, 0},
		{"blue square", 440, 841.89 - 460, 0, 0, 204},
		{"seal ring", 382, 841.89 - 200, 255, 0, 0},
	}
	for _, c := range checks {
		got := at(c.x, c.y)
		if !near(float64(got.R), float64(c.r), 40) || !near(float64(got.G), float64(c.g), 40) || !near(float64(got.B), float64(c.b), 40) {
			t.Errorf("%s at (%g,%g) pt: got %v, want about (%d,%d,%d)", c.name, c.x, c.y, got, c.r, c.g, c.b)
		}
	}
	dark := 0
	for y := 181; y < 206; y++ { // the title: baseline 640 pt, 24 pt glyphs
		for x := 60; x < 260; x++ {
			if c := at(float64(x), float64(y)); c.R < 100 && c.G < 100 && c.B < 100 {
				dark++
			}
		}
	}
	if dark < 300 {
		t.Errorf("the Chinese title (non-embedded STSong-Light) left only %d dark pixels: the CJK font is not used", dark)
	}
}

func TestPageGeometryCropRotate(t *testing.T) {
	crop := [4]float64{100, 100, 500, 700}
	content := "BT /F1 20 Tf 150 650 Td (Anchor) Tj ET"
	sig := testSig{name: "sig1", rect: [4]float64{200, 300, 260, 340}, subFilter: "ETSI.CAdES.detached", contents: []byte{0x30, 0x00}, signed: true}
	pages := []testPage{
		{media: a4, crop: &crop, content: content, sigs: []testSig{sig}},
		{media: a4, crop: &crop, rotate: 90, content: content},
		{media: a4, rotate: 270, content: content},
	}
	d := open(t, writePDF(t, pages...))
	if d.NumPages() != 3 {
		t.Fatalf("pages = %d", d.NumPages())
	}
	want := []document.Size{{W: 400 * mm, H: 600 * mm}, {W: 600 * mm, H: 400 * mm}, {W: 841.89 * mm, H: 595.28 * mm}}
	for i, w := range want {
		got, err := d.PageSize(i)
		if err != nil {
			t.Fatal(err)
		}
		if !near(got.W, w.W, 0.05) || !near(got.H, w.H, 0.05) {
			t.Errorf("page %d size = %+v mm, want %+v", i+1, got, w)
		}
	}
	hits, err := d.FindText(context.Background(), "anchor")
	if err != nil {
		t.Fatal(err)
	}
	if len(hits) != 3 {
		t.Fatalf("hits = %+v, want one per page", hits)
	}
	// The text starts at user (150, 650); its box spans about 20 pt upward and a few down.
	// Page 1: CropBox origin (100,100), top at 700 → x 50 pt, baseline 50 pt from the top.
	h := hits[0].Rect
	if !near(h.X, 50*mm, 0.5) || !(h.Y < 50*mm && h.Y+h.H > 50*mm && h.H > 15*mm) {
		t.Errorf("page 1 hit %+v mm, want x≈%.1f mm and a box around y=%.1f mm", h, 50*mm, 50*mm)
	}
	// Page 2, /Rotate 90: visible x = y - y0 (550 pt at the baseline), visible y = x - x0 (50 pt).
	h = hits[1].Rect
	if !near(h.Y, 50*mm, 0.5) || !(h.X < 550*mm && h.X+h.W > 550*mm && h.W > 15*mm) {
		t.Errorf("page 2 (rotated) hit %+v mm, want y≈%.1f mm and a box around x=%.1f mm", h, 50*mm, 550*mm)
	}
	// Page 3, /Rotate 270 on the MediaBox: visible x = H - y = 841.89-650, visible y = W - x.
	h = hits[2].Rect
	if !near(h.Y+h.H, (595.28-150)*mm, 0.5) || !(h.X < (841.89-650)*mm && h.X+h.W > (841.89-650)*mm) {
		t.Errorf("page 3 (rotated 270) hit %+v mm", h)
	}
	// The signature widget rectangle maps exactly: user (200,300)-(260,340) in a CropBox
	// starting at (100,100) with top 700 → x 100 pt, y 360 pt, 60×40 pt.
	sigs, err := d.Signatures()
	if err != nil {
		t.Fatal(err)
	}
	if len(sigs) != 1 || len(sigs[0].Rects) != 1 {
		t.Fatalf("signatures = %+v", sigs)
	}
	r := sigs[0].Rects[0]
	if !near(r.X, 100*mm, 0.05) || !near(r.Y, 360*mm, 0.05) || !near(r.W, 60*mm, 0.05) || !near(r.H, 40*mm, 0.05) {
		t.Errorf("widget rect %+v mm, want (%.2f, %.2f, %.2f, %.2f)", r, 100*mm, 360*mm, 60*mm, 40*mm)
	}
}

func TestFindTextCJK(t *testing.T) {
	d := open(t, writePDF(t, samplePage(), samplePage()))
	hits, err := d.FindText(context.Background(), "印章")
	if err != nil {
		t.Fatal(err)
	}
	if len(hits) != 2 || hits[0].Page != 0 || hits[1].Page != 1 {
		t.Fatalf("hits = %+v, want one on each page", hits)
	}
	// 电子印章测试合同 at 24 pt from x=60: 印章 are glyphs 3–4 (x 108–156 pt), baseline 640.
	h := hits[0]
	if h.Text != "印章" {
		t.Errorf("hit text %q", h.Text)
	}
	if !near(h.Rect.X, 108*mm, 0.3) || !near(h.Rect.W, 48*mm, 0.5) {
		t.Errorf("hit x/w = %.2f/%.2f mm, want %.2f/%.2f", h.Rect.X, h.Rect.W, 108*mm, 48*mm)
	}
	base := (841.89 - 640) * mm
	if !(h.Rect.Y < base && h.Rect.Y+h.Rect.H > base && h.Rect.H > 6 && h.Rect.H < 10) {
		t.Errorf("hit box %+v mm does not sit on the baseline at %.2f mm", h.Rect, base)
	}
	// Latin search is case-insensitive; a longer CJK phrase with punctuation is found too.
	if hits, err := d.FindText(context.Background(), "CONTRACT no."); err != nil || len(hits) != 2 {
		t.Errorf("case-insensitive search: %v, %v", hits, err)
	}
	if hits, err := d.FindText(context.Background(), "（盖章）"); err != nil || len(hits) != 2 {
		t.Errorf("search with full-width brackets: %v, %v", hits, err)
	}
	if hits, err := d.FindText(context.Background(), "不存在的词"); err != nil || len(hits) != 0 {
		t.Errorf("absent word: %v, %v", hits, err)
	}
	if _, err := d.FindText(context.Background(), "  "); err == nil {
		t.Error("empty query accepted")
	}
	text, err := d.PageText(context.Background(), 0)
	if err != nil || !strings.Contains(text, "北京某某科技有限公司") {
		t.Errorf("page text %q, %v", text, err)
	}
}

// heavyPage draws enough vector paths that a 200 dpi render takes long enough to cancel.
func heavyPage() testPage {
	var c strings.Builder
	c.WriteString("0.2 w\n")
	for i := 0; i < 3000; i++ {
		x := float64((i*37)%560) + 10
		y := float64((i*91)%800) + 10
		fmt.Fprintf(&c, "%.1f %.1f %.1f rg %.1f %.1f m %.1f %.1f %.1f %.1f %.1f %.1f c %.1f %.1f l f\n",
			float64(i%7)/7, float64(i%5)/5, float64(i%3)/3, x, y, x+30, y+5, x+10, y+40, x+25, y+25, x-5, y+20)
	}
	return testPage{media: a4, content: c.String()}
}

func TestRenderCancelled(t *testing.T) {
	d := open(t, writePDF(t, heavyPage()))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := d.Render(ctx, 0, 150); !errors.Is(err, context.Canceled) {
		t.Fatalf("render with a cancelled context: %v", err)
	}

	// Full render time, then the same render cancelled early: it must stop well before.
	start := time.Now()
	if _, err := d.RenderRGBA(context.Background(), 0, 200); err != nil {
		t.Fatal(err)
	}
	full := time.Since(start)
	d.e.images.dropDoc(d.id)
	ctx, cancel = context.WithCancel(context.Background())
	time.AfterFunc(full/10, cancel)
	start = time.Now()
	_, err := d.RenderRGBA(ctx, 0, 200)
	stopped := time.Since(start)
	t.Logf("full render %v; cancelled after %v, returned after %v", full, full/10, stopped)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled render returned %v", err)
	}
	if stopped > full*2/3 {
		t.Errorf("cancelled render took %v of a %v render: cancellation does not stop PDFium", stopped, full)
	}
	// The engine still works and the page renders afterwards.
	if _, err := d.Render(context.Background(), 0, 30); err != nil {
		t.Fatal(err)
	}
}

func TestConcurrentUse(t *testing.T) {
	p1 := writePDF(t, samplePage(), goldenPage(), samplePage())
	p2 := writePDF(t, goldenPage())
	d1, d2 := open(t, p1), open(t, p2)
	ctx := context.Background()
	ref := map[string]*image.RGBA{}
	for _, c := range []struct {
		d    *Document
		page int
		key  string
	}{{d1, 0, "a0"}, {d1, 1, "a1"}, {d1, 2, "a2"}, {d2, 0, "b0"}} {
		img, err := c.d.RenderRGBA(ctx, c.page, 40)
		if err != nil {
			t.Fatal(err)
		}
		ref[c.key] = img
	}
	d1.e.images.dropDoc(d1.id)
	d2.e.images.dropDoc(d2.id)
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for k := 0; k < 6; k++ {
				d, key, page := d1, "a", (g+k)%3
				if (g+k)%4 == 0 {
					d, key, page = d2, "b", 0
				}
				switch k % 3 {
				case 0:
					img, err := d.RenderRGBA(ctx, page, 40)
					if err != nil {
						errs <- err
						return
					}
					if mean, _, _ := imageDiff(img, ref[fmt.Sprintf("%s%d", key, page)]); mean != 0 {
						errs <- fmt.Errorf("concurrent render of %s page %d differs (mean %.2f)", key, page, mean)
					}
					d.e.images.dropDoc(d.id)
				case 1:
					hits, err := d.FindText(ctx, "印章")
					if err != nil || len(hits) != d.NumPages() {
						errs <- fmt.Errorf("concurrent search: %d hits, %v", len(hits), err)
					}
				case 2:
					if _, err := d.Signatures(); err != nil {
						errs <- err
					}
				}
			}
		}(g)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if n := testEng.Instances(); n < 1 || n > 2 {
		t.Errorf("engine runs %d instances, want 1–2", n)
	}
}

func TestMalformed(t *testing.T) {
	good := buildPDF([]testPage{samplePage()})
	dir := t.TempDir()
	cases := map[string][]byte{
		"empty.pdf":          {},
		"header-only.pdf":    []byte("%PDF-1.7\n"),
		"garbage.pdf":        []byte("%PDF-1.4\n" + strings.Repeat("\x00\xff garbage ", 500)),
		"no-pages.pdf":       []byte("%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"),
		"truncated.pdf":      good[:len(good)/2],
		"bad-xref.pdf":       []byte(strings.Replace(string(good), "startxref\n", "startxref\n9", 1)),
		"loop-pages.pdf":     []byte("%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n2 0 obj << /Type /Pages /Kids [2 0 R] /Count 1 >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"),
		"huge-mediabox.pdf":  []byte(strings.Replace(string(good), "/MediaBox [0 0 595.28 841.89]", "/MediaBox [0 0 9e9 9e9]", 1)),
		"negative-size.pdf":  []byte(strings.Replace(string(good), "/MediaBox [0 0 595.28 841.89]", "/MediaBox [0 0 -5 0]", 1)),
		"encrypted-ish.pdf":  []byte(strings.Replace(string(good), "trailer\n<<", "trailer\n<< /Encrypt << /Filter /Standard /V 9 >>", 1)),
		"not-a-pdf-at-all":   []byte("hello"),
		"binary-content.pdf": append([]byte("%PDF-1.7\n"), good[200:]...),
	}
	for name, data := range cases {
		t.Run(name, func(t *testing.T) {
			p := filepath.Join(dir, name)
			if err := os.WriteFile(p, data, 0o644); err != nil {
				t.Fatal(err)
			}
			d, err := testEng.Open(p)
			if err != nil {
				if !strings.Contains(err.Error(), name) {
					t.Errorf("error does not name the file: %v", err)
				}
				t.Logf("open: %v", err)
				return
			}
			defer d.Close()
			// PDFium repairs what it can; whatever opens must render, search and list
			// without panicking, or fail with an error naming the page.
			for i := 0; i < d.NumPages(); i++ {
				if _, err := d.Render(context.Background(), i, 20); err != nil {
					if !strings.Contains(err.Error(), "page") {
						t.Errorf("render error does not name the page: %v", err)
					}
					t.Logf("render page %d: %v", i+1, err)
				}
			}
			_, _ = d.FindText(context.Background(), "x")
			_, _ = d.Signatures()
		})
	}
	if _, err := testEng.Open(filepath.Join(dir, "missing.pdf")); err == nil {
		t.Error("opening a missing file succeeded")
	}
	// The engine survived all of it.
	d := open(t, writePDF(t, samplePage()))
	if _, err := d.Render(context.Background(), 0, 20); err != nil {
		t.Fatal(err)
	}
}

func TestSignaturesAndProfiles(t *testing.T) {
	cades := []byte{0x30, 0x03, 0x02, 0x01, 0x01}
	gm := append([]byte{0x30, 0x0E}, oidGMSignedData...)
	pkcs7 := append([]byte{0x30, 0x0D}, oidSignedData...)
	p1 := samplePage()
	p1.sigs = []testSig{
		{name: "甲方", rect: [4]float64{60, 100, 160, 200}, subFilter: "ETSI.CAdES.detached", contents: cades, signed: true},
		{name: "empty", rect: [4]float64{300, 100, 400, 200}, signed: false},
	}
	p2 := samplePage()
	p2.sigs = []testSig{{name: "乙方", rect: [4]float64{400, 500, 500, 600}, subFilter: "adbe.pkcs7.detached", contents: gm, signed: true}}
	p3 := samplePage()
	p3.sigs = []testSig{{name: "丙方", rect: [4]float64{100, 100, 150, 150}, subFilter: "adbe.pkcs7.detached", contents: pkcs7, signed: true}}
	d := open(t, writePDF(t, p1, p2, p3))
	sigs, err := d.Signatures()
	if err != nil {
		t.Fatal(err)
	}
	if len(sigs) != 3 {
		t.Fatalf("signatures = %+v, want 3 (the unsigned field is not a signature)", sigs)
	}
	want := []struct {
		name, profile string
		page          int
	}{{"甲方", "pades", 0}, {"乙方", "pdf-gm", 1}, {"丙方", "pkcs7", 2}}
	for i, w := range want {
		s := sigs[i]
		if s.Name != w.name || s.Profile != w.profile || len(s.Pages) != 1 || s.Pages[0] != w.page || len(s.Rects) != 1 {
			t.Errorf("signature %d = %+v, want name %s profile %s on page %d", i, s, w.name, w.profile, w.page+1)
		}
		if s.Time != "D:20261126090000+08'00'" {
			t.Errorf("signature %d time %q", i, s.Time)
		}
	}
	if r := sigs[1].Rects[0]; !near(r.X, 400*mm, 0.05) || !near(r.Y, (841.89-600)*mm, 0.05) {
		t.Errorf("widget rect %+v", r)
	}
	if got := profileOf("adbe.pkcs7.detached", []byte{0x30, 0x05, 0x30, 0x03, 0x02, 0x01, 0x04}); got != "pdf-ses" {
		t.Errorf("SES_Signature contents classified as %q", got)
	}
	// An unsigned document lists none.
	d2 := open(t, writePDF(t, samplePage()))
	if s, err := d2.Signatures(); err != nil || len(s) != 0 {
		t.Errorf("unsigned document: %v, %v", s, err)
	}
}

func TestThumbnailAndCache(t *testing.T) {
	d := open(t, writePDF(t, samplePage()))
	ctx := context.Background()
	th, err := d.Thumbnail(ctx, 0, 200)
	if err != nil {
		t.Fatal(err)
	}
	if th.Bounds().Dy() != 200 || !near(float64(th.Bounds().Dx()), 200*595.28/841.89, 1) {
		t.Errorf("thumbnail %v, want 141x200", th.Bounds().Size())
	}
	a, err := d.Render(ctx, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	b, err := d.Render(ctx, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	if a != b {
		t.Error("second render of the same page was not served from the cache")
	}
	t.Logf("cached render: %v", time.Since(start))
	if _, err := d.Render(ctx, 1, 100); err == nil || !strings.Contains(err.Error(), "page 2 does not exist") {
		t.Errorf("page out of range: %v", err)
	}
	if _, err := d.Render(ctx, 0, 0); err == nil {
		t.Error("0 dpi accepted")
	}
	if _, err := d.Render(ctx, 0, 4000); err == nil || !strings.Contains(err.Error(), "pixels") {
		t.Errorf("oversized render: %v", err)
	}
	d.Close()
	if _, err := d.Render(ctx, 0, 50); err == nil {
		t.Error("render after Close succeeded")
	}
}

func TestImageCacheLRU(t *testing.T) {
	c := newImageCache(3 * 400)
	img := func() *image.RGBA { return image.NewRGBA(image.Rect(0, 0, 10, 10)) } // 400 bytes
	for i := 0; i < 3; i++ {
		c.put(cacheKey{doc: 1, page: i}, img())
	}
	c.get(cacheKey{doc: 1, page: 0}) // page 0 is now the most recent
	c.put(cacheKey{doc: 1, page: 3}, img())
	if c.get(cacheKey{doc: 1, page: 1}) != nil {
		t.Error("least recently used page 1 was not evicted")
	}
	if c.get(cacheKey{doc: 1, page: 0}) == nil || c.get(cacheKey{doc: 1, page: 3}) == nil {
		t.Error("recent pages were evicted")
	}
	if c.bytes() > 1200 {
		t.Errorf("cache holds %d bytes over its 1200 limit", c.bytes())
	}
	c.put(cacheKey{doc: 2, page: 0}, image.NewRGBA(image.Rect(0, 0, 100, 100)))
	if c.get(cacheKey{doc: 2, page: 0}) != nil {
		t.Error("an image larger than the budget was kept")
	}
	c.dropDoc(1)
	if c.bytes() != 0 {
		t.Errorf("after dropping the document %d bytes remain", c.bytes())
	}
}

func TestSniffAndRegistry(t *testing.T) {
	if !Sniff([]byte("%PDF-1.7\n")) || !Sniff(append(make([]byte, 500), "%PDF-1.4"...)) {
		t.Error("PDF headers not recognised")
	}
	if Sniff([]byte("PK\x03\x04")) || Sniff(append(make([]byte, 1100), "%PDF-1.4"...)) {
		t.Error("non-PDF (or header past 1024 bytes) recognised")
	}
	p := writePDF(t, samplePage())
	f, h, err := document.Detect(p)
	if err != nil || f != document.PDF || h.Open == nil {
		t.Fatalf("document.Detect: %v %v", f, err)
	}
}

// TestCorpus opens the real signed PDFs from other producers: every one must render page 1
// and list its signatures with profiles.
func TestCorpus(t *testing.T) {
	root := filepath.Join(testenv.Corpus(t), "pdf-signed")
	files, _ := filepath.Glob(filepath.Join(root, "*", "*.pdf"))
	if len(files) == 0 {
		testenv.Missing(t, "PDFs under "+root)
	}
	for _, f := range files {
		rel, _ := filepath.Rel(root, f)
		d, err := testEng.Open(f)
		if err != nil {
			t.Errorf("%s: %v", rel, err)
			continue
		}
		img, err := d.Render(context.Background(), 0, 30)
		if err != nil {
			t.Errorf("%s: %v", rel, err)
		}
		sigs, err := d.Signatures()
		if err != nil {
			t.Errorf("%s: %v", rel, err)
		}
		var profiles []string
		for _, s := range sigs {
			profiles = append(profiles, s.Profile)
		}
		// The usage-rights sample carries only a /Perms UR3 signature, no form signature.
		if len(sigs) == 0 && !strings.Contains(rel, "usageRights") {
			t.Errorf("%s: no signatures found", rel)
		}
		if img != nil {
			t.Logf("%s: %d pages, %v, signatures %v", rel, d.NumPages(), img.Bounds().Size(), profiles)
		}
		d.Close()
	}
}

func TestLockCache(t *testing.T) {
	dir := t.TempDir()
	unlock := lockCache(dir)
	got := make(chan time.Time)
	go func() {
		u := lockCache(dir) // waits for the first holder
		got <- time.Now()
		u()
	}()
	time.Sleep(300 * time.Millisecond)
	released := time.Now()
	unlock()
	if at := <-got; at.Before(released) {
		t.Error("second process took the lock while the first held it")
	}
	// A lock left by a crashed process is ignored once stale.
	p := filepath.Join(dir, ".init.lock")
	os.WriteFile(p, []byte("1\n"), 0o644)
	old := time.Now().Add(-time.Hour)
	os.Chtimes(p, old, old)
	start := time.Now()
	lockCache(dir)()
	if time.Since(start) > 5*time.Second {
		t.Errorf("stale lock delayed start-up by %v", time.Since(start))
	}
}

// TestCloseWhileBusy closes a document while renders and searches run on it: every call ends
// (with a result or a "closed" error) and no instance keeps the document.
func TestCloseWhileBusy(t *testing.T) {
	d, err := testEng.Open(writePDF(t, samplePage(), samplePage(), samplePage(), samplePage()))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for k := 0; k < 20; k++ {
				var err error
				if g%2 == 0 {
					_, err = d.Render(ctx, k%4, float64(30+k))
				} else {
					_, err = d.FindText(ctx, "印章")
				}
				if err != nil {
					if !strings.Contains(err.Error(), "closed") {
						t.Errorf("call during Close: %v", err)
					}
					return
				}
			}
		}(g)
	}
	time.Sleep(50 * time.Millisecond)
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	testEng.mu.Lock()
	defer testEng.mu.Unlock()
	if len(d.handles) != 0 || d.active != 0 {
		t.Errorf("after Close: %d handles, %d active calls", len(d.handles), d.active)
	}
	if _, ok := testEng.docs[d]; ok {
		t.Error("the engine still lists the closed document")
	}
}

// TestFontPicks checks the default font view: only the picked faces of a host folder are listed
// and served (from the host file), the bundled font is always there, other host files are not.
func TestFontPicks(t *testing.T) {
	dir := t.TempDir()
	for name, data := range map[string]string{"SimHei.ttf": "hei", "NotoSansCJK-Regular.ttc": "noto", "simsun.ttc": "song"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	picks := pickHostFonts(dir)
	if len(picks) != 2 || picks["SimHei.ttf"] == "" || picks["simsun.ttc"] == "" {
		t.Fatalf("picks = %v, want SimHei.ttf and simsun.ttc", picks)
	}
	fsys := newFontFS(nil, picks, "bundled.otf", []byte("bundled"))
	ents, err := fs.ReadDir(fsys, hostFontsDir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	if strings.Join(names, ",") != "SimHei.ttf,simsun.ttc" {
		t.Errorf("listing of /%s = %v", hostFontsDir, names)
	}
	if b, err := fs.ReadFile(fsys, hostFontsDir+"/SimHei.ttf"); err != nil || string(b) != "hei" {
		t.Errorf("SimHei.ttf = %q, %v", b, err)
	}
	if _, err := fs.ReadFile(fsys, hostFontsDir+"/NotoSansCJK-Regular.ttc"); err == nil {
		t.Error("a host font outside the picks is visible")
	}
	if b, err := fs.ReadFile(fsys, "usr/local/share/fonts/bundled.otf"); err != nil || string(b) != "bundled" {
		t.Errorf("bundled font = %q, %v", b, err)
	}
}
