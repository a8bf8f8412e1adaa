package ofd

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	_ "image/gif" // OFD images: GIF (real files use it), JPEG, PNG, BMP, TIFF
	_ "image/jpeg"
	_ "image/png"
	"strings"

	"github.com/tdewolff/canvas"
	_ "golang.org/x/image/bmp"
	_ "golang.org/x/image/tiff"
)

// maxImagePixels bounds one decoded image (a decompression bomb in a PNG costs nothing to ship).
const maxImagePixels = 50 << 20

// ErrJBIG2 says a JBIG2 image uses parts of the standard that decodeJBIG2 does not implement
// (github.com/xiaoqidun/jbig2 is not on the module proxy here); such images are drawn as a
// placeholder box.
var ErrJBIG2 = errors.New("JBIG2 image not supported")

var jbig2Magic = []byte{0x97, 0x4A, 0x42, 0x32, 0x0D, 0x0A, 0x1A, 0x0A}

type mediaEntry struct {
	img image.Image
	err error
}

// DecodeImage decodes image bytes of an OFD package whatever its declared Format says
// (producers mislabel them): PNG, JPEG, GIF, BMP, TIFF, and JBIG2 files of generic regions
// (the QR codes of e-invoices); other JBIG2 gives an error wrapping ErrJBIG2.
func DecodeImage(data []byte) (image.Image, error) {
	if bytes.HasPrefix(data, jbig2Magic) {
		return decodeJBIG2(data)
	}
	cfg, _, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("unknown image format: %w", err)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 || int64(cfg.Width)*int64(cfg.Height) > maxImagePixels {
		return nil, fmt.Errorf("image of %dx%d pixels exceeds the limit of %d", cfg.Width, cfg.Height, maxImagePixels)
	}
	img, _, err := image.Decode(bytes.NewReader(data))
	return img, err
}

// media returns the decoded image of a MultiMedia resource, cached per Reader.
func (r *Reader) media(m *MultiMedia) (image.Image, error) {
	if m == nil || m.MediaFile == "" {
		return nil, fmt.Errorf("image resource without a file")
	}
	r.mu.Lock()
	if r.mediaCache == nil {
		r.mediaCache = map[string]*mediaEntry{}
	}
	e, ok := r.mediaCache[m.MediaFile]
	r.mu.Unlock()
	if ok {
		return e.img, e.err
	}
	e = &mediaEntry{}
	data, err := r.Pkg.ReadFile(m.MediaFile)
	if err != nil {
		e.err = err
	} else if e.img, e.err = DecodeImage(data); e.err != nil {
		e.err = fmt.Errorf("%s: %w", m.MediaFile, e.err)
	}
	r.mu.Lock()
	r.mediaCache[m.MediaFile] = e
	r.mu.Unlock()
	return e.img, e.err
}

// unitSquare maps image pixel space (canvas: y up, w×h) onto the object's unit square (y down).
func unitSquare(w, h int) canvas.Matrix {
	return canvas.Matrix{{1 / float64(w), 0, 0}, {0, -1 / float64(h), 1}}
}

func (d *drawer) imageObject(n *Node, s state) {
	if d.t == nil {
		return
	}
	m := s.res.MultiMedia(parseID(n.Attr("ResourceID")))
	img, err := d.rd.media(m)
	cm := d.base.Mul(s.pm)
	if err != nil {
		if errors.Is(err, ErrJBIG2) {
			d.placeholder(cm, s.clip)
		}
		return // a missing or undecodable image leaves its box empty
	}
	blend := strings.ToLower(n.Attr("BlendMode"))
	if blend == "multiply" || blend == "darken" {
		img = multiplyOverWhite(img)
	}
	sz := img.Bounds().Size()
	d.t.image(img, cm.Mul(unitSquare(sz.X, sz.Y)), s.clip, s.alpha)
}

// placeholder draws a grey crossed box over the object's unit square, where a JBIG2 image
// this package cannot decode would be.
func (d *drawer) placeholder(cm canvas.Matrix, cl *clip) {
	p := canvas.Rectangle(1, 1)
	p.MoveTo(0, 0)
	p.LineTo(1, 1)
	p.MoveTo(1, 0)
	p.LineTo(0, 1)
	gray := color.RGBA{150, 150, 150, 255}
	w := 0.3 / maxf(1e-9, sqrtAbsDet(cm))
	d.t.path(p, canvas.Style{Fill: canvas.Paint{Color: color.RGBA{235, 235, 235, 255}}, Stroke: canvas.Paint{Color: gray},
		StrokeWidth: w, StrokeCapper: canvas.ButtCap, StrokeJoiner: canvas.BevelJoin}, cm, cl)
}

// multiplyOverWhite converts img so that normal alpha blending over white paper gives what a
// multiply blend gives: white becomes transparent and ink keeps its colour. Seal pictures and
// watermarks (BlendMode Multiply/Darken) need it; canvas has no blend modes.
func multiplyOverWhite(img image.Image) image.Image {
	b := img.Bounds()
	out := image.NewRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	draw.Draw(out, out.Bounds(), img, b.Min, draw.Src)
	for i := 0; i < len(out.Pix); i += 4 {
		a := int(out.Pix[i+3])
		if a == 0 {
			continue
		}
		// Un-premultiply, then composite over white to get the visible colour c.
		r := int(out.Pix[i]) + 255 - a
		g := int(out.Pix[i+1]) + 255 - a
		bl := int(out.Pix[i+2]) + 255 - a
		m := min(r, g, bl)
		na := 255 - m // the darkest channel decides how much ink there is
		if na <= 0 {
			out.Pix[i], out.Pix[i+1], out.Pix[i+2], out.Pix[i+3] = 0, 0, 0, 0
			continue
		}
		// premultiplied colour p with p + (255-na) = c for each channel
		out.Pix[i] = uint8(r - (255 - na))
		out.Pix[i+1] = uint8(g - (255 - na))
		out.Pix[i+2] = uint8(bl - (255 - na))
		out.Pix[i+3] = uint8(na)
	}
	return out
}
