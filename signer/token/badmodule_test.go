//go:build cgo

package token

import (
	"context"
	"errors"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"sealdesk/internal/testenv"
	"sealdesk/signer"
)

// buildBadModule compiles testdata/badmodule.c into a shared library.
func buildBadModule(t *testing.T, define string) string {
	t.Helper()
	cc := testenv.LookPath(t, "gcc")
	out := filepath.Join(t.TempDir(), "bad-"+strings.ToLower(define)+".so")
	cmd := exec.Command(cc, "-shared", "-fPIC", "-D"+define, "-o", out, "testdata/badmodule.c")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("gcc: %v\n%s", err, b)
	}
	return out
}

// TestHungAndFailingModules drives real (deliberately broken) PKCS#11 libraries: a hung
// module costs one timeout, gets no further calls while stuck, and does not hold up the
// watcher's other modules; a failing module is reported, not fatal.
func TestHungAndFailingModules(t *testing.T) {
	hangPath := buildBadModule(t, "HANG")
	failPath := buildBadModule(t, "FAIL")
	old := CallTimeout
	CallTimeout = 300 * time.Millisecond
	defer func() { CallTimeout = old }()
	ctx := context.Background()

	failing, err := OpenModule(Module{Path: failPath})
	if err != nil {
		t.Fatal(err)
	}
	defer failing.Close()
	if _, err := failing.Tokens(ctx); err == nil || !strings.Contains(err.Error(), "C_GetSlotList") {
		t.Fatalf("failing module: %v", err)
	}

	hung, err := OpenModule(Module{Path: hangPath})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, err = hung.Tokens(ctx)
	if !errors.Is(err, ErrModuleHung) || time.Since(start) > 2*time.Second {
		t.Fatalf("hung module: %v after %v", err, time.Since(start))
	}
	start = time.Now()
	_, err = hung.Tokens(ctx)
	if !errors.Is(err, ErrModuleHung) || !strings.Contains(err.Error(), "has not returned yet") || time.Since(start) > 100*time.Millisecond {
		t.Fatalf("second call on a hung module: %v after %v", err, time.Since(start))
	}

	f, _, _ := fakeWithKey(t)
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	w := NewWatcher(wctx, []Lister{hung, failing, f}, WatchOptions{Interval: 50 * time.Millisecond, Timeout: time.Second})
	var sawToken, sawHung, sawFail bool
	deadline := time.After(5 * time.Second)
	for !(sawToken && sawHung && sawFail) {
		select {
		case e := <-w.Events():
			switch {
			case e.Kind == signer.TokenInserted && e.Token.Label == "Seal Key":
				sawToken = true
			case e.Kind == signer.ModuleError && e.Token.Module == hangPath:
				sawHung = true
			case e.Kind == signer.ModuleError && e.Token.Module == failPath && strings.Contains(e.Err, "CKR_DEVICE_ERROR"):
				sawFail = true
			}
		case <-deadline:
			t.Fatalf("token %v, hung module error %v, failing module error %v", sawToken, sawHung, sawFail)
		}
	}
	w.Close()
	// Closing a store whose module is stuck must not hang either.
	done := make(chan struct{})
	go func() { hung.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(3 * time.Second):
		t.Fatal("Close hung on a stuck module")
	}
}

func TestModuleCandidatesTable(t *testing.T) {
	for _, k := range KnownModules {
		if k.Vendor == "" || len(k.Linux)+len(k.Windows)+len(k.Darwin) == 0 {
			t.Fatalf("incomplete table entry %+v", k)
		}
	}
	if m, ok := FindKnown("SoftHSM2"); ok && !m.Reinit {
		t.Fatal("SoftHSM2 must be re-initialised to see new tokens")
	}
}
