package pdf

import (
	"context"
	"fmt"
	"image"
	"io"
	"math"

	"sealdesk/document"
)

// Regions: where the changes after a signature show on the pages (issue 19, item 3). Every
// finding of the change classification (changes.go) names the object it is about; a locator
// knows, per revision, where each object shows — an annotation or widget (and its appearance
// streams and parent fields) at its /Rect, a page's content streams, resources, fonts and
// XObjects somewhere on that page. Findings about something with a rectangle of its own are
// drawn there; findings about page content are narrowed by a pixel difference of the signed
// revision and the current document rendered by the registered PDF renderer (document/pdfium),
// only for the pages concerned and at a bounded size. Without a renderer, or when the two
// renderings are identical (a change that draws nothing visible), the whole page is marked.

// Bounds of the pixel fallback: at most maxDiffPages page pairs per document are rendered,
// each with its longer side at most diffLongSide pixels.
const (
	maxDiffPages = 8
	diffLongSide = 1000
	diffMaxDPI   = 100
)

// place is where an object shows in one revision: on page (0-based) at box (user space), or
// somewhere on the page (whole) when it is page content.
type place struct {
	page  int
	box   [4]float64
	whole bool
}

type locator struct {
	v      *View
	pages  []Page
	byRef  map[int]int // page object number → index
	places map[int][]place
	budget int
}

func newLocator(v *View) *locator {
	l := &locator{v: v, byRef: map[int]int{}, places: map[int][]place{}, budget: 500_000}
	pages, err := v.Pages()
	if err != nil {
		return l
	}
	l.pages = pages
	for i, p := range pages {
		l.byRef[p.Ref.Num] = i
		l.add(p.Ref.Num, place{page: i, box: p.CropBox, whole: true})
		seen := map[int]bool{}
		for k, val := range p.Dict {
			switch k {
			case "Parent", "Annots", "Metadata", "Thumb", "StructParents", "B", "PieceInfo", "Type":
			default:
				l.deep(val, place{page: i, box: p.CropBox, whole: true}, seen, 0)
			}
		}
		// Inherited resources live on the page tree nodes.
		par := v.Dict(p.Dict["Parent"])
		for d := 0; par != nil && d < 32; d++ {
			if r := par["Resources"]; r != nil {
				l.deep(r, place{page: i, box: p.CropBox, whole: true}, seen, 0)
			}
			par = v.Dict(par["Parent"])
		}
		for _, a := range v.Array(p.Dict["Annots"]) {
			if ar, ok := a.(Ref); ok {
				l.widget(ar, i)
			}
		}
	}
	// Widgets that no page lists but that name their page (/P): viewers differ on whether they
	// draw them, so a change to them is placed there too.
	if cat, _, err := v.Catalog(); err == nil {
		if af := v.Dict(cat["AcroForm"]); af != nil {
			l.fields(v.Array(af["Fields"]), 0)
		}
	}
	return l
}

func (l *locator) fields(kids Array, depth int) {
	if depth > 32 {
		return
	}
	for _, k := range kids {
		r, ok := k.(Ref)
		if !ok || len(l.places[r.Num]) > 0 {
			continue
		}
		d := l.v.Dict(r)
		if d == nil {
			continue
		}
		if pr, ok := d["P"].(Ref); ok && d["Rect"] != nil {
			if i, ok := l.byRef[pr.Num]; ok {
				l.widget(r, i)
			}
		}
		l.fields(l.v.Array(d["Kids"]), depth+1)
	}
}

// widget places an annotation (and its appearances, value and parent fields) at its /Rect on
// page i.
func (l *locator) widget(ar Ref, i int) {
	v := l.v
	d := v.Dict(ar)
	if d == nil {
		return
	}
	pl := place{page: i, box: v.box(d["Rect"], [4]float64{})}
	if pl.box[2]-pl.box[0] <= 0 || pl.box[3]-pl.box[1] <= 0 {
		return // nothing drawn
	}
	l.add(ar.Num, pl)
	aseen := map[int]bool{}
	l.deep(d["AP"], pl, aseen, 0)
	l.deep(d["MK"], pl, aseen, 0)
	if vr, ok := d["V"].(Ref); ok {
		l.add(vr.Num, pl)
	}
	// The fields above a widget show where their widgets are.
	for f, n := d["Parent"], 0; f != nil && n < 16; n++ {
		fr, ok := f.(Ref)
		if !ok {
			break
		}
		l.add(fr.Num, pl)
		fd := v.Dict(fr)
		if fd == nil {
			break
		}
		if vr, ok := fd["V"].(Ref); ok {
			l.add(vr.Num, pl)
		}
		f = fd["Parent"]
	}
}

func (l *locator) add(num int, p place) {
	for _, q := range l.places[num] {
		if q == p {
			return
		}
	}
	l.places[num] = append(l.places[num], p)
}

// deep gives p to everything reachable from o (not following links back up).
func (l *locator) deep(o Object, p place, seen map[int]bool, depth int) {
	if depth > 48 || l.budget <= 0 {
		return
	}
	l.budget--
	if r, ok := o.(Ref); ok {
		if seen[r.Num] {
			return
		}
		seen[r.Num] = true
		l.add(r.Num, p)
		o = l.v.Resolve(r)
	}
	switch x := o.(type) {
	case Dict:
		for k, v := range x {
			if k != "Parent" && k != "P" && k != "Pg" {
				l.deep(v, p, seen, depth+1)
			}
		}
	case *Stream:
		for k, v := range x.Dict {
			if k != "Parent" && k != "P" {
				l.deep(v, p, seen, depth+1)
			}
		}
	case Array:
		for _, v := range x {
			l.deep(v, p, seen, depth+1)
		}
	}
}

// regionKind maps a change code to the kind a reviewer reads.
func regionKind(code string) string {
	switch code {
	case CodeAnnotationAdded:
		return document.ChangeAnnotationAdded
	case CodeAnnotationRemoved:
		return document.ChangeAnnotationRemove
	case CodeAnnotationChanged:
		return document.ChangeAnnotation
	case CodeFormFieldAdded:
		return document.ChangeFormFieldAdded
	case CodeFormFieldRemoved:
		return document.ChangeFormFieldRemoved
	case CodeFormFieldChanged, CodeFieldLocked:
		return document.ChangeFormField
	case CodeFormFilled:
		return document.ChangeFormFilled
	case CodeSigFieldChanged, CodeSSA, CodeSigDictRedefined:
		return document.ChangeSignatureAppear
	case "new-visible-signature", "signature-field-signed":
		return document.ChangeSignatureAdded
	case CodePageChanged:
		return document.ChangePage
	}
	return document.ChangeContent
}

// invisibleChange: allowed findings about things no page shows.
func invisibleChange(f changeFinding) bool {
	switch f.code {
	case "metadata-changed", "catalog-metadata-changed":
		return true
	}
	return false
}

// changeLocator places the findings of every signature of one document; renderings are
// shared between signatures and bounded per document.
type changeLocator struct {
	ctx      context.Context
	rd       *Reader
	final    *locator
	handler  *document.Handler
	docs     map[int64]document.Document // open renderings by revision end
	imgs     map[[2]int64]image.Image    // (revision end, page) → rendering
	rendered int
}

// locateChanges fills ChangedRegions of each signature whose later changes were classified.
// It never fails: what cannot be rendered is marked as a whole page.
func locateChanges(ctx context.Context, rd *Reader, sigs []*sigInfo, rep *document.VerifyReport) {
	var cl *changeLocator
	defer func() {
		if cl != nil {
			for _, d := range cl.docs {
				d.Close()
			}
		}
	}()
	// A later "signature" that does not verify is no signature: the appearance it draws is an
	// unsigned one (the classification took its /V at its word).
	failed := map[int]string{}
	for i, s := range sigs {
		if i < len(rep.Signatures) && rep.Signatures[i].Integrity == document.Failed {
			failed[s.field.Ref.Num] = s.field.Name
			for _, w := range s.field.Widgets {
				failed[w.Num] = s.field.Name
			}
		}
	}
	for i, s := range sigs {
		if s.changes == nil || s.signed == nil || len(s.changes.findings) == 0 || i >= len(rep.Signatures) {
			continue
		}
		for k := range s.changes.findings {
			f := &s.changes.findings[k]
			name, bad := failed[f.num]
			if !bad || !f.allowed || regionKind(f.code) != document.ChangeSignatureAdded {
				continue
			}
			f.allowed, f.code = false, CodeSSA
			f.msg = fmt.Sprintf("the later signature %q draws its appearance (object %d) on the page, but it does not verify", name, f.num)
			sr := &rep.Signatures[i]
			sr.ChangesAfter = document.Disallowed
			sr.AddProblem(CodeSSA, "%s", f.msg)
			sr.Changes = append(sr.Changes, "disallowed: "+f.msg)
		}
		if cl == nil {
			cl = &changeLocator{ctx: ctx, rd: rd, final: newLocator(rd.Final), docs: map[int64]document.Document{}, imgs: map[[2]int64]image.Image{}}
			if h, err := document.HandlerFor(document.PDF); err == nil && h.OpenAt != nil {
				cl.handler = h
			}
		}
		rep.Signatures[i].ChangedRegions = cl.regions(s)
	}
}

func (cl *changeLocator) regions(s *sigInfo) []document.ChangedRegion {
	ls := newLocator(s.signed)
	lf := cl.final
	var out []document.ChangedRegion
	region := func(pg *Page, page int, box [4]float64, f changeFinding, located string, inSigned bool) document.ChangedRegion {
		return document.ChangedRegion{Page: page, Rect: pg.RectFromUser(box), Box: box, Kind: regionKind(f.code), Code: f.code,
			Allowed: f.allowed, Located: located, InSigned: inSigned, What: fmt.Sprintf("object %d", f.num)}
	}
	// Pages added and removed, matched by their page objects; a page object swapped for
	// another at the same place of a document with as many pages is a replaced page, compared
	// by pixels like changed content.
	signedPage := map[int]int{}
	for i, p := range ls.pages {
		signedPage[p.Ref.Num] = i
	}
	replaced := map[int]bool{}
	if len(lf.pages) == len(ls.pages) {
		for i := range lf.pages {
			_, kept := signedPage[lf.pages[i].Ref.Num]
			_, stays := lf.byRef[ls.pages[i].Ref.Num]
			if !kept && !stays {
				signedPage[lf.pages[i].Ref.Num] = i
				replaced[i] = true
			}
		}
	}
	pagesDiffer := false
	for i := range lf.pages {
		p := &lf.pages[i]
		if _, ok := signedPage[p.Ref.Num]; !ok {
			pagesDiffer = true
			out = append(out, document.ChangedRegion{Page: i, Rect: p.RectFromUser(p.CropBox), Box: p.CropBox, Kind: document.ChangePageAdded,
				Code: CodePageChanged, Located: document.LocatedPage, What: fmt.Sprintf("object %d", p.Ref.Num)})
		}
	}
	for i := range ls.pages {
		p := &ls.pages[i]
		if _, ok := lf.byRef[p.Ref.Num]; !ok && !replaced[i] {
			pagesDiffer = true
			out = append(out, document.ChangedRegion{Page: i, Rect: p.RectFromUser(p.CropBox), Box: p.CropBox, Kind: document.ChangePageRemoved,
				Code: CodePageChanged, Located: document.LocatedPage, InSigned: true, What: fmt.Sprintf("object %d", p.Ref.Num)})
		}
	}
	// Pages whose content changed somewhere: narrowed by pixels below.
	var content []changeFinding
	contentPages := map[int]changeFinding{}
	explicit := map[int]bool{} // pages a finding names (not only searched)
	var order []int
	markPage := func(page int, f changeFinding) {
		if g, ok := contentPages[page]; ok && (g.allowed == f.allowed || !g.allowed) {
			return
		}
		if _, ok := contentPages[page]; !ok {
			order = append(order, page)
		}
		contentPages[page] = f
	}
	for _, f := range s.changes.findings {
		if invisibleChange(f) {
			continue
		}
		side := lf
		if f.inSigned {
			side = ls
		}
		places := side.places[f.num]
		if len(places) == 0 && !f.inSigned && f.num > 0 {
			// Gone from what the current pages show (emptied, unlinked): drawn where it was
			// when signed, on the same page of the current document if it is still there.
			for _, p := range ls.places[f.num] {
				fi, kept := lf.byRef[ls.pages[p.page].Ref.Num]
				switch {
				case kept && p.whole:
					explicit[fi] = true
					markPage(fi, f)
				case kept:
					out = append(out, region(&lf.pages[fi], fi, p.box, f, document.LocatedObject, false))
				case p.whole:
					out = append(out, region(&ls.pages[p.page], p.page, ls.pages[p.page].CropBox, f, document.LocatedPage, true))
				default:
					out = append(out, region(&ls.pages[p.page], p.page, p.box, f, document.LocatedObject, true))
				}
			}
			if len(ls.places[f.num]) > 0 {
				continue
			}
		}
		if f.num == 0 || len(places) == 0 {
			if f.code == CodePageChanged && pagesDiffer {
				continue // a page tree node: the pages added or removed are drawn
			}
			if !f.allowed {
				content = append(content, f)
			}
			continue
		}
		for _, p := range places {
			pg := &side.pages[p.page]
			switch {
			case !p.whole:
				out = append(out, region(pg, p.page, p.box, f, document.LocatedObject, f.inSigned))
			case f.inSigned:
				// Content of the signed revision that no longer exists: the signed page it was on.
				out = append(out, region(pg, p.page, pg.CropBox, f, document.LocatedPage, true))
			default:
				if _, ok := signedPage[pg.Ref.Num]; !ok {
					continue // on a page added after signing: drawn as such
				}
				explicit[p.page] = true
				markPage(p.page, f)
			}
		}
	}
	for i := range replaced {
		explicit[i] = true
		pagesDiffer = true
		markPage(i, changeFinding{code: CodePageChanged, msg: "page replaced", num: lf.pages[i].Ref.Num})
	}
	// Changes nobody could place (catalog, trailing objects, an undefined object now defined):
	// look for them on every page both revisions have, within the rendering bound.
	if len(content) > 0 {
		for i := range lf.pages {
			if _, ok := signedPage[lf.pages[i].Ref.Num]; ok {
				markPage(i, content[0])
			}
		}
	}
	for _, i := range order {
		f := contentPages[i]
		pg := &lf.pages[i]
		j := signedPage[pg.Ref.Num]
		boxes, ok := cl.diff(s, j, i)
		if !ok || len(boxes) == 0 {
			if ok && !explicit[i] {
				continue // searched everywhere, and this page looks as signed
			}
			out = append(out, region(pg, i, pg.CropBox, f, document.LocatedPage, false))
			continue
		}
		size := pg.VisibleSize()
		for _, b := range boxes {
			mm := document.Rect{X: b[0] * size.W, Y: b[1] * size.H, W: (b[2] - b[0]) * size.W, H: (b[3] - b[1]) * size.H}
			// A difference an object-located change on this page explains is drawn only there.
			explained := false
			for _, r := range out {
				if !r.InSigned && r.Page == i && r.Located == document.LocatedObject && r.Rect.Grow(2).Contains(mm) {
					explained = true
					break
				}
			}
			if explained {
				continue
			}
			box := pg.RectToUser(mm)
			out = append(out, document.ChangedRegion{Page: i, Rect: mm, Box: box, Kind: regionKind(f.code), Code: f.code,
				Allowed: f.allowed, Located: document.LocatedPixels, What: fmt.Sprintf("object %d", f.num)})
		}
	}
	for k := range out {
		out[k].Rect = roundRect(out[k].Rect)
		for j := range out[k].Box {
			out[k].Box[j] = math.Round(out[k].Box[j]*100) / 100
		}
		if out[k].What == "object 0" {
			out[k].What = ""
		}
	}
	return document.SortRegions(out)
}

func roundRect(r document.Rect) document.Rect {
	q := func(v float64) float64 { return math.Round(v*100) / 100 }
	return document.Rect{X: q(r.X), Y: q(r.Y), W: q(r.W), H: q(r.H)}
}

// diff renders page j of the signed revision and page i of the current document and returns
// where they differ (fractions of the page). ok is false when they could not be rendered.
func (cl *changeLocator) diff(s *sigInfo, j, i int) ([][4]float64, bool) {
	if cl.handler == nil || cl.rendered >= maxDiffPages || cl.ctx.Err() != nil {
		return nil, false
	}
	end := cl.rd.size
	if revs := cl.rd.Revisions(); s.revIndex < len(revs) && revs[s.revIndex].End > 0 {
		end = revs[s.revIndex].End
	}
	a, err := cl.render(end, j)
	if err != nil {
		return nil, false
	}
	b, err := cl.render(cl.rd.size, i)
	if err != nil {
		return nil, false
	}
	cl.rendered++
	return document.DiffBoxes(a, b), true
}

func (cl *changeLocator) render(end int64, page int) (img image.Image, err error) {
	if img, ok := cl.imgs[[2]int64{end, int64(page)}]; ok {
		return img, nil
	}
	defer func() {
		// The renderer runs untrusted input; a failure there must not take verification down.
		if r := recover(); r != nil {
			img, err = nil, fmt.Errorf("rendering page %d: %v", page+1, r)
		}
	}()
	d, ok := cl.docs[end]
	if !ok {
		name := "the signed revision"
		if end == cl.rd.size {
			name = "the document"
		}
		d, err = cl.handler.OpenAt(io.NewSectionReader(cl.rd.r, 0, end), end, name)
		if err != nil {
			return nil, err
		}
		cl.docs[end] = d
	}
	sz, err := d.PageSize(page)
	if err != nil {
		return nil, err
	}
	long := math.Max(sz.W, sz.H) / 25.4 // inches
	dpi := diffMaxDPI * 1.0
	if long > 0 && diffLongSide/long < dpi {
		dpi = diffLongSide / long
	}
	img, err = d.Render(cl.ctx, page, dpi)
	if err != nil {
		return nil, err
	}
	cl.imgs[[2]int64{end, int64(page)}] = img
	return img, nil
}
