package ofdsig

import (
	"context"
	"strings"
	"time"

	"github.com/emmansun/gmsm/smx509"

	"sealdesk/document"
)

// trust fills signer, time and trust fields: chain to a trust anchor, validity at the signing
// time, revocation.
func (v *verifier) trust(ctx context.Context, sv signedValue, r *document.SignatureReport) {
	fillSigner(r, sv.cert)
	if !sv.signedAt.IsZero() {
		r.SignedAt = sv.signedAt.UTC().Format(time.RFC3339)
		if r.TimeSource == "" {
			r.TimeSource = "claimed"
		}
	}
	if sv.cert == nil {
		return
	}
	if sv.certValidity == document.Failed {
		r.Trust = document.Failed
	}
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
