//go:build !unix

package ofd

import "time"

// cpuNow is not measured on this platform; cpu-ms/op then reads 0.
func cpuNow() time.Duration { return 0 }
