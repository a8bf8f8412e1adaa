// Package pki makes test certificate authorities and certificates for RSA, ECDSA P-256 and
// SM2 (SM3withSM2, through gmsm's smx509). It serves the demo workspace and every test that
// needs certificates, so that no test material is made by hand.
//
// Keys are random (Go's key generators deliberately ignore a deterministic reader), but names,
// serial numbers (unique per run: NSS rejects reused issuer+serial pairs), validity and
// extensions are fixed by the caller's Template.
package pki

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/pem"
	"fmt"
	"math/big"
	"sync/atomic"
	"time"

	"github.com/emmansun/gmsm/sm2"
	"github.com/emmansun/gmsm/smx509"

	"sealdesk/signer"
)

// Pair is a certificate with its private key.
type Pair struct {
	Cert *smx509.Certificate
	Key  crypto.Signer
}

// GenerateKey makes a key of the given algorithm (RSA-2048, ECDSA P-256, SM2).
func GenerateKey(a signer.KeyAlgorithm) (crypto.Signer, error) {
	switch a {
	case signer.SM2:
		return sm2.GenerateKey(rand.Reader)
	case signer.ECDSA:
		return ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case signer.RSA:
		return rsa.GenerateKey(rand.Reader, 2048)
	}
	return nil, fmt.Errorf("unknown key algorithm %q", a)
}

// Kind says what a certificate is for.
type Kind int

const (
	Root Kind = iota
	Intermediate
	Signer     // document signer: digitalSignature + nonRepudiation
	SealMaker  // 制章人: signs SES seals
	TSA        // time-stamping unit: critical EKU timeStamping
	OCSP       // OCSP responder
	Hub        // server / hub response signer
	ClientAuth // TLS client
	// CodeSigning signs executables and installers (Authenticode; scripts/package.sh signs
	// the Windows build with one in CI).
	CodeSigning
)

// Template is what a caller chooses about a certificate.
type Template struct {
	Kind       Kind
	CommonName string
	Org        string
	NotBefore  time.Time // zero: one hour ago
	NotAfter   time.Time // zero: NotBefore + 10 years (CA) or 3 years (others)
	DNSNames   []string
	// OCSPServer and CRLDistributionPoints are written into issued certificates.
	OCSPServer            []string
	CRLDistributionPoints []string
}

var serial atomic.Int64

func nextSerial() *big.Int {
	// Time-based high part keeps serials unique across runs (see package doc), counter low part
	// keeps them unique within one.
	s := new(big.Int).SetInt64(time.Now().UnixNano())
	s.Lsh(s, 16)
	return s.Add(s, big.NewInt(serial.Add(1)))
}

// New makes a key of algorithm a and a certificate for it, issued by parent (nil: self-signed).
func New(a signer.KeyAlgorithm, t Template, parent *Pair) (*Pair, error) {
	key, err := GenerateKey(a)
	if err != nil {
		return nil, err
	}
	return Certify(key, t, parent)
}

// Certify issues a certificate for an existing key (e.g. one generated on a token).
func Certify(key crypto.Signer, t Template, parent *Pair) (*Pair, error) {
	if t.NotBefore.IsZero() {
		t.NotBefore = time.Now().Add(-time.Hour).Truncate(time.Second)
	}
	if t.NotAfter.IsZero() {
		years := 3
		if t.Kind == Root || t.Kind == Intermediate {
			years = 10
		}
		t.NotAfter = t.NotBefore.AddDate(years, 0, 0)
	}
	pubDER, err := smx509.MarshalPKIXPublicKey(key.Public())
	if err != nil {
		return nil, err
	}
	ski := sha1.Sum(pubDER)
	tmpl := &smx509.Certificate{
		SerialNumber:          nextSerial(),
		Subject:               pkix.Name{CommonName: t.CommonName, Organization: nonEmpty(t.Org), Country: []string{"CN"}},
		NotBefore:             t.NotBefore,
		NotAfter:              t.NotAfter,
		SubjectKeyId:          ski[:],
		DNSNames:              t.DNSNames,
		BasicConstraintsValid: true,
		OCSPServer:            t.OCSPServer,
		CRLDistributionPoints: t.CRLDistributionPoints,
	}
	switch t.Kind {
	case Root, Intermediate:
		tmpl.IsCA = true
		tmpl.KeyUsage = smx509.KeyUsageCertSign | smx509.KeyUsageCRLSign | smx509.KeyUsageDigitalSignature
		if t.Kind == Intermediate {
			tmpl.MaxPathLen = 0
			tmpl.MaxPathLenZero = true
		}
	case Signer, SealMaker:
		tmpl.KeyUsage = smx509.KeyUsageDigitalSignature | smx509.KeyUsageContentCommitment
	case TSA:
		tmpl.KeyUsage = smx509.KeyUsageDigitalSignature | smx509.KeyUsageContentCommitment
		// RFC 3161 §2.3: the EKU must be critical (OpenSSL's ts -verify insists); Go writes
		// ExtKeyUsage non-critical, so the extension is supplied explicitly.
		tmpl.ExtraExtensions = append(tmpl.ExtraExtensions, pkix.Extension{
			Id: asn1.ObjectIdentifier{2, 5, 29, 37}, Critical: true,
			// SEQUENCE { id-kp-timeStamping 1.3.6.1.5.5.7.3.8 }
			Value: []byte{0x30, 0x0a, 0x06, 0x08, 0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x08},
		})
	case OCSP:
		tmpl.KeyUsage = smx509.KeyUsageDigitalSignature
		tmpl.ExtKeyUsage = []smx509.ExtKeyUsage{smx509.ExtKeyUsageOCSPSigning}
	case Hub:
		tmpl.KeyUsage = smx509.KeyUsageDigitalSignature
		tmpl.ExtKeyUsage = []smx509.ExtKeyUsage{smx509.ExtKeyUsageServerAuth}
	case ClientAuth:
		tmpl.KeyUsage = smx509.KeyUsageDigitalSignature
		tmpl.ExtKeyUsage = []smx509.ExtKeyUsage{smx509.ExtKeyUsageClientAuth}
	case CodeSigning:
		tmpl.KeyUsage = smx509.KeyUsageDigitalSignature
		tmpl.ExtKeyUsage = []smx509.ExtKeyUsage{smx509.ExtKeyUsageCodeSigning}
	}
	issuerCert, issuerKey := tmpl, key
	if parent != nil {
		issuerCert, issuerKey = parent.Cert, parent.Key
		tmpl.AuthorityKeyId = parent.Cert.SubjectKeyId
	}
	der, err := smx509.CreateCertificate(rand.Reader, tmpl, issuerCert, key.Public(), issuerKey)
	if err != nil {
		return nil, fmt.Errorf("issue certificate %q: %w", t.CommonName, err)
	}
	cert, err := smx509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	return &Pair{Cert: cert, Key: key}, nil
}

func nonEmpty(s string) []string {
	if s == "" {
		return nil
	}
	return []string{s}
}

// Chain is a root, an intermediate and leaves issued by the intermediate, all of one algorithm.
type Chain struct {
	Algorithm    signer.KeyAlgorithm
	Root         *Pair
	Intermediate *Pair
}

// NewChain makes a root and an intermediate CA of algorithm a, named after org.
func NewChain(a signer.KeyAlgorithm, org string) (*Chain, error) {
	root, err := New(a, Template{Kind: Root, CommonName: org + " Test Root CA (" + string(a) + ")", Org: org}, nil)
	if err != nil {
		return nil, err
	}
	inter, err := New(a, Template{Kind: Intermediate, CommonName: org + " Test Issuing CA (" + string(a) + ")", Org: org}, root)
	if err != nil {
		return nil, err
	}
	return &Chain{Algorithm: a, Root: root, Intermediate: inter}, nil
}

// Issue makes a leaf key and certificate under the intermediate.
func (c *Chain) Issue(t Template) (*Pair, error) { return New(c.Algorithm, t, c.Intermediate) }

// Certs returns the leaf's issuers, intermediate first, root last (signer.Identity.Chain order).
func (c *Chain) Certs() []*smx509.Certificate {
	return []*smx509.Certificate{c.Intermediate.Cert, c.Root.Cert}
}

// PEM encodes certificates as a PEM bundle.
func PEM(certs ...*smx509.Certificate) []byte {
	var out []byte
	for _, c := range certs {
		out = append(out, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw})...)
	}
	return out
}

// Identity wraps a pair issued by chain as a signer.Identity (for tests and soft keys).
func Identity(p *Pair, chain *Chain, label string) *signer.Identity {
	a, _ := signer.AlgorithmOf(p.Key.Public())
	id := &signer.Identity{Label: label, Algorithm: a, Certificate: p.Cert, Signer: p.Key}
	if chain != nil {
		id.Chain = chain.Certs()
	}
	return id
}
