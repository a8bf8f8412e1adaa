package ofdsig

import (
	"context"
	"strings"
	"time"

	"github.com/emmansun/gmsm/smx509"

	"sealdesk/document"
	"sealdesk/signer/trust"
)

// trust fills signer, time and trust fields through signer/trust: a chain to the anchors of
// VerifyOptions.TrustPEM (self-signed certificates there are anchors, the others
// intermediates, since SES signatures carry no chain), validity at the signing time, key usage
// and revocation (CRL/OCSP; unknown when offline). Trust is failed when any of these failed,
// unknown when the chain could not be decided (no anchors), else ok; Revocation is reported on
// its own, so an offline check leaves trust ok and revocation unknown, as for PDF.
func (v *verifier) trust(ctx context.Context, sv signedValue, r *document.SignatureReport) {
	r.SetSigner(sv.cert)
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
	tv, err := v.trustVerifier()
	if err != nil {
		r.Trust = document.Unknown
		r.AddProblem(trust.CodeAnchorsUnusable, "trust anchors (--trust) unusable: %v", err)
		return
	}
	var inter []*smx509.Certificate
	for _, c := range sv.extra {
		if c != sv.cert {
			inter = append(inter, c)
		}
	}
	r.ApplyTrust(tv.CheckRequest(ctx, trust.Request{Leaf: sv.cert, Intermediates: inter, At: sv.signedAt, AtProven: r.TimeSource == "timestamp"}))
}

// trustVerifier builds the signer/trust verifier of this run once.
func (v *verifier) trustVerifier() (*trust.Verifier, error) {
	if v.tv != nil || v.tvErr != nil {
		return v.tv, v.tvErr
	}
	roots, inter, rejected, err := trust.SplitBundleRejected(v.opts.TrustPEM)
	if err != nil {
		v.tvErr = err
		return nil, err
	}
	v.tv, v.tvErr = trust.NewVerifier(trust.Config{Roots: roots, Intermediates: inter, Rejected: rejected, Offline: v.opts.Offline})
	return v.tv, v.tvErr
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
