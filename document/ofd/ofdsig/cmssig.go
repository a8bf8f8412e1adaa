package ofdsig

import (
	"context"
	"encoding/asn1"

	"sealdesk/document"
	"sealdesk/signer"
	"sealdesk/signer/cms"
	"sealdesk/signer/trust"
)

// looksLikeSignedData reports whether value is a ContentInfo of type signedData (PKCS#7 or
// GM/T 0010 OID): such a value is verified as CMS, anything else as a bare signature value.
func looksLikeSignedData(value []byte) bool {
	var ci struct {
		Type    asn1.ObjectIdentifier
		Content asn1.RawValue `asn1:"explicit,optional,tag:0"`
	}
	if _, err := asn1.Unmarshal(value, &ci); err != nil {
		return false
	}
	return ci.Type.Equal(asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 2}) ||
		ci.Type.Equal(asn1.ObjectIdentifier{1, 2, 156, 10197, 6, 1, 4, 2, 2})
}

// verifyCMS checks a GB/T 35275 SignedData over Signature.xml in the two forms real producers
// write: hash-attached (the encapsulated content is SM3(Signature.xml), signed as is) and
// detached with signed attributes (messageDigest = SM3(Signature.xml)). ok is false when value
// is not a SignedData at all (then it is a bare signature value).
func (v *verifier) verifyCMS(ctx context.Context, s *sigEntry, value []byte, r *document.SignatureReport) (signedValue, bool) {
	if !looksLikeSignedData(value) {
		return signedValue{}, false
	}
	r.Profile = "ofd-sign-gbt35275"
	var out signedValue
	sd, err := cms.Parse(value)
	if err != nil {
		r.AddProblem(CodeSignedValueFormat, "signature %s: %s: %v", s.id(), s.sig.SignedValuePath, err)
		return out, true
	}
	d, err := sd.DigestAlgorithm()
	if err != nil {
		d = signer.SM3 // GB/T 35275 is SM3; an unknown OID fails in Verify with its own reason
	}
	opts := cms.VerifyOptions{Content: s.raw}
	if len(v.opts.SignerCertPEM) > 0 {
		if certs, err := trust.ParseCertificates(v.opts.SignerCertPEM); err == nil {
			opts.Certificates = certs
		}
	}
	digest, err := cms.Sum(d, s.raw)
	if err != nil {
		r.AddProblem("cms.digest-unsupported", "signature %s: %v", s.id(), err)
		return out, true
	}
	var res *cms.Result
	if sd.Content() != nil {
		opts.ExpectContent = digest
		res = sd.Verify(nil, opts)
	} else {
		res = sd.Verify(digest, opts)
	}
	for _, c := range res.Checks {
		if c.Status != cms.OK {
			r.AddProblem(c.ProblemCode(), "signature %s: %s %s: %s", s.id(), c.Name, c.Status, c.Message)
		}
	}
	out.valueOK = res.OK
	out.cert = res.Signer
	out.extra = res.Certificates
	if out.cert != nil {
		out.pub = out.cert.PublicKey
	}
	out.signedAt = res.SigningTime
	if res.Timestamp != nil && res.Timestamp.OK && !res.Timestamp.Time.IsZero() {
		out.signedAt = res.Timestamp.Time
		r.TimeSource = "timestamp"
	}
	if out.signedAt.IsZero() {
		out.signedAt = parseDateTime(s.sig.SignatureDateTime)
	}
	return out, true
}
