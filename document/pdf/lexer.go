package pdf

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strconv"
)

// The lexer reads PDF tokens straight from an io.ReaderAt through a small window, so parsing an
// object costs only the bytes of that object, wherever it lies in a file of any size.

const windowSize = 8 << 10

// maxDepth bounds nesting of arrays and dictionaries; real files stay far below it, and hostile
// ones must not blow the stack.
const maxDepth = 256

// SyntaxError reports malformed PDF syntax at a file offset.
type SyntaxError struct {
	Offset int64
	Msg    string
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("PDF syntax error at byte %d: %s", e.Offset, e.Msg)
}

type lexer struct {
	r      io.ReaderAt
	size   int64
	pos    int64
	win    []byte
	winOff int64
	// base is added to offsets reported in String.Off/End (object streams are parsed from a
	// decoded buffer; their strings get no file position: base = -1 disables positions).
	base int64
}

func newLexer(r io.ReaderAt, size, pos int64) *lexer {
	return &lexer{r: r, size: size, pos: pos}
}

func newBytesLexer(b []byte) *lexer {
	return &lexer{r: bytes.NewReader(b), size: int64(len(b)), base: -1}
}

func (l *lexer) errf(format string, args ...any) error {
	return &SyntaxError{Offset: l.pos, Msg: fmt.Sprintf(format, args...)}
}

// at returns the byte at p, reading a new window when p lies outside the current one.
func (l *lexer) at(p int64) (byte, bool) {
	if p < 0 || p >= l.size {
		return 0, false
	}
	if p < l.winOff || p >= l.winOff+int64(len(l.win)) {
		n := int64(windowSize)
		if p+n > l.size {
			n = l.size - p
		}
		if cap(l.win) < int(n) {
			l.win = make([]byte, n)
		}
		l.win = l.win[:n]
		m, err := l.r.ReadAt(l.win, p)
		if m <= 0 && err != nil {
			l.win = l.win[:0]
			return 0, false
		}
		l.win = l.win[:m]
		l.winOff = p
	}
	return l.win[p-l.winOff], true
}

func (l *lexer) peek() (byte, bool) { return l.at(l.pos) }

func (l *lexer) next() (byte, bool) {
	c, ok := l.at(l.pos)
	if ok {
		l.pos++
	}
	return c, ok
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\n' || c == '\r' || c == '\t' || c == '\f' || c == 0
}

func isDelim(c byte) bool {
	switch c {
	case '(', ')', '<', '>', '[', ']', '{', '}', '/', '%':
		return true
	}
	return false
}

func isRegular(c byte) bool { return !isSpace(c) && !isDelim(c) }

// skipSpace skips white space and comments.
func (l *lexer) skipSpace() {
	for {
		c, ok := l.peek()
		if !ok {
			return
		}
		if isSpace(c) {
			l.pos++
			continue
		}
		if c == '%' {
			for {
				c, ok := l.next()
				if !ok || c == '\n' || c == '\r' {
					break
				}
			}
			continue
		}
		return
	}
}

// keyword reads a run of regular characters.
func (l *lexer) keyword() string {
	var b []byte
	for {
		c, ok := l.peek()
		if !ok || !isRegular(c) {
			break
		}
		b = append(b, c)
		l.pos++
		if len(b) > 256 {
			break
		}
	}
	return string(b)
}

// expectKeyword skips space and consumes kw followed by a non-regular character.
func (l *lexer) expectKeyword(kw string) bool {
	l.skipSpace()
	save := l.pos
	if l.keyword() == kw {
		return true
	}
	l.pos = save
	return false
}

// readInt reads an unsigned decimal integer token, if one is next.
func (l *lexer) readUint() (int64, bool) {
	l.skipSpace()
	save := l.pos
	var n int64
	digits := 0
	for {
		c, ok := l.peek()
		if !ok || c < '0' || c > '9' {
			break
		}
		if n > (1<<62)/10 {
			l.pos = save
			return 0, false
		}
		n = n*10 + int64(c-'0')
		digits++
		l.pos++
	}
	if digits == 0 {
		l.pos = save
		return 0, false
	}
	if c, ok := l.peek(); ok && isRegular(c) {
		l.pos = save
		return 0, false
	}
	return n, true
}

var errEndOfData = errors.New("unexpected end of data")

// object parses one direct object (references included). depth guards nesting.
func (l *lexer) object(depth int) (Object, error) {
	if depth > maxDepth {
		return nil, l.errf("objects nested deeper than %d levels", maxDepth)
	}
	l.skipSpace()
	start := l.pos
	c, ok := l.peek()
	if !ok {
		return nil, &SyntaxError{Offset: l.pos, Msg: errEndOfData.Error()}
	}
	switch {
	case c == '/':
		l.pos++
		return l.name()
	case c == '(':
		l.pos++
		b, err := l.literalString()
		if err != nil {
			return nil, err
		}
		return l.str(b, false, start), nil
	case c == '<':
		if c2, _ := l.at(l.pos + 1); c2 == '<' {
			l.pos += 2
			return l.dict(depth)
		}
		l.pos++
		b, err := l.hexString()
		if err != nil {
			return nil, err
		}
		return l.str(b, true, start), nil
	case c == '[':
		l.pos++
		arr := Array{}
		for {
			l.skipSpace()
			c, ok := l.peek()
			if !ok {
				return nil, l.errf("unterminated array starting at byte %d", start)
			}
			if c == ']' {
				l.pos++
				return arr, nil
			}
			o, err := l.object(depth + 1)
			if err != nil {
				return nil, err
			}
			arr = append(arr, o)
		}
	case c == '+' || c == '-' || c == '.' || (c >= '0' && c <= '9'):
		return l.number()
	case isRegular(c):
		kw := l.keyword()
		switch kw {
		case "true":
			return Bool(true), nil
		case "false":
			return Bool(false), nil
		case "null":
			return nil, nil
		}
		return nil, &SyntaxError{Offset: start, Msg: fmt.Sprintf("unexpected keyword %q", kw)}
	}
	l.pos++
	return nil, &SyntaxError{Offset: start, Msg: fmt.Sprintf("unexpected character %q", c)}
}

func (l *lexer) str(b []byte, hex bool, start int64) String {
	s := String{B: b, Hex: hex}
	if l.base >= 0 {
		s.Off, s.End = l.base+start, l.base+l.pos
	}
	return s
}

func (l *lexer) number() (Object, error) {
	start := l.pos
	tok := l.keyword()
	if i, err := strconv.ParseInt(tok, 10, 64); err == nil {
		// "n g R" lookahead.
		if i >= 0 {
			save := l.pos
			if g, ok := l.readUint(); ok {
				if l.expectKeyword("R") && i <= 1<<31 && g <= 65535 {
					return Ref{Num: int(i), Gen: int(g)}, nil
				}
			}
			l.pos = save
		}
		return Int(i), nil
	}
	f, err := strconv.ParseFloat(tok, 64)
	if err != nil {
		// Malformed numbers like "--5" or "1.2.3" occur in the wild; readers treat them as 0.
		if len(tok) == 0 {
			return nil, &SyntaxError{Offset: start, Msg: "empty number"}
		}
		return Real(0), nil
	}
	return Real(f), nil
}

func (l *lexer) name() (Object, error) {
	var b []byte
	for {
		c, ok := l.peek()
		if !ok || !isRegular(c) {
			break
		}
		l.pos++
		if c == '#' {
			h1, ok1 := l.at(l.pos)
			h2, ok2 := l.at(l.pos + 1)
			if ok1 && ok2 && isHex(h1) && isHex(h2) {
				b = append(b, unhex(h1)<<4|unhex(h2))
				l.pos += 2
				continue
			}
		}
		b = append(b, c)
	}
	return Name(b), nil
}

func isHex(c byte) bool {
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}

func unhex(c byte) byte {
	switch {
	case c >= '0' && c <= '9':
		return c - '0'
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10
	}
	return 0
}

func (l *lexer) hexString() ([]byte, error) {
	start := l.pos
	var b []byte
	var hi byte
	half := false
	for {
		c, ok := l.next()
		if !ok {
			return nil, &SyntaxError{Offset: start, Msg: "unterminated hex string"}
		}
		if c == '>' {
			break
		}
		if isSpace(c) {
			continue
		}
		if !isHex(c) {
			return nil, &SyntaxError{Offset: l.pos - 1, Msg: fmt.Sprintf("bad character %q in hex string", c)}
		}
		if half {
			b = append(b, hi<<4|unhex(c))
		} else {
			hi = unhex(c)
		}
		half = !half
	}
	if half {
		b = append(b, hi<<4)
	}
	return b, nil
}

func (l *lexer) literalString() ([]byte, error) {
	start := l.pos
	var b []byte
	depth := 1
	for {
		c, ok := l.next()
		if !ok {
			return nil, &SyntaxError{Offset: start, Msg: "unterminated string"}
		}
		switch c {
		case '(':
			depth++
		case ')':
			depth--
			if depth == 0 {
				return b, nil
			}
		case '\\':
			e, ok := l.next()
			if !ok {
				return nil, &SyntaxError{Offset: start, Msg: "unterminated string"}
			}
			switch e {
			case 'n':
				b = append(b, '\n')
			case 'r':
				b = append(b, '\r')
			case 't':
				b = append(b, '\t')
			case 'b':
				b = append(b, '\b')
			case 'f':
				b = append(b, '\f')
			case '\r':
				if n, _ := l.peek(); n == '\n' {
					l.pos++
				}
			case '\n':
			case '0', '1', '2', '3', '4', '5', '6', '7':
				v := int(e - '0')
				for k := 0; k < 2; k++ {
					d, ok := l.peek()
					if !ok || d < '0' || d > '7' {
						break
					}
					v = v*8 + int(d-'0')
					l.pos++
				}
				b = append(b, byte(v))
			default:
				b = append(b, e)
			}
			continue
		}
		b = append(b, c)
	}
}

func (l *lexer) dict(depth int) (Object, error) {
	start := l.pos - 2
	d := Dict{}
	for {
		l.skipSpace()
		c, ok := l.peek()
		if !ok {
			return nil, &SyntaxError{Offset: start, Msg: "unterminated dictionary"}
		}
		if c == '>' {
			if c2, _ := l.at(l.pos + 1); c2 == '>' {
				l.pos += 2
				return d, nil
			}
			return nil, l.errf("single '>' in dictionary")
		}
		if c != '/' {
			return nil, l.errf("dictionary key is not a name (%q)", c)
		}
		l.pos++
		k, _ := l.name()
		v, err := l.object(depth + 1)
		if err != nil {
			return nil, err
		}
		// Later duplicates win, as in most readers; null values mean "absent".
		if v == nil {
			delete(d, k.(Name))
			continue
		}
		d[k.(Name)] = v
	}
}
