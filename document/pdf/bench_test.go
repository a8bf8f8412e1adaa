package pdf

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"sealdesk/document"
	"sealdesk/signer"
)

// Benchmarks on a generated 200 MB PDF (100 pages, each a 2 MB uncompressed image), made in a
// temporary directory and never committed. Each operation runs in a child process (this test
// binary, TestBenchChild) so that its peak RSS can be measured by the kernel (rusage maxrss),
// and the hash passes run the same way for a fair comparison:
//
//	hash-sm3 / hash-sha256   one streaming pass over the file
//	sign-sm2 / sign-ecdsa    pdf-gm (SM3) / pades (SHA-256) with a visible seal, output to a file
//	verify-sm2 / verify-ecdsa  our verifier on those outputs

var (
	bigOnce sync.Once
	bigDir  string
	bigErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if bigDir != "" {
		os.RemoveAll(bigDir)
	}
	os.Exit(code)
}

// writeBigPDF writes a PDF of pages pages, each one raw RGB image of about imgBytes bytes.
func writeBigPDF(path string, pages int, imgBytes int) error {
	return document.WriteFileAtomic(path, func(w io.Writer) error { return WriteImagePDF(w, pages, imgBytes) })
}

func bigPDF(b *testing.B) string {
	bigOnce.Do(func() {
		bigDir, bigErr = os.MkdirTemp("", "sealdesk-pdf-bench-")
		if bigErr == nil {
			bigErr = writeBigPDF(filepath.Join(bigDir, "big.pdf"), 100, 2<<20)
		}
	})
	if bigErr != nil {
		b.Fatal(bigErr)
	}
	return filepath.Join(bigDir, "big.pdf")
}

// child runs one operation in a child process and returns its wall time and peak RSS (MB).
func child(b *testing.B, mode, in, out string) (time.Duration, float64, float64) {
	cmd := exec.Command(os.Args[0], "-test.run=^TestBenchChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), "SEALDESK_PDF_BENCH_CHILD="+mode, "SEALDESK_PDF_BENCH_IN="+in, "SEALDESK_PDF_BENCH_OUT="+out)
	start := time.Now()
	o, err := cmd.CombinedOutput()
	d := time.Since(start)
	if err != nil {
		b.Fatalf("%s: %v\n%s", mode, err, o)
	}
	ru := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	var inner float64
	if i := strings.Index(string(o), "op-seconds="); i >= 0 {
		fmt.Sscanf(string(o[i:]), "op-seconds=%f", &inner)
	}
	return d, float64(ru.Maxrss) / 1024, inner
}

func BenchmarkPDF200MB(b *testing.B) {
	in := bigPDF(b)
	st, _ := os.Stat(in)
	signed := map[string]string{"sm2": filepath.Join(bigDir, "signed-sm2.pdf"), "ecdsa": filepath.Join(bigDir, "signed-ecdsa.pdf")}
	for _, mode := range []string{"hash-sm3", "hash-sha256", "sign-sm2", "sign-ecdsa", "verify-sm2", "verify-ecdsa"} {
		b.Run(mode, func(b *testing.B) {
			src, dst := in, ""
			switch mode {
			case "sign-sm2":
				dst = signed["sm2"]
			case "sign-ecdsa":
				dst = signed["ecdsa"]
			case "verify-sm2":
				src = signed["sm2"]
			case "verify-ecdsa":
				src = signed["ecdsa"]
			}
			if _, err := os.Stat(src); err != nil {
				b.Skipf("%s needs the signed file (run the sign benchmarks first)", mode)
			}
			b.SetBytes(st.Size())
			var rss, inner float64
			var total time.Duration
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				d, r, op := child(b, mode, src, dst)
				total += d
				inner += op
				if r > rss {
					rss = r
				}
			}
			b.ReportMetric(rss, "peak-RSS-MB")
			b.ReportMetric(total.Seconds()/float64(b.N), "s/op-wall")
			b.ReportMetric(inner/float64(b.N), "s/op-inner")
		})
	}
}

// TestBenchChild is the child side of BenchmarkPDF200MB (skipped unless the parent runs it).
func TestBenchChild(t *testing.T) {
	mode := os.Getenv("SEALDESK_PDF_BENCH_CHILD")
	if mode == "" {
		t.Skip("child process of BenchmarkPDF200MB")
	}
	in, out := os.Getenv("SEALDESK_PDF_BENCH_IN"), os.Getenv("SEALDESK_PDF_BENCH_OUT")
	var req *document.SignRequest
	switch mode {
	case "sign-sm2":
		req = request(t, signer.SM2, document.ProfilePDFGM, document.Stamp{Page: 0, Rect: document.Rect{X: 20, Y: 20, W: 40, H: 40}})
	case "sign-ecdsa":
		req = request(t, signer.ECDSA, document.ProfilePAdES, document.Stamp{Page: 0, Rect: document.Rect{X: 20, Y: 20, W: 40, H: 40}})
	}
	start := time.Now()
	defer func() { fmt.Printf("op-seconds=%f\n", time.Since(start).Seconds()) }()
	f, err := os.Open(in)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	st, _ := f.Stat()
	switch mode {
	case "hash-sm3", "hash-sha256":
		alg := signer.SM3
		if mode == "hash-sha256" {
			alg = signer.SHA256
		}
		if _, err := alg.Sum(f); err != nil {
			t.Fatal(err)
		}
	case "sign-sm2", "sign-ecdsa":
		// A plain file, no fsync: this measures signing. document.SignFile adds an fsync of
		// the output (WriteFileAtomic), whose cost is the disk's, not the signer's.
		w, err := os.Create(out)
		if err != nil {
			t.Fatal(err)
		}
		if err := Sign(context.Background(), f, st.Size(), req, w); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
	case "verify-sm2", "verify-ecdsa":
		rep, err := Verify(context.Background(), f, st.Size(), nil)
		if err != nil {
			t.Fatal(err)
		}
		if len(rep.Signatures) != 1 || rep.Signatures[0].Integrity != document.OK {
			t.Fatalf("verification of the signed 200 MB file failed: %+v", rep.Signatures)
		}
	}
}
