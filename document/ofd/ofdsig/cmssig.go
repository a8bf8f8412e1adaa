package ofdsig

import (
	"context"
	"encoding/asn1"

	"sealdesk/document"
)

// looksLikeSignedData reports whether value is a ContentInfo of type signedData (PKCS#7 or
// GM/T 0010 OID).
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

// verifyCMS checks a GB/T 35275 SignedData signed value. ok is false when value is not a
// SignedData at all (then it is a bare signature value).
func (v *verifier) verifyCMS(ctx context.Context, s *sigEntry, value []byte, r *document.SignatureReport) (signedValue, bool) {
	if !looksLikeSignedData(value) {
		return signedValue{}, false
	}
	r.Profile = "ofd-sign-gbt35275"
	r.AddProblem("ofd.sign.cms-unchecked", "signature %s: GB/T 35275 verification pending", s.id())
	return signedValue{valueUnknown: true}, true
}
