package document

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
)

// WriteFileAtomic writes what fill produces to path through a temporary file in the same
// directory and renames it into place only when fill succeeded, so a crash or an error never
// leaves a half-written output, and an existing file at path is replaced in one step.
//
// The temporary file is named .NAME.tmp-* and held (an advisory lock) while it is written; a
// process killed while writing leaves it behind, and the next write of the same output (or
// the outbox's recovery, see RemoveStaleTemps) removes it.
func WriteFileAtomic(path string, fill func(w io.Writer) error) (err error) {
	dir := filepath.Dir(path)
	RemoveStaleTemps(path)
	tmp, err := os.CreateTemp(dir, tempPrefix(path)+"*")
	if err != nil {
		return fmt.Errorf("cannot create output in %s: %w", dir, err)
	}
	holdTemp(tmp)
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if err = fill(tmp); err != nil {
		return err
	}
	if err = tmp.Sync(); err != nil {
		return err
	}
	if err = tmp.Chmod(0o644); err != nil {
		return err
	}
	if runtime.GOOS == "windows" {
		// Windows renames no open file; there an open file is not removable either, so the
		// closed temporary file is unprotected only for the instant before the rename.
		if err = tmp.Close(); err != nil {
			return err
		}
		return os.Rename(tmp.Name(), path)
	}
	// Renamed while still open and locked, so no RemoveStaleTemps can take it for stale.
	if err = os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	return tmp.Close()
}

func tempPrefix(path string) string { return "." + filepath.Base(path) + ".tmp-" }

// RemoveStaleTemps removes the temporary files that WriteFileAtomic calls for path left behind
// when their process died while writing (kill -9, a power cut), and returns how many it
// removed. A temporary file that a living process is still writing is left alone.
func RemoveStaleTemps(path string) (int, error) {
	dir := filepath.Dir(path)
	ents, err := os.ReadDir(dir)
	if err != nil {
		return 0, err
	}
	prefix, n := tempPrefix(path), 0
	for _, e := range ents {
		if !e.Type().IsRegular() || !strings.HasPrefix(e.Name(), prefix) {
			continue
		}
		p := filepath.Join(dir, e.Name())
		st, err := e.Info()
		if err != nil || !staleTemp(p, st) {
			continue
		}
		if os.Remove(p) == nil {
			n++
		}
	}
	return n, nil
}

// SignFile signs the file at inPath into a new file at outPath. The input is never modified;
// outPath must differ from inPath.
func SignFile(ctx context.Context, inPath, outPath string, req *SignRequest) error {
	ai, err := filepath.Abs(inPath)
	if err != nil {
		return err
	}
	ao, err := filepath.Abs(outPath)
	if err != nil {
		return err
	}
	if ai == ao {
		return fmt.Errorf("output %s is the input file: SealDesk never overwrites the original", outPath)
	}
	format, h, err := Detect(inPath)
	if err != nil {
		return err
	}
	if req.Profile.FormatOf() != format {
		return fmt.Errorf("profile %s does not apply to a %s file (%s)", req.Profile, format, inPath)
	}
	if h.Sign == nil {
		return fmt.Errorf("signing %s files is not built in", format)
	}
	if err := ResolveStamps(ctx, inPath, req); err != nil {
		return err
	}
	in, err := os.Open(inPath)
	if err != nil {
		return err
	}
	defer in.Close()
	st, err := in.Stat()
	if err != nil {
		return err
	}
	return WriteFileAtomic(outPath, func(w io.Writer) error {
		return h.Sign(ctx, in, st.Size(), req, w)
	})
}

// ResolveStamps turns req.Placements into req.Stamps for the document at inPath (opening it
// only when a placement needs its pages or text), unless req already has stamps or signs into
// an existing field. SignFile calls it; a caller that needs the stamps first (the pages a
// signing record names) may call it before.
func ResolveStamps(ctx context.Context, inPath string, req *SignRequest) error {
	if req.Field != "" && len(req.Placements) > 0 {
		return fmt.Errorf("signature field %q keeps its own widget: give no seal placement with it", req.Field)
	}
	if len(req.Stamps) > 0 || req.Field != "" {
		return nil
	}
	var pages Pages
	if NeedsPages(req.Placements) {
		doc, err := OpenFile(inPath)
		if err != nil {
			return err
		}
		defer doc.Close()
		pages = doc
	}
	var err error
	req.Stamps, err = ResolvePlacements(ctx, pages, req.Placements, req.PictureW, req.PictureH)
	return err
}

// StampedPages lists the 1-based pages req's stamps are on, ascending, each once.
func (req *SignRequest) StampedPages() []int {
	seen := map[int]bool{}
	var pages []int
	for _, st := range req.Stamps {
		if p := st.Page + 1; !seen[p] {
			seen[p] = true
			pages = append(pages, p)
		}
	}
	slices.Sort(pages)
	return pages
}

// FileError is an error about a named file: every error VerifyFile and OpenFile return is one,
// so whoever shows it names the file the person gave (issue 12: "not an OFD package: …" did
// not say which file).
type FileError struct {
	Path string
	Err  error
}

func (e *FileError) Error() string {
	msg := e.Err.Error()
	base := filepath.Base(e.Path)
	if strings.Contains(msg, e.Path) || strings.HasPrefix(msg, base+":") || strings.HasPrefix(msg, base+" ") {
		return msg
	}
	return e.Path + ": " + msg
}

func (e *FileError) Unwrap() error { return e.Err }

// fileErr wraps err as a *FileError for path (nil stays nil; one already about path stays).
func fileErr(path string, err error) error {
	if err == nil {
		return nil
	}
	var fe *FileError
	if errors.As(err, &fe) && fe.Path == path {
		return err
	}
	return &FileError{Path: path, Err: err}
}

// VerifyFile verifies every signature of the file at path.
func VerifyFile(ctx context.Context, path string, opts *VerifyOptions) (*VerifyReport, error) {
	rep, err := verifyFile(ctx, path, opts)
	return rep, fileErr(path, err)
}

func verifyFile(ctx context.Context, path string, opts *VerifyOptions) (*VerifyReport, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	return VerifyAt(ctx, f, st.Size(), path, opts)
}

// VerifyAt verifies every signature of the document in r (size bytes); name is what the
// report's file field and errors call it. VerifyFile and sealhub's seal-check page (which
// checks uploads in memory and never writes them to disk) share it, so both report the same
// facts.
func VerifyAt(ctx context.Context, r io.ReaderAt, size int64, name string, opts *VerifyOptions) (*VerifyReport, error) {
	head := make([]byte, min(size, 1024))
	n, _ := r.ReadAt(head, 0)
	format, h, err := DetectHead(head[:n], filepath.Base(name))
	if err != nil {
		return nil, err
	}
	if h.Verify == nil {
		return nil, fmt.Errorf("verifying %s files is not built in", format)
	}
	if opts == nil {
		opts = &VerifyOptions{}
	}
	in := r
	if opts.Progress != nil {
		in = &progressReader{r: r, size: size, report: opts.Progress}
	}
	rep, err := h.Verify(ctx, in, size, opts)
	if err != nil {
		return nil, err
	}
	rep.File = name
	rep.Format = format
	rep.Decide()
	return rep, nil
}

// progressReader reports how many bytes verification has read (at most the file's size: the
// bulk of the work is one pass hashing the signed bytes), at most every 1/200 of the file.
type progressReader struct {
	r      io.ReaderAt
	size   int64
	report func(read, size int64)
	mu     sync.Mutex
	read   int64
	last   int64
}

func (p *progressReader) ReadAt(b []byte, off int64) (int, error) {
	n, err := p.r.ReadAt(b, off)
	p.mu.Lock()
	if p.last < p.size {
		p.read = min(p.read+int64(n), p.size)
		if p.read-p.last >= p.size/200 || p.read == p.size {
			p.last = p.read
			p.report(p.read, p.size)
		}
	}
	p.mu.Unlock()
	return n, err
}

// OpenFile opens a document for preview.
func OpenFile(path string) (Document, error) {
	doc, err := openFile(path)
	return doc, fileErr(path, err)
}

func openFile(path string) (Document, error) {
	format, h, err := Detect(path)
	if err != nil {
		return nil, err
	}
	if h.Open == nil {
		return nil, fmt.Errorf("previewing %s files is not built in", format)
	}
	return h.Open(path)
}

// OpenAt opens the document in r (size bytes) for preview; r must stay readable until the
// document is closed.
func OpenAt(r io.ReaderAt, size int64, name string) (Document, error) {
	head := make([]byte, min(size, 1024))
	n, _ := r.ReadAt(head, 0)
	format, h, err := DetectHead(head[:n], filepath.Base(name))
	if err != nil {
		return nil, err
	}
	if h.OpenAt == nil {
		return nil, fmt.Errorf("previewing %s files from memory is not built in", format)
	}
	return h.OpenAt(r, size, name)
}
