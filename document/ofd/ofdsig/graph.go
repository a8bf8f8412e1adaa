package ofdsig

import (
	"path"
	"strings"

	"sealdesk/document/ofd"
)

// usage is which package files the document uses and which files refer to each: the basis for
// telling a file that was present (but unprotected) when a signature was made from one added
// later. It is built generically: every attribute value and text of every XML file that
// resolves, as an ST_Loc, to a file of the package is a reference. This needs no knowledge of
// each schema (Res BaseLoc, MediaFile, FontFile, Annotations FileLoc, Attachments, CustomTags,
// extensions …) and so misses no kind of reference a producer may use.
type usage struct {
	reachable map[string]bool
	referrers map[string][]string // file → files that reference it
}

// maxLocLen bounds the strings tried as paths (text content is mostly glyph runs).
const maxLocLen = 512

// Signature files (skip) are not followed: their References name every protected file, which
// would make every file look used.
func buildUsage(pkg *ofd.Package, files []string, skip map[string]bool) *usage {
	exists := map[string]bool{}
	for _, f := range files {
		exists[f] = true
	}
	edges := map[string][]string{}
	u := &usage{reachable: map[string]bool{}, referrers: map[string][]string{}}
	for _, f := range files {
		if skip[f] || !strings.EqualFold(path.Ext(f), ".xml") {
			continue
		}
		n, err := pkg.ReadXML(f)
		if err != nil {
			continue // malformed files (real CustomTag.xml) refer to nothing
		}
		var bases []string
		if b := strings.TrimSpace(n.Attr("BaseLoc")); b != "" && n.Name == "Res" {
			if d, err := pkg.Resolve(f, b); err == nil {
				bases = append(bases, d+"/x")
			}
		}
		seen := map[string]bool{}
		try := func(s string) {
			s = strings.TrimSpace(s)
			if s == "" || len(s) > maxLocLen || !strings.ContainsAny(s, "./") {
				return
			}
			for _, base := range append([]string{f, "/"}, bases...) {
				p, err := pkg.Resolve(base, s)
				if err != nil {
					continue
				}
				if e, ok := pkg.Lookup(p); ok && exists[e.Name] && e.Name != f && !seen[e.Name] {
					seen[e.Name] = true
					edges[f] = append(edges[f], e.Name)
					u.referrers[e.Name] = append(u.referrers[e.Name], f)
				}
			}
		}
		var walk func(*ofd.Node)
		walk = func(n *ofd.Node) {
			for _, a := range n.Attrs {
				try(a.Value)
			}
			try(n.Text)
			for _, c := range n.Children {
				walk(c)
			}
		}
		walk(n)
	}
	queue := []string{"/OFD.xml"}
	u.reachable["/OFD.xml"] = true
	for len(queue) > 0 {
		f := queue[0]
		queue = queue[1:]
		for _, t := range edges[f] {
			if !u.reachable[t] {
				u.reachable[t] = true
				queue = append(queue, t)
			}
		}
	}
	return u
}
