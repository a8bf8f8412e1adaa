package web_test

import (
	"bytes"
	"crypto/rand"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"sealdesk/hub/web"
)

// postFile streams data as the form's file (through a pipe, so the client side holds no copy
// of it and the heap measured is the server's).
func postFile(b *testing.B, c *http.Client, url, name string, data []byte, accept string) int {
	var head, tail bytes.Buffer
	mw := multipart.NewWriter(&head)
	mw.CreateFormFile("file", name)
	n := head.Len()
	mw.Close()
	tail.Write(head.Bytes()[n:])
	head.Truncate(n)
	body := io.MultiReader(bytes.NewReader(head.Bytes()), bytes.NewReader(data), bytes.NewReader(tail.Bytes()))
	req, _ := http.NewRequest("POST", url+"/", body)
	req.ContentLength = int64(head.Len() + len(data) + tail.Len())
	req.Header.Set("Content-Type", mw.FormDataContentType())
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	resp, err := c.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// BenchmarkCheckSamplePDF is the public seal check of the demo's signed sample.pdf through
// HTTP on loopback: the whole answer, verification (chain, CRLs, registry) and the rendered,
// outlined pages (html), or the report alone (json). Goal: under 1 s.
func BenchmarkCheckSamplePDF(b *testing.B) {
	h := startHub(b, web.Options{})
	data, err := os.ReadFile(signed.pdf)
	if err != nil {
		b.Fatal(err)
	}
	c := h.srv.Client()
	for _, accept := range []string{"text/html", "application/json"} {
		name := "html"
		if accept != "text/html" {
			name = "json"
		}
		b.Run(name, func(b *testing.B) {
			postFile(b, c, h.url, "sample-signed.pdf", data, accept) // warm: PDFium compiled, CRLs cached
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if code := postFile(b, c, h.url, "sample-signed.pdf", data, accept); code != 200 {
					b.Fatalf("status %d", code)
				}
			}
		})
	}
}

// uploadMemoryBound is the stated bound on the Go heap while 8 uploads of 20 MB arrive at once
// (web.Options.Checks = 4 are checked at a time, each holding its upload in memory).
const uploadMemoryBound = 512 << 20

// BenchmarkConcurrentUploads20MB sends 8 uploads of 20 MB at once (the demo's signed
// sample.pdf followed by 20 MB of random bytes, so the whole file is read, hashed and
// scanned) and samples the Go heap (which holds PDFium's WebAssembly memory too) every
// 5 ms; it fails when the peak exceeds uploadMemoryBound.
func BenchmarkConcurrentUploads20MB(b *testing.B) {
	h := startHub(b, web.Options{})
	pdf, err := os.ReadFile(signed.pdf)
	if err != nil {
		b.Fatal(err)
	}
	pad := make([]byte, 20<<20)
	rand.Read(pad)
	data := append(append([]byte{}, pdf...), pad...)
	c := &http.Client{Transport: &http.Transport{MaxConnsPerHost: 16}}
	runtime.GC()
	var base runtime.MemStats
	runtime.ReadMemStats(&base)
	var peak atomic.Uint64
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		var m runtime.MemStats
		t := time.NewTicker(5 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				runtime.ReadMemStats(&m)
				if m.HeapInuse > peak.Load() {
					peak.Store(m.HeapInuse)
				}
			}
		}
	}()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		var wg sync.WaitGroup
		codes := make([]int, 8)
		for j := range codes {
			wg.Add(1)
			go func() {
				defer wg.Done()
				codes[j] = postFile(b, c, h.url, "big.pdf", data, "application/json")
			}()
		}
		wg.Wait()
		for _, code := range codes {
			if code != 200 {
				b.Fatalf("an upload answered %d", code)
			}
		}
	}
	b.StopTimer()
	close(stop)
	<-done
	b.ReportMetric(float64(peak.Load())/(1<<20), "peak-heap-MB")
	b.ReportMetric(float64(base.HeapInuse)/(1<<20), "base-heap-MB")
	if p := peak.Load(); p > uploadMemoryBound {
		b.Fatalf("peak heap %d MB exceeds the bound of %d MB", p>>20, uploadMemoryBound>>20)
	}
}
