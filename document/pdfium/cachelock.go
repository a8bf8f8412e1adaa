package pdfium

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// lockCache serialises engine start-up between processes sharing a compilation cache. A cold
// start compiles the 5.8 MB PDFium module for seconds and ~350 MB; two processes starting
// together (go test runs packages in parallel, the GUI and sealctl on first use) would both
// compile. With the lock the second one waits and then loads the first one's result.
//
// The lock is a file created exclusively (portable, no flock). A holder that died leaves it
// behind: it counts as stale after staleAfter, and nobody waits longer than that anyway, since
// the lock only saves work and is never needed for correctness.
func lockCache(dir string) (unlock func()) {
	const staleAfter = 90 * time.Second
	p := filepath.Join(dir, ".init.lock")
	deadline := time.Now().Add(staleAfter)
	for {
		f, err := os.OpenFile(p, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
		if err == nil {
			fmt.Fprintf(f, "%d\n", os.Getpid())
			f.Close()
			return func() { os.Remove(p) }
		}
		if !errors.Is(err, fs.ErrExist) {
			return func() {}
		}
		if st, err := os.Stat(p); err == nil && time.Since(st.ModTime()) > staleAfter {
			os.Remove(p)
			continue
		}
		if time.Now().After(deadline) {
			return func() {}
		}
		time.Sleep(50 * time.Millisecond)
	}
}
