package cms

import (
	"crypto"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha3"
	"encoding/asn1"
	"fmt"
	"hash"

	"github.com/emmansun/gmsm/sm3"

	"sealdesk/signer"
)

// Object identifiers used by SignedData, its attributes and RFC 3161 tokens.
var (
	OIDData              = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 1}
	OIDSignedData        = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 2}
	OIDGMData            = asn1.ObjectIdentifier{1, 2, 156, 10197, 6, 1, 4, 2, 1} // GM/T 0010, GB/T 35275
	OIDGMSignedData      = asn1.ObjectIdentifier{1, 2, 156, 10197, 6, 1, 4, 2, 2}
	OIDTSTInfo           = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 16, 1, 4}
	OIDAttrContentType   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 3}
	OIDAttrMessageDigest = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 4}
	OIDAttrSigningTime   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 5}
	OIDAttrSigningCertV1 = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 16, 2, 12}
	OIDAttrSigningCertV2 = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 16, 2, 47}
	// OIDAttrAlgorithmProtection is CMSAlgorithmProtection (RFC 6211).
	OIDAttrAlgorithmProtection = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 52}
	// OIDAttrTimeStampToken is id-aa-signatureTimeStampToken (unsigned attribute, RFC 3161 App. A).
	OIDAttrTimeStampToken = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 16, 2, 14}

	oidSHA1     = asn1.ObjectIdentifier{1, 3, 14, 3, 2, 26}
	oidSHA224   = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 4}
	oidSHA256   = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 1}
	oidSHA384   = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 2}
	oidSHA512   = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 3}
	oidSHA3_256 = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 8}
	oidSHA3_384 = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 9}
	oidSHA3_512 = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 10}
	oidSM3      = asn1.ObjectIdentifier{1, 2, 156, 10197, 1, 401}
	oidSM3Alt   = asn1.ObjectIdentifier{1, 2, 156, 10197, 1, 401, 1} // "SM3 without key", seen as plain SM3
	oidMD5      = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 5}

	oidRSAEncryption   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 1}
	oidMD5WithRSA      = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 4}
	oidSHA1WithRSA     = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 5}
	oidRSAPSS          = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 10}
	oidSHA256WithRSA   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 11}
	oidSHA384WithRSA   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 12}
	oidSHA512WithRSA   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 13}
	oidSHA224WithRSA   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 14}
	oidSHA3_256WithRSA = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 3, 14}
	oidSHA3_384WithRSA = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 3, 15}
	oidSHA3_512WithRSA = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 3, 16}
	oidMGF1            = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 8}

	oidECPublicKey       = asn1.ObjectIdentifier{1, 2, 840, 10045, 2, 1}
	oidECDSAWithSHA1     = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 1}
	oidECDSAWithSHA224   = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 1}
	oidECDSAWithSHA256   = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 2}
	oidECDSAWithSHA384   = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 3}
	oidECDSAWithSHA512   = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 4}
	oidECDSAWithSHA3_256 = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 3, 10}
	oidECDSAWithSHA3_384 = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 3, 11}
	oidECDSAWithSHA3_512 = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 3, 12}

	// SM2 signature identifiers: 301.1 is GM/T 0010's SM2-1 (gmsm, most Chinese PKCS#7),
	// 501 is SM3withSM2 (certificates; BouncyCastle/iText write it in SignerInfo too), 301 is
	// the curve, which some producers put here as well.
	OIDSM2Sign     = asn1.ObjectIdentifier{1, 2, 156, 10197, 1, 301, 1}
	OIDSM3WithSM2  = asn1.ObjectIdentifier{1, 2, 156, 10197, 1, 501}
	oidSM2Curve    = asn1.ObjectIdentifier{1, 2, 156, 10197, 1, 301}
	oidSM3WithSM2b = asn1.ObjectIdentifier{1, 2, 156, 10197, 501} // wrong-but-seen alias (ofdrw OIDs)
)

// Digest algorithms beyond signer's list that verification meets in real files. They are
// never used for signing.
const (
	SHA1    signer.DigestAlgorithm = "sha1"
	SHA224  signer.DigestAlgorithm = "sha224"
	SHA3256 signer.DigestAlgorithm = "sha3-256"
	SHA3384 signer.DigestAlgorithm = "sha3-384"
	SHA3512 signer.DigestAlgorithm = "sha3-512"
)

var digestOIDs = []struct {
	oid asn1.ObjectIdentifier
	alg signer.DigestAlgorithm
}{
	{oidSHA256, signer.SHA256}, {oidSHA384, signer.SHA384}, {oidSHA512, signer.SHA512},
	{oidSM3, signer.SM3}, {oidSM3Alt, signer.SM3},
	{oidSHA1, SHA1}, {oidSHA224, SHA224},
	{oidSHA3_256, SHA3256}, {oidSHA3_384, SHA3384}, {oidSHA3_512, SHA3512},
}

// DigestOID returns the AlgorithmIdentifier OID of a digest algorithm.
func DigestOID(d signer.DigestAlgorithm) (asn1.ObjectIdentifier, error) {
	for _, e := range digestOIDs {
		if e.alg == d {
			return e.oid, nil
		}
	}
	return nil, fmt.Errorf("cms: unsupported digest algorithm %q", string(d))
}

// DigestByOID maps a digest OID to its algorithm.
func DigestByOID(oid asn1.ObjectIdentifier) (signer.DigestAlgorithm, error) {
	for _, e := range digestOIDs {
		if e.oid.Equal(oid) {
			return e.alg, nil
		}
	}
	if oid.Equal(oidMD5) {
		return "", fmt.Errorf("cms: digest algorithm MD5 (%s) is broken and not accepted", oid)
	}
	return "", fmt.Errorf("cms: unknown digest algorithm %s", oid)
}

// NewHash returns a hash for every digest algorithm verification accepts (signer's list plus
// SHA-1, SHA-224 and SHA-3, which real PDF signatures use).
func NewHash(d signer.DigestAlgorithm) (hash.Hash, error) {
	switch d {
	case SHA1:
		return sha1.New(), nil
	case SHA224:
		return sha256.New224(), nil
	case SHA3256:
		return sha3.New256(), nil
	case SHA3384:
		return sha3.New384(), nil
	case SHA3512:
		return sha3.New512(), nil
	case signer.SM3:
		return sm3.New(), nil
	}
	return d.New()
}

// Sum hashes data with d.
func Sum(d signer.DigestAlgorithm, data []byte) ([]byte, error) {
	h, err := NewHash(d)
	if err != nil {
		return nil, err
	}
	h.Write(data)
	return h.Sum(nil), nil
}

// cryptoHash maps to crypto.Hash (0 for SM3 and unknown).
func cryptoHash(d signer.DigestAlgorithm) crypto.Hash {
	switch d {
	case SHA1:
		return crypto.SHA1
	case SHA224:
		return crypto.SHA224
	case SHA3256:
		return crypto.SHA3_256
	case SHA3384:
		return crypto.SHA3_384
	case SHA3512:
		return crypto.SHA3_512
	}
	return d.CryptoHash()
}

// sigKind is the public-key scheme a SignerInfo signatureAlgorithm names.
type sigKind int

const (
	sigUnknown sigKind = iota
	sigRSA             // PKCS#1 v1.5
	sigRSAPSS
	sigECDSA
	sigSM2
	sigECAny // id-ecPublicKey: ECDSA or SM2 depending on the certificate's curve
)

// signatureAlgorithm classifies a SignerInfo signatureAlgorithm OID and returns the digest it
// implies ("" when the OID names only the key type, so SignerInfo.digestAlgorithm applies).
func signatureAlgorithm(oid asn1.ObjectIdentifier) (sigKind, signer.DigestAlgorithm) {
	switch {
	case oid.Equal(oidRSAEncryption):
		return sigRSA, ""
	case oid.Equal(oidSHA1WithRSA):
		return sigRSA, SHA1
	case oid.Equal(oidSHA224WithRSA):
		return sigRSA, SHA224
	case oid.Equal(oidSHA256WithRSA):
		return sigRSA, signer.SHA256
	case oid.Equal(oidSHA384WithRSA):
		return sigRSA, signer.SHA384
	case oid.Equal(oidSHA512WithRSA):
		return sigRSA, signer.SHA512
	case oid.Equal(oidSHA3_256WithRSA):
		return sigRSA, SHA3256
	case oid.Equal(oidSHA3_384WithRSA):
		return sigRSA, SHA3384
	case oid.Equal(oidSHA3_512WithRSA):
		return sigRSA, SHA3512
	case oid.Equal(oidRSAPSS):
		return sigRSAPSS, ""
	case oid.Equal(oidECPublicKey):
		return sigECAny, ""
	case oid.Equal(oidECDSAWithSHA1):
		return sigECDSA, SHA1
	case oid.Equal(oidECDSAWithSHA224):
		return sigECDSA, SHA224
	case oid.Equal(oidECDSAWithSHA256):
		return sigECDSA, signer.SHA256
	case oid.Equal(oidECDSAWithSHA384):
		return sigECDSA, signer.SHA384
	case oid.Equal(oidECDSAWithSHA512):
		return sigECDSA, signer.SHA512
	case oid.Equal(oidECDSAWithSHA3_256):
		return sigECDSA, SHA3256
	case oid.Equal(oidECDSAWithSHA3_384):
		return sigECDSA, SHA3384
	case oid.Equal(oidECDSAWithSHA3_512):
		return sigECDSA, SHA3512
	case oid.Equal(OIDSM2Sign), oid.Equal(oidSM2Curve), oid.Equal(oidSM3WithSM2b):
		return sigSM2, ""
	case oid.Equal(OIDSM3WithSM2):
		return sigSM2, signer.SM3
	}
	return sigUnknown, ""
}

func isDataOID(oid asn1.ObjectIdentifier) bool {
	return oid.Equal(OIDData) || oid.Equal(OIDGMData)
}
