package ofdsig

import (
	"fmt"
	"path"
	"strings"

	"sealdesk/document/ofd"
)

// structure is what signing and verifying need from a package, read with package ofd's read
// model: the first document (every reader handles only the first DocBody) and its signatures.
type structure struct {
	rd        *ofd.Reader
	pkg       *ofd.Package
	sigsPath  string // package path of Signatures.xml (where it is, or where a new one goes)
	sigsErr   error  // Signatures.xml named but missing or unreadable
	list      *ofd.Signatures
	sigs      []*sigEntry
	extraBody bool
}

// sigEntry is one Signature of Signatures.xml with its parsed Signature.xml.
type sigEntry struct {
	index int
	ref   ofd.SignatureRef
	sig   *ofd.Signature
	raw   []byte // Signature.xml bytes as stored: the signed data
	err   error  // Signature.xml missing or malformed
}

func (s *sigEntry) id() string { return s.ref.ID }

// xmlPath is the canonical path of the entry's Signature.xml.
func (s *sigEntry) xmlPath() string {
	if s.sig != nil {
		return s.sig.Path
	}
	return s.ref.Path
}

// refPaths lists the canonical paths the signature's References name.
func (s *sigEntry) refPaths(pkg *ofd.Package) []string {
	if s.sig == nil {
		return nil
	}
	var out []string
	for _, r := range s.sig.References {
		if p := canonical(pkg, r.Path); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// coversPath reports whether the signature's References list the package file p.
func (s *sigEntry) coversPath(pkg *ofd.Package, p string) bool {
	for _, r := range s.refPaths(pkg) {
		if r == p {
			return true
		}
	}
	return false
}

// canonical maps a resolved path to the name of the package entry Lookup finds (case
// fallback); paths of missing files stay as they are.
func canonical(pkg *ofd.Package, p string) string {
	if p == "" {
		return ""
	}
	if e, ok := pkg.Lookup(p); ok {
		return e.Name
	}
	return p
}

// readStructure reads OFD.xml, Document.xml and the signature list. Unreadable signature
// files are recorded on the entries (a verifier reports them per signature); an unreadable
// or missing list is recorded in sigsErr.
func readStructure(rd *ofd.Reader) *structure {
	st := &structure{rd: rd, pkg: rd.Pkg, extraBody: len(rd.Root.Bodies) > 1}
	if rd.Body.Signatures == "" {
		st.sigsPath = path.Join(path.Dir(rd.Body.DocRoot), "Signs", "Signatures.xml")
		return st
	}
	st.sigsPath = canonical(rd.Pkg, rd.Body.Signatures)
	list, err := rd.Signatures()
	if err != nil {
		st.sigsErr = err
		return st
	}
	st.list = list
	for i, ref := range list.List {
		e := &sigEntry{index: i, ref: ref}
		st.sigs = append(st.sigs, e)
		if ref.Path == "" {
			e.err = fmt.Errorf("%s: signature %s: BaseLoc %q escapes the package", st.sigsPath, ref.ID, ref.BaseLoc)
			continue
		}
		ent, ok := rd.Pkg.Lookup(ref.Path)
		if !ok {
			e.err = fmt.Errorf("%s: signature %s names %s, which is missing from the package", st.sigsPath, ref.ID, ref.Path)
			continue
		}
		if e.raw, err = rd.Pkg.ReadFile(ent.Name); err != nil {
			e.err = err
			continue
		}
		if e.sig, err = rd.Pkg.ParseSignature(ent.Name, e.raw); err != nil {
			e.err = err
		}
	}
	return st
}

func (st *structure) sigIDs() []string {
	var out []string
	for _, s := range st.sigs {
		out = append(out, s.id())
	}
	return out
}

func (st *structure) maxSignID() string {
	if st.list == nil {
		return ""
	}
	return strings.TrimSpace(st.list.MaxSignID)
}

// pageIDs lists the page IDs by page index.
func (st *structure) pageIDs() []ofd.ID {
	out := make([]ofd.ID, len(st.rd.Doc.Pages))
	for i, p := range st.rd.Doc.Pages {
		out[i] = p.ID
	}
	return out
}
