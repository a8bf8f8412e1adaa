package ofd

import (
	"encoding/binary"
	"errors"
	"fmt"
	"sort"
	"strings"
)

// Embedded fonts in OFD files are often subsets that strict parsers reject: no cmap table
// (the text maps characters to glyphs with CGTransform), no name or post table, an hmtx table
// of the wrong length, a last table without its padding, cmap subtables in formats the parser
// does not know (format 2, double-byte encodings), or a bare CFF font (no OpenType wrapper at
// all). Readers draw them anyway, by glyph index. repairFont rebuilds such a file into a
// well-formed OpenType font holding the same outlines, so tdewolff/font can read it; the
// repairs it made are reported so that the log can say what happened to which font.

// sfntTable is one table of a font file.
type sfntTable struct {
	tag  string
	data []byte
}

var errNotFont = errors.New("not a TrueType, OpenType or CFF font")

// isBareCFF reports whether b starts with a CFF header (major version 1, header size ≥ 4,
// offset size 1–4) rather than an SFNT one.
func isBareCFF(b []byte) bool {
	return len(b) >= 4 && b[0] == 1 && b[2] >= 4 && b[3] >= 1 && b[3] <= 4
}

// readTables reads an SFNT table directory leniently: tables reaching past the end of the
// file are cut at the end, tables starting past it are dropped.
func readTables(b []byte) ([]sfntTable, []string, error) {
	if len(b) < 12 {
		return nil, nil, errNotFont
	}
	v := binary.BigEndian.Uint32(b)
	if v != 0x00010000 && string(b[:4]) != "OTTO" && string(b[:4]) != "true" {
		return nil, nil, errNotFont
	}
	n := int(binary.BigEndian.Uint16(b[4:]))
	var out []sfntTable
	var notes []string
	for i := 0; i < n; i++ {
		e := 12 + 16*i
		if e+16 > len(b) {
			notes = append(notes, "table directory cut short")
			break
		}
		tag := string(b[e : e+4])
		off := int64(binary.BigEndian.Uint32(b[e+8:]))
		l := int64(binary.BigEndian.Uint32(b[e+12:]))
		if off >= int64(len(b)) {
			notes = append(notes, fmt.Sprintf("table %q outside the file", tag))
			continue
		}
		if off+l > int64(len(b)) {
			notes = append(notes, fmt.Sprintf("table %q cut at the end of the file", tag))
			l = int64(len(b)) - off
		}
		out = append(out, sfntTable{tag, b[off : off+l]})
	}
	return out, notes, nil
}

func tableOf(ts []sfntTable, tag string) []byte {
	for _, t := range ts {
		if t.tag == tag {
			return t.data
		}
	}
	return nil
}

// writeSFNT writes tables (sorted by tag, 4-byte aligned) under the given version.
func writeSFNT(version []byte, ts []sfntTable) []byte {
	sort.Slice(ts, func(i, j int) bool { return ts[i].tag < ts[j].tag })
	n := len(ts)
	out := make([]byte, 12+16*n)
	copy(out, version)
	binary.BigEndian.PutUint16(out[4:], uint16(n))
	es := 0
	for 1<<(es+1) <= n {
		es++
	}
	binary.BigEndian.PutUint16(out[6:], uint16(16<<es))
	binary.BigEndian.PutUint16(out[8:], uint16(es))
	binary.BigEndian.PutUint16(out[10:], uint16(n*16-16<<es))
	for i, t := range ts {
		off := len(out)
		out = append(out, t.data...)
		for len(out)%4 != 0 {
			out = append(out, 0)
		}
		e := out[12+16*i:]
		copy(e, t.tag)
		binary.BigEndian.PutUint32(e[8:], uint32(off))
		binary.BigEndian.PutUint32(e[12:], uint32(len(t.data)))
	}
	return out
}

// emptyCmap is a cmap with one (3,1) format 4 subtable mapping nothing: characters then fall
// back per glyph, glyph indices (CGTransform) still draw.
func emptyCmap() []byte {
	b := make([]byte, 12+24)
	binary.BigEndian.PutUint16(b[2:], 1)
	binary.BigEndian.PutUint16(b[4:], 3)
	binary.BigEndian.PutUint16(b[6:], 1)
	binary.BigEndian.PutUint32(b[8:], 12)
	s := b[12:]
	binary.BigEndian.PutUint16(s[0:], 4)
	binary.BigEndian.PutUint16(s[2:], 24)
	binary.BigEndian.PutUint16(s[6:], 2) // one segment
	binary.BigEndian.PutUint16(s[8:], 2)
	binary.BigEndian.PutUint16(s[14:], 0xFFFF) // endCode
	binary.BigEndian.PutUint16(s[18:], 0xFFFF) // startCode
	binary.BigEndian.PutUint16(s[20:], 1)      // idDelta
	return b
}

// usableCmap keeps the subtables of a cmap in the formats tdewolff/font reads (0, 4, 6, 12);
// nil when none is left.
func usableCmap(c []byte) []byte {
	if len(c) < 4 {
		return nil
	}
	n := int(binary.BigEndian.Uint16(c[2:]))
	type rec struct {
		pid, eid uint16
		sub      []byte
	}
	var keep []rec
	for i := 0; i < n && 4+8*i+8 <= len(c); i++ {
		e := c[4+8*i:]
		off := int(binary.BigEndian.Uint32(e[4:]))
		if off+4 > len(c) {
			continue
		}
		format := binary.BigEndian.Uint16(c[off:])
		var l int
		switch format {
		case 0, 4, 6:
			l = int(binary.BigEndian.Uint16(c[off+2:]))
		case 12:
			if off+8 > len(c) {
				continue
			}
			l = int(binary.BigEndian.Uint32(c[off+4:]))
		default:
			continue
		}
		if l < 8 || off+l > len(c) {
			continue
		}
		keep = append(keep, rec{binary.BigEndian.Uint16(e), binary.BigEndian.Uint16(e[2:]), c[off : off+l]})
	}
	if len(keep) == 0 {
		return nil
	}
	out := make([]byte, 4+8*len(keep))
	binary.BigEndian.PutUint16(out[2:], uint16(len(keep)))
	for i, k := range keep {
		binary.BigEndian.PutUint16(out[4+8*i:], k.pid)
		binary.BigEndian.PutUint16(out[4+8*i+2:], k.eid)
		binary.BigEndian.PutUint32(out[4+8*i+4:], uint32(len(out)))
		out = append(out, k.sub...)
		for len(out)%2 != 0 {
			out = append(out, 0)
		}
	}
	return out
}

func minimalName() []byte { return []byte{0, 0, 0, 0, 0, 6} }

func minimalPost() []byte {
	b := make([]byte, 32)
	binary.BigEndian.PutUint32(b, 0x00030000)
	return b
}

// fixHmtx returns hmtx of exactly the length hhea and maxp require, padding with the last
// advance (or cutting), and whether it changed.
func fixHmtx(hmtx, hhea, maxp []byte) ([]byte, bool) {
	if len(hhea) < 36 || len(maxp) < 6 {
		return hmtx, false
	}
	nh := int(binary.BigEndian.Uint16(hhea[34:]))
	ng := int(binary.BigEndian.Uint16(maxp[4:]))
	if nh > ng || nh == 0 {
		return hmtx, false
	}
	want := 4*nh + 2*(ng-nh)
	if len(hmtx) == want {
		return hmtx, false
	}
	out := make([]byte, want)
	copy(out, hmtx)
	if len(hmtx) < 4*nh {
		last := []byte{0x03, 0xe8, 0, 0} // 1000 units
		if len(hmtx) >= 4 {
			last = hmtx[len(hmtx)/4*4-4 : len(hmtx)/4*4]
		}
		for i := len(hmtx) / 4; i < nh; i++ {
			copy(out[4*i:], last[:2])
		}
	}
	return out, true
}

// repairSFNT rebuilds a TrueType/OpenType file from the tables a reader needs, each made
// well-formed; cmaps are tried as found, reduced to readable subtables, then empty.
func repairSFNT(b []byte) ([][]byte, []string, error) {
	ts, notes, err := readTables(b)
	if err != nil {
		return nil, nil, err
	}
	var keep []sfntTable
	for _, t := range ts {
		switch t.tag {
		case "head", "hhea", "maxp", "glyf", "loca", "CFF ", "CFF2":
			keep = append(keep, t)
		}
	}
	hmtx, fixed := fixHmtx(tableOf(ts, "hmtx"), tableOf(ts, "hhea"), tableOf(ts, "maxp"))
	if fixed {
		notes = append(notes, "hmtx table of the wrong length")
	}
	if hmtx != nil {
		keep = append(keep, sfntTable{"hmtx", hmtx})
	}
	if tableOf(ts, "name") == nil {
		notes = append(notes, "no name table")
	}
	if tableOf(ts, "post") == nil {
		notes = append(notes, "no post table")
	}
	keep = append(keep, sfntTable{"name", minimalName()}, sfntTable{"post", minimalPost()})
	version := b[:4]
	var cands [][]byte
	if c := tableOf(ts, "cmap"); c == nil {
		notes = append(notes, "no cmap table: characters are drawn by glyph index (CGTransform) only")
		cands = [][]byte{emptyCmap()}
	} else {
		cands = [][]byte{c}
		if u := usableCmap(c); u != nil {
			cands = append(cands, u)
		}
		cands = append(cands, emptyCmap())
	}
	var out [][]byte
	for _, c := range cands {
		t := append(append([]sfntTable{}, keep...), sfntTable{"cmap", c})
		out = append(out, writeSFNT(version, t))
	}
	return out, notes, nil
}

// cffGlyphCount reads the number of glyphs of a bare CFF font: the count of its CharStrings
// INDEX, found through the Top DICT.
func cffGlyphCount(b []byte) (int, error) {
	bad := errors.New("malformed CFF font")
	pos := int(b[2])
	// skipIndex returns the position after an INDEX and its first object's bounds.
	index := func(p int) (next, first0, first1 int, err error) {
		if p+2 > len(b) {
			return 0, 0, 0, bad
		}
		n := int(binary.BigEndian.Uint16(b[p:]))
		if n == 0 {
			return p + 2, 0, 0, nil
		}
		if p+3 > len(b) {
			return 0, 0, 0, bad
		}
		os := int(b[p+2])
		if os < 1 || os > 4 || p+3+(n+1)*os > len(b) {
			return 0, 0, 0, bad
		}
		off := func(i int) int {
			v := 0
			for k := 0; k < os; k++ {
				v = v<<8 | int(b[p+3+i*os+k])
			}
			return v
		}
		data := p + 3 + (n+1)*os - 1
		end := data + off(n)
		if end > len(b) || off(0) < 1 || off(1) < off(0) || data+off(1) > len(b) {
			return 0, 0, 0, bad
		}
		return end, data + off(0), data + off(1), nil
	}
	pos, _, _, err := index(pos) // Name INDEX
	if err != nil {
		return 0, err
	}
	_, d0, d1, err := index(pos) // Top DICT INDEX: its first DICT
	if err != nil || d1 <= d0 {
		return 0, bad
	}
	charStrings := -1
	var ops []int
	for p := d0; p < d1; {
		c := int(b[p])
		switch {
		case c == 12:
			p += 2
			ops = ops[:0]
		case c <= 21:
			if c == 17 && len(ops) > 0 {
				charStrings = ops[len(ops)-1]
			}
			p++
			ops = ops[:0]
		case c == 28 && p+3 <= d1:
			ops = append(ops, int(int16(binary.BigEndian.Uint16(b[p+1:]))))
			p += 3
		case c == 29 && p+5 <= d1:
			ops = append(ops, int(int32(binary.BigEndian.Uint32(b[p+1:]))))
			p += 5
		case c == 30:
			p++
			for p < d1 && b[p]&0x0f != 0x0f && b[p]>>4 != 0x0f {
				p++
			}
			p++
			ops = append(ops, 0)
		case c >= 32 && c <= 246:
			ops = append(ops, c-139)
			p++
		case c >= 247 && c <= 250 && p+2 <= d1:
			ops = append(ops, (c-247)*256+int(b[p+1])+108)
			p += 2
		case c >= 251 && c <= 254 && p+2 <= d1:
			ops = append(ops, -(c-251)*256-int(b[p+1])-108)
			p += 2
		default:
			return 0, bad
		}
	}
	if charStrings <= 0 || charStrings+2 > len(b) {
		return 0, bad
	}
	return int(binary.BigEndian.Uint16(b[charStrings:])), nil
}

// wrapCFF puts a bare CFF font into an OpenType file with the tables a reader needs: metrics
// of 1000 units per em (CFF's usual FontMatrix) and a full-em advance for every glyph (text in
// such fonts is positioned by DeltaX), no character map (glyphs are named by CGTransform).
func wrapCFF(b []byte) ([]byte, error) {
	ng, err := cffGlyphCount(b)
	if err != nil {
		return nil, err
	}
	if ng == 0 || ng > 65535 {
		return nil, errors.New("CFF font without glyphs")
	}
	head := make([]byte, 54)
	binary.BigEndian.PutUint32(head[0:], 0x00010000)
	binary.BigEndian.PutUint32(head[12:], 0x5F0F3CF5)
	binary.BigEndian.PutUint16(head[18:], 1000)
	binary.BigEndian.PutUint16(head[48:], 2)
	hhea := make([]byte, 36)
	binary.BigEndian.PutUint32(hhea[0:], 0x00010000)
	binary.BigEndian.PutUint16(hhea[4:], 880)
	binary.BigEndian.PutUint16(hhea[6:], uint16(0x10000-120))
	binary.BigEndian.PutUint16(hhea[10:], 1000)
	binary.BigEndian.PutUint16(hhea[34:], 1)
	hmtx := make([]byte, 4+2*(ng-1))
	binary.BigEndian.PutUint16(hmtx, 1000)
	maxp := make([]byte, 6)
	binary.BigEndian.PutUint32(maxp, 0x00005000)
	binary.BigEndian.PutUint16(maxp[4:], uint16(ng))
	return writeSFNT([]byte("OTTO"), []sfntTable{{"CFF ", b}, {"cmap", emptyCmap()}, {"head", head}, {"hhea", hhea},
		{"hmtx", hmtx}, {"maxp", maxp}, {"name", minimalName()}, {"post", minimalPost()}}), nil
}

// loadFont parses an embedded font file, repairing it when the strict parse fails. notes
// says what was wrong (empty when the file parsed as it is).
func loadFont(b []byte) (*face, []string, error) {
	f, err0 := parseFace(b, 0)
	if err0 == nil {
		return f, nil, nil
	}
	if isBareCFF(b) {
		w, err := wrapCFF(b)
		if err != nil {
			return nil, nil, fmt.Errorf("bare CFF font: %v", err)
		}
		f, err := parseFace(w, 0)
		if err != nil {
			return nil, nil, fmt.Errorf("bare CFF font: %v", err)
		}
		return f, []string{"bare CFF font (no OpenType wrapper)"}, nil
	}
	cands, notes, err := repairSFNT(b)
	if err != nil {
		return nil, nil, fmt.Errorf("%v (%v)", err0, err)
	}
	notes = append([]string{err0.Error()}, notes...)
	var last error
	for i, c := range cands {
		if f, err := parseFace(c, 0); err == nil {
			if i > 0 && i == len(cands)-1 && tableOf(mustTables(b), "cmap") != nil {
				notes = append(notes, "cmap unreadable: characters are drawn by glyph index (CGTransform) only")
			} else if i > 0 {
				notes = append(notes, "cmap subtables in unsupported formats dropped")
			}
			return f, notes, nil
		} else {
			last = err
		}
	}
	return nil, nil, fmt.Errorf("%v; repaired: %v", err0, last)
}

func mustTables(b []byte) []sfntTable {
	ts, _, _ := readTables(b)
	return ts
}

// joinNotes formats repair notes for the log.
func joinNotes(n []string) string { return strings.Join(n, "; ") }
