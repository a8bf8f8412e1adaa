package pdfium

import (
	"io"
	"os"
	"path/filepath"
	"strings"
)

// SeedEnv names a prepared compilation cache to start a user's cache from; "-" turns seeding
// off. Unset, the packages' locations next to the executable are tried (seedDirs).
const SeedEnv = "SEALDESK_CACHE_SEED"

// The packages (packaging/README.md) ship the compilation cache that `make package` produced by
// rendering a page with the very binaries it packs, so the first document a user opens after
// installing loads PDFium's machine code instead of compiling it (3.4 s and ~370 MB once).
// The cache itself stays per-user and disposable: seedCache copies the shipped entries into the
// user's cache directory when they are missing there, and deleting the user's cache only brings
// the copy back. An entry that does not fit (another wazero version, a CPU without the
// features the entry was compiled for — wazero keys entries by both) is never looked up, so a
// stale or foreign seed costs a few milliseconds of copying and nothing else.

// seedDirs lists where an installed package keeps the prepared cache, relative to the running
// executable: <prefix>/bin/../lib/sealdesk/pdfium-cache (Debian, UOS, tar.xz) and
// <dir>/pdfium-cache (the Windows install folder).
func seedDirs() []string {
	if d := os.Getenv(SeedEnv); d != "" {
		if d == "-" {
			return nil
		}
		return []string{d}
	}
	exe, err := os.Executable()
	if err != nil {
		return nil
	}
	if r, err := filepath.EvalSymlinks(exe); err == nil {
		exe = r
	}
	dir := filepath.Dir(exe)
	return []string{filepath.Join(dir, "..", "lib", "sealdesk", "pdfium-cache"), filepath.Join(dir, "pdfium-cache")}
}

// seedCache copies into dst every file of the first existing seed directory that dst lacks
// (wazero's layout is one folder per wazero version and platform holding one file per compiled
// module). Errors are ignored: seeding only saves time.
func seedCache(dst string) {
	for _, src := range seedDirs() {
		if st, err := os.Stat(src); err != nil || !st.IsDir() {
			continue
		}
		if abs, err := filepath.Abs(src); err == nil {
			if d, err := filepath.Abs(dst); err == nil && abs == d {
				return
			}
		}
		_ = filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() || strings.HasSuffix(p, ".tmp") || strings.HasPrefix(d.Name(), ".") {
				return nil
			}
			rel, err := filepath.Rel(src, p)
			if err != nil {
				return nil
			}
			target := filepath.Join(dst, rel)
			if _, err := os.Stat(target); err == nil {
				return nil
			}
			copySeedFile(p, target)
			return nil
		})
		return
	}
}

// copySeedFile writes to a temporary name and renames, so a process reading the cache never
// sees half an entry.
func copySeedFile(src, dst string) {
	in, err := os.Open(src)
	if err != nil {
		return
	}
	defer in.Close()
	if err := os.MkdirAll(filepath.Dir(dst), 0o700); err != nil {
		return
	}
	out, err := os.CreateTemp(filepath.Dir(dst), filepath.Base(dst)+".*.tmp")
	if err != nil {
		return
	}
	_, err = io.Copy(out, in)
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(out.Name(), dst)
	}
	if err != nil {
		os.Remove(out.Name())
	}
}
