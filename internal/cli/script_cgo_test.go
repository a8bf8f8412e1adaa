//go:build cgo

package cli

func init() { cgoEnabled = true }
