//go:build !unix

package ofdsig

// cpuTime is not measured here; benchmarks then report 0 cpu-ms/op.
func cpuTime() int64 { return 0 }
