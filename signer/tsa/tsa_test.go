package tsa

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/emmansun/gmsm/sm3"

	"sealdesk/internal/testenv"
	"sealdesk/signer"
	"sealdesk/signer/cms"
	"sealdesk/signer/pki"
)

var (
	tsaMu    sync.Mutex
	tsaCache = map[signer.KeyAlgorithm]*TestTSA{}
)

func testTSA(t testing.TB, a signer.KeyAlgorithm) *TestTSA {
	t.Helper()
	tsaMu.Lock()
	defer tsaMu.Unlock()
	if s := tsaCache[a]; s != nil {
		return s
	}
	s, err := StartTest(a)
	if err != nil {
		t.Fatal(err)
	}
	tsaCache[a] = s
	return s
}

func TestMain(m *testing.M) {
	code := m.Run()
	for _, s := range tsaCache {
		s.Close()
	}
	os.Exit(code)
}

func TestStampAndVerify(t *testing.T) {
	data := []byte("signature value to time-stamp")
	for _, a := range []signer.KeyAlgorithm{signer.RSA, signer.ECDSA, signer.SM2} {
		for _, d := range []signer.DigestAlgorithm{signer.SHA256, signer.SM3, signer.SHA512} {
			t.Run(fmt.Sprintf("%s/%s", a, d), func(t *testing.T) {
				ts := testTSA(t, a)
				dg, _ := cms.Sum(d, data)
				before := time.Now().Add(-time.Second)
				token, err := ts.Client.Stamp(context.Background(), d, dg)
				if err != nil {
					t.Fatal(err)
				}
				info, err := Verify(token, data)
				if err != nil {
					t.Fatal(err)
				}
				if !info.OK {
					t.Fatalf("token does not verify: %v %+v", info.Err(), info.Checks)
				}
				if info.Time.Before(before.Truncate(time.Second)) || info.Time.After(time.Now()) {
					t.Fatalf("token time %v out of range", info.Time)
				}
				if info.HashAlgorithm != d || !info.Policy.Equal(DefaultPolicy) || info.Certificate == nil ||
					!bytes.Equal(info.Certificate.Raw, ts.Pair.Cert.Raw) || info.Nonce == nil || info.Serial.Sign() <= 0 {
					t.Fatalf("unexpected token contents: %+v", info.TSTInfo)
				}
				if info.Accuracy != time.Second {
					t.Fatalf("accuracy %v", info.Accuracy)
				}
				if info, _ := VerifyDigest(token, dg); !info.OK {
					t.Fatalf("VerifyDigest: %v", info.Err())
				}
				// Other data: the imprint check fails, nothing else.
				info, _ = Verify(token, []byte("other"))
				if c := checkOf(info, cms.CheckImprint); info.OK || c == nil || c.Status != cms.Failed {
					t.Fatalf("other data accepted: %+v", info.Checks)
				}
			})
		}
	}
}

func checkOf(info *Info, name string) *cms.Check {
	for i := range info.Checks {
		if info.Checks[i].Name == name {
			return &info.Checks[i]
		}
	}
	return nil
}

func TestTamperedToken(t *testing.T) {
	ts := testTSA(t, signer.ECDSA)
	data := []byte("x")
	dg := sha256.Sum256(data)
	token, err := ts.Client.Stamp(context.Background(), signer.SHA256, dg[:])
	if err != nil {
		t.Fatal(err)
	}
	sd, err := cms.Parse(token)
	if err != nil {
		t.Fatal(err)
	}
	// Flip each byte of the TSTInfo (the time, serial, imprint ...) in place: the token must
	// fail (or fail to parse), never verify.
	i := bytes.Index(token, sd.EContent)
	for j := 0; j < len(sd.EContent); j++ {
		bad := bytes.Clone(token)
		bad[i+j] ^= 0x01
		info, err := Verify(bad, data)
		if err == nil && info.OK {
			t.Fatalf("token with TSTInfo byte %d flipped verifies", j)
		}
	}
	// A certificate without timeStamping usage is refused as a TSA.
	c, _ := pki.NewChain(signer.ECDSA, "Not a TSA")
	p, _ := c.Issue(pki.Template{Kind: pki.Signer, CommonName: "plain signer"})
	fake := NewServer(p)
	resp, _ := ParseResponse(fake.Respond(context.Background(), mustReq(t, dg[:])))
	info, err := Verify(resp.Token, data)
	if err != nil {
		t.Fatal(err)
	}
	if ch := checkOf(info, cms.CheckTimestampEKU); info.OK || ch == nil || ch.Code != "tsa.eku-missing" {
		t.Fatalf("non-TSA certificate accepted: %+v", info.Checks)
	}
}

func mustReq(t *testing.T, dg []byte) []byte {
	r := &Request{HashAlgorithm: signer.SHA256, HashedMessage: dg, CertReq: true}
	der, err := r.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return der
}

func TestClientRejects(t *testing.T) {
	ts := testTSA(t, signer.ECDSA)
	dg := sha256.Sum256([]byte("x"))
	ctx := context.Background()

	// A replayed response (nonce of an earlier request) is refused.
	var first []byte
	replay := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/timestamp-reply")
		if first == nil {
			rec := httptest.NewRecorder()
			ts.ServeHTTP(rec, r)
			first = rec.Body.Bytes()
		}
		w.Write(first)
	}))
	defer replay.Close()
	c := &Client{URL: replay.URL}
	if _, err := c.Stamp(ctx, signer.SHA256, dg[:]); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Stamp(ctx, signer.SHA256, dg[:]); err == nil {
		t.Fatal("replayed response accepted")
	}

	// A refused policy comes back as a StatusError naming the failure.
	c = &Client{URL: ts.URL, Policy: []int{1, 2, 3}}
	_, err := c.Stamp(ctx, signer.SHA256, dg[:])
	var se *StatusError
	if !errors.As(err, &se) || se.Status != StatusRejection || len(se.FailInfo) != 1 || se.FailInfo[0] != FailUnacceptedPolicy {
		t.Fatalf("policy refusal: %v", err)
	}
	// Wrong digest length never leaves the client.
	if _, err := ts.Client.Stamp(ctx, signer.SHA256, dg[:5]); err == nil {
		t.Fatal("short digest sent")
	}
	// HTTP errors and wrong content types are errors.
	bad := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.Write([]byte("<html>"))
	}))
	defer bad.Close()
	if _, err := (&Client{URL: bad.URL}).Stamp(ctx, signer.SHA256, dg[:]); err == nil {
		t.Fatal("HTML answer accepted")
	}
	// A cancelled context stops the request.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := ts.Client.Stamp(cctx, signer.SHA256, dg[:]); err == nil {
		t.Fatal("cancelled context ignored")
	}
}

func TestServerRefusals(t *testing.T) {
	ts := testTSA(t, signer.SM2)
	ctx := context.Background()
	for name, req := range map[string][]byte{
		"garbage":    []byte("not DER"),
		"bad alg":    mustMarshal(t, &Request{HashAlgorithm: signer.SHA256, HashedMessage: make([]byte, 32)}, []byte{1, 2, 3}),
		"bad len":    mustMarshal(t, &Request{HashAlgorithm: signer.SM3, HashedMessage: make([]byte, 5)}, nil),
		"bad policy": mustMarshal(t, &Request{HashAlgorithm: signer.SM3, HashedMessage: make([]byte, 32), Policy: []int{1, 3, 9}}, nil),
	} {
		resp, err := ParseResponse(ts.Respond(ctx, req))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if resp.Status != StatusRejection || resp.Token != nil || len(resp.FailInfo) != 1 {
			t.Fatalf("%s: %+v", name, resp)
		}
	}
	// certReq=false: the token carries no certificates; verification needs them supplied.
	resp, _ := ParseResponse(ts.Respond(ctx, mustMarshal(t, &Request{HashAlgorithm: signer.SM3, HashedMessage: sm3Sum("a")}, nil)))
	sd, err := cms.Parse(resp.Token)
	if err != nil || len(sd.Certificates) != 0 {
		t.Fatalf("certReq=false token has %d certificates (%v)", len(sd.Certificates), err)
	}
	if info, _ := Verify(resp.Token, []byte("a")); info.OK {
		t.Fatal("token verified without the TSA certificate")
	}
	if info, _ := Verify(resp.Token, []byte("a"), ts.Pair.Cert); !info.OK {
		t.Fatalf("token with supplied certificate: %v", info.Err())
	}
}

func sm3Sum(s string) []byte { h := sm3.Sum([]byte(s)); return h[:] }

// mustMarshal encodes r, replacing the hash OID when oid is set (to make unknown algorithms).
func mustMarshal(t *testing.T, r *Request, oid []byte) []byte {
	der, err := r.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if oid != nil {
		// sha256 OID body 60 86 48 01 65 03 04 02 01 → same length, unknown arc.
		i := bytes.Index(der, []byte{0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01})
		der[i+8] = 0x7f
	}
	return der
}

// TestCMSWithTimestamp signs CMS with a signature-time-stamp (PAdES B-T) for every algorithm
// and checks the binding: the token covers exactly this signature value.
func TestCMSWithTimestamp(t *testing.T) {
	for _, a := range []signer.KeyAlgorithm{signer.RSA, signer.ECDSA, signer.SM2} {
		t.Run(string(a), func(t *testing.T) {
			ts := testTSA(t, a)
			c, _ := pki.NewChain(a, "Signer")
			leaf, _ := c.Issue(pki.Template{Kind: pki.Signer, CommonName: "签名人"})
			id := pki.Identity(leaf, c, "x")
			d := signer.DefaultDigest(a)
			content := []byte("document bytes")
			dg, _ := cms.Sum(d, content)
			ctr := cms.NewContainer(cms.Options{Identity: id, PAdES: true, TSA: ts.Client})
			der, err := ctr.Build(context.Background(), dg)
			if err != nil {
				t.Fatal(err)
			}
			if len(der) > ctr.MaxSize() {
				t.Fatalf("%d bytes > MaxSize %d", len(der), ctr.MaxSize())
			}
			sd, err := cms.Parse(der)
			if err != nil {
				t.Fatal(err)
			}
			res := sd.Verify(dg, cms.VerifyOptions{PAdES: true})
			if !res.OK || res.Timestamp == nil || !res.Timestamp.OK {
				t.Fatalf("B-T signature: %v %+v", res.Err(), res.Checks)
			}
			if ch := res.Check(cms.CheckTimestamp); ch == nil || ch.Status != cms.OK {
				t.Fatalf("timestamp check: %+v", ch)
			}
			// Transplant: the same token on another signature value must fail.
			tok, _ := sd.SignerInfos[0].UnsignedAttr(cms.OIDAttrTimeStampToken)
			info, err := VerifySignature(tok[0], append(bytes.Clone(sd.SignerInfos[0].Signature), 0))
			if err != nil || info.OK {
				t.Fatalf("token bound to another signature value: %v", err)
			}
			sd.SignerInfos[0].Signature[len(sd.SignerInfos[0].Signature)/2] ^= 1
			res = sd.Verify(dg, cms.VerifyOptions{})
			if ch := res.Check(cms.CheckTimestamp); res.OK || ch == nil || ch.Status != cms.Failed {
				t.Fatalf("tampered signature value: timestamp check %+v", ch)
			}
		})
	}
}

// TestOpenSSLInterop: OpenSSL's `ts` verifies our RSA/ECDSA tokens, and our server answers
// OpenSSL-made requests.
func TestOpenSSLInterop(t *testing.T) {
	openssl := testenv.LookPath(t, "openssl")
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	os.WriteFile(data, []byte("data for openssl ts"), 0o600)
	for _, a := range []signer.KeyAlgorithm{signer.RSA, signer.ECDSA, signer.SM2} {
		t.Run(string(a), func(t *testing.T) {
			ts := testTSA(t, a)
			q := filepath.Join(dir, string(a)+".tsq")
			dgst := "-sha256"
			if a == signer.SM2 {
				dgst = "-sm3"
			}
			run(t, openssl, "ts", "-query", "-data", data, dgst, "-cert", "-out", q)
			req, _ := os.ReadFile(q)
			resp := ts.Respond(context.Background(), req)
			rp := filepath.Join(dir, string(a)+".tsr")
			os.WriteFile(rp, resp, 0o600)
			ca := filepath.Join(dir, string(a)+"-ca.pem")
			os.WriteFile(ca, pki.PEM(ts.Chain.Root.Cert), 0o600)
			untrusted := filepath.Join(dir, string(a)+"-inter.pem")
			os.WriteFile(untrusted, pki.PEM(ts.Chain.Intermediate.Cert), 0o600)
			// Our verifier accepts the token OpenSSL asked for.
			r, err := ParseResponse(resp)
			if err != nil || r.Err() != nil {
				t.Fatalf("response to OpenSSL's query: %v %v", err, r.Err())
			}
			if info, err := Verify(r.Token, []byte("data for openssl ts")); err != nil || !info.OK {
				t.Fatalf("token for OpenSSL's query: %v %v", err, info.Err())
			}
			if a == signer.SM2 {
				// OpenSSL 3.0 cannot check SM2 certificate or CMS signatures without the
				// distinguishing ID, which `ts -verify` has no option for: record its answer.
				out, err := exec.Command(openssl, "ts", "-verify", "-queryfile", q, "-in", rp, "-CAfile", ca, "-untrusted", untrusted).CombinedOutput()
				t.Logf("openssl ts -verify on an SM2 token: err=%v\n%s", err, out)
				return
			}
			out := run(t, openssl, "ts", "-verify", "-queryfile", q, "-in", rp, "-CAfile", ca, "-untrusted", untrusted)
			if !bytes.Contains(out, []byte("Verification: OK")) {
				t.Fatalf("openssl ts -verify: %s", out)
			}
		})
	}
}

func run(t *testing.T, name string, args ...string) []byte {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %v: %v\n%s", name, args, err, out)
	}
	return out
}

func TestListen(t *testing.T) {
	ts := testTSA(t, signer.SM2)
	if _, err := Listen("0.0.0.0:0", ts.Server); err == nil {
		t.Fatal("listening on all interfaces accepted")
	}
	l, err := Listen("127.0.0.1:0", ts.Server)
	if err != nil {
		t.Fatal(err)
	}
	dg := sm3Sum("listen")
	token, err := (&Client{URL: l.URL}).Stamp(context.Background(), signer.SM3, dg)
	if err != nil {
		t.Fatal(err)
	}
	if info, _ := VerifyDigest(token, dg); !info.OK {
		t.Fatal(info.Err())
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := (&Client{URL: l.URL}).Stamp(context.Background(), signer.SM3, dg); err == nil {
		t.Fatal("closed listener still answers")
	}
}
