package ofd

import (
	"math"
	"strconv"
	"strings"
	"unicode"

	"github.com/tdewolff/canvas"
)

// Glyph is one drawn character with its box on the page (mm from the page's top-left).
type Glyph struct {
	Rune rune
	Box  Box
	// Run numbers the text object the glyph belongs to; search does not join runs that are
	// not on one line.
	Run int
}

// fontSet returns the Reader's font cache for the given system-font policy.
func (r *Reader) fontSet(system bool) *fonts {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.fontSets == nil {
		r.fontSets = map[bool]*fonts{}
	}
	fs, ok := r.fontSets[system]
	if !ok {
		fs = &fonts{rd: r, system: system, faces: map[ID]*face{}}
		r.fontSets[system] = fs
	}
	return fs
}

// expandDeltas expands a DeltaX/DeltaY list: "g N v" repeats v N times.
func expandDeltas(s string) []float64 {
	f := strings.Fields(strings.ReplaceAll(s, ",", " "))
	var out []float64
	for i := 0; i < len(f); i++ {
		if f[i] == "g" && i+2 < len(f) {
			n, err := strconv.Atoi(f[i+1])
			v := parseFloat(f[i+2], 0)
			if err == nil && n > 0 && n <= 1<<16 {
				for k := 0; k < n; k++ {
					out = append(out, v)
				}
			}
			i += 2
			continue
		}
		out = append(out, parseFloat(f[i], 0))
	}
	return out
}

// cgMap maps a character position in the text object to the glyph IDs CGTransform gives it;
// characters inside a multi-character cluster other than its first map to an empty list.
type cgMap map[int][]uint16

func parseCG(n *Node) cgMap {
	var m cgMap
	for _, cg := range n.All("CGTransform") {
		pos := int(parseFloat(cg.Attr("CodePosition"), -1))
		cnt := int(parseFloat(cg.Attr("CodeCount"), 1))
		gv, err := ParseFloats(cg.ChildText("Glyphs"))
		if err != nil || pos < 0 || cnt < 1 || cnt > 1<<16 {
			continue
		}
		gl := make([]uint16, 0, len(gv))
		for _, v := range gv {
			if v >= 0 && v < 65536 {
				gl = append(gl, uint16(v))
			}
		}
		if m == nil {
			m = cgMap{}
		}
		if len(gl) == cnt {
			for k := 0; k < cnt; k++ {
				m[pos+k] = gl[k : k+1]
			}
			continue
		}
		m[pos] = gl
		for k := 1; k < cnt; k++ {
			m[pos+k] = []uint16{}
		}
	}
	return m
}

func (d *drawer) textObject(n *Node, s state) {
	f := s.res.Font(parseID(n.Attr("Font")))
	fc := d.fonts.face(f)
	fallback := bundledFace()
	size := parseFloat(n.Attr("Size"), 0)
	if size <= 0 || size > 1e4 {
		return
	}
	hscale := parseFloat(n.Attr("HScale"), 1)
	if hscale <= 0 {
		hscale = 1
	}
	charDir := parseFloat(n.Attr("CharDirection"), 0)
	readDir := parseFloat(n.Attr("ReadDirection"), 0)
	italic := parseBool(n.Attr("Italic"), false) || (f != nil && f.Italic)
	weight := parseFloat(n.Attr("Weight"), 400)
	bold := weight >= 600 || (f != nil && f.Bold && fc == nil)
	cg := parseCG(n)
	var combined *canvas.Path
	if d.t != nil {
		combined = &canvas.Path{}
	}
	run := 0
	if d.text != nil && len(*d.text) > 0 {
		run = (*d.text)[len(*d.text)-1].Run + 1
	}
	x, y := 0.0, 0.0
	pos := 0
	for _, tc := range n.All("TextCode") {
		if tc.HasAttr("X") {
			x = parseFloat(tc.Attr("X"), x)
		}
		if tc.HasAttr("Y") {
			y = parseFloat(tc.Attr("Y"), y)
		}
		dx := expandDeltas(tc.Attr("DeltaX"))
		dy := expandDeltas(tc.Attr("DeltaY"))
		gx, gy := x, y
		k := 0
		for _, r := range tc.Text {
			if r == '\n' || r == '\r' {
				continue
			}
			// Which font and glyphs draw this character.
			use := fc
			var gids []uint16
			if g, ok := cg[pos]; ok && fc != nil {
				gids = g
			} else {
				if gid := fc.index(r); gid != 0 {
					gids = []uint16{gid}
				} else if gid := fallback.index(r); gid != 0 {
					use, gids = fallback, []uint16{gid}
				} else if d.fonts.system {
					// Symbols outside the bundled font's GB2312 set (¥, ©, …).
					if sf := systemFace("arial"); sf != nil {
						if gid := sf.index(r); gid != 0 {
							use, gids = sf, []uint16{gid}
						}
					}
				}
			}
			adv := 0.0
			if len(gids) > 0 {
				adv = use.advance(gids[0]) * size * hscale
			} else if !unicode.IsSpace(r) {
				adv = size * 0.5
			}
			// Advance to the next character: DeltaX/DeltaY when given (the last value repeats
			// when the list is short), else the font's advance in the reading direction.
			stepX, stepY := adv, 0.0
			if readDir == 90 || readDir == 270 {
				stepX, stepY = 0, adv
			}
			// A code with DeltaY but no DeltaX has no X offset (GB/T 33190 §11.3: vertical
			// labels such as 购买方 are written this way), and DeltaX alone no Y offset.
			if len(dx) > 0 {
				stepX = dx[min(k, len(dx)-1)]
			} else if len(dy) > 0 {
				stepX = 0
			}
			if len(dy) > 0 {
				stepY = dy[min(k, len(dy)-1)]
			} else if len(dx) > 0 {
				stepY = 0
			}
			gm := canvas.Identity.Translate(gx, gy).Rotate(charDir).Scale(size*hscale, -size)
			if italic {
				gm = gm.Shear(0.2, 0)
			}
			if combined != nil {
				for _, gid := range gids {
					if gp := use.glyph(gid); gp != nil && !gp.Empty() {
						combined = combined.Append(gp.Copy().Transform(gm))
					}
				}
			}
			if d.text != nil && !unicode.IsControl(r) {
				w := stepX
				if w <= 0 || w > size*3 {
					w = math.Max(adv, size*0.5)
				}
				corners := []canvas.Point{{X: gx, Y: gy - size*0.88}, {X: gx + w, Y: gy - size*0.88}, {X: gx, Y: gy + size*0.12}, {X: gx + w, Y: gy + size*0.12}}
				minX, minY, maxX, maxY := math.Inf(1), math.Inf(1), math.Inf(-1), math.Inf(-1)
				for _, c := range corners {
					if charDir != 0 {
						c = canvas.Identity.Translate(gx, gy).Rotate(charDir).Translate(-gx, -gy).Dot(c)
					}
					p := s.pm.Dot(c)
					minX, minY = math.Min(minX, p.X), math.Min(minY, p.Y)
					maxX, maxY = math.Max(maxX, p.X), math.Max(maxY, p.Y)
				}
				*d.text = append(*d.text, Glyph{Rune: r, Box: Box{minX, minY, maxX - minX, maxY - minY}, Run: run})
			}
			gx += stepX
			gy += stepY
			k++
			pos++
		}
	}
	if combined == nil || combined.Empty() {
		return
	}
	cm := d.base.Mul(s.pm)
	style := canvas.Style{FillRule: canvas.NonZero}
	if parseBool(n.Attr("Fill"), true) {
		c := ParseColor(n.Child("FillColor"))
		if c == nil {
			c = s.gp.fill
		}
		if c == nil {
			style.Fill = canvas.Paint{Color: premul(0, 0, 0, s.alpha)}
		} else if pt, ok := d.paint(c, s.res, s.alpha, cm, combined.FastBounds()); ok {
			style.Fill = pt
		}
	}
	stroke := parseBool(n.Attr("Stroke"), false)
	if stroke || bold {
		c := ParseColor(n.Child("StrokeColor"))
		if c == nil && !stroke {
			c = ParseColor(n.Child("FillColor"))
			if c == nil {
				c = s.gp.fill
			}
		} else if c == nil {
			c = s.gp.stroke
		}
		if c == nil {
			style.Stroke = canvas.Paint{Color: premul(0, 0, 0, s.alpha)}
		} else if pt, ok := d.paint(c, s.res, s.alpha, cm, combined.FastBounds()); ok {
			style.Stroke = pt
		}
		style.StrokeWidth = s.gp.lineWidth
		if bold && !stroke {
			// Faux bold for fonts without a bold face.
			style.StrokeWidth = size * 0.03
		}
		style.StrokeCapper, style.StrokeJoiner = canvas.ButtCap, canvas.RoundJoin
	}
	d.t.path(combined, style, cm, s.clip)
}
