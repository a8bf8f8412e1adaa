//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package document

import (
	"os"
	"runtime"
	"time"
)

func holdTemp(*os.File) {}

// staleTemp: on Windows a file another process has open cannot be removed (Go opens files
// without FILE_SHARE_DELETE), so the removal itself is the test of liveness. Elsewhere, with
// no lock to ask, a temporary file nobody wrote to for an hour is taken as left behind.
func staleTemp(_ string, st os.FileInfo) bool {
	return runtime.GOOS == "windows" || time.Since(st.ModTime()) > time.Hour
}
