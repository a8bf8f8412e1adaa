package pdf

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
)

// Cross-reference reading: classic tables, xref streams, hybrid files (/XRefStm), /Prev chains.
// Every section is parsed once per Reader and shared by the views of all revisions.

type entryKind uint8

const (
	entryFree entryKind = iota
	entryInUse
	entryCompressed
)

type xrefEntry struct {
	Kind   entryKind
	Offset int64 // in use: file offset of "n g obj"; compressed: object stream number
	Gen    int   // in use: generation; compressed: index in the object stream
}

type xrefSection struct {
	Offset  int64 // where the section starts ("xref" keyword or the xref stream object)
	Stream  bool  // an xref stream
	Num     int   // object number of the xref stream
	Trailer Dict
	Entries map[int]xrefEntry
	Prev    int64 // -1 when none
	Hybrid  *xrefSection
}

// ErrBrokenXref means the cross-reference data does not describe the file (wrong offsets,
// unparsable sections): the file needs repair before it can be signed.
var ErrBrokenXref = errors.New("broken cross-reference table")

// XrefError says which cross-reference section is broken and why.
type XrefError struct {
	Offset int64
	Err    error
}

func (e *XrefError) Error() string {
	return fmt.Sprintf("cross-reference section at byte %d: %v", e.Offset, e.Err)
}

func (e *XrefError) Unwrap() []error { return []error{ErrBrokenXref, e.Err} }

// section reads (or returns the cached) xref section at off.
func (rd *Reader) section(off int64) (*xrefSection, error) {
	if s, ok := rd.sections[off]; ok {
		return s, nil
	}
	s, err := rd.sectionExact(off)
	if err != nil {
		// Writers that miscount line ends leave startxref/Prev a few bytes off; viewers
		// look nearby, and so do we (the verifier still compares revisions by content).
		if near := rd.nearbyXref(off); near >= 0 {
			if s2, err2 := rd.sectionExact(near); err2 == nil {
				rd.sections[off] = s2
				rd.Lenient = append(rd.Lenient, fmt.Sprintf("xref section expected at byte %d found at %d", off, near))
				return s2, nil
			}
		}
		return nil, err
	}
	return s, nil
}

// nearbyXref looks for an "xref" keyword within 64 bytes of off.
func (rd *Reader) nearbyXref(off int64) int64 {
	from := off - 64
	if from < 0 {
		from = 0
	}
	b := make([]byte, 128+4)
	n, _ := rd.r.ReadAt(b, from)
	b = b[:n]
	best := int64(-1)
	for i := 0; ; {
		j := bytes.Index(b[i:], []byte("xref"))
		if j < 0 {
			break
		}
		p := i + j
		i = p + 4
		if (p > 0 && isRegular(b[p-1])) || (p+4 < len(b) && isRegular(b[p+4])) {
			continue
		}
		cand := from + int64(p)
		if best < 0 || abs64(cand-off) < abs64(best-off) {
			best = cand
		}
	}
	return best
}

func abs64(x int64) int64 {
	if x < 0 {
		return -x
	}
	return x
}

func (rd *Reader) sectionExact(off int64) (*xrefSection, error) {
	if off < 0 || off >= rd.size {
		return nil, &XrefError{off, fmt.Errorf("offset outside the file (%d bytes)", rd.size)}
	}
	l := newLexer(rd.r, rd.size, off)
	l.skipSpace()
	save := l.pos
	var s *xrefSection
	var err error
	if l.keyword() == "xref" {
		s, err = rd.readTable(l, off)
	} else {
		l.pos = save
		s, err = rd.readXrefStream(l, off)
	}
	if err != nil {
		return nil, &XrefError{off, err}
	}
	rd.sections[off] = s
	return s, nil
}

func (rd *Reader) readTable(l *lexer, off int64) (*xrefSection, error) {
	s := &xrefSection{Offset: off, Entries: map[int]xrefEntry{}, Prev: -1}
	for {
		l.skipSpace()
		save := l.pos
		if l.keyword() == "trailer" {
			break
		}
		l.pos = save
		start, ok1 := l.readUint()
		count, ok2 := l.readUint()
		if !ok1 || !ok2 {
			return nil, l.errf("expected a subsection header or 'trailer'")
		}
		if start > 1<<31 || count > 1<<24 || start+count > 1<<31 {
			return nil, l.errf("subsection %d %d out of range", start, count)
		}
		for i := int64(0); i < count; i++ {
			o, ok1 := l.readUint()
			g, ok2 := l.readUint()
			l.skipSpace()
			kw := l.keyword()
			if !ok1 || !ok2 || (kw != "n" && kw != "f") {
				return nil, l.errf("bad entry %d of subsection %d", i, start)
			}
			num := int(start + i)
			if _, dup := s.Entries[num]; dup {
				continue
			}
			if kw == "n" {
				s.Entries[num] = xrefEntry{Kind: entryInUse, Offset: o, Gen: int(g)}
			} else {
				s.Entries[num] = xrefEntry{Kind: entryFree, Gen: int(g)}
			}
		}
	}
	t, err := l.object(0)
	if err != nil {
		return nil, fmt.Errorf("trailer: %w", err)
	}
	td, ok := t.(Dict)
	if !ok {
		return nil, fmt.Errorf("trailer is not a dictionary")
	}
	s.Trailer = td
	// /Prev 0 is written by some producers for "no previous section" (byte 0 is the header).
	if p, ok := IntOf(td["Prev"]); ok && p > 0 {
		s.Prev = p
	}
	if xs, ok := IntOf(td["XRefStm"]); ok {
		h, err := rd.section(xs)
		if err == nil && h.Stream {
			s.Hybrid = h
		}
	}
	return s, nil
}

func (rd *Reader) readXrefStream(l *lexer, off int64) (*xrefSection, error) {
	num, gen, obj, err := rd.parseIndirectAt(l, nil, 0)
	if err != nil {
		return nil, fmt.Errorf("neither 'xref' nor an xref stream: %w", err)
	}
	st, ok := obj.(*Stream)
	if !ok || NameOf(st.Dict["Type"]) != "XRef" {
		return nil, fmt.Errorf("object %d %d is not an xref stream", num, gen)
	}
	raw, err := rd.rawStream(st)
	if err != nil {
		return nil, err
	}
	data, err := decodeStream(st.Dict, raw)
	if err != nil {
		return nil, fmt.Errorf("xref stream %d: %w", num, err)
	}
	s := &xrefSection{Offset: off, Stream: true, Num: num, Trailer: st.Dict, Entries: map[int]xrefEntry{}, Prev: -1}
	if p, ok := IntOf(st.Dict["Prev"]); ok && p > 0 {
		s.Prev = p
	}
	wa, _ := st.Dict["W"].(Array)
	if len(wa) != 3 {
		return nil, fmt.Errorf("xref stream %d: /W must have 3 entries", num)
	}
	var w [3]int
	rowLen := 0
	for i := range w {
		v, ok := IntOf(wa[i])
		if !ok || v < 0 || v > 8 {
			return nil, fmt.Errorf("xref stream %d: bad /W", num)
		}
		w[i] = int(v)
		rowLen += w[i]
	}
	if rowLen == 0 {
		return nil, fmt.Errorf("xref stream %d: empty /W", num)
	}
	size, _ := IntOf(st.Dict["Size"])
	idx, _ := st.Dict["Index"].(Array)
	if idx == nil {
		idx = Array{Int(0), Int(size)}
	}
	pos := 0
	field := func(k int) int64 {
		var v int64
		for i := 0; i < w[k]; i++ {
			v = v<<8 | int64(data[pos])
			pos++
		}
		return v
	}
	for i := 0; i+1 < len(idx); i += 2 {
		start, ok1 := IntOf(idx[i])
		count, ok2 := IntOf(idx[i+1])
		if !ok1 || !ok2 || start < 0 || count < 0 || start+count > 1<<31 {
			return nil, fmt.Errorf("xref stream %d: bad /Index", num)
		}
		for j := int64(0); j < count; j++ {
			if pos+rowLen > len(data) {
				return nil, fmt.Errorf("xref stream %d: data shorter than /Index says", num)
			}
			t := int64(1)
			if w[0] > 0 {
				t = field(0)
			}
			f2, f3 := field(1), field(2)
			n := int(start + j)
			if _, dup := s.Entries[n]; dup {
				continue
			}
			switch t {
			case 0:
				s.Entries[n] = xrefEntry{Kind: entryFree, Gen: int(f3)}
			case 1:
				s.Entries[n] = xrefEntry{Kind: entryInUse, Offset: f2, Gen: int(f3)}
			case 2:
				s.Entries[n] = xrefEntry{Kind: entryCompressed, Offset: f2, Gen: int(f3)}
			}
		}
	}
	return s, nil
}

// lastStartXref finds the offset given by the last "startxref" of the file.
func (rd *Reader) lastStartXref() (int64, error) {
	n := int64(2048)
	if n > rd.size {
		n = rd.size
	}
	tail := make([]byte, n)
	if _, err := rd.r.ReadAt(tail, rd.size-n); err != nil && err != io.EOF {
		return 0, err
	}
	i := bytes.LastIndex(tail, []byte("startxref"))
	if i < 0 {
		return 0, fmt.Errorf("%w: no 'startxref' near the end of the file", ErrBrokenXref)
	}
	v, ok := parseUintAfter(tail[i+len("startxref"):])
	if !ok {
		return 0, fmt.Errorf("%w: 'startxref' is not followed by an offset", ErrBrokenXref)
	}
	return v, nil
}

func parseUintAfter(b []byte) (int64, bool) {
	i := 0
	for i < len(b) && isSpace(b[i]) {
		i++
	}
	j := i
	for j < len(b) && b[j] >= '0' && b[j] <= '9' {
		j++
	}
	if j == i || j-i > 18 {
		return 0, false
	}
	v, err := strconv.ParseInt(string(b[i:j]), 10, 64)
	return v, err == nil
}

// chain loads the sections reachable from startxref through /Prev (newest first).
func (rd *Reader) chain(startxref int64) ([]*xrefSection, error) {
	var out []*xrefSection
	seen := map[int64]bool{}
	off := startxref
	for off >= 0 {
		if seen[off] {
			return nil, &XrefError{off, fmt.Errorf("/Prev loop")}
		}
		if len(out) > 100000 {
			return nil, &XrefError{off, fmt.Errorf("too many xref sections")}
		}
		seen[off] = true
		s, err := rd.section(off)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
		off = s.Prev
	}
	return out, nil
}

// reconstruct rebuilds a cross-reference by scanning the whole file for "n g obj" headers (the
// last definition of a number wins) — what viewers do with broken files. It is used only to
// inspect such files; they are never signed.
func (rd *Reader) reconstruct(end int64) (*xrefSection, error) {
	if end > rd.size || end <= 0 {
		end = rd.size
	}
	s := &xrefSection{Offset: -1, Entries: map[int]xrefEntry{}, Prev: -1}
	chunk := 1 << 20
	if end < int64(chunk) {
		chunk = int(end) + 1
	}
	buf := make([]byte, chunk+64)
	var trailer Dict
	for base := int64(0); base < end; base += int64(chunk) {
		n, err := rd.r.ReadAt(buf, base)
		if n <= 0 && err != nil {
			break
		}
		if base+int64(n) > end {
			n = int(end - base)
		}
		b := buf[:n]
		for i := 0; ; {
			j := bytes.Index(b[i:], []byte("obj"))
			if j < 0 {
				break
			}
			p := i + j
			i = p + 3
			if p >= chunk && base+int64(chunk) < end {
				break // the next chunk sees it
			}
			if p+3 < len(b) && isRegular(b[p+3]) {
				continue
			}
			// walk back: spaces, gen digits, spaces, num digits
			k := p - 1
			for k >= 0 && isSpace(b[k]) {
				k--
			}
			ge := k + 1
			for k >= 0 && b[k] >= '0' && b[k] <= '9' {
				k--
			}
			gs := k + 1
			if gs == ge || k < 0 || !isSpace(b[k]) {
				continue
			}
			for k >= 0 && isSpace(b[k]) {
				k--
			}
			ne := k + 1
			for k >= 0 && b[k] >= '0' && b[k] <= '9' {
				k--
			}
			ns := k + 1
			if ns == ne || ne-ns > 9 || ge-gs > 5 || (k >= 0 && isRegular(b[k])) {
				continue
			}
			num, _ := strconv.Atoi(string(b[ns:ne]))
			gen, _ := strconv.Atoi(string(b[gs:ge]))
			s.Entries[num] = xrefEntry{Kind: entryInUse, Offset: base + int64(ns), Gen: gen}
		}
		for i := 0; ; {
			j := bytes.Index(b[i:], []byte("trailer"))
			if j < 0 {
				break
			}
			l := newLexer(rd.r, end, base+int64(i+j+7))
			if t, err := l.object(0); err == nil {
				if d, ok := t.(Dict); ok && d["Root"] != nil {
					trailer = d
				}
			}
			i += j + 7
		}
	}
	if len(s.Entries) == 0 {
		return nil, fmt.Errorf("%w: no objects found", ErrBrokenXref)
	}
	if trailer == nil {
		// Xref-stream files: take the trailer keys from the last xref stream dictionary, or find
		// the catalog.
		trailer = Dict{}
		v := &View{rd: rd, chain: []*xrefSection{s}, cache: map[int]Object{}}
		for num := range s.Entries {
			o, err := v.Get(Ref{Num: num, Gen: s.Entries[num].Gen})
			if err != nil {
				continue
			}
			if st, ok := o.(*Stream); ok && NameOf(st.Dict["Type"]) == "XRef" && st.Dict["Root"] != nil {
				trailer = Dict{"Root": st.Dict["Root"]}
				if st.Dict["Info"] != nil {
					trailer["Info"] = st.Dict["Info"]
				}
				break
			}
			if d, ok := o.(Dict); ok && NameOf(d["Type"]) == "Catalog" {
				trailer["Root"] = Ref{num, s.Entries[num].Gen}
			}
		}
	}
	s.Trailer = trailer
	return s, nil
}
