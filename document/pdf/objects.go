package pdf

import (
	"bytes"
	"fmt"
	"math"
	"sort"
	"strconv"
	"unicode/utf16"
)

// Object is a parsed PDF object: nil (null), Bool, Int, Real, Name, String, Array, Dict, Ref
// or *Stream. Values are immutable once parsed; writers build new ones.
type Object any

// Bool is a PDF boolean.
type Bool bool

// Int is a PDF integer.
type Int int64

// Real is a PDF real number.
type Real float64

// Name is a PDF name without its leading slash, already #-decoded.
type Name string

// String is a PDF string. Off and End are the file offsets of the string token (delimiters
// included) when it was parsed from a file, so the verifier can check that a /ByteRange gap is
// exactly this dictionary's /Contents; both are 0 for strings built in memory.
type String struct {
	B        []byte
	Hex      bool
	Off, End int64
}

// Array is a PDF array.
type Array []Object

// Dict is a PDF dictionary keyed by name (without slash).
type Dict map[Name]Object

// Ref is an indirect reference.
type Ref struct {
	Num int
	Gen int
}

func (r Ref) String() string { return fmt.Sprintf("%d %d R", r.Num, r.Gen) }

// Stream is a stream object: its dictionary and where its raw (still encoded) data lies in the
// file. The data is read only when asked for (Reader.StreamData), so huge images are never
// loaded by structural work.
type Stream struct {
	Dict   Dict
	Offset int64 // file offset of the first data byte
	Length int64
	// Data holds the raw bytes for streams built in memory or decoded from object streams.
	Data []byte
}

// Get returns d[key] or nil.
func (d Dict) Get(key Name) Object { return d[key] }

// NameOf returns the value as a name, or "".
func NameOf(o Object) Name {
	n, _ := o.(Name)
	return n
}

// IntOf returns the value as an integer.
func IntOf(o Object) (int64, bool) {
	switch v := o.(type) {
	case Int:
		return int64(v), true
	case Real:
		if v == Real(math.Trunc(float64(v))) {
			return int64(v), true
		}
	}
	return 0, false
}

// NumOf returns the value as a float.
func NumOf(o Object) (float64, bool) {
	switch v := o.(type) {
	case Int:
		return float64(v), true
	case Real:
		return float64(v), true
	}
	return 0, false
}

// TextString decodes a PDF text string (UTF-16BE with BOM, UTF-8 with BOM, or PDFDocEncoding,
// approximated by Latin-1).
func TextString(b []byte) string {
	if len(b) >= 2 && b[0] == 0xFE && b[1] == 0xFF {
		u := make([]uint16, 0, len(b)/2)
		for i := 2; i+1 < len(b); i += 2 {
			u = append(u, uint16(b[i])<<8|uint16(b[i+1]))
		}
		return string(utf16.Decode(u))
	}
	if len(b) >= 3 && b[0] == 0xEF && b[1] == 0xBB && b[2] == 0xBF {
		return string(b[3:])
	}
	r := make([]rune, len(b))
	for i, c := range b {
		r[i] = rune(c)
	}
	return string(r)
}

// EncodeText returns s as a PDF text string: plain bytes when s is printable ASCII, otherwise
// UTF-16BE with a byte-order mark written as a hex string. Raw UTF-8 in a literal string (what
// pdfcpu writes) is read as PDFDocEncoding by other readers and shows as mojibake.
func EncodeText(s string) String {
	ascii := true
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			ascii = false
			break
		}
	}
	if ascii {
		return String{B: []byte(s)}
	}
	u := utf16.Encode([]rune(s))
	b := make([]byte, 2, 2+2*len(u))
	b[0], b[1] = 0xFE, 0xFF
	for _, c := range u {
		b = append(b, byte(c>>8), byte(c))
	}
	return String{B: b, Hex: true}
}

// Equal reports whether two objects are the same value (strings by bytes; stream data is not
// compared here, see Reader.sameStream).
func Equal(a, b Object) bool {
	switch x := a.(type) {
	case nil:
		return b == nil
	case Bool, Int, Name, Ref:
		return a == b
	case Real:
		switch y := b.(type) {
		case Real:
			return x == y
		case Int:
			return float64(x) == float64(y)
		}
		return false
	case String:
		y, ok := b.(String)
		return ok && bytes.Equal(x.B, y.B)
	case Array:
		y, ok := b.(Array)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !Equal(x[i], y[i]) {
				return false
			}
		}
		return true
	case Dict:
		y, ok := b.(Dict)
		if !ok || len(x) != len(y) {
			return false
		}
		for k, v := range x {
			w, ok := y[k]
			if !ok || !Equal(v, w) {
				return false
			}
		}
		return true
	case *Stream:
		y, ok := b.(*Stream)
		return ok && Equal(x.Dict, y.Dict) && x.Length == y.Length
	}
	return false
}

// ---- serialisation (used by the incremental writer) ----

// appendObject serialises o in PDF syntax.
func appendObject(buf []byte, o Object) []byte {
	switch v := o.(type) {
	case nil:
		return append(buf, "null"...)
	case Bool:
		if v {
			return append(buf, "true"...)
		}
		return append(buf, "false"...)
	case Int:
		return strconv.AppendInt(buf, int64(v), 10)
	case Real:
		return appendReal(buf, float64(v))
	case Name:
		return appendName(buf, v)
	case String:
		return appendString(buf, v)
	case Ref:
		buf = strconv.AppendInt(buf, int64(v.Num), 10)
		buf = append(buf, ' ')
		buf = strconv.AppendInt(buf, int64(v.Gen), 10)
		return append(buf, " R"...)
	case Array:
		buf = append(buf, '[')
		for i, e := range v {
			if i > 0 {
				buf = append(buf, ' ')
			}
			buf = appendObject(buf, e)
		}
		return append(buf, ']')
	case Dict:
		return appendDict(buf, v)
	case *Stream:
		// Streams are written by the writer (they need their data); inside another object only a
		// reference is valid PDF.
		panic("pdf: stream object serialised as a direct object")
	}
	panic(fmt.Sprintf("pdf: cannot serialise %T", o))
}

func appendDict(buf []byte, d Dict) []byte {
	keys := make([]string, 0, len(d))
	for k := range d {
		keys = append(keys, string(k))
	}
	// Deterministic output; /Type first because humans look for it.
	sort.Slice(keys, func(i, j int) bool {
		if (keys[i] == "Type") != (keys[j] == "Type") {
			return keys[i] == "Type"
		}
		return keys[i] < keys[j]
	})
	buf = append(buf, "<<"...)
	for _, k := range keys {
		buf = appendName(buf, Name(k))
		buf = append(buf, ' ')
		buf = appendObject(buf, d[Name(k)])
	}
	return append(buf, ">>"...)
}

func appendReal(buf []byte, f float64) []byte {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		f = 0
	}
	if f == math.Trunc(f) && math.Abs(f) < 1e15 {
		return strconv.AppendInt(buf, int64(f), 10)
	}
	// PDF has no exponent notation.
	s := strconv.FormatFloat(f, 'f', 4, 64)
	s = trimZeros(s)
	return append(buf, s...)
}

func trimZeros(s string) string {
	if !bytes.ContainsRune([]byte(s), '.') {
		return s
	}
	for len(s) > 0 && s[len(s)-1] == '0' {
		s = s[:len(s)-1]
	}
	if len(s) > 0 && s[len(s)-1] == '.' {
		s = s[:len(s)-1]
	}
	if s == "-0" || s == "" {
		return "0"
	}
	return s
}

func appendName(buf []byte, n Name) []byte {
	buf = append(buf, '/')
	for i := 0; i < len(n); i++ {
		c := n[i]
		if c <= ' ' || c >= 0x7f || c == '#' || isDelim(c) {
			buf = append(buf, '#', hexDigits[c>>4], hexDigits[c&15])
			continue
		}
		buf = append(buf, c)
	}
	return buf
}

const hexDigits = "0123456789ABCDEF"

func appendString(buf []byte, s String) []byte {
	if s.Hex {
		buf = append(buf, '<')
		for _, c := range s.B {
			buf = append(buf, hexDigits[c>>4], hexDigits[c&15])
		}
		return append(buf, '>')
	}
	buf = append(buf, '(')
	for _, c := range s.B {
		switch c {
		case '(', ')', '\\':
			buf = append(buf, '\\', c)
		case '\r':
			buf = append(buf, `\r`...)
		case '\n':
			buf = append(buf, `\n`...)
		default:
			buf = append(buf, c)
		}
	}
	return append(buf, ')')
}
