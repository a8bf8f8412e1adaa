package ofd

import (
	"image"
	"testing"
)

// TestJBIG2InvoiceQR decodes the JBIG2 QR codes of the tax e-invoices and checks that they are
// QR codes: the same 7×7-module finder pattern at the top-left, top-right and bottom-left.
func TestJBIG2InvoiceQR(t *testing.T) {
	for _, c := range []struct{ file, img string }{
		{"real/invoice-vat-zhejiang-2020.ofd", "/Doc_0/Res/image_78.jb2"},
		{"real/invoice-vat-jiangsu-2020.ofd", "/Doc_0/Res/image_80.jb2"},
		{"real/invoice-vat-special-guizhou-2022.ofd", "/Doc_0/Res/image_80.jb2"},
	} {
		t.Run(c.file, func(t *testing.T) {
			rd := openCorpus(t, c.file)
			data, err := rd.Pkg.ReadFile(c.img)
			if err != nil {
				t.Fatal(err)
			}
			img, err := DecodeImage(data)
			if err != nil {
				t.Fatal(err)
			}
			g, ok := img.(*image.Gray)
			if !ok || g.Bounds().Dx() != 100 || g.Bounds().Dy() != 100 {
				t.Fatalf("decoded %T %v", img, img.Bounds())
			}
			black := func(x, y int) bool { return g.GrayAt(x, y).Y < 128 }
			// Quiet zone and module size from the top-left finder's top edge.
			q := 0
			for q < 50 && !black(q, q) {
				q++
			}
			run := 0
			for black(q+run, q) {
				run++
			}
			if q >= 50 || run < 7 {
				t.Fatalf("no finder pattern: quiet zone %d, top edge %d px", q, run)
			}
			// The other finders: the last black run of row q, and of column q. Modules need
			// not be whole pixels (the symbol was scaled to 100 px), so each finder's module
			// size comes from its own edge.
			tr := 99 - q
			for !black(tr, q) {
				tr--
			}
			trRun := 0
			for black(tr-trRun, q) {
				trRun++
			}
			bl := 99 - q
			for !black(q, bl) {
				bl--
			}
			blRun := 0
			for black(q, bl-blRun) {
				blRun++
			}
			for _, f := range []struct{ x, y, run int }{{q, q, run}, {tr - trRun + 1, q, trRun}, {q, bl - blRun + 1, blRun}} {
				o := [2]int{f.x, f.y}
				m := float64(f.run) / 7
				for my := 0; my < 7; my++ {
					for mx := 0; mx < 7; mx++ {
						ring := max(abs(float64(mx-3)), abs(float64(my-3)))
						want := ring != 2 // black outer ring and 3×3 centre, white ring between
						px, py := o[0]+int((float64(mx)+0.5)*m), o[1]+int((float64(my)+0.5)*m)
						if got := black(px, py); got != want {
							t.Fatalf("finder at %v: module (%d,%d) black=%v, want %v", o, mx, my, got, want)
						}
					}
				}
			}
		})
	}
}

func FuzzJBIG2(f *testing.F) {
	f.Add(append(append([]byte{}, jbig2Magic...), 1, 0, 0, 0, 1))
	f.Fuzz(func(t *testing.T, data []byte) {
		decodeJBIG2(append(append([]byte{}, jbig2Magic...), data...))
	})
}
