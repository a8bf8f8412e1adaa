package cms

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"sealdesk/signer"
	"sealdesk/signer/pki"
)

type testPKI struct {
	chain *pki.Chain
	leaf  *pki.Pair
}

var (
	pkiOnce  sync.Mutex
	pkiCache = map[signer.KeyAlgorithm]*testPKI{}
)

// testIdentity returns a signer identity of algorithm a (cached per test binary: RSA key
// generation is slow).
func testIdentity(t testing.TB, a signer.KeyAlgorithm) (*signer.Identity, *testPKI) {
	t.Helper()
	pkiOnce.Lock()
	defer pkiOnce.Unlock()
	p := pkiCache[a]
	if p == nil {
		c, err := pki.NewChain(a, "SealDesk CMS")
		if err != nil {
			t.Fatal(err)
		}
		leaf, err := c.Issue(pki.Template{Kind: pki.Signer, CommonName: "CMS 测试签名人 " + string(a), Org: "SealDesk"})
		if err != nil {
			t.Fatal(err)
		}
		p = &testPKI{chain: c, leaf: leaf}
		pkiCache[a] = p
	}
	return pki.Identity(p.leaf, p.chain, "test"), p
}

var allAlgs = []signer.KeyAlgorithm{signer.RSA, signer.ECDSA, signer.SM2}

func digestOf(t testing.TB, d signer.DigestAlgorithm, data []byte) []byte {
	t.Helper()
	h, err := Sum(d, data)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func TestRoundTrip(t *testing.T) {
	content := []byte("SealDesk 电子印章 round trip content")
	for _, a := range allAlgs {
		for _, st := range []Style{Standard, GM} {
			for _, pades := range []bool{false, true} {
				for _, pss := range []bool{false, true} {
					if pss && a != signer.RSA {
						continue
					}
					name := fmt.Sprintf("%s/%s/pades=%v/pss=%v", a, st, pades, pss)
					t.Run(name, func(t *testing.T) {
						id, _ := testIdentity(t, a)
						d := signer.DefaultDigest(a)
						when := time.Date(2026, 11, 26, 8, 30, 0, 0, time.UTC)
						der, err := Sign(context.Background(), digestOf(t, d, content), Options{Identity: id, Style: st, PAdES: pades, RSAPSS: pss, SigningTime: when})
						if err != nil {
							t.Fatal(err)
						}
						sd, err := Parse(der)
						if err != nil {
							t.Fatal(err)
						}
						if sd.BER || sd.Style() != st || sd.EContent != nil {
							t.Fatalf("BER=%v style=%v attached=%v", sd.BER, sd.Style(), sd.EContent != nil)
						}
						if got, _ := sd.DigestAlgorithm(); got != d {
							t.Fatalf("digest %q, want %q", got, d)
						}
						if len(sd.Certificates) != 3 {
							t.Fatalf("%d certificates embedded, want leaf+intermediate+root", len(sd.Certificates))
						}
						res := sd.Verify(digestOf(t, d, content), VerifyOptions{PAdES: pades})
						if !res.OK {
							t.Fatalf("does not verify: %v\n%+v", res.Err(), res.Checks)
						}
						for _, c := range []string{CheckSigner, CheckContentType, CheckMessageDigest, CheckSignature, CheckSigningCert} {
							if ch := res.Check(c); ch == nil || ch.Status != OK {
								t.Errorf("check %s: %+v", c, ch)
							}
						}
						if res.Signer == nil || res.Signer.SerialNumber.Cmp(id.Certificate.SerialNumber) != 0 {
							t.Fatal("wrong signer certificate")
						}
						if pades != res.SigningTime.IsZero() {
							t.Fatalf("signing time %v with PAdES=%v", res.SigningTime, pades)
						}
						if !pades && !res.SigningTime.Equal(when) {
							t.Fatalf("signing time %v, want %v", res.SigningTime, when)
						}
						if !pades { // a signature with signing-time fails the PAdES profile check
							res := sd.Verify(digestOf(t, d, content), VerifyOptions{PAdES: true})
							if c := res.Check(CheckPAdES); res.OK || c == nil || c.Status != Failed {
								t.Fatalf("PAdES check passed a signature with signing-time: %+v", c)
							}
						}
						// A different content must fail with a digest mismatch.
						res = sd.Verify(digestOf(t, d, []byte("other content")), VerifyOptions{})
						if c := res.Check(CheckMessageDigest); res.OK || c.Status != Failed || c.Code != "cms.digest-mismatch" {
							t.Fatalf("other content accepted: %+v", c)
						}
					})
				}
			}
		}
	}
}

func TestSignRejectsBadInput(t *testing.T) {
	id, _ := testIdentity(t, signer.SM2)
	d := digestOf(t, signer.SM3, []byte("x"))
	if _, err := Sign(context.Background(), d, Options{Identity: id, Digest: signer.SHA256}); err == nil {
		t.Error("SM2 with SHA-256 accepted")
	}
	if _, err := Sign(context.Background(), d[:31], Options{Identity: id}); err == nil {
		t.Error("short digest accepted")
	}
	if _, err := Sign(context.Background(), d, Options{Identity: id, RSAPSS: true}); err == nil {
		t.Error("RSA-PSS with an SM2 key accepted")
	}
	other, _ := testIdentity(t, signer.ECDSA)
	mixed := *id
	mixed.Signer = other.Signer
	if _, err := Sign(context.Background(), d, Options{Identity: &mixed}); err == nil {
		t.Error("key/certificate mismatch accepted")
	}
	noKey := *id
	noKey.Signer = nil
	if _, err := Sign(context.Background(), d, Options{Identity: &noKey}); err != ErrNoSigner {
		t.Errorf("no signer: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Sign(ctx, d, Options{Identity: id}); err == nil {
		t.Error("cancelled context ignored")
	}
}

func TestContainer(t *testing.T) {
	for _, a := range allAlgs {
		id, _ := testIdentity(t, a)
		c := NewContainer(Options{Identity: id, PAdES: true})
		if c.Digest() != signer.DefaultDigest(a) {
			t.Fatalf("%s: container digest %q", a, c.Digest())
		}
		sum := sha256.Sum256([]byte("content"))
		dg := sum[:]
		if a == signer.SM2 {
			dg = digestOf(t, signer.SM3, []byte("content"))
		}
		der, err := c.Build(context.Background(), dg)
		if err != nil {
			t.Fatal(err)
		}
		if len(der) > c.MaxSize() {
			t.Fatalf("%s: %d bytes exceed MaxSize %d", a, len(der), c.MaxSize())
		}
		t.Logf("%s: CMS %d bytes, MaxSize %d", a, len(der), c.MaxSize())
	}
}

// Result is JSON-serialisable for `sealctl verify --json` style output, without certificates.
func TestResultJSON(t *testing.T) {
	id, _ := testIdentity(t, signer.SM2)
	dg := digestOf(t, signer.SM3, []byte("json"))
	der, err := Sign(context.Background(), dg, Options{Identity: id})
	if err != nil {
		t.Fatal(err)
	}
	sd, _ := Parse(der)
	out, err := json.Marshal(sd.Verify(dg, VerifyOptions{}))
	if err != nil {
		t.Fatal(err)
	}
	var back map[string]any
	if err := json.Unmarshal(out, &back); err != nil || back["ok"] != true || back["signatureAlgorithm"] != "sm2" {
		t.Fatalf("JSON %s (%v)", out, err)
	}
	if checks, _ := back["checks"].([]any); len(checks) < 5 {
		t.Fatalf("JSON lacks checks: %s", out)
	}
}
