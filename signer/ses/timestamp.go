package ses

import (
	"context"
	"time"

	"sealdesk/signer"
	"sealdesk/signer/tsa"
)

// Stamper returns a TimeStamper that asks client for a token over the signature value, hashed
// with alg (SM3 or SHA-256; the SES v4 timeStamp covers the signature BIT STRING contents).
func Stamper(client *tsa.Client, alg signer.DigestAlgorithm) TimeStamper {
	return func(ctx context.Context, value []byte) ([]byte, error) {
		h, err := alg.New()
		if err != nil {
			return nil, err
		}
		h.Write(value)
		return client.Stamp(ctx, alg, h.Sum(nil))
	}
}

// VerifyTimeStamp is the TimeStampVerifier VerifySignature uses when none is configured: the
// token's CMS signature, its TSA certificate usage and its imprint over the signature value
// (signer/tsa). The TSA's certificate chain is not judged here; callers that need it check
// the token's certificates with signer/trust and pass their own verifier.
func VerifyTimeStamp(ctx context.Context, token, signatureValue []byte) (time.Time, error) {
	info, err := tsa.VerifySignature(token, signatureValue)
	if err != nil {
		return time.Time{}, err
	}
	if err := info.Err(); err != nil {
		return time.Time{}, err
	}
	return info.Time, nil
}
