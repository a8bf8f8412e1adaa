package ofd

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
)

// Reader is an opened OFD file: its package, OFD.xml, the first document's Document.xml and
// resources, with pages, templates, annotations and signature lists parsed on demand (and
// cached). Only the first DocBody is read, as every known reader does. Safe for concurrent use.
type Reader struct {
	Pkg  *Package
	Root *Root
	Body *DocBody // Root.Bodies[0]
	Doc  *Doc
	Res  *Resources // PublicRes and DocumentRes merged

	closer io.Closer

	mu         sync.Mutex
	pages      map[string]*Page
	pageRes    map[string]*Resources
	annots     map[ID][]Annot
	annotsErr  error
	annotsOK   bool
	fontSets   map[bool]*fonts
	mediaCache map[string]*mediaEntry
	images     imageCache // RGBA forms of decoded images, for raster previews
	fontIssues []FontIssue
	stamps     []Stamp
	stampsOK   bool
	stampsErr  error
}

// Open reads an OFD from r (size bytes). lim may be nil for DefaultLimits.
func Open(r io.ReaderAt, size int64, lim *Limits) (*Reader, error) {
	p, err := OpenPackage(r, size, lim)
	if err != nil {
		return nil, err
	}
	return openPackage(p)
}

// OpenFile opens the OFD file at path; Close releases it.
func OpenFile(path string, lim *Limits) (*Reader, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	rd, err := Open(f, st.Size(), lim)
	if err != nil {
		f.Close()
		return nil, err
	}
	rd.closer = f
	return rd, nil
}

// Close releases the file opened by OpenFile.
func (r *Reader) Close() error {
	if r.closer != nil {
		return r.closer.Close()
	}
	return nil
}

func openPackage(p *Package) (*Reader, error) {
	n, err := p.ReadXML("/OFD.xml")
	if err != nil {
		return nil, err
	}
	root, err := parseRoot(p, n)
	if err != nil {
		return nil, err
	}
	rd := &Reader{Pkg: p, Root: root, Body: &root.Bodies[0], pages: map[string]*Page{}, pageRes: map[string]*Resources{}}
	dn, err := p.ReadXML(rd.Body.DocRoot)
	if err != nil {
		return nil, err
	}
	if rd.Doc, err = parseDoc(p, rd.Body.DocRoot, dn); err != nil {
		return nil, err
	}
	rd.Res = newResources(nil)
	for _, name := range append(append([]string(nil), rd.Doc.PublicRes...), rd.Doc.DocumentRes...) {
		rn, err := p.ReadXML(name)
		if err != nil {
			// A missing or broken resource file leaves objects that use it undrawn; the
			// document still opens (seen: files naming resources they do not ship).
			continue
		}
		if err := rd.Res.addRes(p, name, rn); err != nil {
			continue
		}
	}
	return rd, nil
}

// NumPages is the number of pages of the first document.
func (r *Reader) NumPages() int { return len(r.Doc.Pages) }

// PageIndex returns the 0-based index of the page with ID id, or -1.
func (r *Reader) PageIndex(id ID) int {
	for i, p := range r.Doc.Pages {
		if p.ID == id {
			return i
		}
	}
	return -1
}

// Page parses page i (0-based).
func (r *Reader) Page(i int) (*Page, error) {
	if i < 0 || i >= len(r.Doc.Pages) {
		return nil, fmt.Errorf("page %d does not exist (the document has %d)", i+1, len(r.Doc.Pages))
	}
	pg, err := r.content(r.Doc.Pages[i].Path)
	if err != nil {
		return nil, err
	}
	cp := *pg
	cp.ID = r.Doc.Pages[i].ID
	return &cp, nil
}

// Template parses the template page with ID id.
func (r *Reader) Template(id ID) (*Page, *TemplateRef, error) {
	for i := range r.Doc.Templates {
		t := &r.Doc.Templates[i]
		if t.ID == id {
			pg, err := r.content(t.Path)
			return pg, t, err
		}
	}
	return nil, nil, errorf(r.Doc.Path, ErrMissing, "template page %d is not declared", id)
}

func (r *Reader) content(name string) (*Page, error) {
	r.mu.Lock()
	pg, ok := r.pages[name]
	r.mu.Unlock()
	if ok {
		return pg, nil
	}
	n, err := r.Pkg.ReadXML(name)
	if err != nil {
		return nil, err
	}
	pg, err = parsePage(r.Pkg, name, n)
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	if len(r.pages) >= maxCachedPages {
		// Bounded: a 500-page document searched end to end must not keep every page's tree.
		// Templates are used by many pages and stay.
		for k := range r.pages {
			if !r.isTemplate(k) {
				delete(r.pages, k)
				break
			}
		}
	}
	r.pages[name] = pg
	r.mu.Unlock()
	return pg, nil
}

// maxCachedPages bounds the parsed page and template files a Reader keeps.
const maxCachedPages = 32

func (r *Reader) isTemplate(name string) bool {
	for _, t := range r.Doc.Templates {
		if t.Path == name {
			return true
		}
	}
	return false
}

// PageBox returns the page box of page i: the page's own Area, else the document's PageArea,
// else A4 (210×297), which is what readers do with files that give neither.
func (r *Reader) PageBox(i int) (Box, error) {
	pg, err := r.Page(i)
	if err != nil {
		return Box{}, err
	}
	if b, ok := pg.Area.Box(); ok {
		return b, nil
	}
	if b, ok := r.Doc.PageArea.Box(); ok {
		return b, nil
	}
	return Box{0, 0, 210, 297}, nil
}

// Resources returns the resources visible from a page or template: its PageRes files over the
// document's.
func (r *Reader) Resources(pg *Page) *Resources {
	if len(pg.PageRes) == 0 {
		return r.Res
	}
	key := strings.Join(pg.PageRes, "\x00")
	r.mu.Lock()
	defer r.mu.Unlock()
	if res, ok := r.pageRes[key]; ok {
		return res
	}
	res := newResources(r.Res)
	for _, name := range pg.PageRes {
		if n, err := r.Pkg.ReadXML(name); err == nil {
			_ = res.addRes(r.Pkg, name, n)
		}
	}
	r.pageRes[key] = res
	return res
}

// Signatures reads the signature list. It returns nil, nil when OFD.xml names none, and an
// ErrMissing error when it names a file that is not there (a broken list, seen in real files).
func (r *Reader) Signatures() (*Signatures, error) {
	if r.Body.Signatures == "" {
		return nil, nil
	}
	e, ok := r.Pkg.Lookup(r.Body.Signatures)
	if !ok {
		return nil, errorf(r.Body.Signatures, ErrMissing, "OFD.xml names a signature list that the package does not contain")
	}
	data, err := r.Pkg.ReadFile(e.Name)
	if err != nil {
		return nil, err
	}
	return r.Pkg.ParseSignatures(e.Name, data)
}

// Signature reads the Signature.xml of one list entry.
func (r *Reader) Signature(ref SignatureRef) (*Signature, error) {
	e, ok := r.Pkg.Lookup(ref.Path)
	if !ok {
		return nil, errorf(ref.Path, ErrMissing, "signature %s names a Signature.xml that the package does not contain", ref.ID)
	}
	data, err := r.Pkg.ReadFile(e.Name)
	if err != nil {
		return nil, err
	}
	return r.Pkg.ParseSignature(e.Name, data)
}
