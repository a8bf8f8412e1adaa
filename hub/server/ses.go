package server

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"

	"sealdesk/hub/api"
	"sealdesk/signer/ses"
)

// SESParser reads filings' seal objects with signer/ses (GB/T 38540 v4 and GM/T 0031 v1).
// A seal that lists certificate digests instead of certificates (certListType 2) gives no
// certificates; the filing must then carry them.
func SESParser(der []byte) (*SealFacts, error) {
	s, err := ses.ParseSeal(der)
	if err != nil {
		return nil, err
	}
	p := s.Info.Property
	return &SealFacts{ESID: s.Info.ESID, Name: p.Name, ValidStart: p.ValidStart, ValidEnd: p.ValidEnd, Certs: p.Certs}, nil
}

// SESVerifier checks an SES_Signature blob: the signer's signature, the seal inside it (maker
// signature, validity, picture) and that the seal binds the signer certificate. The hub does
// not have the signed document, so the data-hash check is left to the caller (who sends the
// document digest for the record lookup); it does not count against the result. Other blobs
// (CMS) are answered "unknown": without the signed content their digest cannot be checked.
func SESVerifier(ctx context.Context, blob []byte) api.CryptoResult {
	sig, err := ses.ParseSignature(blob)
	if err != nil {
		return api.CryptoResult{Result: api.VerdictUnknown, Detail: fmt.Sprintf("not an SES signature this hub can check (%v)", err)}
	}
	r := ses.VerifySignature(ctx, sig, ses.VerifyOptions{})
	out := api.CryptoResult{Result: api.VerdictOK, Format: fmt.Sprintf("ses-v%d", sig.Version()), SignedAt: r.SignedAt.UTC()}
	if sig.TBS.Seal != nil {
		out.SealID = sig.TBS.Seal.Info.ESID
	}
	if len(sig.Cert) > 0 {
		h := sha256.Sum256(sig.Cert)
		out.SignerCertSHA256 = hex.EncodeToString(h[:])
	}
	var failed, unknown []string
	for _, c := range r.Checks {
		if c.Name == ses.CheckDataHash {
			continue
		}
		switch c.Status {
		case ses.Failed:
			failed = append(failed, c.Name+": "+c.Message)
		case ses.Unknown:
			unknown = append(unknown, c.Name+": "+c.Message)
		}
	}
	switch {
	case len(failed) > 0:
		out.Result, out.Detail = api.VerdictFailed, strings.Join(failed, "; ")
	case len(unknown) > 0:
		out.Result, out.Detail = api.VerdictUnknown, strings.Join(unknown, "; ")
	default:
		out.Detail = "signer and seal signatures verify; the data hash is checked against the document by the caller"
	}
	return out
}
