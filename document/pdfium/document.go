package pdfium

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"

	gopdfium "github.com/klippa-app/go-pdfium"
	"github.com/klippa-app/go-pdfium/enums"
	pdferrors "github.com/klippa-app/go-pdfium/errors"
	"github.com/klippa-app/go-pdfium/references"
	"github.com/klippa-app/go-pdfium/requests"
	"github.com/klippa-app/go-pdfium/structs"

	"sealdesk/document"
)

// Document is an open PDF file. It implements document.Document.
type Document struct {
	e    *Engine
	id   uint64
	path string
	name string
	f    io.ReaderAt // the file, or the caller's bytes (OpenAt)
	fc   io.Closer   // closes f; nil for OpenAt
	size int64
	n    int

	handles map[int]*handle // by worker id; guarded by e.mu
	active  int             // calls in flight (holding a worker); guarded by e.mu

	geomMu sync.Mutex
	geom   []*pageGeom

	closed atomic.Bool
}

var _ document.Document = (*Document)(nil)

// handle is the document opened on one PDFium instance.
type handle struct {
	doc     references.FPDF_DOCUMENT
	form    references.FPDF_FORMHANDLE
	hasForm bool
}

// pageGeom is a page's visible size in points and the affine map from PDF user space to points
// from the visible top-left corner (CropBox, /Rotate), as PDFium computes them.
type pageGeom struct {
	w, h       float64
	hasXform   bool
	a, b, c, d float64
	tx, ty     float64
}

func (g *pageGeom) toTopLeft(x, y float64) (float64, float64) {
	return g.a*x + g.c*y + g.tx, g.b*x + g.d*y + g.ty
}

// rectMM maps a user-space rectangle to millimetres from the visible top-left corner.
func (g *pageGeom) rectMM(left, bottom, right, top float64) document.Rect {
	minX, minY := math.Inf(1), math.Inf(1)
	maxX, maxY := math.Inf(-1), math.Inf(-1)
	for _, p := range [][2]float64{{left, bottom}, {right, bottom}, {left, top}, {right, top}} {
		x, y := g.toTopLeft(p[0], p[1])
		minX, maxX = math.Min(minX, x), math.Max(maxX, x)
		minY, maxY = math.Min(minY, y), math.Max(maxY, y)
	}
	return document.Rect{
		X: minX * document.MMPerPoint, Y: minY * document.MMPerPoint,
		W: (maxX - minX) * document.MMPerPoint, H: (maxY - minY) * document.MMPerPoint,
	}
}

var docIDs atomic.Uint64

// Sniff reports whether head starts a PDF file: "%PDF-" within the first 1024 bytes, where
// PDF readers look for it (some producers put junk before the header).
func Sniff(head []byte) bool {
	if len(head) > 1024 {
		head = head[:1024]
	}
	return bytes.Contains(head, []byte("%PDF-"))
}

// Open opens the PDF at path on the default engine.
func Open(path string) (*Document, error) {
	e, err := Default()
	if err != nil {
		return nil, err
	}
	return e.Open(path)
}

// MaxFileSize is the largest PDF the preview engine can open: PDFium runs as 32-bit
// WebAssembly, so file offsets and the file size it is given are 32-bit (a larger size made it
// ask for tens of GiB of memory and the process die). Signing and verification do not use
// PDFium and have no such limit.
const MaxFileSize = 1<<32 - 1

// TooLargeError says a file is past MaxFileSize.
type TooLargeError struct {
	Path string
	Size int64
}

func (e *TooLargeError) Error() string {
	return fmt.Sprintf("%s is %d MB; the preview shows PDF files up to %d MB (signing and verifying it still work)",
		e.Path, e.Size>>20, MaxFileSize>>20)
}

// ErrEncrypted is returned for password-protected files (SealDesk does not ask for passwords).
var ErrEncrypted = errors.New("the PDF is password protected")

// Open opens the PDF at path. The file stays open (read only) until Close.
func (e *Engine) Open(path string) (*Document, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	if st.IsDir() {
		f.Close()
		return nil, fmt.Errorf("%s is a directory, not a PDF file", path)
	}
	if st.Size() > MaxFileSize {
		f.Close()
		return nil, &TooLargeError{Path: path, Size: st.Size()}
	}
	d, err := e.open(&Document{
		e: e, id: docIDs.Add(1), path: path, name: filepath.Base(path), f: f, fc: f, size: st.Size(),
		handles: map[int]*handle{},
	})
	if err != nil {
		return nil, err
	}
	return d, nil
}

// OpenAt opens the PDF in r (size bytes) on the default engine; name labels errors. r must
// stay readable until Close. Nothing is written to disk (sealhub checks uploads in memory).
func OpenAt(r io.ReaderAt, size int64, name string) (*Document, error) {
	e, err := Default()
	if err != nil {
		return nil, err
	}
	if size > MaxFileSize {
		return nil, &TooLargeError{Path: name, Size: size}
	}
	return e.open(&Document{e: e, id: docIDs.Add(1), name: name, f: r, size: size, handles: map[int]*handle{}})
}

func (e *Engine) open(d *Document) (*Document, error) {
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		if d.fc != nil {
			d.fc.Close()
		}
		return nil, errClosed
	}
	e.docs[d] = struct{}{}
	e.mu.Unlock()

	err := d.with(context.Background(), func(inst gopdfium.Pdfium, h *handle) error {
		res, err := inst.FPDF_GetPageCount(&requests.FPDF_GetPageCount{Document: h.doc})
		if err != nil {
			return err
		}
		d.n = res.PageCount
		return nil
	})
	if err == nil && d.n <= 0 {
		err = errors.New("it has no pages")
	}
	if err != nil {
		d.Close()
		return nil, d.wrap(err)
	}
	d.geom = make([]*pageGeom, d.n)
	return d, nil
}

// wrap names the file in an error from the engine.
func (d *Document) wrap(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, ErrEncrypted) {
		return fmt.Errorf("%s: %w", d.name, err)
	}
	// PDFium's own errors read "3: incorrect format"; say it in words.
	switch {
	case errors.Is(err, pdferrors.ErrFormat):
		return fmt.Errorf("%s is not a readable PDF: its structure is damaged or it is not a PDF file", d.name)
	case errors.Is(err, pdferrors.ErrFile):
		return fmt.Errorf("%s is not a readable PDF: the preview engine could not read the file", d.name)
	case errors.Is(err, pdferrors.ErrSecurity):
		return fmt.Errorf("%s is not a readable PDF: its encryption is not supported", d.name)
	case errors.Is(err, pdferrors.ErrPage):
		return fmt.Errorf("%s is not a readable PDF: a page is damaged", d.name)
	}
	return fmt.Errorf("%s: not a readable PDF: %w", d.name, err)
}

func (d *Document) handleOn(id int) *handle { return d.handles[id] }

var errDocClosed = errors.New("the document is closed")

// with runs fn on an idle PDFium instance that has the document open, opening it there first
// when needed. A panic or a WebAssembly trap retires the instance and becomes an error.
func (d *Document) with(ctx context.Context, fn func(inst gopdfium.Pdfium, h *handle) error) (err error) {
	if d.closed.Load() {
		return errDocClosed
	}
	w, err := d.e.acquire(ctx, d)
	if err != nil {
		return err
	}
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("PDFium failed: %v", r)
			w.dead = true
		} else if isTrap(err) {
			w.dead = true
		}
		d.e.release(w, d)
	}()
	d.e.mu.Lock()
	h := d.handles[w.id]
	d.e.mu.Unlock()
	if h == nil {
		h, err = d.openOn(w.inst)
		if err != nil {
			return err
		}
		d.e.mu.Lock()
		d.handles[w.id] = h
		d.e.mu.Unlock()
	}
	return fn(w.inst, h)
}

func (d *Document) openOn(inst gopdfium.Pdfium) (*handle, error) {
	// Each instance reads through its own section reader: seek positions are per reader, and
	// ReadAt on the shared file is safe for concurrent use.
	res, err := inst.OpenDocument(&requests.OpenDocument{
		FileReader:     io.NewSectionReader(d.f, 0, d.size),
		FileReaderSize: d.size,
	})
	if err != nil {
		if errors.Is(err, pdferrors.ErrPassword) {
			return nil, ErrEncrypted
		}
		return nil, err
	}
	return &handle{doc: res.Document}, nil
}

// Format implements document.Document.
func (d *Document) Format() document.Format { return document.PDF }

// NumPages implements document.Document.
func (d *Document) NumPages() int { return d.n }

// Path is the file the document was opened from.
func (d *Document) Path() string { return d.path }

func (d *Document) checkPage(i int) error {
	if i < 0 || i >= d.n {
		return fmt.Errorf("%s: page %d does not exist (the document has %d pages)", d.name, i+1, d.n)
	}
	return nil
}

// geometry returns page i's size (and, when xform is set, its user-space transform), asking
// PDFium once per page.
func (d *Document) geometry(ctx context.Context, i int, xform bool) (*pageGeom, error) {
	if err := d.checkPage(i); err != nil {
		return nil, err
	}
	d.geomMu.Lock()
	g := d.geom[i]
	d.geomMu.Unlock()
	if g != nil && (!xform || g.hasXform) {
		return g, nil
	}
	var ng pageGeom
	err := d.with(ctx, func(inst gopdfium.Pdfium, h *handle) error {
		var err error
		ng, err = pageGeometry(inst, h, i, xform)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("%s: page %d: %w", d.name, i+1, err)
	}
	d.geomMu.Lock()
	d.geom[i] = &ng
	d.geomMu.Unlock()
	return &ng, nil
}

// pageGeometry runs on a worker. The transform comes from FPDF_PageToDevice, which returns
// integer device pixels: mapping onto a device 64 pixels per point keeps the error under 0.01 mm.
func pageGeometry(inst gopdfium.Pdfium, h *handle, i int, xform bool) (pageGeom, error) {
	var g pageGeom
	sz, err := inst.FPDF_GetPageSizeByIndexF(&requests.FPDF_GetPageSizeByIndexF{Document: h.doc, Index: i})
	if err != nil {
		return g, err
	}
	g.w, g.h = float64(sz.Size.Width), float64(sz.Size.Height)
	if !(g.w > 0 && g.h > 0) || math.IsInf(g.w, 0) || math.IsInf(g.h, 0) {
		return g, fmt.Errorf("invalid page size %gx%g pt", g.w, g.h)
	}
	if !xform {
		return g, nil
	}
	const k = 64.0
	page := requests.Page{ByIndex: &requests.PageByIndex{Document: h.doc, Index: i}}
	dev := func(x, y float64) (float64, float64, error) {
		r, err := inst.FPDF_PageToDevice(&requests.FPDF_PageToDevice{
			Page: page, SizeX: int(math.Round(g.w * k)), SizeY: int(math.Round(g.h * k)), PageX: x, PageY: y,
		})
		if err != nil {
			return 0, 0, err
		}
		return float64(r.DeviceX) / k, float64(r.DeviceY) / k, nil
	}
	// Three points far apart give the affine map with small rounding error.
	const far = 1000.0
	x0, y0, err := dev(0, 0)
	if err != nil {
		return g, err
	}
	x1, y1, err := dev(far, 0)
	if err != nil {
		return g, err
	}
	x2, y2, err := dev(0, far)
	if err != nil {
		return g, err
	}
	g.a, g.b = (x1-x0)/far, (y1-y0)/far
	g.c, g.d = (x2-x0)/far, (y2-y0)/far
	g.tx, g.ty = x0, y0
	g.hasXform = true
	return g, nil
}

// PageSize implements document.Document: the visible size in mm (CropBox, after /Rotate).
func (d *Document) PageSize(i int) (document.Size, error) {
	g, err := d.geometry(context.Background(), i, false)
	if err != nil {
		return document.Size{}, err
	}
	return document.Size{W: g.w * document.MMPerPoint, H: g.h * document.MMPerPoint}, nil
}

// PageSizePt is the visible size of page i in PDF points.
func (d *Document) PageSizePt(i int) (w, h float64, err error) {
	g, err := d.geometry(context.Background(), i, false)
	if err != nil {
		return 0, 0, err
	}
	return g.w, g.h, nil
}

// MaxPixels bounds one rendered page (the WebAssembly instance has a 4 GB address space that
// also holds the document).
const MaxPixels = 80_000_000

// Render implements document.Document: page i at dpi, with forms and annotations, on white.
// The returned image is shared with the page cache and must not be modified.
func (d *Document) Render(ctx context.Context, i int, dpi float64) (image.Image, error) {
	img, err := d.RenderRGBA(ctx, i, dpi)
	if err != nil {
		return nil, err
	}
	return img, nil
}

// Thumbnail renders page i so that its longer side is maxPx pixels.
func (d *Document) Thumbnail(ctx context.Context, i int, maxPx int) (image.Image, error) {
	if maxPx < 1 {
		return nil, fmt.Errorf("thumbnail size %d px is not positive", maxPx)
	}
	g, err := d.geometry(ctx, i, false)
	if err != nil {
		return nil, err
	}
	return d.Render(ctx, i, float64(maxPx)*72/math.Max(g.w, g.h))
}

// RenderRGBA is Render with the concrete image type.
func (d *Document) RenderRGBA(ctx context.Context, i int, dpi float64) (*image.RGBA, error) {
	if !(dpi > 0) || dpi > 4800 {
		return nil, fmt.Errorf("%s: resolution %g dpi is out of range (0–4800)", d.name, dpi)
	}
	g, err := d.geometry(ctx, i, false)
	if err != nil {
		return nil, err
	}
	pw := max(1, int(math.Round(g.w*dpi/72)))
	ph := max(1, int(math.Round(g.h*dpi/72)))
	if int64(pw)*int64(ph) > MaxPixels {
		return nil, fmt.Errorf("%s: page %d at %g dpi would be %dx%d pixels, more than %d", d.name, i+1, dpi, pw, ph, MaxPixels)
	}
	key := cacheKey{doc: d.id, page: i, w: pw, h: ph}
	if img := d.e.images.get(key); img != nil {
		return img, nil
	}
	var img *image.RGBA
	err = d.with(ctx, func(inst gopdfium.Pdfium, h *handle) error {
		var err error
		img, err = renderPage(ctx, inst, h, i, pw, ph)
		return err
	})
	if err != nil {
		if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			return nil, err
		}
		return nil, fmt.Errorf("%s: page %d: %w", d.name, i+1, err)
	}
	if !d.closed.Load() {
		d.e.images.put(key, img)
	}
	return img, nil
}

// renderPage draws page i into a pw×ph bitmap with PDFium's progressive renderer, which asks
// between steps whether to pause: a cancelled ctx stops a long render midway.
func renderPage(ctx context.Context, inst gopdfium.Pdfium, h *handle, i, pw, ph int) (*image.RGBA, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	// A BGRA bitmap filled with opaque white: PDFium then writes the alpha byte itself (255
	// everywhere), so the copy below is a plain memory copy.
	bm, err := inst.FPDFBitmap_Create(&requests.FPDFBitmap_Create{Width: pw, Height: ph, Alpha: 1})
	if err != nil {
		return nil, err
	}
	defer inst.FPDFBitmap_Destroy(&requests.FPDFBitmap_Destroy{Bitmap: bm.Bitmap})
	if _, err := inst.FPDFBitmap_FillRect(&requests.FPDFBitmap_FillRect{Bitmap: bm.Bitmap, Width: pw, Height: ph, Color: 0xFFFFFFFF}); err != nil {
		return nil, err
	}
	page := requests.Page{ByIndex: &requests.PageByIndex{Document: h.doc, Index: i}}
	// REVERSE_BYTE_ORDER makes PDFium write RGB(x) instead of BGR(x), Go's byte order.
	flags := enums.FPDF_RENDER_FLAG_ANNOT | enums.FPDF_RENDER_FLAG_REVERSE_BYTE_ORDER
	pause := func() bool { return ctx.Err() != nil }
	st, err := inst.FPDF_RenderPageBitmap_Start(&requests.FPDF_RenderPageBitmap_Start{
		Bitmap: bm.Bitmap, Page: page, SizeX: pw, SizeY: ph, Flags: flags, NeedToPauseNowCallback: pause,
	})
	if err != nil {
		return nil, err
	}
	status := st.RenderStatus
	for status == enums.FPDF_RENDER_STATUS_TOBECONTINUED && ctx.Err() == nil {
		c, err := inst.FPDF_RenderPage_Continue(&requests.FPDF_RenderPage_Continue{Page: page, NeedToPauseNowCallback: pause})
		if err != nil {
			inst.FPDF_RenderPage_Close(&requests.FPDF_RenderPage_Close{Page: page})
			return nil, err
		}
		status = c.RenderStatus
	}
	inst.FPDF_RenderPage_Close(&requests.FPDF_RenderPage_Close{Page: page})
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if status == enums.FPDF_RENDER_STATUS_FAILED {
		return nil, errors.New("PDFium could not render the page")
	}
	// Form fields (signature widgets among them) are drawn by the form-fill layer, not by the
	// page renderer: without this the seal of a signed PDF would be missing.
	if form, ok := formHandle(inst, h); ok {
		if _, err := inst.FPDF_FFLDraw(&requests.FPDF_FFLDraw{
			FormHandle: form, Bitmap: bm.Bitmap, Page: page, SizeX: pw, SizeY: ph, Flags: flags,
		}); err != nil {
			return nil, err
		}
	}
	stride, err := inst.FPDFBitmap_GetStride(&requests.FPDFBitmap_GetStride{Bitmap: bm.Bitmap})
	if err != nil {
		return nil, err
	}
	buf, err := inst.FPDFBitmap_GetBuffer(&requests.FPDFBitmap_GetBuffer{Bitmap: bm.Bitmap})
	if err != nil {
		return nil, err
	}
	if stride.Stride < pw*4 || len(buf.Buffer) < stride.Stride*(ph-1)+pw*4 {
		return nil, fmt.Errorf("PDFium returned a %d-byte bitmap for %dx%d pixels", len(buf.Buffer), pw, ph)
	}
	// The buffer is a view into WebAssembly memory, valid until the bitmap is destroyed: copy.
	img := image.NewRGBA(image.Rect(0, 0, pw, ph))
	if stride.Stride == img.Stride {
		copy(img.Pix, buf.Buffer[:len(img.Pix)])
	} else {
		for y := 0; y < ph; y++ {
			copy(img.Pix[y*img.Stride:y*img.Stride+pw*4], buf.Buffer[y*stride.Stride:])
		}
	}
	return img, nil
}

// formHandle initialises PDFium's form-fill environment for the document once per instance.
// Documents without forms still get one (PDFium handles that); failure only means forms are
// not drawn.
func formHandle(inst gopdfium.Pdfium, h *handle) (references.FPDF_FORMHANDLE, bool) {
	if h.hasForm {
		return h.form, true
	}
	res, err := inst.FPDFDOC_InitFormFillEnvironment(&requests.FPDFDOC_InitFormFillEnvironment{
		Document: h.doc,
		FormFillInfo: structs.FPDF_FORMFILLINFO{
			// A viewer-only environment: no interaction, so the callbacks do nothing.
			FFI_Invalidate:         func(references.FPDF_PAGE, float64, float64, float64, float64) {},
			FFI_SetCursor:          func(enums.FXCT) {},
			FFI_SetTimer:           func(int, func(int)) int { return 0 },
			FFI_KillTimer:          func(int) {},
			FFI_GetLocalTime:       func() structs.FPDF_SYSTEMTIME { return structs.FPDF_SYSTEMTIME{} },
			FFI_GetPage:            func(references.FPDF_DOCUMENT, int) *references.FPDF_PAGE { return nil },
			FFI_GetRotation:        func(references.FPDF_PAGE) enums.FPDF_PAGE_ROTATION { return 0 },
			FFI_ExecuteNamedAction: func(string) {},
		},
	})
	if err != nil {
		return "", false
	}
	h.form, h.hasForm = res.FormHandle, true
	return h.form, true
}

// FindText implements document.Document: every occurrence of query (case-insensitive), in page
// order, each with the union of its characters' boxes.
func (d *Document) FindText(ctx context.Context, query string) ([]document.Hit, error) {
	if strings.TrimSpace(query) == "" {
		return nil, errors.New("the search text is empty")
	}
	var hits []document.Hit
	for i := 0; i < d.n; i++ {
		g, err := d.geometry(ctx, i, true)
		if err != nil {
			return nil, err
		}
		// One instance call per page, so renders interleave with a long search.
		err = d.with(ctx, func(inst gopdfium.Pdfium, h *handle) error {
			ph, err := findOnPage(inst, h, i, query, g)
			hits = append(hits, ph...)
			return err
		})
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			return nil, fmt.Errorf("%s: page %d: text search: %w", d.name, i+1, err)
		}
	}
	return hits, nil
}

func findOnPage(inst gopdfium.Pdfium, h *handle, i int, query string, g *pageGeom) ([]document.Hit, error) {
	page := requests.Page{ByIndex: &requests.PageByIndex{Document: h.doc, Index: i}}
	tp, err := inst.FPDFText_LoadPage(&requests.FPDFText_LoadPage{Page: page})
	if err != nil {
		return nil, err
	}
	defer inst.FPDFText_ClosePage(&requests.FPDFText_ClosePage{TextPage: tp.TextPage})
	s, err := inst.FPDFText_FindStart(&requests.FPDFText_FindStart{TextPage: tp.TextPage, Find: query})
	if err != nil {
		return nil, err
	}
	defer inst.FPDFText_FindClose(&requests.FPDFText_FindClose{Search: s.Search})
	var hits []document.Hit
	for {
		next, err := inst.FPDFText_FindNext(&requests.FPDFText_FindNext{Search: s.Search})
		if err != nil {
			return hits, err
		}
		if !next.GotMatch {
			return hits, nil
		}
		idx, err := inst.FPDFText_GetSchResultIndex(&requests.FPDFText_GetSchResultIndex{Search: s.Search})
		if err != nil {
			return hits, err
		}
		cnt, err := inst.FPDFText_GetSchCount(&requests.FPDFText_GetSchCount{Search: s.Search})
		if err != nil {
			return hits, err
		}
		l, b, r, t := math.Inf(1), math.Inf(1), math.Inf(-1), math.Inf(-1)
		for c := idx.Index; c < idx.Index+cnt.Count; c++ {
			// The loose box spans the font's ascent to descent, the line a reader sees; the
			// tight glyph box can be flat for fonts PDFium substitutes.
			var cl, cb, cr, ct float64
			if lb, err := inst.FPDFText_GetLooseCharBox(&requests.FPDFText_GetLooseCharBox{TextPage: tp.TextPage, Index: c}); err == nil {
				cl, cb, cr, ct = float64(lb.Rect.Left), float64(lb.Rect.Bottom), float64(lb.Rect.Right), float64(lb.Rect.Top)
			} else if box, err := inst.FPDFText_GetCharBox(&requests.FPDFText_GetCharBox{TextPage: tp.TextPage, Index: c}); err == nil {
				cl, cb, cr, ct = box.Left, box.Bottom, box.Right, box.Top
			} else {
				continue // generated characters (spaces, line breaks) have no box
			}
			if cr <= cl && ct <= cb {
				continue
			}
			l, b = math.Min(l, cl), math.Min(b, cb)
			r, t = math.Max(r, cr), math.Max(t, ct)
		}
		if math.IsInf(l, 0) {
			continue
		}
		text := query
		if tx, err := inst.FPDFText_GetText(&requests.FPDFText_GetText{TextPage: tp.TextPage, StartIndex: idx.Index, Count: cnt.Count}); err == nil && tx.Text != "" {
			text = tx.Text
		}
		hits = append(hits, document.Hit{Page: i, Rect: g.rectMM(l, b, r, t), Text: text})
	}
}

// PageText returns the text of page i in reading order as PDFium extracts it.
func (d *Document) PageText(ctx context.Context, i int) (string, error) {
	if err := d.checkPage(i); err != nil {
		return "", err
	}
	var text string
	err := d.with(ctx, func(inst gopdfium.Pdfium, h *handle) error {
		page := requests.Page{ByIndex: &requests.PageByIndex{Document: h.doc, Index: i}}
		tp, err := inst.FPDFText_LoadPage(&requests.FPDFText_LoadPage{Page: page})
		if err != nil {
			return err
		}
		defer inst.FPDFText_ClosePage(&requests.FPDFText_ClosePage{TextPage: tp.TextPage})
		n, err := inst.FPDFText_CountChars(&requests.FPDFText_CountChars{TextPage: tp.TextPage})
		if err != nil || n.Count == 0 {
			return err
		}
		res, err := inst.FPDFText_GetText(&requests.FPDFText_GetText{TextPage: tp.TextPage, StartIndex: 0, Count: n.Count})
		if err != nil {
			return err
		}
		text = res.Text
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("%s: page %d: %w", d.name, i+1, err)
	}
	return text, nil
}

// Close implements document.Document: it frees the document on every instance, drops its cached
// pages and closes the file. Calls in flight finish first.
func (d *Document) Close() error {
	if d.closed.Swap(true) {
		return nil
	}
	e := d.e
	for {
		e.mu.Lock()
		if e.closed {
			// The engine's instances are gone, and the documents with them.
			delete(e.docs, d)
			e.mu.Unlock()
			break
		}
		var target *worker
		// Calls in flight may still open the document on another instance: let them finish.
		waiting := d.active > 0
		for _, w := range e.workers {
			if d.handles[w.id] == nil {
				continue
			}
			if w.busy {
				waiting = true
				continue
			}
			target = w
			break
		}
		if target == nil && !waiting {
			delete(e.docs, d)
			e.mu.Unlock()
			break
		}
		if target == nil {
			wake := e.wake
			e.mu.Unlock()
			<-wake
			continue
		}
		target.busy = true
		h := d.handles[target.id]
		delete(d.handles, target.id)
		e.mu.Unlock()
		func() {
			defer func() {
				if recover() != nil {
					target.dead = true
				}
				e.release(target, nil)
			}()
			if h.hasForm {
				target.inst.FPDFDOC_ExitFormFillEnvironment(&requests.FPDFDOC_ExitFormFillEnvironment{FormHandle: h.form})
			}
			if _, err := target.inst.FPDF_CloseDocument(&requests.FPDF_CloseDocument{Document: h.doc}); isTrap(err) {
				target.dead = true
			}
		}()
	}
	e.images.dropDoc(d.id)
	if d.fc == nil {
		return nil
	}
	return d.fc.Close()
}
