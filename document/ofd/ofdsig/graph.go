package ofdsig

import (
	"bytes"
	"path"
	"strconv"
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
func buildUsage(pkg *ofd.Package, files []string, skip map[string]bool, read func(string) ([]byte, error)) *usage {
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
		data, err := read(f)
		if err != nil {
			continue // unreadable files refer to nothing
		}
		name, baseLoc := rootElement(data)
		var bases []string
		if b := strings.TrimSpace(baseLoc); b != "" && name == "Res" {
			if d, err := pkg.Resolve(f, b); err == nil {
				bases = append(bases, d+"/x")
			}
		}
		seen := map[string]bool{}
		scanValues(data, func(s string) {
			s = strings.TrimSpace(s)
			if !maybeLoc(s) {
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
		})
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

// maybeLoc filters out the strings that cannot be paths (numbers, boxes, glyph runs) before
// the costlier resolution: a path has no blanks and a dot or a slash, and is not a number.
func maybeLoc(s string) bool {
	if len(s) < 3 || len(s) > maxLocLen || !strings.ContainsAny(s, "./") || strings.ContainsAny(s, " \t\r\n") {
		return false
	}
	if _, err := strconv.ParseFloat(s, 64); err == nil {
		return false
	}
	return true
}

// scanValues calls fn with every attribute value and every run of character data of an XML
// document. It is a byte scanner, not a parser: page files hold thousands of glyph runs, and a
// full tokenisation of every page only to find the few paths in a package costs ten times as
// much. Well-formedness is the reader's concern; here a malformed file yields fewer values.
func scanValues(data []byte, fn func(string)) {
	inTag := false
	for i := 0; i < len(data); i++ {
		c := data[i]
		switch {
		case !inTag && c == '<':
			// Skip comments, CDATA-less declarations and processing instructions whole.
			if i+3 < len(data) && data[i+1] == '!' && data[i+2] == '-' && data[i+3] == '-' {
				if j := bytes.Index(data[i+4:], []byte("-->")); j >= 0 {
					i += 4 + j + 2
					continue
				}
				return
			}
			inTag = true
		case !inTag:
			j := bytes.IndexByte(data[i:], '<')
			if j < 0 {
				j = len(data) - i
			}
			if t := bytes.TrimSpace(data[i : i+j]); len(t) > 0 {
				fn(xmlUnescape(t))
			}
			i += j - 1
		case c == '>':
			inTag = false
		case c == '"' || c == '\'':
			j := bytes.IndexByte(data[i+1:], c)
			if j < 0 {
				return
			}
			fn(xmlUnescape(data[i+1 : i+1+j]))
			i += j + 1
		}
	}
}

func xmlUnescape(b []byte) string {
	if bytes.IndexByte(b, '&') < 0 {
		return string(b)
	}
	r := strings.NewReplacer("&amp;", "&", "&lt;", "<", "&gt;", ">", "&quot;", `"`, "&apos;", "'")
	return r.Replace(string(b))
}

// rootElement returns the local name of the root element and its BaseLoc attribute.
func rootElement(data []byte) (name, baseLoc string) {
	i := 0
	for {
		j := bytes.IndexByte(data[i:], '<')
		if j < 0 || i+j+1 >= len(data) {
			return "", ""
		}
		i += j
		if data[i+1] == '?' || data[i+1] == '!' {
			k := bytes.IndexByte(data[i:], '>')
			if k < 0 {
				return "", ""
			}
			i += k + 1
			continue
		}
		break
	}
	end := bytes.IndexByte(data[i:], '>')
	if end < 0 {
		return "", ""
	}
	tag := string(data[i+1 : i+end])
	fields := strings.Fields(tag)
	if len(fields) == 0 {
		return "", ""
	}
	name = fields[0]
	if k := strings.LastIndexByte(name, ':'); k >= 0 {
		name = name[k+1:]
	}
	for _, want := range []string{` BaseLoc="`, ` BaseLoc='`} {
		if k := strings.Index(tag, want); k >= 0 {
			rest := tag[k+len(want):]
			if e := strings.IndexByte(rest, want[len(want)-1]); e >= 0 {
				baseLoc = rest[:e]
			}
		}
	}
	return name, baseLoc
}
