package ofd

import (
	"bytes"
	"context"
	"runtime"
	"testing"
)

// TestMemory500Pages opens a generated 500-page OFD, renders its first page and searches every
// page; the live heap must stay far below the 300 MB the preview allows for a document.
func TestMemory500Pages(t *testing.T) {
	if testing.Short() {
		t.Skip("short mode")
	}
	data := SampleLong(500).Bytes()
	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	rd, err := Open(bytes.NewReader(data), int64(len(data)), nil)
	if err != nil {
		t.Fatal(err)
	}
	doc := NewDocument(rd, nil)
	if _, err := doc.Render(context.Background(), 0, 150); err != nil {
		t.Fatal(err)
	}
	hits, err := doc.FindText(context.Background(), "第 500 页")
	if err != nil || len(hits) != 1 || hits[0].Page != 499 {
		t.Fatalf("FindText: %+v %v", hits, err)
	}
	runtime.GC()
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	live := int64(after.HeapAlloc) - int64(before.HeapAlloc)
	t.Logf("500 pages (%d KiB file): live heap after open, render and full search: %.1f MiB", len(data)>>10, float64(live)/(1<<20))
	if live > 100<<20 {
		t.Errorf("live heap grew by %d MiB", live>>20)
	}
	runtime.KeepAlive(doc)
}
