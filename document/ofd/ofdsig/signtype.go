package ofdsig

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/asn1"
	"errors"
	"fmt"
	"math/big"
	"strings"

	"github.com/emmansun/gmsm/sm2"
	"github.com/emmansun/gmsm/smx509"

	"sealdesk/document"
	"sealdesk/signer"
	"sealdesk/signer/trust"
)

// verifySign checks a Type="Sign" signature: a GB/T 35275 SignedData over SM3(Signature.xml)
// (both the hash-attached and the signed-attributes forms real producers write), or — when
// the value is not a SignedData — a bare signature value over Signature.xml, which only the
// certificate supplied out of band (VerifyOptions.SignerCertPEM, `--cert`) can check.
func (v *verifier) verifySign(ctx context.Context, s *sigEntry, value []byte, r *document.SignatureReport) signedValue {
	if out, ok := v.verifyCMS(ctx, s, value, r); ok {
		return out
	}
	r.Profile = "ofd-sign-raw"
	var out signedValue
	if len(v.opts.SignerCertPEM) == 0 {
		out.valueUnknown = true
		r.AddProblem("ofd.sign.cert-needed", "signature %s: %s is a bare signature value without a certificate; give the signer certificate (--cert) to verify it", s.id(), s.sig.SignedValuePath)
		return out
	}
	certs, err := trust.ParseCertificates(v.opts.SignerCertPEM)
	if err != nil || len(certs) == 0 {
		out.valueUnknown = true
		r.AddProblem("ofd.sign.cert-unusable", "signature %s: the supplied signer certificate cannot be read: %v", s.id(), err)
		return out
	}
	out.cert, out.extra, out.pub = certs[0], certs[1:], certs[0].PublicKey
	out.signedAt = parseDateTime(s.sig.SignatureDateTime)
	if err := verifyBare(certs[0], s.sig.SignatureMethod, s.raw, value); err != nil {
		r.AddProblem("ofd.sign.value-invalid", "signature %s: bare signature over %s does not verify with the supplied certificate %q: %v",
			s.id(), s.xmlPath(), certs[0].Subject.CommonName, err)
		return out
	}
	out.valueOK = true
	return out
}

// verifyBare verifies a bare signature value over msg. SM2 values may be DER or raw r‖s
// (both seen); the SignatureMethod picks the algorithm, defaulting to the key's own.
func verifyBare(c *smx509.Certificate, method string, msg, sig []byte) error {
	method = strings.TrimSpace(method)
	switch pub := c.PublicKey.(type) {
	case *ecdsa.PublicKey:
		if pub.Curve == sm2.P256() {
			switch method {
			case "", OIDSM3WithSM2, "1.2.156.10197.501", "1.2.156.10197.1.301.1", "1.2.156.10197.1.301":
			default:
				return fmt.Errorf("SignatureMethod %s does not fit an SM2 key", method)
			}
			if len(sig) == 64 {
				sig = rsToDER(sig)
			}
			if !sm2.VerifyASN1WithSM2(pub, signer.SM2DefaultUID, msg, sig) {
				return errors.New("SM2 signature mismatch")
			}
			return nil
		}
		h, err := methodHash(method, crypto.SHA256)
		if err != nil {
			return err
		}
		if len(sig) == 2*((pub.Curve.Params().BitSize+7)/8) {
			sig = rsToDER(sig)
		}
		if !ecdsa.VerifyASN1(pub, digest(h, msg), sig) {
			return errors.New("ECDSA signature mismatch")
		}
		return nil
	case *rsa.PublicKey:
		h, err := methodHash(method, crypto.SHA256)
		if err != nil {
			return err
		}
		return rsa.VerifyPKCS1v15(pub, h, digest(h, msg), sig)
	}
	return fmt.Errorf("unsupported key type %T", c.PublicKey)
}

func methodHash(method string, def crypto.Hash) (crypto.Hash, error) {
	switch method {
	case "":
		return def, nil
	case "1.2.840.113549.1.1.5", "1.2.840.10045.4.1":
		return crypto.SHA1, nil
	case "1.2.840.113549.1.1.11", "1.2.840.10045.4.3.2":
		return crypto.SHA256, nil
	case "1.2.840.113549.1.1.12", "1.2.840.10045.4.3.3":
		return crypto.SHA384, nil
	case "1.2.840.113549.1.1.13", "1.2.840.10045.4.3.4":
		return crypto.SHA512, nil
	}
	return 0, fmt.Errorf("unsupported SignatureMethod %q", method)
}

func digest(h crypto.Hash, msg []byte) []byte {
	switch h {
	case crypto.SHA1:
		s := sha1.Sum(msg)
		return s[:]
	case crypto.SHA384:
		s := sha512.Sum384(msg)
		return s[:]
	case crypto.SHA512:
		s := sha512.Sum512(msg)
		return s[:]
	}
	s := sha256.Sum256(msg)
	return s[:]
}

// rsToDER converts a raw r‖s value to DER SEQUENCE{r, s}.
func rsToDER(b []byte) []byte {
	n := len(b) / 2
	der, _ := asn1.Marshal(struct{ R, S *big.Int }{new(big.Int).SetBytes(b[:n]), new(big.Int).SetBytes(b[n:])})
	return der
}
