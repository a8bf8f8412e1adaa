// Package document holds the format-neutral types that the PDF and OFD packages share with the
// CLI and the UI: an open Document (pages, rendering, text search, signatures), where a seal goes
// (Placement), what signing needs (SignRequest) and what verification found (VerifyReport, whose
// JSON form is the contract of `sealctl verify --json`, see docs/CLI.md).
//
// Formats register themselves (document/pdf, document/ofd) in init functions; import them for
// their side effect, as image decoders are imported:
//
//	import _ "sealdesk/document/pdf"
package document

import (
	"context"
	"errors"
	"fmt"
	"image"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"sealdesk/signer"
	"sealdesk/signer/check"
	"sealdesk/signer/trust"
)

// Format names a document format.
type Format string

const (
	PDF Format = "pdf"
	OFD Format = "ofd"
)

// MMPerPoint converts PDF points to millimetres.
const MMPerPoint = 25.4 / 72

// Rect is a rectangle in millimetres from the page's visible top-left corner (what a user
// measures on paper): X grows right, Y grows down.
type Rect struct {
	X float64 `json:"x"`
	Y float64 `json:"y"`
	W float64 `json:"w"`
	H float64 `json:"h"`
}

// Center returns the centre of r.
func (r Rect) Center() (x, y float64) { return r.X + r.W/2, r.Y + r.H/2 }

// Contains reports whether r fully contains o.
func (r Rect) Contains(o Rect) bool {
	return o.X >= r.X && o.Y >= r.Y && o.X+o.W <= r.X+r.W && o.Y+o.H <= r.Y+r.H
}

// Size is a page size in millimetres.
type Size struct {
	W float64 `json:"w"`
	H float64 `json:"h"`
}

// Hit is one text search result: a 0-based page index and the matched text's box.
type Hit struct {
	Page int    `json:"page"`
	Rect Rect   `json:"rect"`
	Text string `json:"text"`
}

// SignatureInfo is what a document says about one of its signatures without verifying it:
// enough to draw an overlay and list it.
type SignatureInfo struct {
	Index   int      `json:"index"`
	Name    string   `json:"name"`
	Profile string   `json:"profile"`
	Pages   []int    `json:"pages"` // 0-based pages that show a widget or stamp
	Rects   []Rect   `json:"rects"` // one per entry of Pages
	Signer  string   `json:"signer,omitempty"`
	Time    string   `json:"time,omitempty"`
	Extra   []string `json:"extra,omitempty"`
}

// Document is an open PDF or OFD file. Implementations are safe for concurrent use.
type Document interface {
	Format() Format
	NumPages() int
	// PageSize is the visible size of page i (0-based), in millimetres, after rotation.
	PageSize(i int) (Size, error)
	// Render draws page i at dpi; it stops early when ctx is cancelled.
	Render(ctx context.Context, i int, dpi float64) (image.Image, error)
	// FindText returns every occurrence of query, in page order.
	FindText(ctx context.Context, query string) ([]Hit, error)
	// Signatures lists the signatures with their on-page rectangles.
	Signatures() ([]SignatureInfo, error)
	Close() error
}

// Point is a position in millimetres from the page's visible top-left corner.
type Point struct {
	X float64 `json:"x"`
	Y float64 `json:"y"`
}

// Placement says where one seal goes. Exactly one of the modes is set:
//   - Rect (with Page): the seal's box, mm from the page's top-left;
//   - At (with Page): the seal's centre (`sealctl sign --at`), sized SealW×SealH or the seal's own size;
//   - Keyword: the seal centred on each hit of Keyword (or only the Nth, 1-based) plus Offset;
//   - CrossPage: a 骑缝章, the seal cut into strips over the right edge of pages
//     FirstPage..LastPage (0-based, inclusive; LastPage -1 = last page), centred at Y.
type Placement struct {
	Page int    `json:"page"`
	Rect *Rect  `json:"rect,omitempty"`
	At   *Point `json:"at,omitempty"`

	Keyword    string  `json:"keyword,omitempty"`
	Nth        int     `json:"nth,omitempty"` // 0 = every hit
	OffsetX    float64 `json:"offsetX,omitempty"`
	OffsetY    float64 `json:"offsetY,omitempty"`
	SealW      float64 `json:"sealW,omitempty"` // 0 = the seal's own size
	SealH      float64 `json:"sealH,omitempty"`
	CrossPage  bool    `json:"crossPage,omitempty"`
	FirstPage  int     `json:"firstPage,omitempty"`
	LastPage   int     `json:"lastPage,omitempty"`
	CrossPageY float64 `json:"crossPageY,omitempty"` // centre, mm from top; 0 = middle of the page
}

// Stamp is a resolved placement: one seal image (or one strip of it) on one page.
type Stamp struct {
	Page int  `json:"page"`
	Rect Rect `json:"rect"` // where the whole seal picture is drawn (may reach past the page edge)
	Clip Rect `json:"clip"` // visible part, relative to Rect's origin; zero = whole picture
}

// Profile names a signature profile.
type Profile string

const (
	ProfilePAdES   Profile = "pades"
	ProfilePDFGM   Profile = "pdf-gm"
	ProfilePDFSES  Profile = "pdf-ses"
	ProfileOFDSES4 Profile = "ofd-ses4"
	ProfileOFDSES1 Profile = "ofd-ses1"
)

// Profiles lists every profile, in the order the CLI documents them.
var Profiles = []Profile{ProfilePAdES, ProfilePDFGM, ProfilePDFSES, ProfileOFDSES4, ProfileOFDSES1}

// FormatOf reports the format a profile applies to.
func (p Profile) FormatOf() Format {
	if strings.HasPrefix(string(p), "ofd") {
		return OFD
	}
	return PDF
}

// SignRequest is everything signing a document needs.
type SignRequest struct {
	Profile    Profile
	Identity   *signer.Identity
	Seal       []byte // DER SES seal; required for SES profiles, gives the picture for the others
	Picture    image.Image
	PictureW   float64 // picture's physical size in mm (from the seal), used when a placement has none
	PictureH   float64
	Placements []Placement
	// Stamps are the resolved placements (SignFile fills them from Placements); format
	// signers draw exactly these.
	Stamps   []Stamp
	Reason   string
	Location string
	// TSA is an RFC 3161 time-stamp service URL; empty for none.
	TSA string
	// Certify makes the signature a certification (DocMDP) signature with this permission
	// level (1, 2 or 3); 0 for an ordinary approval signature. PDF only.
	Certify int
	// Field names an existing, empty signature field (fully qualified name) to sign instead of
	// placing a new seal: the field keeps its own widget, so Placements must be empty. PDF only.
	Field string
	// Lock makes an OFD signature also protect Signatures.xml (WholeProtected): no signature
	// can be added after it without breaking it. OFD only; false keeps co-signing possible.
	Lock bool
	// Time overrides the signing time (tests); zero means now.
	Time time.Time
	// AllowNonSM2 lets an OFD be signed with an ECDSA or RSA key (SHA-256 digests). OFD
	// verifiers other than ours (ofdrw and the vendors' readers) use SM3 throughout and report
	// such a signature as tampered, so OFD signing refuses these keys (NonSM2Error) unless this
	// is set (`sealctl sign --allow-non-sm2`). PDF ignores it.
	AllowNonSM2 bool
}

// NonSM2Error is the refusal to sign an OFD with a key that is not SM2 (see
// SignRequest.AllowNonSM2). Text gives the reason in the user's language.
type NonSM2Error struct {
	Algorithm signer.KeyAlgorithm
}

func (e *NonSM2Error) Error() string {
	return fmt.Sprintf("ofd: refusing to sign with an %s key: OFD readers other than SealDesk (ofdrw and the vendors' readers) check OFD signatures with SM3 only and would report this document as tampered; sign OFD files with an SM2 key, or allow it explicitly (--allow-non-sm2) when only SealDesk will verify the file", strings.ToUpper(string(e.Algorithm)))
}

// Text is the reason in Chinese (zh true) or English.
func (e *NonSM2Error) Text(zh bool) string {
	if zh {
		return fmt.Sprintf("拒绝用 %s 密钥签署 OFD：其他 OFD 阅读器（如 ofdrw 及各厂商的阅读器）只用 SM3 验证 OFD 签名，会把这份文件报告为已被篡改。请用 SM2 密钥签署 OFD 文件；只有确定仅由 SealDesk 验证时，才可明确允许（--allow-non-sm2）。", strings.ToUpper(string(e.Algorithm)))
	}
	return e.Error()
}

// The values of a report's facts (Status), and of changesAfter.
const (
	OK         = check.OK
	Failed     = check.Failed
	Unknown    = check.Unknown
	None       = "none"
	Allowed    = "allowed"
	Disallowed = "disallowed"
)

// SealReport describes an SES seal found in a signature.
type SealReport struct {
	ESID       string   `json:"esID"`
	Name       string   `json:"name"`
	Version    int      `json:"version"`
	Type       int      `json:"type"`
	ValidStart string   `json:"validStart"`
	ValidEnd   string   `json:"validEnd"`
	Maker      string   `json:"maker"`
	Vendor     string   `json:"vendor,omitempty"`
	Checks     Status   `json:"checks"` // ok | failed | unknown
	Problems   []string `json:"problems,omitempty"`
}

// SignatureReport is the verification result of one signature; see docs/CLI.md for the fields
// external scripts depend on.
type SignatureReport struct {
	Index               int         `json:"index"`
	Name                string      `json:"name,omitempty"`
	Profile             string      `json:"profile"`
	Integrity           Status      `json:"integrity"`          // ok | failed | unknown
	ChangesAfter        string      `json:"changesAfter"`       // none | allowed | disallowed
	Trust               Status      `json:"trust"`              // ok | failed | unknown
	Revocation          Status      `json:"revocation"`         // ok | failed | unknown
	Registry            Status      `json:"registry,omitempty"` // ok | failed | unknown; empty when no hub was asked
	Seal                *SealReport `json:"seal"`
	Signer              string      `json:"signer"`
	SignerCertSHA256    string      `json:"signerCertSHA256,omitempty"`
	SignedAt            string      `json:"signedAt,omitempty"`
	TimeSource          string      `json:"timeSource,omitempty"` // claimed | timestamp
	CoversWholeDocument bool        `json:"coversWholeDocument"`
	Covered             []string    `json:"covered,omitempty"` // byte ranges or package files
	Changes             []string    `json:"changes,omitempty"` // what later revisions changed
	Pages               []int       `json:"pages,omitempty"`
	Rects               []Rect      `json:"rects,omitempty"`
	Valid               bool        `json:"valid"`
	// Indication is the verdict in colours: valid (green), invalid (red: proven wrong) or
	// indeterminate (amber: could not be established); see SignatureVerdict.
	Indication Indication `json:"indication"`
	Problems   []Problem  `json:"problems"`
	// LTV says what long-term validation material the signature has and which the verifier
	// used (PDF; nil where the format has none).
	LTV *LTVReport `json:"ltv,omitempty"`

	// ChangedRegions are where the changes after signing show on the pages (docs/CLI.md).
	ChangedRegions []ChangedRegion `json:"changedRegions,omitempty"`
}

// LTVReport is the long-term validation of one signature (PAdES B-LT/B-LTA, EN 319 142-1;
// the same for pdf-gm and pdf-ses signatures): the time the chain and the revocation were
// judged at, what proves it, the validation material the document carries for the signature
// and the revocation answers the check used.
type LTVReport struct {
	// Level is the highest PAdES baseline level whose parts are present: B-B, B-T (a
	// signature time-stamp or a document time-stamp covering it), B-LT (and validation
	// material for it in the document security store), B-LTA (and a document time-stamp over
	// that material).
	Level string `json:"level"`
	// ValidationTime is the time (RFC 3339) the certificates and the revocation were judged
	// at: the time-stamped or claimed signing time (the PAdES validation model).
	ValidationTime string `json:"validationTime"`
	// ExistenceProvenAt is the time of the earliest valid document time-stamp covering the
	// signature: a revocation after it does not invalidate the signature.
	ExistenceProvenAt string `json:"existenceProvenAt,omitempty"`
	// DSS: the document has a document security store; VRI: it has an entry for this signature.
	DSS bool `json:"dss"`
	VRI bool `json:"vri"`
	// Embedded counts what the document security store holds.
	Embedded LTVCounts `json:"embedded"`
	// Used lists the revocation answers the check used, each with its source: embedded (from
	// the document), network or cache.
	Used []trust.Evidence `json:"used"`
}

// LTVCounts counts validation material.
type LTVCounts struct {
	Certs int `json:"certs"`
	CRLs  int `json:"crls"`
	OCSPs int `json:"ocsps"`
}

// Decide sets Valid from the facts: integrity ok, changes not disallowed, trust ok, seal checks
// passing (when there is a seal), and the registry not saying the seal was out of force (when a hub
// was asked); and Indication from the facts and the problem codes (SignatureVerdict). Facts
// stay as they are; only the verdict is derived.
func (s *SignatureReport) Decide() {
	s.Valid = s.Integrity == OK && s.ChangesAfter != Disallowed && s.Trust == OK &&
		(s.Seal == nil || s.Seal.Checks == OK) && s.Registry != Failed
	if s.Problems == nil {
		s.Problems = []Problem{}
	}
	s.Indication, _ = SignatureVerdict(s)
}

// AddProblem records a finding.
func (s *SignatureReport) AddProblem(code, format string, args ...any) {
	s.Problems = append(s.Problems, Problem{Code: code, Message: fmt.Sprintf(format, args...)})
}

// VerifyReport is the verification result of a whole document.
type VerifyReport struct {
	File       string            `json:"file"`
	Format     Format            `json:"format"`
	Valid      bool              `json:"valid"`
	Indication Indication        `json:"indication"`
	Signatures []SignatureReport `json:"signatures"`
	Uncovered  []string          `json:"uncovered"`
	Problems   []Problem         `json:"problems,omitempty"`
}

// Decide sets Valid: at least one signature and every one valid.
func (r *VerifyReport) Decide() {
	if r.Signatures == nil {
		r.Signatures = []SignatureReport{}
	}
	if r.Uncovered == nil {
		r.Uncovered = []string{}
	}
	r.Valid = len(r.Signatures) > 0
	for i := range r.Signatures {
		r.Signatures[i].Decide()
		r.Valid = r.Valid && r.Signatures[i].Valid
	}
	r.Indication = DocumentVerdict(r)
}

// VerifyOptions configures verification.
type VerifyOptions struct {
	// TrustPEM holds extra trust anchors (PEM bundle) for this run.
	TrustPEM []byte
	// SignerCertPEM supplies the signer certificate for bare signatures that carry none.
	SignerCertPEM []byte
	// Offline forbids network revocation checks (revocation is then "unknown" unless the
	// document carries the answers: long-term validation material).
	Offline bool
	// Now is the verifier's clock (nil: time.Now): what "now" is when certificates and
	// revocation answers are judged (tests move it forward to years after signing).
	Now func() time.Time
	// Progress, when set, is told how many bytes verification has read (at most the size)
	// and the file's size, as it goes: VerifyFile of a file of many GB takes
	// minutes, and a person should see that it moves.
	Progress func(read, size int64)
}

// Handler is what a format registers.
type Handler struct {
	Format Format
	// Sniff reports whether the first bytes of a file belong to this format.
	Sniff func(head []byte) bool
	// Open opens a document for preview.
	Open func(path string) (Document, error)
	// OpenAt opens a document held by the caller (size bytes of r, named name in errors) for
	// preview; r must stay readable until the document is closed. Used where an upload is
	// checked in memory and never written to disk (sealhub's seal-check page).
	OpenAt func(r io.ReaderAt, size int64, name string) (Document, error)
	// Sign signs in (size bytes) according to req and writes the whole output to out.
	Sign func(ctx context.Context, in io.ReaderAt, size int64, req *SignRequest, out io.Writer) error
	// Verify verifies every signature of in.
	Verify func(ctx context.Context, in io.ReaderAt, size int64, opts *VerifyOptions) (*VerifyReport, error)
}

var (
	mu       sync.RWMutex
	handlers = map[Format]*Handler{}
)

// Register makes a format available. Formats call it from init; a nil field means unsupported.
func Register(h *Handler) {
	mu.Lock()
	defer mu.Unlock()
	if old, ok := handlers[h.Format]; ok {
		// Parts of a format (preview, signing) may live in different packages: merge.
		if h.Sniff == nil {
			h.Sniff = old.Sniff
		}
		if h.Open == nil {
			h.Open = old.Open
		}
		if h.OpenAt == nil {
			h.OpenAt = old.OpenAt
		}
		if h.Sign == nil {
			h.Sign = old.Sign
		}
		if h.Verify == nil {
			h.Verify = old.Verify
		}
	}
	handlers[h.Format] = h
}

// ErrUnknownFormat is returned for files that no registered format recognises.
var ErrUnknownFormat = errors.New("not a PDF or OFD file")

// Detect sniffs the format of the file at path.
func Detect(path string) (Format, *Handler, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", nil, err
	}
	defer f.Close()
	head := make([]byte, 1024)
	n, _ := io.ReadFull(f, head)
	return DetectHead(head[:n], filepath.Base(path))
}

// DetectHead sniffs the format from the first bytes of a file (up to 1024); name only
// labels the error.
func DetectHead(head []byte, name string) (Format, *Handler, error) {
	mu.RLock()
	defer mu.RUnlock()
	names := make([]string, 0, len(handlers))
	for k := range handlers {
		names = append(names, string(k))
	}
	sort.Strings(names)
	for _, k := range names {
		h := handlers[Format(k)]
		if h.Sniff != nil && h.Sniff(head) {
			return h.Format, h, nil
		}
	}
	return "", nil, fmt.Errorf("%s: %w", name, ErrUnknownFormat)
}

// HandlerFor returns the registered handler of a format.
func HandlerFor(f Format) (*Handler, error) {
	mu.RLock()
	defer mu.RUnlock()
	h, ok := handlers[f]
	if !ok {
		return nil, fmt.Errorf("format %q is not built in", string(f))
	}
	return h, nil
}
