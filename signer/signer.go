// Package signer holds what every key store and every signature format agrees on: an Identity
// (a crypto.Signer with its certificate chain and the SES seals bound to it), the KeyStore
// interface that PKCS#11 tokens and software keystores both implement, and the digest
// algorithms the formats use.
//
// Signing follows three steps, so that hardware keys never touch format code:
//
//  1. a format (document/pdf, document/ofd) computes the digest of the data to be signed;
//  2. a Container (signer/cms, signer/ses) turns that digest into a signature container,
//     calling Identity.Signer only with a digest (for SM2: e = SM3(Z‖M), see SM2 convention);
//  3. the format assembles the container into the output.
//
// SM2 convention: every crypto.Signer in SealDesk that holds an SM2 key signs the 32-byte
// value e = SM3(Z‖M) that the caller computed (Z with the default ID 1234567812345678) and
// returns a DER SEQUENCE{r, s}. gmsm's *sm2.PrivateKey does exactly that when opts is not an
// *sm2.SM2SignerOption, and so do token signers; use SignSM2Message to sign a whole message.
package signer

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/sha512"
	"errors"
	"fmt"
	"hash"
	"io"

	"github.com/emmansun/gmsm/sm2"
	"github.com/emmansun/gmsm/sm3"
	"github.com/emmansun/gmsm/smx509"
)

// KeyAlgorithm names the public-key algorithm of a key.
type KeyAlgorithm string

const (
	SM2   KeyAlgorithm = "sm2"
	ECDSA KeyAlgorithm = "ecdsa"
	RSA   KeyAlgorithm = "rsa"
)

// AlgorithmOf reports the algorithm of a public key (SM2 keys are ECDSA keys on the SM2 curve).
func AlgorithmOf(pub crypto.PublicKey) (KeyAlgorithm, error) {
	switch k := pub.(type) {
	case *ecdsa.PublicKey:
		if k.Curve == sm2.P256() {
			return SM2, nil
		}
		return ECDSA, nil
	case *rsa.PublicKey:
		return RSA, nil
	}
	return "", fmt.Errorf("unsupported public key type %T", pub)
}

// Identity is what signing needs: a key, its certificate chain, and the SES seals bound to it.
// Tokens and soft keystores both produce it. Signer is nil until the key store is logged in.
type Identity struct {
	// URI names the key: an RFC 7512 pkcs11: URI or a file: URI of a keystore.
	URI string `json:"uri"`
	// Label is a short human name (CKA_LABEL, or the keystore file name).
	Label string `json:"label"`
	// Algorithm of the key.
	Algorithm KeyAlgorithm `json:"algorithm"`
	// Certificate is the signer certificate; Chain holds the issuers, leaf excluded, root last.
	Certificate *smx509.Certificate   `json:"-"`
	Chain       []*smx509.Certificate `json:"-"`
	// Seals holds the DER SES seals (GB/T 38540 or GM/T 0031) found with the key.
	Seals [][]byte `json:"-"`
	// Signer signs digests (see the package's SM2 convention). Nil when not logged in.
	Signer crypto.Signer `json:"-"`
	// Close releases the session behind Signer (logout); nil when there is nothing to release.
	Close func() error `json:"-"`
}

// KeyStore is implemented by every source of keys: PKCS#11 tokens and software keystores.
type KeyStore interface {
	// Identities lists the identities without logging in: certificates and public seal data
	// only; Signer is nil.
	Identities(ctx context.Context) ([]*Identity, error)
	// Open logs in with pin (which the caller zeroes afterwards; implementations keep no copy)
	// and returns the identity named by uri with a usable Signer.
	Open(ctx context.Context, uri string, pin []byte) (*Identity, error)
}

// PINError is returned for a rejected PIN or password. TriesLeft is -1 when unknown.
type PINError struct {
	Reason    string // "incorrect", "locked", "final try", "count low"
	TriesLeft int
	Err       error
}

func (e *PINError) Error() string {
	msg := "wrong PIN"
	if e.Reason != "" && e.Reason != "incorrect" {
		msg += " (" + e.Reason + ")"
	}
	if e.TriesLeft >= 0 {
		msg += fmt.Sprintf(", %d tries left", e.TriesLeft)
	}
	return msg
}

func (e *PINError) Unwrap() error { return e.Err }

// ErrPINLocked means the token refuses further PIN attempts.
var ErrPINLocked = errors.New("PIN is locked: contact your administrator or CA")

// DigestAlgorithm names a message digest, including SM3 which crypto.Hash lacks.
type DigestAlgorithm string

const (
	SM3    DigestAlgorithm = "sm3"
	SHA256 DigestAlgorithm = "sha256"
	SHA384 DigestAlgorithm = "sha384"
	SHA512 DigestAlgorithm = "sha512"
)

// New returns a new hash.Hash for the algorithm.
func (d DigestAlgorithm) New() (hash.Hash, error) {
	switch d {
	case SM3:
		return sm3.New(), nil
	case SHA256:
		return sha256.New(), nil
	case SHA384:
		return sha512.New384(), nil
	case SHA512:
		return sha512.New(), nil
	}
	return nil, fmt.Errorf("unsupported digest algorithm %q", string(d))
}

// CryptoHash returns the crypto.Hash for the standard digests (0 for SM3).
func (d DigestAlgorithm) CryptoHash() crypto.Hash {
	switch d {
	case SHA256:
		return crypto.SHA256
	case SHA384:
		return crypto.SHA384
	case SHA512:
		return crypto.SHA512
	}
	return 0
}

// Sum hashes everything r yields.
func (d DigestAlgorithm) Sum(r io.Reader) ([]byte, error) {
	h, err := d.New()
	if err != nil {
		return nil, err
	}
	if _, err := io.Copy(h, r); err != nil {
		return nil, err
	}
	return h.Sum(nil), nil
}

// DefaultDigest is the digest that goes with a key algorithm: SM3 for SM2, SHA-256 otherwise.
func DefaultDigest(a KeyAlgorithm) DigestAlgorithm {
	if a == SM2 {
		return SM3
	}
	return SHA256
}

// SM2DefaultUID is the default distinguishing identifier of GM/T 0009.
var SM2DefaultUID = []byte("1234567812345678")

// SM2Digest returns e = SM3(Z‖msg) for an SM2 public key with the default user ID.
func SM2Digest(pub crypto.PublicKey, msg []byte) ([]byte, error) {
	k, ok := pub.(*ecdsa.PublicKey)
	if !ok || k.Curve != sm2.P256() {
		return nil, fmt.Errorf("not an SM2 public key (%T)", pub)
	}
	return sm2.CalculateSM2Hash(k, msg, SM2DefaultUID)
}

// SignSM2Message signs msg with an SM2 signer following the package convention.
func SignSM2Message(s crypto.Signer, msg []byte) ([]byte, error) {
	e, err := SM2Digest(s.Public(), msg)
	if err != nil {
		return nil, err
	}
	return s.Sign(rand.Reader, e, crypto.Hash(0))
}

// Container turns the digest of the data to be signed into the bytes a format embeds
// (a CMS SignedData, an SES_Signature, ...). It is step 2 of signing.
type Container interface {
	// Digest is the algorithm the format must hash the protected data with.
	Digest() DigestAlgorithm
	// MaxSize is an upper bound of the container's DER size, for placeholders.
	MaxSize() int
	// Build signs digest and returns the container.
	Build(ctx context.Context, digest []byte) ([]byte, error)
}
