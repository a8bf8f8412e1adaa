package ofd

import (
	"archive/zip"
	"bytes"
	"errors"
	"fmt"
	"io"
	"path"
	"sort"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding/simplifiedchinese"
)

// Limits bound what opening and reading a package may cost, so a hostile file fails with a
// clear error instead of exhausting memory. The zero value of a field means its default.
type Limits struct {
	MaxEntries    int   // entries in the archive (default 20000)
	MaxEntrySize  int64 // uncompressed bytes of one entry (default 256 MiB)
	MaxTotalSize  int64 // declared uncompressed bytes of all entries (default 1 GiB)
	MaxRatio      int64 // uncompressed/compressed ratio allowed for entries over 1 MiB (default 200)
	MaxXMLSize    int64 // bytes of one XML file (default 64 MiB)
	MaxXMLDepth   int   // element nesting (default 256)
	MaxXMLElement int   // elements in one XML file (default 2,000,000)
}

// DefaultLimits are the limits used when none are given. Real OFD files are far below them
// (the largest sample, a 2 MB CNKI article, has a 10 MB page file).
var DefaultLimits = Limits{
	MaxEntries:    20000,
	MaxEntrySize:  256 << 20,
	MaxTotalSize:  1 << 30,
	MaxRatio:      200,
	MaxXMLSize:    64 << 20,
	MaxXMLDepth:   256,
	MaxXMLElement: 2_000_000,
}

func (l Limits) withDefaults() Limits {
	d := DefaultLimits
	if l.MaxEntries > 0 {
		d.MaxEntries = l.MaxEntries
	}
	if l.MaxEntrySize > 0 {
		d.MaxEntrySize = l.MaxEntrySize
	}
	if l.MaxTotalSize > 0 {
		d.MaxTotalSize = l.MaxTotalSize
	}
	if l.MaxRatio > 0 {
		d.MaxRatio = l.MaxRatio
	}
	if l.MaxXMLSize > 0 {
		d.MaxXMLSize = l.MaxXMLSize
	}
	if l.MaxXMLDepth > 0 {
		d.MaxXMLDepth = l.MaxXMLDepth
	}
	if l.MaxXMLElement > 0 {
		d.MaxXMLElement = l.MaxXMLElement
	}
	return d
}

// ratioFloor is the size above which the compression ratio is checked: small XML files
// legitimately compress 100:1 and cannot hurt.
const ratioFloor = 1 << 20

// Entry is one file of the archive.
type Entry struct {
	Name           string // package path with a leading "/", e.g. "/Doc_0/Document.xml"
	RawName        string // the name as stored in the archive
	Size           int64  // declared uncompressed size
	CompressedSize int64
	Method         uint16 // zip.Store or zip.Deflate
	Dir            bool
	file           *zip.File
}

// Package is an opened OFD container (a ZIP archive). It gives the stored bytes of each file
// (signature digests are over exactly these bytes) and resolves ST_Loc paths. Safe for
// concurrent use when the underlying io.ReaderAt is.
type Package struct {
	limits  Limits
	entries []*Entry          // archive order, directories included
	byName  map[string]*Entry // canonical name → entry (files only)
	byFold  map[string]*Entry // lower-cased name → entry, only when unambiguous
	// Unsafe lists archive names that could not be addressed safely (escaping the root,
	// absolute drive paths, duplicates). They are never readable; verifiers report them.
	Unsafe []string
}

// OpenPackage reads the archive's directory. It fails with ErrNotOFD when r is not a ZIP or
// has no OFD.xml at its root, and with ErrZipBomb when the declared sizes exceed lim.
func OpenPackage(r io.ReaderAt, size int64, lim *Limits) (*Package, error) {
	l := DefaultLimits
	if lim != nil {
		l = lim.withDefaults()
	}
	zr, err := zip.NewReader(r, size)
	if err != nil && !errors.Is(err, zip.ErrInsecurePath) {
		return nil, errorf("", ErrNotOFD, "not a ZIP archive (%v)", err)
	}
	if len(zr.File) > l.MaxEntries {
		return nil, errorf("", ErrZipBomb, "%d entries, more than the limit of %d", len(zr.File), l.MaxEntries)
	}
	p := &Package{limits: l, byName: map[string]*Entry{}, byFold: map[string]*Entry{}}
	var total int64
	dups := map[string]bool{}
	for _, f := range zr.File {
		raw := f.Name
		if f.NonUTF8 || !utf8.ValidString(raw) {
			// Chinese names are often GBK without the UTF-8 flag.
			if s, err := simplifiedchinese.GB18030.NewDecoder().String(raw); err == nil && !utf8.ValidString(raw) {
				raw = s
			}
		}
		e := &Entry{RawName: f.Name, Size: int64(f.UncompressedSize64), CompressedSize: int64(f.CompressedSize64),
			Method: f.Method, Dir: strings.HasSuffix(raw, "/") || f.FileInfo().IsDir(), file: f}
		if f.UncompressedSize64 > uint64(l.MaxEntrySize) {
			return nil, errorf("/"+strings.TrimPrefix(raw, "/"), ErrZipBomb,
				"declares %d bytes uncompressed, more than the per-file limit of %d", f.UncompressedSize64, l.MaxEntrySize)
		}
		total += e.Size
		if total > l.MaxTotalSize {
			return nil, errorf("", ErrZipBomb, "entries declare more than %d bytes uncompressed in total", l.MaxTotalSize)
		}
		name, err := cleanEntryName(raw)
		if err != nil {
			p.Unsafe = append(p.Unsafe, f.Name)
			continue
		}
		e.Name = name
		p.entries = append(p.entries, e)
		if e.Dir {
			continue
		}
		if first, dup := p.byName[name]; dup {
			// Two entries with one name: a reader and a verifier might look at different
			// bytes. None of them is addressable.
			if !dups[name] {
				p.Unsafe = append(p.Unsafe, first.RawName)
			}
			dups[name] = true
			p.Unsafe = append(p.Unsafe, f.Name)
			continue
		}
		p.byName[name] = e
	}
	for n := range dups {
		delete(p.byName, n)
	}
	fold := map[string]int{}
	for n, e := range p.byName {
		k := strings.ToLower(n)
		fold[k]++
		p.byFold[k] = e
	}
	for k, n := range fold {
		if n > 1 {
			delete(p.byFold, k)
		}
	}
	if _, ok := p.byName["/OFD.xml"]; !ok {
		if e, ok := p.byFold["/ofd.xml"]; ok {
			p.byName["/OFD.xml"] = e
		} else {
			return nil, errorf("/OFD.xml", ErrNotOFD, "the archive has no OFD.xml at its root")
		}
	}
	return p, nil
}

// cleanEntryName turns an archive name into a canonical package path ("/a/b"), refusing names
// that climb above the root.
func cleanEntryName(raw string) (string, error) {
	n := strings.ReplaceAll(raw, "\\", "/")
	if len(n) >= 2 && n[1] == ':' {
		return "", ErrPathEscape
	}
	return normalize("/", n)
}

// normalize resolves loc against the directory dir (canonical, starting with "/"), refusing any
// ".." that would climb above the root.
func normalize(dir, loc string) (string, error) {
	loc = strings.ReplaceAll(strings.TrimSpace(loc), "\\", "/")
	var parts []string
	if !strings.HasPrefix(loc, "/") {
		for _, s := range strings.Split(dir, "/") {
			if s != "" {
				parts = append(parts, s)
			}
		}
	}
	for _, s := range strings.Split(loc, "/") {
		switch s {
		case "", ".":
		case "..":
			if len(parts) == 0 {
				return "", ErrPathEscape
			}
			parts = parts[:len(parts)-1]
		default:
			parts = append(parts, s)
		}
	}
	return "/" + strings.Join(parts, "/"), nil
}

// Resolve turns an ST_Loc into a canonical package path. An absolute loc ("/Doc_0/x") starts
// at the package root; a relative one is relative to the directory of the file base that
// contains it (base itself is a package path). A loc that climbs above the root is an
// ErrPathEscape. Resolve does not check that the file exists; Lookup does.
func (p *Package) Resolve(base, loc string) (string, error) {
	if strings.TrimSpace(loc) == "" {
		return "", errorf(base, ErrMalformed, "empty path")
	}
	dir := path.Dir("/" + strings.TrimPrefix(base, "/"))
	n, err := normalize(dir, loc)
	if err != nil {
		return "", errorf(base, ErrPathEscape, "%q climbs above the package root", loc)
	}
	return n, nil
}

// Lookup finds the file at the canonical path name. When no file has exactly that name but
// exactly one differs only in letter case (TPLS/TPL_0 vs Tpls/Tpl_0, both seen in real
// files), that one is returned.
func (p *Package) Lookup(name string) (*Entry, bool) {
	name = "/" + strings.TrimPrefix(name, "/")
	if e, ok := p.byName[name]; ok {
		return e, true
	}
	e, ok := p.byFold[strings.ToLower(name)]
	return e, ok
}

// Has reports whether Lookup finds name.
func (p *Package) Has(name string) bool { _, ok := p.Lookup(name); return ok }

// Entries lists the archive's entries (directories included) in archive order.
func (p *Package) Entries() []Entry {
	out := make([]Entry, len(p.entries))
	for i, e := range p.entries {
		out[i] = *e
		out[i].file = nil
	}
	return out
}

// Files lists the canonical paths of all readable files, sorted.
func (p *Package) Files() []string {
	out := make([]string, 0, len(p.byName))
	for n, e := range p.byName {
		if n == e.Name { // skip the case-fold alias of OFD.xml
			out = append(out, n)
		}
	}
	sort.Strings(out)
	return out
}

// ReadFile returns the stored (decompressed) bytes of the file at the canonical path name,
// after Lookup. It enforces the per-file size and ratio limits while decompressing, because
// declared sizes in a hostile archive may lie.
func (p *Package) ReadFile(name string) ([]byte, error) {
	e, ok := p.Lookup(name)
	if !ok {
		return nil, errorf(name, ErrMissing, "no such file in the package")
	}
	return p.readEntry(e, p.limits.MaxEntrySize)
}

func (p *Package) readEntry(e *Entry, max int64) ([]byte, error) {
	rc, err := e.file.Open()
	if err != nil {
		return nil, errorf(e.Name, ErrMalformed, "cannot open archive entry: %v", err)
	}
	defer rc.Close()
	limit := max
	if e.Size < limit {
		limit = e.Size
	}
	var buf bytes.Buffer
	if limit < 1<<20 {
		buf.Grow(int(limit))
	}
	cr := &ratioReader{r: rc, comp: e.CompressedSize, ratio: p.limits.MaxRatio}
	n, err := io.Copy(&buf, io.LimitReader(cr, limit+1))
	if cr.bomb {
		return nil, errorf(e.Name, ErrZipBomb, "decompresses more than %d times its stored size", p.limits.MaxRatio)
	}
	if err != nil {
		return nil, errorf(e.Name, ErrMalformed, "cannot decompress: %v", err)
	}
	if n > limit {
		if limit == e.Size && e.Size < max {
			return nil, errorf(e.Name, ErrZipBomb, "decompresses to more than the %d bytes its header declares", e.Size)
		}
		return nil, errorf(e.Name, ErrZipBomb, "larger than the per-file limit of %d bytes", max)
	}
	return buf.Bytes(), nil
}

// ratioReader fails once more than ratioFloor bytes came out and the output exceeds ratio
// times the compressed size.
type ratioReader struct {
	r     io.Reader
	n     int64
	comp  int64
	ratio int64
	bomb  bool
}

func (c *ratioReader) Read(b []byte) (int, error) {
	n, err := c.r.Read(b)
	c.n += int64(n)
	if c.n > ratioFloor && c.n > c.ratio*max(c.comp, 1) {
		c.bomb = true
		return n, fmt.Errorf("compression ratio limit")
	}
	return n, err
}
