//go:build unix

package ofdsig

import "syscall"

// cpuTime is the process's user+system CPU time in ns: on a shared machine wall time per
// operation says more about the neighbours than about the code.
func cpuTime() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}
