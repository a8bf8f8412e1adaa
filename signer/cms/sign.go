package cms

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"encoding/asn1"
	"errors"
	"fmt"
	"math/big"
	"sort"
	"time"

	"github.com/emmansun/gmsm/smx509"
	"golang.org/x/crypto/cryptobyte"
	casn1 "golang.org/x/crypto/cryptobyte/asn1"

	"sealdesk/signer"
)

// Style selects the object identifiers of the ContentInfo and the data content type.
type Style int

const (
	// Standard uses the PKCS#7/CMS identifiers (1.2.840.113549.1.7.2 / .1): what PAdES,
	// OpenSSL, NSS and Adobe expect. SM2 signatures use sigAlg SM3withSM2 (1.2.156.10197.1.501).
	Standard Style = iota
	// GM uses the GM/T 0010 (GB/T 35275) identifiers 1.2.156.10197.6.1.4.2.2 / .1 and the SM2-1
	// sigAlg 1.2.156.10197.1.301.1, as Chinese PDF and OFD signing software writes them.
	GM
)

func (s Style) String() string {
	if s == GM {
		return "gm"
	}
	return "standard"
}

// Timestamper obtains RFC 3161 time-stamp tokens; *tsa.Client implements it. (An interface
// rather than *tsa.Client because signer/tsa verifies tokens with this package.)
type Timestamper interface {
	// Stamp returns a DER TimeStampToken whose message imprint is digest (made with alg).
	Stamp(ctx context.Context, alg signer.DigestAlgorithm, digest []byte) ([]byte, error)
}

// tokenSizer is optionally implemented by a Timestamper to size PDF placeholders.
type tokenSizer interface{ MaxTokenSize() int }

// defaultTokenReserve is the placeholder space reserved for a time-stamp token when the
// Timestamper cannot say: real tokens with the TSA chain are 3–6 KB (docs/pdf.md §2.2).
const defaultTokenReserve = 8192

// Options configures Sign.
type Options struct {
	// Identity provides the Signer, the signer Certificate and its Chain; all certificates are
	// embedded in SignedData.certificates.
	Identity *signer.Identity
	// Digest is the content and attribute digest; "" = signer.DefaultDigest (SM3 for SM2,
	// SHA-256 otherwise). SM2 requires SM3.
	Digest signer.DigestAlgorithm
	// Style selects Standard or GM/T 0010 identifiers.
	Style Style
	// PAdES makes an ETSI.CAdES.detached signature: no signing-time attribute (PAdES puts the
	// claimed time in the PDF's /M). signing-certificate-v2 is always written.
	PAdES bool
	// SigningTime is written as the signing-time attribute unless PAdES (zero = now).
	SigningTime time.Time
	// RSAPSS signs RSA keys with RSASSA-PSS (salt length = hash length) instead of PKCS#1 v1.5.
	RSAPSS bool
	// TSA, when set, adds a signature-time-stamp unsigned attribute (PAdES B-T) whose token
	// covers the signature value.
	TSA Timestamper
	// TSADigest is the digest sent to the TSA; "" = Digest.
	TSADigest signer.DigestAlgorithm
	// NoCertificates leaves SignedData.certificates out (RFC 3161 tokens for certReq=false).
	NoCertificates bool
	// SubjectKeyID identifies the signer by its certificate's subject key identifier
	// (SignerInfo version 3) instead of issuer and serial number.
	SubjectKeyID bool

	// Test hooks: produce the variants other producers write, so verification of them is
	// tested (signatureAlgorithm OID, raw r‖s SM2/ECDSA signature values).
	sigAlgOverride asn1.ObjectIdentifier
	rawECSignature bool
	noSignedAttrs  bool // attached only: sign the content itself (GB/T 35275 hash-attached)
}

// Errors callers can test for with errors.Is.
var (
	ErrNoSigner      = errors.New("cms: identity has no signer (not logged in)")
	ErrNoCertificate = errors.New("cms: identity has no signer certificate")
)

type signPlan struct {
	cert     *smx509.Certificate
	key      signer.KeyAlgorithm
	digest   signer.DigestAlgorithm
	tsDigest signer.DigestAlgorithm
}

func (o *Options) plan() (*signPlan, error) {
	if o.Identity == nil || o.Identity.Certificate == nil {
		return nil, ErrNoCertificate
	}
	cert := o.Identity.Certificate
	a, err := signer.AlgorithmOf(cert.PublicKey)
	if err != nil {
		return nil, fmt.Errorf("cms: signer certificate %q: %w", cert.Subject.CommonName, err)
	}
	d := o.Digest
	if d == "" {
		d = signer.DefaultDigest(a)
	}
	switch {
	case a == signer.SM2 && d != signer.SM3:
		return nil, fmt.Errorf("cms: SM2 keys sign with SM3, not %q", d)
	case a != signer.SM2 && d == signer.SM3:
		return nil, fmt.Errorf("cms: SM3 goes with SM2 keys, not %s", a)
	}
	if _, err := d.New(); err != nil {
		return nil, fmt.Errorf("cms: %w", err)
	}
	if o.RSAPSS && a != signer.RSA {
		return nil, fmt.Errorf("cms: RSA-PSS requested for a %s key", a)
	}
	td := o.TSADigest
	if td == "" {
		td = d
	}
	if _, err := td.New(); err != nil {
		return nil, fmt.Errorf("cms: time-stamp digest: %w", err)
	}
	return &signPlan{cert: cert, key: a, digest: d, tsDigest: td}, nil
}

// Sign makes a detached SignedData over content whose digest (made with o.Digest) the caller
// has computed, so that any amount of content can be streamed. It returns DER.
func Sign(ctx context.Context, digest []byte, o Options) ([]byte, error) {
	return sign(ctx, digest, nil, nil, o)
}

// SignEncapsulated makes a SignedData that carries content (of type contentType, e.g.
// OIDTSTInfo for a time-stamp token) inside encapContentInfo. The content-type attribute is
// contentType; o.Style only chooses the outer ContentInfo OID.
func SignEncapsulated(ctx context.Context, contentType asn1.ObjectIdentifier, content []byte, o Options) ([]byte, error) {
	if content == nil {
		content = []byte{}
	}
	return sign(ctx, nil, contentType, content, o)
}

func sign(ctx context.Context, digest []byte, eType asn1.ObjectIdentifier, eContent []byte, o Options) ([]byte, error) {
	p, err := o.plan()
	if err != nil {
		return nil, err
	}
	if o.Identity.Signer == nil {
		return nil, ErrNoSigner
	}
	if eContent != nil {
		digest, _ = Sum(p.digest, eContent)
	}
	h, _ := p.digest.New()
	if len(digest) != h.Size() {
		return nil, fmt.Errorf("cms: content digest is %d bytes, %s needs %d", len(digest), p.digest, h.Size())
	}
	if err := sameKey(o.Identity.Signer.Public(), p.cert.PublicKey); err != nil {
		return nil, err
	}
	st := o.Style
	dataOID := OIDData
	if st == GM {
		dataOID = OIDGMData
	}
	if eType != nil {
		dataOID = eType
	}
	digestOID, _ := DigestOID(p.digest)

	// Signed attributes, DER-sorted as a SET OF requires.
	attrs := [][]byte{
		attribute(OIDAttrContentType, func(b *cryptobyte.Builder) { b.AddASN1ObjectIdentifier(dataOID) }),
		attribute(OIDAttrMessageDigest, func(b *cryptobyte.Builder) { b.AddASN1OctetString(digest) }),
	}
	if !o.PAdES {
		t := o.SigningTime
		if t.IsZero() {
			t = time.Now()
		}
		t = t.UTC().Truncate(time.Second)
		attrs = append(attrs, attribute(OIDAttrSigningTime, func(b *cryptobyte.Builder) { addTime(b, t) }))
	}
	scv2, err := signingCertificateV2(p.cert, p.digest)
	if err != nil {
		return nil, err
	}
	attrs = append(attrs, attribute(OIDAttrSigningCertV2, func(b *cryptobyte.Builder) { b.AddBytes(scv2) }))
	signedAttrs := setOf(attrs) // the DER SET the signature covers

	if err := ctx.Err(); err != nil {
		return nil, err
	}
	toSign := signedAttrs
	if o.noSignedAttrs && eContent != nil {
		toSign, signedAttrs = eContent, nil
	}
	sig, sigAlg, err := signBytes(o.Identity.Signer, p, o.RSAPSS, st, toSign)
	if err != nil {
		return nil, err
	}
	if o.sigAlgOverride != nil {
		var b cryptobyte.Builder
		addAlgID(&b, o.sigAlgOverride, nil)
		sigAlg = b.BytesOrPanic()
	}
	if o.rawECSignature && p.key != signer.RSA {
		in := cryptobyte.String(sig)
		var seq cryptobyte.String
		r, s := new(big.Int), new(big.Int)
		in.ReadASN1(&seq, casn1.SEQUENCE)
		seq.ReadASN1Integer(r)
		seq.ReadASN1Integer(s)
		sig = append(r.FillBytes(make([]byte, 32)), s.FillBytes(make([]byte, 32))...)
	}
	if o.SubjectKeyID && len(p.cert.SubjectKeyId) == 0 {
		return nil, fmt.Errorf("cms: signer certificate %q has no subject key identifier", p.cert.Subject.CommonName)
	}

	var unsigned []byte
	if o.TSA != nil {
		imprint, _ := Sum(p.tsDigest, sig)
		token, err := o.TSA.Stamp(ctx, p.tsDigest, imprint)
		if err != nil {
			return nil, fmt.Errorf("cms: signature time-stamp: %w", err)
		}
		if _, _, err := toDER(token); err != nil {
			return nil, fmt.Errorf("cms: time-stamp token from TSA is not DER: %w", err)
		}
		unsigned = setOf([][]byte{attribute(OIDAttrTimeStampToken, func(b *cryptobyte.Builder) { b.AddBytes(token) })})
	}

	certs := []*smx509.Certificate{p.cert}
	for _, c := range o.Identity.Chain {
		if c != nil && !bytes.Equal(c.Raw, p.cert.Raw) {
			certs = append(certs, c)
		}
	}
	contentType := OIDSignedData
	if st == GM {
		contentType = OIDGMSignedData
	}
	var b cryptobyte.Builder
	b.AddASN1(casn1.SEQUENCE, func(b *cryptobyte.Builder) { // ContentInfo
		b.AddASN1ObjectIdentifier(contentType)
		b.AddASN1(casn1.Tag(0).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
			b.AddASN1(casn1.SEQUENCE, func(b *cryptobyte.Builder) { // SignedData
				if o.SubjectKeyID {
					b.AddASN1Int64(3) // RFC 5652 §5.1: a version 3 SignerInfo makes it 3
				} else {
					b.AddASN1Int64(1)
				}
				b.AddASN1(casn1.SET, func(b *cryptobyte.Builder) { addAlgID(b, digestOID, nil) })
				b.AddASN1(casn1.SEQUENCE, func(b *cryptobyte.Builder) {
					b.AddASN1ObjectIdentifier(dataOID)
					if eContent != nil {
						b.AddASN1(casn1.Tag(0).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
							b.AddASN1OctetString(eContent)
						})
					}
				})
				if !o.NoCertificates {
					b.AddASN1(casn1.Tag(0).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
						for _, c := range certs {
							b.AddBytes(c.Raw)
						}
					})
				}
				b.AddASN1(casn1.SET, func(b *cryptobyte.Builder) {
					b.AddASN1(casn1.SEQUENCE, func(b *cryptobyte.Builder) { // SignerInfo
						if o.SubjectKeyID {
							b.AddASN1Int64(3)
							b.AddASN1(casn1.Tag(0).ContextSpecific(), func(b *cryptobyte.Builder) { b.AddBytes(p.cert.SubjectKeyId) })
						} else {
							b.AddASN1Int64(1)
							b.AddASN1(casn1.SEQUENCE, func(b *cryptobyte.Builder) {
								b.AddBytes(p.cert.RawIssuer)
								b.AddASN1BigInt(p.cert.SerialNumber)
							})
						}
						addAlgID(b, digestOID, nil)
						if signedAttrs != nil {
							b.AddASN1(casn1.Tag(0).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
								b.AddBytes(signedAttrs[headerLen(signedAttrs):])
							})
						}
						b.AddBytes(sigAlg)
						b.AddASN1OctetString(sig)
						if unsigned != nil {
							b.AddASN1(casn1.Tag(1).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
								b.AddBytes(unsigned[headerLen(unsigned):])
							})
						}
					})
				})
			})
		})
	})
	return b.Bytes()
}

// sameKey makes a certificate/key mix-up an error at signing time rather than a signature
// nobody can verify.
func sameKey(signerPub, certPub crypto.PublicKey) error {
	type equaler interface{ Equal(crypto.PublicKey) bool }
	if e, ok := signerPub.(equaler); ok && !e.Equal(certPub) {
		return errors.New("cms: the signer's key does not match the signer certificate")
	}
	return nil
}

// signBytes signs msg (the DER signed attributes) and returns the signature value and the
// DER signatureAlgorithm AlgorithmIdentifier.
func signBytes(s crypto.Signer, p *signPlan, pss bool, st Style, msg []byte) ([]byte, []byte, error) {
	var algID cryptobyte.Builder
	switch p.key {
	case signer.SM2:
		e, err := signer.SM2Digest(s.Public(), msg)
		if err != nil {
			return nil, nil, err
		}
		sig, err := s.Sign(rand.Reader, e, crypto.Hash(0))
		if err != nil {
			return nil, nil, fmt.Errorf("cms: SM2 signing: %w", err)
		}
		oid := OIDSM3WithSM2
		if st == GM {
			oid = OIDSM2Sign
		}
		addAlgID(&algID, oid, nil)
		sig, err = normalizeECSignature(sig, 32)
		if err != nil {
			return nil, nil, err
		}
		return sig, algID.BytesOrPanic(), nil
	case signer.ECDSA:
		h := p.digest.CryptoHash()
		d, _ := Sum(p.digest, msg)
		sig, err := s.Sign(rand.Reader, d, h)
		if err != nil {
			return nil, nil, fmt.Errorf("cms: ECDSA signing: %w", err)
		}
		var oid asn1.ObjectIdentifier
		switch p.digest {
		case signer.SHA256:
			oid = oidECDSAWithSHA256
		case signer.SHA384:
			oid = oidECDSAWithSHA384
		default:
			oid = oidECDSAWithSHA512
		}
		addAlgID(&algID, oid, nil)
		size := (s.Public().(*ecdsa.PublicKey).Curve.Params().BitSize + 7) / 8
		sig, err = normalizeECSignature(sig, size)
		if err != nil {
			return nil, nil, err
		}
		return sig, algID.BytesOrPanic(), nil
	case signer.RSA:
		h := p.digest.CryptoHash()
		d, _ := Sum(p.digest, msg)
		if pss {
			sig, err := s.Sign(rand.Reader, d, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash, Hash: h})
			if err != nil {
				return nil, nil, fmt.Errorf("cms: RSA-PSS signing: %w", err)
			}
			addAlgID(&algID, oidRSAPSS, pssParams(p.digest, h.Size()))
			return sig, algID.BytesOrPanic(), nil
		}
		sig, err := s.Sign(rand.Reader, d, h)
		if err != nil {
			return nil, nil, fmt.Errorf("cms: RSA signing: %w", err)
		}
		addAlgID(&algID, oidRSAEncryption, []byte{0x05, 0x00})
		return sig, algID.BytesOrPanic(), nil
	}
	return nil, nil, fmt.Errorf("cms: unsupported key algorithm %q", p.key)
}

// pssParams encodes RSASSA-PSS-params (RFC 4055) with MGF1 over the same hash.
func pssParams(d signer.DigestAlgorithm, saltLen int) []byte {
	oid, _ := DigestOID(d)
	var b cryptobyte.Builder
	b.AddASN1(casn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1(casn1.Tag(0).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) { addAlgID(b, oid, []byte{0x05, 0x00}) })
		b.AddASN1(casn1.Tag(1).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
			b.AddASN1(casn1.SEQUENCE, func(b *cryptobyte.Builder) {
				b.AddASN1ObjectIdentifier(oidMGF1)
				addAlgID(b, oid, []byte{0x05, 0x00})
			})
		})
		b.AddASN1(casn1.Tag(2).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) { b.AddASN1Int64(int64(saltLen)) })
	})
	return b.BytesOrPanic()
}

// normalizeECSignature accepts DER SEQUENCE{r, s} or the raw r‖s some tokens and producers
// write (size = the curve's coordinate length), and returns DER.
func normalizeECSignature(sig []byte, size int) ([]byte, error) {
	in := cryptobyte.String(sig)
	var seq cryptobyte.String
	r, s := new(big.Int), new(big.Int)
	if in.ReadASN1(&seq, casn1.SEQUENCE) && in.Empty() && seq.ReadASN1Integer(r) && seq.ReadASN1Integer(s) && seq.Empty() {
		return sig, nil
	}
	if len(sig) == 2*size {
		r.SetBytes(sig[:size])
		s.SetBytes(sig[size:])
		var b cryptobyte.Builder
		b.AddASN1(casn1.SEQUENCE, func(b *cryptobyte.Builder) { b.AddASN1BigInt(r); b.AddASN1BigInt(s) })
		return b.Bytes()
	}
	return nil, fmt.Errorf("cms: malformed EC signature value (%d bytes, neither DER nor raw r‖s)", len(sig))
}

// signingCertificateV2 encodes SigningCertificateV2 {certs {ESSCertIDv2}} (RFC 5035) with
// issuerSerial, hashing the certificate with the signature's digest (SHA-256 is the DEFAULT and
// so omitted, as DER demands).
func signingCertificateV2(cert *smx509.Certificate, d signer.DigestAlgorithm) ([]byte, error) {
	certHash, err := Sum(d, cert.Raw)
	if err != nil {
		return nil, err
	}
	oid, _ := DigestOID(d)
	var b cryptobyte.Builder
	b.AddASN1(casn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1(casn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1(casn1.SEQUENCE, func(b *cryptobyte.Builder) { // ESSCertIDv2
				if d != signer.SHA256 {
					addAlgID(b, oid, nil)
				}
				b.AddASN1OctetString(certHash)
				b.AddASN1(casn1.SEQUENCE, func(b *cryptobyte.Builder) { // IssuerSerial
					b.AddASN1(casn1.SEQUENCE, func(b *cryptobyte.Builder) { // GeneralNames
						b.AddASN1(casn1.Tag(4).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
							b.AddBytes(cert.RawIssuer)
						})
					})
					b.AddASN1BigInt(cert.SerialNumber)
				})
			})
		})
	})
	return b.Bytes()
}

func addAlgID(b *cryptobyte.Builder, oid asn1.ObjectIdentifier, params []byte) {
	b.AddASN1(casn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1ObjectIdentifier(oid)
		if params != nil {
			b.AddBytes(params)
		}
	})
}

// attribute encodes Attribute {type, SET {value}}.
func attribute(oid asn1.ObjectIdentifier, value func(*cryptobyte.Builder)) []byte {
	var b cryptobyte.Builder
	b.AddASN1(casn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1ObjectIdentifier(oid)
		b.AddASN1(casn1.SET, value)
	})
	return b.BytesOrPanic()
}

// setOf encodes a DER SET OF the given elements (sorted by encoding).
func setOf(elems [][]byte) []byte {
	sorted := append([][]byte(nil), elems...)
	sort.Slice(sorted, func(i, j int) bool { return bytes.Compare(sorted[i], sorted[j]) < 0 })
	var b cryptobyte.Builder
	b.AddASN1(casn1.SET, func(b *cryptobyte.Builder) {
		for _, e := range sorted {
			b.AddBytes(e)
		}
	})
	return b.BytesOrPanic()
}

// addTime writes UTCTime for 1950–2049 and GeneralizedTime otherwise (RFC 5652 §11.3).
func addTime(b *cryptobyte.Builder, t time.Time) {
	if t.Year() >= 1950 && t.Year() < 2050 {
		b.AddASN1UTCTime(t)
		return
	}
	b.AddASN1GeneralizedTime(t)
}

// headerLen is the length of a DER element's identifier and length octets.
func headerLen(der []byte) int {
	if len(der) < 2 || der[1] < 0x80 {
		return 2
	}
	return 2 + int(der[1]&0x7f)
}

// Container is the signer.Container for CMS: Build = Sign with the container's options.
type Container struct {
	o    Options
	plan *signPlan
	err  error
}

// NewContainer returns a signer.Container that makes detached SignedData with o. Option
// errors are reported by Build (Digest then falls back to SHA-256).
func NewContainer(o Options) signer.Container {
	p, err := o.plan()
	return &Container{o: o, plan: p, err: err}
}

// Digest is the algorithm the format hashes the content with.
func (c *Container) Digest() signer.DigestAlgorithm {
	if c.plan == nil {
		return signer.SHA256
	}
	return c.plan.digest
}

// MaxSize bounds the DER size: fixed structure and attributes, all certificates, the
// signature value, and the time-stamp reserve when a TSA is configured.
func (c *Container) MaxSize() int {
	n := 1024
	if c.plan == nil {
		return n + 16384
	}
	n += len(c.plan.cert.Raw) + len(c.plan.cert.RawIssuer)
	for _, x := range c.o.Identity.Chain {
		if x != nil {
			n += len(x.Raw)
		}
	}
	switch k := c.plan.cert.PublicKey.(type) {
	case *rsa.PublicKey:
		n += k.Size() + 16
	default:
		n += 160
	}
	if c.o.TSA != nil {
		if s, ok := c.o.TSA.(tokenSizer); ok && s.MaxTokenSize() > 0 {
			n += s.MaxTokenSize() + 32
		} else {
			n += defaultTokenReserve
		}
	}
	return n
}

// Build signs digest.
func (c *Container) Build(ctx context.Context, digest []byte) ([]byte, error) {
	if c.err != nil {
		return nil, c.err
	}
	return Sign(ctx, digest, c.o)
}
