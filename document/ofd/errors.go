package ofd

import (
	"errors"
	"fmt"
)

// Error kinds. Every error this package returns for a bad input wraps one of them (test with
// errors.Is) inside an *Error that names the package file concerned.
var (
	// ErrNotOFD: the input is not a ZIP archive or has no /OFD.xml.
	ErrNotOFD = errors.New("not an OFD package")
	// ErrZipBomb: an entry (or the archive as a whole) decompresses to more than the limits
	// allow, or with a suspicious compression ratio.
	ErrZipBomb = errors.New("archive exceeds the decompression limits (possible zip bomb)")
	// ErrPathEscape: an ST_Loc or entry name points above the package root.
	ErrPathEscape = errors.New("path escapes the package root")
	// ErrMissing: a referenced package file does not exist.
	ErrMissing = errors.New("file missing from the package")
	// ErrXMLTooLarge: an XML file is larger or has more elements than allowed.
	ErrXMLTooLarge = errors.New("XML file too large")
	// ErrXMLTooDeep: XML elements nest deeper than allowed.
	ErrXMLTooDeep = errors.New("XML nesting too deep")
	// ErrXMLEntity: the XML declares a DTD or uses entities (never used by OFD; refused so
	// that no entity expansion trick can apply).
	ErrXMLEntity = errors.New("XML DTD or entity not allowed")
	// ErrMalformed: a file is not well-formed XML or a required value is missing or invalid.
	ErrMalformed = errors.New("malformed OFD content")
)

// Error is a problem with one file of an OFD package.
type Error struct {
	Path   string // package path ("/Doc_0/Document.xml"), or "" for the archive itself
	Kind   error  // one of the Err* values above
	Detail string // what exactly is wrong
}

func (e *Error) Error() string {
	msg := e.Kind.Error()
	if e.Detail != "" {
		msg += ": " + e.Detail
	}
	if e.Path != "" {
		msg = e.Path + ": " + msg
	}
	return msg
}

func (e *Error) Unwrap() error { return e.Kind }

func errorf(path string, kind error, format string, args ...any) error {
	return &Error{Path: path, Kind: kind, Detail: fmt.Sprintf(format, args...)}
}
