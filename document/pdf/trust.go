package pdf

import (
	"context"
	"encoding/pem"
	"time"

	"github.com/emmansun/gmsm/smx509"

	"sealdesk/document"
	"sealdesk/signer/trust"
)

// trustChecker wraps signer/trust for one verification run: the anchors of
// VerifyOptions.TrustPEM (self-signed certificates are anchors, others intermediates), chain,
// validity at the signing time, key usage and revocation (unknown when offline or when the
// certificate names no responder). Trust is failed when any of those failed, ok when chain,
// validity and key usage are ok, else unknown; revocation is reported on its own — the same
// mapping as the OFD verifier.
type trustChecker struct {
	v     *trust.Verifier
	err   error
	none  bool
	dss   []*smx509.Certificate
	ctx   context.Context
	extra []*smx509.Certificate
	// Long-term validation (ltv.go): the document security store's material, the state of
	// the signature being checked, and, when extending, a hook that records every
	// certificate checked.
	ltv     *dssInfo
	cur     *ltvState
	capture func(leaf *smx509.Certificate, certs []*smx509.Certificate)
	begin   func(key string)
	dts     []docTimestamp // the verified document time-stamps
}

// beginSignature starts the long-term validation state of the signature whose VRI key is key
// and whose signed revision ends at revEnd: the earliest verified document time-stamp over a
// later revision proves it existed by then.
func (tc *trustChecker) beginSignature(key string, revEnd int64) *ltvState {
	st := &ltvState{key: key}
	for _, d := range tc.dts {
		if d.revEnd > revEnd && (st.existedAt.IsZero() || d.at.Before(st.existedAt)) {
			st.existedAt = d.at
		}
	}
	if tc.begin != nil {
		tc.begin(key)
	}
	tc.cur = st
	return st
}

func newTrustChecker(ctx context.Context, opts *document.VerifyOptions, dss []*smx509.Certificate) *trustChecker {
	tc := &trustChecker{ctx: ctx, dss: dss}
	if len(opts.TrustPEM) == 0 {
		tc.none = true
		return tc
	}
	roots, inter, rejected, err := trust.SplitBundleRejected(opts.TrustPEM)
	if err != nil {
		tc.err = err
		return tc
	}
	tc.v, tc.err = trust.NewVerifier(trust.Config{Roots: roots, Intermediates: inter, Rejected: rejected, Offline: opts.Offline, Now: opts.Now})
	return tc
}

// check fills Trust and Revocation of sr for leaf, with the certificates the signature carries
// and the document's DSS certificates as chain material (never as anchors).
func (tc *trustChecker) check(sr *document.SignatureReport, leaf *smx509.Certificate, certs []*smx509.Certificate, at time.Time, proven, skipKeyUsage bool) {
	sr.Revocation = document.Unknown
	if tc != nil && tc.capture != nil {
		tc.capture(leaf, certs)
	}
	if tc == nil || tc.none {
		sr.Trust = document.Unknown
		sr.AddProblem(CodeTrustUnknown, "no trust anchors were given (use --trust); the signer's chain was not checked")
		return
	}
	if tc.err != nil {
		sr.Trust = document.Unknown
		sr.AddProblem(CodeAnchorsUnusable, "trust anchors (--trust) unusable: %v", tc.err)
		return
	}
	var inter []*smx509.Certificate
	for _, c := range append(append([]*smx509.Certificate(nil), certs...), tc.dss...) {
		if c != nil && c != leaf {
			inter = append(inter, c)
		}
	}
	req := trust.Request{Leaf: leaf, Intermediates: inter, At: at, AtProven: proven, SkipKeyUsage: skipKeyUsage}
	if tc.ltv != nil && !tc.ltv.material.Empty() {
		req.Embedded = tc.ltv.material
	}
	if tc.cur != nil {
		req.ExistedAt = tc.cur.existedAt
	}
	res := tc.v.CheckRequest(tc.ctx, req)
	sr.ApplyTrust(res)
	if tc.cur != nil {
		tc.cur.used = append(tc.cur.used, res.Evidence...)
		tc.cur.at = res.At
	}
}

// dssCertificates returns the certificates of the document security store (/DSS /Certs):
// validation data that may complete a chain, never trust anchors.
func dssCertificates(v *View) []*smx509.Certificate {
	cat, _, err := v.Catalog()
	if err != nil {
		return nil
	}
	dss := v.Dict(cat["DSS"])
	if dss == nil {
		return nil
	}
	var out []*smx509.Certificate
	for _, o := range v.Array(dss["Certs"]) {
		st, ok := v.Resolve(o).(*Stream)
		if !ok || st.Length > 1<<20 {
			continue
		}
		der, err := v.rd.StreamData(st)
		if err != nil {
			continue
		}
		if c, err := smx509.ParseCertificate(der); err == nil {
			out = append(out, c)
		}
	}
	return out
}

// pemBlock returns the DER of the next CERTIFICATE block of b and the rest.
func pemBlock(b []byte) ([]byte, []byte) {
	for {
		blk, rest := pem.Decode(b)
		if blk == nil {
			return nil, nil
		}
		if blk.Type == "CERTIFICATE" {
			return blk.Bytes, rest
		}
		b = rest
	}
}
