package ofd

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"

	"golang.org/x/text/encoding/simplifiedchinese"
)

// Node is one XML element with namespaces dropped: OFD files use "http://www.ofdspec.org/2016",
// "http://www.ofdspec.org" and no namespace at all for the same elements, so everything here
// matches on local names. Children keep document order (paint order depends on it).
type Node struct {
	Name     string
	Attrs    []xml.Attr // Name.Local only is meaningful
	Children []*Node
	Text     string // character data directly inside the element, concatenated
}

// Attr returns the attribute with local name name, or "".
func (n *Node) Attr(name string) string {
	if n == nil {
		return ""
	}
	for _, a := range n.Attrs {
		if a.Name.Local == name {
			return a.Value
		}
	}
	return ""
}

// HasAttr reports whether the attribute is present.
func (n *Node) HasAttr(name string) bool {
	if n == nil {
		return false
	}
	for _, a := range n.Attrs {
		if a.Name.Local == name {
			return true
		}
	}
	return false
}

// Child returns the first child element named name, or nil.
func (n *Node) Child(name string) *Node {
	if n == nil {
		return nil
	}
	for _, c := range n.Children {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// All returns every child element named name, in order.
func (n *Node) All(name string) []*Node {
	if n == nil {
		return nil
	}
	var out []*Node
	for _, c := range n.Children {
		if c.Name == name {
			out = append(out, c)
		}
	}
	return out
}

// ChildText returns the trimmed text of the first child named name, or "".
func (n *Node) ChildText(name string) string {
	return strings.TrimSpace(n.Child(name).text())
}

func (n *Node) text() string {
	if n == nil {
		return ""
	}
	return n.Text
}

// ParseXML parses one XML file of a package into a Node tree within the limits. name is the
// file's package path, used in errors. DTDs (and with them every entity trick) are refused:
// encoding/xml never expands external entities, and OFD has no use for internal ones either.
func ParseXML(name string, data []byte, lim *Limits) (*Node, error) {
	l := DefaultLimits
	if lim != nil {
		l = lim.withDefaults()
	}
	if int64(len(data)) > l.MaxXMLSize {
		return nil, errorf(name, ErrXMLTooLarge, "%d bytes, more than the limit of %d", len(data), l.MaxXMLSize)
	}
	d := xml.NewDecoder(bytes.NewReader(data))
	d.Strict = true
	d.CharsetReader = charsetReader
	var root *Node
	var stack []*Node
	elements := 0
	for {
		tok, err := d.RawToken()
		if err == io.EOF {
			break
		}
		if err != nil {
			var se *xml.SyntaxError
			if errors.As(err, &se) && strings.Contains(se.Msg, "entity") {
				return nil, errorf(name, ErrXMLEntity, "line %d: %s", se.Line, se.Msg)
			}
			return nil, errorf(name, ErrMalformed, "%v", err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			elements++
			if elements > l.MaxXMLElement {
				return nil, errorf(name, ErrXMLTooLarge, "more than %d elements", l.MaxXMLElement)
			}
			if len(stack) >= l.MaxXMLDepth {
				return nil, errorf(name, ErrXMLTooDeep, "elements nest more than %d levels deep", l.MaxXMLDepth)
			}
			n := &Node{Name: t.Name.Local}
			for _, a := range t.Attr {
				if a.Name.Space == "xmlns" || (a.Name.Space == "" && a.Name.Local == "xmlns") {
					continue
				}
				n.Attrs = append(n.Attrs, xml.Attr{Name: xml.Name{Local: a.Name.Local}, Value: a.Value})
			}
			if len(stack) == 0 {
				if root != nil {
					return nil, errorf(name, ErrMalformed, "more than one root element")
				}
				root = n
			} else {
				p := stack[len(stack)-1]
				p.Children = append(p.Children, n)
			}
			stack = append(stack, n)
		case xml.EndElement:
			if len(stack) == 0 {
				return nil, errorf(name, ErrMalformed, "unexpected end element %s", t.Name.Local)
			}
			// RawToken does not check nesting (Token would, but it also rewrites namespaces).
			if top := stack[len(stack)-1]; top.Name != t.Name.Local {
				return nil, errorf(name, ErrMalformed, "element <%s> closed by </%s>", top.Name, t.Name.Local)
			}
			stack = stack[:len(stack)-1]
		case xml.CharData:
			if len(stack) > 0 {
				stack[len(stack)-1].Text += string(t)
			}
		case xml.Directive:
			if bytes.HasPrefix(bytes.TrimSpace(t), []byte("DOCTYPE")) || bytes.Contains(t, []byte("ENTITY")) {
				return nil, errorf(name, ErrXMLEntity, "a DTD (<!%s…>) is not allowed in OFD files", firstWord(t))
			}
		}
	}
	if root == nil {
		return nil, errorf(name, ErrMalformed, "no root element")
	}
	if len(stack) != 0 {
		return nil, errorf(name, ErrMalformed, "unexpected end of file inside <%s>", stack[len(stack)-1].Name)
	}
	return root, nil
}

func firstWord(b []byte) string {
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return ""
	}
	return f[0]
}

func charsetReader(label string, input io.Reader) (io.Reader, error) {
	switch strings.ToLower(label) {
	case "utf-8", "utf8", "us-ascii", "ascii":
		return input, nil
	case "gbk", "gb2312", "gb18030", "cp936":
		return simplifiedchinese.GB18030.NewDecoder().Reader(input), nil
	}
	return nil, fmt.Errorf("unsupported XML encoding %q", label)
}

// ReadXML reads a package file (after Lookup) and parses it within the limits.
func (p *Package) ReadXML(name string) (*Node, error) {
	e, ok := p.Lookup(name)
	if !ok {
		return nil, errorf(name, ErrMissing, "no such file in the package")
	}
	if e.Size > p.limits.MaxXMLSize {
		return nil, errorf(name, ErrXMLTooLarge, "%d bytes, more than the limit of %d", e.Size, p.limits.MaxXMLSize)
	}
	data, err := p.readEntry(e, p.limits.MaxXMLSize)
	if err != nil {
		return nil, err
	}
	return ParseXML(e.Name, data, &p.limits)
}
