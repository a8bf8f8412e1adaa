//go:build cgo

package token

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"encoding/asn1"
	"encoding/binary"
	"errors"
	"fmt"
	"math/big"

	"github.com/emmansun/gmsm/sm2"
	"github.com/miekg/pkcs11"

	"sealdesk/signer"
)

// Key generation on the token, for a seal holder applying for a seal: the private key is
// made by the token (C_GenerateKeyPair) and never leaves it; the certificate the CA issues
// later is written next to it under the same CKA_ID (ImportCertificate), after which the
// pair is an ordinary identity (Open).

var (
	oidP256 = asn1.ObjectIdentifier{1, 2, 840, 10045, 3, 1, 7}
	oidSM2  = asn1.ObjectIdentifier{1, 2, 156, 10197, 1, 301}
)

// GenerateKeyPair makes a key pair of alg (ECDSA P-256, RSA-2048, or SM2 through the module's
// configured vendor mechanism) on the token labelled tokenLabel, both halves labelled label
// with CKA_ID id; the private key is sensitive, not extractable and signs only. It refuses
// when the token already has a private key with that label or id.
func (s *Store) GenerateKeyPair(ctx context.Context, tokenLabel string, pin []byte, label string, id []byte, alg signer.KeyAlgorithm) (crypto.PublicKey, error) {
	if label == "" || len(id) == 0 {
		return nil, errors.New("key generation: a label and a CKA_ID are required")
	}
	common := []*pkcs11.Attribute{
		pkcs11.NewAttribute(pkcs11.CKA_TOKEN, true),
		pkcs11.NewAttribute(pkcs11.CKA_ID, id),
		pkcs11.NewAttribute(pkcs11.CKA_LABEL, label),
	}
	pubT := append([]*pkcs11.Attribute{pkcs11.NewAttribute(pkcs11.CKA_VERIFY, true)}, common...)
	privT := append([]*pkcs11.Attribute{
		pkcs11.NewAttribute(pkcs11.CKA_PRIVATE, true),
		pkcs11.NewAttribute(pkcs11.CKA_SENSITIVE, true),
		pkcs11.NewAttribute(pkcs11.CKA_EXTRACTABLE, false),
		pkcs11.NewAttribute(pkcs11.CKA_SIGN, true),
	}, common...)
	var mech *pkcs11.Mechanism
	switch alg {
	case signer.ECDSA, signer.SM2:
		oid := oidP256
		mech = pkcs11.NewMechanism(pkcs11.CKM_EC_KEY_PAIR_GEN, nil)
		if alg == signer.SM2 {
			if s.cfg.SM2 == nil || s.cfg.SM2.KeyGen == 0 {
				return nil, fmt.Errorf("module %s has no SM2 key generation mechanism configured (set \"sm2\": {\"keyGen\": N} in the config)", s.cfg.Path)
			}
			oid, mech = oidSM2, pkcs11.NewMechanism(s.cfg.SM2.KeyGen, nil)
		}
		params, _ := asn1.Marshal(oid)
		pubT = append(pubT, pkcs11.NewAttribute(pkcs11.CKA_EC_PARAMS, params))
	case signer.RSA:
		mech = pkcs11.NewMechanism(pkcs11.CKM_RSA_PKCS_KEY_PAIR_GEN, nil)
		pubT = append(pubT,
			pkcs11.NewAttribute(pkcs11.CKA_MODULUS_BITS, 2048),
			pkcs11.NewAttribute(pkcs11.CKA_PUBLIC_EXPONENT, []byte{1, 0, 1}))
	default:
		return nil, fmt.Errorf("key generation: unsupported algorithm %q", alg)
	}
	var pub crypto.PublicKey
	err := s.withUserSession(ctx, tokenLabel, pin, func(c *pkcs11.Ctx, sess pkcs11.SessionHandle) error {
		for _, a := range []*pkcs11.Attribute{pkcs11.NewAttribute(pkcs11.CKA_LABEL, label), pkcs11.NewAttribute(pkcs11.CKA_ID, id)} {
			hs, err := findAll(c, sess, []*pkcs11.Attribute{pkcs11.NewAttribute(pkcs11.CKA_CLASS, pkcs11.CKO_PRIVATE_KEY), a})
			if err != nil {
				return err
			}
			if len(hs) > 0 {
				return fmt.Errorf("token %q already has a private key %q (or with CKA_ID %x): %w", tokenLabel, label, id, ErrExists)
			}
		}
		pubH, _, err := c.GenerateKeyPair(sess, []*pkcs11.Mechanism{mech}, pubT, privT)
		if err != nil {
			return fmt.Errorf("C_GenerateKeyPair: %w", err)
		}
		pub, err = readPublicKey(c, sess, pubH, alg)
		return err
	})
	return pub, err
}

// ErrExists means an object of that name exists on the token already.
var ErrExists = errors.New("exists already")

// readPublicKey reads a CKO_PUBLIC_KEY object as a Go public key.
func readPublicKey(c *pkcs11.Ctx, sess pkcs11.SessionHandle, h pkcs11.ObjectHandle, alg signer.KeyAlgorithm) (crypto.PublicKey, error) {
	switch alg {
	case signer.RSA:
		n, e := attr(c, sess, h, pkcs11.CKA_MODULUS), attr(c, sess, h, pkcs11.CKA_PUBLIC_EXPONENT)
		if len(n) == 0 || len(e) == 0 {
			return nil, errors.New("the token's RSA public key has no modulus or exponent")
		}
		return &rsa.PublicKey{N: new(big.Int).SetBytes(n), E: int(new(big.Int).SetBytes(e).Int64())}, nil
	case signer.ECDSA, signer.SM2:
		raw := attr(c, sess, h, pkcs11.CKA_EC_POINT)
		var point []byte
		if _, err := asn1.Unmarshal(raw, &point); err != nil {
			point = raw // some modules return the bare point
		}
		curve := elliptic.P256()
		if alg == signer.SM2 {
			curve = sm2.P256()
		}
		x, y := elliptic.Unmarshal(curve, point)
		if x == nil {
			return nil, errors.New("the token's EC public key is not an uncompressed point on the curve")
		}
		return &ecdsa.PublicKey{Curve: curve, X: x, Y: y}, nil
	}
	return nil, fmt.Errorf("unsupported algorithm %q", alg)
}

// KeySigner is a private key on a token opened without a certificate (to sign the
// certificate request of a key just generated). Close it to close its session.
type KeySigner struct {
	crypto.Signer
	Label string
	ID    []byte
	Close func() error
}

// OpenKey logs in and opens the private key named by uri (object label and/or id), with its
// public key read from the token's public key object of the same CKA_ID.
func (s *Store) OpenKey(ctx context.Context, uri string, pin []byte) (*KeySigner, error) {
	u, err := ParseURI(uri)
	if err != nil {
		return nil, err
	}
	if u.Object == "" && u.ID == nil {
		return nil, fmt.Errorf("%s names no object (object=LABEL or id=%%XX): which key?", uri)
	}
	toks, err := s.Tokens(ctx)
	if err != nil {
		return nil, err
	}
	var tok *signer.TokenInfo
	for i := range toks {
		if u.MatchesToken(toks[i]) {
			tok = &toks[i]
			break
		}
	}
	if tok == nil {
		return nil, fmt.Errorf("no token matching %s is present in module %s: %w", uri, s.cfg.Path, ErrNotFound)
	}
	registry.Lock()
	s.m.refs++
	registry.Unlock()
	s.m.sessions.Add(1)
	ts := &tokenSigner{s: s, token: tok.Label}
	opened := false
	fail := func(err error) (*KeySigner, error) {
		if opened {
			_ = s.do(context.Background(), CallTimeout, "closing session", func(c *pkcs11.Ctx) error { return c.CloseSession(ts.sess) })
		}
		s.m.sessions.Add(-1)
		s.m.release()
		return nil, err
	}
	var label string
	var id []byte
	err = s.do(ctx, SignTimeout, "opening the key", func(c *pkcs11.Ctx) error {
		sess, err := c.OpenSession(tok.Slot, pkcs11.CKF_SERIAL_SESSION)
		if err != nil {
			return fmt.Errorf("C_OpenSession: %w", mapRemoved(err))
		}
		ts.sess, opened = sess, true
		if err := s.m.login(c, sess, pkcs11.CKU_USER, pin); err != nil && !isRV(err, pkcs11.CKR_USER_ALREADY_LOGGED_IN) {
			if isRV(err, pkcs11.CKR_PIN_INCORRECT) || isRV(err, pkcs11.CKR_PIN_LOCKED) {
				now, _, _ := s.tokenInfo(c, tok.Slot)
				return &tokenPINError{Token: tok.Label, PIN: PINErrorFor(now, err)}
			}
			return fmt.Errorf("C_Login on token %q: %w", tok.Label, mapRemoved(err))
		}
		tmpl := []*pkcs11.Attribute{pkcs11.NewAttribute(pkcs11.CKA_CLASS, pkcs11.CKO_PRIVATE_KEY)}
		if u.Object != "" {
			tmpl = append(tmpl, pkcs11.NewAttribute(pkcs11.CKA_LABEL, u.Object))
		}
		if u.ID != nil {
			tmpl = append(tmpl, pkcs11.NewAttribute(pkcs11.CKA_ID, u.ID))
		}
		hs, err := findAll(c, sess, tmpl)
		if err != nil {
			return err
		}
		if len(hs) != 1 {
			return fmt.Errorf("token %q has %d private keys matching %s (want one): %w", tok.Label, len(hs), uri, ErrNotFound)
		}
		ts.key = hs[0]
		label, id = string(attr(c, sess, hs[0], pkcs11.CKA_LABEL)), attr(c, sess, hs[0], pkcs11.CKA_ID)
		ph, err := findAll(c, sess, []*pkcs11.Attribute{pkcs11.NewAttribute(pkcs11.CKA_CLASS, pkcs11.CKO_PUBLIC_KEY), pkcs11.NewAttribute(pkcs11.CKA_ID, id)})
		if err != nil {
			return err
		}
		if len(ph) == 0 {
			return fmt.Errorf("token %q has no public key with CKA_ID %x next to the private key %q: %w", tok.Label, id, label, ErrNotFound)
		}
		switch kt := ulong(attr(c, sess, ph[0], pkcs11.CKA_KEY_TYPE)); {
		case kt == pkcs11.CKK_RSA:
			ts.alg = signer.RSA
		case kt == pkcs11.CKK_EC:
			ts.alg = signer.ECDSA
			var oid asn1.ObjectIdentifier
			if _, err := asn1.Unmarshal(attr(c, sess, ph[0], pkcs11.CKA_EC_PARAMS), &oid); err == nil && oid.Equal(oidSM2) {
				ts.alg = signer.SM2
			}
		default:
			ts.alg = signer.SM2 // vendors give SM2 keys their own key type number
		}
		ts.pub, err = readPublicKey(c, sess, ph[0], ts.alg)
		return err
	})
	if err != nil {
		return fail(err)
	}
	return &KeySigner{Signer: ts, Label: label, ID: id, Close: ts.close}, nil
}

// ulong reads a CK_ULONG attribute value (host byte order, 4 or 8 bytes).
func ulong(b []byte) uint {
	switch len(b) {
	case 8:
		return uint(binary.NativeEndian.Uint64(b))
	case 4:
		return uint(binary.NativeEndian.Uint32(b))
	}
	return ^uint(0)
}
