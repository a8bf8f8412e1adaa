package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// sparse makes a file of size bytes that starts like a PDF and is otherwise a hole (no disk).
func sparse(t *testing.T, name string, size int64) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte("%PDF-1.4\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(p, size); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestRenderPastFourGiB (issue 12, defect 4): `sealctl render` of a PDF over 4 GiB used to die
// with a Go fatal error (the 32-bit WebAssembly PDF engine asked for 32-160 GiB). Now it is
// refused with a sentence that names the file and the limit; no output is written.
func TestRenderPastFourGiB(t *testing.T) {
	in := sparse(t, "x.pdf", 4100<<20)
	out := filepath.Join(filepath.Dir(in), "x.png")
	code, _, stderr := hubRun(t, "sealctl", "render", in, "--page", "1", "-o", out)
	if code != ExitUsage || !strings.Contains(stderr, "x.pdf is 4100 MB; the preview shows PDF files up to 4095 MB") {
		t.Fatalf("render of a 4100 MB PDF: exit %d, %q", code, stderr)
	}
	if _, err := os.Stat(out); err == nil {
		t.Fatal("an output was written")
	}
}

// TestVerifyLargeShowsProgress: verifying a file of many hundred MB shows how far it got, on
// stderr (stdout stays the report), and still names the file when it is not a readable PDF.
func TestVerifyLargeShowsProgress(t *testing.T) {
	in := sparse(t, "big.pdf", progressFrom+(64<<20))
	code, stdout, stderr := hubRun(t, "sealctl", "verify", in, "--json")
	if code != ExitUsage || stdout != "" {
		t.Fatalf("verify: exit %d, stdout %q", code, stdout)
	}
	for _, want := range []string{"big.pdf: verifying… 10 %", "big.pdf: verifying… 100 %", "big.pdf: cannot read the PDF"} {
		if !strings.Contains(stderr, want) {
			t.Fatalf("verify of a %d MB file: stderr lacks %q:\n%s", (progressFrom+(64<<20))>>20, want, stderr)
		}
	}
}
