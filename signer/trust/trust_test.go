package trust

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/asn1"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"crypto/x509/pkix"

	"github.com/emmansun/gmsm/smx509"
	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"

	"sealdesk/signer"
	"sealdesk/signer/pki"
)

// testCA serves, on loopback, the root's CRL (covering the intermediate), the intermediate's
// CRL and an OCSP responder signed by the intermediate, for one algorithm.
type testCA struct {
	alg          signer.KeyAlgorithm
	srv          *httptest.Server
	root, inter  *pki.Pair
	mu           sync.Mutex
	revoked      map[string]time.Time // serial → revocation time (CRL and OCSP)
	ocspHits     int
	crlHits      int
	ocspOverride func(w http.ResponseWriter)
	// responder, when set, signs OCSP responses instead of the intermediate (a delegated
	// responder) and is included in them.
	responder *pki.Pair
}

func newTestCA(t testing.TB, alg signer.KeyAlgorithm) *testCA {
	ca := &testCA{alg: alg, revoked: map[string]time.Time{}}
	ca.srv = httptest.NewServer(http.HandlerFunc(ca.serve))
	t.Cleanup(ca.srv.Close)
	var err error
	if ca.root, err = pki.New(alg, pki.Template{Kind: pki.Root, CommonName: "Trust Test Root " + string(alg)}, nil); err != nil {
		t.Fatal(err)
	}
	if ca.inter, err = pki.New(alg, pki.Template{Kind: pki.Intermediate, CommonName: "Trust Test CA " + string(alg),
		CRLDistributionPoints: []string{ca.srv.URL + "/root.crl"}}, ca.root); err != nil {
		t.Fatal(err)
	}
	return ca
}

func (ca *testCA) leaf(t testing.TB, cn string, ocsp, crl bool) *pki.Pair {
	tp := pki.Template{Kind: pki.Signer, CommonName: cn}
	if ocsp {
		tp.OCSPServer = []string{ca.srv.URL + "/ocsp"}
	}
	if crl {
		tp.CRLDistributionPoints = []string{ca.srv.URL + "/inter.crl"}
	}
	p, err := pki.New(ca.alg, tp, ca.inter)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func (ca *testCA) revoke(c *smx509.Certificate, at time.Time) {
	ca.mu.Lock()
	ca.revoked[c.SerialNumber.String()] = at
	ca.mu.Unlock()
}

func (ca *testCA) serve(w http.ResponseWriter, r *http.Request) {
	ca.mu.Lock()
	defer ca.mu.Unlock()
	now := time.Now()
	switch r.URL.Path {
	case "/root.crl", "/inter.crl":
		ca.crlHits++
		issuer := ca.inter
		if r.URL.Path == "/root.crl" {
			issuer = ca.root
		}
		var entries []smx509.RevocationListEntry
		for s, at := range ca.revoked {
			n, _ := new(big.Int).SetString(s, 10)
			entries = append(entries, smx509.RevocationListEntry{SerialNumber: n, RevocationTime: at, ReasonCode: 1})
		}
		der, err := smx509.CreateRevocationList(rand.Reader, &smx509.RevocationList{Number: big.NewInt(now.Unix()),
			ThisUpdate: now.Add(-time.Hour), NextUpdate: now.Add(24 * time.Hour), RevokedCertificateEntries: entries}, issuer.Cert, issuer.Key)
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		w.Write(der)
	case "/ocsp":
		ca.ocspHits++
		if ca.ocspOverride != nil {
			ca.ocspOverride(w)
			return
		}
		var req struct {
			TBS struct {
				List []struct{ Cert certID }
			}
		}
		body := make([]byte, 4096)
		n, _ := r.Body.Read(body)
		if _, err := asn1.Unmarshal(body[:n], &req); err != nil || len(req.TBS.List) != 1 {
			w.Write([]byte{0x30, 0x03, 0x0a, 0x01, 0x01}) // malformedRequest
			return
		}
		id := req.TBS.List[0].Cert
		revokedAt, revoked := ca.revoked[id.SerialNumber.String()]
		w.Write(ca.ocspResponse(id, revoked, revokedAt, now))
	default:
		http.NotFound(w, r)
	}
}

// ocspResponse builds and signs a BasicOCSPResponse with the intermediate's key (RSA, ECDSA or
// SM2), as a real responder would.
func (ca *testCA) ocspResponse(id certID, revoked bool, revokedAt, now time.Time) []byte {
	gt := func(b *cryptobyte.Builder, t time.Time) { b.AddASN1GeneralizedTime(t.UTC().Truncate(time.Second)) }
	var tbs cryptobyte.Builder
	tbs.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		kh := sha1.Sum(ca.signerPair().Cert.RawSubjectPublicKeyInfo)
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
				b.AddASN1(cbasn1.Tag(0).ContextSpecific().Constructed(), func(b *cryptobyte.Builder) { gt(b, now.Add(time.Hour)) })
			})
		})
	})
	tbsDER := tbs.BytesOrPanic()
	var oid asn1.ObjectIdentifier
	var sig []byte
	var err error
	switch ca.alg {
	case signer.SM2:
		oid = asn1.ObjectIdentifier{1, 2, 156, 10197, 1, 501}
		sig, err = signer.SignSM2Message(ca.signerPair().Key, tbsDER)
	case signer.ECDSA:
		oid = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 2}
		h := sha256.Sum256(tbsDER)
		sig, err = ca.signerPair().Key.Sign(rand.Reader, h[:], crypto.SHA256)
	case signer.RSA:
		oid = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 11}
		h := sha256.Sum256(tbsDER)
		sig, err = ca.signerPair().Key.Sign(rand.Reader, h[:], crypto.SHA256)
	}
	if err != nil {
		panic(err)
	}
	var basic cryptobyte.Builder
	basic.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddBytes(tbsDER)
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1ObjectIdentifier(oid)
			if ca.alg == signer.RSA {
				b.AddASN1NULL()
			}
		})
		b.AddASN1BitString(sig)
		if ca.responder != nil {
			b.AddASN1(cbasn1.Tag(0).ContextSpecific().Constructed(), func(b *cryptobyte.Builder) {
				b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) { b.AddBytes(ca.responder.Cert.Raw) })
			})
		}
	})
	var out cryptobyte.Builder
	out.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1Enum(0)
		b.AddASN1(cbasn1.Tag(0).ContextSpecific().Constructed(), func(b *cryptobyte.Builder) {
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				b.AddASN1ObjectIdentifier(oidOCSPBasic)
				b.AddASN1OctetString(basic.BytesOrPanic())
			})
		})
	})
	return out.BytesOrPanic()
}

func (ca *testCA) signerPair() *pki.Pair {
	if ca.responder != nil {
		return ca.responder
	}
	return ca.inter
}

func hasCode(r *Result, code string) bool {
	for _, p := range r.Problems {
		if p.Code == code {
			return true
		}
	}
	return false
}

func TestCheck(t *testing.T) {
	ctx := context.Background()
	for _, alg := range []signer.KeyAlgorithm{signer.SM2, signer.ECDSA, signer.RSA} {
		t.Run(string(alg), func(t *testing.T) {
			ca := newTestCA(t, alg)
			roots := pki.PEM(ca.root.Cert)
			inters := []*smx509.Certificate{ca.inter.Cert}
			v, err := NewVerifier(Config{Roots: roots})
			if err != nil {
				t.Fatal(err)
			}

			// OCSP good for the leaf, root CRL for the intermediate.
			good := ca.leaf(t, "good", true, false)
			r := v.Check(ctx, good.Cert, inters, time.Now())
			if r.Status() != OK || r.RevocationVia != "ocsp+crl" || len(r.Chain) != 3 {
				t.Fatalf("good leaf: %s via %q chain %d, problems %+v", r.Status(), r.RevocationVia, len(r.Chain), r.Problems)
			}

			// Revoked via OCSP.
			bad := ca.leaf(t, "revoked", true, false)
			ca.revoke(bad.Cert, time.Now().Add(-time.Minute))
			r = v.Check(ctx, bad.Cert, inters, time.Now())
			if r.Revocation != Failed || r.Status() != Failed || !hasCode(r, CodeRevoked) {
				t.Fatalf("revoked (OCSP): %+v", r)
			}
			// ... but signed (provably, by a timestamp) before the revocation: still fine.
			r = v.CheckRequest(ctx, Request{Leaf: bad.Cert, Intermediates: inters, At: time.Now().Add(-time.Hour), AtProven: true})
			if r.Revocation != OK {
				t.Fatalf("revoked after a proven signing time: %+v", r)
			}

			// CRL only: good, then revoked.
			crlLeaf := ca.leaf(t, "crl", false, true)
			r = v.Check(ctx, crlLeaf.Cert, inters, time.Now())
			if r.Status() != OK || r.RevocationVia != "crl" {
				t.Fatalf("CRL good: %s %q %+v", r.Status(), r.RevocationVia, r.Problems)
			}
			crlBad := ca.leaf(t, "crl revoked", false, true)
			ca.revoke(crlBad.Cert, time.Now().Add(-time.Minute))
			v2, _ := NewVerifier(Config{Roots: roots}) // fresh cache: the CRL now lists it
			r = v2.Check(ctx, crlBad.Cert, inters, time.Now())
			if r.Revocation != Failed || !hasCode(r, CodeRevoked) {
				t.Fatalf("CRL revoked: %+v", r)
			}

			// No revocation pointers at all: unknown, never ok.
			bare := ca.leaf(t, "bare", false, false)
			r = v.Check(ctx, bare.Cert, inters, time.Now())
			if r.Revocation != Unknown || r.Status() != Unknown || !hasCode(r, CodeRevocationNoInfo) {
				t.Fatalf("no revocation info: %+v", r)
			}

			// A root of the same name but another key: the chain is forged (failed). A root
			// the chain does not name: the issuer is unknown (chain unknown). No roots: unknown.
			other := newTestCA(t, alg)
			vw, _ := NewVerifier(Config{Roots: pki.PEM(other.root.Cert)})
			if r = vw.Check(ctx, good.Cert, inters, time.Now()); r.ChainStatus != Failed || !hasCode(r, CodeChainBroken) {
				t.Fatalf("impostor root: %+v", r)
			}
			vu, _ := NewVerifier(Config{Roots: pki.PEM(unrelatedRoot(t))})
			if r = vu.Check(ctx, good.Cert, inters, time.Now()); r.ChainStatus != Unknown || !hasCode(r, CodeChain) || r.TrustVerdict() != Unknown {
				t.Fatalf("unknown issuer: %+v", r)
			}
			vn, _ := NewVerifier(Config{})
			if r = vn.Check(ctx, good.Cert, inters, time.Now()); r.ChainStatus != Unknown || !hasCode(r, CodeNoRoots) {
				t.Fatalf("no roots: %+v", r)
			}

			// Signing time before the certificate existed: proven by a time-stamp, failed;
			// only claimed, it proves nothing either way (unknown, amber).
			before := time.Now().AddDate(-1, 0, 0)
			r = v.CheckRequest(ctx, Request{Leaf: good.Cert, Intermediates: inters, At: before, AtProven: true})
			if r.ValidAtSigning != Failed || r.ValidNow != OK || r.Status() != Failed || !hasCode(r, CodeNotValidAtTime) {
				t.Fatalf("proven signing before notBefore: %+v", r)
			}
			r = v.Check(ctx, good.Cert, inters, before)
			if r.ValidAtSigning != Unknown || r.Status() != Unknown || !hasCode(r, CodeNotValidAtClaim) || hasCode(r, CodeNotValidAtTime) {
				t.Fatalf("claimed signing before notBefore: %+v", r)
			}
		})
	}
}

func TestOfflineAndCache(t *testing.T) {
	ctx := context.Background()
	ca := newTestCA(t, signer.SM2)
	leaf := ca.leaf(t, "cached", true, true)
	inters := []*smx509.Certificate{ca.inter.Cert}
	roots := pki.PEM(ca.root.Cert)
	dir := t.TempDir()

	off, _ := NewVerifier(Config{Roots: roots, Offline: true, CacheDir: dir})
	r := off.Check(ctx, leaf.Cert, inters, time.Now())
	if r.Revocation != Unknown || !hasCode(r, CodeRevocationOff) || r.ChainStatus != OK {
		t.Fatalf("offline, empty cache: %+v", r)
	}
	if ca.ocspHits+ca.crlHits != 0 {
		t.Fatal("an offline verifier fetched")
	}

	on, _ := NewVerifier(Config{Roots: roots, CacheDir: dir})
	if r = on.Check(ctx, leaf.Cert, inters, time.Now()); r.Status() != OK {
		t.Fatalf("online: %+v", r)
	}
	hits := ca.ocspHits + ca.crlHits
	if r = on.Check(ctx, leaf.Cert, inters, time.Now()); r.Status() != OK || ca.ocspHits+ca.crlHits != hits {
		t.Fatalf("second check fetched again (%d → %d) or failed: %+v", hits, ca.ocspHits+ca.crlHits, r)
	}

	// A new offline verifier reads the disk cache.
	off2, _ := NewVerifier(Config{Roots: roots, Offline: true, CacheDir: dir})
	if r = off2.Check(ctx, leaf.Cert, inters, time.Now()); r.Status() != OK {
		t.Fatalf("offline from the disk cache: %+v", r)
	}
	// Once the cached data is past nextUpdate (OCSP 1 h, CRL 24 h), offline is unknown again.
	late, _ := NewVerifier(Config{Roots: roots, Offline: true, CacheDir: dir, Now: func() time.Time { return time.Now().Add(48 * time.Hour) }})
	if r = late.Check(ctx, leaf.Cert, inters, time.Now()); r.Revocation != Unknown {
		t.Fatalf("offline with expired cache: %+v", r)
	}
}

func TestResponderFailures(t *testing.T) {
	ctx := context.Background()
	ca := newTestCA(t, signer.ECDSA)
	leaf := ca.leaf(t, "x", true, false)
	inters := []*smx509.Certificate{ca.inter.Cert}
	roots := pki.PEM(ca.root.Cert)

	// tryLater, then a response signed by a stranger, then garbage: all unknown, with reasons.
	stranger := newTestCA(t, signer.ECDSA)
	for name, override := range map[string]func(w http.ResponseWriter){
		"tryLater": func(w http.ResponseWriter) { w.Write([]byte{0x30, 0x03, 0x0a, 0x01, 0x03}) },
		"stranger": func(w http.ResponseWriter) {
			id, _ := newCertID(leaf.Cert, ca.inter.Cert)
			w.Write(stranger.ocspResponse(id, false, time.Time{}, time.Now()))
		},
		"garbage": func(w http.ResponseWriter) { w.Write([]byte("not der")) },
	} {
		ca.mu.Lock()
		ca.ocspOverride = override
		ca.mu.Unlock()
		v, _ := NewVerifier(Config{Roots: roots})
		r := v.Check(ctx, leaf.Cert, inters, time.Now())
		if r.Revocation != Unknown || !hasCode(r, CodeRevocationFetch) {
			t.Fatalf("%s: %+v", name, r)
		}
		t.Logf("%s: %s", name, r.Problems[len(r.Problems)-1].Message)
	}

	// Responder down.
	ca.srv.Close()
	v, _ := NewVerifier(Config{Roots: roots})
	r := v.Check(ctx, leaf.Cert, inters, time.Now())
	if r.Revocation != Unknown || !strings.Contains(r.Problems[0].Message+r.Problems[len(r.Problems)-1].Message, "OCSP") {
		t.Fatalf("responder down: %+v", r)
	}
}

func TestKeyUsage(t *testing.T) {
	ca := newTestCA(t, signer.ECDSA)
	key, _ := pki.GenerateKey(signer.ECDSA)
	tmpl := &smx509.Certificate{SerialNumber: big.NewInt(7), NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: smx509.KeyUsageKeyEncipherment}
	tmpl.Subject.CommonName = "encryption only"
	der, err := smx509.CreateCertificate(rand.Reader, tmpl, ca.inter.Cert, key.Public(), ca.inter.Key)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := smx509.ParseCertificate(der)
	v, _ := NewVerifier(Config{Roots: pki.PEM(ca.root.Cert), Offline: true})
	r := v.Check(context.Background(), c, []*smx509.Certificate{ca.inter.Cert}, time.Now())
	if r.KeyUsage != Failed || !hasCode(r, CodeKeyUsage) || r.Status() != Failed {
		t.Fatalf("key usage: %+v", r)
	}
}

func TestParsePEM(t *testing.T) {
	if _, err := NewVerifier(Config{Roots: []byte("garbage")}); err == nil {
		t.Fatal("garbage roots accepted")
	}
}

func httptestServer(t *testing.T, h http.Handler) string {
	s := httptest.NewServer(h)
	t.Cleanup(s.Close)
	return s.URL
}

func TestSplitBundle(t *testing.T) {
	ca := newTestCA(t, signer.SM2)
	roots, inter, err := SplitBundle(pki.PEM(ca.inter.Cert, ca.root.Cert))
	if err != nil {
		t.Fatal(err)
	}
	r, _ := ParsePEM(roots)
	i, _ := ParsePEM(inter)
	if len(r) != 1 || !r[0].Equal(ca.root.Cert) || len(i) != 1 || !i[0].Equal(ca.inter.Cert) {
		t.Fatalf("roots %d, intermediates %d", len(r), len(i))
	}
	// With the split bundle, a leaf chains without being handed its intermediate.
	leaf := ca.leaf(t, "leaf", false, false)
	v, _ := NewVerifier(Config{Roots: roots, Intermediates: inter, Offline: true})
	if res := v.Check(context.Background(), leaf.Cert, nil, time.Now()); res.ChainStatus != OK {
		t.Fatalf("chain: %+v", res)
	}
}

// TestDelegatedResponder: responses signed by a certificate the issuer gave the OCSPSigning
// EKU are accepted; the same from a certificate without that EKU are not.
func TestDelegatedResponder(t *testing.T) {
	for _, alg := range []signer.KeyAlgorithm{signer.SM2, signer.ECDSA} {
		ca := newTestCA(t, alg)
		leaf := ca.leaf(t, "delegated", true, false)
		inters := []*smx509.Certificate{ca.inter.Cert}
		var err error
		if ca.responder, err = pki.New(alg, pki.Template{Kind: pki.OCSP, CommonName: "OCSP responder"}, ca.inter); err != nil {
			t.Fatal(err)
		}
		v, _ := NewVerifier(Config{Roots: pki.PEM(ca.root.Cert)})
		if r := v.Check(context.Background(), leaf.Cert, inters, time.Now()); r.Status() != OK {
			t.Fatalf("%s delegated responder: %+v", alg, r)
		}
		if ca.responder, err = pki.New(alg, pki.Template{Kind: pki.Signer, CommonName: "not a responder"}, ca.inter); err != nil {
			t.Fatal(err)
		}
		v, _ = NewVerifier(Config{Roots: pki.PEM(ca.root.Cert)})
		if r := v.Check(context.Background(), leaf.Cert, inters, time.Now()); r.Revocation != Unknown || !hasCode(r, CodeRevocationFetch) {
			t.Fatalf("%s responder without EKU accepted: %+v", alg, r)
		}
	}
}

// unrelatedRoot is a root that issued nothing the tests check (another name, another key):
// a verifier configured with it knows none of their issuers.
func unrelatedRoot(t testing.TB) *smx509.Certificate {
	p, err := pki.New(signer.ECDSA, pki.Template{Kind: pki.Root, CommonName: "Unrelated Root"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return p.Cert
}

// TestRejectedAnchor: a self-signed CA certificate whose key usage lacks keyCertSign, given as
// the only trust anchor, is named with its reason instead of "no trust anchors configured".
func TestRejectedAnchor(t *testing.T) {
	key, err := pki.GenerateKey(signer.ECDSA)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &smx509.Certificate{
		SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "Anchor Without CertSign"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		BasicConstraintsValid: true, IsCA: true, KeyUsage: smx509.KeyUsageDigitalSignature,
	}
	der, err := smx509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	anchor, _ := smx509.ParseCertificate(der)
	leaf, err := pki.New(signer.ECDSA, pki.Template{Kind: pki.Signer, CommonName: "leaf"}, &pki.Pair{Cert: anchor, Key: key})
	if err != nil {
		t.Fatal(err)
	}
	roots, inter, rejected, err := SplitBundleRejected(pki.PEM(anchor))
	if err != nil || len(roots) != 0 || len(inter) == 0 || len(rejected) != 1 {
		t.Fatalf("split: roots %d inter %d rejected %v err %v", len(roots), len(inter), rejected, err)
	}
	v, _ := NewVerifier(Config{Roots: roots, Intermediates: inter, Rejected: rejected, Offline: true})
	r := v.Check(context.Background(), leaf.Cert, nil, time.Now())
	if r.ChainStatus == OK || hasCode(r, CodeNoRoots) || !hasCode(r, CodeAnchorRejected) {
		t.Fatalf("result: %+v", r)
	}
	for _, p := range r.Problems {
		if p.Code == CodeAnchorRejected && (!strings.Contains(p.Message, "Anchor Without CertSign") || !strings.Contains(p.Message, "keyCertSign")) {
			t.Fatalf("message does not name the certificate and the reason: %q", p.Message)
		}
	}
	// A good anchor next to it: the chain of a leaf under the good one is OK and the rejected
	// one is not mentioned.
	ca := newTestCA(t, signer.ECDSA)
	roots, inter, rejected, _ = SplitBundleRejected(pki.PEM(anchor, ca.root.Cert, ca.inter.Cert))
	v, _ = NewVerifier(Config{Roots: roots, Intermediates: inter, Rejected: rejected, Offline: true})
	if r := v.Check(context.Background(), ca.leaf(t, "good", false, false).Cert, nil, time.Now()); r.ChainStatus != OK || hasCode(r, CodeAnchorRejected) {
		t.Fatalf("good chain: %+v", r)
	}
}
