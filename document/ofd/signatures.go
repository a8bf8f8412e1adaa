package ofd

import (
	"encoding/base64"
	"fmt"
	"strings"
)

// Signatures is Signatures.xml: the list of a document's signatures.
type Signatures struct {
	Path      string // canonical path of Signatures.xml
	MaxSignID string
	List      []SignatureRef
	Node      *Node
}

// SignatureRef is one Signatures/Signature entry.
type SignatureRef struct {
	ID       string // kept as text: real files use "1", "01", "s006"
	Type     string // "Seal" (the default when absent) or "Sign"
	BaseLoc  string // as written
	Path     string // canonical path of its Signature.xml ("" when BaseLoc escapes the root)
	Relative string // "OFD 2.0": ID of a base signature
}

// ParseSignatures parses Signatures.xml bytes; name is its canonical path (BaseLocs are
// relative to its directory).
func (p *Package) ParseSignatures(name string, data []byte) (*Signatures, error) {
	n, err := ParseXML(name, data, &p.limits)
	if err != nil {
		return nil, err
	}
	if n.Name != "Signatures" {
		return nil, errorf(name, ErrMalformed, "root element is <%s>, not <Signatures>", n.Name)
	}
	s := &Signatures{Path: name, MaxSignID: n.ChildText("MaxSignId"), Node: n}
	for _, c := range n.All("Signature") {
		ref := SignatureRef{ID: c.Attr("ID"), Type: c.Attr("Type"), BaseLoc: c.Attr("BaseLoc"), Relative: c.Attr("Relative")}
		if ref.Type == "" {
			ref.Type = "Seal"
		}
		if ref.BaseLoc == "" {
			return nil, errorf(name, ErrMalformed, "signature %q has no BaseLoc", ref.ID)
		}
		if ref.Path, err = p.Resolve(name, ref.BaseLoc); err != nil {
			return nil, err
		}
		s.List = append(s.List, ref)
	}
	return s, nil
}

// Signature is Signature.xml. Verifiers digest its stored bytes (Package.ReadFile), never a
// re-serialisation of this model.
type Signature struct {
	Path              string // canonical path of Signature.xml
	Provider          Provider
	SignatureMethod   string
	SignatureDateTime string
	Parameters        []Parameter
	CheckMethod       string // as written; "" when absent (the XSD default is MD5)
	References        []Reference
	StampAnnots       []StampAnnot
	SealLoc           string // Seal/BaseLoc as written, "" when there is no Seal element
	SealPath          string // canonical path of the seal file, "" when none
	SignedValueLoc    string // as written
	SignedValuePath   string // canonical path of the signed value file
	Node              *Node
}

// Provider is SignedInfo/Provider (attributes, or child elements as one vendor writes them).
type Provider struct {
	Name, Version, Company, ProtocolVer string
}

// Parameter is a SignedInfo/Parameters/Parameter (GM/T 0099 Annex B).
type Parameter struct{ Name, Type, Value string }

// Reference is one References/Reference.
type Reference struct {
	FileRef    string // as written
	Path       string // canonical path ("" when FileRef escapes the root)
	CheckValue []byte // decoded base64; nil when CheckValueText is not valid base64
	// CheckValueText is the element's text, trimmed.
	CheckValueText string
}

// StampAnnot is a SignedInfo/StampAnnot: where the seal picture is drawn.
type StampAnnot struct {
	ID       string
	PageRef  ID  // page ID (Document.xml Pages/Page@ID), not an index
	Boundary Box // page millimetres
	Clip     *Box
}

// ParseSignature parses Signature.xml bytes; name is its canonical path (relative SignedValue
// and Seal BaseLoc resolve against its directory). FileRefs are package paths: a relative one
// is taken from the package root, as every reader in the wild does.
func (p *Package) ParseSignature(name string, data []byte) (*Signature, error) {
	n, err := ParseXML(name, data, &p.limits)
	if err != nil {
		return nil, err
	}
	if n.Name != "Signature" {
		return nil, errorf(name, ErrMalformed, "root element is <%s>, not <Signature>", n.Name)
	}
	s := &Signature{Path: name, Node: n}
	si := n.Child("SignedInfo")
	if si == nil {
		return nil, errorf(name, ErrMalformed, "no SignedInfo")
	}
	if pv := si.Child("Provider"); pv != nil {
		s.Provider = Provider{Name: pv.Attr("ProviderName"), Version: pv.Attr("Version"), Company: pv.Attr("Company"), ProtocolVer: pv.Attr("ProtocolVer")}
		if s.Provider.Name == "" {
			s.Provider.Name = pv.ChildText("ProviderName")
		}
		if s.Provider.Version == "" {
			s.Provider.Version = pv.ChildText("Version")
		}
		if s.Provider.Company == "" {
			s.Provider.Company = pv.ChildText("Company")
		}
	}
	s.SignatureMethod = si.ChildText("SignatureMethod")
	s.SignatureDateTime = si.ChildText("SignatureDateTime")
	for _, pa := range si.Child("Parameters").All("Parameter") {
		s.Parameters = append(s.Parameters, Parameter{Name: pa.Attr("Name"), Type: pa.Attr("Type"), Value: strings.TrimSpace(pa.Text)})
	}
	refs := si.Child("References")
	s.CheckMethod = strings.TrimSpace(refs.Attr("CheckMethod"))
	for _, r := range refs.All("Reference") {
		ref := Reference{FileRef: r.Attr("FileRef"), CheckValueText: r.ChildText("CheckValue")}
		if ref.FileRef == "" {
			return nil, errorf(name, ErrMalformed, "a Reference has no FileRef")
		}
		if v, err := p.Resolve("/", ref.FileRef); err == nil {
			ref.Path = v
		}
		if v, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(ref.CheckValueText), "")); err == nil {
			ref.CheckValue = v
		}
		s.References = append(s.References, ref)
	}
	for _, a := range si.All("StampAnnot") {
		st := StampAnnot{ID: a.Attr("ID"), PageRef: parseID(a.Attr("PageRef"))}
		if st.Boundary, err = ParseBox(a.Attr("Boundary")); err == nil && (st.Boundary.W < 0 || st.Boundary.H < 0) {
			err = fmt.Errorf("box %q: negative size", a.Attr("Boundary"))
		}
		if err != nil {
			return nil, errorf(name, ErrMalformed, "StampAnnot %q Boundary: %v", st.ID, err)
		}
		if c := a.Attr("Clip"); strings.TrimSpace(c) != "" {
			b, err := ParseBox(c)
			if err == nil && (b.W < 0 || b.H < 0) {
				err = fmt.Errorf("box %q: negative size", c)
			}
			if err != nil {
				return nil, errorf(name, ErrMalformed, "StampAnnot %q Clip: %v", st.ID, err)
			}
			st.Clip = &b
		}
		s.StampAnnots = append(s.StampAnnots, st)
	}
	if seal := si.Child("Seal"); seal != nil {
		s.SealLoc = seal.ChildText("BaseLoc")
		if s.SealLoc != "" {
			if s.SealPath, err = p.Resolve(name, s.SealLoc); err != nil {
				return nil, err
			}
		}
	}
	s.SignedValueLoc = n.ChildText("SignedValue")
	if s.SignedValueLoc == "" {
		return nil, errorf(name, ErrMalformed, "no SignedValue")
	}
	if s.SignedValuePath, err = p.Resolve(name, s.SignedValueLoc); err != nil {
		return nil, err
	}
	return s, nil
}
