package document

import (
	"context"
	"fmt"
)

// Pages is the part of a Document that placement needs.
type Pages interface {
	NumPages() int
	PageSize(i int) (Size, error)
	FindText(ctx context.Context, query string) ([]Hit, error)
}

// NeedsPages reports whether resolving ps needs the document (text search or page sizes);
// plain rectangles resolve without opening it, so stamping stays fast.
func NeedsPages(ps []Placement) bool {
	for _, p := range ps {
		if p.Rect == nil && p.At == nil {
			return true
		}
	}
	return false
}

// ResolvePlacements turns placements into stamps. sealW and sealH are the seal's physical size
// in mm, used when a placement gives none. doc may be nil when NeedsPages is false.
func ResolvePlacements(ctx context.Context, doc Pages, ps []Placement, sealW, sealH float64) ([]Stamp, error) {
	if len(ps) == 0 {
		return nil, fmt.Errorf("no seal placement given (use --page/--at, --keyword or --cross-page)")
	}
	var out []Stamp
	for i, p := range ps {
		w, h := p.SealW, p.SealH
		if w <= 0 || h <= 0 {
			w, h = sealW, sealH
		}
		if w <= 0 || h <= 0 {
			return nil, fmt.Errorf("placement %d: the seal size is unknown (give --size)", i+1)
		}
		switch {
		case p.Rect != nil || p.At != nil:
			var r Rect
			if p.Rect != nil {
				r = *p.Rect
			} else {
				r = Rect{X: p.At.X - w/2, Y: p.At.Y - h/2, W: w, H: h}
			}
			if r.W <= 0 || r.H <= 0 {
				return nil, fmt.Errorf("placement %d: empty seal rectangle %gx%g mm", i+1, r.W, r.H)
			}
			if doc != nil {
				if err := checkOnPage(doc, p.Page, r); err != nil {
					return nil, fmt.Errorf("placement %d: %w", i+1, err)
				}
			}
			out = append(out, Stamp{Page: p.Page, Rect: r})
		case p.Keyword != "":
			hits, err := doc.FindText(ctx, p.Keyword)
			if err != nil {
				return nil, err
			}
			if len(hits) == 0 {
				return nil, fmt.Errorf("keyword %q not found in the document", p.Keyword)
			}
			if p.Nth > 0 {
				if p.Nth > len(hits) {
					return nil, fmt.Errorf("keyword %q occurs %d times; hit %d does not exist", p.Keyword, len(hits), p.Nth)
				}
				hits = hits[p.Nth-1 : p.Nth]
			}
			for _, hit := range hits {
				cx, cy := hit.Rect.Center()
				cx += p.OffsetX
				cy += p.OffsetY
				out = append(out, Stamp{Page: hit.Page, Rect: Rect{X: cx - w/2, Y: cy - h/2, W: w, H: h}})
			}
		case p.CrossPage:
			stamps, err := crossPage(doc, p, w, h)
			if err != nil {
				return nil, fmt.Errorf("placement %d: %w", i+1, err)
			}
			out = append(out, stamps...)
		default:
			return nil, fmt.Errorf("placement %d: give a rectangle, a keyword or cross-page", i+1)
		}
	}
	return out, nil
}

func checkOnPage(doc Pages, page int, r Rect) error {
	if page < 0 || page >= doc.NumPages() {
		return fmt.Errorf("page %d does not exist (the document has %d pages)", page+1, doc.NumPages())
	}
	sz, err := doc.PageSize(page)
	if err != nil {
		return err
	}
	if r.X+r.W <= 0 || r.Y+r.H <= 0 || r.X >= sz.W || r.Y >= sz.H {
		return fmt.Errorf("the seal at (%.1f, %.1f) mm lies outside page %d (%.1f x %.1f mm)", r.X, r.Y, page+1, sz.W, sz.H)
	}
	return nil
}

// crossPage cuts the seal into one vertical strip per page (骑缝章): strip k shows on page k at
// the right edge, so that the pages, fanned out left to right, show the whole seal. Each stamp
// carries the whole seal's rectangle (reaching past the page edge) and the strip as its clip.
func crossPage(doc Pages, p Placement, w, h float64) ([]Stamp, error) {
	n := doc.NumPages()
	first, last := p.FirstPage, p.LastPage
	if last < 0 || last >= n {
		last = n - 1
	}
	if first < 0 || first > last {
		return nil, fmt.Errorf("page range %d-%d is not inside the document's %d pages", first+1, last+1, n)
	}
	count := last - first + 1
	if count < 2 {
		return nil, fmt.Errorf("a cross-page seal needs at least two pages")
	}
	strip := w / float64(count)
	var out []Stamp
	for k := 0; k < count; k++ {
		sz, err := doc.PageSize(first + k)
		if err != nil {
			return nil, err
		}
		cy := p.CrossPageY
		if cy <= 0 {
			cy = sz.H / 2
		}
		out = append(out, Stamp{
			Page: first + k,
			Rect: Rect{X: sz.W - strip - float64(k)*strip, Y: cy - h/2, W: w, H: h},
			Clip: Rect{X: float64(k) * strip, Y: 0, W: strip, H: h},
		})
	}
	return out, nil
}
