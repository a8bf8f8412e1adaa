package ofd

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// ID is an OFD object identifier (ST_ID / ST_RefID). 0 means "none".
type ID uint32

func parseID(s string) ID {
	v, err := strconv.ParseUint(strings.TrimSpace(s), 10, 32)
	if err != nil {
		return 0
	}
	return ID(v)
}

// Box is an ST_Box "x y w h" in millimetres.
type Box struct{ X, Y, W, H float64 }

// ParseBox parses an ST_Box. Commas are accepted as separators, as some producers write them.
// A negative width or height is kept as written: producers write right-aligned text as
// Boundary="162.5 58 -6 5" with TextCode X="-6", so the object's origin stays at (x, y) and the
// box extends to the left (Normalized gives the area). Callers that need a positive size (page
// areas, stamps) check it themselves.
func ParseBox(s string) (Box, error) {
	v, err := ParseFloats(s)
	if err != nil {
		return Box{}, err
	}
	if len(v) != 4 {
		return Box{}, fmt.Errorf("box %q: want 4 numbers, have %d", s, len(v))
	}
	return Box{v[0], v[1], v[2], v[3]}, nil
}

// Empty reports whether b has no area (a negative size counts as none: page and stamp boxes).
func (b Box) Empty() bool { return b.W <= 0 || b.H <= 0 }

// Normalized returns the same area with a non-negative width and height.
func (b Box) Normalized() Box {
	if b.W < 0 {
		b.X, b.W = b.X+b.W, -b.W
	}
	if b.H < 0 {
		b.Y, b.H = b.Y+b.H, -b.H
	}
	return b
}

// ParseFloats parses an ST_Array of numbers (spaces or commas). NaN and infinities are refused.
func ParseFloats(s string) ([]float64, error) {
	return parseNumbers(s, false)
}

// parseNumbers parses an ST_Array; with hex, "#ee" is the hexadecimal integer 0xee (colour
// values, GB/T 33190 §8.3.2: "#ee #20 #25").
func parseNumbers(s string, hex bool) ([]float64, error) {
	f := strings.FieldsFunc(s, func(r rune) bool { return r == ' ' || r == ',' || r == '\t' || r == '\n' || r == '\r' })
	out := make([]float64, 0, len(f))
	for _, w := range f {
		if hex && strings.HasPrefix(w, "#") {
			v, err := strconv.ParseUint(w[1:], 16, 32)
			if err != nil {
				return nil, fmt.Errorf("%q is not a hexadecimal number", w)
			}
			out = append(out, float64(v))
			continue
		}
		v, err := strconv.ParseFloat(w, 64)
		if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, fmt.Errorf("%q is not a number", w)
		}
		out = append(out, v)
	}
	return out, nil
}

func parseFloat(s string, def float64) float64 {
	v, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
	if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
		return def
	}
	return v
}

func parseBool(s string, def bool) bool {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "true", "1":
		return true
	case "false", "0":
		return false
	}
	return def
}

// Root is OFD.xml.
type Root struct {
	Version string
	DocType string
	Bodies  []DocBody // every reader (and this package) uses only the first
}

// DocBody is one OFD.xml DocBody.
type DocBody struct {
	Info       DocInfo
	DocRoot    string // canonical path of Document.xml
	Signatures string // canonical path of Signatures.xml, "" when unsigned
	Node       *Node
}

// DocInfo is the document metadata. Tax e-invoices put their fields (发票号码, 发票代码, 合计金额,
// 校验码, …) into CustomData.
type DocInfo struct {
	DocID, Title, Author, Subject, Abstract  string
	CreationDate, ModDate, DocUsage, Creator string
	CreatorVersion                           string
	Keywords                                 []string
	CustomData                               []CustomData
}

// CustomData is one DocInfo/CustomDatas/CustomData entry.
type CustomData struct{ Name, Value string }

// Custom returns the CustomData value named name, or "".
func (d DocInfo) Custom(name string) string {
	for _, c := range d.CustomData {
		if c.Name == name {
			return c.Value
		}
	}
	return ""
}

func parseRoot(p *Package, n *Node) (*Root, error) {
	if n.Name != "OFD" {
		return nil, errorf("/OFD.xml", ErrNotOFD, "root element is <%s>, not <OFD>", n.Name)
	}
	r := &Root{Version: n.Attr("Version"), DocType: n.Attr("DocType")}
	for _, b := range n.All("DocBody") {
		body := DocBody{Node: b}
		if info := b.Child("DocInfo"); info != nil {
			body.Info = DocInfo{
				DocID: info.ChildText("DocID"), Title: info.ChildText("Title"), Author: info.ChildText("Author"),
				Subject: info.ChildText("Subject"), Abstract: info.ChildText("Abstract"),
				CreationDate: info.ChildText("CreationDate"), ModDate: info.ChildText("ModDate"),
				DocUsage: info.ChildText("DocUsage"), Creator: info.ChildText("Creator"),
				CreatorVersion: info.ChildText("CreatorVersion"),
			}
			for _, k := range info.Child("Keywords").All("Keyword") {
				body.Info.Keywords = append(body.Info.Keywords, strings.TrimSpace(k.Text))
			}
			for _, c := range info.Child("CustomDatas").All("CustomData") {
				body.Info.CustomData = append(body.Info.CustomData, CustomData{c.Attr("Name"), strings.TrimSpace(c.Text)})
			}
		}
		loc := b.ChildText("DocRoot")
		if loc == "" {
			return nil, errorf("/OFD.xml", ErrMalformed, "DocBody has no DocRoot")
		}
		var err error
		if body.DocRoot, err = p.Resolve("/OFD.xml", loc); err != nil {
			return nil, err
		}
		if s := b.ChildText("Signatures"); s != "" {
			if body.Signatures, err = p.Resolve("/OFD.xml", s); err != nil {
				return nil, err
			}
		}
		r.Bodies = append(r.Bodies, body)
	}
	if len(r.Bodies) == 0 {
		return nil, errorf("/OFD.xml", ErrMalformed, "no DocBody")
	}
	return r, nil
}

// PageArea is CT_PageArea; a nil box is absent.
type PageArea struct {
	Physical, Application, Content, Bleed *Box
}

// Box returns the box that gives the page size: PhysicalBox, else ApplicationBox.
func (a *PageArea) Box() (Box, bool) {
	if a == nil {
		return Box{}, false
	}
	if a.Physical != nil && !a.Physical.Empty() {
		return *a.Physical, true
	}
	if a.Application != nil && !a.Application.Empty() {
		return *a.Application, true
	}
	return Box{}, false
}

func parsePageArea(n *Node) *PageArea {
	if n == nil {
		return nil
	}
	get := func(name string) *Box {
		s := n.ChildText(name)
		if s == "" {
			return nil
		}
		b, err := ParseBox(s)
		if err != nil {
			return nil
		}
		return &b
	}
	return &PageArea{Physical: get("PhysicalBox"), Application: get("ApplicationBox"), Content: get("ContentBox"), Bleed: get("BleedBox")}
}

// TemplateRef is a CommonData/TemplatePage.
type TemplateRef struct {
	ID     ID
	Name   string
	ZOrder string // Background (default) | Foreground | Body
	Path   string // canonical path of the template's content
}

// PageRef is a Pages/Page entry.
type PageRef struct {
	ID   ID // what signatures' PageRef and annotations' PageID point to
	Path string
}

// Doc is Document.xml.
type Doc struct {
	Path        string
	MaxUnitID   ID
	PageArea    *PageArea
	PublicRes   []string // canonical paths
	DocumentRes []string
	Templates   []TemplateRef
	DefaultCS   ID
	Pages       []PageRef
	Annotations string // canonical path or ""
	Attachments string
	CustomTags  string
	Node        *Node // the whole element, for parts not modelled here (Permissions, Outlines, …)
}

func parseDoc(p *Package, name string, n *Node) (*Doc, error) {
	if n.Name != "Document" {
		return nil, errorf(name, ErrMalformed, "root element is <%s>, not <Document>", n.Name)
	}
	d := &Doc{Path: name, Node: n}
	res := func(loc string) (string, error) { return p.Resolve(name, loc) }
	cd := n.Child("CommonData")
	d.MaxUnitID = parseID(cd.ChildText("MaxUnitID"))
	d.PageArea = parsePageArea(cd.Child("PageArea"))
	d.DefaultCS = parseID(cd.ChildText("DefaultCS"))
	for _, c := range cd.Children {
		switch c.Name {
		case "PublicRes", "DocumentRes":
			loc := strings.TrimSpace(c.Text)
			if loc == "" {
				continue
			}
			r, err := res(loc)
			if err != nil {
				return nil, err
			}
			if c.Name == "PublicRes" {
				d.PublicRes = append(d.PublicRes, r)
			} else {
				d.DocumentRes = append(d.DocumentRes, r)
			}
		case "TemplatePage":
			r, err := res(c.Attr("BaseLoc"))
			if err != nil {
				return nil, err
			}
			z := c.Attr("ZOrder")
			if z == "" {
				z = "Background"
			}
			d.Templates = append(d.Templates, TemplateRef{ID: parseID(c.Attr("ID")), Name: c.Attr("Name"), ZOrder: z, Path: r})
		}
	}
	for _, pg := range n.Child("Pages").All("Page") {
		r, err := res(pg.Attr("BaseLoc"))
		if err != nil {
			return nil, err
		}
		d.Pages = append(d.Pages, PageRef{ID: parseID(pg.Attr("ID")), Path: r})
	}
	var err error
	for _, x := range []struct {
		el  string
		dst *string
	}{{"Annotations", &d.Annotations}, {"Attachments", &d.Attachments}, {"CustomTags", &d.CustomTags}} {
		if loc := n.ChildText(x.el); loc != "" {
			if *x.dst, err = res(loc); err != nil {
				return nil, err
			}
		}
	}
	return d, nil
}

// Layer is a page's Content/Layer.
type Layer struct {
	ID        ID
	Type      string // Body (default) | Background | Foreground | Custom
	DrawParam ID
	Node      *Node // children are the graphic objects: TextObject, PathObject, ImageObject, CompositeObject, PageBlock
}

// PageTemplate is a page's Template reference.
type PageTemplate struct {
	TemplateID ID
	ZOrder     string // "" = the template's own ZOrder
}

// Page is a page (or template page) content file, ofd:Page.
type Page struct {
	ID        ID // 0 for templates
	Path      string
	Templates []PageTemplate
	PageRes   []string
	Area      *PageArea
	Layers    []Layer
	Node      *Node
}

func parsePage(p *Package, name string, n *Node) (*Page, error) {
	if n.Name != "Page" {
		return nil, errorf(name, ErrMalformed, "root element is <%s>, not <Page>", n.Name)
	}
	pg := &Page{Path: name, Node: n, Area: parsePageArea(n.Child("Area"))}
	for _, t := range n.All("Template") {
		pg.Templates = append(pg.Templates, PageTemplate{TemplateID: parseID(t.Attr("TemplateID")), ZOrder: t.Attr("ZOrder")})
	}
	for _, r := range n.All("PageRes") {
		if loc := strings.TrimSpace(r.Text); loc != "" {
			rp, err := p.Resolve(name, loc)
			if err != nil {
				return nil, err
			}
			pg.PageRes = append(pg.PageRes, rp)
		}
	}
	for _, c := range n.All("Content") {
		for _, l := range c.All("Layer") {
			t := l.Attr("Type")
			if t == "" {
				t = "Body"
			}
			pg.Layers = append(pg.Layers, Layer{ID: parseID(l.Attr("ID")), Type: t, DrawParam: parseID(l.Attr("DrawParam")), Node: l})
		}
	}
	return pg, nil
}
