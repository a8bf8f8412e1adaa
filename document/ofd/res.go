package ofd

import "strings"

// ColorSpace is a Res ColorSpace.
type ColorSpace struct {
	ID      ID
	Type    string // GRAY | RGB | CMYK
	BPC     int    // bits per component (8 unless stated)
	Palette [][]float64
}

// Color is CT_Color. Value holds the components in the colour space (0..2^BPC-1); a shading or
// pattern colour keeps its element in Node.
type Color struct {
	Value      []float64
	Index      int // palette index, -1 when absent
	ColorSpace ID
	Alpha      float64 // 0..255
	Node       *Node   // the element itself (AxialShd, RadialShd, Pattern children live here)
}

// ParseColor reads a CT_Color element; nil when n is nil.
func ParseColor(n *Node) *Color {
	if n == nil {
		return nil
	}
	c := &Color{Index: -1, Alpha: 255, ColorSpace: parseID(n.Attr("ColorSpace")), Node: n}
	if v, err := parseNumbers(n.Attr("Value"), true); err == nil {
		c.Value = v
	}
	if s := n.Attr("Index"); s != "" {
		c.Index = int(parseFloat(s, -1))
	}
	if s := n.Attr("Alpha"); s != "" {
		c.Alpha = clamp(parseFloat(s, 255), 0, 255)
	}
	return c
}

func clamp(v, lo, hi float64) float64 {
	if v < lo {
		return lo
	}
	if v > hi {
		return hi
	}
	return v
}

// DrawParam is a Res DrawParam. Pointer fields are nil when not given, so inheritance through
// Relative can tell "absent" from "zero".
type DrawParam struct {
	ID          ID
	Relative    ID
	LineWidth   *float64
	Join, Cap   string
	DashOffset  *float64
	DashPattern []float64
	MiterLimit  *float64
	FillColor   *Color
	StrokeColor *Color
}

// Font is a Res Font.
type Font struct {
	ID                              ID
	FontName, FamilyName, Charset   string
	Italic, Bold, Serif, FixedWidth bool
	FontFile                        string // canonical path of the embedded font, "" when not embedded
}

// MultiMedia is a Res MultiMedia (images are what the renderer uses).
type MultiMedia struct {
	ID        ID
	Type      string // Image | Audio | Video
	Format    string // often absent or wrong ("GBIG2"); sniff the bytes
	MediaFile string // canonical path
}

// CompositeUnit is a Res CompositeGraphicUnit (CT_VectorG).
type CompositeUnit struct {
	ID            ID
	Width, Height float64
	Content       *Node // its children are page blocks
}

// Resources is the merged content of Res files. IDs are document-global; a page's PageRes
// adds to the document's resources (Parent).
type Resources struct {
	Parent      *Resources
	ColorSpaces map[ID]*ColorSpace
	DrawParams  map[ID]*DrawParam
	Fonts       map[ID]*Font
	Media       map[ID]*MultiMedia
	Composites  map[ID]*CompositeUnit
}

func newResources(parent *Resources) *Resources {
	return &Resources{Parent: parent, ColorSpaces: map[ID]*ColorSpace{}, DrawParams: map[ID]*DrawParam{},
		Fonts: map[ID]*Font{}, Media: map[ID]*MultiMedia{}, Composites: map[ID]*CompositeUnit{}}
}

// ColorSpace looks up id here, then in the parent.
func (r *Resources) ColorSpace(id ID) *ColorSpace {
	for ; r != nil; r = r.Parent {
		if v, ok := r.ColorSpaces[id]; ok {
			return v
		}
	}
	return nil
}

// DrawParam looks up id here, then in the parent.
func (r *Resources) DrawParam(id ID) *DrawParam {
	for ; r != nil; r = r.Parent {
		if v, ok := r.DrawParams[id]; ok {
			return v
		}
	}
	return nil
}

// Font looks up id here, then in the parent.
func (r *Resources) Font(id ID) *Font {
	for ; r != nil; r = r.Parent {
		if v, ok := r.Fonts[id]; ok {
			return v
		}
	}
	return nil
}

// MultiMedia looks up id here, then in the parent.
func (r *Resources) MultiMedia(id ID) *MultiMedia {
	for ; r != nil; r = r.Parent {
		if v, ok := r.Media[id]; ok {
			return v
		}
	}
	return nil
}

// Composite looks up id here, then in the parent.
func (r *Resources) Composite(id ID) *CompositeUnit {
	for ; r != nil; r = r.Parent {
		if v, ok := r.Composites[id]; ok {
			return v
		}
	}
	return nil
}

// addRes merges one Res file into r. Media and font files resolve against the Res file's
// BaseLoc directory (itself relative to the Res file). A bad path drops that one resource
// (real files reference missing fonts and images; the page still shows).
func (r *Resources) addRes(p *Package, name string, n *Node) error {
	if n.Name != "Res" {
		return errorf(name, ErrMalformed, "root element is <%s>, not <Res>", n.Name)
	}
	base := name
	if bl := strings.TrimSpace(n.Attr("BaseLoc")); bl != "" {
		dir, err := p.Resolve(name, bl)
		if err != nil {
			return err
		}
		base = strings.TrimSuffix(dir, "/") + "/x" // Resolve takes the directory of its base file
	}
	loc := func(s string) string {
		s = strings.TrimSpace(s)
		if s == "" {
			return ""
		}
		v, err := p.Resolve(base, s)
		if err != nil {
			return ""
		}
		return v
	}
	for _, group := range n.Children {
		for _, c := range group.Children {
			id := parseID(c.Attr("ID"))
			switch c.Name {
			case "ColorSpace":
				cs := &ColorSpace{ID: id, Type: strings.ToUpper(c.Attr("Type")), BPC: int(parseFloat(c.Attr("BitsPerComponent"), 8))}
				for _, cv := range c.Child("Palette").All("CV") {
					v, _ := parseNumbers(cv.Text, true)
					cs.Palette = append(cs.Palette, v)
				}
				r.ColorSpaces[id] = cs
			case "DrawParam":
				r.DrawParams[id] = parseDrawParam(c)
			case "Font":
				f := &Font{ID: id, FontName: c.Attr("FontName"), FamilyName: c.Attr("FamilyName"), Charset: c.Attr("Charset"),
					Italic: parseBool(c.Attr("Italic"), false), Bold: parseBool(c.Attr("Bold"), false),
					Serif: parseBool(c.Attr("Serif"), false), FixedWidth: parseBool(c.Attr("FixedWidth"), false)}
				f.FontFile = loc(c.ChildText("FontFile"))
				r.Fonts[id] = f
			case "MultiMedia":
				r.Media[id] = &MultiMedia{ID: id, Type: c.Attr("Type"), Format: c.Attr("Format"), MediaFile: loc(c.ChildText("MediaFile"))}
			case "CompositeGraphicUnit":
				r.Composites[id] = &CompositeUnit{ID: id, Width: parseFloat(c.Attr("Width"), 0), Height: parseFloat(c.Attr("Height"), 0), Content: c.Child("Content")}
			}
		}
	}
	return nil
}

func parseDrawParam(c *Node) *DrawParam {
	dp := &DrawParam{ID: parseID(c.Attr("ID")), Relative: parseID(c.Attr("Relative")), Join: c.Attr("Join"), Cap: c.Attr("Cap")}
	fp := func(attr string) *float64 {
		if !c.HasAttr(attr) {
			return nil
		}
		v := parseFloat(c.Attr(attr), 0)
		return &v
	}
	dp.LineWidth = fp("LineWidth")
	dp.DashOffset = fp("DashOffset")
	dp.MiterLimit = fp("MiterLimit")
	if c.HasAttr("DashPattern") {
		dp.DashPattern, _ = ParseFloats(c.Attr("DashPattern"))
	}
	dp.FillColor = ParseColor(c.Child("FillColor"))
	dp.StrokeColor = ParseColor(c.Child("StrokeColor"))
	return dp
}
