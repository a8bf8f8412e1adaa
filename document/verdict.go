package document

import (
	"crypto/sha256"
	"encoding/hex"
	"sort"
	"strings"
	"sync"

	"github.com/emmansun/gmsm/smx509"

	"sealdesk/signer/check"
	"sealdesk/signer/trust"
)

// The verification vocabulary (package signer/check), re-exported where reports are made.
type (
	// Status is the outcome of one fact of a report: OK, Failed or Unknown.
	Status = check.Status
	// Problem is one finding, with a stable code from the table of Codes.
	Problem = check.Problem
	// Indication is the verdict on a signature or a document: valid (green), invalid (red:
	// proven wrong) or indeterminate (amber: could not be established), as EU DSS names them.
	Indication = check.Indication
)

// The indications.
const (
	IndicationValid         = check.Valid
	IndicationInvalid       = check.Invalid
	IndicationIndeterminate = check.Indeterminate
)

// Fact names the report field a problem code speaks about (the JSON field of docs/CLI.md).
type Fact string

const (
	FactIntegrity    Fact = "integrity"
	FactChangesAfter Fact = "changesAfter"
	FactTrust        Fact = "trust"
	FactRevocation   Fact = "revocation"
	FactSeal         Fact = "seal"
	FactRegistry     Fact = "registry"
	FactSignedAt     Fact = "signedAt"
	FactCoverage     Fact = "coversWholeDocument" // what the signature protects (and `uncovered`)
	FactDocument     Fact = "document"            // the file as a whole (document-level problems)
)

// Info is the Level of a code that informs without changing the indication.
const Info Indication = ""

// Code describes one problem code: the fact it affects and the indication it forces at least
// (IndicationInvalid: red, proven wrong; IndicationIndeterminate: amber, could not be
// established; Info: shown, verdict unchanged). docs/CLI.md holds the same table for people;
// a test keeps the two equal.
type Code struct {
	Code    string
	Fact    Fact
	Level   Indication
	Meaning string // English, one line, for the documentation; people read internal/report's catalogue
}

var (
	codeMu sync.RWMutex
	codes  = map[string]Code{}
)

// RegisterCodes adds codes to the table (a verifier that grows new checks, e.g. long-term
// validation, registers its own from an init function). A code registered twice keeps the
// last entry.
func RegisterCodes(cs ...Code) {
	codeMu.Lock()
	defer codeMu.Unlock()
	for _, c := range cs {
		codes[c.Code] = c
	}
}

// LookupCode returns the table entry of a code. The codes of the hub's answers are
// "registry." followed by the hub's code; those the table does not name are amber.
func LookupCode(code string) (Code, bool) {
	codeMu.RLock()
	defer codeMu.RUnlock()
	c, ok := codes[code]
	return c, ok
}

// Codes returns the table, sorted by code.
func Codes() []Code {
	codeMu.RLock()
	defer codeMu.RUnlock()
	out := make([]Code, 0, len(codes))
	for _, c := range codes {
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Code < out[j].Code })
	return out
}

// LevelOf is the indication a problem code forces at least; a code missing from the table is
// amber (never green, never red on an unknown ground).
func LevelOf(code string) Indication {
	if c, ok := LookupCode(code); ok {
		return c.Level
	}
	return IndicationIndeterminate
}

// SignatureVerdict is the one verdict function (CLI, app, reports and the hub's public seal
// check all call it through Decide): it returns the indication of a signature from its facts
// and problem codes, and the problems that decided it (red ones when invalid, amber ones when
// indeterminate), in report order.
//
// Rules: a problem forces at least its code's level; integrity failed or a disallowed change
// is invalid; a fact that is not ok (integrity, trust, revocation, registry when asked, the
// seal's checks) is at least indeterminate; a signature that is not `valid` is never green.
func SignatureVerdict(s *SignatureReport) (Indication, []Problem) {
	ind := IndicationValid
	for _, p := range s.Problems {
		if l := LevelOf(p.Code); l != Info {
			ind = check.Worse(ind, l)
		}
	}
	if s.Integrity == check.Failed || s.ChangesAfter == Disallowed {
		ind = IndicationInvalid
	}
	notOK := func(st Status) bool { return st != check.OK }
	if notOK(s.Integrity) || notOK(s.Trust) || notOK(s.Revocation) ||
		(s.Registry != "" && notOK(s.Registry)) || (s.Seal != nil && notOK(s.Seal.Checks)) || !s.Valid {
		ind = check.Worse(ind, IndicationIndeterminate)
	}
	var why []Problem
	for _, p := range s.Problems {
		if LevelOf(p.Code) == ind {
			why = append(why, p)
		}
	}
	return ind, why
}

// DocumentVerdict is the indication of a whole document: the worst of its signatures and of
// its document-level problems; a document without signatures is indeterminate (nothing
// vouches for it, nothing is proven wrong).
func DocumentVerdict(r *VerifyReport) Indication {
	if len(r.Signatures) == 0 {
		return IndicationIndeterminate
	}
	ind := IndicationValid
	for i := range r.Signatures {
		ind = check.Worse(ind, r.Signatures[i].Indication)
	}
	for _, p := range r.Problems {
		if l := LevelOf(p.Code); l != Info {
			ind = check.Worse(ind, l)
		}
	}
	return ind
}

// CodeArea returns the area part of a code ("pdf", "ofd", "cms", "ses", "tsa", "trust",
// "registry", "doc").
func CodeArea(code string) string {
	a, _, _ := strings.Cut(code, ".")
	return a
}

// WellFormedCode reports whether code follows the scheme: an area and at least one more
// dot-separated part, each of lowercase letters and digits joined by single hyphens
// ("ofd.file.added", "trust.revocation-offline").
func WellFormedCode(code string) bool {
	parts := strings.Split(code, ".")
	if len(parts) < 2 {
		return false
	}
	for _, p := range parts {
		if p == "" || p[0] == '-' || p[len(p)-1] == '-' || strings.Contains(p, "--") {
			return false
		}
		for _, r := range p {
			if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-') {
				return false
			}
		}
	}
	return true
}

// SetSigner fills the signer fields of a report from the signer certificate: its common name
// (or whole subject) and the SHA-256 of its DER, which the hub keys certificates by.
func (s *SignatureReport) SetSigner(c *smx509.Certificate) {
	if c == nil {
		return
	}
	s.Signer = c.Subject.CommonName
	if s.Signer == "" {
		s.Signer = c.Subject.String()
	}
	sum := sha256.Sum256(c.Raw)
	s.SignerCertSHA256 = hex.EncodeToString(sum[:])
}

// ApplyTrust records a signer/trust result in a report, the same way for every format: its
// problems, Trust (the result's TrustVerdict) and Revocation. A problem about the trust fact
// already in the report (an SES signer-certificate validity check, a missing certificate)
// keeps Trust failed (red code) or unknown (amber code), and the chain check's validity
// finding is not repeated when the SES check already made it.
func (s *SignatureReport) ApplyTrust(res *trust.Result) {
	sesValidity := s.HasCode("ses.signer-cert-not-valid-at-signing") || s.HasCode("ses.signer-cert-validity-unproven")
	for _, p := range res.Problems {
		if sesValidity && (p.Code == trust.CodeNotValidAtTime || p.Code == trust.CodeNotValidAtClaim) {
			continue
		}
		s.Problems = append(s.Problems, p)
	}
	s.Trust = res.TrustVerdict()
	for _, p := range s.Problems {
		c, ok := LookupCode(p.Code)
		if !ok || c.Fact != FactTrust {
			continue
		}
		switch {
		case c.Level == IndicationInvalid:
			s.Trust = check.Failed
		case c.Level == IndicationIndeterminate && s.Trust == check.OK:
			s.Trust = check.Unknown
		}
	}
	s.Revocation = res.Revocation
	if s.Revocation == "" {
		s.Revocation = check.Unknown
	}
}

// HasCode reports whether the report holds a problem with this code.
func (s *SignatureReport) HasCode(code string) bool {
	for _, p := range s.Problems {
		if p.Code == code {
			return true
		}
	}
	return false
}

// RegistryCode turns a code of the hub's answer (hub/api, snake_case) into a problem code of
// the scheme: "registry." and the code with hyphens ("seal_not_filed" → "registry.seal-not-filed").
func RegistryCode(hubCode string) string {
	return "registry." + strings.ReplaceAll(strings.ToLower(hubCode), "_", "-")
}

// UnknownCodes lists the problem codes of a report that the table of Codes does not name (each
// once): tests of every verifier call it, so a new code cannot ship undocumented.
func UnknownCodes(r *VerifyReport) []string {
	seen := map[string]bool{}
	var out []string
	add := func(ps []Problem) {
		for _, p := range ps {
			if _, ok := LookupCode(p.Code); !ok && !seen[p.Code] {
				seen[p.Code] = true
				out = append(out, p.Code)
			}
		}
	}
	add(r.Problems)
	for i := range r.Signatures {
		add(r.Signatures[i].Problems)
	}
	return out
}
