package pdf

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"sealdesk/document"
	"sealdesk/internal/testenv"
	"sealdesk/signer"
)

// ppm reads a binary PPM (P6, maxval 255).
func ppm(t *testing.T, path string) (w, h int, pix []byte) {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	r := bufio.NewReader(bytes.NewReader(b))
	var magic string
	var maxv int
	if _, err := fmt.Fscan(r, &magic, &w, &h, &maxv); err != nil || magic != "P6" || maxv != 255 {
		t.Fatalf("%s: not a P6 PPM (%v)", path, err)
	}
	r.ReadByte()
	pix = make([]byte, w*h*3)
	if _, err := io.ReadFull(r, pix); err != nil {
		t.Fatal(err)
	}
	return w, h, pix
}

func isRed(p []byte) bool { return p[0] > 150 && p[1] < 110 && p[2] < 110 }

// TestSealRendersInPlace: render the signed page with pdftoppm (-cropbox: the visible area)
// and require red seal pixels inside the requested rectangle and none outside it — on a plain
// page, a page with an offset CropBox, a /Rotate 90 page and for the strips of a cross-page seal.
func TestSealRendersInPlace(t *testing.T) {
	pdftoppm := testenv.LookPath(t, "pdftoppm")
	crop := [4]float64{40, 60, 540, 800}
	pages := []SamplePage{
		{W: 595, H: 842, Fill: true},
		{W: 595, H: 842, Fill: true, CropBox: &crop},
		{W: 595, H: 842, Fill: true, Rotate: 90},
		{W: 595, H: 842, Fill: true, Rotate: 270, CropBox: &crop},
	}
	in := GenerateSample(pages, SampleOptions{})
	stamps := []document.Stamp{
		{Page: 0, Rect: document.Rect{X: 30, Y: 50, W: 40, H: 40}},
		{Page: 1, Rect: document.Rect{X: 10, Y: 10, W: 40, H: 40}},
		{Page: 2, Rect: document.Rect{X: 200, Y: 20, W: 40, H: 40}},
		{Page: 3, Rect: document.Rect{X: 120, Y: 30, W: 40, H: 40}},
	}
	// A cross-page seal over pages 0 and 1 (strips at the right edge).
	rd, _ := NewReader(bytes.NewReader(in), int64(len(in)))
	ps, _ := rd.Final.Pages()
	cross, err := document.ResolvePlacements(nil, pagesOf{ps}, []document.Placement{{CrossPage: true, FirstPage: 0, LastPage: 1, CrossPageY: 200}}, 40, 40)
	if err != nil {
		t.Fatal(err)
	}
	req := request(t, signer.ECDSA, document.ProfilePAdES, append(stamps, cross...)...)
	out := signBytes(t, in, req)
	keep(t, "render.pdf", out)
	p := writeTemp(t, "render.pdf", out)
	qpdfCheck(t, p)
	const dpi = 36.0
	byPage := map[int][]document.Rect{}
	for _, st := range req.Stamps {
		vis := st.Rect
		if st.Clip.W > 0 {
			vis = document.Rect{X: st.Rect.X + st.Clip.X, Y: st.Rect.Y + st.Clip.Y, W: st.Clip.W, H: st.Clip.H}
		}
		byPage[st.Page] = append(byPage[st.Page], vis)
	}
	for page, rects := range byPage {
		base := filepath.Join(t.TempDir(), "pg")
		cmd := exec.Command(pdftoppm, "-cropbox", "-r", fmt.Sprint(dpi), "-f", fmt.Sprint(page+1), "-l", fmt.Sprint(page+1), "-singlefile", p, base)
		if o, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("pdftoppm: %v %s", err, o)
		}
		w, h, pix := ppm(t, base+".ppm")
		sz := ps[page].VisibleSize()
		if d := float64(w) - sz.W/25.4*dpi; d > 2 || d < -2 {
			t.Errorf("page %d: rendered width %d px, expected %.0f", page+1, w, sz.W/25.4*dpi)
		}
		px := func(mm float64) float64 { return mm / 25.4 * dpi }
		inside, outside := 0, 0
		for y := 0; y < h; y++ {
			for x := 0; x < w; x++ {
				if !isRed(pix[(y*w+x)*3:]) {
					continue
				}
				in := false
				for _, r := range rects {
					if float64(x) >= px(r.X)-2 && float64(x) <= px(r.X+r.W)+2 && float64(y) >= px(r.Y)-2 && float64(y) <= px(r.Y+r.H)+2 {
						in = true
					}
				}
				if in {
					inside++
				} else {
					outside++
				}
			}
		}
		if inside < 20 {
			t.Errorf("page %d: only %d red pixels inside %v", page+1, inside, rects)
		}
		if outside > 0 {
			t.Errorf("page %d: %d red pixels outside %v", page+1, outside, rects)
		}
		// The report gives the same rectangles back (widget /Rect converted to mm).
	}
	rep := verifyBytes(t, out, getSigner(t, signer.ECDSA).chain.Root.Cert)
	requireValid(t, "rendered", rep, 1)
	s := rep.Signatures[0]
	if len(s.Rects) != len(req.Stamps) {
		t.Fatalf("report has %d rectangles, want %d", len(s.Rects), len(req.Stamps))
	}
	for i, st := range req.Stamps {
		vis := st.Rect
		if st.Clip.W > 0 {
			vis = document.Rect{X: st.Rect.X + st.Clip.X, Y: st.Rect.Y + st.Clip.Y, W: st.Clip.W, H: st.Clip.H}
		}
		g := s.Rects[i]
		if s.Pages[i] != st.Page || abs1(g.X-vis.X) > 0.1 || abs1(g.Y-vis.Y) > 0.1 || abs1(g.W-vis.W) > 0.1 || abs1(g.H-vis.H) > 0.1 {
			t.Errorf("widget %d: report says page %d %+v, placed page %d %+v", i, s.Pages[i]+1, g, st.Page+1, vis)
		}
	}
}

func abs1(f float64) float64 {
	if f < 0 {
		return -f
	}
	return f
}

// pagesOf adapts parsed pages to document.Pages for placement resolution in tests.
type pagesOf struct{ ps []Page }

func (p pagesOf) NumPages() int { return len(p.ps) }
func (p pagesOf) PageSize(i int) (document.Size, error) {
	return p.ps[i].VisibleSize(), nil
}
func (p pagesOf) FindText(_ context.Context, _ string) ([]document.Hit, error) { return nil, nil }
