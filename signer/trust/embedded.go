package trust

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/asn1"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/emmansun/gmsm/smx509"
)

// Long-term validation (PAdES B-LT/B-LTA, EN 319 142-1; the validation model of EN 319 102-1):
// a document carries the certificates, CRLs and OCSP responses a verifier needs, so that it
// can be validated after the revocation services are gone and the certificates have expired.
// The material is self-authenticating (each answer is signed by the certificate's issuer or a
// responder it delegated), so where it sits in the document does not matter to its trust.

// CodeEmbeddedInvalid: embedded revocation data that claims to answer for a certificate of
// the path does not verify with the issuer's key (altered after it was issued).
const CodeEmbeddedInvalid = "trust.embedded-revocation-invalid"

// CodeRevokedAfterExistence: revoked after a document time-stamp proved that the signature
// already existed (informational: the signature stays valid).
const CodeRevokedAfterExistence = "trust.revoked-after-timestamp"

// Material is validation data a document carries: DER certificates, CRLs and OCSP responses
// (a PDF's document security store). The verifier consults it before its cache and the
// network, and judges it at the validation time (Request.At), not now.
type Material struct {
	Certs [][]byte
	CRLs  [][]byte
	OCSPs [][]byte
}

// Empty reports whether m holds nothing.
func (m *Material) Empty() bool {
	return m == nil || len(m.Certs)+len(m.CRLs)+len(m.OCSPs) == 0
}

// Certificates parses the certificates of m (unparsable ones are skipped: they cannot help a
// path, and a path that needs them fails with its own reason).
func (m *Material) Certificates() []*smx509.Certificate {
	if m == nil {
		return nil
	}
	var out []*smx509.Certificate
	for _, der := range m.Certs {
		if c, err := smx509.ParseCertificate(der); err == nil {
			out = append(out, c)
		}
	}
	return out
}

// Evidence names one revocation answer the check used: which certificate it answers for,
// what it is, where it came from and when it was issued.
type Evidence struct {
	Certificate string `json:"certificate"` // the common name (or subject) of the certificate it answers for
	Kind        string `json:"kind"`        // ocsp | crl
	Source      string `json:"source"`      // embedded (carried by the document) | network | cache
	Status      string `json:"status"`      // good | revoked
	ThisUpdate  string `json:"thisUpdate"`  // RFC 3339: when the answer was issued
	NextUpdate  string `json:"nextUpdate,omitempty"`
	SHA256      string `json:"sha256"` // of the answer's DER (a CRL or an OCSPResponse)
}

// sourced is the provenance of an answer, carried in revocation.
type sourced struct {
	source     string
	thisUpdate time.Time
	nextUpdate time.Time
	der        []byte
}

func (s sourced) evidence(c *smx509.Certificate, kind string, st Status) Evidence {
	e := Evidence{Certificate: name(c), Kind: kind, Source: s.source, Status: "good", ThisUpdate: s.thisUpdate.UTC().Format(time.RFC3339)}
	if st == Failed {
		e.Status = "revoked"
	}
	if !s.nextUpdate.IsZero() {
		e.NextUpdate = s.nextUpdate.UTC().Format(time.RFC3339)
	}
	h := sha256.Sum256(s.der)
	e.SHA256 = hex.EncodeToString(h[:])
	return e
}

// freshAt says whether an answer issued at thisUpdate (valid until nextUpdate, zero: open)
// tells the status at the validation time at: issued at or after it (a "good" then means not
// revoked before, revocation being final), or covering it.
func freshAt(thisUpdate, nextUpdate, at time.Time) bool {
	if !thisUpdate.Before(at) {
		return true
	}
	return nextUpdate.IsZero() || at.Before(nextUpdate)
}

// embeddedRevocation looks for the status of c (issued by issuer) in m, judged at at. ok is
// false when m holds no usable answer for c; bad lists answers that claim to answer for c but
// do not verify (altered), stale the ones that are too old for at.
func embeddedRevocation(m *Material, c, issuer *smx509.Certificate, at, now time.Time) (rv revocation, ok bool, bad []string, stale bool) {
	if m == nil {
		return revocation{}, false, nil, false
	}
	var best *revocation
	consider := func(r revocation) {
		// A proof of revocation wins; among good answers the latest.
		if best == nil || (r.status == Failed && best.status != Failed) ||
			(r.status == best.status && r.src.thisUpdate.After(best.src.thisUpdate)) {
			best = &r
		}
	}
	id, idErr := newCertID(c, issuer)
	var idDER []byte
	if idErr == nil {
		idDER, _ = asn1.Marshal(id)
	}
	for _, der := range m.OCSPs {
		resp, err := parseOCSPResponse(der, c, issuer)
		if err != nil {
			// Only an answer that names c (its CertID is in it) but fails is reported: the
			// others answer for other certificates.
			if !errors.Is(err, errNotForCert) && len(idDER) > 0 && bytes.Contains(der, idDER) {
				bad = append(bad, fmt.Sprintf("an embedded OCSP response for %q does not verify: %v", name(c), err))
			}
			continue
		}
		if resp.ThisUpdate.After(now.Add(5 * time.Minute)) {
			continue // issued in the future: not evidence of anything yet
		}
		if !freshAt(resp.ThisUpdate, resp.NextUpdate, at) {
			stale = true
			continue
		}
		src := sourced{source: "embedded", thisUpdate: resp.ThisUpdate, nextUpdate: resp.NextUpdate, der: der}
		switch resp.Status {
		case ocspGood:
			consider(revocation{status: OK, via: "ocsp", src: src})
		case ocspRevoked:
			consider(revocation{status: Failed, revokedAt: resp.RevokedAt, reason: resp.Reason, via: "ocsp", src: src})
		}
	}
	for _, der := range m.CRLs {
		l, err := smx509.ParseRevocationList(der)
		if err != nil || !bytes.Equal(l.RawIssuer, issuer.RawSubject) {
			continue
		}
		if err := l.CheckSignatureFrom(issuer); err != nil {
			bad = append(bad, fmt.Sprintf("an embedded CRL of %q does not verify: %v", name(issuer), err))
			continue
		}
		if l.ThisUpdate.After(now.Add(5 * time.Minute)) {
			continue
		}
		if !freshAt(l.ThisUpdate, l.NextUpdate, at) {
			stale = true
			continue
		}
		src := sourced{source: "embedded", thisUpdate: l.ThisUpdate, nextUpdate: l.NextUpdate, der: der}
		r := revocation{status: OK, via: "crl", src: src}
		for _, e := range l.RevokedCertificateEntries {
			if e.SerialNumber != nil && e.SerialNumber.Cmp(c.SerialNumber) == 0 {
				r = revocation{status: Failed, revokedAt: e.RevocationTime, reason: e.ReasonCode, via: "crl", src: src}
				break
			}
		}
		consider(r)
	}
	if best == nil {
		return revocation{}, false, bad, stale
	}
	return *best, true, bad, stale
}

// Collected is the validation material of one certificate, fetched to be embedded in a
// document (Collect): its path up to a self-signed root (as far as the given certificates and
// the configured ones reach), and an OCSP response or a CRL for each certificate below the root.
type Collected struct {
	Path     []*smx509.Certificate // leaf first
	OCSPs    [][]byte
	CRLs     [][]byte
	Problems []Problem // what could not be obtained
}

// Collect fetches the validation material of leaf now: for each certificate of its path below
// the root, the OCSP response of the responder it names, else the CRL of its distribution
// point (each checked to be signed by the issuer). It always asks the network (Config.Offline
// makes it fail): embedded material must be fresh evidence, not a cached copy.
func (v *Verifier) Collect(ctx context.Context, leaf *smx509.Certificate, extra []*smx509.Certificate) *Collected {
	out := &Collected{}
	now := v.cfg.Now()
	c := leaf
	for depth := 0; c != nil && depth < 10; depth++ {
		out.Path = append(out.Path, c)
		if isSelfSigned(c) {
			break
		}
		issuer := v.findIssuer(c, extra)
		if issuer == nil {
			out.Problems = append(out.Problems, Problem{Code: CodeRevocationNoInfo, Message: fmt.Sprintf("the issuer of %q is not known: its validation material cannot be collected", name(c))})
			break
		}
		if err := v.collectOne(ctx, out, c, issuer, now); err != nil {
			out.Problems = append(out.Problems, Problem{Code: errCode(err), Message: fmt.Sprintf("%q: %v", name(c), err)})
		}
		c = issuer
	}
	return out
}

func (v *Verifier) collectOne(ctx context.Context, out *Collected, c, issuer *smx509.Certificate, now time.Time) error {
	if v.cfg.Offline {
		return errOffline
	}
	var notes []string
	for _, u := range c.OCSPServer {
		if !isHTTP(u) {
			continue
		}
		reqDER, _, err := ocspRequest(c, issuer)
		if err != nil {
			return err
		}
		der, err := v.fetch(ctx, http.MethodPost, u, reqDER, 1<<20)
		if err == nil {
			_, err = parseOCSPResponse(der, c, issuer)
		}
		if err == nil {
			out.OCSPs = append(out.OCSPs, der)
			return nil
		}
		notes = append(notes, fmt.Sprintf("OCSP %s: %v", u, err))
	}
	for _, u := range c.CRLDistributionPoints {
		if !isHTTP(u) {
			continue
		}
		der, err := v.fetch(ctx, http.MethodGet, u, nil, 32<<20)
		if err == nil {
			var l *smx509.RevocationList
			if l, err = smx509.ParseRevocationList(der); err == nil {
				err = l.CheckSignatureFrom(issuer)
			}
		}
		if err == nil {
			out.CRLs = append(out.CRLs, der)
			return nil
		}
		notes = append(notes, fmt.Sprintf("CRL %s: %v", u, err))
	}
	if len(notes) == 0 {
		return errNoService
	}
	return fmt.Errorf("%s", joinNotes(notes))
}

var errNoService = errors.New("the certificate names no HTTP OCSP responder or CRL distribution point")

func joinNotes(n []string) string {
	var b bytes.Buffer
	for i, s := range n {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(s)
	}
	return b.String()
}
