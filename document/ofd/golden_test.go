package ofd

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"image"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sealdesk/internal/testenv"
)

var update = flag.Bool("update", false, "rewrite the golden PNGs under testdata/golden")

// goldenCases render with the bundled font only, so the images are the same on every machine:
// the generated sample contract and page 1 of every corpus OFD (named after the file).
func goldenCases(t *testing.T) []goldenCase {
	cases := []goldenCase{{"sample-contract-p3", "", 2}}
	root := filepath.Join(testenv.Corpus(t), "ofd")
	for _, f := range corpusFiles(t) {
		rel, _ := filepath.Rel(root, f)
		cases = append(cases, goldenCase{strings.TrimSuffix(filepath.Base(f), ".ofd") + "-p1", filepath.ToSlash(rel), 0})
	}
	return cases
}

type goldenCase struct {
	name   string
	corpus string // corpus file, or "" for the generated sample contract
	page   int
}

// TestGolden compares renders with the PNGs committed under testdata/golden (look at them to
// judge the renderer). Small differences are tolerated (anti-aliasing, float rounding across
// platforms): the mean channel difference must stay under 1.5/255 and under 0.5% of the pixels
// may differ by more than 64/255. Run with -update to accept a new rendering.
func TestGolden(t *testing.T) {
	for _, c := range goldenCases(t) {
		t.Run(c.name, func(t *testing.T) {
			var rd *Reader
			if c.corpus == "" {
				data := SampleContract(3).Bytes()
				var err error
				if rd, err = Open(bytes.NewReader(data), int64(len(data)), nil); err != nil {
					t.Fatal(err)
				}
			} else {
				rd = openCorpus(t, c.corpus)
			}
			got, err := rd.RenderPage(context.Background(), c.page, 96, &RenderOptions{BundledFontsOnly: true})
			if err != nil {
				t.Fatal(err)
			}
			path := filepath.Join("testdata", "golden", c.name+".png")
			if *update {
				os.MkdirAll(filepath.Dir(path), 0o755)
				var buf bytes.Buffer
				if err := png.Encode(&buf, got); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			f, err := os.Open(path)
			if err != nil {
				t.Fatalf("golden image missing (run go test -run TestGolden -update): %v", err)
			}
			defer f.Close()
			want, err := png.Decode(f)
			if err != nil {
				t.Fatal(err)
			}
			if err := compareImages(got, want); err != nil {
				out := filepath.Join(t.TempDir(), c.name+".png")
				if w, e := os.Create(out); e == nil {
					png.Encode(w, got)
					w.Close()
				}
				t.Fatalf("%v (this render: %s)", err, out)
			}
		})
	}
}

func compareImages(got, want image.Image) error {
	if got.Bounds().Size() != want.Bounds().Size() {
		return fmt.Errorf("size %v, golden %v", got.Bounds().Size(), want.Bounds().Size())
	}
	var sum float64
	bad, n := 0, 0
	gb, wb := got.Bounds(), want.Bounds()
	for y := 0; y < gb.Dy(); y++ {
		for x := 0; x < gb.Dx(); x++ {
			r1, g1, b1, _ := got.At(gb.Min.X+x, gb.Min.Y+y).RGBA()
			r2, g2, b2, _ := want.At(wb.Min.X+x, wb.Min.Y+y).RGBA()
			d := max(absDiff(r1, r2), absDiff(g1, g2), absDiff(b1, b2)) >> 8
			sum += float64(absDiff(r1, r2)+absDiff(g1, g2)+absDiff(b1, b2)) / 3 / 257
			if d > 64 {
				bad++
			}
			n++
		}
	}
	mean := sum / float64(n)
	if mean > 1.5 || float64(bad) > 0.005*float64(n) {
		return fmt.Errorf("differs from the golden image: mean difference %.2f/255, %d of %d pixels off by more than 64", mean, bad, n)
	}
	return nil
}

func absDiff(a, b uint32) uint32 {
	if a > b {
		return a - b
	}
	return b - a
}
