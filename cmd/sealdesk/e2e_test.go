package main_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"sealdesk/document"
	"sealdesk/internal/demo"
	"sealdesk/internal/testenv"
	"sealdesk/signer"
)

func freePort(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// TestDesktopEndToEnd launches the real sealdesk binary under X (make test runs go test inside
// xvfb-run), with a demo workspace and a local sealhub, and drives it through its test script
// hook: the key panel lists the workspace's keys, a seal is dragged onto the sample PDF, signed
// with the keystore's PIN typed into the PIN dialog, and the signed copy opens verified.
// Screenshots of the three states go to $SEALDESK_SCREENSHOTS (docs/screenshots when
// refreshing them) or a temporary directory.
func TestDesktopEndToEnd(t *testing.T) {
	if os.Getenv("DISPLAY") == "" {
		testenv.Missing(t, "an X display (make test runs the tests under xvfb-run)")
	}
	testenv.LookPath(t, "import")
	app := testenv.Binary(t, "sealdesk")

	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	dir, ws, shots, env := desktopRig(t, ctx)
	sample := filepath.Join(ws, "sample.pdf")
	script := filepath.Join(dir, "script.txt")
	lines := []string{
		"wait-keys 2",
		"open " + sample,
		"select-key signer-sm2",
		"sync",
		"shot " + filepath.Join(shots, "1-keys.png"),
		"drag-seal 150 60",
		"nudge 2 -1",
		"shot " + filepath.Join(shots, "2-placed.png"),
		"sign",
		"pin-file " + filepath.Join(ws, "pin.txt"),
		"expect-sigs 1 valid,unknown",
		"shot " + filepath.Join(shots, "3-verified.png"),
		"export-json " + filepath.Join(dir, "report.json"),
		"export-pdf " + filepath.Join(dir, "report.pdf"),
		"quit",
	}
	if err := os.WriteFile(script, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}

	cmd := exec.CommandContext(ctx, app, "--workspace", ws)
	cmd.Env = append(env, "SEALDESK_TEST_SCRIPT="+script)
	stdout, _ := cmd.StdoutPipe()
	stderr, _ := cmd.StderrPipe()
	start := time.Now()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	visible := make(chan time.Duration, 1)
	var errLog strings.Builder
	go func() {
		re := regexp.MustCompile(`window visible (\d+) ms after start`)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			if m := re.FindStringSubmatch(sc.Text()); m != nil {
				ms, _ := strconv.Atoi(m[1])
				visible <- time.Since(start)
				t.Logf("startup: window visible %d ms after main() began, %v after exec", ms, time.Since(start).Round(time.Millisecond))
			}
			errLog.WriteString(sc.Text() + "\n")
		}
	}()
	var outLog strings.Builder
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		outLog.WriteString(sc.Text() + "\n")
		t.Log(sc.Text())
	}
	err := cmd.Wait()
	if err != nil || strings.Contains(outLog.String(), "script: FAIL") {
		t.Fatalf("sealdesk: %v\nstdout:\n%s\nstderr:\n%s", err, outLog.String(), errLog.String())
	}
	select {
	case d := <-visible:
		// Startup speed is measured, not asserted: speed targets belong in benchmarks (a timed
		// assertion failed on a loaded machine while the app was fine).
		t.Logf("window visible %v after exec", d)
	default:
		t.Error("the app never reported its window visible")
	}

	// The signed copy sits beside the original, which is unchanged, and verifies.
	signed := filepath.Join(ws, "sample-signed.pdf")
	if _, err := os.Stat(signed); err != nil {
		t.Fatalf("no signed copy: %v", err)
	}
	var rep document.VerifyReport
	b, err := os.ReadFile(filepath.Join(dir, "report.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatal(err)
	}
	if rep.File != signed || len(rep.Signatures) != 1 {
		t.Fatalf("report of %s with %d signatures", rep.File, len(rep.Signatures))
	}
	s := rep.Signatures[0]
	if s.Integrity != document.OK || s.Trust != document.OK || s.ChangesAfter == document.Disallowed {
		t.Fatalf("signature: integrity %s trust %s changes %s problems %v", s.Integrity, s.Trust, s.ChangesAfter, s.Problems)
	}
	// The seal landed where it was dragged (centre 150,60 mm, nudged by 2,-1) on page 1.
	if len(s.Rects) != 1 || s.Pages[0] != 0 {
		t.Fatalf("seal rectangles %v on pages %v", s.Rects, s.Pages)
	}
	if cx, cy := s.Rects[0].Center(); abs(cx-152) > 0.5 || abs(cy-59) > 0.5 {
		t.Fatalf("seal centred at (%.2f, %.2f) mm, want (152, 59)", cx, cy)
	}
	pdf, err := os.ReadFile(filepath.Join(dir, "report.pdf"))
	if err != nil || !strings.HasPrefix(string(pdf), "%PDF-") {
		t.Fatalf("report PDF: %v", err)
	}
	for _, n := range []string{"1-keys.png", "2-placed.png", "3-verified.png"} {
		if fi, err := os.Stat(filepath.Join(shots, n)); err != nil || fi.Size() < 10000 {
			t.Errorf("screenshot %s: %v", n, err)
		}
	}
	fmt.Fprintf(os.Stderr, "screenshots in %s\n", shots)
}

// desktopRig makes a demo workspace and starts a local sealhub on it, as `make run` does; it
// returns the temporary directory, the workspace, the screenshot directory and the app's
// environment (its own HOME, configuration, outbox and hub).
func desktopRig(t *testing.T, ctx context.Context) (dir, ws, shots string, env []string) {
	t.Helper()
	hubBin := testenv.Binary(t, "sealhub")
	dir = t.TempDir()
	ws = filepath.Join(dir, "demo")
	if _, err := demo.Init(ctx, ws, signer.SM2); err != nil {
		t.Fatal(err)
	}
	shots = os.Getenv("SEALDESK_SCREENSHOTS")
	if shots == "" {
		shots = filepath.Join(dir, "shots")
	}
	if err := os.MkdirAll(shots, 0o755); err != nil {
		t.Fatal(err)
	}
	home := filepath.Join(dir, "home")
	os.MkdirAll(filepath.Join(home, ".cache"), 0o700)
	env = append(os.Environ(),
		"HOME="+home, "XDG_CONFIG_HOME="+filepath.Join(home, ".config"), "XDG_RUNTIME_DIR="+home,
		"SEALDESK_CONFIG="+filepath.Join(dir, "keys.json"), "SEALDESK_OUTBOX="+filepath.Join(dir, "outbox.db"))
	if os.Getenv("SEALDESK_CACHE") == "" {
		if root, err := testenv.RepoRoot(); err == nil {
			env = append(env, "SEALDESK_CACHE="+filepath.Join(root, ".cache")) // PDFium's compiled code
		}
	}

	// A local hub, as `make run` starts it.
	addr := freePort(t)
	hub := exec.CommandContext(ctx, hubBin, "serve", "--listen", addr, "--db", "sqlite:"+filepath.Join(ws, "hub.db"), "--demo", ws)
	hubLog, _ := os.Create(filepath.Join(dir, "sealhub.log"))
	hub.Stdout, hub.Stderr = hubLog, hubLog
	if err := hub.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { hub.Process.Kill(); hub.Wait() })
	for i := 0; ; i++ {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			break
		}
		if i > 300 {
			b, _ := os.ReadFile(filepath.Join(dir, "sealhub.log"))
			t.Fatalf("sealhub did not listen: %s", b)
		}
		time.Sleep(100 * time.Millisecond)
	}
	env = append(env, "SEALDESK_HUB=http://"+addr, "SEALDESK_HUB_TOKEN_FILE="+filepath.Join(ws, "hub-token.txt"))

	return dir, ws, shots, env
}

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}
