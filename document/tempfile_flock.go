//go:build linux || darwin || freebsd || netbsd || openbsd || dragonfly

package document

import (
	"os"
	"syscall"
)

// holdTemp marks a temporary output as in use by this process for as long as it is open: an
// advisory lock that the kernel drops when the process dies, however it dies (kill -9).
func holdTemp(f *os.File) { syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB) }

// staleTemp reports whether no living process writes the temporary file at path: its lock can
// be taken. The lock taken here goes with the descriptor, which is closed at once.
func staleTemp(path string, _ os.FileInfo) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	return syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB) == nil
}
