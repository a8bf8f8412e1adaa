package ofd

import "strings"

// Annot is one annotation of a page (PageAnnot/Annot).
type Annot struct {
	ID         ID
	Type       string // Link | Path | Highlight | Stamp | Watermark
	Subtype    string
	Creator    string
	Visible    bool
	Print      bool
	NoZoom     bool
	NoRotate   bool
	ReadOnly   bool
	Remark     string
	Parameters map[string]string
	// Appearance is the page block drawn in page space at its Boundary; nil when empty.
	Appearance *Node
	Boundary   Box
}

// Annotations returns the annotations of the page with ID pageID (from Annotations.xml and its
// per-page files). A document without annotations gives nil.
func (r *Reader) Annotations(pageID ID) ([]Annot, error) {
	r.mu.Lock()
	if r.annotsOK {
		defer r.mu.Unlock()
		return r.annots[pageID], r.annotsErr
	}
	r.mu.Unlock()
	all, err := r.loadAnnots()
	r.mu.Lock()
	defer r.mu.Unlock()
	r.annots, r.annotsErr, r.annotsOK = all, err, true
	return all[pageID], err
}

func (r *Reader) loadAnnots() (map[ID][]Annot, error) {
	out := map[ID][]Annot{}
	if r.Doc.Annotations == "" {
		return out, nil
	}
	idx, err := r.Pkg.ReadXML(r.Doc.Annotations)
	if err != nil {
		return out, err
	}
	var firstErr error
	for _, pg := range idx.All("Page") {
		id := parseID(pg.Attr("PageID"))
		loc := pg.ChildText("FileLoc")
		if loc == "" {
			continue
		}
		name, err := r.Pkg.Resolve(r.Doc.Annotations, loc)
		if err != nil {
			if firstErr == nil {
				firstErr = err
			}
			continue
		}
		n, err := r.Pkg.ReadXML(name)
		if err != nil {
			if firstErr == nil {
				firstErr = err
			}
			continue
		}
		for _, a := range n.All("Annot") {
			an := Annot{ID: parseID(a.Attr("ID")), Type: a.Attr("Type"), Subtype: a.Attr("Subtype"), Creator: a.Attr("Creator"),
				Visible: parseBool(a.Attr("Visible"), true), Print: parseBool(a.Attr("Print"), true),
				NoZoom: parseBool(a.Attr("NoZoom"), false), NoRotate: parseBool(a.Attr("NoRotate"), false),
				ReadOnly: parseBool(a.Attr("ReadOnly"), true), Remark: a.ChildText("Remark"), Parameters: map[string]string{}}
			for _, p := range a.Child("Parameters").All("Parameter") {
				an.Parameters[p.Attr("Name")] = strings.TrimSpace(p.Text)
			}
			if ap := a.Child("Appearance"); ap != nil && len(ap.Children) > 0 {
				an.Appearance = ap
				an.Boundary, _ = ParseBox(ap.Attr("Boundary"))
			}
			out[id] = append(out[id], an)
		}
	}
	return out, firstErr
}
