package pdf

import (
	"bytes"
	"fmt"
	"io"
	"sort"

	"sealdesk/document"
)

// Change classification: what later revisions did to a signed document. The signed revision
// and the final document are parsed separately, every object a later cross-reference section
// (re)defines is compared by content with the signed one (so re-pointing an xref entry to an
// object already in the signed bytes counts as a change), and each change is judged by the
// roles of the object in both revisions:
//
//   - always allowed: new signatures (dictionary, field, widget, appearance), DSS and document
//     time-stamps, metadata (Info, XMP, outlines, structure tree);
//   - allowed by DocMDP P=2 (and for approval-only documents, see formFillAllowed): filling in
//     existing form fields (V, AS, AP);
//   - allowed by DocMDP P=3 only: creating, changing or deleting annotations;
//   - never allowed: anything else that changes what pages show — page tree, page
//     dictionaries (except /Annots), content streams, resources, fonts, XObjects, the catalog's
//     other entries, a redefined signature dictionary, changed appearances of signed fields.
//
// Shadow attacks are also caught when the change itself looks harmless: objects that a later
// revision makes visible but that were already hidden in the signed bytes (prepared objects) are
// reported as disallowed.

// Change codes.
const (
	CodePageContentChanged = "pdf.page-content-changed"
	CodePageChanged        = "pdf.page-changed"
	CodeCatalogChanged     = "pdf.catalog-changed"
	CodeAnnotationAdded    = "pdf.annotation-added"
	CodeAnnotationRemoved  = "pdf.annotation-removed"
	CodeAnnotationChanged  = "pdf.annotation-changed"
	CodeFormFieldAdded     = "pdf.form-field-added"
	CodeFormFieldRemoved   = "pdf.form-field-removed"
	CodeFormFieldChanged   = "pdf.form-field-changed"
	CodeFormFilled         = "pdf.form-filled"
	CodeSigFieldChanged    = "pdf.signature-field-changed"
	CodeShadowPrepared     = "pdf.shadow-prepared-object"
	CodeXrefRepointed      = "pdf.xref-repointed"
	CodePermsChanged       = "pdf.docmdp-permissions-changed"
	CodeAcroFormChanged    = "pdf.acroform-changed"
	CodeSSA                = "pdf.signature-appearance-unsigned"
)

type changeFinding struct {
	code    string
	msg     string
	allowed bool
	// num is the object the change is about (0: none in particular), inSigned that it is an
	// object of the signed revision (removed); regions.go places it on a page.
	num      int
	inSigned bool
}

type changeReport struct {
	findings []changeFinding
	later    int // number of later revisions
	// cur is the object being classified: findings made meanwhile are about it.
	cur int
}

func (c *changeReport) add(allowed bool, code, format string, args ...any) {
	c.findings = append(c.findings, changeFinding{code: code, msg: fmt.Sprintf(format, args...), allowed: allowed, num: c.cur})
}

// addAt records a finding about object num (of the signed revision when inSigned).
func (c *changeReport) addAt(num int, inSigned, allowed bool, code, format string, args ...any) {
	c.findings = append(c.findings, changeFinding{code: code, msg: fmt.Sprintf(format, args...), allowed: allowed, num: num, inSigned: inSigned})
}

func (c *changeReport) verdict() string {
	if len(c.findings) == 0 {
		if c.later > 0 {
			return document.Allowed
		}
		return document.None
	}
	for _, f := range c.findings {
		if !f.allowed {
			return document.Disallowed
		}
	}
	return document.Allowed
}

// classifyInto compares the signature's revision with the final document and records the
// verdict, the change list and the problems in sr.
func classifyInto(rd *Reader, s *sigInfo, sr *document.SignatureReport) {
	cr := classify(rd, s)
	s.changes = cr
	v := cr.verdict()
	if sr.ChangesAfter != document.Disallowed {
		sr.ChangesAfter = v
	}
	for _, f := range cr.findings {
		verdict := "allowed"
		if !f.allowed {
			verdict = "disallowed"
			sr.AddProblem(f.code, "%s", f.msg)
		}
		sr.Changes = append(sr.Changes, verdict+": "+f.msg)
	}
}

func classify(rd *Reader, s *sigInfo) *changeReport {
	cr := &changeReport{}
	signed, final := s.signed, rd.Final
	revs := rd.Revisions()
	for _, r := range revs {
		if r.EOF+5 > s.revEnd {
			cr.later++
		}
	}
	trailing := trailingBytes(rd)
	if trailing > 0 {
		// Bytes after the last %%EOF are no revision, but repairing viewers read objects there
		// (an incremental saving attack without a cross-reference section).
		objs := trailingHasObjects(rd)
		cr.add(!objs, CodeTrailingBytes, "%d bytes follow the last %%%%EOF%s", trailing, map[bool]string{true: " and define objects that repairing viewers may show", false: ""}[objs])
	}
	if s.revEnd >= rd.size-int64(trailing) && cr.later == 0 && !final.Repaired {
		return cr
	}
	certP := docMDPPermission(signed)
	gs, gf := buildGraph(signed), buildGraph(final)
	c := &classifier{rd: rd, s: s, signed: signed, final: final, gs: gs, gf: gf, p: certP, cr: cr}
	if c.locks = documentLocks(signed); len(c.locks) > 0 {
		c.namesS = fieldNames(signed)
		for _, l := range c.locks {
			if l.p == 1 {
				c.frozenBy = l.by
			}
		}
	}

	// The catalog itself replaced?
	rs, _ := signed.Trailer["Root"].(Ref)
	rf, _ := final.Trailer["Root"].(Ref)
	if rs != rf {
		cr.add(false, CodeCatalogChanged, "the trailer points to a different document catalog (%v instead of %v)", rf, rs)
	}
	for _, num := range c.candidates() {
		c.object(num)
	}
	c.shadow()
	if cr.later == 0 && final.Repaired && len(cr.findings) == 0 {
		// Bytes after the signed revision that are not a proper revision but that a repairing
		// viewer reads (incremental update without xref).
		return cr
	}
	return cr
}

// trailingBytes counts bytes after the last %%EOF (white space excluded).
func trailingBytes(rd *Reader) int {
	revs := rd.Revisions()
	if len(revs) == 0 {
		return 0
	}
	end := revs[len(revs)-1].End
	if end >= rd.size {
		return 0
	}
	n := rd.size - end
	if n > 1<<20 {
		return int(n)
	}
	b := make([]byte, n)
	rd.r.ReadAt(b, end)
	return len(bytes.TrimSpace(b))
}

// trailingHasObjects reports whether the bytes after the last %%EOF contain "obj" headers.
func trailingHasObjects(rd *Reader) bool {
	revs := rd.Revisions()
	if len(revs) == 0 {
		return false
	}
	end := revs[len(revs)-1].End
	_, err := rd.findForward(end, []byte(" obj"), rd.size-end)
	return err == nil
}

type classifier struct {
	rd             *Reader
	s              *sigInfo
	signed, final  *View
	gs, gf         *graph
	p              int
	cr             *changeReport
	annotsHandled  map[string]bool
	fieldsHandled  map[string]bool
	changedObjects map[int]bool
	// FieldMDP: the locks of the signatures in the signed revision and the field names there.
	locks          []fieldLock
	namesS, namesF map[int]string
	frozenBy       string // a lock with /P 1 (PDF 2.0): no further signature is permitted
}

// candidates lists the object numbers later revisions may have (re)defined.
func (c *classifier) candidates() []int {
	set := map[int]bool{}
	inSigned := map[int64]bool{}
	for _, sec := range c.signed.chain {
		inSigned[sec.Offset] = true
	}
	all := c.final.Repaired || c.signed.Repaired
	if !all && len(c.signed.chain) > 0 {
		found := false
		for _, sec := range c.final.chain {
			if sec.Offset == c.signed.chain[0].Offset {
				found = true
			}
		}
		all = !found
	}
	add := func(sec *xrefSection) {
		for n := range sec.Entries {
			set[n] = true
		}
		if sec.Hybrid != nil {
			for n := range sec.Hybrid.Entries {
				set[n] = true
			}
		}
	}
	for _, sec := range c.final.chain {
		if all || !inSigned[sec.Offset] {
			add(sec)
		}
	}
	if all {
		for _, sec := range c.signed.chain {
			add(sec)
		}
	}
	out := make([]int, 0, len(set))
	for n := range set {
		if n > 0 {
			out = append(out, n)
		}
	}
	sort.Ints(out)
	return out
}

func (c *classifier) object(num int) {
	c.cr.cur = num
	defer func() { c.cr.cur = 0 }()
	es, oks := c.signed.entry(num)
	ef, okf := c.final.entry(num)
	inS := oks && es.Kind != entryFree
	inF := okf && ef.Kind != entryFree
	if inS && inF && es == ef {
		return
	}
	rolesS, rolesF := c.gs.roles[num], c.gf.roles[num]
	if rolesS == 0 && rolesF == 0 {
		return // not part of either document (xref streams, object streams, orphans)
	}
	var oS, oF Object
	if inS {
		oS, _ = c.signed.Get(Ref{Num: num})
	}
	if inF {
		oF, _ = c.final.Get(Ref{Num: num})
	}
	switch {
	case inS && inF:
		if c.same(normalize(oS), normalize(oF)) {
			return
		}
		if ef.Kind == entryInUse && ef.Offset < c.s.revEnd && (es.Kind != entryInUse || ef.Offset != es.Offset) {
			c.cr.add(false, CodeXrefRepointed, "object %d is re-pointed by a later cross-reference to other bytes inside the signed revision (offset %d)", num, ef.Offset)
		}
		c.modified(num, oS, oF, rolesS|rolesF)
	case inF:
		if rolesF == 0 {
			return
		}
		c.added(num, oF, rolesF)
	case inS:
		// Deleted: what referenced it changed too and is judged there.
		if rolesS&visualRoles != 0 && rolesF == 0 {
			c.cr.add(false, CodePageContentChanged, "object %d (%s) was deleted", num, rolesS)
		}
	}
}

// same compares two objects, streams by their raw data.
func (c *classifier) same(a, b Object) bool {
	sa, okA := a.(*Stream)
	sb, okB := b.(*Stream)
	if okA != okB {
		return false
	}
	if !okA {
		return Equal(a, b)
	}
	if !Equal(sa.Dict, sb.Dict) || sa.Length != sb.Length {
		return false
	}
	if sa.Offset == sb.Offset && sa.Data == nil && sb.Data == nil {
		return true
	}
	ra, rb := c.rd.StreamReader(sa), c.rd.StreamReader(sb)
	ba, bb := make([]byte, 32<<10), make([]byte, 32<<10)
	for {
		na, ea := io.ReadFull(ra, ba)
		nb, _ := io.ReadFull(rb, bb)
		if na != nb || !bytes.Equal(ba[:na], bb[:nb]) {
			return false
		}
		if ea != nil {
			return true
		}
	}
}

func (c *classifier) added(num int, o Object, roles role) {
	// A new object matters only through what references it: a changed page, catalog, field or
	// annotation list is judged where the reference changed. The exception is a number the
	// signed revision already referenced but left undefined (null): defining it later changes
	// the signed document without touching any signed object.
	if rs := c.gs.roles[num]; rs != 0 {
		c.cr.add(false, CodePageContentChanged, "object %d was referenced by the signed revision but undefined; a later revision defines it (%s)", num, rs)
		return
	}
	if d, ok := o.(Dict); ok && roles&roleAcroForm != 0 {
		c.acroFormDiff(nil, d)
	}
}

// visualPageKeys are the page (and page tree node) entries that change what the page shows.
var visualPageKeys = map[Name]bool{"Contents": true, "Resources": true, "MediaBox": true, "CropBox": true,
	"Rotate": true, "UserUnit": true, "Group": true, "Parent": true, "AA": true, "Type": true, "Kids": true,
	"Count": true, "VP": true, "Trans": true, "PresSteps": true}

func (c *classifier) modified(num int, oS, oF Object, roles role) {
	dS, _ := asDict(oS)
	dF, _ := asDict(oF)
	switch {
	case roles&(roleContent|roleOther) != 0:
		c.cr.add(false, CodePageContentChanged, "object %d (%s) was changed after signing", num, roles)
		return
	case roles&rolePageTree != 0 && roles&rolePage == 0:
		for _, k := range c.changedKeys(dS, dF) {
			c.cr.add(!visualPageKeys[k], CodePageChanged, "page tree node %d: /%s changed", num, k)
		}
	case roles&roleCatalog != 0:
		c.catalogDiff(dS, dF)
	case roles&rolePage != 0:
		for _, k := range c.changedKeys(dS, dF) {
			if k == "Annots" {
				c.annotsDiff(c.signed.Array(dS["Annots"]), c.final.Array(dF["Annots"]), fmt.Sprintf("page object %d", num))
				continue
			}
			c.cr.add(!visualPageKeys[k], CodePageChanged, "page object %d: /%s changed", num, k)
		}
	case roles&roleAnnots != 0:
		a, _ := oS.(Array)
		b, _ := oF.(Array)
		c.annotsDiff(a, b, fmt.Sprintf("annotation array %d", num))
	case roles&roleAcroForm != 0:
		c.acroFormDiff(dS, dF)
	case roles&roleFields != 0:
		a, _ := oS.(Array)
		b, _ := oF.(Array)
		c.fieldsDiff(a, b)
	case roles&roleSigDict != 0 && c.gs.roles[num]&roleSigDict != 0:
		c.cr.add(false, CodeSigDictRedefined, "signature dictionary %d was redefined after signing", num)
	case roles&roleSigField != 0:
		wasSigned := c.gs.sigSigned[num]
		keys := c.changedKeys(dS, dF)
		signedNow := !wasSigned && c.gf.sigSigned[num]
		if name, by, locked := c.lockedBy(num); locked && signedNow {
			c.cr.add(false, CodeFieldLocked, "signature field %q (object %d) was signed after signature %q locked it (FieldMDP)", name, num, by)
			return
		}
		if signedNow && c.frozenBy != "" {
			c.cr.add(false, CodeFieldLocked, "signature field %d was signed after signature %q locked the document (/P 1)", num, c.frozenBy)
			return
		}
		for _, k := range keys {
			switch {
			case k == "V" && signedNow:
				c.cr.add(true, "signature-field-signed", "signature field %d was signed", num)
			case (k == "AP" || k == "MK" || k == "F" || k == "DA" || k == "DR") && signedNow:
				// signing an existing empty field draws its appearance
			case k == "Lock" || k == "SV" || k == "TU":
			case k == "AP" || k == "MK":
				// Sneaky Signature Attack: a signature field's appearance changes without a
				// signature being made — drawing arbitrary content under a signature's cover.
				c.cr.add(false, CodeSSA, "signature field %d: its appearance /%s changed without the field being signed", num, k)
			default:
				c.cr.add(false, CodeSigFieldChanged, "signature field %d: /%s changed", num, k)
			}
		}
	case roles&roleSigAP != 0:
		owner, ok := c.gs.owner[num]
		if !ok || c.gs.sigSigned[owner] || !c.gf.sigSigned[owner] {
			c.cr.add(false, CodeSigFieldChanged, "the appearance (object %d) of a signature field changed without that field being signed now", num)
		}
	case roles&(roleAnnot|roleAnnotAP) != 0:
		c.cr.add(c.p == 3, CodeAnnotationChanged, "annotation object %d (%s) was changed", num, roles)
	case roles&roleField != 0:
		for _, k := range c.changedKeys(dS, dF) {
			if name, by, locked := c.lockedBy(num); locked {
				c.cr.add(false, CodeFieldLocked, "form field %q (object %d): /%s changed after signature %q locked it (FieldMDP)", name, num, k, by)
				continue
			}
			switch k {
			case "V", "AS", "AP", "RV", "MK", "I":
				c.formFill(fmt.Sprintf("form field %d: /%s changed", num, k))
			default:
				c.cr.add(false, CodeFormFieldChanged, "form field %d: /%s changed", num, k)
			}
		}
	case roles&roleFieldAP != 0:
		if name, by, locked := c.lockedBy(num); locked {
			c.cr.add(false, CodeFieldLocked, "form field %q: its appearance (object %d) changed after signature %q locked it (FieldMDP)", name, num, by)
			return
		}
		c.formFill(fmt.Sprintf("form field appearance object %d changed", num))
	case roles&rolePerms != 0:
		if !Equal(dS["DocMDP"], dF["DocMDP"]) {
			c.cr.add(false, CodePermsChanged, "the certification permissions (/Perms /DocMDP) changed")
		}
	case roles&(roleDSS|roleMeta|roleSigAP|roleSigDict|roleSigField) != 0:
		c.cr.add(true, "metadata-changed", "object %d (%s) changed", num, roles)
	}
}

// deepEqual compares a value of the signed revision with one of the final document,
// resolving references on each side in its own revision.
func (c *classifier) deepEqual(a, b Object, depth int) bool {
	if depth > 12 {
		return Equal(a, b)
	}
	ra, okA := a.(Ref)
	rb, okB := b.(Ref)
	if okA && okB && ra == rb {
		// The same reference: a change of the object itself is judged under its own number.
		return true
	}
	if okA {
		a, _ = c.signed.Get(ra)
	}
	if okB {
		b, _ = c.final.Get(rb)
	}
	switch x := a.(type) {
	case Dict:
		y, ok := b.(Dict)
		if !ok || len(x) != len(y) {
			return false
		}
		for k, v := range x {
			w, ok := y[k]
			if !ok || !c.deepEqual(v, w, depth+1) {
				return false
			}
		}
		return true
	case Array:
		y, ok := b.(Array)
		if !ok || len(x) != len(y) {
			return false
		}
		for i := range x {
			if !c.deepEqual(x[i], y[i], depth+1) {
				return false
			}
		}
		return true
	case *Stream:
		y, ok := b.(*Stream)
		if !ok || !c.deepEqual(x.Dict, y.Dict, depth+1) {
			return false
		}
		return c.same(&Stream{Offset: x.Offset, Length: x.Length, Data: x.Data}, &Stream{Offset: y.Offset, Length: y.Length, Data: y.Data})
	}
	return Equal(a, b)
}

// normalize drops entries viewers ignore, so rewriting them is not a change: the obsolete
// /Name of font dictionaries (ISO 32000-1 9.6.2: "should not be used", PDF 1.0 only).
func normalize(o Object) Object {
	d, ok := o.(Dict)
	if !ok || NameOf(d["Type"]) != "Font" || d["Name"] == nil {
		return o
	}
	n := copyDict(d)
	delete(n, "Name")
	return n
}

func asDict(o Object) (Dict, bool) {
	switch x := o.(type) {
	case Dict:
		return x, true
	case *Stream:
		return x.Dict, true
	}
	return nil, false
}

// changedKeys lists the keys whose values differ between a (signed revision) and b (final),
// comparing through references: a value re-pointed to an equal copy is not a change.
func (c *classifier) changedKeys(a, b Dict) []Name {
	var out []Name
	for k, v := range a {
		if w, ok := b[k]; !ok || !c.deepEqual(v, w, 0) {
			out = append(out, k)
		}
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			out = append(out, k)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

// formFillAllowed: DocMDP P=2 and P=3 allow filling in fields. Approval-only documents are
// treated like P=2 (what ISO 32000 permits after an approval signature unless a FieldMDP lock
// says otherwise) — but shadow checks still flag fill-ins that reveal prepared content.
func (c *classifier) formFillAllowed() bool { return c.p == 2 || c.p == 3 }

func (c *classifier) formFill(msg string) {
	c.cr.add(c.formFillAllowed(), CodeFormFilled, "%s", msg)
}

func (c *classifier) catalogDiff(a, b Dict) {
	for _, k := range c.changedKeys(a, b) {
		switch k {
		case "AcroForm":
			if da, ok := a["AcroForm"].(Dict); ok || a["AcroForm"] == nil {
				db, _ := b["AcroForm"].(Dict)
				if db == nil {
					db = c.final.Dict(b["AcroForm"])
				}
				if da == nil {
					da = c.signed.Dict(a["AcroForm"])
				}
				c.acroFormDiff(da, db)
			} else if _, ok := b["AcroForm"].(Dict); ok {
				c.acroFormDiff(c.signed.Dict(a["AcroForm"]), b["AcroForm"].(Dict))
			}
		case "DSS", "Extensions", "Metadata", "Version", "Lang", "MarkInfo", "StructTreeRoot", "Outlines", "PageLabels", "ViewerPreferences", "PageMode", "PageLayout":
			c.cr.add(true, "catalog-metadata-changed", "catalog /%s changed", k)
		case "Perms":
			pa, pb := c.signed.Dict(a["Perms"]), c.final.Dict(b["Perms"])
			var x, y Object
			if pa != nil {
				x = pa["DocMDP"]
			}
			if pb != nil {
				y = pb["DocMDP"]
			}
			if !Equal(x, y) {
				c.cr.add(false, CodePermsChanged, "the certification permissions (/Perms /DocMDP) changed after signing")
			}
		default:
			c.cr.add(false, CodeCatalogChanged, "catalog /%s changed after signing", k)
		}
	}
}

func (c *classifier) acroFormDiff(a, b Dict) {
	if c.fieldsHandled == nil {
		c.fieldsHandled = map[string]bool{}
	}
	for _, k := range c.changedKeys(a, b) {
		switch k {
		case "Fields":
			c.fieldsDiff(c.signed.Array(a["Fields"]), c.final.Array(b["Fields"]))
		case "SigFlags", "DA", "DR", "NeedAppearances":
		default:
			c.cr.add(false, CodeAcroFormChanged, "AcroForm /%s changed after signing", k)
		}
	}
}

func refSet(a Array) map[Ref]bool {
	out := map[Ref]bool{}
	for _, e := range a {
		if r, ok := e.(Ref); ok {
			out[r] = true
		}
	}
	return out
}

func (c *classifier) fieldsDiff(a, b Array) {
	key := fmt.Sprint(a, b)
	if c.fieldsHandled == nil {
		c.fieldsHandled = map[string]bool{}
	}
	if c.fieldsHandled[key] {
		return
	}
	c.fieldsHandled[key] = true
	sa, sb := refSet(a), refSet(b)
	for r := range sb {
		if sa[r] {
			continue
		}
		if c.gf.roles[r.Num]&roleSigField != 0 {
			if c.frozenBy != "" {
				c.cr.addAt(r.Num, false, false, CodeFieldLocked, "signature field %v was added after signature %q locked the document (/P 1)", r, c.frozenBy)
			}
			continue // a new signature field
		}
		c.cr.addAt(r.Num, false, false, CodeFormFieldAdded, "form field %v was added after signing", r)
	}
	for r := range sa {
		if !sb[r] {
			c.cr.addAt(r.Num, true, false, CodeFormFieldRemoved, "form field %v was removed after signing", r)
		}
	}
}

func (c *classifier) annotsDiff(a, b Array, where string) {
	key := fmt.Sprint(a, b)
	if c.annotsHandled == nil {
		c.annotsHandled = map[string]bool{}
	}
	if c.annotsHandled[key] {
		return
	}
	c.annotsHandled[key] = true
	sa, sb := refSet(a), refSet(b)
	for r := range sb {
		if sa[r] {
			continue
		}
		roles := c.gf.roles[r.Num]
		if roles&roleSigField != 0 {
			if c.visibleWidget(r) && !c.gf.sigSigned[r.Num] {
				c.cr.addAt(r.Num, false, false, CodeSSA, "%s: a new visible but unsigned signature widget %v draws on the page", where, r)
				continue
			}
			if c.visibleWidget(r) {
				// A signed, visible signature is what DocMDP P=2 allows ("signing"); it is listed
				// so a reviewer sees what the later signer drew. Unsigned visible widgets and
				// appearance changes without signing (the Sneaky Signature Attack) are refused
				// above and in modified().
				c.cr.addAt(r.Num, false, true, "new-visible-signature", "%s: a new signed signature widget %v draws its appearance on the page", where, r)
			}
			continue
		}
		d := c.final.Dict(r)
		sub := NameOf(d["Subtype"])
		if roles&roleField != 0 {
			c.cr.addAt(r.Num, false, false, CodeFormFieldAdded, "%s: a form widget %v was added", where, r)
			continue
		}
		c.cr.addAt(r.Num, false, c.p == 3, CodeAnnotationAdded, "%s: a /%s annotation %v was added", where, sub, r)
	}
	for r := range sa {
		if !sb[r] {
			c.cr.addAt(r.Num, true, c.p == 3, CodeAnnotationRemoved, "%s: annotation %v was removed", where, r)
		}
	}
}

// visibleWidget reports whether a widget has a non-empty rectangle and a normal appearance.
func (c *classifier) visibleWidget(r Ref) bool {
	d := c.final.Dict(r)
	if d == nil {
		return false
	}
	rect := c.final.box(d["Rect"], [4]float64{})
	if rect[2]-rect[0] < 1 || rect[3]-rect[1] < 1 {
		return false
	}
	if f, ok := c.final.Num(d["F"]); ok && int(f)&2 != 0 { // Hidden
		return false
	}
	return c.final.Dict(d["AP"]) != nil
}

// shadow flags objects that the final document draws but that the signed revision only
// carried unreferenced: prepared shadow content.
func (c *classifier) shadow() {
	for num, rf := range c.gf.roles {
		if rf&(visualRoles|roleAnnotAP|roleFieldAP|roleAnnot|roleField) == 0 {
			continue
		}
		if c.gs.roles[num] != 0 {
			continue
		}
		ef, ok := c.final.entry(num)
		if !ok || ef.Kind != entryInUse || ef.Offset >= c.s.revEnd {
			continue
		}
		c.cr.addAt(num, false, false, CodeShadowPrepared, "object %d (%s) was already in the signed bytes but unused; a later revision made it part of what the document shows", num, rf)
	}
	// object-stream members defined in signed bytes are covered by the stream's own check
}

// checkCertificationOrder flags a certification signature that is not the first one.
func checkCertificationOrder(rd *Reader, sigs []*sigInfo, rep *document.VerifyReport) {
	first := int64(-1)
	for _, s := range sigs {
		if s.revEnd > 0 && (first < 0 || s.revEnd < first) {
			first = s.revEnd
		}
	}
	for i, s := range sigs {
		if s.dict == nil || s.signed == nil {
			continue
		}
		if docMDPOf(s.signed, s.dict) > 0 && s.revEnd != first {
			rep.Signatures[i].AddProblem(CodeCertificationNotFirst, "a certification signature must be the first signature of the document")
			rep.Signatures[i].ChangesAfter = document.Disallowed
		}
	}
}

// uncovered lists what no signature protects and changes what the document shows: the
// disallowed changes in the bytes after the last intact signed revision (later revisions and
// objects after the last %%EOF). Allowed additions there (DSS, metadata, new empty fields)
// change nothing a reader sees and are not listed.
func uncovered(rd *Reader, last *sigInfo) []string {
	if last == nil {
		return []string{fmt.Sprintf("bytes 0-%d: no signature with intact integrity covers the document", rd.size)}
	}
	if last.revEnd >= rd.size || last.changes == nil {
		return nil
	}
	var out []string
	for _, f := range last.changes.findings {
		if !f.allowed {
			out = append(out, fmt.Sprintf("bytes %d-%d: %s", last.revEnd, rd.size, f.msg))
		}
	}
	return out
}

// widgetPlacement returns the pages and rectangles (mm from the visible top-left) of a field's
// widgets in v.
func widgetPlacement(v *View, f SigField) ([]int, []document.Rect) {
	pages, err := v.Pages()
	if err != nil {
		return nil, nil
	}
	byRef := map[int]int{}
	for i, p := range pages {
		byRef[p.Ref.Num] = i
	}
	var ps []int
	var rs []document.Rect
	for _, w := range f.Widgets {
		d := v.Dict(w)
		if d == nil {
			continue
		}
		rect := v.box(d["Rect"], [4]float64{})
		if rect[2]-rect[0] <= 0 || rect[3]-rect[1] <= 0 {
			continue // invisible
		}
		pi := -1
		if pr, ok := d["P"].(Ref); ok {
			if i, ok := byRef[pr.Num]; ok {
				pi = i
			}
		}
		if pi < 0 {
			// No /P: find the page whose /Annots lists the widget.
			for i, p := range pages {
				for _, a := range v.Array(p.Dict["Annots"]) {
					if ar, ok := a.(Ref); ok && ar == w {
						pi = i
					}
				}
			}
		}
		if pi < 0 {
			continue
		}
		ps = append(ps, pi)
		rs = append(rs, pages[pi].RectFromUser(rect))
	}
	return ps, rs
}
