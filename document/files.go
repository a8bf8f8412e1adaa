package document

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// WriteFileAtomic writes what fill produces to path through a temporary file in the same
// directory and renames it into place only when fill succeeded, so a crash or an error never
// leaves a half-written output, and an existing file at path is replaced in one step.
func WriteFileAtomic(path string, fill func(w io.Writer) error) (err error) {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("cannot create output in %s: %w", dir, err)
	}
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
	if err = tmp.Close(); err != nil {
		return err
	}
	if err = os.Chmod(tmp.Name(), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
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
	if req.Field != "" && len(req.Placements) > 0 {
		return fmt.Errorf("signature field %q keeps its own widget: give no seal placement with it", req.Field)
	}
	if len(req.Stamps) == 0 && req.Field == "" {
		var pages Pages
		if NeedsPages(req.Placements) {
			doc, err := OpenFile(inPath)
			if err != nil {
				return err
			}
			defer doc.Close()
			pages = doc
		}
		if req.Stamps, err = ResolvePlacements(ctx, pages, req.Placements, req.PictureW, req.PictureH); err != nil {
			return err
		}
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

// VerifyFile verifies every signature of the file at path.
func VerifyFile(ctx context.Context, path string, opts *VerifyOptions) (*VerifyReport, error) {
	format, h, err := Detect(path)
	if err != nil {
		return nil, err
	}
	if h.Verify == nil {
		return nil, fmt.Errorf("verifying %s files is not built in", format)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if opts == nil {
		opts = &VerifyOptions{}
	}
	rep, err := h.Verify(ctx, f, st.Size(), opts)
	if err != nil {
		return nil, err
	}
	rep.File = path
	rep.Format = format
	rep.Decide()
	return rep, nil
}

// OpenFile opens a document for preview.
func OpenFile(path string) (Document, error) {
	format, h, err := Detect(path)
	if err != nil {
		return nil, err
	}
	if h.Open == nil {
		return nil, fmt.Errorf("previewing %s files is not built in", format)
	}
	return h.Open(path)
}
