package pdfium

import (
	"io"

	"sealdesk/document"
)

func init() {
	// document/pdf registers signing and verification for PDF; Register merges the parts.
	document.Register(&document.Handler{
		Format: document.PDF,
		Sniff:  Sniff,
		Open:   openDocument,
		OpenAt: func(r io.ReaderAt, size int64, name string) (document.Document, error) {
			d, err := OpenAt(r, size, name)
			if err != nil {
				return nil, err
			}
			return d, nil
		},
	})
}

// openDocument avoids returning a typed nil inside a non-nil interface.
func openDocument(path string) (document.Document, error) {
	d, err := Open(path)
	if err != nil {
		return nil, err
	}
	return d, nil
}
