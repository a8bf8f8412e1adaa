package ofdsig

import (
	"bytes"
	"context"
	"strings"
	"time"

	"github.com/emmansun/gmsm/smx509"

	"sealdesk/document"
)

// Trust problem codes.
const (
	CodeTrustNoAnchors = "ofd.trust.no-anchors"  // no trust anchors configured: chain not decided
	CodeTrustChain     = "ofd.trust.chain"       // no chain to a configured anchor
	CodeTrustRevoked   = "ofd.trust.revocation"  // revocation not checked / revoked
	CodeCertNotValid   = "ofd.trust.cert-expiry" // signer certificate not valid at the signing time
)

// trust fills signer, time and trust fields: validity of the signer certificate at the
// signing time, and a chain to the anchors of VerifyOptions.TrustPEM (self-signed certificates
// there are anchors, the others serve as intermediates, since SES signatures carry no chain).
// Revocation stays unknown: no CRL/OCSP client is wired in here.
func (v *verifier) trust(ctx context.Context, sv signedValue, r *document.SignatureReport) {
	fillSigner(r, sv.cert)
	if !sv.signedAt.IsZero() {
		r.SignedAt = sv.signedAt.UTC().Format(time.RFC3339)
		if r.TimeSource == "" {
			r.TimeSource = "claimed"
		}
	}
	if sv.cert == nil {
		r.Trust = document.Unknown
		return
	}
	if sv.certValidity == document.Failed {
		r.Trust = document.Failed
		if !hasCodeSuffix(r, "not-valid-at-signing") {
			r.AddProblem(CodeCertNotValid, "signer certificate %q was not valid at the signing time", sv.cert.Subject.CommonName)
		}
	}
	roots, inter := smx509.NewCertPool(), smx509.NewCertPool()
	anchors := 0
	if certs, err := parsePEMCerts(v.opts.TrustPEM); err == nil {
		for _, c := range certs {
			if bytes.Equal(c.RawIssuer, c.RawSubject) && c.CheckSignatureFrom(c) == nil {
				roots.AddCert(c)
				anchors++
			} else {
				inter.AddCert(c)
			}
		}
	}
	for _, c := range sv.extra {
		if c != sv.cert {
			inter.AddCert(c)
		}
	}
	if anchors == 0 {
		if r.Trust != document.Failed {
			r.Trust = document.Unknown
		}
		r.AddProblem(CodeTrustNoAnchors, "no trust anchors given (--trust): the chain of %q was not checked", sv.cert.Subject.CommonName)
		return
	}
	at := sv.signedAt
	if at.IsZero() {
		at = time.Now()
	}
	_, err := sv.cert.Verify(smx509.VerifyOptions{Roots: roots, Intermediates: inter, CurrentTime: at,
		KeyUsages: []smx509.ExtKeyUsage{smx509.ExtKeyUsageAny}})
	if err != nil {
		r.Trust = document.Failed
		r.AddProblem(CodeTrustChain, "signer certificate %q does not chain to a trusted root at %s: %v", sv.cert.Subject.CommonName, at.UTC().Format(time.RFC3339), err)
		return
	}
	if r.Trust != document.Failed {
		r.Trust = document.OK
	}
	r.Revocation = document.Unknown
}

func hasCodeSuffix(r *document.SignatureReport, suffix string) bool {
	for _, p := range r.Problems {
		if strings.HasSuffix(p.Code, suffix) {
			return true
		}
	}
	return false
}

// certValidityAt reports whether c was valid at t (unknown when t is zero), adding a problem
// when it was not.
func certValidityAt(c *smx509.Certificate, t time.Time, r *document.SignatureReport, s *sigEntry) string {
	switch {
	case t.IsZero():
		return document.Unknown
	case t.Before(c.NotBefore) || t.After(c.NotAfter):
		r.AddProblem("ofd.sign.cert-not-valid-at-signing", "signature %s: signer certificate %q valid %s … %s, signed %s",
			s.id(), c.Subject.CommonName, c.NotBefore.UTC().Format(time.RFC3339), c.NotAfter.UTC().Format(time.RFC3339), t.UTC().Format(time.RFC3339))
		return document.Failed
	}
	return document.OK
}

// parseDateTime reads SignatureDateTime in the formats real files use; zero when unreadable.
func parseDateTime(s string) time.Time {
	s = strings.TrimSpace(s)
	for _, layout := range []string{
		"20060102150405.999999999Z", "20060102150405Z", "20060102150405.999999999Z0700", "20060102150405Z0700",
		time.RFC3339Nano, "2006-01-02 15:04:05", "2006-01-02T15:04:05", "20060102150405",
	} {
		if t, err := time.Parse(layout, s); err == nil {
			return t
		}
	}
	return time.Time{}
}
