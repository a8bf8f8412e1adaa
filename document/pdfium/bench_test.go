package pdfium

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	gopdfium "github.com/klippa-app/go-pdfium"
	"github.com/klippa-app/go-pdfium/requests"

	"sealdesk/internal/testenv"
)

// Benchmarks (go test -run '^$' -bench . ./document/pdfium/). Goals from issue 5: a page at
// 150 dpi within 1.5x of `pdftoppm -r 150 -cropbox` on the same page, the first page of a
// 500-page PDF shown (open + render) in under 300 ms, under 300 MB with that document open.

// benchDocs are the pages compared with pdftoppm: generated ones and real ones from the corpus.
func benchDocs(b *testing.B) map[string]string {
	dir := b.TempDir()
	docs := map[string]string{}
	write := func(name string, pages ...testPage) {
		p := filepath.Join(dir, name+".pdf")
		if err := os.WriteFile(p, buildPDF(pages), 0o644); err != nil {
			b.Fatal(err)
		}
		docs[name] = p
	}
	write("sample-cjk-seal", goldenPage())
	write("vector-3000-curves", heavyPage())
	corpus := filepath.Join(testenv.Corpus(b), "pdf-signed")
	for name, rel := range map[string]string{
		"corpus-cjk-form":   "generated-sm2/sm2-cjk-fieldname-xrefstream.pdf",
		"corpus-pades-text": "dss/pades-bes.pdf",
		"corpus-adobe-2009": "pdfcpu/adbe.pkcs7.detached_sample1.pdf",
	} {
		docs[name] = filepath.Join(corpus, rel)
	}
	return docs
}

// pdftoppmTime runs pdftoppm on page 1 like the preview shows it (CropBox, PPM, no PNG
// encoding) and returns the median wall time of n runs, process start included.
func pdftoppmTime(b *testing.B, path string, dpi int, n int) time.Duration {
	bin := testenv.LookPath(b, "pdftoppm")
	out := filepath.Join(b.TempDir(), "page")
	var ts []time.Duration
	for i := 0; i < n; i++ {
		start := time.Now()
		cmd := exec.Command(bin, "-r", strconv.Itoa(dpi), "-cropbox", "-f", "1", "-l", "1", "-singlefile", path, out)
		if msg, err := cmd.CombinedOutput(); err != nil {
			b.Fatalf("pdftoppm %s: %v %s", path, err, msg)
		}
		ts = append(ts, time.Since(start))
	}
	sort.Slice(ts, func(i, j int) bool { return ts[i] < ts[j] })
	return ts[len(ts)/2]
}

func BenchmarkRender150(b *testing.B) {
	docs := benchDocs(b)
	names := make([]string, 0, len(docs))
	for n := range docs {
		names = append(names, n)
	}
	sort.Strings(names)
	ctx := context.Background()
	for _, name := range names {
		path := docs[name]
		b.Run(name+"/pdfium", func(b *testing.B) {
			d := open(b, path)
			ref := pdftoppmTime(b, path, 150, 5)
			if _, err := d.RenderRGBA(ctx, 0, 150); err != nil { // page tree and fonts loaded
				b.Fatal(err)
			}
			b.ResetTimer()
			start := time.Now()
			for i := 0; i < b.N; i++ {
				d.e.images.dropDoc(d.id) // measure rendering, not the cache
				if _, err := d.RenderRGBA(ctx, 0, 150); err != nil {
					b.Fatal(err)
				}
			}
			per := time.Since(start) / time.Duration(b.N)
			b.ReportMetric(float64(per.Microseconds())/1000, "ms/page")
			b.ReportMetric(float64(ref.Microseconds())/1000, "pdftoppm-ms")
			b.ReportMetric(float64(per)/float64(ref), "x-pdftoppm")
		})
		b.Run(name+"/pdfium-nonprogressive", func(b *testing.B) {
			// go-pdfium's one-shot render (no pause checks), to show what cancellability costs.
			d := open(b, path)
			err := d.with(ctx, func(inst gopdfium.Pdfium, h *handle) error {
				page := requests.Page{ByIndex: &requests.PageByIndex{Document: h.doc, Index: 0}}
				req := &requests.RenderPageInDPI{Page: page, DPI: 150, RenderForm: true, Document: &h.doc}
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					res, err := inst.RenderPageInDPI(req)
					if err != nil {
						return err
					}
					res.Cleanup()
				}
				return nil
			})
			if err != nil {
				b.Fatal(err)
			}
		})
		b.Run(name+"/pdftoppm", func(b *testing.B) {
			bin := testenv.LookPath(b, "pdftoppm")
			out := filepath.Join(b.TempDir(), "page")
			for i := 0; i < b.N; i++ {
				cmd := exec.Command(bin, "-r", "150", "-cropbox", "-f", "1", "-l", "1", "-singlefile", path, out)
				if msg, err := cmd.CombinedOutput(); err != nil {
					b.Fatalf("pdftoppm: %v %s", err, msg)
				}
			}
		})
	}
}

// write500 generates a 500-page text document (Latin and Chinese lines on every page).
func write500(b *testing.B) string {
	pages := make([]testPage, 500)
	for i := range pages {
		var c strings.Builder
		fmt.Fprintf(&c, "BT /F1 18 Tf 60 780 Td (Page %d of 500) Tj ET\n", i+1)
		for l := 0; l < 30; l++ {
			fmt.Fprintf(&c, "BT /F1 10 Tf 60 %d Td (Line %d: the parties agree to the terms set out in clause %d.) Tj ET\n", 740-l*20, l+1, l+i)
			if l%5 == 0 {
				fmt.Fprintf(&c, "BT /F2 10 Tf 380 %d Td %s Tj ET\n", 740-l*20, cjkHex("合同条款第"+strconv.Itoa(l+1)+"条"))
			}
		}
		pages[i] = testPage{media: a4, content: c.String()}
	}
	p := filepath.Join(b.TempDir(), "500.pdf")
	if err := os.WriteFile(p, buildPDF(pages), 0o644); err != nil {
		b.Fatal(err)
	}
	return p
}

// BenchmarkFirstPage500 is what a user waits for: open a 500-page PDF and show page 1 at
// 150 dpi (the engine is already running; see BenchmarkEngineInit).
func BenchmarkFirstPage500(b *testing.B) {
	path := write500(b)
	st, _ := os.Stat(path)
	ctx := context.Background()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		d, err := testEng.Open(path)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := d.Render(ctx, 0, 150); err != nil {
			b.Fatal(err)
		}
		d.Close()
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/1000/float64(b.N), "ms/open+render")
	b.ReportMetric(float64(st.Size())/1e6, "file-MB")
}

// BenchmarkMemory500 keeps a 500-page document open the way the preview uses it (page 1–20 at
// 150 dpi, a thumbnail of every page, a search over all pages) and reports the process memory.
func BenchmarkMemory500(b *testing.B) {
	path := write500(b)
	ctx := context.Background()
	for i := 0; i < b.N; i++ {
		d, err := testEng.Open(path)
		if err != nil {
			b.Fatal(err)
		}
		for p := 0; p < 20; p++ {
			if _, err := d.Render(ctx, p, 150); err != nil {
				b.Fatal(err)
			}
		}
		for p := 0; p < d.NumPages(); p++ {
			if _, err := d.Thumbnail(ctx, p, 160); err != nil {
				b.Fatal(err)
			}
		}
		hits, err := d.FindText(ctx, "合同条款第6条")
		if err != nil || len(hits) != 500 {
			b.Fatalf("search: %d hits, %v", len(hits), err)
		}
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		rss, peak := procRSS()
		b.ReportMetric(float64(ms.HeapInuse)/(1<<20), "heap-MB")
		b.ReportMetric(float64(ms.Sys)/(1<<20), "go-sys-MB")
		if rss > 0 {
			b.ReportMetric(rss, "rss-MB")
			b.ReportMetric(peak, "peak-rss-MB")
		}
		b.ReportMetric(float64(testEng.images.bytes())/(1<<20), "page-cache-MB")
		d.Close()
	}
}

// procRSS reads the resident and peak resident set size in MB (Linux; 0 elsewhere).
func procRSS() (rss, peak float64) {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0, 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 2 {
			continue
		}
		kb, _ := strconv.ParseFloat(fields[1], 64)
		switch fields[0] {
		case "VmRSS:":
			rss = kb / 1024
		case "VmHWM:":
			peak = kb / 1024
		}
	}
	return rss, peak
}

// BenchmarkEngineInit measures starting an engine: warm = with the compilation cache the other
// tests filled, cold = with an empty cache directory (first start after installation, or CI).
func BenchmarkEngineInit(b *testing.B) {
	run := func(b *testing.B, dir func() string) {
		for i := 0; i < b.N; i++ {
			start := time.Now()
			e, err := NewEngine(Config{CacheDir: dir(), HostFonts: "-", Instances: 1})
			if err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(time.Since(start).Milliseconds()), "ms/init")
			e.Close()
		}
	}
	b.Run("warm", func(b *testing.B) { run(b, func() string { return testEng.CacheDir }) })
	b.Run("cold", func(b *testing.B) { run(b, func() string { return b.TempDir() }) })
}

// BenchmarkWarmStart measures what `sealctl find` pays on each run with a warm compilation
// cache: engine start, opening a document and a search on a page whose Chinese text uses a
// non-embedded font (so PDFium maps it through the visible fonts). default = Config{} (bundled
// font plus the picked host faces), hostdir = the whole system font folder, none = only the
// bundled font; $PF2 adds comma-separated font folders to compare.
func BenchmarkWarmStart(b *testing.B) {
	path := filepath.Join(b.TempDir(), "cjk.pdf")
	if err := os.WriteFile(path, buildPDF([]testPage{samplePage()}), 0o644); err != nil {
		b.Fatal(err)
	}
	run := func(b *testing.B, fonts string) {
		var initSum, totalSum time.Duration
		for i := 0; i < b.N; i++ {
			start := time.Now()
			e, err := NewEngine(Config{CacheDir: testEng.CacheDir, HostFonts: fonts, Instances: 1})
			if err != nil {
				b.Fatal(err)
			}
			initT := time.Since(start)
			d, err := e.Open(path)
			if err != nil {
				b.Fatal(err)
			}
			if _, err := d.FindText(context.Background(), "盖章"); err != nil {
				b.Fatal(err)
			}
			if _, err := d.Render(context.Background(), 0, 72); err != nil {
				b.Fatal(err)
			}
			initSum += initT
			totalSum += time.Since(start)
			d.Close()
			e.Close()
		}
		b.ReportMetric(float64(initSum.Milliseconds())/float64(b.N), "ms/init")
		b.ReportMetric(float64(totalSum.Milliseconds())/float64(b.N), "ms/total")
	}
	b.Run("default", func(b *testing.B) { run(b, "") })
	b.Run("hostdir", func(b *testing.B) { run(b, defaultHostFonts()) })
	b.Run("none", func(b *testing.B) { run(b, "-") })
	if d := os.Getenv("PF2"); d != "" {
		for _, x := range strings.Split(d, ",") {
			b.Run(filepath.Base(x), func(b *testing.B) { run(b, x) })
		}
	}
}
