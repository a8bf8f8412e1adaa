// Package tsa is SealDesk's RFC 3161 time-stamping: a client (Client.Stamp sends a
// TimeStampReq with a random nonce over HTTP and returns the verified token), token
// verification (Verify, VerifyDigest, VerifySignature → *Info), the request/response codec,
// and an in-process test TSA (NewServer, an http.Handler; StartTest makes a TSA PKI and runs
// it on httptest; Listen serves it on a loopback address) for tests and the demo workspace.
//
// Tokens are CMS SignedData, so parsing and verifying them is signer/cms's VerifyTimestamp;
// Info is cms.TimestampInfo. A token is OK when its CMS signature verifies, its signer
// certificate carries the timeStamping extended key usage, the ESS signing-certificate
// attribute names that certificate, and the message imprint matches. Whether the TSA's chain
// is trusted is signer/trust's question (start from Info.Certificate and Info.Certificates).
//
// Supported imprints: SHA-256/384/512 and SM3; TSA keys: RSA, ECDSA, SM2.
//
// Binding to a signature (PAdES B-T, SES timeStamp): the token's imprint is the hash of the
// signature value (SignerInfo.signature, or the SES signature BIT STRING contents);
// VerifySignature checks exactly that.
package tsa

import (
	"encoding/asn1"

	"github.com/emmansun/gmsm/smx509"

	"sealdesk/signer/cms"
)

// Info describes a verified (or failed) time-stamp token; see cms.TimestampInfo.
type Info = cms.TimestampInfo

// Verify verifies token and that its imprint is the hash of data.
func Verify(token, data []byte, extra ...*smx509.Certificate) (*Info, error) {
	if data == nil {
		data = []byte{}
	}
	return cms.VerifyTimestamp(token, data, nil, extra)
}

// VerifyDigest verifies token and that its imprint equals digest (made with the token's hash
// algorithm, Info.HashAlgorithm).
func VerifyDigest(token, digest []byte, extra ...*smx509.Certificate) (*Info, error) {
	if digest == nil {
		digest = []byte{}
	}
	return cms.VerifyTimestamp(token, nil, digest, extra)
}

// VerifySignature verifies a signature time-stamp: token's imprint must be the hash of the
// signature value it time-stamps.
func VerifySignature(token, signatureValue []byte, extra ...*smx509.Certificate) (*Info, error) {
	return Verify(token, signatureValue, extra...)
}

// DefaultPolicy is the TSA policy of the test TSA (an OID under the ITU-T/ISO "example" arc
// 2.999, so it can never be mistaken for a real policy).
var DefaultPolicy = asn1.ObjectIdentifier{2, 999, 3161, 1}
