package packaging_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
)

// BenchmarkFirstRender measures what a user waits for after installing: a whole `sealctl
// render` process (start, PDF engine start, open, page 1 at 150 dpi) with an empty per-user
// cache, as on the first run after a fresh install.
//
//	seeded: the package's prepared cache is present (document/pdfium/seed.go copies it in)
//	cold:   no prepared cache (SEALDESK_CACHE_SEED=-): the engine compiles PDFium, as before
//
// SEALDESK_BENCH_SEALCTL names the sealctl to measure (e.g. the installed /usr/bin/sealctl);
// otherwise one is built. Run: go test -run '^$' -bench FirstRender -benchtime 3x ./packaging/
func BenchmarkFirstRender(b *testing.B) {
	dir := b.TempDir()
	sealctl := os.Getenv("SEALDESK_BENCH_SEALCTL")
	if sealctl == "" {
		sealctl = filepath.Join(dir, "sealctl")
		if runtime.GOOS == "windows" {
			sealctl += ".exe"
		}
		cmd := exec.Command("go", "build", "-o", sealctl, "sealdesk/cmd/sealctl")
		if out, err := cmd.CombinedOutput(); err != nil {
			b.Fatalf("go build: %v\n%s", err, out)
		}
	}
	demo := filepath.Join(dir, "demo")
	if out, err := exec.Command(sealctl, "demo", "init", "--dir", demo).CombinedOutput(); err != nil {
		b.Fatalf("demo init: %v\n%s", err, out)
	}
	sample := filepath.Join(demo, "sample.pdf")

	// render runs sealctl as a new user would: its own HOME and cache, nothing compiled yet.
	render := func(b *testing.B, seed string) {
		b.Helper()
		home, err := os.MkdirTemp(dir, "home")
		if err != nil {
			b.Fatal(err)
		}
		defer os.RemoveAll(home)
		cmd := exec.Command(sealctl, "render", sample, "--page", "1", "-o", filepath.Join(home, "p1.png"))
		cmd.Env = append(os.Environ(), "HOME="+home, "XDG_CACHE_HOME="+filepath.Join(home, ".cache"),
			"LOCALAPPDATA="+home, "SEALDESK_CACHE=", "SEALDESK_CACHE_SEED="+seed)
		if out, err := cmd.CombinedOutput(); err != nil {
			b.Fatalf("render: %v\n%s", err, out)
		}
	}

	// The prepared cache, made the way scripts/package.sh makes it.
	seedRoot := filepath.Join(dir, "seedrun")
	cmd := exec.Command(sealctl, "render", sample, "--page", "1", "-o", filepath.Join(dir, "seed.png"))
	cmd.Env = append(os.Environ(), "SEALDESK_CACHE="+seedRoot, "SEALDESK_CACHE_SEED=-")
	if out, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("preparing the cache: %v\n%s", err, out)
	}
	seed := filepath.Join(seedRoot, "pdfium")

	b.Run("seeded", func(b *testing.B) {
		for b.Loop() {
			render(b, seed)
		}
	})
	b.Run("cold", func(b *testing.B) {
		for b.Loop() {
			render(b, "-")
		}
	})
}
