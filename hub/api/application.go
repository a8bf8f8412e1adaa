package api

import (
	"bytes"
	"fmt"
	"image"
	"image/png"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// What an application may carry, checked the same way by the applicant's side (hub/holder,
// used by the app's form and sealctl seal apply) before anything is sent, and by the hub.
const (
	MaxPictureBytes    = 1 << 20 // a seal picture is embedded in every signature made with it
	MinPicturePx       = 100     // shorter edges print as a blur at 40 mm
	MaxPicturePx       = 4096
	MaxAttachments     = 8
	MaxAttachmentBytes = 2 << 20
	MaxValidDays       = 3650
	DefaultValidDays   = 730
	// minTransparent is the share of fully transparent pixels a seal picture needs: a seal
	// is ink on nothing, so its background (at least the corners around a round seal) must
	// let the document show through.
	minTransparent = 0.10
)

// Problems an application field can have (FieldError.Problem); stable, for translations.
const (
	ProblemMissing    = "missing"    // a required field is empty
	ProblemTooLong    = "too_long"   // longer than 256 bytes
	ProblemUnreadable = "unreadable" // the file cannot be read
	ProblemNotPNG     = "not_png"    // the picture is not a PNG image
	ProblemTooLarge   = "too_large"  // more bytes than allowed (Limit)
	ProblemPixels     = "pixels"     // picture edges outside MinPicturePx…MaxPicturePx
	ProblemOpaque     = "opaque"     // the picture has no transparent background
	ProblemEmpty      = "empty"      // an empty file
	ProblemTooMany    = "too_many"   // more attachments than MaxAttachments
	ProblemFileType   = "file_type"  // an attachment that is not PDF, OFD, PNG or JPEG
	ProblemValidity   = "validity"   // a validity that is not 1…MaxValidDays days
	ProblemUSCC       = "uscc"       // a unified social credit code with a wrong check digit
)

// FieldError is one problem with one field of an application. Field is the JSON name
// (unitName, sealName, contact, uscc, validDays, picture, attachments); File is the file's
// name when the problem is a file's.
type FieldError struct {
	Field   string
	Problem string
	File    string
	Limit   int // bytes, count or days, by Problem
	W, H    int // the picture's size in pixels (ProblemPixels)
	Detail  string
}

func (e *FieldError) Error() string {
	what := e.Field
	if e.File != "" {
		what += " " + e.File
	}
	switch e.Problem {
	case ProblemMissing:
		return what + ": required"
	case ProblemTooLong:
		return what + ": longer than 256 bytes"
	case ProblemNotPNG:
		return what + ": not a PNG image" + detail(e.Detail)
	case ProblemTooLarge:
		return fmt.Sprintf("%s: larger than %d bytes", what, e.Limit)
	case ProblemPixels:
		return fmt.Sprintf("%s: %d×%d pixels; each edge must be %d-%d pixels", what, e.W, e.H, MinPicturePx, MaxPicturePx)
	case ProblemOpaque:
		return what + ": the background is not transparent (a seal picture is ink on a transparent PNG)"
	case ProblemEmpty:
		return what + ": empty file"
	case ProblemTooMany:
		return fmt.Sprintf("%s: at most %d", what, e.Limit)
	case ProblemFileType:
		return what + ": want a PDF, OFD, PNG or JPEG scan"
	case ProblemValidity:
		return fmt.Sprintf("%s %q: want 1-%d days (e.g. 730, 730天 or 2年)", what, e.Detail, MaxValidDays)
	case ProblemUSCC:
		return what + ": " + e.Detail
	}
	return what + ": " + e.Problem + detail(e.Detail)
}

func detail(s string) string {
	if s == "" {
		return ""
	}
	return " (" + s + ")"
}

// CheckPicture checks an uploaded seal picture: a PNG of at most MaxPictureBytes, each edge
// MinPicturePx…MaxPicturePx, with a transparent background.
func CheckPicture(b []byte) error {
	if len(b) == 0 {
		return &FieldError{Field: "picture", Problem: ProblemEmpty}
	}
	if len(b) > MaxPictureBytes {
		return &FieldError{Field: "picture", Problem: ProblemTooLarge, Limit: MaxPictureBytes}
	}
	cfg, err := png.DecodeConfig(bytes.NewReader(b))
	if err != nil {
		return &FieldError{Field: "picture", Problem: ProblemNotPNG, Detail: err.Error()}
	}
	if cfg.Width < MinPicturePx || cfg.Height < MinPicturePx || cfg.Width > MaxPicturePx || cfg.Height > MaxPicturePx {
		return &FieldError{Field: "picture", Problem: ProblemPixels, W: cfg.Width, H: cfg.Height}
	}
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		return &FieldError{Field: "picture", Problem: ProblemNotPNG, Detail: err.Error()}
	}
	if transparentShare(img) < minTransparent {
		return &FieldError{Field: "picture", Problem: ProblemOpaque}
	}
	return nil
}

// transparentShare is the share of (almost) fully transparent pixels, sampled on a grid of
// at most 200×200 points so a large picture costs no more than a small one.
func transparentShare(img image.Image) float64 {
	r := img.Bounds()
	step := max(1, max(r.Dx(), r.Dy())/200)
	var n, clear int
	for y := r.Min.Y; y < r.Max.Y; y += step {
		for x := r.Min.X; x < r.Max.X; x += step {
			n++
			if _, _, _, a := img.At(x, y).RGBA(); a < 0x1000 {
				clear++
			}
		}
	}
	if n == 0 {
		return 0
	}
	return float64(clear) / float64(n)
}

// attachmentTypes are the media types a scan may have, by what its bytes are (never by its name).
var attachmentTypes = map[string]string{"application/pdf": "application/pdf", "image/png": "image/png", "image/jpeg": "image/jpeg",
	"application/zip": "application/ofd"} // an OFD is a ZIP package

// NewAttachment checks one attachment (a scan of the business licence etc.) and returns it
// with its media type taken from its content.
func NewAttachment(name string, data []byte) (Attachment, error) {
	name = filepath.Base(name)
	switch {
	case len(data) == 0:
		return Attachment{}, &FieldError{Field: "attachments", File: name, Problem: ProblemEmpty}
	case len(data) > MaxAttachmentBytes:
		return Attachment{}, &FieldError{Field: "attachments", File: name, Problem: ProblemTooLarge, Limit: MaxAttachmentBytes}
	}
	sniffed, _, _ := strings.Cut(http.DetectContentType(data), ";")
	mt, ok := attachmentTypes[sniffed]
	if !ok || (mt == "application/ofd" && !strings.EqualFold(filepath.Ext(name), ".ofd")) {
		return Attachment{}, &FieldError{Field: "attachments", File: name, Problem: ProblemFileType, Detail: sniffed}
	}
	return Attachment{Name: name, MediaType: mt, Data: data, Size: len(data)}, nil
}

// ParseValidity reads a validity as people write it: days ("730", "730天", "730d") or years
// ("2年", "2y"); "" is the hub's default (0).
func ParseValidity(s string) (int, error) {
	t := strings.ToLower(strings.TrimSpace(s))
	if t == "" {
		return 0, nil
	}
	mult := 1
	for _, suf := range []struct {
		s string
		m int
	}{{"天", 1}, {"日", 1}, {"days", 1}, {"d", 1}, {"年", 365}, {"years", 365}, {"y", 365}} {
		if strings.HasSuffix(t, suf.s) {
			t, mult = strings.TrimSpace(strings.TrimSuffix(t, suf.s)), suf.m
			break
		}
	}
	n, err := strconv.Atoi(t)
	if err != nil || n < 1 || n*mult > MaxValidDays {
		return 0, &FieldError{Field: "validDays", Problem: ProblemValidity, Detail: s, Limit: MaxValidDays}
	}
	return n * mult, nil
}

// CheckRequest checks an application before it is sent: the fields a person must fill in
// (unitName and uscc may be left to the organisation's registered ones), the validity, the
// picture and the attachments. The first problem found is returned as a *FieldError.
func CheckRequest(r *ApplicationRequest) error {
	for _, f := range []struct{ name, v string }{{"sealName", r.SealName}, {"sealType", r.SealType}, {"contact", r.Contact}} {
		if strings.TrimSpace(f.v) == "" {
			return &FieldError{Field: f.name, Problem: ProblemMissing}
		}
	}
	for _, f := range []struct{ name, v string }{{"unitName", r.UnitName}, {"sealName", r.SealName}, {"contact", r.Contact}} {
		if len(f.v) > 256 || !utf8.ValidString(f.v) {
			return &FieldError{Field: f.name, Problem: ProblemTooLong}
		}
	}
	if r.USCC != "" {
		if err := ValidUSCC(r.USCC); err != nil {
			return &FieldError{Field: "uscc", Problem: ProblemUSCC, Detail: err.Error()}
		}
	}
	if r.ValidDays < 0 || r.ValidDays > MaxValidDays {
		return &FieldError{Field: "validDays", Problem: ProblemValidity, Detail: strconv.Itoa(r.ValidDays), Limit: MaxValidDays}
	}
	if len(r.Picture) > 0 {
		if err := CheckPicture(r.Picture); err != nil {
			return err
		}
	}
	if len(r.Attachments) > MaxAttachments {
		return &FieldError{Field: "attachments", Problem: ProblemTooMany, Limit: MaxAttachments}
	}
	for i, a := range r.Attachments {
		checked, err := NewAttachment(a.Name, a.Data)
		if err != nil {
			return err
		}
		r.Attachments[i].MediaType = checked.MediaType
	}
	return nil
}

// EffectiveStatus is a seal's status as listings show it at now: a seal in use (filed,
// active, suspended) whose validity ended is "expired"; final statuses stay what they are.
func EffectiveStatus(s *Seal, now time.Time) string {
	switch s.Status {
	case StatusActive, StatusSuspended, StatusFiled:
		if !s.ValidEnd.IsZero() && now.After(s.ValidEnd) {
			return StatusExpired
		}
	}
	return s.Status
}
