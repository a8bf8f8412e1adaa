// Package responder is a test revocation service: an OCSP responder (RFC 6960) and CRL
// distribution points (RFC 5280) for one or more test CAs, served on a loopback HTTP server.
// Tests of long-term validation start one, issue certificates naming its URLs, revoke some,
// embed its answers in documents, stop it, and verify offline.
//
// Not a production service: no request signing, no nonce, answers are made on demand with the
// issuing CA's own key (RSA, ECDSA or SM2, through signer.SignSM2Message for SM2). The answers
// are encoded here rather than with x/crypto/ocsp, which knows only RSA and ECDSA keys.
package responder

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/asn1"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emmansun/gmsm/smx509"
	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"

	"sealdesk/signer"
	"sealdesk/signer/pki"
)

// Responder answers OCSP requests at /ocsp and serves each CA's CRL at /crl/N.crl.
type Responder struct {
	// URL is the server's base URL (http://127.0.0.1:port).
	URL string
	// Now is the clock of the answers (thisUpdate, producedAt); time.Now when nil.
	Now func() time.Time
	// Validity is how long an answer is valid (nextUpdate - thisUpdate); 0 means one day.
	Validity time.Duration
	// OCSPHits and CRLHits count answered requests.
	OCSPHits, CRLHits atomic.Int64

	srv     *httptest.Server
	mu      sync.Mutex
	cas     []*pki.Pair
	revoked map[string]time.Time // issuer index + serial → revocation time
}

// Start serves an empty responder on 127.0.0.1; add CAs with AddCA. Close it when done.
func Start() *Responder {
	r := &Responder{revoked: map[string]time.Time{}}
	r.srv = httptest.NewServer(r)
	r.URL = r.srv.URL
	return r
}

// Close stops the server: afterwards the revocation service is "gone".
func (r *Responder) Close() { r.srv.Close() }

// AddCA makes the responder answer for certificates issued by ca.
func (r *Responder) AddCA(ca *pki.Pair) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.cas = append(r.cas, ca)
}

// OCSPURL is the responder's URL, for pki.Template.OCSPServer.
func (r *Responder) OCSPURL() string { return r.URL + "/ocsp" }

// CRLURL is the distribution point of ca's CRL, for pki.Template.CRLDistributionPoints
// (ca is added when it is not yet).
func (r *Responder) CRLURL(ca *pki.Pair) string {
	r.mu.Lock()
	defer r.mu.Unlock()
	for i, c := range r.cas {
		if c == ca {
			return fmt.Sprintf("%s/crl/%d.crl", r.URL, i)
		}
	}
	r.cas = append(r.cas, ca)
	return fmt.Sprintf("%s/crl/%d.crl", r.URL, len(r.cas)-1)
}

// Revoke marks c revoked at the time at, in its issuer's CRL and OCSP answers.
func (r *Responder) Revoke(c *smx509.Certificate, at time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.revoked[string(c.RawIssuer)+"\x00"+c.SerialNumber.String()] = at
}

func (r *Responder) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

func (r *Responder) validity() time.Duration {
	if r.Validity > 0 {
		return r.Validity
	}
	return 24 * time.Hour
}

// ServeHTTP answers GET /crl/N.crl and POST /ocsp.
func (r *Responder) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	switch {
	case strings.HasPrefix(req.URL.Path, "/crl/") && strings.HasSuffix(req.URL.Path, ".crl"):
		n, err := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(req.URL.Path, "/crl/"), ".crl"))
		r.mu.Lock()
		if err != nil || n < 0 || n >= len(r.cas) {
			r.mu.Unlock()
			http.NotFound(w, req)
			return
		}
		ca := r.cas[n]
		r.mu.Unlock()
		der, err := r.CRL(ca)
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		r.CRLHits.Add(1)
		w.Header().Set("Content-Type", "application/pkix-crl")
		w.Write(der)
	case req.URL.Path == "/ocsp" && req.Method == http.MethodPost:
		body, err := io.ReadAll(io.LimitReader(req.Body, 16<<10))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		r.OCSPHits.Add(1)
		w.Header().Set("Content-Type", "application/ocsp-response")
		w.Write(r.Respond(body))
	default:
		http.NotFound(w, req)
	}
}

// CRL makes ca's current CRL.
func (r *Responder) CRL(ca *pki.Pair) ([]byte, error) {
	now := r.now()
	r.mu.Lock()
	var entries []smx509.RevocationListEntry
	prefix := string(ca.Cert.RawSubject) + "\x00"
	for k, at := range r.revoked {
		if !strings.HasPrefix(k, prefix) {
			continue
		}
		n, _ := new(big.Int).SetString(k[len(prefix):], 10)
		entries = append(entries, smx509.RevocationListEntry{SerialNumber: n, RevocationTime: at, ReasonCode: 1})
	}
	r.mu.Unlock()
	return smx509.CreateRevocationList(rand.Reader, &smx509.RevocationList{Number: big.NewInt(now.UnixNano()),
		ThisUpdate: now.Add(-time.Minute), NextUpdate: now.Add(r.validity()), RevokedCertificateEntries: entries}, ca.Cert, ca.Key)
}

type algorithmIdentifier struct {
	Algorithm  asn1.ObjectIdentifier
	Parameters asn1.RawValue `asn1:"optional"`
}

type certID struct {
	HashAlgorithm  algorithmIdentifier
	IssuerNameHash []byte
	IssuerKeyHash  []byte
	SerialNumber   *big.Int
}

var oidOCSPBasic = asn1.ObjectIdentifier{1, 3, 6, 1, 5, 5, 7, 48, 1, 1}

// malformed and unauthorized are the OCSPResponse bodies of those statuses.
var (
	malformed    = []byte{0x30, 0x03, 0x0a, 0x01, 0x01}
	unauthorized = []byte{0x30, 0x03, 0x0a, 0x01, 0x06}
)

// Respond answers a DER OCSPRequest for one certificate.
func (r *Responder) Respond(reqDER []byte) []byte {
	var req struct {
		TBS struct {
			List []struct{ Cert certID }
		}
	}
	if _, err := asn1.Unmarshal(reqDER, &req); err != nil || len(req.TBS.List) != 1 {
		return malformed
	}
	id := req.TBS.List[0].Cert
	r.mu.Lock()
	var ca *pki.Pair
	for _, c := range r.cas {
		var spki struct {
			Algorithm algorithmIdentifier
			PublicKey asn1.BitString
		}
		if _, err := asn1.Unmarshal(c.Cert.RawSubjectPublicKeyInfo, &spki); err != nil {
			continue
		}
		nh := sha1.Sum(c.Cert.RawSubject)
		kh := sha1.Sum(spki.PublicKey.RightAlign())
		if bytes.Equal(nh[:], id.IssuerNameHash) && bytes.Equal(kh[:], id.IssuerKeyHash) {
			ca = c
			break
		}
	}
	var revokedAt time.Time
	var revoked bool
	if ca != nil {
		revokedAt, revoked = r.revoked[string(ca.Cert.RawSubject)+"\x00"+id.SerialNumber.String()]
	}
	r.mu.Unlock()
	if ca == nil {
		return unauthorized
	}
	der, err := r.response(ca, id, revoked, revokedAt)
	if err != nil {
		return []byte{0x30, 0x03, 0x0a, 0x01, 0x02} // internalError
	}
	return der
}

// response builds a BasicOCSPResponse signed by the issuing CA itself.
func (r *Responder) response(ca *pki.Pair, id certID, revoked bool, revokedAt time.Time) ([]byte, error) {
	now := r.now()
	gt := func(b *cryptobyte.Builder, t time.Time) { b.AddASN1GeneralizedTime(t.UTC().Truncate(time.Second)) }
	var tbs cryptobyte.Builder
	tbs.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		var spki struct {
			Algorithm algorithmIdentifier
			PublicKey asn1.BitString
		}
		asn1.Unmarshal(ca.Cert.RawSubjectPublicKeyInfo, &spki)
		kh := sha1.Sum(spki.PublicKey.RightAlign())
		b.AddASN1(cbasn1.Tag(2).ContextSpecific().Constructed(), func(b *cryptobyte.Builder) { b.AddASN1OctetString(kh[:]) })
		gt(b, now)
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				idDER, _ := asn1.Marshal(id)
				b.AddBytes(idDER)
				if revoked {
					b.AddASN1(cbasn1.Tag(1).ContextSpecific().Constructed(), func(b *cryptobyte.Builder) {
						gt(b, revokedAt)
						b.AddASN1(cbasn1.Tag(0).ContextSpecific().Constructed(), func(b *cryptobyte.Builder) { b.AddASN1Enum(1) })
					})
				} else {
					b.AddASN1(cbasn1.Tag(0).ContextSpecific(), func(b *cryptobyte.Builder) {})
				}
				gt(b, now.Add(-time.Minute))
				b.AddASN1(cbasn1.Tag(0).ContextSpecific().Constructed(), func(b *cryptobyte.Builder) { gt(b, now.Add(r.validity())) })
			})
		})
	})
	tbsDER, err := tbs.Bytes()
	if err != nil {
		return nil, err
	}
	alg, err := signer.AlgorithmOf(ca.Key.Public())
	if err != nil {
		return nil, err
	}
	var oid asn1.ObjectIdentifier
	var sig []byte
	switch alg {
	case signer.SM2:
		oid = asn1.ObjectIdentifier{1, 2, 156, 10197, 1, 501}
		sig, err = signer.SignSM2Message(ca.Key, tbsDER)
	case signer.ECDSA:
		oid = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 2}
		h := sha256.Sum256(tbsDER)
		sig, err = ca.Key.Sign(rand.Reader, h[:], crypto.SHA256)
	case signer.RSA:
		oid = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 11}
		h := sha256.Sum256(tbsDER)
		sig, err = ca.Key.Sign(rand.Reader, h[:], crypto.SHA256)
	default:
		err = fmt.Errorf("unsupported CA key %s", alg)
	}
	if err != nil {
		return nil, err
	}
	var basic cryptobyte.Builder
	basic.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddBytes(tbsDER)
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1ObjectIdentifier(oid)
			if alg == signer.RSA {
				b.AddASN1NULL()
			}
		})
		b.AddASN1BitString(sig)
	})
	basicDER, err := basic.Bytes()
	if err != nil {
		return nil, err
	}
	var out cryptobyte.Builder
	out.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1Enum(0)
		b.AddASN1(cbasn1.Tag(0).ContextSpecific().Constructed(), func(b *cryptobyte.Builder) {
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				b.AddASN1ObjectIdentifier(oidOCSPBasic)
				b.AddASN1OctetString(basicDER)
			})
		})
	})
	return out.Bytes()
}
