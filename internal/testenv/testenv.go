// Package testenv decides what a test does when a part it needs (a program, a library, a
// server) is missing: in CI (CI=true) the test FAILS, so a broken install step can never hide
// behind a skip; on a developer machine it is skipped with the reason.
package testenv

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// InCI reports whether tests run in CI.
func InCI() bool { return os.Getenv("CI") == "true" }

// Missing fails the test in CI and skips it elsewhere.
func Missing(t testing.TB, what string) {
	t.Helper()
	missing(t, what, "make test installs it: scripts/install-deps.sh")
}

func missing(t testing.TB, what, hint string) {
	t.Helper()
	if InCI() {
		t.Fatalf("%s is required in CI but missing (%s)", what, hint)
	}
	t.Skipf("%s is missing; skipping (CI fails here instead)", what)
}

// LookPath returns the path of program, or fails/skips the test when it is not installed.
func LookPath(t testing.TB, program string) string {
	t.Helper()
	p, err := exec.LookPath(program)
	if err != nil {
		Missing(t, "program "+program)
	}
	return p
}

// File returns path if it exists, or fails/skips the test.
func File(t testing.TB, path, what string) string {
	t.Helper()
	if _, err := os.Stat(path); err != nil {
		Missing(t, what+" ("+path+")")
	}
	return path
}

// SoftHSMModule returns the SoftHSM2 PKCS#11 module path, or fails/skips the test.
func SoftHSMModule(t testing.TB) string {
	t.Helper()
	for _, p := range []string{
		"/usr/lib/softhsm/libsofthsm2.so",
		"/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
		"/usr/lib/aarch64-linux-gnu/softhsm/libsofthsm2.so",
		"/usr/local/lib/softhsm/libsofthsm2.so",
	} {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	Missing(t, "SoftHSM2 (libsofthsm2.so)")
	return ""
}

// Corpus returns the path of the shared sample corpus (../shared/corpus from the repo root,
// or $SEALDESK_CORPUS), or fails/skips the test.
func Corpus(t testing.TB) string {
	t.Helper()
	p := os.Getenv("SEALDESK_CORPUS")
	if p == "" {
		root, err := RepoRoot()
		if err != nil {
			t.Fatal(err)
		}
		p = root + "/../shared/corpus"
	}
	if _, err := os.Stat(p); err != nil {
		missing(t, "sample corpus ("+p+")", "it lies beside the repository in ../shared/corpus, or set SEALDESK_CORPUS")
	}
	return p
}

// SharedTools returns ../shared/tools (independent checkers), or fails/skips the test.
func SharedTools(t testing.TB) string {
	t.Helper()
	root, err := RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	p := root + "/../shared/tools"
	if _, err := os.Stat(p); err != nil {
		missing(t, "shared checker tools ("+p+")", "they lie beside the repository in ../shared/tools")
	}
	return p
}

// Binary returns the path of the built program name (sealctl, sealhub, sealdesk):
// $SEALDESK_BIN/name, which `make test` builds first, or else a fresh `go build` of ./cmd/name
// into the test's temporary directory. Tests that must drive the real binary (kill -9, a real
// window) use it.
func Binary(t testing.TB, name string) string {
	t.Helper()
	if dir := os.Getenv("SEALDESK_BIN"); dir != "" {
		p := filepath.Join(dir, name)
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	root, err := RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), name)
	cmd := exec.Command("go", "build", "-o", out, "./cmd/"+name)
	cmd.Dir = root
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", name, err, b)
	}
	return out
}
