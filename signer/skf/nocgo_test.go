//go:build !cgo

package skf

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// TestNotBuiltIn: without cgo an SKF library cannot be loaded, and the error says so.
func TestNotBuiltIn(t *testing.T) {
	p := filepath.Join(t.TempDir(), "libskf.so")
	os.WriteFile(p, []byte("x"), 0o600)
	_, err := Open(Library{Path: p})
	if !errors.Is(err, ErrNotBuiltIn) {
		t.Fatalf("%v", err)
	}
	t.Log(err)
}
