package ses

import (
	"bytes"
	"context"
	"errors"
	"image"
	"image/png"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emmansun/gmsm/sm3"

	"sealdesk/signer"
	"sealdesk/signer/pki"
)

// testPKI is one maker and one signer per algorithm, made once per test binary.
type testPKI struct {
	maker   *pki.Pair
	chains  map[signer.KeyAlgorithm]*pki.Chain
	signers map[signer.KeyAlgorithm]*pki.Pair
	picture []byte
}

var (
	pkiOnce sync.Once
	pkiVal  *testPKI
	pkiErr  error
)

func getPKI(t testing.TB) *testPKI {
	t.Helper()
	pkiOnce.Do(func() {
		p := &testPKI{chains: map[signer.KeyAlgorithm]*pki.Chain{}, signers: map[signer.KeyAlgorithm]*pki.Pair{}}
		for _, a := range []signer.KeyAlgorithm{signer.SM2, signer.ECDSA, signer.RSA} {
			ch, err := pki.NewChain(a, "SES Test")
			if err != nil {
				pkiErr = err
				return
			}
			p.chains[a] = ch
			if p.signers[a], err = ch.Issue(pki.Template{Kind: pki.Signer, CommonName: "Signer " + string(a)}); err != nil {
				pkiErr = err
				return
			}
		}
		if p.maker, pkiErr = p.chains[signer.SM2].Issue(pki.Template{Kind: pki.SealMaker, CommonName: "Seal Maker"}); pkiErr != nil {
			return
		}
		p.picture, pkiErr = GeneratePicture(PictureOptions{RingText: "测试单位", BottomText: "测试章", SizePx: 64})
		pkiVal = p
	})
	if pkiErr != nil {
		t.Fatal(pkiErr)
	}
	return pkiVal
}

func (p *testPKI) spec(version int, algs ...signer.KeyAlgorithm) SealSpec {
	s := SealSpec{
		Version: version, ESID: "3301000000001", Name: "测试单位合同专用章", Vid: "SealDeskTest",
		ValidEnd:    time.Now().AddDate(1, 0, 0),
		PictureType: "png", Picture: p.picture, WidthMM: 42, HeightMM: 42,
		Maker: p.maker.Key, MakerCert: p.maker.Cert,
	}
	s.CreateDate = time.Now().Add(-time.Minute)
	for _, a := range algs {
		s.SignerCerts = append(s.SignerCerts, p.signers[a].Cert)
	}
	return s
}

func (p *testPKI) sign(t testing.TB, version int, seal []byte, a signer.KeyAlgorithm, content []byte) []byte {
	t.Helper()
	c, err := NewContainer(SignOptions{Version: version, Seal: seal, Identity: pki.Identity(p.signers[a], p.chains[a], "signer"),
		PropertyInfo: "/Doc_0/Signs/Sign_0/Signature.xml"})
	if err != nil {
		t.Fatal(err)
	}
	h, _ := c.Digest().New()
	h.Write(content)
	der, err := c.Build(context.Background(), h.Sum(nil))
	if err != nil {
		t.Fatal(err)
	}
	if len(der) > c.MaxSize() {
		t.Errorf("signature is %d bytes, MaxSize said %d", len(der), c.MaxSize())
	}
	return der
}

func requireOK(t *testing.T, r *Result) {
	t.Helper()
	for _, c := range r.Checks {
		if c.Status != OK {
			t.Errorf("check %s: %s (%s) %s", c.Name, c.Status, c.Code, c.Message)
		}
	}
	if r.Status() != OK {
		t.Fatalf("status %s", r.Status())
	}
}

func TestRoundTrip(t *testing.T) {
	p := getPKI(t)
	content := []byte("<Signature>the protected bytes</Signature>")
	for _, tc := range []struct {
		name    string
		version int
		alg     signer.KeyAlgorithm
		digests bool
	}{
		{"v4-sm2", V4, signer.SM2, false},
		{"v4-sm2-digests", V4, signer.SM2, true},
		{"v1-sm2", V1, signer.SM2, false},
		{"v4-ecdsa", V4, signer.ECDSA, false},
		{"v4-rsa", V4, signer.RSA, false},
		{"v1-rsa", V1, signer.RSA, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			spec := p.spec(tc.version, signer.SM2, signer.ECDSA, signer.RSA)
			spec.CertDigests = tc.digests
			sealDER, err := MakeSeal(spec)
			if err != nil {
				t.Fatal(err)
			}
			seal, err := ParseSeal(sealDER)
			if err != nil {
				t.Fatal(err)
			}
			if seal.Version() != tc.version || seal.Info.ESID != spec.ESID || seal.Info.Property.Name != spec.Name ||
				seal.Info.Header.Vid != "SealDeskTest" || !bytes.Equal(seal.Info.Picture.Data, p.picture) {
				t.Fatalf("seal fields not preserved: %+v", seal.Info)
			}
			if tc.digests {
				if len(seal.Info.Property.CertDigests) != 3 || seal.Info.Property.CertListType != CertListDigests {
					t.Fatalf("want 3 digests, got %+v", seal.Info.Property)
				}
			} else if len(seal.Info.Property.Certs) != 3 {
				t.Fatalf("want 3 certs, got %d", len(seal.Info.Property.Certs))
			}
			requireOK(t, VerifySeal(seal, time.Time{}))

			sigDER := p.sign(t, tc.version, sealDER, tc.alg, content)
			sig, err := ParseSignature(sigDER)
			if err != nil {
				t.Fatal(err)
			}
			if sig.Version() != tc.version || sig.TBS.PropertyInfo != "/Doc_0/Signs/Sign_0/Signature.xml" {
				t.Fatalf("signature fields not preserved: version %d, propertyInfo %q", sig.Version(), sig.TBS.PropertyInfo)
			}
			if d := time.Since(sig.TBS.TimeInfo); d < 0 || d > time.Minute {
				t.Fatalf("timeInfo %v not now", sig.TBS.TimeInfo)
			}
			r := VerifySignature(context.Background(), sig, VerifyOptions{Content: content})
			requireOK(t, r)
			if r.SignerCert == nil || !bytes.Equal(r.SignerCert.Raw, p.signers[tc.alg].Cert.Raw) {
				t.Fatal("signer certificate not reported")
			}
			rep := r.SealReport()
			if rep.Checks != "ok" || rep.ESID != spec.ESID || rep.Version != tc.version || rep.Maker != "Seal Maker" {
				t.Fatalf("seal report %+v", rep)
			}
			// A different content must fail the data-hash check only.
			r = VerifySignature(context.Background(), sig, VerifyOptions{Content: []byte("other")})
			if c := r.Get(CheckDataHash); c.Status != Failed || c.Code != "ses.data-hash-mismatch" {
				t.Fatalf("data hash check on other content: %+v", c)
			}
			if r.Get(CheckSignatureValue).Status != OK {
				t.Fatal("signature value should still verify")
			}
		})
	}
}

// TestTamper flips every byte of the seal info, the data hash and the signature value of an
// SM2 signature (v4 and v1) and requires that each copy fails to parse or fails verification.
func TestTamper(t *testing.T) {
	p := getPKI(t)
	content := []byte("tamper test content")
	// A 1×1 picture keeps the seal info short: every byte costs a parse and two verifications.
	var tiny bytes.Buffer
	if err := png.Encode(&tiny, image.NewNRGBA(image.Rect(0, 0, 1, 1))); err != nil {
		t.Fatal(err)
	}
	for _, version := range []int{V4, V1} {
		spec := p.spec(version, signer.SM2)
		spec.Picture = tiny.Bytes()
		sealDER, err := MakeSeal(spec)
		if err != nil {
			t.Fatal(err)
		}
		sigDER := p.sign(t, version, sealDER, signer.SM2, content)
		sig, err := ParseSignature(sigDER)
		if err != nil {
			t.Fatal(err)
		}
		h := sm3.Sum(content)
		regions := map[string][]byte{
			"seal info": sig.TBS.Seal.Info.Raw,
			"data hash": h[:],
			"signature": sig.Value,
		}
		for name, part := range regions {
			off := bytes.Index(sigDER, part)
			if off < 0 {
				t.Fatalf("v%d %s not found in the DER", version, name)
			}
			for i := off; i < off+len(part); i++ {
				mod := bytes.Clone(sigDER)
				mod[i] ^= 0x5a
				s2, err := ParseSignature(mod)
				if err != nil {
					var fe *FieldError
					if !errors.As(err, &fe) {
						t.Fatalf("v%d %s byte %d: parse error is not a FieldError: %v", version, name, i, err)
					}
					continue
				}
				r := VerifySignature(context.Background(), s2, VerifyOptions{Content: content})
				if r.Status() != Failed {
					t.Fatalf("v%d %s byte %d flipped: verification status %s", version, name, i, r.Status())
				}
				var reason bool
				for _, c := range r.Checks {
					if c.Status == Failed && c.Code != "" && c.Message != "" {
						reason = true
					}
				}
				if !reason {
					t.Fatalf("v%d %s byte %d: failed without a reason", version, name, i)
				}
			}
		}
	}
}

func TestSealChecks(t *testing.T) {
	p := getPKI(t)
	sealDER, err := MakeSeal(p.spec(V4, signer.SM2))
	if err != nil {
		t.Fatal(err)
	}
	seal, _ := ParseSeal(sealDER)
	r := VerifySeal(seal, time.Now().AddDate(2, 0, 0))
	if c := r.Get(CheckSealValidity); c.Status != Failed || c.Code != "ses.seal-expired" {
		t.Fatalf("expired seal: %+v", c)
	}
	r = VerifySeal(seal, time.Now().AddDate(0, 0, -2))
	if c := r.Get(CheckSealValidity); c.Status != Failed || c.Code != "ses.seal-not-yet-valid" {
		t.Fatalf("not yet valid seal: %+v", c)
	}
	// A seal that does not bind the signer cannot be used to sign.
	_, err = NewContainer(SignOptions{Seal: sealDER, Identity: pki.Identity(p.signers[signer.RSA], nil, "rsa")})
	if err == nil || !strings.Contains(err.Error(), "does not bind") {
		t.Fatalf("want a 'does not bind' error, got %v", err)
	}
	// A v1 signature needs a v1 seal.
	_, err = NewContainer(SignOptions{Version: V1, Seal: sealDER, Identity: pki.Identity(p.signers[signer.SM2], nil, "sm2")})
	if err == nil || !strings.Contains(err.Error(), "needs a version 1 seal") {
		t.Fatalf("want a version error, got %v", err)
	}
	// A key that is not the certificate's is refused before signing.
	mixed := pki.Identity(p.signers[signer.SM2], nil, "mixed")
	mixed.Signer = p.maker.Key
	if _, err := NewContainer(SignOptions{Seal: sealDER, Identity: mixed}); err == nil || !strings.Contains(err.Error(), "does not match") {
		t.Fatalf("want a key mismatch error, got %v", err)
	}
	// A wrong-length digest is refused.
	c, err := NewContainer(SignOptions{Seal: sealDER, Identity: pki.Identity(p.signers[signer.SM2], nil, "sm2")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Build(context.Background(), make([]byte, 20)); err == nil {
		t.Fatal("a 20-byte dataHash for SM3 was accepted")
	}
	// Bad specs are refused with a reason.
	bad := p.spec(V4, signer.SM2)
	bad.SignerCerts = nil
	if _, err := MakeSeal(bad); err == nil {
		t.Fatal("a seal without signer certificates was made")
	}
	bad = p.spec(V4, signer.SM2)
	bad.Picture = []byte("not a png")
	if _, err := MakeSeal(bad); err == nil || !strings.Contains(err.Error(), "does not decode") {
		t.Fatalf("a broken picture was accepted: %v", err)
	}
}

// TestRawRS checks that an SM2 value written as raw r‖s (a real vendor variant) verifies and is
// reported as such.
func TestRawRS(t *testing.T) {
	p := getPKI(t)
	sealDER, _ := MakeSeal(p.spec(V4, signer.SM2))
	sig, err := ParseSignature(p.sign(t, V4, sealDER, signer.SM2, []byte("x")))
	if err != nil {
		t.Fatal(err)
	}
	sig.Value = derToRaw(t, sig.Value)
	r := VerifySignature(context.Background(), sig, VerifyOptions{Content: []byte("x")})
	if c := r.Get(CheckSignatureValue); c.Status != OK || c.Code != "ses.raw-rs-variant" {
		t.Fatalf("raw r‖s: %+v", c)
	}
}

func derToRaw(t *testing.T, der []byte) []byte {
	t.Helper()
	e, err := splitOne(der, "sig")
	if err != nil {
		t.Fatal(err)
	}
	els, err := sequence(e, "sig")
	if err != nil || len(els) != 2 {
		t.Fatalf("not a DER signature: %v", err)
	}
	out := make([]byte, 64)
	for i, x := range els {
		b := bytes.TrimLeft(x.body, "\x00")
		copy(out[i*32+32-len(b):], b)
	}
	return out
}

func TestPicture(t *testing.T) {
	p := getPKI(t)
	sealDER, _ := MakeSeal(p.spec(V4, signer.SM2))
	seal, _ := ParseSeal(sealDER)
	f, data, w, h := Picture(seal)
	if f != PicturePNG || w != 42 || h != 42 || !bytes.Equal(data, p.picture) {
		t.Fatalf("Picture = %s %d bytes %v×%v", f, len(data), w, h)
	}
	img, err := DecodePicture(seal)
	if err != nil {
		t.Fatal(err)
	}
	if img.Bounds().Dx() != 64 {
		t.Fatalf("decoded %v", img.Bounds())
	}
}

func TestGeneratePicture(t *testing.T) {
	img, err := DrawPicture(PictureOptions{RingText: "SealDesk 演示单位", BottomText: "合同专用章", SizePx: 200})
	if err != nil {
		t.Fatal(err)
	}
	// Transparent corners, red ink on the ring and in the star's centre.
	if a := img.NRGBAAt(2, 2).A; a != 0 {
		t.Errorf("corner alpha %d, want 0", a)
	}
	for _, pt := range [][2]int{{100, 100}, {100, 3}, {3, 100}} {
		c := img.NRGBAAt(pt[0], pt[1])
		if c.A < 200 || c.R < 180 || c.G > 80 {
			t.Errorf("pixel %v = %v, want red ink", pt, c)
		}
	}
	// Text adds ink: compare with the same seal without text.
	plain, err := DrawPicture(PictureOptions{SizePx: 200})
	if err != nil {
		t.Fatal(err)
	}
	if ink(img) <= ink(plain)*11/10 {
		t.Errorf("text drew too little ink: %d vs %d without text", ink(img), ink(plain))
	}
	if _, err := DrawPicture(PictureOptions{SizePx: 10}); err == nil {
		t.Error("a 10 px picture was accepted")
	}
}

func ink(img *image.NRGBA) int {
	n := 0
	for i := 3; i < len(img.Pix); i += 4 {
		if img.Pix[i] > 128 {
			n++
		}
	}
	return n
}
