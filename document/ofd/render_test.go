package ofd

import (
	"context"
	"image/png"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestRenderCorpus renders every page of every corpus OFD (the first 3 pages of long ones).
// Set OFD_RENDER_OUT=DIR to keep the PNGs for a look.
func TestRenderCorpus(t *testing.T) {
	out := os.Getenv("OFD_RENDER_OUT")
	for _, f := range corpusFiles(t) {
		name := filepath.Base(f)
		t.Run(name, func(t *testing.T) {
			rd, err := OpenFile(f, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer rd.Close()
			for i := 0; i < min(rd.NumPages(), 3); i++ {
				start := time.Now()
				img, err := rd.RenderPage(context.Background(), i, 72, nil)
				if err != nil {
					t.Fatalf("page %d: %v", i+1, err)
				}
				if b := img.Bounds(); b.Dx() < 10 || b.Dy() < 10 {
					t.Fatalf("page %d: image %v", i+1, b)
				}
				t.Logf("page %d: %v in %v", i+1, img.Bounds().Size(), time.Since(start))
				if out != "" {
					w, _ := os.Create(filepath.Join(out, name+"-"+string(rune('1'+i))+".png"))
					png.Encode(w, img)
					w.Close()
				}
			}
		})
	}
}
