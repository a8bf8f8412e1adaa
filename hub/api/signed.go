package api

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
)

// SignedStatus is how the hub answers status and revocation-list questions: Payload is the
// exact JSON of a StatusPayload, and Signature is ECDSA P-256 over SHA-256 of
// SignedContext || Payload. A client that keeps these bytes can check them again later,
// offline, against the hub key it pinned; no JSON canonicalisation is involved because the
// signature covers the bytes as sent (json.RawMessage preserves them).
type SignedStatus struct {
	Payload   json.RawMessage `json:"payload"`
	KeyID     string          `json:"keyId"`
	Algorithm string          `json:"algorithm"` // ES256
	Signature []byte          `json:"signature"` // ASN.1 DER ECDSA signature, base64 in JSON
}

// SignedContext separates status signatures from anything else the key might sign.
const SignedContext = "sealhub-status-v1\n"

// KeyID names a public key: the first 16 bytes of the SHA-256 of its SubjectPublicKeyInfo, hex.
func KeyID(pub crypto.PublicKey) (string, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return "", err
	}
	h := sha256.Sum256(der)
	return hex.EncodeToString(h[:16]), nil
}

// SignStatus signs a payload with the hub key.
func SignStatus(key *ecdsa.PrivateKey, p *StatusPayload) (*SignedStatus, error) {
	b, err := json.Marshal(p)
	if err != nil {
		return nil, err
	}
	h := sha256.Sum256(append([]byte(SignedContext), b...))
	sig, err := ecdsa.SignASN1(rand.Reader, key, h[:])
	if err != nil {
		return nil, err
	}
	id, err := KeyID(&key.PublicKey)
	if err != nil {
		return nil, err
	}
	return &SignedStatus{Payload: b, KeyID: id, Algorithm: "ES256", Signature: sig}, nil
}

// ErrBadStatusSignature means a status answer does not verify under the pinned hub key.
var ErrBadStatusSignature = errors.New("hub status answer: signature does not verify under the pinned hub key")

// Open checks the signature with the hub's public key and returns the payload.
func (s *SignedStatus) Open(pub *ecdsa.PublicKey) (*StatusPayload, error) {
	if s == nil || pub == nil {
		return nil, ErrBadStatusSignature
	}
	if s.Algorithm != "ES256" {
		return nil, fmt.Errorf("hub status answer: algorithm %q is not supported (want ES256)", s.Algorithm)
	}
	h := sha256.Sum256(append([]byte(SignedContext), s.Payload...))
	if !ecdsa.VerifyASN1(pub, h[:], s.Signature) {
		return nil, ErrBadStatusSignature
	}
	var p StatusPayload
	if err := json.Unmarshal(s.Payload, &p); err != nil {
		return nil, fmt.Errorf("hub status answer: payload is not valid JSON: %w", err)
	}
	return &p, nil
}

// IdentityContext separates identity proofs from status answers signed with the same key, so
// a proof can never be replayed as a status answer or the other way round.
const IdentityContext = "sealhub-identity-v1\n"

// ErrBadIdentityProof means the hub did not prove it holds the expected key.
var ErrBadIdentityProof = errors.New("hub identity: the hub did not prove it holds the pinned key")

func identityDigest(challenge string) []byte {
	h := sha256.Sum256([]byte(IdentityContext + challenge))
	return h[:]
}

// SignIdentity signs a client's challenge (hex) with the hub key.
func SignIdentity(key *ecdsa.PrivateKey, challenge string) ([]byte, error) {
	return ecdsa.SignASN1(rand.Reader, key, identityDigest(challenge))
}

// VerifyIdentity checks a hub's proof for challenge under pub.
func VerifyIdentity(pub *ecdsa.PublicKey, challenge string, proof []byte) error {
	if pub == nil || !ecdsa.VerifyASN1(pub, identityDigest(challenge), proof) {
		return ErrBadIdentityProof
	}
	return nil
}

// ParseHubKey reads the PEM public key of a HubKey answer.
func ParseHubKey(pemText string) (*ecdsa.PublicKey, error) {
	b, _ := pem.Decode([]byte(pemText))
	if b == nil {
		return nil, errors.New("hub key: no PEM block")
	}
	pub, err := x509.ParsePKIXPublicKey(b.Bytes)
	if err != nil {
		return nil, fmt.Errorf("hub key: %w", err)
	}
	ec, ok := pub.(*ecdsa.PublicKey)
	if !ok {
		return nil, fmt.Errorf("hub key: want an ECDSA key, got %T", pub)
	}
	return ec, nil
}

// PublicKeyPEM encodes a public key as PEM.
func PublicKeyPEM(pub crypto.PublicKey) (string, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return "", err
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})), nil
}

// SignContext signs b under a context string (as SignStatus does for status answers), for
// other signed documents of a hub key: the registry's trust bundle, a provider's filings.
func SignContext(key *ecdsa.PrivateKey, context string, b []byte) ([]byte, error) {
	h := sha256.Sum256(append([]byte(context), b...))
	return ecdsa.SignASN1(rand.Reader, key, h[:])
}

// VerifyContext checks a SignContext signature.
func VerifyContext(pub *ecdsa.PublicKey, context string, b, sig []byte) bool {
	if pub == nil {
		return false
	}
	h := sha256.Sum256(append([]byte(context), b...))
	return ecdsa.VerifyASN1(pub, h[:], sig)
}
