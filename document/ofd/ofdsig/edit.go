package ofdsig

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
)

// The signer changes at most two existing files, and only by inserting bytes: OFD.xml gets a
// <Signatures> element when it has none (the one rewrite GM/T 0099 implies, so OFD.xml changes
// once in a document's life), and Signatures.xml gets one <Signature> and an updated
// MaxSignId. Everything else in those files stays byte for byte as the producer wrote it,
// because another producer's signature may cover OFD.xml and a reader may depend on details a
// re-serialisation would lose (prefixes, unknown attributes such as Relative).

// element is where one element sits in a file's bytes.
type element struct {
	local      string
	prefix     string
	startBegin int  // offset of "<name"
	startEnd   int  // offset just after the start tag's ">"
	endBegin   int  // offset of "</name" (== startEnd for a self-closing tag)
	endEnd     int  // offset just after the end tag
	selfClosed bool // <name .../>
}

// scanElements lists the elements at depth 1 and 2 (root = depth 1) with their offsets. It
// uses RawToken so prefixes are seen as written.
func scanElements(data []byte) (root element, children []element, err error) {
	d := xml.NewDecoder(bytes.NewReader(data))
	d.Strict = true
	d.CharsetReader = func(label string, r io.Reader) (io.Reader, error) {
		return nil, fmt.Errorf("XML encoding %q: SealDesk edits only UTF-8 files", label)
	}
	type open struct {
		el    element
		depth int
	}
	var stack []open
	haveRoot := false
	for {
		before := int(d.InputOffset())
		tok, err := d.RawToken()
		if err == io.EOF {
			break
		}
		if err != nil {
			return root, nil, err
		}
		after := int(d.InputOffset())
		switch t := tok.(type) {
		case xml.StartElement:
			el := element{local: t.Name.Local, prefix: t.Name.Space, startBegin: before, startEnd: after}
			el.selfClosed = bytes.HasSuffix(data[before:after], []byte("/>"))
			stack = append(stack, open{el, len(stack) + 1})
		case xml.EndElement:
			if len(stack) == 0 {
				return root, nil, errors.New("unbalanced end element")
			}
			top := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			if top.el.local != t.Name.Local {
				return root, nil, fmt.Errorf("element <%s> closed by </%s>", top.el.local, t.Name.Local)
			}
			el := top.el
			if el.selfClosed {
				el.endBegin, el.endEnd = el.startEnd, el.startEnd
			} else {
				el.endBegin, el.endEnd = before, after
			}
			switch top.depth {
			case 1:
				if haveRoot {
					return root, nil, errors.New("more than one root element")
				}
				root, haveRoot = el, true
			case 2:
				children = append(children, el)
			}
		}
	}
	if !haveRoot {
		return root, nil, errors.New("no root element")
	}
	return root, children, nil
}

func qname(prefix, local string) string {
	if prefix == "" {
		return local
	}
	return prefix + ":" + local
}

// insertAt returns data with ins inserted at offset off.
func insertAt(data []byte, off int, ins string) []byte {
	out := make([]byte, 0, len(data)+len(ins))
	out = append(out, data[:off]...)
	out = append(out, ins...)
	return append(out, data[off:]...)
}

// addSignaturesRef inserts <Signatures>loc</Signatures> as the last child of the first DocBody
// of OFD.xml (its place in the XSD sequence), with the DocBody's own prefix.
func addSignaturesRef(ofdXML []byte, loc string) ([]byte, error) {
	root, children, err := scanElements(ofdXML)
	if err != nil {
		return nil, fmt.Errorf("/OFD.xml: %v", err)
	}
	if root.local != "OFD" {
		return nil, fmt.Errorf("/OFD.xml: root element is <%s>, not <OFD>", root.local)
	}
	for _, c := range children {
		if c.local != "DocBody" {
			continue
		}
		if c.selfClosed {
			return nil, errors.New("/OFD.xml: the DocBody element is empty")
		}
		el := qname(c.prefix, "Signatures")
		return insertAt(ofdXML, c.endBegin, "<"+el+">"+text(loc)+"</"+el+">"), nil
	}
	return nil, errors.New("/OFD.xml: no DocBody element")
}

// signaturesEntry is one Signature element to add to Signatures.xml.
type signaturesEntry struct {
	ID, Type, BaseLoc string
}

// newSignaturesXML makes a Signatures.xml for the first signature of a document.
func newSignaturesXML(maxID string, e signaturesEntry) []byte {
	var b bytes.Buffer
	b.WriteString(xml.Header[:len(xml.Header)-1])
	b.WriteString(`<ofd:Signatures xmlns:ofd="` + nsOFD + `"><ofd:MaxSignId>` + text(maxID) + `</ofd:MaxSignId>`)
	fmt.Fprintf(&b, `<ofd:Signature ID="%s" Type="%s" BaseLoc="%s"/>`, attr(e.ID), attr(e.Type), attr(e.BaseLoc))
	b.WriteString(`</ofd:Signatures>`)
	return b.Bytes()
}

// appendSignature adds e to an existing Signatures.xml after its last child and sets MaxSignId
// (replacing its text, or adding the element first when absent), with the root's prefix.
func appendSignature(data []byte, maxID string, e signaturesEntry) ([]byte, error) {
	root, children, err := scanElements(data)
	if err != nil {
		return nil, err
	}
	if root.local != "Signatures" {
		return nil, fmt.Errorf("root element is <%s>, not <Signatures>", root.local)
	}
	p := root.prefix
	sig := fmt.Sprintf(`<%s ID="%s" Type="%s" BaseLoc="%s"/>`, qname(p, "Signature"), attr(e.ID), attr(e.Type), attr(e.BaseLoc))
	maxEl := "<" + qname(p, "MaxSignId") + ">" + text(maxID) + "</" + qname(p, "MaxSignId") + ">"
	if root.selfClosed {
		// <ofd:Signatures xmlns:ofd="…"/>: reopen it.
		open := bytes.TrimRight(data[root.startBegin:root.startEnd-2], " \t\r\n")
		out := append([]byte{}, data[:root.startBegin]...)
		out = append(out, open...)
		out = append(out, '>')
		out = append(out, maxEl+sig+"</"+qname(p, "Signatures")+">"...)
		return append(out, data[root.startEnd:]...), nil
	}
	var maxSign *element
	for i := range children {
		if children[i].local == "MaxSignId" {
			maxSign = &children[i]
		}
	}
	// Insert the Signature first (it is later in the file), then fix MaxSignId, so that the
	// earlier offsets stay valid.
	out := insertAt(data, root.endBegin, sig)
	if maxSign == nil {
		return insertAt(out, root.startEnd, maxEl), nil
	}
	if maxSign.selfClosed {
		repl := append([]byte{}, out[:maxSign.startBegin]...)
		repl = append(repl, maxEl...)
		return append(repl, out[maxSign.endEnd:]...), nil
	}
	repl := append([]byte{}, out[:maxSign.startEnd]...)
	repl = append(repl, text(maxID)...)
	return append(repl, out[maxSign.endBegin:]...), nil
}
