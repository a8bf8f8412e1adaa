package ses

import (
	"bytes"
	"fmt"
	"image"
	"image/gif"
	"image/jpeg"
	"image/png"
	"strings"

	"golang.org/x/image/bmp"
)

// Picture formats as SealDesk names them (the seal's own spelling varies: "PNG", "png", "jpeg").
const (
	PicturePNG = "png"
	PictureJPG = "jpg"
	PictureGIF = "gif"
	PictureBMP = "bmp"
	PictureOFD = "ofd"
)

// maxPictureMM bounds a sane seal picture side; real seals are 20–60 mm.
const maxPictureMM = 500

// Picture returns the seal picture: its normalised format (png, jpg, gif, bmp, ofd), its bytes
// and its physical size in millimetres. Format comes from the bytes when they are recognisable,
// since producers mislabel them.
func Picture(s *Seal) (format string, data []byte, wMM, hMM float64) {
	p := s.Info.Picture
	return pictureFormat(p), p.Data, float64(p.Width), float64(p.Height)
}

func pictureFormat(p PictureInfo) string {
	d := p.Data
	switch {
	case bytes.HasPrefix(d, []byte("\x89PNG\r\n\x1a\n")):
		return PicturePNG
	case bytes.HasPrefix(d, []byte{0xff, 0xd8, 0xff}):
		return PictureJPG
	case bytes.HasPrefix(d, []byte("GIF8")):
		return PictureGIF
	case bytes.HasPrefix(d, []byte("BM")):
		return PictureBMP
	case bytes.HasPrefix(d, []byte("PK\x03\x04")):
		return PictureOFD
	}
	switch t := strings.ToLower(strings.TrimSpace(p.Type)); t {
	case "jpeg":
		return PictureJPG
	default:
		return t
	}
}

// DecodePicture decodes a png/jpg/gif/bmp seal picture. Pictures of type "ofd" (a whole OFD
// package, as tax seals use) are not images: the OFD renderer draws them, and this returns an
// error saying so.
func DecodePicture(s *Seal) (image.Image, error) {
	f, data, _, _ := Picture(s)
	r := bytes.NewReader(data)
	var img image.Image
	var err error
	switch f {
	case PicturePNG:
		img, err = png.Decode(r)
	case PictureJPG:
		img, err = jpeg.Decode(r)
	case PictureGIF:
		img, err = gif.Decode(r)
	case PictureBMP:
		img, err = bmp.Decode(r)
	case PictureOFD:
		return nil, fmt.Errorf("ses: seal %q picture is an OFD document; render it with the OFD renderer", s.Info.ESID)
	default:
		return nil, fmt.Errorf("ses: seal %q picture type %q is not supported", s.Info.ESID, s.Info.Picture.Type)
	}
	if err != nil {
		return nil, fmt.Errorf("ses: seal %q %s picture: %w", s.Info.ESID, f, err)
	}
	return img, nil
}

// checkPicture checks what can be checked without rendering: a known format whose header
// decodes, a positive sane size.
func checkPicture(p PictureInfo) error {
	if p.Width <= 0 || p.Height <= 0 || p.Width > maxPictureMM || p.Height > maxPictureMM {
		return fmt.Errorf("picture size %d×%d mm is not sane", p.Width, p.Height)
	}
	if len(p.Data) == 0 {
		return fmt.Errorf("picture is empty")
	}
	f := pictureFormat(p)
	r := bytes.NewReader(p.Data)
	var err error
	switch f {
	case PicturePNG:
		_, err = png.DecodeConfig(r)
	case PictureJPG:
		_, err = jpeg.DecodeConfig(r)
	case PictureGIF:
		_, err = gif.DecodeConfig(r)
	case PictureBMP:
		_, err = bmp.DecodeConfig(r)
	case PictureOFD:
		// A ZIP package; the OFD engineer's reader validates it when rendering.
	default:
		return fmt.Errorf("picture type %q is not png, jpg, gif, bmp or ofd", p.Type)
	}
	if err != nil {
		return fmt.Errorf("%s picture does not decode: %v", f, err)
	}
	return nil
}
