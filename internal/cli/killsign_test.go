package cli

import (
	"bytes"
	"crypto/sha256"
	"io"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"sealdesk/document"
	"sealdesk/document/pdf"
	"sealdesk/internal/testenv"
)

func fileSum(t *testing.T, path string) [32]byte {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		t.Fatal(err)
	}
	var s [32]byte
	copy(s[:], h.Sum(nil))
	return s
}

func temps(t *testing.T, out string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(filepath.Dir(out), "."+filepath.Base(out)+".tmp-*"))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestKillDuringSignLeavesNoTempFiles (issue 12, defect 5): the real sealctl signs a 200 MB PDF
// and is killed with SIGKILL ten times at moments spread over a signing's whole run. Killed
// runs leave hidden temporary files (up to the output's size); the next `sealctl sync` and the
// next `sealctl sign` of the same output remove every one, and the input never changes.
func TestKillDuringSignLeavesNoTempFiles(t *testing.T) {
	if testing.Short() {
		t.Skip("writes and signs a 200 MB PDF")
	}
	sealctl := testenv.Binary(t, "sealctl")
	dir := t.TempDir()
	if code, _, stderr := hubRun(t, "sealctl", "demo", "init", "--dir", dir); code != 0 {
		t.Fatalf("demo init: %d %s", code, stderr)
	}
	in := filepath.Join(dir, "big.pdf")
	if err := document.WriteFileAtomic(in, func(w io.Writer) error { return pdf.WriteImagePDF(w, 100, 2<<20) }); err != nil {
		t.Fatal(err)
	}
	inSum := fileSum(t, in)
	out := filepath.Join(dir, "big-signed.pdf")
	env := append(os.Environ(), "SEALDESK_CONFIG="+filepath.Join(dir, "config.json"), "SEALDESK_HUB=",
		"SEALDESK_OUTBOX="+filepath.Join(dir, "outbox.db"), "HOME="+filepath.Join(dir, "home"))
	args := []string{"sign", "--in", in, "--out", out, "--key", "file:" + filepath.Join(dir, "keys", "signer-sm2.pem"),
		"--pin-file", filepath.Join(dir, "pin.txt"), "--seal", filepath.Join(dir, "seal.esl"), "--page", "1", "--at", "100,100"}
	run := func() {
		t.Helper()
		cmd := exec.Command(sealctl, args...)
		cmd.Env = env
		if b, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("sealctl sign: %v\n%s", err, b)
		}
	}
	// One whole signing sets the time scale for the kills.
	start := time.Now()
	run()
	whole := time.Since(start)
	os.Remove(out)
	t.Logf("one signing of the 200 MB PDF: %v", whole)

	kill := func(i int) {
		t.Helper()
		cmd := exec.Command(sealctl, args...)
		cmd.Env = env
		var buf bytes.Buffer
		cmd.Stdout, cmd.Stderr = &buf, &buf
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// Kills spread from process start to the end of the write (the last 10 % would mostly
		// kill a finished process).
		time.Sleep(whole * time.Duration(i+1) / 11)
		cmd.Process.Signal(syscall.SIGKILL)
		cmd.Wait()
		if fileSum(t, in) != inSum {
			t.Fatalf("kill %d changed the input", i)
		}
	}
	left := 0
	for i := 0; i < 5; i++ {
		kill(i)
		left = max(left, len(temps(t, out)))
	}
	os.Remove(out) // a kill after the rename leaves a finished output; the next sign would refuse nothing
	// The next `sealctl sync` (against the demo's hub) removes what the killed runs left.
	h := demoHub(t, dir)
	srv := httptest.NewServer(h.Handler())
	defer srv.Close()
	sync := exec.Command(sealctl, "sync", "--hub", srv.URL, "--token-file", filepath.Join(dir, "hub-token.txt"))
	sync.Env = env
	b, err := sync.CombinedOutput()
	if err != nil {
		t.Fatalf("sealctl sync: %v\n%s", err, b)
	}
	if m := temps(t, out); len(m) != 0 {
		t.Fatalf("after sync, temporary files remain: %v", m)
	}
	for i := 5; i < 10; i++ {
		kill(i)
		left = max(left, len(temps(t, out)))
	}
	os.Remove(out)
	run() // the next sign of the same output
	if m := temps(t, out); len(m) != 0 {
		t.Fatalf("after the next sign, temporary files remain: %v", m)
	}
	if left == 0 {
		t.Fatalf("no kill landed during the write (one signing took %v): the test proved nothing", whole)
	}
	if fileSum(t, in) != inSum {
		t.Fatal("the input changed")
	}
	ents, _ := filepath.Glob(filepath.Join(dir, ".*"))
	for _, e := range ents {
		if strings.Contains(e, ".tmp-") {
			t.Fatalf("temporary file left in the workspace: %s", e)
		}
	}
	t.Logf("killed runs left up to %d temporary file(s) at a time; all removed", left)
}
