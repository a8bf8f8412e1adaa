package ofd

import (
	"bytes"
	"fmt"
	"image"

	"github.com/tdewolff/canvas"

	"sealdesk/signer/ses"
)

// Stamp is one StampAnnot of a signature, resolved: where that signature's seal picture shows.
type Stamp struct {
	Signature int    // index in the Signatures.xml list
	SignID    string // the signature's ID
	Type      string // Seal | Sign
	Page      int    // 0-based page index
	Boundary  Box    // page mm
	Clip      *Box   // visible part, relative to Boundary's origin; nil = all
	picture   *sealPicture
}

// sealPicture is the appearance of one signature's seal.
type sealPicture struct {
	format string // png, jpg, gif, bmp, ofd
	img    image.Image
	doc    *Reader
	err    error
}

// Stamps lists every StampAnnot of every signature whose page exists, in signature order. A
// signature whose Signature.xml cannot be read is left out (verification reports it); a
// missing signature list gives an error.
func (r *Reader) Stamps() ([]Stamp, error) {
	r.mu.Lock()
	if r.stampsOK {
		defer r.mu.Unlock()
		return r.stamps, r.stampsErr
	}
	r.mu.Unlock()
	var out []Stamp
	sigs, err := r.Signatures()
	if sigs != nil {
		for i, ref := range sigs.List {
			s, err := r.Signature(ref)
			if err != nil {
				continue
			}
			pic := &sealPicture{}
			loaded := false
			for _, a := range s.StampAnnots {
				pi := r.PageIndex(a.PageRef)
				if pi < 0 {
					continue
				}
				if !loaded {
					loaded = true
					*pic = r.loadPicture(ref, s)
				}
				out = append(out, Stamp{Signature: i, SignID: ref.ID, Type: ref.Type, Page: pi, Boundary: a.Boundary, Clip: a.Clip, picture: pic})
			}
		}
	}
	r.mu.Lock()
	r.stamps, r.stampsErr, r.stampsOK = out, err, true
	r.mu.Unlock()
	return out, err
}

// loadPicture finds the seal of a signature: the SES_Signature in the signed value (Type Seal),
// else the seal file named by Seal/BaseLoc.
func (r *Reader) loadPicture(ref SignatureRef, s *Signature) sealPicture {
	var seal *ses.Seal
	var firstErr error
	if data, err := r.Pkg.ReadFile(s.SignedValuePath); err == nil {
		if sig, err := ses.ParseSignature(data); err == nil && sig.TBS.Seal != nil {
			seal = sig.TBS.Seal
		} else if err != nil {
			firstErr = err
		}
	} else {
		firstErr = err
	}
	if seal == nil && s.SealPath != "" {
		if data, err := r.Pkg.ReadFile(s.SealPath); err == nil {
			if sl, err := ses.ParseSeal(data); err == nil {
				seal = sl
			}
		}
	}
	if seal == nil {
		if firstErr == nil {
			firstErr = fmt.Errorf("signature %s has no seal picture", ref.ID)
		}
		return sealPicture{err: firstErr}
	}
	format, data, _, _ := ses.Picture(seal)
	pic := sealPicture{format: format}
	switch format {
	case ses.PictureOFD:
		// A whole OFD (tax seals): its first page is the picture. Its limits are the defaults;
		// nesting stops here because nested drawers never draw stamps.
		pic.doc, pic.err = Open(bytes.NewReader(data), int64(len(data)), nil)
	default:
		img, err := DecodeImage(data)
		if err != nil {
			pic.err = fmt.Errorf("seal picture (%s): %w", format, err)
		} else {
			pic.img = multiplyOverWhite(img)
		}
	}
	return pic
}

// drawStamps draws the seal pictures of the signatures' StampAnnots on page pageID.
func (d *drawer) drawStamps(pageID ID) {
	stamps, _ := d.rd.Stamps()
	pi := d.rd.PageIndex(pageID)
	for _, s := range stamps {
		if s.Page != pi || s.picture == nil || s.picture.err != nil {
			continue
		}
		b := s.Boundary
		var cl *clip
		if s.Clip != nil {
			c := *s.Clip
			cl = newRectClip(canvas.Rect{X0: b.X + c.X, Y0: b.Y + c.Y, X1: b.X + c.X + c.W, Y1: b.Y + c.Y + c.H}.Transform(d.base))
		}
		switch {
		case s.picture.img != nil:
			sz := s.picture.img.Bounds().Size()
			m := d.base.Mul(canvas.Identity.Translate(b.X, b.Y).Scale(b.W, b.H)).Mul(unitSquare(sz.X, sz.Y))
			d.t.image(s.picture.img, m, cl, 1)
		case s.picture.doc != nil && s.picture.doc.NumPages() > 0:
			pb, err := s.picture.doc.PageBox(0)
			if err != nil || pb.Empty() {
				continue
			}
			pm := canvas.Identity.Translate(b.X, b.Y).Scale(b.W/pb.W, b.H/pb.H).Translate(-pb.X, -pb.Y)
			nd := &drawer{ctx: d.ctx, rd: s.picture.doc, t: d.t, base: d.base.Mul(pm), opts: d.opts, nest: d.nest + 1, clip0: cl}
			nd.fonts = s.picture.doc.fontSet(!d.opts.BundledFontsOnly)
			if err := nd.drawPage(0); err != nil && d.ctx.Err() != nil {
				d.err = err
			}
		}
	}
}
