package ofd

import (
	"context"
	"fmt"
	"io"

	"github.com/tdewolff/canvas"
	"github.com/tdewolff/canvas/renderers/pdf"
)

// WritePDF converts the document to PDF: every page at its PhysicalBox size, drawn by the same
// code as the raster preview (text becomes outlines, so the PDF shows exactly what the preview
// shows but its text is not selectable). Seal pictures of signatures are drawn; the signatures
// themselves cannot carry over (they sign the OFD package). opts may be nil.
func (r *Reader) WritePDF(ctx context.Context, w io.Writer, opts *RenderOptions) (err error) {
	// canvas's PDF writer panics on values it cannot write; a document must cost an error.
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("the PDF writer failed: %v", p)
		}
	}()
	if r.NumPages() == 0 {
		return fmt.Errorf("the document has no pages")
	}
	var out *pdf.PDF
	for i := 0; i < r.NumPages(); i++ {
		b, err := r.PageBox(i)
		if err != nil {
			return err
		}
		if b.Empty() {
			return fmt.Errorf("page %d has an empty page box", i+1)
		}
		if out == nil {
			o := pdf.DefaultOptions
			out = pdf.New(w, b.W, b.H, &o)
			info := r.Body.Info
			out.SetInfo(info.Title, info.Subject, "", info.Author, "SealDesk (OFD to PDF)")
		} else {
			out.NewPage(b.W, b.H)
		}
		t := &target{r: out, gradView: canvas.Identity}
		d := r.newDrawer(ctx, t, pageBase(b, b.H), opts)
		if err := d.drawPage(i); err != nil {
			return fmt.Errorf("page %d: %w", i+1, err)
		}
	}
	return out.Close()
}
