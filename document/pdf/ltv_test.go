package pdf

import (
	"bytes"
	"context"
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"os/exec"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/emmansun/gmsm/smx509"

	"sealdesk/document"
	"sealdesk/internal/testenv"
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
				if rep.Indication != document.IndicationValid {
					t.Errorf("%s: indication %s", f.name, rep.Indication)
				}
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

// TestLTVTampered: altered embedded material is refused. B-LT: a later revision swaps the
// DSS's OCSP answers for one whose signature was altered (and drops the CRLs); B-LTA: one
// byte of the DSS revision under the document time-stamp changes.
func TestLTVTampered(t *testing.T) {
	p := newLTVPKI(t, signer.ECDSA)
	bt := p.sign(t, document.ProfilePAdES, true)
	lt := p.extend(t, bt, LevelLT)
	lta := p.extend(t, bt, LevelLTA)
	p.stop()
	later := time.Now().AddDate(1, 0, 0)

	rd, err := NewReader(bytes.NewReader(lt), int64(len(lt)))
	if err != nil {
		t.Fatal(err)
	}
	cat, _, _ := rd.Final.Catalog()
	dssRef, ok := cat["DSS"].(Ref)
	if !ok {
		t.Fatal("no indirect /DSS in the catalog")
	}
	info := readDSS(rd.Final)
	if len(info.material.OCSPs) == 0 {
		t.Fatal("no OCSP answers in the DSS")
	}
	inc := newIncrement(rd.Final, int64(len(lt)))
	dss := copyDict(rd.Final.Dict(dssRef))
	var forged Array
	for _, der := range info.material.OCSPs {
		bad := append([]byte{}, der...)
		bad[len(bad)-3] ^= 0x55 // inside the signature value
		forged = append(forged, inc.add(flateStream(Dict{}, bad)))
	}
	dss["OCSPs"] = forged
	delete(dss, "CRLs")
	delete(dss, "VRI")
	inc.set(dssRef, dss)
	lay, err := inc.serialise(needsEOL(bytes.NewReader(lt), int64(len(lt))))
	if err != nil {
		t.Fatal(err)
	}
	swapped := append(append([]byte{}, lt...), lay.buf...)
	rep := p.verifyAt(t, swapped, later, true)
	if s := rep.Signatures[0]; s.Indication == document.IndicationValid || !s.HasCode("trust.embedded-revocation-invalid") || s.Indication != document.IndicationInvalid {
		t.Errorf("B-LT with altered OCSP answers: valid %v, %s, codes %s", s.Valid, s.Indication, codesOf(s))
	}

	// B-LTA: flip a byte of the first DSS increment (covered by the document time-stamp).
	at := len(bt) + bytes.Index(lta[len(bt):], []byte("stream\n")) + len("stream\n") + 3
	altered := append([]byte{}, lta...)
	altered[at] ^= 0x01
	rep = p.verifyAt(t, altered, later, true)
	if rep.Valid || rep.Indication == document.IndicationValid {
		t.Fatal("B-LTA with an altered DSS revision verified")
	}
	if ts := rep.Signatures[1]; ts.Integrity == document.OK {
		t.Errorf("the document time-stamp over the altered DSS still has integrity ok: %s", codesOf(ts))
	}
}

// TestLTVVerdicts: one test per case of the long-term validation table of docs/CLI.md.
func TestLTVVerdicts(t *testing.T) {
	later := time.Now().AddDate(1, 0, 0)
	t.Run("revoked after signing, time-stamped", func(t *testing.T) {
		p := newLTVPKI(t, signer.ECDSA)
		bt := p.sign(t, document.ProfilePAdES, true)
		p.resp.Revoke(p.leaf.Cert, time.Now().Add(time.Hour))
		p.resp.Now = func() time.Time { return time.Now().Add(2 * time.Hour) }
		lt := p.extend(t, bt, LevelLT)
		p.stop()
		s := p.verifyAt(t, lt, time.Now().Add(3*time.Hour), true).Signatures[0]
		if s.Indication != document.IndicationValid || !s.HasCode("trust.revoked-after-signing") {
			t.Errorf("valid %v %s, codes %s", s.Valid, s.Indication, codesOf(s))
		}
	})
	t.Run("revoked after signing, no time-stamp", func(t *testing.T) {
		p := newLTVPKI(t, signer.ECDSA)
		bb := p.sign(t, document.ProfilePAdES, false)
		p.resp.Revoke(p.leaf.Cert, time.Now().Add(time.Hour))
		p.resp.Now = func() time.Time { return time.Now().Add(2 * time.Hour) }
		lt := p.extend(t, bb, LevelLT)
		p.stop()
		s := p.verifyAt(t, lt, time.Now().Add(3*time.Hour), true).Signatures[0]
		if s.Indication != document.IndicationIndeterminate || !s.HasCode("trust.revoked-time-unproven") {
			t.Errorf("valid %v %s, codes %s", s.Valid, s.Indication, codesOf(s))
		}
	})
	t.Run("revoked after a document time-stamp, no signature time-stamp", func(t *testing.T) {
		p := newLTVPKI(t, signer.ECDSA)
		bb := p.sign(t, document.ProfilePAdES, false)
		lta := p.extend(t, bb, LevelLTA)
		p.resp.Revoke(p.leaf.Cert, time.Now().Add(time.Hour))
		p.resp.Now = func() time.Time { return time.Now().Add(2 * time.Hour) }
		lta2 := p.extend(t, lta, LevelLT)
		p.stop()
		s := p.verifyAt(t, lta2, time.Now().Add(3*time.Hour), true).Signatures[0]
		if s.Indication != document.IndicationValid || !s.HasCode("trust.revoked-after-timestamp") || s.LTV.ExistenceProvenAt == "" {
			t.Errorf("valid %v %s, codes %s, ltv %+v", s.Valid, s.Indication, codesOf(s), s.LTV)
		}
	})
	t.Run("expired certificate with LTV material", func(t *testing.T) {
		p := newLTVPKI(t, signer.ECDSA)
		lt := p.extend(t, p.sign(t, document.ProfilePAdES, true), LevelLT)
		p.stop()
		s := p.verifyAt(t, lt, later, false).Signatures[0]
		if s.Indication != document.IndicationValid || !s.HasCode("trust.cert-expired-now") {
			t.Errorf("valid %v %s, codes %s", s.Valid, s.Indication, codesOf(s))
		}
	})
	t.Run("expired certificate without LTV material", func(t *testing.T) {
		p := newLTVPKI(t, signer.ECDSA)
		bt := p.sign(t, document.ProfilePAdES, true)
		p.stop()
		s := p.verifyAt(t, bt, later, true).Signatures[0]
		if s.Indication != document.IndicationIndeterminate || !s.HasCode("trust.revocation-offline") || !s.HasCode("trust.cert-expired-now") {
			t.Errorf("valid %v %s, codes %s", s.Valid, s.Indication, codesOf(s))
		}
	})
	t.Run("revocation service gone, answers embedded", func(t *testing.T) {
		p := newLTVPKI(t, signer.ECDSA)
		lt := p.extend(t, p.sign(t, document.ProfilePAdES, true), LevelLT)
		p.stop()
		s := p.verifyAt(t, lt, time.Now(), false).Signatures[0]
		if s.Indication != document.IndicationValid || s.Revocation != document.OK || s.LTV.Level != "B-LT" {
			t.Errorf("valid %v %s, codes %s", s.Valid, s.Indication, codesOf(s))
		}
	})
	t.Run("revocation service gone, nothing embedded", func(t *testing.T) {
		p := newLTVPKI(t, signer.ECDSA)
		bt := p.sign(t, document.ProfilePAdES, true)
		p.stop()
		s := p.verifyAt(t, bt, time.Now(), false).Signatures[0]
		if s.Indication != document.IndicationIndeterminate || !s.HasCode("trust.revocation-fetch") || s.LTV.Level != "B-T" {
			t.Errorf("valid %v %s, codes %s, ltv %+v", s.Valid, s.Indication, codesOf(s), s.LTV)
		}
	})
}

// TestLTVIndependentCheckers: qpdf finds the structure clean and, parsed by qpdf's own JSON
// (not our reader), the DSS sits where EN 319 142-1 puts it — the catalog's /DSS, with
// /Certs, /OCSPs and /CRLs arrays of streams and a /VRI entry keyed by the upper-case hex
// SHA-1 of the signature's /Contents; poppler's pdfsig still validates the signature and
// lists the document time-stamp.
func TestLTVIndependentCheckers(t *testing.T) {
	qpdf := testenv.LookPath(t, "qpdf")
	pdfsig := testenv.LookPath(t, "pdfsig")
	for _, tc := range []struct {
		alg     signer.KeyAlgorithm
		profile document.Profile
	}{{signer.ECDSA, document.ProfilePAdES}, {signer.RSA, document.ProfilePAdES}, {signer.SM2, document.ProfilePDFGM}, {signer.SM2, document.ProfilePDFSES}} {
		t.Run(string(tc.profile)+"-"+string(tc.alg), func(t *testing.T) {
			p := newLTVPKI(t, tc.alg)
			lta := p.extend(t, p.sign(t, tc.profile, true), LevelLTA)
			f := writeTemp(t, "lta.pdf", lta)
			if out, err := exec.Command(qpdf, "--check", f).CombinedOutput(); err != nil || !strings.Contains(string(out), "No syntax or stream encoding errors") {
				t.Fatalf("qpdf --check: %v\n%s", err, out)
			}
			js, err := exec.Command(qpdf, "--json=2", "--json-key=qpdf", f).Output()
			if err != nil {
				t.Fatalf("qpdf --json: %v", err)
			}
			checkDSSByQpdf(t, js)
			if tc.alg == signer.SM2 {
				return // pdfsig (NSS) has no SM2
			}
			out := run(t, pdfsig, "-nssdir", "sql:"+nssDB(t, p.root.Cert), f)
			if !pdfsigValid.MatchString(out) || !strings.Contains(out, "Signature #2") {
				t.Errorf("pdfsig:\n%s", out)
			}
		})
	}
}

// checkDSSByQpdf follows qpdf's JSON from the trailer's /Root to /DSS and /VRI.
func checkDSSByQpdf(t *testing.T, js []byte) {
	t.Helper()
	// qpdf's JSON v2: {"qpdf": [header, {"obj:N G R": {"value": V} | {"stream": {"dict": D}}, "trailer": {"value": T}}]}
	var top struct {
		QPDF []map[string]json.RawMessage `json:"qpdf"`
	}
	if err := json.Unmarshal(js, &top); err != nil || len(top.QPDF) != 2 {
		t.Fatalf("qpdf JSON: %v", err)
	}
	objects := top.QPDF[1]
	obj := func(ref any) map[string]any {
		s, _ := ref.(string)
		key := s
		if s != "trailer" {
			key = "obj:" + s
		}
		var o map[string]any
		json.Unmarshal(objects[key], &o)
		if st, ok := o["stream"].(map[string]any); ok {
			m, _ := st["dict"].(map[string]any)
			if m != nil {
				m["__stream"] = true
			}
			return m
		}
		m, _ := o["value"].(map[string]any)
		return m
	}
	doc := struct {
		Trailer map[string]any
		Objects map[string]json.RawMessage
	}{obj("trailer"), map[string]json.RawMessage{}}
	for k, v := range objects {
		if strings.HasPrefix(k, "obj:") {
			doc.Objects[strings.TrimPrefix(k, "obj:")] = v
		}
	}
	deref := func(v any) map[string]any {
		if m, ok := v.(map[string]any); ok {
			return m
		}
		return obj(v)
	}
	cat := obj(doc.Trailer["/Root"])
	dss := deref(cat["/DSS"])
	if dss == nil {
		t.Fatalf("qpdf sees no /DSS in the catalog %v", cat)
	}
	for _, k := range []string{"/Certs", "/OCSPs", "/CRLs"} {
		arr, _ := dss[k].([]any)
		if len(arr) == 0 {
			t.Errorf("qpdf: /DSS %s is empty", k)
		}
		for _, r := range arr {
			if st := obj(r); st == nil || st["__stream"] != true {
				t.Errorf("qpdf: /DSS %s holds %v, not a stream", k, r)
			}
		}
	}
	vri := deref(dss["/VRI"])
	// Every signature's /Contents, found by qpdf, has its VRI entry.
	n := 0
	for ref := range doc.Objects {
		o := obj(ref)
		if o == nil || (o["/Type"] != "/Sig" && o["/Type"] != "/DocTimeStamp") {
			continue
		}
		c, _ := o["/Contents"].(string)
		raw, err := hex.DecodeString(strings.TrimPrefix(c, "b:"))
		if err != nil {
			t.Fatalf("qpdf /Contents %q: %v", c[:min(len(c), 20)], err)
		}
		h := sha1.Sum(raw)
		key := "/" + strings.ToUpper(hex.EncodeToString(h[:]))
		e := deref(vri[key])
		if e == nil {
			t.Errorf("qpdf: no /VRI entry %s for the %v signature", key, o["/Type"])
			continue
		}
		if certs, _ := e["/Cert"].([]any); len(certs) == 0 {
			t.Errorf("qpdf: /VRI %s has no /Cert", key)
		}
		n++
	}
	if n < 2 {
		t.Errorf("qpdf: %d signatures with VRI entries, want the signature and the document time-stamp", n)
	}
}
