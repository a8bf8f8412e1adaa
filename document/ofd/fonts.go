package ofd

import (
	"log/slog"
	"os"
	"regexp"
	"strings"
	"sync"

	"github.com/tdewolff/canvas"
	"github.com/tdewolff/font"

	"sealdesk/assets"
)

// face is a parsed font with a glyph-outline cache (outlines in em units, y up).
type face struct {
	sfnt  *font.SFNT
	upem  float64
	mu    sync.Mutex
	paths map[uint16]*canvas.Path
	runes map[rune]uint16 // cmap lookups are linear scans in some tables
}

func newFace(s *font.SFNT) *face {
	upem := float64(s.Head.UnitsPerEm)
	if upem <= 0 {
		upem = 1000
	}
	return &face{sfnt: s, upem: upem, paths: map[uint16]*canvas.Path{}, runes: map[rune]uint16{}}
}

// glyph returns glyph gid's outline in em units (y up); nil for an unknown glyph. A glyph
// whose outline cannot be decoded (broken subset fonts exist) is drawn as nothing.
func (f *face) glyph(gid uint16) *canvas.Path {
	if f == nil || gid >= f.sfnt.NumGlyphs() {
		return nil
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if p, ok := f.paths[gid]; ok {
		return p
	}
	p := &canvas.Path{}
	if err := safeGlyphPath(f.sfnt, p, gid, 1/f.upem); err != nil {
		p = &canvas.Path{}
	}
	f.paths[gid] = p
	return p
}

func safeGlyphPath(s *font.SFNT, p *canvas.Path, gid uint16, scale float64) (err error) {
	// The font parser trusts table offsets of embedded (possibly hostile) fonts; a bad one
	// must cost a glyph, not the process.
	defer func() {
		if r := recover(); r != nil {
			err = errFontPanic
		}
	}()
	return s.GlyphPath(p, gid, 0, 0, 0, scale, font.NoHinting)
}

type fontPanic struct{}

func (fontPanic) Error() string { return "font outline could not be decoded" }

var errFontPanic error = fontPanic{}

// index returns the glyph of r, 0 when the font has none.
func (f *face) index(r rune) (gid uint16) {
	if f == nil {
		return 0
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if g, ok := f.runes[r]; ok {
		return g
	}
	defer func() {
		if recover() != nil {
			gid = 0
		}
		f.runes[r] = gid
	}()
	return f.sfnt.GlyphIndex(r)
}

// advance returns glyph gid's advance in em.
func (f *face) advance(gid uint16) float64 {
	if f == nil {
		return 0.5
	}
	defer func() { recover() }()
	return float64(f.sfnt.GlyphAdvance(gid)) / f.upem
}

func parseFace(b []byte, index int) (f *face, err error) {
	defer func() {
		if r := recover(); r != nil {
			f, err = nil, errFontPanic
		}
	}()
	s, err := font.ParseFont(b, index)
	if err != nil {
		return nil, err
	}
	return newFace(s), nil
}

var (
	bundledOnce sync.Once
	bundled     *face

	systemMu    sync.Mutex
	systemFaces = map[string]*face{}
)

// bundledFace is the CJK font shipped in package assets (GB2312 + ASCII): the fallback for
// every font an OFD names but does not embed.
func bundledFace() *face {
	bundledOnce.Do(func() {
		bundled, _ = parseFace(assets.CJKFont(), 0)
	})
	return bundled
}

// systemFont maps font names that OFD files use without embedding them to free fonts a Debian
// system may have; the first existing file wins.
var systemFonts = []struct {
	re    *regexp.Regexp
	files []string
}{
	{regexp.MustCompile(`(?i)kai|楷`), []string{
		"/usr/share/fonts/truetype/lxgw/LXGWWenKai-Regular.ttf",
		"/usr/share/fonts/truetype/arphic/ukai.ttc",
	}},
	{regexp.MustCompile(`(?i)courier|mono|consol`), []string{
		"/usr/share/fonts/truetype/liberation/LiberationMono-Regular.ttf",
		"/usr/share/fonts/truetype/liberation2/LiberationMono-Regular.ttf",
		"/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf",
	}},
	{regexp.MustCompile(`(?i)times|roman|georgia`), []string{
		"/usr/share/fonts/truetype/liberation/LiberationSerif-Regular.ttf",
		"/usr/share/fonts/truetype/liberation2/LiberationSerif-Regular.ttf",
		"/usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf",
	}},
	{regexp.MustCompile(`(?i)^(arial|helvetica|calibri|verdana|tahoma)`), []string{
		"/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
		"/usr/share/fonts/truetype/liberation2/LiberationSans-Regular.ttf",
		"/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
	}},
}

func systemFace(name string) *face {
	for _, m := range systemFonts {
		if !m.re.MatchString(name) {
			continue
		}
		for _, file := range m.files {
			systemMu.Lock()
			f, ok := systemFaces[file]
			if !ok {
				if b, err := os.ReadFile(file); err == nil {
					f, _ = parseFace(b, 0)
				}
				systemFaces[file] = f
			}
			systemMu.Unlock()
			if f != nil {
				return f
			}
		}
		return nil
	}
	return nil
}

// fonts resolves the Res fonts of one Reader.
type fonts struct {
	rd     *Reader
	system bool
	mu     sync.Mutex
	faces  map[ID]*face
}

// face returns the font to draw f with: its embedded file, else a system substitute for its
// name (when allowed), else nil (the caller falls back to the bundled font per glyph).
func (fs *fonts) face(f *Font) *face {
	if f == nil {
		return nil
	}
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if fc, ok := fs.faces[f.ID]; ok {
		return fc
	}
	var fc *face
	var problem, repaired string
	if f.FontFile != "" {
		b, err := fs.rd.Pkg.ReadFile(f.FontFile)
		if err != nil {
			problem = err.Error()
		} else {
			var notes []string
			if fc, notes, err = loadFont(b); err != nil {
				problem = err.Error()
			} else if len(notes) > 0 {
				repaired = joinNotes(notes)
			}
		}
	}
	if fc == nil && fs.system {
		fc = systemFace(strings.TrimSpace(f.FontName + " " + f.FamilyName))
	}
	switch {
	case problem != "":
		fallback := "the bundled CJK font"
		if fc != nil {
			fallback = "a system font for its name"
		}
		fs.rd.noteFont(FontIssue{FontID: f.ID, Name: f.FontName, File: f.FontFile, Problem: problem, Fallback: fallback})
	case repaired != "":
		fs.rd.noteFont(FontIssue{FontID: f.ID, Name: f.FontName, File: f.FontFile, Problem: repaired, Fallback: "its own glyphs (repaired)"})
	}
	fs.faces[f.ID] = fc
	return fc
}

// FontIssue records an embedded font that could not be used as it is: what was wrong and what
// draws its text.
type FontIssue struct {
	FontID   ID
	Name     string // FontName
	File     string // package path of the embedded file
	Problem  string
	Fallback string // "its own glyphs (repaired)", "the bundled CJK font", …
}

// FontIssues lists the embedded fonts drawn so far that needed a repair or a substitute.
func (r *Reader) FontIssues() []FontIssue {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]FontIssue(nil), r.fontIssues...)
}

// noteFont records a font issue once per font and file, and logs it.
func (r *Reader) noteFont(fi FontIssue) {
	r.mu.Lock()
	for _, o := range r.fontIssues {
		if o.FontID == fi.FontID && o.File == fi.File {
			r.mu.Unlock()
			return
		}
	}
	r.fontIssues = append(r.fontIssues, fi)
	r.mu.Unlock()
	slog.Warn("OFD embedded font", "id", fi.FontID, "name", fi.Name, "file", fi.File, "problem", fi.Problem, "drawn with", fi.Fallback)
}
