package pdf

import (
	"bytes"
	"context"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/emmansun/gmsm/smx509"

	"sealdesk/document"
	"sealdesk/signer"
	"sealdesk/signer/pki"
	"sealdesk/signer/ses"
	"sealdesk/signer/trust/responder"
	"sealdesk/signer/tsa"
)

// ltvPKI is a signer and a TSA whose certificates name a loopback OCSP responder and CRL
// distribution points (signer/trust/responder); the signer certificate expires soon, so a
// test that moves the verifier's clock a year forward sees it expired.
type ltvPKI struct {
	alg       signer.KeyAlgorithm
	resp      *responder.Responder
	root      *pki.Pair
	leaf      *pki.Pair
	id        *signer.Identity
	seal      []byte
	tsaHTTP   *httptest.Server
	tsaClient *tsa.Client
	trustPEM  []byte
}

func newLTVPKI(t *testing.T, alg signer.KeyAlgorithm) *ltvPKI {
	t.Helper()
	p := &ltvPKI{alg: alg, resp: responder.Start()}
	t.Cleanup(p.resp.Close)
	must := func(pair *pki.Pair, err error) *pki.Pair {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return pair
	}
	p.root = must(pki.New(alg, pki.Template{Kind: pki.Root, CommonName: "LTV Test Root " + string(alg)}, nil))
	inter := must(pki.New(alg, pki.Template{Kind: pki.Intermediate, CommonName: "LTV Test CA " + string(alg),
		CRLDistributionPoints: []string{p.resp.CRLURL(p.root)}}, p.root))
	crl := p.resp.CRLURL(inter)
	p.leaf = must(pki.New(alg, pki.Template{Kind: pki.Signer, CommonName: "LTV Signer " + string(alg),
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(6 * time.Hour),
		OCSPServer: []string{p.resp.OCSPURL()}, CRLDistributionPoints: []string{crl}}, inter))
	p.id = &signer.Identity{Label: "ltv", Algorithm: alg, Certificate: p.leaf.Cert, Chain: []*smx509.Certificate{inter.Cert, p.root.Cert}, Signer: p.leaf.Key}
	tsaPair := must(pki.New(alg, pki.Template{Kind: pki.TSA, CommonName: "LTV Test TSA " + string(alg),
		OCSPServer: []string{p.resp.OCSPURL()}, CRLDistributionPoints: []string{crl}}, inter))
	p.tsaHTTP = httptest.NewServer(tsa.NewServer(tsaPair, inter.Cert, p.root.Cert))
	t.Cleanup(p.tsaHTTP.Close)
	p.tsaClient = &tsa.Client{URL: p.tsaHTTP.URL, HTTP: p.tsaHTTP.Client()}
	p.trustPEM = pki.PEM(p.root.Cert)
	if alg == signer.SM2 {
		mk := getSigner(t, signer.SM2)
		maker, err := pki.NewChain(signer.SM2, "LTV Seal Maker")
		if err != nil {
			t.Fatal(err)
		}
		mkp := must(maker.Issue(pki.Template{Kind: pki.SealMaker, CommonName: "LTV Seal Maker"}))
		_, png := sealPicture(t)
		p.seal, err = ses.MakeSeal(ses.SealSpec{ESID: "11010000000077", Name: "长期验证测试章", SignerCerts: []*smx509.Certificate{p.leaf.Cert},
			ValidEnd: time.Now().AddDate(3, 0, 0), PictureType: "png", Picture: png, WidthMM: 40, HeightMM: 40,
			Maker: mkp.Key, MakerCert: mkp.Cert})
		if err != nil {
			t.Fatal(err)
		}
		_ = mk
	}
	return p
}

// stop takes the revocation services and the TSA away.
func (p *ltvPKI) stop() {
	p.resp.Close()
	p.tsaHTTP.Close()
}

func (p *ltvPKI) sign(t *testing.T, profile document.Profile, withTSA bool) []byte {
	t.Helper()
	in := GenerateSample(samplePages(1), SampleOptions{})
	req := &document.SignRequest{Profile: profile, Identity: p.id, Seal: p.seal, Reason: "长期验证", Time: time.Now()}
	if withTSA {
		req.TSA = p.tsaHTTP.URL
	}
	return signBytes(t, in, req)
}

func (p *ltvPKI) extend(t *testing.T, in []byte, level string) []byte {
	t.Helper()
	var out bytes.Buffer
	if _, err := Extend(context.Background(), bytes.NewReader(in), int64(len(in)),
		&ExtendOptions{Level: level, TSAClient: p.tsaClient, TrustPEM: p.trustPEM}, &out); err != nil {
		t.Fatalf("extend %s: %v", level, err)
	}
	if !bytes.HasPrefix(out.Bytes(), in) {
		t.Fatal("the extended file does not start with the original bytes")
	}
	return out.Bytes()
}

// verifyAt verifies b with the test root, the clock at now, offline or not.
func (p *ltvPKI) verifyAt(t *testing.T, b []byte, now time.Time, offline bool) *document.VerifyReport {
	t.Helper()
	rep, err := Verify(context.Background(), bytes.NewReader(b), int64(len(b)),
		&document.VerifyOptions{TrustPEM: p.trustPEM, Offline: offline, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	rep.Decide()
	for _, c := range document.UnknownCodes(rep) {
		t.Errorf("problem code %q is not in the table of codes", c)
	}
	return rep
}

func codesOf(s document.SignatureReport) string {
	var cs []string
	for _, p := range s.Problems {
		cs = append(cs, p.Code)
	}
	return strings.Join(cs, " ")
}

// TestLTVOfflineAfterExpiry is issue 19's first Must-show: B-LT and B-LTA files of every PDF
// profile are accepted offline, with the revocation services and the TSA stopped and the
// clock a year past the signer certificate's expiry, from the embedded material alone.
func TestLTVOfflineAfterExpiry(t *testing.T) {
	for _, tc := range []struct {
		alg     signer.KeyAlgorithm
		profile document.Profile
	}{{signer.ECDSA, document.ProfilePAdES}, {signer.SM2, document.ProfilePDFGM}, {signer.SM2, document.ProfilePDFSES}} {
		t.Run(string(tc.profile), func(t *testing.T) {
			p := newLTVPKI(t, tc.alg)
			bt := p.sign(t, tc.profile, true)
			lt := p.extend(t, bt, LevelLT)
			lta := p.extend(t, bt, LevelLTA)
			p.stop()
			later := time.Now().AddDate(1, 0, 0)
			for _, f := range []struct {
				name  string
				b     []byte
				level string
				n     int
			}{{"B-LT", lt, "B-LT", 1}, {"B-LTA", lta, "B-LTA", 2}} {
				rep := p.verifyAt(t, f.b, later, true)
				requireValid(t, f.name, rep, f.n)
				s := rep.Signatures[0]
				if s.LTV == nil || s.LTV.Level != f.level || !s.LTV.VRI || !s.HasCode("trust.cert-expired-now") {
					t.Fatalf("%s: ltv %+v, codes %s", f.name, s.LTV, codesOf(s))
				}
				embedded := 0
				for _, u := range s.LTV.Used {
					if u.Source != "embedded" {
						t.Errorf("%s: used %s answer from %s", f.name, u.Kind, u.Source)
					}
					embedded++
				}
				if embedded < 2 || s.Revocation != document.OK {
					t.Errorf("%s: %d embedded answers used (leaf and CA expected), revocation %s", f.name, embedded, s.Revocation)
				}
			}
			if ts := rep1(t, p, lta, later).Signatures[1]; ts.Profile != "pdf-doc-timestamp" || !ts.Valid {
				t.Errorf("document time-stamp: %+v", ts)
			}
		})
	}
}

func rep1(t *testing.T, p *ltvPKI, b []byte, now time.Time) *document.VerifyReport {
	return p.verifyAt(t, b, now, true)
}
