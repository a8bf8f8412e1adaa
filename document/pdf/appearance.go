package pdf

import (
	"fmt"
	"image"
	"image/color"

	"sealdesk/document"
)

// imageXObject converts a picture into an RGB image XObject; transparency becomes a /SMask
// (seal pictures are red ink on a transparent background and must not hide the text below).
func imageXObject(inc *increment, img image.Image) (Ref, error) {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	if w <= 0 || h <= 0 || w > 10000 || h > 10000 {
		return Ref{}, fmt.Errorf("seal picture of %dx%d pixels is not usable", w, h)
	}
	rgb := make([]byte, 0, w*h*3)
	alpha := make([]byte, 0, w*h)
	opaque := true
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			c := color.NRGBAModel.Convert(img.At(x, y)).(color.NRGBA)
			rgb = append(rgb, c.R, c.G, c.B)
			alpha = append(alpha, c.A)
			if c.A != 0xff {
				opaque = false
			}
		}
	}
	d := Dict{"Type": Name("XObject"), "Subtype": Name("Image"), "Width": Int(w), "Height": Int(h),
		"ColorSpace": Name("DeviceRGB"), "BitsPerComponent": Int(8)}
	if !opaque {
		sm := inc.add(flateStream(Dict{"Type": Name("XObject"), "Subtype": Name("Image"), "Width": Int(w), "Height": Int(h),
			"ColorSpace": Name("DeviceGray"), "BitsPerComponent": Int(8)}, alpha))
		d["SMask"] = sm
	}
	return inc.add(flateStream(d, rgb)), nil
}

// appearance makes the widget's normal appearance: a form XObject showing the seal picture
// (or the Clip part of it) at the stamp's physical size, counter-rotated for /Rotate pages so
// the seal appears upright. It returns the form and the widget /Rect in user space.
func appearance(inc *increment, p *Page, st document.Stamp, img Ref) (Ref, [4]float64) {
	vis := st.Rect
	clip := st.Clip
	if clip.W <= 0 || clip.H <= 0 {
		clip = document.Rect{W: st.Rect.W, H: st.Rect.H}
	}
	vis = document.Rect{X: st.Rect.X + clip.X, Y: st.Rect.Y + clip.Y, W: clip.W, H: clip.H}
	rect := p.RectToUser(vis)
	s := 1 / (document.MMPerPoint * p.UserUnit)
	bw, bh := clip.W*s, clip.H*s
	W, H := st.Rect.W*s, st.Rect.H*s
	x0 := -clip.X * s
	y0 := -(st.Rect.H - clip.Y - clip.H) * s
	content := fmt.Sprintf("q %s 0 0 %s %s %s cm /Im0 Do Q\n", num(W), num(H), num(x0), num(y0))
	d := Dict{
		"Type": Name("XObject"), "Subtype": Name("Form"),
		"BBox":      Array{Int(0), Int(0), Real(bw), Real(bh)},
		"Resources": Dict{"XObject": Dict{"Im0": img}},
	}
	switch p.Rotate {
	case 90:
		d["Matrix"] = Array{Int(0), Int(1), Int(-1), Int(0), Int(0), Int(0)}
	case 180:
		d["Matrix"] = Array{Int(-1), Int(0), Int(0), Int(-1), Int(0), Int(0)}
	case 270:
		d["Matrix"] = Array{Int(0), Int(-1), Int(1), Int(0), Int(0), Int(0)}
	}
	return inc.add(flateStream(d, []byte(content))), rect
}

func num(f float64) string { return string(appendReal(nil, f)) }
