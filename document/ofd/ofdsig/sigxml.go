package ofdsig

import (
	"bytes"
	"encoding/base64"
	"encoding/xml"
	"fmt"
	"math"
	"strconv"
	"strings"

	"sealdesk/document"
)

// nsOFD is the namespace SealDesk writes (GB/T 33190-2016).
const nsOFD = "http://www.ofdspec.org/2016"

// Provider identifies SealDesk in Signature.xml.
var Provider = struct{ Name, Version, Company string }{"SealDesk", "1.0", "SealDesk"}

// reference is one protected file and its digest.
type reference struct {
	FileRef    string // absolute package path, "/Doc_0/Document.xml"
	CheckValue []byte
}

// stampAnnot is one seal appearance: page ID, boundary and optional clip, in mm.
type stampAnnot struct {
	ID       string
	PageRef  string
	Boundary document.Rect
	Clip     *document.Rect
}

// signatureXML is what Sign writes into Signature.xml.
type signatureXML struct {
	SignatureMethod string
	DateTime        string
	CheckMethod     string
	References      []reference
	Stamps          []stampAnnot
	SealLoc         string // absolute path of Seal.esl; empty for none
	SignedValueLoc  string // absolute path of SignedValue.dat
}

// marshal serialises Signature.xml in the XSD element order (SignedInfo: Provider,
// SignatureMethod, SignatureDateTime, References, StampAnnot*, Seal; then SignedValue). The
// result is hashed as is and written as is: it is never re-serialised.
func (s *signatureXML) marshal() []byte {
	var b bytes.Buffer
	b.WriteString(xml.Header[:len(xml.Header)-1])
	b.WriteString(`<ofd:Signature xmlns:ofd="` + nsOFD + `"><ofd:SignedInfo>`)
	fmt.Fprintf(&b, `<ofd:Provider ProviderName="%s" Version="%s" Company="%s"/>`,
		attr(Provider.Name), attr(Provider.Version), attr(Provider.Company))
	if s.SignatureMethod != "" {
		b.WriteString(`<ofd:SignatureMethod>` + text(s.SignatureMethod) + `</ofd:SignatureMethod>`)
	}
	if s.DateTime != "" {
		b.WriteString(`<ofd:SignatureDateTime>` + text(s.DateTime) + `</ofd:SignatureDateTime>`)
	}
	b.WriteString(`<ofd:References CheckMethod="` + attr(s.CheckMethod) + `">`)
	for _, r := range s.References {
		b.WriteString(`<ofd:Reference FileRef="` + attr(r.FileRef) + `"><ofd:CheckValue>`)
		b.WriteString(base64.StdEncoding.EncodeToString(r.CheckValue))
		b.WriteString(`</ofd:CheckValue></ofd:Reference>`)
	}
	b.WriteString(`</ofd:References>`)
	for _, st := range s.Stamps {
		fmt.Fprintf(&b, `<ofd:StampAnnot ID="%s" PageRef="%s" Boundary="%s"`, attr(st.ID), attr(st.PageRef), box(st.Boundary))
		if st.Clip != nil {
			fmt.Fprintf(&b, ` Clip="%s"`, box(*st.Clip))
		}
		b.WriteString(`/>`)
	}
	if s.SealLoc != "" {
		b.WriteString(`<ofd:Seal><ofd:BaseLoc>` + text(s.SealLoc) + `</ofd:BaseLoc></ofd:Seal>`)
	}
	b.WriteString(`</ofd:SignedInfo><ofd:SignedValue>` + text(s.SignedValueLoc) + `</ofd:SignedValue></ofd:Signature>`)
	return b.Bytes()
}

// box formats an ST_Box with up to 3 decimals (µm precision is far below what a printer shows).
func box(r document.Rect) string {
	return num(r.X) + " " + num(r.Y) + " " + num(r.W) + " " + num(r.H)
}

func num(f float64) string {
	v := math.Round(f*1000) / 1000
	if v == 0 {
		v = 0 // no "-0"
	}
	return strconv.FormatFloat(v, 'f', -1, 64)
}

// attr escapes an attribute value (xml.EscapeText also escapes quotes).
func attr(s string) string { return text(s) }

func text(s string) string {
	var b strings.Builder
	xml.EscapeText(&b, []byte(s))
	return b.String()
}
