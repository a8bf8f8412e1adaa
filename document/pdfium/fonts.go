package pdfium

import (
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing/fstest"
)

// PDFium's WebAssembly build looks for system fonts the Linux way, by scanning /usr/share/fonts
// and /usr/local/share/fonts. fontFS is the read-only file system the engine sees: the host's
// font folder at /usr/share/fonts and the bundled CJK font (package assets) alone in
// /usr/local/share/fonts, so Chinese text in non-embedded fonts (STSong-Light, SimSun…) renders
// on any machine. Nothing else of the host is visible to PDFium: documents are read through
// readers.
type fontFS struct {
	host fs.FS        // the host's font folder, or nil
	mem  fstest.MapFS // synthetic directories and the bundled font (stdlib in-memory fs.FS)
}

const hostFontsDir = "usr/share/fonts"

func newFontFS(host fs.FS, bundledName string, bundled []byte) *fontFS {
	mem := fstest.MapFS{
		hostFontsDir: {Mode: fs.ModeDir | 0o555},
	}
	if len(bundled) > 0 {
		mem["usr/local/share/fonts/"+bundledName] = &fstest.MapFile{Data: bundled, Mode: 0o444}
	}
	return &fontFS{host: host, mem: mem}
}

func (f *fontFS) Open(name string) (fs.File, error) {
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrInvalid}
	}
	if f.host != nil {
		if name == hostFontsDir {
			return f.host.Open(".")
		}
		if rest, ok := strings.CutPrefix(name, hostFontsDir+"/"); ok {
			return f.host.Open(rest)
		}
	}
	return f.mem.Open(name)
}

// defaultHostFonts is the host folder mounted at /usr/share/fonts: the Linux one, or the
// Windows font folder (SimSun, Microsoft YaHei…), which PDFium then scans like a Linux one.
func defaultHostFonts() string {
	if runtime.GOOS == "windows" {
		if w := os.Getenv("WINDIR"); w != "" {
			return filepath.Join(w, "Fonts")
		}
		return "-"
	}
	if runtime.GOOS == "darwin" {
		return "/System/Library/Fonts"
	}
	return "/usr/share/fonts"
}
