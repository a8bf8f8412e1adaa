package pdf

import (
	"bytes"
	"errors"
	"fmt"
	"io"
)

// Reader is a lazy PDF reader over an io.ReaderAt: it parses the cross-reference data and then
// only the objects somebody asks for. Stream data stays in the file until StreamData is called.
//
// Why our own reader instead of pdfcpu: pdfcpu's reader dereferences every object and loads
// every stream into memory (measured 211 MB RSS to read a 200 MB file, 853 MB to sign it), and it
// offers no view of earlier revisions, which signature verification needs. pdfcpu stays the
// project's library for generating samples and for structural cross-checks in tests.
type Reader struct {
	r        io.ReaderAt
	size     int64
	sections map[int64]*xrefSection
	objstms  map[int64]*objStm // by file offset of the object stream
	revs     []Revision
	revsDone bool

	// Final is the document as a viewer shows it: the xref chain of the last startxref.
	Final *View
	// Repaired is true when the cross-reference data was broken and Final was rebuilt by
	// scanning the file; such files are read for inspection but never signed.
	Repaired  bool
	RepairErr error
	// Lenient lists the deviations the reader tolerated (e.g. an xref offset a few bytes off).
	Lenient []string
}

// View is the document as of one revision: an xref chain and its trailer.
type View struct {
	rd        *Reader
	chain     []*xrefSection
	Trailer   Dict
	StartXref int64
	cache     map[int]Object
	// Repaired is true for views rebuilt by scanning object headers.
	Repaired bool
}

type objStm struct {
	data  []byte
	first int64
	offs  map[int]int64 // object number -> offset inside data (relative to first)
	order []int
}

// NewReader parses the cross-reference data of the file r (size bytes).
func NewReader(r io.ReaderAt, size int64) (*Reader, error) {
	rd := &Reader{r: r, size: size, sections: map[int64]*xrefSection{}, objstms: map[int64]*objStm{}}
	head := make([]byte, 1024)
	n, _ := r.ReadAt(head, 0)
	if !bytes.Contains(head[:n], []byte("%PDF-")) {
		return nil, fmt.Errorf("not a PDF file (no %%PDF- header)")
	}
	sx, err := rd.lastStartXref()
	if err == nil {
		rd.Final, err = rd.ViewAt(sx)
		if err == nil {
			// A chain whose offsets point at other objects is as broken as a missing one.
			err = rd.Final.probe()
		}
	}
	if err != nil {
		rd.RepairErr = err
		v, rerr := rd.RepairedView(rd.size)
		if rerr != nil {
			return nil, fmt.Errorf("%v; repair failed: %w", err, rerr)
		}
		rd.Repaired = true
		rd.Final = v
	}
	if rd.Final.Trailer["Root"] == nil {
		return nil, fmt.Errorf("%w: the trailer has no /Root", ErrBrokenXref)
	}
	return rd, nil
}

// Size is the file size.
func (rd *Reader) Size() int64 { return rd.size }

// ViewAt returns the document as described by the xref chain starting at startxref.
func (rd *Reader) ViewAt(startxref int64) (*View, error) {
	ch, err := rd.chain(startxref)
	if err != nil {
		return nil, err
	}
	t := Dict{}
	// The newest trailer wins; older ones fill in keys (some writers omit /Root in updates).
	for i := len(ch) - 1; i >= 0; i-- {
		for k, v := range ch[i].Trailer {
			switch k {
			case "Prev", "XRefStm", "W", "Index", "Filter", "DecodeParms", "Length", "Type":
				continue
			}
			t[k] = v
		}
	}
	return &View{rd: rd, chain: ch, Trailer: t, StartXref: startxref, cache: map[int]Object{}}, nil
}

// RepairedView rebuilds the document from the object headers found in bytes [0, end), as
// viewers do with a broken cross-reference.
func (rd *Reader) RepairedView(end int64) (*View, error) {
	s, err := rd.reconstruct(end)
	if err != nil {
		return nil, err
	}
	v := &View{rd: rd, chain: []*xrefSection{s}, Trailer: s.Trailer, StartXref: -1, cache: map[int]Object{}, Repaired: true}
	if v.Trailer["Root"] == nil {
		return nil, fmt.Errorf("%w: no document catalog found", ErrBrokenXref)
	}
	return v, nil
}

// probe checks that the catalog and the page tree resolve through the chain.
func (v *View) probe() error {
	if err := v.probeCatalog(); err != nil {
		return err
	}
	if _, err := v.Pages(); err != nil {
		return fmt.Errorf("%w: %v", ErrBrokenXref, err)
	}
	return nil
}

func (v *View) probeCatalog() error {
	root, ok := v.Trailer["Root"].(Ref)
	if !ok {
		return fmt.Errorf("%w: the trailer's /Root is not a reference", ErrBrokenXref)
	}
	o, err := v.Get(root)
	if err != nil {
		return fmt.Errorf("%w: catalog %v: %v", ErrBrokenXref, root, err)
	}
	if _, ok := o.(Dict); !ok {
		return fmt.Errorf("%w: catalog %v is not a dictionary", ErrBrokenXref, root)
	}
	return nil
}

func (v *View) entry(num int) (xrefEntry, bool) {
	for _, s := range v.chain {
		if e, ok := s.Entries[num]; ok {
			return e, true
		}
		if s.Hybrid != nil {
			if e, ok := s.Hybrid.Entries[num]; ok {
				return e, true
			}
		}
	}
	return xrefEntry{}, false
}

// Size is the trailer's /Size.
func (v *View) Size() int {
	n, _ := IntOf(v.Trailer["Size"])
	return int(n)
}

// Reader returns the reader the view belongs to.
func (v *View) Reader() *Reader { return v.rd }

// ObjectNotFound is returned for references to objects that are not in use.
var ErrNoObject = errors.New("object not found")

// Get returns the object ref points to (a *Stream for streams). Missing objects are an error
// wrapping ErrNoObject (callers usually treat them as null, as the PDF spec says).
func (v *View) Get(ref Ref) (Object, error) {
	return v.get(ref, 0)
}

func (v *View) get(ref Ref, depth int) (Object, error) {
	if o, ok := v.cache[ref.Num]; ok {
		return o, nil
	}
	if depth > 8 {
		return nil, fmt.Errorf("object %v: references nested too deeply", ref)
	}
	e, ok := v.entry(ref.Num)
	if !ok || e.Kind == entryFree {
		return nil, fmt.Errorf("%v: %w", ref, ErrNoObject)
	}
	var o Object
	var err error
	switch e.Kind {
	case entryInUse:
		if e.Offset < 0 || e.Offset >= v.rd.size {
			return nil, fmt.Errorf("%w: object %v at byte %d lies outside the file", ErrBrokenXref, ref, e.Offset)
		}
		l := newLexer(v.rd.r, v.rd.size, e.Offset)
		var num int
		num, _, o, err = v.rd.parseIndirectAt(l, v, depth)
		if err == nil && num != ref.Num {
			err = fmt.Errorf("%w: xref entry of object %d points at object %d (byte %d)", ErrBrokenXref, ref.Num, num, e.Offset)
		}
	case entryCompressed:
		o, err = v.fromObjStm(int(e.Offset), e.Gen, ref.Num, depth)
	}
	if err != nil {
		return nil, fmt.Errorf("object %v: %w", ref, err)
	}
	v.cache[ref.Num] = o
	return o, nil
}

// Offset returns the file offset of object num in this view (-1 when compressed or missing)
// and the object stream number for compressed objects.
func (v *View) Offset(num int) (off int64, objstm int) {
	e, ok := v.entry(num)
	if !ok || e.Kind == entryFree {
		return -1, -1
	}
	if e.Kind == entryCompressed {
		return -1, int(e.Offset)
	}
	return e.Offset, -1
}

// Resolve follows references (nil for missing objects).
func (v *View) Resolve(o Object) Object {
	for i := 0; i < 16; i++ {
		r, ok := o.(Ref)
		if !ok {
			return o
		}
		var err error
		o, err = v.Get(r)
		if err != nil {
			return nil
		}
	}
	return nil
}

// Dict resolves o and returns it as a dictionary (a stream's dictionary too), or nil.
func (v *View) Dict(o Object) Dict {
	switch x := v.Resolve(o).(type) {
	case Dict:
		return x
	case *Stream:
		return x.Dict
	}
	return nil
}

// Array resolves o as an array, or nil.
func (v *View) Array(o Object) Array {
	a, _ := v.Resolve(o).(Array)
	return a
}

// Num resolves o as a number.
func (v *View) Num(o Object) (float64, bool) { return NumOf(v.Resolve(o)) }

// parseIndirectAt parses "num gen obj ... endobj" at l.pos. Stream lengths given by reference
// are resolved through v (nil: direct lengths only).
func (rd *Reader) parseIndirectAt(l *lexer, v *View, depth int) (int, int, Object, error) {
	start := l.pos
	num, ok1 := l.readUint()
	gen, ok2 := l.readUint()
	if !ok1 || !ok2 || !l.expectKeyword("obj") {
		return 0, 0, nil, &SyntaxError{Offset: start, Msg: "expected 'n g obj'"}
	}
	if num > 1<<31 || gen > 65535 {
		return 0, 0, nil, &SyntaxError{Offset: start, Msg: "object number out of range"}
	}
	o, err := l.object(0)
	if err != nil {
		return 0, 0, nil, err
	}
	d, isDict := o.(Dict)
	if !isDict {
		return int(num), int(gen), o, nil
	}
	save := l.pos
	if !l.expectKeyword("stream") {
		l.pos = save
		return int(num), int(gen), d, nil
	}
	// The data starts after CRLF or LF (a lone CR is tolerated).
	if c, _ := l.peek(); c == '\r' {
		l.pos++
	}
	if c, _ := l.peek(); c == '\n' {
		l.pos++
	}
	dataStart := l.pos
	length := int64(-1)
	switch lv := d["Length"].(type) {
	case Int:
		length = int64(lv)
	case Ref:
		if v != nil && lv.Num != int(num) {
			if o, err := v.get(lv, depth+1); err == nil {
				if n, ok := IntOf(o); ok {
					length = n
				}
			}
		}
	}
	if length >= 0 && dataStart+length <= rd.size {
		l.pos = dataStart + length
		if l.expectKeyword("endstream") {
			return int(num), int(gen), &Stream{Dict: d, Offset: dataStart, Length: length}, nil
		}
	}
	// Wrong or missing /Length: find "endstream" as viewers do.
	end, err := rd.findForward(dataStart, []byte("endstream"), 1<<30)
	if err != nil {
		return 0, 0, nil, &SyntaxError{Offset: dataStart, Msg: "stream without 'endstream'"}
	}
	n := end - dataStart
	// Drop the EOL before endstream.
	if n > 0 {
		var b [2]byte
		p := end - 2
		if p < dataStart {
			p = dataStart
		}
		m, _ := rd.r.ReadAt(b[:end-p], p)
		bb := b[:m]
		if len(bb) > 0 && bb[len(bb)-1] == '\n' {
			n--
			if len(bb) > 1 && bb[0] == '\r' {
				n--
			}
		} else if len(bb) > 0 && bb[len(bb)-1] == '\r' {
			n--
		}
	}
	return int(num), int(gen), &Stream{Dict: d, Offset: dataStart, Length: n}, nil
}

// findForward returns the offset of the first occurrence of pat at or after from, looking at
// most limit bytes.
func (rd *Reader) findForward(from int64, pat []byte, limit int64) (int64, error) {
	chunk := int64(64 << 10)
	if rd.size-from < chunk {
		chunk = rd.size - from + 1
	}
	if chunk <= 0 {
		return 0, fmt.Errorf("%q not found", pat)
	}
	buf := make([]byte, chunk+int64(len(pat)))
	for off := from; off < rd.size && off-from < limit; off += chunk {
		n, err := rd.r.ReadAt(buf, off)
		if n <= 0 && err != nil {
			break
		}
		if i := bytes.Index(buf[:n], pat); i >= 0 {
			return off + int64(i), nil
		}
	}
	return 0, fmt.Errorf("%q not found", pat)
}

// rawStream reads a stream's raw (encoded) data.
func (rd *Reader) rawStream(s *Stream) ([]byte, error) {
	if s.Data != nil || s.Length == 0 {
		return s.Data, nil
	}
	if s.Offset < 0 || s.Length < 0 || s.Offset+s.Length > rd.size {
		return nil, fmt.Errorf("stream data (%d bytes at %d) lies outside the file", s.Length, s.Offset)
	}
	if s.Length > maxDecoded {
		return nil, fmt.Errorf("stream of %d bytes is too large to load", s.Length)
	}
	b := make([]byte, s.Length)
	if _, err := rd.r.ReadAt(b, s.Offset); err != nil && err != io.EOF {
		return nil, err
	}
	return b, nil
}

// StreamReader returns the raw (encoded) data of s without loading it.
func (rd *Reader) StreamReader(s *Stream) io.Reader {
	if s.Data != nil {
		return bytes.NewReader(s.Data)
	}
	return io.NewSectionReader(rd.r, s.Offset, s.Length)
}

// StreamData returns the decoded data of s (small streams only: contents, forms).
func (rd *Reader) StreamData(s *Stream) ([]byte, error) {
	raw, err := rd.rawStream(s)
	if err != nil {
		return nil, err
	}
	return decodeStream(s.Dict, raw)
}

func (v *View) fromObjStm(stmNum, idx, num, depth int) (Object, error) {
	e, ok := v.entry(stmNum)
	if !ok || e.Kind != entryInUse {
		return nil, fmt.Errorf("object stream %d is not in use", stmNum)
	}
	os, ok := v.rd.objstms[e.Offset]
	if !ok {
		so, err := v.get(Ref{Num: stmNum}, depth+1)
		if err != nil {
			return nil, err
		}
		st, ok := so.(*Stream)
		if !ok || NameOf(st.Dict["Type"]) != "ObjStm" {
			return nil, fmt.Errorf("object %d is not an object stream", stmNum)
		}
		data, err := v.rd.StreamData(st)
		if err != nil {
			return nil, fmt.Errorf("object stream %d: %w", stmNum, err)
		}
		n, _ := IntOf(st.Dict["N"])
		first, _ := IntOf(st.Dict["First"])
		if n < 0 || n > 1<<20 || first < 0 || first > int64(len(data)) {
			return nil, fmt.Errorf("object stream %d: bad /N or /First", stmNum)
		}
		os = &objStm{data: data, first: first, offs: map[int]int64{}}
		l := newBytesLexer(data[:first])
		for i := int64(0); i < n; i++ {
			on, ok1 := l.readUint()
			oo, ok2 := l.readUint()
			if !ok1 || !ok2 {
				return nil, fmt.Errorf("object stream %d: bad header", stmNum)
			}
			if _, dup := os.offs[int(on)]; !dup {
				os.offs[int(on)] = oo
			}
			os.order = append(os.order, int(on))
		}
		v.rd.objstms[e.Offset] = os
	}
	off, ok := os.offs[num]
	if !ok {
		return nil, fmt.Errorf("object stream %d does not hold object %d", stmNum, num)
	}
	if idx >= 0 && idx < len(os.order) && os.order[idx] != num {
		// The xref index disagrees with the stream header; trust the header's number.
		_ = idx
	}
	if os.first+off < 0 || os.first+off > int64(len(os.data)) {
		return nil, fmt.Errorf("object stream %d: object %d offset out of range", stmNum, num)
	}
	l := newBytesLexer(os.data)
	l.pos = os.first + off
	return l.object(0)
}

// Revision is one revision of the file: the bytes [0, End) form a complete PDF.
type Revision struct {
	EOF       int64 // offset of "%%EOF"
	End       int64 // end of the revision: after %%EOF and one end-of-line
	StartXref int64 // the startxref value just before EOF (-1 when missing)
}

// Revisions scans the file for %%EOF markers preceded by a startxref. The scan reads the whole
// file once (the verifier hashes it anyway); the result is cached.
func (rd *Reader) Revisions() []Revision {
	if rd.revsDone {
		return rd.revs
	}
	rd.revsDone = true
	chunk := int64(1 << 20)
	if rd.size < chunk {
		chunk = rd.size + 1 // small files: one small buffer
	}
	pat := []byte("%%EOF")
	buf := make([]byte, chunk+int64(len(pat)))
	for base := int64(0); base < rd.size; base += chunk {
		n, err := rd.r.ReadAt(buf, base)
		if n <= 0 && err != nil {
			break
		}
		b := buf[:n]
		for i := 0; ; {
			j := bytes.Index(b[i:], pat)
			if j < 0 {
				break
			}
			p := i + j
			i = p + len(pat)
			if int64(p) >= chunk {
				break
			}
			eof := base + int64(p)
			rd.revs = append(rd.revs, rd.revisionAt(eof))
		}
	}
	// Keep only markers that close a revision (a startxref before them).
	out := rd.revs[:0]
	for _, r := range rd.revs {
		if r.StartXref >= 0 {
			out = append(out, r)
		}
	}
	rd.revs = out
	return rd.revs
}

// revisionAt describes the revision whose %%EOF is at eof.
func (rd *Reader) revisionAt(eof int64) Revision {
	r := Revision{EOF: eof, End: eof + 5, StartXref: -1}
	var eol [2]byte
	n, _ := rd.r.ReadAt(eol[:], eof+5)
	if n > 0 && eol[0] == '\r' {
		r.End++
		if n > 1 && eol[1] == '\n' {
			r.End++
		}
	} else if n > 0 && eol[0] == '\n' {
		r.End++
	}
	from := eof - 256
	if from < 0 {
		from = 0
	}
	tail := make([]byte, eof-from)
	m, _ := rd.r.ReadAt(tail, from)
	tail = tail[:m]
	if i := bytes.LastIndex(tail, []byte("startxref")); i >= 0 {
		rest := tail[i+9:]
		if v, ok := parseUintAfter(rest); ok {
			// nothing but the number and white space between startxref and %%EOF
			k := 0
			for k < len(rest) && isSpace(rest[k]) {
				k++
			}
			for k < len(rest) && rest[k] >= '0' && rest[k] <= '9' {
				k++
			}
			for k < len(rest) && isSpace(rest[k]) {
				k++
			}
			if k == len(rest) {
				r.StartXref = v
			}
		}
	}
	return r
}

// RevisionEndingAt returns the revision whose end (with or without its EOL) is end.
func (rd *Reader) RevisionEndingAt(end int64) (Revision, int, bool) {
	for i, r := range rd.Revisions() {
		if r.End == end || r.EOF+5 == end {
			return r, i, true
		}
	}
	return Revision{}, -1, false
}
