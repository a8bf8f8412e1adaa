package version

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
)

func TestFormat(t *testing.T) {
	i := Info{Version: "0.1.0", Commit: "3a3a7f3c1d2e4f5a6b7c8d9e", Time: "2026-12-03T18:40:00Z",
		Modified: true, Go: "go1.26.8", Target: "linux/arm64", Cgo: true}
	want := "sealctl 0.1.0 (commit 3a3a7f3c1d2e+modified, 2026-12-03T18:40:00Z; go1.26.8 linux/arm64, cgo)"
	if got := i.Format("sealctl"); got != want {
		t.Errorf("Format = %q\nwant     %q", got, want)
	}
	i = Info{Version: "dev", Go: "go1.26.8", Target: "windows/amd64"}
	want = "sealhub dev (go1.26.8 windows/amd64, no cgo)"
	if got := i.Format("sealhub"); got != want {
		t.Errorf("Format = %q\nwant     %q", got, want)
	}
}

// TestLinkedVersion builds a tiny program the way scripts/package.sh links the real ones
// (-X for the release number) and checks what it prints: the -X path and the build record.
func TestLinkedVersion(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a program")
	}
	dir := t.TempDir()
	exe := filepath.Join(dir, "probe")
	if runtime.GOOS == "windows" {
		exe += ".exe"
	}
	cmd := exec.Command("go", "build", "-o", exe, "-ldflags", "-X sealdesk/internal/version.Version=9.8.7 -X sealdesk/internal/version.Commit=0123456789abcdef0123 -X sealdesk/internal/version.CommitTime=2026-12-03T18:40:00Z", "./testdata/probe")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	out, err := exec.Command(exe).Output()
	if err != nil {
		t.Fatal(err)
	}
	got := strings.TrimSpace(string(out))
	re := regexp.MustCompile(`^probe 9\.8\.7 \(commit [0-9a-f]{12}(\+modified)?, 20\d\d-\d\d-\d\dT[0-9:]+Z; ` + regexp.QuoteMeta(runtime.Version()) + ` ` + runtime.GOOS + `/` + runtime.GOARCH + `, no cgo\)$`)
	if !re.MatchString(got) {
		t.Errorf("probe printed %q, want it to match %s", got, re)
	}
}
