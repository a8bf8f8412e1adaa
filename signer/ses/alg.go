package ses

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	encasn1 "encoding/asn1"
	"errors"
	"fmt"
	"hash"
	"math/big"
	"strings"

	"github.com/emmansun/gmsm/sm2"
	"github.com/emmansun/gmsm/sm3"
	"github.com/emmansun/gmsm/smx509"

	"sealdesk/signer"
)

// sigAlg describes a signature algorithm identifier.
type sigAlg struct {
	name string
	key  signer.KeyAlgorithm
	hash crypto.Hash // 0 for SM2 (SM3 with Z)
}

func lookupAlg(o encasn1.ObjectIdentifier) (sigAlg, bool) {
	switch {
	case o.Equal(OIDSM3WithSM2), o.Equal(OIDSM2Sign), o.Equal(oidSM3WithSM2Bad):
		return sigAlg{"SM3withSM2", signer.SM2, 0}, true
	case o.Equal(OIDSHA256WithRSA):
		return sigAlg{"SHA256withRSA", signer.RSA, crypto.SHA256}, true
	case o.Equal(OIDSHA384WithRSA):
		return sigAlg{"SHA384withRSA", signer.RSA, crypto.SHA384}, true
	case o.Equal(OIDSHA512WithRSA):
		return sigAlg{"SHA512withRSA", signer.RSA, crypto.SHA512}, true
	case o.Equal(OIDSHA1WithRSA):
		return sigAlg{"SHA1withRSA", signer.RSA, crypto.SHA1}, true
	case o.Equal(OIDECDSASHA256):
		return sigAlg{"SHA256withECDSA", signer.ECDSA, crypto.SHA256}, true
	case o.Equal(OIDECDSASHA384):
		return sigAlg{"SHA384withECDSA", signer.ECDSA, crypto.SHA384}, true
	case o.Equal(OIDECDSASHA512):
		return sigAlg{"SHA512withECDSA", signer.ECDSA, crypto.SHA512}, true
	case o.Equal(OIDECDSASHA1):
		return sigAlg{"SHA1withECDSA", signer.ECDSA, crypto.SHA1}, true
	}
	return sigAlg{}, false
}

// AlgorithmName names a signature algorithm OID ("SM3withSM2", "SHA256withRSA", ...), or returns
// the dotted OID when it is unknown.
func AlgorithmName(o encasn1.ObjectIdentifier) string {
	if a, ok := lookupAlg(o); ok {
		return a.name
	}
	return o.String()
}

func newHash(h crypto.Hash) hash.Hash {
	switch h {
	case crypto.SHA1:
		return sha1.New()
	case crypto.SHA256:
		return sha256.New()
	case crypto.SHA384:
		return sha512.New384()
	case crypto.SHA512:
		return sha512.New()
	}
	return nil
}

// errBadSignature is returned when a signature value does not verify.
var errBadSignature = errors.New("signature value does not verify")

// verifyValue checks sig over msg with cert's key under algorithm o. variant reports an accepted
// non-standard encoding ("raw r‖s").
func verifyValue(cert *smx509.Certificate, o encasn1.ObjectIdentifier, msg, sig []byte) (variant string, err error) {
	a, ok := lookupAlg(o)
	if !ok {
		return "", fmt.Errorf("unsupported signature algorithm %s", o)
	}
	ka, err := signer.AlgorithmOf(cert.PublicKey)
	if err != nil {
		return "", err
	}
	if ka != a.key {
		return "", fmt.Errorf("algorithm %s does not match the certificate's %s key", a.name, ka)
	}
	switch a.key {
	case signer.SM2:
		pub := cert.PublicKey.(*ecdsa.PublicKey)
		der, v := sigDER(sig, 32)
		if sm2.VerifyASN1WithSM2(pub, nil, msg, der) {
			return v, nil
		}
		return "", errBadSignature
	case signer.ECDSA:
		pub := cert.PublicKey.(*ecdsa.PublicKey)
		h := newHash(a.hash)
		h.Write(msg)
		der, v := sigDER(sig, (pub.Curve.Params().BitSize+7)/8)
		if ecdsa.VerifyASN1(pub, h.Sum(nil), der) {
			return v, nil
		}
		return "", errBadSignature
	case signer.RSA:
		pub := cert.PublicKey.(*rsa.PublicKey)
		h := newHash(a.hash)
		h.Write(msg)
		if err := rsa.VerifyPKCS1v15(pub, a.hash, h.Sum(nil), sig); err != nil {
			return "", errBadSignature
		}
		return "", nil
	}
	return "", fmt.Errorf("unsupported key algorithm %s", a.key)
}

// sigDER returns an (EC/SM2) signature as DER SEQUENCE{r, s}. Values of exactly 2·size bytes
// that are not DER are taken as raw r‖s (a real Shandong vendor writes them).
func sigDER(sig []byte, size int) ([]byte, string) {
	if len(sig) != 2*size || (len(sig) > 0 && sig[0] == 0x30 && validDERSig(sig)) {
		return sig, ""
	}
	r := new(big.Int).SetBytes(sig[:size])
	s := new(big.Int).SetBytes(sig[size:])
	der, err := encasn1.Marshal(struct{ R, S *big.Int }{r, s})
	if err != nil {
		return sig, ""
	}
	return der, "raw r‖s signature value (not DER)"
}

func validDERSig(b []byte) bool {
	var v struct{ R, S *big.Int }
	rest, err := encasn1.Unmarshal(b, &v)
	return err == nil && len(rest) == 0
}

// signValue signs msg with id's key, returning the algorithm OID and the value. SM2 keys follow
// the package signer convention (the Signer gets e = SM3(Z‖msg)).
func signValue(key crypto.Signer, msg []byte) (encasn1.ObjectIdentifier, []byte, error) {
	ka, err := signer.AlgorithmOf(key.Public())
	if err != nil {
		return nil, nil, err
	}
	switch ka {
	case signer.SM2:
		v, err := signer.SignSM2Message(key, msg)
		return OIDSM3WithSM2, v, err
	case signer.ECDSA:
		h := sha256.Sum256(msg)
		v, err := key.Sign(rand.Reader, h[:], crypto.SHA256)
		return OIDECDSASHA256, v, err
	case signer.RSA:
		h := sha256.Sum256(msg)
		v, err := key.Sign(rand.Reader, h[:], crypto.SHA256)
		return OIDSHA256WithRSA, v, err
	}
	return nil, nil, fmt.Errorf("unsupported key algorithm %s", ka)
}

// digestByName hashes data with the algorithm a CertDigestObj names (names and OIDs as seen).
func digestByName(name string, data []byte) ([]byte, bool) {
	switch strings.ToLower(strings.ReplaceAll(strings.ReplaceAll(name, "-", ""), "_", "")) {
	case "sm3", "1.2.156.10197.1.401":
		h := sm3.Sum(data)
		return h[:], true
	case "sha1", "1.3.14.3.2.26":
		h := sha1.Sum(data)
		return h[:], true
	case "sha256", "2.16.840.1.101.3.4.2.1":
		h := sha256.Sum256(data)
		return h[:], true
	case "sha384":
		h := sha512.Sum384(data)
		return h[:], true
	case "sha512":
		h := sha512.Sum512(data)
		return h[:], true
	}
	return nil, false
}
