package cli

import (
	"context"
	"errors"
	"fmt"
	"image/png"
	"io"
	"path/filepath"
	"strconv"

	// These commands only use document.OpenFile, so they serve every format formats.go imports.
	"sealdesk/document"
)

func init() {
	Register(&Command{Path: []string{"info"}, Usage: "FILE [--json]",
		Short: "format, pages, page sizes (mm) and signature count of a PDF or OFD", Run: runInfo})
	Register(&Command{Path: []string{"render"}, Usage: "FILE --page N [--dpi 150] -o OUT.png",
		Short: "render one page to a PNG image", Run: runRender})
	Register(&Command{Path: []string{"find"}, Usage: "FILE --text WORD [--json]",
		Short: "find text: page and rectangle (mm from the page's top-left) of every hit", Run: runFind})
}

// openDoc opens a document for the document commands; a file that cannot be read is an input
// error (exit 2).
func openDoc(path string) (document.Document, error) {
	doc, err := document.OpenFile(path)
	if err != nil {
		return nil, Usagef("%v", err)
	}
	return doc, nil
}

// InfoPage is one page of `sealctl info --json`.
type InfoPage struct {
	Page int     `json:"page"` // 1-based
	W    float64 `json:"w"`    // mm
	H    float64 `json:"h"`
}

// Info is the JSON of `sealctl info --json`.
type Info struct {
	File       string          `json:"file"`
	Format     document.Format `json:"format"`
	Pages      int             `json:"pages"`
	PageSizes  []InfoPage      `json:"pageSizes"`
	Signatures int             `json:"signatures"`
}

func runInfo(ctx context.Context, env *Env) error {
	fs := FlagSet(env, "info", "FILE [--json]")
	asJSON := fs.Bool("json", false, "print JSON")
	args, err := Parse(fs, env.Args)
	if err != nil {
		return err
	}
	if len(args) != 1 {
		return Usagef("info takes one FILE (got %d arguments)", len(args))
	}
	doc, err := openDoc(args[0])
	if err != nil {
		return err
	}
	defer doc.Close()
	info := Info{File: args[0], Format: doc.Format(), Pages: doc.NumPages(), PageSizes: []InfoPage{}}
	for i := 0; i < doc.NumPages(); i++ {
		sz, err := doc.PageSize(i)
		if err != nil {
			return Usagef("%v", err)
		}
		info.PageSizes = append(info.PageSizes, InfoPage{Page: i + 1, W: round2(sz.W), H: round2(sz.H)})
	}
	sigs, err := doc.Signatures()
	if err != nil {
		return Usagef("%v", err)
	}
	info.Signatures = len(sigs)
	if *asJSON {
		return PrintJSON(env.Stdout, info)
	}
	fmt.Fprintf(env.Stdout, "file:       %s\nformat:     %s\npages:      %d\n", info.File, info.Format, info.Pages)
	// Runs of equal page sizes print as one line, so a 500-page contract stays readable.
	for i := 0; i < len(info.PageSizes); {
		j := i
		for j+1 < len(info.PageSizes) && info.PageSizes[j+1].W == info.PageSizes[i].W && info.PageSizes[j+1].H == info.PageSizes[i].H {
			j++
		}
		pages := strconv.Itoa(i + 1)
		if j > i {
			pages += "-" + strconv.Itoa(j+1)
		}
		fmt.Fprintf(env.Stdout, "page %-6s %.1f x %.1f mm\n", pages, info.PageSizes[i].W, info.PageSizes[i].H)
		i = j + 1
	}
	fmt.Fprintf(env.Stdout, "signatures: %d\n", info.Signatures)
	return nil
}

func round2(v float64) float64 {
	r, _ := strconv.ParseFloat(strconv.FormatFloat(v, 'f', 2, 64), 64)
	return r
}

func runRender(ctx context.Context, env *Env) error {
	fs := FlagSet(env, "render", "FILE --page N [--dpi 150] -o OUT.png")
	page := fs.Int("page", 1, "page number (1-based)")
	dpi := fs.Float64("dpi", 150, "resolution in dots per inch")
	out := fs.String("o", "", "output PNG file")
	args, err := Parse(fs, env.Args)
	if err != nil {
		return err
	}
	if len(args) != 1 {
		return Usagef("render takes one FILE (got %d arguments)", len(args))
	}
	if *out == "" {
		return Usagef("render needs -o OUT.png")
	}
	if *dpi <= 0 || *dpi > 2400 {
		return Usagef("--dpi %g is out of range (1–2400)", *dpi)
	}
	if same, err := samePath(args[0], *out); err != nil || same {
		return Usagef("output %s is the input file: SealDesk never overwrites the original", *out)
	}
	doc, err := openDoc(args[0])
	if err != nil {
		return err
	}
	defer doc.Close()
	if *page < 1 || *page > doc.NumPages() {
		return Usagef("%s has %d pages; page %d does not exist", args[0], doc.NumPages(), *page)
	}
	img, err := doc.Render(ctx, *page-1, *dpi)
	if err != nil {
		if errors.Is(err, context.Canceled) {
			return err
		}
		return Usagef("%v", err)
	}
	err = document.WriteFileAtomic(*out, func(w io.Writer) error {
		return (&png.Encoder{CompressionLevel: png.BestSpeed}).Encode(w, img)
	})
	if err != nil {
		return Usagef("writing %s: %v", *out, err)
	}
	return nil
}

func samePath(a, b string) (bool, error) {
	aa, err := filepath.Abs(a)
	if err != nil {
		return false, err
	}
	bb, err := filepath.Abs(b)
	if err != nil {
		return false, err
	}
	return aa == bb, nil
}

// FindHit is one hit of `sealctl find --json`: a 1-based page and the box in mm from the
// page's top-left corner.
type FindHit struct {
	Page int           `json:"page"`
	Rect document.Rect `json:"rect"`
	Text string        `json:"text"`
}

// FindResult is the JSON of `sealctl find --json`.
type FindResult struct {
	File string    `json:"file"`
	Text string    `json:"text"`
	Hits []FindHit `json:"hits"`
}

func runFind(ctx context.Context, env *Env) error {
	fs := FlagSet(env, "find", "FILE --text WORD [--json]")
	text := fs.String("text", "", "text to find (case-insensitive)")
	asJSON := fs.Bool("json", false, "print JSON")
	args, err := Parse(fs, env.Args)
	if err != nil {
		return err
	}
	if len(args) != 1 {
		return Usagef("find takes one FILE (got %d arguments)", len(args))
	}
	if *text == "" {
		return Usagef("find needs --text WORD")
	}
	doc, err := openDoc(args[0])
	if err != nil {
		return err
	}
	defer doc.Close()
	hits, err := doc.FindText(ctx, *text)
	if err != nil {
		if errors.Is(err, context.Canceled) {
			return err
		}
		return Usagef("%v", err)
	}
	res := FindResult{File: args[0], Text: *text, Hits: []FindHit{}}
	for _, h := range hits {
		r := h.Rect
		res.Hits = append(res.Hits, FindHit{Page: h.Page + 1, Text: h.Text,
			Rect: document.Rect{X: round2(r.X), Y: round2(r.Y), W: round2(r.W), H: round2(r.H)}})
	}
	if *asJSON {
		if err := PrintJSON(env.Stdout, res); err != nil {
			return err
		}
		if len(hits) == 0 {
			return Silent(ExitNo)
		}
		return nil
	}
	if len(hits) == 0 {
		return Nof("%q not found in %s", *text, args[0])
	}
	for _, h := range res.Hits {
		fmt.Fprintf(env.Stdout, "page %d  x %.2f  y %.2f  w %.2f  h %.2f mm  %s\n", h.Page, h.Rect.X, h.Rect.Y, h.Rect.W, h.Rect.H, h.Text)
	}
	return nil
}
