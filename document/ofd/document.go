package ofd

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"io"

	"github.com/emmansun/gmsm/smx509"

	"sealdesk/document"
	"sealdesk/signer/ses"
)

func init() {
	document.Register(&document.Handler{
		Format: document.OFD,
		Sniff:  Sniff,
		Open: func(path string) (document.Document, error) {
			return OpenDocument(path)
		},
		OpenAt: func(r io.ReaderAt, size int64, name string) (document.Document, error) {
			rd, err := Open(r, size, nil)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", name, err)
			}
			return NewDocument(rd, nil), nil
		},
	})
}

// Sniff reports whether a file's first bytes may be an OFD. OFD.xml may sit anywhere in the
// archive, so the first bytes only show a ZIP; Open then says clearly when OFD.xml is missing.
// No other ZIP-based format is registered.
func Sniff(head []byte) bool {
	return bytes.HasPrefix(head, []byte("PK\x03\x04")) || bytes.HasPrefix(head, []byte("PK\x05\x06"))
}

// Document is an open OFD for preview: it implements document.Document over a Reader.
type Document struct {
	rd   *Reader
	opts RenderOptions
}

// OpenDocument opens the OFD file at path with the default limits.
func OpenDocument(path string) (*Document, error) {
	rd, err := OpenFile(path, nil)
	if err != nil {
		return nil, err
	}
	return NewDocument(rd, nil), nil
}

// NewDocument wraps an opened Reader; opts (may be nil) apply to every Render.
func NewDocument(rd *Reader, opts *RenderOptions) *Document {
	d := &Document{rd: rd}
	if opts != nil {
		d.opts = *opts
	}
	return d
}

// Reader returns the underlying reader (for signing and verifying).
func (d *Document) Reader() *Reader { return d.rd }

func (d *Document) Format() document.Format { return document.OFD }
func (d *Document) NumPages() int           { return d.rd.NumPages() }
func (d *Document) Close() error            { return d.rd.Close() }

// PageSize is the page's PhysicalBox size in mm (OFD pages have no rotation).
func (d *Document) PageSize(i int) (document.Size, error) {
	b, err := d.rd.PageBox(i)
	if err != nil {
		return document.Size{}, err
	}
	return document.Size{W: b.W, H: b.H}, nil
}

// Render draws page i at dpi, seals of signatures included.
func (d *Document) Render(ctx context.Context, i int, dpi float64) (image.Image, error) {
	img, err := d.rd.RenderPage(ctx, i, dpi, &d.opts)
	if err != nil {
		return nil, err
	}
	return img, nil
}

// FindText returns every occurrence of query, page by page.
func (d *Document) FindText(ctx context.Context, query string) ([]document.Hit, error) {
	var out []document.Hit
	for i := 0; i < d.rd.NumPages(); i++ {
		hits, err := d.rd.Find(ctx, i, query)
		if err != nil {
			return nil, err
		}
		out = append(out, hits...)
	}
	return out, nil
}

// Signatures lists the signatures of Signatures.xml with their stamp positions, and what the
// signed value says about signer, time and SES version (without verifying anything).
func (d *Document) Signatures() ([]document.SignatureInfo, error) {
	sigs, err := d.rd.Signatures()
	if err != nil || sigs == nil {
		return nil, err
	}
	stamps, _ := d.rd.Stamps()
	var out []document.SignatureInfo
	for i, ref := range sigs.List {
		info := document.SignatureInfo{Index: i, Name: ref.ID, Profile: "ofd-sign"}
		s, err := d.rd.Signature(ref)
		if err != nil {
			info.Extra = append(info.Extra, err.Error())
			out = append(out, info)
			continue
		}
		info.Time = s.SignatureDateTime
		if ref.Type == "Seal" {
			info.Profile = string(document.ProfileOFDSES4)
			if data, err := d.rd.Pkg.ReadFile(s.SignedValuePath); err == nil {
				if sv, err := ses.ParseSignature(data); err == nil {
					if sv.Version() == ses.V1 {
						info.Profile = string(document.ProfileOFDSES1)
					}
					if c, err := smx509.ParseCertificate(sv.Cert); err == nil {
						info.Signer = c.Subject.CommonName
					}
					if sv.TBS.Seal != nil {
						info.Extra = append(info.Extra, fmt.Sprintf("seal %s (%s)", sv.TBS.Seal.Info.Property.Name, sv.TBS.Seal.Info.ESID))
					}
				} else {
					info.Extra = append(info.Extra, "signed value: "+err.Error())
				}
			}
		}
		for _, st := range stamps {
			if st.Signature != i {
				continue
			}
			r := document.Rect{X: st.Boundary.X, Y: st.Boundary.Y, W: st.Boundary.W, H: st.Boundary.H}
			if st.Clip != nil {
				r = document.Rect{X: st.Boundary.X + st.Clip.X, Y: st.Boundary.Y + st.Clip.Y, W: st.Clip.W, H: st.Clip.H}
			}
			info.Pages = append(info.Pages, st.Page)
			info.Rects = append(info.Rects, r)
		}
		out = append(out, info)
	}
	return out, nil
}

var _ document.Document = (*Document)(nil)
