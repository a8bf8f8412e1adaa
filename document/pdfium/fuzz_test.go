package pdfium

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// FuzzOpen feeds arbitrary bytes through open, render, search and the signature list: any
// input may fail, none may panic or hang (make fuzz runs it; go test runs the seeds).
func FuzzOpen(f *testing.F) {
	good := buildPDF([]testPage{goldenPage()})
	f.Add(good)
	f.Add(good[:len(good)*2/3])
	f.Add(buildPDF([]testPage{{media: a4, rotate: 90, crop: &[4]float64{50, 50, 300, 300}, content: "BT /F2 12 Tf 60 60 Td <5408540C> Tj ET"}}))
	f.Add([]byte("%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n2 0 obj << /Type /Pages /Kids [3 0 R] /Count 1 >> endobj\n3 0 obj << /Type /Page /Parent 2 0 R /MediaBox [0 0 10 10] >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF"))
	signed := samplePage()
	signed.sigs = []testSig{{name: "a", rect: [4]float64{10, 10, 90, 90}, subFilter: "ETSI.CAdES.detached", contents: []byte{0x30, 0}, signed: true}}
	f.Add(buildPDF([]testPage{samplePage(), signed}))
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		p := filepath.Join(dir, "fuzz.pdf")
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		// A hang is a failure too: PDFium cannot be interrupted, so report it with the input.
		watchdog := time.AfterFunc(30*time.Second, func() {
			panic(fmt.Sprintf("FuzzOpen: one input took more than 30 s (%d bytes)", len(data)))
		})
		defer watchdog.Stop()
		d, err := testEng.Open(p)
		if err != nil {
			return
		}
		defer d.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		for i := 0; i < d.NumPages() && i < 3; i++ {
			_, _ = d.PageSize(i)
			_, _ = d.Render(ctx, i, 10)
		}
		_, _ = d.FindText(ctx, "a")
		_, _ = d.Signatures()
	})
}

// FuzzSignatures feeds the structure walk of Signatures (document/pdf's reader, no PDFium)
// malformed files: errors are fine, panics and hangs are not.
func FuzzSignatures(f *testing.F) {
	signed := samplePage()
	signed.sigs = []testSig{{name: "a", rect: [4]float64{10, 10, 90, 90}, subFilter: "ETSI.CAdES.detached", contents: []byte{0x30, 0}, signed: true}}
	good := buildPDF([]testPage{samplePage(), signed})
	f.Add(good)
	f.Add(good[:len(good)*3/4])
	f.Fuzz(func(t *testing.T, data []byte) {
		sigs, _ := exactSignatures(bytes.NewReader(data), int64(len(data)))
		for _, s := range sigs {
			if len(s.Pages) != len(s.Rects) {
				t.Fatalf("signature %d: %d pages but %d rects", s.Index, len(s.Pages), len(s.Rects))
			}
		}
	})
}
