package ofd

import (
	"image"
	"image/draw"
	"math"
	"sync"

	"github.com/tdewolff/canvas"
)

// Raster previews draw images here rather than through canvas's rasterizer: that one resamples
// with x/image/draw's Catmull-Rom kernel through the generic image.Image path (an interface
// call and an allocation per pixel, its support growing with the reduction), which made
// image-heavy pages take seconds. Here an image is converted to RGBA once, reduced by a box
// filter to about its size on the page (both cached per Reader), then sampled bilinearly at
// the page's resolution with the clip's coverage computed at that resolution too, so clip
// edges stay sharp however much the image is enlarged.

// imageCache holds the RGBA conversions and reductions of the images of one Reader.
type imageCache struct {
	mu     sync.Mutex
	rgba   map[image.Image]*image.RGBA
	shrunk map[shrinkKey]*image.RGBA
	bytes  int
}

type shrinkKey struct {
	src *image.RGBA
	f   int
}

// maxImageCache bounds the cache; past it the cache starts over.
const maxImageCache = 512 << 20

// cacheable reports whether img can be a map key and is immutable once decoded: the standard
// library's image types are pointers.
func cacheable(img image.Image) bool {
	switch img.(type) {
	case *image.RGBA, *image.NRGBA, *image.YCbCr, *image.Paletted, *image.Gray, *image.CMYK,
		*image.RGBA64, *image.NRGBA64, *image.Gray16, *image.NYCbCrA:
		return true
	}
	return false
}

func (c *imageCache) add(n int) {
	c.bytes += n
	if c.bytes > maxImageCache {
		c.rgba, c.shrunk, c.bytes = nil, nil, n
	}
	if c.rgba == nil {
		c.rgba, c.shrunk = map[image.Image]*image.RGBA{}, map[shrinkKey]*image.RGBA{}
	}
}

// toRGBA returns img as an *image.RGBA whose pixels start at (0, 0).
func (c *imageCache) toRGBA(img image.Image) *image.RGBA {
	if r, ok := img.(*image.RGBA); ok && r.Rect.Min == (image.Point{}) {
		return r
	}
	ok := c != nil && cacheable(img)
	if ok {
		c.mu.Lock()
		r := c.rgba[img]
		c.mu.Unlock()
		if r != nil {
			return r
		}
	}
	b := img.Bounds()
	r := image.NewRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	draw.Draw(r, r.Rect, img, b.Min, draw.Src)
	if ok {
		c.mu.Lock()
		c.add(len(r.Pix))
		c.rgba[img] = r
		c.mu.Unlock()
	}
	return r
}

// reduced returns src reduced f times in each direction by averaging f×f blocks.
func (c *imageCache) reduced(src *image.RGBA, f int) *image.RGBA {
	k := shrinkKey{src, f}
	if c != nil {
		c.mu.Lock()
		r := c.shrunk[k]
		c.mu.Unlock()
		if r != nil {
			return r
		}
	}
	w, h := src.Rect.Dx(), src.Rect.Dy()
	nw, nh := (w+f-1)/f, (h+f-1)/f
	dst := image.NewRGBA(image.Rect(0, 0, nw, nh))
	sums := make([]uint32, nw*4)
	for by := 0; by < nh; by++ {
		clear(sums)
		y0, y1 := by*f, min(h, by*f+f)
		for y := y0; y < y1; y++ {
			row := src.Pix[y*src.Stride : y*src.Stride+w*4]
			for x := 0; x < w; x++ {
				s := sums[(x/f)*4 : (x/f)*4+4 : (x/f)*4+4]
				p := row[x*4 : x*4+4 : x*4+4]
				s[0] += uint32(p[0])
				s[1] += uint32(p[1])
				s[2] += uint32(p[2])
				s[3] += uint32(p[3])
			}
		}
		out := dst.Pix[by*dst.Stride:]
		for bx := 0; bx < nw; bx++ {
			n := uint32((min(w, bx*f+f) - bx*f) * (y1 - y0))
			for k := 0; k < 4; k++ {
				out[bx*4+k] = uint8((sums[bx*4+k] + n/2) / n)
			}
		}
	}
	if c != nil {
		c.mu.Lock()
		c.add(len(dst.Pix))
		c.shrunk[k] = dst
		c.mu.Unlock()
	}
	return dst
}

// aff is an affine map x' = a*x + b*y + c, y' = d*x + e*y + f.
type aff struct{ a, b, c, d, e, f float64 }

func (m aff) inv() (aff, bool) {
	det := m.a*m.e - m.b*m.d
	if math.Abs(det) < 1e-12 || math.IsNaN(det) || math.IsInf(det, 0) {
		return aff{}, false
	}
	return aff{
		a: m.e / det, b: -m.b / det, c: (m.b*m.f - m.e*m.c) / det,
		d: -m.d / det, e: m.a / det, f: (m.d*m.c - m.a*m.f) / det,
	}, true
}

func (m aff) apply(x, y float64) (float64, float64) {
	return m.a*x + m.b*y + m.c, m.d*x + m.e*y + m.f
}

// edge is a half-plane a*x + b*y + c >= 0 with (a, b) a unit normal: the signed distance of a
// pixel centre from it gives the pixel's coverage along that edge.
type edge struct{ a, b, c float64 }

func edgeThrough(x0, y0, x1, y1, insideX, insideY float64) edge {
	nx, ny := y0-y1, x1-x0
	l := math.Hypot(nx, ny)
	if l == 0 {
		return edge{0, 0, 1}
	}
	e := edge{nx / l, ny / l, -(nx*x0 + ny*y0) / l}
	if e.a*insideX+e.b*insideY+e.c < 0 {
		e = edge{-e.a, -e.b, -e.c}
	}
	return e
}

// rasterImage composites img onto t.img: m maps image pixel space (y up, as canvas has it) to
// canvas millimetres; only the part inside cl shows, with alpha a (0..1).
func (t *target) rasterImage(img image.Image, m canvas.Matrix, cl *clip, a float64) {
	src := t.cache.toRGBA(img)
	w, h := src.Rect.Dx(), src.Rect.Dy()
	if w == 0 || h == 0 || a <= 0 {
		return
	}
	dpmm, hp := t.dpmm, float64(t.img.Rect.Dy())
	// (column, row) of the image → device pixel (x right, y down).
	A := aff{
		a: dpmm * m[0][0], b: -dpmm * m[0][1], c: dpmm * (m[0][1]*float64(h) + m[0][2]),
		d: -dpmm * m[1][0], e: dpmm * m[1][1], f: hp - dpmm*(m[1][1]*float64(h)+m[1][2]),
	}
	inv, ok := A.inv()
	if !ok {
		return
	}
	// Corners of the image on the device, and the pixels they cover.
	cx := [4]float64{}
	cy := [4]float64{}
	for i, c := range [4][2]float64{{0, 0}, {float64(w), 0}, {float64(w), float64(h)}, {0, float64(h)}} {
		cx[i], cy[i] = A.apply(c[0], c[1])
	}
	x0, y0 := math.Min(math.Min(cx[0], cx[1]), math.Min(cx[2], cx[3])), math.Min(math.Min(cy[0], cy[1]), math.Min(cy[2], cy[3]))
	x1, y1 := math.Max(math.Max(cx[0], cx[1]), math.Max(cx[2], cx[3])), math.Max(math.Max(cy[0], cy[1]), math.Max(cy[2], cy[3]))
	var clipX0, clipY0, clipX1, clipY1 float64 // device box of a rectangular clip
	if cl != nil {
		clipX0, clipX1 = cl.bounds.X0*dpmm, cl.bounds.X1*dpmm
		clipY0, clipY1 = hp-cl.bounds.Y1*dpmm, hp-cl.bounds.Y0*dpmm
		x0, y0, x1, y1 = math.Max(x0, clipX0), math.Max(y0, clipY0), math.Min(x1, clipX1), math.Min(y1, clipY1)
	}
	box := image.Rect(int(math.Floor(x0)), int(math.Floor(y0)), int(math.Ceil(x1)), int(math.Ceil(y1))).Intersect(t.img.Rect)
	if box.Empty() {
		return
	}
	// Coverage of the image's own edges (anti-aliased borders, also when rotated).
	mx, my := (cx[0]+cx[2])/2, (cy[0]+cy[2])/2
	var edges [4]edge
	for i := 0; i < 4; i++ {
		j := (i + 1) % 4
		edges[i] = edgeThrough(cx[i], cy[i], cx[j], cy[j], mx, my)
	}
	// A path clip becomes a coverage mask at the device resolution.
	var mask *coverage
	rectClip := cl != nil && cl.rect
	if cl != nil && !cl.rect {
		mask = t.clipCoverage(cl, box)
	}
	// Enlarged or slightly reduced images are sampled directly; much larger ones are first
	// reduced by a box filter, so every device pixel averages the image pixels it covers.
	fx, fy := math.Hypot(inv.a, inv.d), math.Hypot(inv.b, inv.e)
	if f := int(math.Min(fx, fy)); f >= 2 {
		src = t.cache.reduced(src, f)
		s := 1 / float64(f)
		inv = aff{inv.a * s, inv.b * s, inv.c * s, inv.d * s, inv.e * s, inv.f * s}
		w, h = src.Rect.Dx(), src.Rect.Dy()
	}
	if inv.b == 0 && inv.d == 0 {
		t.compositeAxis(src, inv, box, mask, a, x0, y0, x1, y1)
		return
	}
	sp, stride := src.Pix, src.Stride
	dp := t.img.Pix
	for py := box.Min.Y; py < box.Max.Y; py++ {
		yc := float64(py) + 0.5
		// y coverage of a rectangular clip
		cyCov := 1.0
		if rectClip {
			cyCov = clamp(math.Min(yc+0.5, clipY1)-math.Max(yc-0.5, clipY0), 0, 1)
			if cyCov <= 0 {
				continue
			}
		}
		row := (py - t.img.Rect.Min.Y) * t.img.Stride
		for px := box.Min.X; px < box.Max.X; px++ {
			xc := float64(px) + 0.5
			cov := a * cyCov
			for _, e := range edges {
				if d := e.a*xc + e.b*yc + e.c + 0.5; d < 1 {
					cov *= math.Max(0, d)
				}
			}
			if rectClip {
				cov *= clamp(math.Min(xc+0.5, clipX1)-math.Max(xc-0.5, clipX0), 0, 1)
			}
			if mask != nil {
				cov *= float64(mask.at(px, py)) / 255
			}
			if cov <= 0 {
				continue
			}
			// Bilinear sample around (u, v), texel centres at +0.5, edges clamped.
			u := inv.a*xc + inv.b*yc + inv.c - 0.5
			v := inv.d*xc + inv.e*yc + inv.f - 0.5
			i0, j0 := int(math.Floor(u)), int(math.Floor(v))
			wu, wv := u-float64(i0), v-float64(j0)
			i1, j1 := i0+1, j0+1
			i0, i1 = min(max(i0, 0), w-1), min(max(i1, 0), w-1)
			j0, j1 = min(max(j0, 0), h-1), min(max(j1, 0), h-1)
			p00, p10 := sp[j0*stride+i0*4:], sp[j0*stride+i1*4:]
			p01, p11 := sp[j1*stride+i0*4:], sp[j1*stride+i1*4:]
			w00, w10, w01, w11 := (1-wu)*(1-wv)*cov, wu*(1-wv)*cov, (1-wu)*wv*cov, wu*wv*cov
			sa := float64(p00[3])*w00 + float64(p10[3])*w10 + float64(p01[3])*w01 + float64(p11[3])*w11
			if sa <= 0 {
				continue
			}
			o := dp[row+(px-t.img.Rect.Min.X)*4 : row+(px-t.img.Rect.Min.X)*4+4 : row+(px-t.img.Rect.Min.X)*4+4]
			keep := 1 - sa/255
			for k := 0; k < 3; k++ {
				s := float64(p00[k])*w00 + float64(p10[k])*w10 + float64(p01[k])*w01 + float64(p11[k])*w11
				o[k] = uint8(math.Min(255, s+float64(o[k])*keep+0.5))
			}
			o[3] = uint8(math.Min(255, sa+float64(o[3])*keep+0.5))
		}
	}
}

// axisTap is the two source texels and weight of one device column or row, with the coverage
// of that column or row.
type axisTap struct {
	i0, i1 int
	w, cov float64
}

func axisTaps(n0, n1 int, scale, off float64, size int, lo, hi float64) []axisTap {
	taps := make([]axisTap, n1-n0)
	for k := range taps {
		c := float64(n0+k) + 0.5
		u := scale*c + off - 0.5
		i0 := int(math.Floor(u))
		w := u - float64(i0)
		i1 := i0 + 1
		taps[k] = axisTap{min(max(i0, 0), size-1), min(max(i1, 0), size-1), w,
			clamp(math.Min(c+0.5, hi)-math.Max(c-0.5, lo), 0, 1)}
	}
	return taps
}

// compositeAxis is rasterImage for an image that is only scaled and moved (no rotation): the
// taps and coverage of columns and rows are computed once. [x0, x1]×[y0, y1] is the device area
// of the image within a rectangular clip.
func (t *target) compositeAxis(src *image.RGBA, inv aff, box image.Rectangle, mask *coverage, a, x0, y0, x1, y1 float64) {
	w, h := src.Rect.Dx(), src.Rect.Dy()
	cols := axisTaps(box.Min.X, box.Max.X, inv.a, inv.c, w, x0, x1)
	rows := axisTaps(box.Min.Y, box.Max.Y, inv.e, inv.f, h, y0, y1)
	sp, stride := src.Pix, src.Stride
	dp := t.img.Pix
	for ry, r := range rows {
		py := box.Min.Y + ry
		if r.cov <= 0 {
			continue
		}
		s0, s1 := sp[r.i0*stride:], sp[r.i1*stride:]
		out := dp[(py-t.img.Rect.Min.Y)*t.img.Stride+(box.Min.X-t.img.Rect.Min.X)*4:]
		for cx, c := range cols {
			cov := a * r.cov * c.cov
			if mask != nil {
				cov *= float64(mask.at(box.Min.X+cx, py)) / 255
			}
			if cov <= 0 {
				continue
			}
			w00, w10 := (1-c.w)*(1-r.w)*cov, c.w*(1-r.w)*cov
			w01, w11 := (1-c.w)*r.w*cov, c.w*r.w*cov
			p00, p10 := s0[c.i0*4:c.i0*4+4:c.i0*4+4], s0[c.i1*4:c.i1*4+4:c.i1*4+4]
			p01, p11 := s1[c.i0*4:c.i0*4+4:c.i0*4+4], s1[c.i1*4:c.i1*4+4:c.i1*4+4]
			sa := float64(p00[3])*w00 + float64(p10[3])*w10 + float64(p01[3])*w01 + float64(p11[3])*w11
			if sa <= 0 {
				continue
			}
			o := out[cx*4 : cx*4+4 : cx*4+4]
			keep := 1 - sa/255
			sr := float64(p00[0])*w00 + float64(p10[0])*w10 + float64(p01[0])*w01 + float64(p11[0])*w11
			sg := float64(p00[1])*w00 + float64(p10[1])*w10 + float64(p01[1])*w01 + float64(p11[1])*w11
			sb := float64(p00[2])*w00 + float64(p10[2])*w10 + float64(p01[2])*w01 + float64(p11[2])*w11
			o[0] = sat(sr + float64(o[0])*keep)
			o[1] = sat(sg + float64(o[1])*keep)
			o[2] = sat(sb + float64(o[2])*keep)
			o[3] = sat(sa + float64(o[3])*keep)
		}
	}
}

func sat(v float64) uint8 {
	if v >= 254.5 {
		return 255
	}
	return uint8(v + 0.5)
}
