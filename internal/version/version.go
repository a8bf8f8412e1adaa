// Package version says which build of SealDesk is running: `sealdesk --version`,
// `sealctl --version` and `sealhub --version` print String.
//
// Version is the release number, set by the packaging build with
//
//	-ldflags "-X sealdesk/internal/version.Version=0.1.0"
//
// (scripts/package.sh does this from packaging/VERSION). Everything else comes from the Go
// toolchain's own build record (runtime/debug.ReadBuildInfo): the commit, its time and whether
// the tree was modified (when the build stamped them: -buildvcs), the Go version, the target
// and whether cgo was on — so a plain `go build` still says what it was built from.
// Commit and CommitTime, also set with -X, fill in the commit where the build record has none
// (this project's machines build with GOFLAGS=-buildvcs=false).
package version

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"
)

// Version is the release number; "dev" when not set at link time.
var Version = "dev"

// Commit and CommitTime (RFC 3339) name the source when the build record lacks vcs.* settings.
var Commit, CommitTime string

// Info is one build's identity.
type Info struct {
	Version  string // release number or "dev"
	Commit   string // VCS revision ("" when built outside a checkout or with -buildvcs=false)
	Time     string // commit time, RFC 3339
	Modified bool   // the checkout had uncommitted changes
	Go       string // Go toolchain version
	Target   string // GOOS/GOARCH
	Cgo      bool   // built with cgo (PKCS#11 tokens need it)
}

// Get reads the build information of the running binary.
func Get() Info {
	i := Info{Version: Version, Commit: Commit, Time: CommitTime, Go: runtime.Version(), Target: runtime.GOOS + "/" + runtime.GOARCH}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return i
	}
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			i.Commit = s.Value
		case "vcs.time":
			i.Time = s.Value
		case "vcs.modified":
			i.Modified = s.Value == "true"
		case "CGO_ENABLED":
			i.Cgo = s.Value == "1"
		}
	}
	return i
}

// String is the --version text: "sealctl 0.1.0 (commit 3a3a7f3c1d2e, 2026-12-03T18:40:00Z;
// go1.26.8 linux/amd64, cgo)".
func String(program string) string { return Get().Format(program) }

// Format renders i for program as String does.
func (i Info) Format(program string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s (", program, i.Version)
	if i.Commit != "" {
		c := i.Commit
		if len(c) > 12 {
			c = c[:12]
		}
		fmt.Fprintf(&b, "commit %s", c)
		if i.Modified {
			b.WriteString("+modified")
		}
		if i.Time != "" {
			fmt.Fprintf(&b, ", %s", i.Time)
		}
		b.WriteString("; ")
	}
	cgo := "no cgo"
	if i.Cgo {
		cgo = "cgo"
	}
	fmt.Fprintf(&b, "%s %s, %s)", i.Go, i.Target, cgo)
	return b.String()
}
