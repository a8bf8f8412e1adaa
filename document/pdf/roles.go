package pdf

// Roles: what each object does in a revision, found by walking the object graph from the
// catalog. The verifier classifies a change by the roles of the changed object, so that a new
// signature widget is told apart from a new page content stream even when both are "just a
// new object".

type role uint32

const (
	roleCatalog  role = 1 << iota
	rolePageTree      // intermediate /Pages nodes
	rolePage          // page dictionaries
	roleContent       // page content streams, resources and everything they draw
	roleAnnots        // an indirect /Annots array
	roleAnnot         // a non-widget annotation
	roleAnnotAP       // appearance streams of non-widget annotations
	roleSigField      // signature fields and their widgets
	roleSigAP         // appearance streams of signature widgets
	roleField         // other form fields and widgets
	roleFieldAP       // their appearances (and /DR)
	roleAcroForm      // the AcroForm dictionary
	roleFields        // indirect /Fields or /Kids arrays
	roleSigDict       // signature dictionaries
	roleDSS           // document security store (validation data)
	rolePerms         // /Perms
	roleMeta          // metadata, Info, outlines, structure tree: not drawn on pages
	roleOther         // reachable through catalog entries we do not classify (actions, names, optional content)
)

// visualRoles change what a page shows when their objects change.
const visualRoles = rolePageTree | rolePage | roleContent | roleOther

var roleNames = []string{"catalog", "page tree", "page", "page content", "annotation list", "annotation",
	"annotation appearance", "signature field", "signature appearance", "form field", "form field appearance",
	"AcroForm", "field list", "signature dictionary", "DSS", "permissions", "metadata", "document-level object"}

func (r role) String() string {
	s := ""
	for i, n := range roleNames {
		if r&(1<<i) != 0 {
			if s != "" {
				s += ", "
			}
			s += n
		}
	}
	if s == "" {
		return "unreferenced object"
	}
	return s
}

type graph struct {
	v     *View
	roles map[int]role
	// owner maps appearance objects to the signature field that uses them.
	owner map[int]int
	// sigSigned tells, per signature field object, whether it had a /V in this view.
	sigSigned map[int]bool
	budget    int
}

func buildGraph(v *View) *graph {
	g := &graph{v: v, roles: map[int]role{}, owner: map[int]int{}, sigSigned: map[int]bool{}, budget: 2_000_000}
	if info, ok := v.Trailer["Info"]; ok {
		g.deep(info, roleMeta, 0, -1)
	}
	root, ok := v.Trailer["Root"].(Ref)
	if !ok {
		return g
	}
	g.mark(root, roleCatalog)
	cat := v.Dict(root)
	for k, val := range cat {
		switch k {
		case "Type":
		case "Pages":
			g.pageTree(val, 0)
		case "AcroForm":
			g.acroForm(val)
		case "DSS":
			g.deep(val, roleDSS, 0, -1)
		case "Perms":
			g.mark(val, rolePerms)
			for pk, pv := range v.Dict(val) {
				if pk == "DocMDP" || pk == "UR3" || pk == "UR" {
					g.mark(pv, roleSigDict)
				}
			}
		case "Metadata", "StructTreeRoot", "MarkInfo", "Lang", "Outlines", "PageLabels", "ViewerPreferences",
			"PageMode", "PageLayout", "Threads", "Extensions", "Version", "Legal", "PieceInfo", "Dests", "SpiderInfo":
			g.deep(val, roleMeta, 0, -1)
		default:
			g.deep(val, roleOther, 0, -1)
		}
	}
	return g
}

// mark adds r to the roles of o (when o is a reference) and reports whether it was new.
func (g *graph) mark(o Object, r role) bool {
	ref, ok := o.(Ref)
	if !ok {
		return true
	}
	if g.roles[ref.Num]&r != 0 {
		return false
	}
	g.roles[ref.Num] |= r
	return true
}

// deep marks everything reachable from o with role r (not following back-links to parents).
func (g *graph) deep(o Object, r role, depth int, owner int) {
	if depth > 64 || g.budget <= 0 {
		return
	}
	g.budget--
	if ref, ok := o.(Ref); ok {
		if g.roles[ref.Num]&r != 0 {
			return
		}
		o = g.v.Resolve(ref)
		// Pages, annotations and signature dictionaries have roles of their own (given by the
		// page tree, /Annots and the fields); a link to them from elsewhere (an OpenAction
		// destination, the structure tree) must not pull the whole page into another role.
		if d, ok := o.(Dict); ok {
			switch NameOf(d["Type"]) {
			case "Page", "Pages", "Annot", "Sig", "DocTimeStamp":
				return
			}
			if d["Subtype"] != nil && d["Rect"] != nil {
				return // an annotation without /Type
			}
		}
		g.mark(ref, r)
		if owner >= 0 {
			g.owner[ref.Num] = owner
		}
	}
	switch x := o.(type) {
	case Dict:
		for k, v := range x {
			if k == "Parent" || k == "P" || k == "Pg" {
				continue
			}
			g.deep(v, r, depth+1, owner)
		}
	case *Stream:
		for k, v := range x.Dict {
			if k == "Parent" || k == "P" {
				continue
			}
			g.deep(v, r, depth+1, owner)
		}
	case Array:
		for _, v := range x {
			g.deep(v, r, depth+1, owner)
		}
	}
}

func (g *graph) pageTree(o Object, depth int) {
	if depth > 64 {
		return
	}
	ref, _ := o.(Ref)
	d := g.v.Dict(o)
	if d == nil {
		return
	}
	kids, isNode := g.v.Resolve(d["Kids"]).(Array)
	if NameOf(d["Type"]) == "Page" || (!isNode && NameOf(d["Type"]) != "Pages") {
		if !g.mark(ref, rolePage) {
			return
		}
		for k, v := range d {
			switch k {
			case "Parent", "Type":
			case "Annots":
				g.annots(v)
			case "Metadata", "PieceInfo", "StructParents", "Tabs", "Thumb":
				g.deep(v, roleMeta, 0, -1)
			default:
				g.deep(v, roleContent, 0, -1)
			}
		}
		return
	}
	if !g.mark(ref, rolePageTree) {
		return
	}
	if kr, ok := d["Kids"].(Ref); ok {
		g.mark(kr, rolePageTree)
	}
	for k, v := range d {
		switch k {
		case "Kids", "Parent", "Type", "Count":
		default:
			g.deep(v, roleContent, 0, -1) // inherited Resources, MediaBox, ...
		}
	}
	for _, k := range kids {
		g.pageTree(k, depth+1)
	}
}

// isSigWidget reports whether an annotation is a widget of a signature field (FT inherited).
func (g *graph) fieldType(d Dict) Name {
	for i := 0; d != nil && i < 16; i++ {
		if ft := NameOf(g.v.Resolve(d["FT"])); ft != "" {
			return ft
		}
		d = g.v.Dict(d["Parent"])
	}
	return ""
}

func (g *graph) annots(o Object) {
	g.mark(o, roleAnnots)
	for _, a := range g.v.Array(o) {
		d := g.v.Dict(a)
		if d == nil {
			continue
		}
		if NameOf(d["Subtype"]) == "Widget" || d["FT"] != nil {
			if g.fieldType(d) == "Sig" {
				g.sigWidget(a, d)
			} else {
				g.mark(a, roleField)
				g.deep(d["AP"], roleFieldAP, 0, -1)
				g.deep(d["MK"], roleFieldAP, 0, -1)
			}
			continue
		}
		g.mark(a, roleAnnot)
		for k, v := range d {
			switch k {
			case "P", "Parent", "Popup", "IRT":
			default:
				g.deep(v, roleAnnotAP, 0, -1)
			}
		}
	}
}

func (g *graph) sigWidget(a Object, d Dict) {
	g.mark(a, roleSigField)
	owner := -1
	if r, ok := a.(Ref); ok {
		owner = r.Num
		g.sigSigned[r.Num] = g.hasValue(d)
	}
	g.deep(d["AP"], roleSigAP, 0, owner)
	g.deep(d["MK"], roleSigAP, 0, owner)
}

func (g *graph) hasValue(d Dict) bool {
	for i := 0; d != nil && i < 16; i++ {
		if d["V"] != nil {
			return true
		}
		if d["T"] != nil && d["FT"] != nil {
			return false
		}
		d = g.v.Dict(d["Parent"])
	}
	return false
}

func (g *graph) acroForm(o Object) {
	g.mark(o, roleAcroForm)
	d := g.v.Dict(o)
	for k, v := range d {
		switch k {
		case "Fields":
			g.mark(v, roleFields)
			for _, f := range g.v.Array(v) {
				g.field(f, "", 0)
			}
		case "DR", "DA", "Q", "SigFlags", "NeedAppearances", "CO":
			g.deep(v, roleFieldAP, 0, -1)
		default: // XFA and unknown keys draw content in some viewers
			g.deep(v, roleOther, 0, -1)
		}
	}
}

func (g *graph) field(o Object, ft Name, depth int) {
	if depth > 32 {
		return
	}
	d := g.v.Dict(o)
	if d == nil {
		return
	}
	if f := NameOf(g.v.Resolve(d["FT"])); f != "" {
		ft = f
	}
	if ft == "Sig" {
		if !g.mark(o, roleSigField) {
			return
		}
		owner := -1
		if r, ok := o.(Ref); ok {
			owner = r.Num
			g.sigSigned[r.Num] = g.hasValue(d)
		}
		// Only the dictionary itself: its /Reference /Data points back at the catalog.
		g.mark(d["V"], roleSigDict)
		g.deep(d["AP"], roleSigAP, 0, owner)
		g.deep(d["Lock"], roleSigField, 0, -1)
		g.deep(d["SV"], roleSigField, 0, -1)
	} else {
		if !g.mark(o, roleField) {
			return
		}
		g.deep(d["AP"], roleFieldAP, 0, -1)
		g.deep(d["V"], roleField, 0, -1)
		g.deep(d["MK"], roleFieldAP, 0, -1)
		g.deep(d["DR"], roleFieldAP, 0, -1)
		g.deep(d["AA"], roleOther, 0, -1)
		g.deep(d["A"], roleOther, 0, -1)
	}
	if kids := d["Kids"]; kids != nil {
		g.mark(kids, roleFields)
		for _, k := range g.v.Array(kids) {
			g.field(k, ft, depth+1)
		}
	}
}
