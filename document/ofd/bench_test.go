package ofd

import (
	"bytes"
	"context"
	"path/filepath"
	"testing"

	"sealdesk/internal/testenv"
)

// BenchmarkRenderInvoice150 renders page 1 of a real e-invoice (template page, JBIG2 QR code,
// non-embedded CJK fonts, an OFD seal picture) at 150 dpi from an open document: the preview's
// cost per page. Goal: under 100 ms.
func BenchmarkRenderInvoice150(b *testing.B) {
	rd := openCorpus(b, "real/invoice-vat-zhejiang-2020.ofd")
	ctx := context.Background()
	if _, err := rd.RenderPage(ctx, 0, 150, nil); err != nil { // fonts and seal parsed once
		b.Fatal(err)
	}
	b.ResetTimer()
	ct := startCPU()
	defer ct.report(b)
	for i := 0; i < b.N; i++ {
		if _, err := rd.RenderPage(ctx, 0, 150, nil); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkOpenRenderInvoice150 is opening the file and rendering page 1: what the user waits
// for after dropping an invoice on the window.
func BenchmarkOpenRenderInvoice150(b *testing.B) {
	path := filepath.Join(testenv.Corpus(b), "ofd", "real/invoice-vat-zhejiang-2020.ofd")
	rd0 := openCorpus(b, "real/invoice-vat-zhejiang-2020.ofd")
	rd0.RenderPage(context.Background(), 0, 150, nil) // process-wide font caches warm
	b.ResetTimer()
	ct := startCPU()
	defer ct.report(b)
	for i := 0; i < b.N; i++ {
		rd, err := OpenFile(path, nil)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := rd.RenderPage(context.Background(), 0, 150, nil); err != nil {
			b.Fatal(err)
		}
		rd.Close()
	}
}

// BenchmarkOpen100Pages opens a generated 100-page OFD and renders its first page at 150 dpi.
func BenchmarkOpen100Pages(b *testing.B) {
	data := SampleLong(100).Bytes()
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	ct := startCPU()
	defer ct.report(b)
	for i := 0; i < b.N; i++ {
		rd, err := Open(bytes.NewReader(data), int64(len(data)), nil)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := rd.RenderPage(context.Background(), 0, 150, nil); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkFind100Pages searches all pages of the 100-page document (keyword placement).
func BenchmarkFind100Pages(b *testing.B) {
	data := SampleLong(100).Bytes()
	rd, err := Open(bytes.NewReader(data), int64(len(data)), nil)
	if err != nil {
		b.Fatal(err)
	}
	doc := NewDocument(rd, nil)
	b.ResetTimer()
	ct := startCPU()
	defer ct.report(b)
	for i := 0; i < b.N; i++ {
		hits, err := doc.FindText(context.Background(), "第 100 页")
		if err != nil || len(hits) != 1 {
			b.Fatalf("%v %v", hits, err)
		}
	}
}

// BenchmarkExportPDFInvoice converts the e-invoice to PDF.
func BenchmarkExportPDFInvoice(b *testing.B) {
	rd := openCorpus(b, "real/invoice-vat-zhejiang-2020.ofd")
	ct := startCPU()
	defer ct.report(b)
	for i := 0; i < b.N; i++ {
		var buf bytes.Buffer
		if err := rd.WritePDF(context.Background(), &buf, nil); err != nil {
			b.Fatal(err)
		}
	}
}
