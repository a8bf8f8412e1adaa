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
// and /usr/local/share/fonts. fontFS is the read-only file system the engine sees: the bundled
// CJK font (package assets) alone in /usr/local/share/fonts, so Chinese text in non-embedded
// fonts (STSong-Light, SimSun…) renders on any machine, and at /usr/share/fonts either a whole
// host font folder (Config.HostFonts set to a folder) or, by default, only a few host files.
// Nothing else of the host is visible to PDFium: documents are read through readers.
//
// Why not the whole host folder by default: PDFium opens and parses every font file it finds
// when it first maps a font, and then loads the chosen file whole into WebAssembly memory. On a
// Linux host with Noto CJK (four TTC collections, ~100 MB) that made a warm `sealctl find` about
// twice as slow as with the bundled font alone (BenchmarkWarmStart), and a Windows font folder
// holds hundreds of files.
type fontFS struct {
	host  fs.FS             // a whole host font folder, or nil
	picks map[string]string // file name in /usr/share/fonts → host path (default mode)
	mem   fstest.MapFS      // synthetic directories and the bundled font (stdlib in-memory fs.FS)
}

const hostFontsDir = "usr/share/fonts"

// newFontFS mounts host (a whole folder, may be nil), picks (single host files, may be nil) and
// the bundled font.
func newFontFS(host fs.FS, picks map[string]string, bundledName string, bundled []byte) *fontFS {
	mem := fstest.MapFS{
		hostFontsDir: {Mode: fs.ModeDir | 0o555},
	}
	for name := range picks {
		// A listing entry only: PDFium learns the size from the opened file (seek to end), and
		// Open serves the content from the host.
		mem[hostFontsDir+"/"+name] = &fstest.MapFile{Mode: 0o444}
	}
	if len(bundled) > 0 {
		mem["usr/local/share/fonts/"+bundledName] = &fstest.MapFile{Data: bundled, Mode: 0o444}
	}
	return &fontFS{host: host, picks: picks, mem: mem}
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
	if rest, ok := strings.CutPrefix(name, hostFontsDir+"/"); ok {
		if p, ok := f.picks[rest]; ok {
			return os.Open(p)
		}
	}
	return f.mem.Open(name)
}

// defaultHostFonts is the host folder the default font picks come from: the Linux one, or the
// Windows font folder (SimSun, Microsoft YaHei…), or macOS's.
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

// pickedFontNames are the host font files exposed by default (matched case-insensitively at the
// top of the host font folder, which is where Windows keeps them): the four standard Chinese
// government faces that Chinese PDFs name without embedding (宋体, 黑体, 楷体, 仿宋), so those
// render in their real face where installed. Every other non-embedded CJK font falls back to
// the bundled font, Latin ones to PDFium's built-in base-14 fonts.
var pickedFontNames = []string{"simsun.ttc", "simhei.ttf", "simkai.ttf", "simfang.ttf"}

// pickHostFonts returns the picked files present in dir, by their names there.
func pickHostFonts(dir string) map[string]string {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil
	}
	picks := map[string]string{}
	for _, e := range ents {
		if e.IsDir() {
			continue
		}
		for _, want := range pickedFontNames {
			if strings.EqualFold(e.Name(), want) {
				picks[e.Name()] = filepath.Join(dir, e.Name())
			}
		}
	}
	return picks
}
