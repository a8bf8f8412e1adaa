//go:build unix

package ui

import (
	"syscall"
	"time"
)

// processCPU is the CPU time (user + system) the process used so far: start-up cost that does
// not depend on how loaded the machine is.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return -1
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
