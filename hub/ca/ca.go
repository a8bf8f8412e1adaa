// Package ca is sealhub's certificate-authority connector: the hub sends the holder's
// PKCS#10 request (signed by the key generated on the holder's token) and gets back the
// certificate the seal will bind. CA is the interface a connector to a real CA (a
// provincial CA's RA interface, an EJBCA, ...) implements; Local is the built-in CA for the
// demo and tests, whose key is any crypto.Signer — in sealhub, a key on the hub's token.
package ca

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/sha1"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"math/big"
	"time"

	"github.com/emmansun/gmsm/smx509"
)

// Subject is who the certificate is issued to, as the hub verified it (the request's own
// subject is not trusted: the applicant wrote it).
type Subject struct {
	CommonName string // the seal's name
	Org        string // the unit's name
	USCC       string // unified social credit code (subject serialNumber)
}

// CA issues holder certificates.
type CA interface {
	// Issue returns the DER certificate for the request's public key, valid until notAfter
	// at most, and its issuers (DER, root last).
	Issue(ctx context.Context, csrDER []byte, subj Subject, notAfter time.Time) (cert []byte, chain [][]byte, err error)
}

// ParseRequest parses a DER PKCS#10 request and checks its signature (proof that the
// requester holds the private key). RSA, ECDSA and SM2 requests are accepted.
func ParseRequest(der []byte) (*smx509.CertificateRequest, error) {
	if len(der) == 0 {
		return nil, errors.New("certificate request: empty")
	}
	csr, err := smx509.ParseCertificateRequest(der)
	if err != nil {
		return nil, fmt.Errorf("certificate request: not a PKCS#10 request: %w", err)
	}
	if err := csr.CheckSignature(); err != nil {
		return nil, fmt.Errorf("certificate request: its signature does not verify (the request was not signed by the key it names): %w", err)
	}
	return csr, nil
}

// Local is the built-in CA.
type Local struct {
	Key   crypto.Signer
	Cert  *smx509.Certificate
	Chain []*smx509.Certificate // Cert's own issuers, root last (empty for a root)
	// CRLDistributionPoints and OCSPServer are written into issued certificates.
	CRLDistributionPoints []string
	OCSPServer            []string
}

// Issue implements CA.
func (l *Local) Issue(ctx context.Context, csrDER []byte, subj Subject, notAfter time.Time) ([]byte, [][]byte, error) {
	if l == nil || l.Key == nil || l.Cert == nil {
		return nil, nil, errors.New("built-in CA: no CA key")
	}
	if err := ctx.Err(); err != nil {
		return nil, nil, err
	}
	csr, err := ParseRequest(csrDER)
	if err != nil {
		return nil, nil, err
	}
	pubDER, err := smx509.MarshalPKIXPublicKey(csr.PublicKey)
	if err != nil {
		return nil, nil, fmt.Errorf("certificate request: %w", err)
	}
	ski := sha1.Sum(pubDER)
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, nil, err
	}
	notBefore := time.Now().Add(-5 * time.Minute).Truncate(time.Second)
	if notAfter.After(l.Cert.NotAfter) {
		notAfter = l.Cert.NotAfter // no certificate outlives its issuer
	}
	name := pkix.Name{CommonName: subj.CommonName, Country: []string{"CN"}, SerialNumber: subj.USCC}
	if subj.Org != "" {
		name.Organization = []string{subj.Org}
	}
	tmpl := &smx509.Certificate{
		SerialNumber:          serial,
		Subject:               name,
		NotBefore:             notBefore,
		NotAfter:              notAfter,
		SubjectKeyId:          ski[:],
		AuthorityKeyId:        l.Cert.SubjectKeyId,
		BasicConstraintsValid: true,
		KeyUsage:              smx509.KeyUsageDigitalSignature | smx509.KeyUsageContentCommitment,
		CRLDistributionPoints: l.CRLDistributionPoints,
		OCSPServer:            l.OCSPServer,
	}
	der, err := smx509.CreateCertificate(rand.Reader, tmpl, l.Cert, csr.PublicKey, l.Key)
	if err != nil {
		return nil, nil, fmt.Errorf("built-in CA: issuing the certificate: %w", err)
	}
	chain := [][]byte{l.Cert.Raw}
	for _, c := range l.Chain {
		chain = append(chain, c.Raw)
	}
	return der, chain, nil
}
