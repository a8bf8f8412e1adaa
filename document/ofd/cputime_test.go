package ofd

import (
	"testing"
	"time"
)

// cpuTimer reports CPU time per operation next to ns/op: on a shared, loaded machine wall
// time mostly measures the queue for a core, CPU time measures the work.
type cpuTimer struct{ start time.Duration }

func startCPU() cpuTimer { return cpuTimer{cpuNow()} }

func (c cpuTimer) report(b *testing.B) {
	if b.N > 0 {
		b.ReportMetric(float64(cpuNow()-c.start)/float64(time.Millisecond)/float64(b.N), "cpu-ms/op")
	}
}
