// Package trust decides whether a signer certificate is trusted: a chain to a configured root
// (RSA, ECDSA and SM2 certificates, through gmsm's smx509), validity at the signing time and
// now (both reported), key usage, and revocation by OCSP or CRL.
//
// Contract: Check never passes silently. Every fact is a Status (ok / failed / unknown) with
// Problems carrying stable codes; when revocation cannot be decided (offline, no responder, no
// CRL, a fetch failure) the outcome is "unknown" with the reason, never "ok". Revocation data is
// cached in memory and, when Config.CacheDir is set, on disk, until its nextUpdate; an offline
// verifier still uses fresh cached data. OCSP requests and responses are encoded here (not with
// x/crypto/ocsp) so that SM2 responders work like RSA and ECDSA ones.
package trust

import (
	"bytes"
	"context"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"sealdesk/signer/check"
	"strings"
	"time"

	"github.com/emmansun/gmsm/smx509"
)

// Status is the outcome of one aspect of the check.
type Status = check.Status

const (
	OK      = check.OK
	Failed  = check.Failed
	Unknown = check.Unknown // could not be decided (unsupported algorithm, missing input, no answer)
)

// Problem codes.
const (
	CodeNoRoots     = "trust.no-roots"      // no trust anchors configured
	CodeChain       = "trust.chain"         // no chain to a configured root: the issuer is unknown here
	CodeChainBroken = "trust.chain-invalid" // a path to a configured root exists but is not valid (e.g. a CA not allowed to issue)
	// CodeNotValidAtTime: a certificate of the path is outside its validity at a signing time
	// proven by a time-stamp (proven wrong).
	CodeNotValidAtTime = "trust.cert-not-valid-at-signing"
	// CodeNotValidAtClaim: outside its validity at the signing time the signature only claims:
	// without proof of time nothing is proven either way.
	CodeNotValidAtClaim = "trust.cert-validity-unproven"
	CodeExpiredNow      = "trust.cert-expired-now" // informational: valid at signing, not now
	CodeKeyUsage        = "trust.key-usage"        // not for signing
	CodeRevoked         = "trust.revoked"          // revoked at or before the signing time
	// CodeRevokedLater: revoked after a signing time proven by a time-stamp (informational).
	CodeRevokedLater = "trust.revoked-after-signing"
	// CodeRevokedUnproven: revoked after the claimed signing time, but no time-stamp proves
	// the signature was made before the revocation.
	CodeRevokedUnproven = "trust.revoked-time-unproven"
	CodeAnchorsUnusable = "trust.anchors-unusable" // the configured trust anchors (--trust) cannot be read
	// CodeAnchorRejected: a self-issued certificate of the --trust bundle cannot be a trust
	// anchor (its key usage forbids certificate signing, it is no CA, or its self-signature
	// fails); it was kept only as chain material.
	CodeAnchorRejected   = "trust.anchor-rejected"
	CodeRevocationOff    = "trust.revocation-offline" // offline and nothing cached
	CodeRevocationNoInfo = "trust.revocation-no-info" // the certificate names no OCSP responder or CRL
	CodeRevocationFetch  = "trust.revocation-fetch"   // responder / CRL unreachable or unusable
	CodeRevocationStale  = "trust.revocation-stale"   // CRL or OCSP response past its nextUpdate
)

// Problem is one finding.
type Problem = check.Problem

// Config configures a Verifier.
type Config struct {
	// Roots is a PEM bundle of trust anchors.
	Roots []byte
	// Intermediates is an optional PEM bundle of extra CA certificates for chain building.
	Intermediates []byte
	// Offline forbids network fetches; revocation then comes from the cache or is "unknown".
	Offline bool
	// CacheDir keeps fetched CRLs and OCSP responses across runs; "" keeps them in memory only.
	CacheDir string
	// HTTP fetches CRLs and OCSP responses; nil uses a client with a 15-second timeout.
	HTTP *http.Client
	// Now returns the current time (tests); nil uses time.Now.
	Now func() time.Time
	// Rejected names the self-issued certificates of the user's bundle that cannot be anchors
	// (SplitBundleRejected): each is named, with its reason, in every result whose chain is
	// not established, so a report never blames "no trust anchors" on an anchor it dropped.
	Rejected []RejectedAnchor
}

// RejectedAnchor is a self-issued certificate given as a trust anchor that cannot be one.
type RejectedAnchor struct {
	Name   string // the certificate's common name, or its subject
	Reason string // why, in words: "its key usage does not allow certificate signing (keyCertSign)"
}

// Verifier checks certificates against a configuration. It is safe for concurrent use.
type Verifier struct {
	cfg           Config
	roots         *smx509.CertPool
	rootCerts     []*smx509.Certificate
	nRoots        int
	intermediates []*smx509.Certificate
	cache         *cache
}

// NewVerifier parses the configuration's PEM bundles.
func NewVerifier(cfg Config) (*Verifier, error) {
	v := &Verifier{cfg: cfg, roots: smx509.NewCertPool()}
	roots, err := ParsePEM(cfg.Roots)
	if err != nil {
		return nil, fmt.Errorf("trust roots: %w", err)
	}
	for _, c := range roots {
		v.roots.AddCert(c)
	}
	v.rootCerts = roots
	v.nRoots = len(roots)
	if v.intermediates, err = ParsePEM(cfg.Intermediates); err != nil {
		return nil, fmt.Errorf("trust intermediates: %w", err)
	}
	if v.cfg.HTTP == nil {
		v.cfg.HTTP = &http.Client{Timeout: 15 * time.Second}
	}
	if v.cfg.Now == nil {
		v.cfg.Now = time.Now
	}
	v.cache = &cache{dir: cfg.CacheDir, mem: map[string]cacheEntry{}}
	return v, nil
}

// ParseCertificates reads certificates a user hands over (`--cert`): every CERTIFICATE block
// of a PEM file, or a single DER certificate.
func ParseCertificates(b []byte) ([]*smx509.Certificate, error) {
	if len(b) > 0 && b[0] == 0x30 { // a DER SEQUENCE, not PEM text
		c, err := smx509.ParseCertificate(b)
		if err != nil {
			return nil, fmt.Errorf("not a PEM file and not a DER certificate: %w", err)
		}
		return []*smx509.Certificate{c}, nil
	}
	certs, err := ParsePEM(b)
	if err == nil && len(certs) == 0 {
		err = errors.New("no certificate found")
	}
	return certs, err
}

// ParsePEM returns every CERTIFICATE block of a PEM bundle.
func ParsePEM(b []byte) ([]*smx509.Certificate, error) {
	var out []*smx509.Certificate
	for n := 1; ; n++ {
		var blk *pem.Block
		blk, b = pem.Decode(b)
		if blk == nil {
			break
		}
		if blk.Type != "CERTIFICATE" {
			continue
		}
		c, err := smx509.ParseCertificate(blk.Bytes)
		if err != nil {
			return nil, fmt.Errorf("PEM block %d: %w", n, err)
		}
		out = append(out, c)
	}
	if len(out) == 0 && len(strings.TrimSpace(string(b))) > 0 {
		return nil, errors.New("no PEM certificate found")
	}
	return out, nil
}

// Request is one certificate check.
type Request struct {
	Leaf          *smx509.Certificate
	Intermediates []*smx509.Certificate
	// At is the signing time the validity is judged at (zero: now).
	At time.Time
	// AtProven says At comes from a verified timestamp: a revocation after At then does not
	// invalidate the signature (without proof, a claimed time cannot protect against a key
	// compromised before the claim).
	AtProven bool
	// SkipKeyUsage turns off the signer key-usage check (for TSA or OCSP certificates).
	SkipKeyUsage bool
	// Embedded is the validation material the document carries (long-term validation): its
	// OCSP responses and CRLs are used before the cache and the network, judged at At; its
	// certificates complete paths (never as anchors).
	Embedded *Material
	// ExistedAt is a time at which the signature is proven to have existed by a later
	// document time-stamp (zero: none): a revocation after it does not invalidate the
	// signature, even when At is only claimed.
	ExistedAt time.Time
}

// Result is what Check found. The aspects are kept apart; Status combines them.
type Result struct {
	// Chain is the path found, leaf first, root last (empty when none).
	Chain []*smx509.Certificate `json:"-"`
	// ChainStatus: ok when a path to a configured root exists at the signing time.
	ChainStatus Status `json:"chain"`
	// ValidAtSigning: every certificate of the path (or the leaf alone, when there is no path)
	// is within its validity at the signing time. ValidNow: the same, now (informational).
	ValidAtSigning Status `json:"validAtSigning"`
	ValidNow       Status `json:"validNow"`
	KeyUsage       Status `json:"keyUsage"`
	Revocation     Status `json:"revocation"`
	RevocationVia  string `json:"revocationVia,omitempty"` // "ocsp", "crl", or both joined by "+"
	// Evidence names each revocation answer used, with where it came from.
	Evidence []Evidence `json:"evidence,omitempty"`
	At       time.Time  `json:"at"`
	Problems []Problem  `json:"problems"`
}

func (r *Result) problem(code, format string, args ...any) {
	r.Problems = append(r.Problems, Problem{Code: code, Message: fmt.Sprintf(format, args...)})
}

// Status is the verdict: failed when the chain, the validity at signing, the key usage or the
// revocation failed; else unknown when any of them is unknown; else ok. ValidNow does not
// count: a signature made while the certificate was valid stays valid after it expires.
func (r *Result) Status() Status {
	st := OK
	for _, s := range []Status{r.ChainStatus, r.ValidAtSigning, r.KeyUsage, r.Revocation} {
		switch s {
		case Failed:
			return Failed
		case Unknown, "":
			st = Unknown
		}
	}
	return st
}

// TrustVerdict is the verdict signature reports give as "trust", which keep revocation in a
// field of its own: failed when the chain, the validity at signing, the key usage or the
// revocation failed; ok when the first three are ok (revocation may still be unknown, e.g.
// offline); else unknown.
func (r *Result) TrustVerdict() Status {
	switch {
	case r.ChainStatus == Failed || r.ValidAtSigning == Failed || r.KeyUsage == Failed || r.Revocation == Failed:
		return Failed
	case r.ChainStatus == OK && r.ValidAtSigning == OK && r.KeyUsage == OK:
		return OK
	}
	return Unknown
}

// Check is CheckRequest for a leaf, its intermediates and the signing time.
func (v *Verifier) Check(ctx context.Context, leaf *smx509.Certificate, intermediates []*smx509.Certificate, at time.Time) *Result {
	return v.CheckRequest(ctx, Request{Leaf: leaf, Intermediates: intermediates, At: at})
}

// CheckRequest checks one certificate.
func (v *Verifier) CheckRequest(ctx context.Context, req Request) *Result {
	now := v.cfg.Now()
	at := req.At
	if at.IsZero() {
		at = now
	}
	r := &Result{At: at, Problems: []Problem{}}
	leaf := req.Leaf
	if leaf == nil {
		r.ChainStatus, r.ValidAtSigning, r.ValidNow, r.KeyUsage, r.Revocation = Failed, Failed, Failed, Failed, Failed
		r.problem(CodeChain, "no certificate to check")
		return r
	}

	// Chain, judged at the signing time.
	inter := smx509.NewCertPool()
	if req.Embedded != nil {
		req.Intermediates = append(append([]*smx509.Certificate{}, req.Intermediates...), req.Embedded.Certificates()...)
	}
	for _, c := range append(append([]*smx509.Certificate{}, req.Intermediates...), v.intermediates...) {
		inter.AddCert(c)
	}
	if v.nRoots == 0 {
		r.ChainStatus = Unknown
		if len(v.cfg.Rejected) == 0 {
			r.problem(CodeNoRoots, "no trust anchors configured: the chain of %q cannot be decided", name(leaf))
		}
	} else {
		chains, err := leaf.Verify(smx509.VerifyOptions{Roots: v.roots, Intermediates: inter, CurrentTime: at,
			KeyUsages: []smx509.ExtKeyUsage{smx509.ExtKeyUsageAny}})
		if err != nil {
			// "No path to a known issuer" could not be established (amber); a path that exists
			// but is not valid was proven wrong (red). Validity dates are judged below, at the
			// signing time, with or without proof of it.
			var ua smx509.UnknownAuthorityError
			var ci smx509.CertificateInvalidError
			switch {
			case errors.As(err, &ci) && ci.Reason == smx509.Expired:
				r.ChainStatus = Unknown
				r.problem(CodeChain, "no chain from %q to a configured root that is valid at %s: %v", name(leaf), stamp(at), err)
			case errors.As(err, &ua) || !errors.As(err, &ci):
				if root, top := v.impostor(leaf, req.Intermediates); root != nil {
					// Issued in the name of a configured root, but not by its key: forged.
					r.ChainStatus = Failed
					r.problem(CodeChainBroken, "%q names the trusted root %q as its issuer, but its signature does not verify with that root's key", name(top), name(root))
					break
				}
				r.ChainStatus = Unknown
				r.problem(CodeChain, "the issuer of %q is not among the configured roots: %v", name(leaf), err)
			default:
				r.ChainStatus = Failed
				r.problem(CodeChainBroken, "the chain from %q to a configured root is not valid: %v", name(leaf), err)
			}
		} else {
			r.ChainStatus = OK
			r.Chain = chains[0]
		}
	}
	v.rejectedAnchors(r)

	// Validity at signing and now.
	path := r.Chain
	if len(path) == 0 {
		path = []*smx509.Certificate{leaf}
	}
	r.ValidAtSigning, r.ValidNow = OK, OK
	for _, c := range path {
		if at.Before(c.NotBefore) || at.After(c.NotAfter) {
			if req.AtProven {
				r.ValidAtSigning = Failed
				r.problem(CodeNotValidAtTime, "%q is valid %s … %s, not at the time-stamped signing time %s", name(c), stamp(c.NotBefore), stamp(c.NotAfter), stamp(at))
			} else {
				if r.ValidAtSigning != Failed {
					r.ValidAtSigning = Unknown
				}
				r.problem(CodeNotValidAtClaim, "%q is valid %s … %s, not at the claimed signing time %s (no time-stamp proves when it was signed)", name(c), stamp(c.NotBefore), stamp(c.NotAfter), stamp(at))
			}
		}
		if now.Before(c.NotBefore) || now.After(c.NotAfter) {
			r.ValidNow = Failed
			r.problem(CodeExpiredNow, "%q is valid %s … %s, not now (%s)", name(c), stamp(c.NotBefore), stamp(c.NotAfter), stamp(now))
		}
	}

	// Key usage of a signer certificate.
	switch {
	case req.SkipKeyUsage:
		r.KeyUsage = OK
	case leaf.KeyUsage == 0:
		r.KeyUsage = OK // no keyUsage extension: unrestricted (RFC 5280 §4.2.1.3)
	case leaf.KeyUsage&(smx509.KeyUsageDigitalSignature|smx509.KeyUsageContentCommitment) != 0:
		r.KeyUsage = OK
	default:
		r.KeyUsage = Failed
		r.problem(CodeKeyUsage, "%q has neither digitalSignature nor nonRepudiation key usage", name(leaf))
	}

	// Revocation of every certificate below the root.
	v.checkRevocation(ctx, r, req, path, now)
	return r
}

// impostor follows leaf up through the intermediates it verifiably chains to; when the top
// of that path names a configured root as its issuer (same subject) yet does not verify with
// that root's key, it returns the root and the top certificate: a chain in the name of a
// trusted root that the root did not sign (proven wrong, unlike an unknown issuer).
func (v *Verifier) impostor(leaf *smx509.Certificate, extra []*smx509.Certificate) (root, top *smx509.Certificate) {
	pool := append(append([]*smx509.Certificate{}, extra...), v.intermediates...)
	top = leaf
	for depth := 0; depth < 8; depth++ {
		next := (*smx509.Certificate)(nil)
		for _, c := range pool {
			if c != top && bytes.Equal(c.RawSubject, top.RawIssuer) && top.CheckSignatureFrom(c) == nil {
				next = c
				break
			}
		}
		if next == nil {
			break
		}
		top = next
	}
	for _, rc := range v.rootCerts {
		if bytes.Equal(rc.RawSubject, top.RawIssuer) {
			if top.CheckSignatureFrom(rc) == nil {
				return nil, nil // signed by the root after all: not an impostor
			}
			root = rc
		}
	}
	return root, top
}

// rejectedAnchors names, on a result whose chain was not established, each certificate of
// the user's bundle that was refused as an anchor.
func (v *Verifier) rejectedAnchors(r *Result) {
	if r.ChainStatus == OK {
		return
	}
	for _, a := range v.cfg.Rejected {
		r.problem(CodeAnchorRejected, "the trust anchor %q given with --trust cannot be used: %s", a.Name, a.Reason)
	}
}

func name(c *smx509.Certificate) string {
	if c.Subject.CommonName != "" {
		return c.Subject.CommonName
	}
	return c.Subject.String()
}

func stamp(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05Z") }

// SplitBundle splits a PEM bundle such as a workspace's root.pem or a --trust file into
// self-signed certificates (the anchors, Config.Roots) and the others (Config.Intermediates):
// SES seals and signatures carry no chain, so a user's bundle often holds both.
func SplitBundle(bundle []byte) (roots, intermediates []byte, err error) {
	roots, intermediates, _, err = SplitBundleRejected(bundle)
	return roots, intermediates, err
}

// SplitBundleRejected is SplitBundle that also names the self-issued certificates that
// cannot be anchors and why (Config.Rejected); they stay in intermediates.
func SplitBundleRejected(bundle []byte) (roots, intermediates []byte, rejected []RejectedAnchor, err error) {
	certs, err := ParsePEM(bundle)
	if err != nil {
		return nil, nil, nil, err
	}
	for _, c := range certs {
		blk := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})
		if !bytes.Equal(c.RawIssuer, c.RawSubject) {
			intermediates = append(intermediates, blk...)
			continue
		}
		if err := c.CheckSignatureFrom(c); err != nil {
			intermediates = append(intermediates, blk...)
			rejected = append(rejected, RejectedAnchor{Name: name(c), Reason: anchorReason(c, err)})
			continue
		}
		roots = append(roots, blk...)
	}
	return roots, intermediates, rejected, nil
}

// anchorReason says why a self-issued certificate's self-signature check failed: the
// constraints CheckSignatureFrom applies to an issuer, or the signature itself.
func anchorReason(c *smx509.Certificate, err error) string {
	switch {
	case c.KeyUsage != 0 && c.KeyUsage&smx509.KeyUsageCertSign == 0:
		return "its key usage does not allow certificate signing (keyCertSign)"
	case c.Version == 3 && (!c.BasicConstraintsValid || !c.IsCA):
		return "it is not a CA certificate (basicConstraints cA is not set)"
	default:
		return fmt.Sprintf("its self-signature does not verify (%v)", err)
	}
}
