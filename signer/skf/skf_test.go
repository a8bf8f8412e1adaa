//go:build cgo

package skf_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/x509/pkix"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/emmansun/gmsm/sm2"
	"github.com/emmansun/gmsm/smx509"

	"sealdesk/signer"
	"sealdesk/signer/keys"
	"sealdesk/signer/pki"
	"sealdesk/signer/ses"
	"sealdesk/signer/skf"
	"sealdesk/signer/skf/skftest"
)

// material is an SM2 test PKI: a signing and an encryption certificate for one holder and
// an SES seal bound to the signing certificate.
type material struct {
	chain    *pki.Chain
	sign     *pki.Pair
	enc      *pki.Pair
	seal     []byte
	trustPEM []byte
}

var mat *material

func getMaterial(t *testing.T) *material {
	t.Helper()
	if mat != nil {
		return mat
	}
	chain, err := pki.NewChain(signer.SM2, "SealDesk SKF Test")
	if err != nil {
		t.Fatal(err)
	}
	sign, err := chain.Issue(pki.Template{Kind: pki.Signer, CommonName: "SKF 测试签章人", Org: "SealDesk SKF Test"})
	if err != nil {
		t.Fatal(err)
	}
	enc, err := chain.Issue(pki.Template{Kind: pki.Signer, CommonName: "SKF 测试加密证书", Org: "SealDesk SKF Test"})
	if err != nil {
		t.Fatal(err)
	}
	maker, err := chain.Issue(pki.Template{Kind: pki.SealMaker, CommonName: "SKF Seal Maker"})
	if err != nil {
		t.Fatal(err)
	}
	pic, err := ses.GeneratePicture(ses.PictureOptions{RingText: "测试科技有限公司", BottomText: "合同专用章", SizePx: 200})
	if err != nil {
		t.Fatal(err)
	}
	seal, err := ses.MakeSeal(ses.SealSpec{ESID: "11010000000917", Name: "SKF 测试合同专用章", SignerCerts: []*smx509.Certificate{sign.Cert},
		ValidEnd: time.Now().AddDate(1, 0, 0), PictureType: "png", Picture: pic, WidthMM: 40, HeightMM: 40,
		Maker: maker.Key, MakerCert: maker.Cert})
	if err != nil {
		t.Fatal(err)
	}
	mat = &material{chain: chain, sign: sign, enc: enc, seal: seal, trustPEM: pki.PEM(chain.Root.Cert, chain.Intermediate.Cert)}
	return mat
}

const (
	devName = "Fake UKey 0001"
	appName = "SealApp"
	conName = "SealContainer"
	goodPIN = "314159"
)

// sealKey is a device as a CA hands it out: one application, one container with a signing
// and an encryption key pair and certificate, and the seal in the application's seal file
// (padded to a fixed size, as vendors allocate files).
func sealKey(t *testing.T, m *material, maxRetry int) skftest.Device {
	padded := append(append([]byte(nil), m.seal...), make([]byte, 512)...)
	return skftest.Device{
		Name: devName, Serial: "SD-0001", Manufacturer: "SealDesk Test", Label: "Test UKey",
		Apps: []skftest.App{{
			Name: appName, PIN: goodPIN, MaxRetry: maxRetry,
			Containers: []skftest.Container{{Name: conName,
				SignKey: m.sign.Key.(*sm2.PrivateKey), SignCert: m.sign.Cert.Raw,
				EncKey: m.enc.Key.(*sm2.PrivateKey), EncCert: m.enc.Cert.Raw}},
			Files: map[string][]byte{skf.DefaultSealFile: padded},
		}},
	}
}

func keyURI(lib string) string { return skf.KeyURI(lib, devName, appName, conName) }

func openStore(t *testing.T, f *skftest.Fake) *skf.Store {
	t.Helper()
	st, err := skf.Open(skf.Library{Path: f.Path, Name: "Fake SKF"})
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// TestListIdentities: devices, applications, containers and certificates read without a PIN;
// the signing certificate names the identity, the encryption certificate is told apart; the
// seal comes from the application's file; the PIN state is exact.
func TestListIdentities(t *testing.T) {
	f := skftest.Library(t)
	m := getMaterial(t)
	f.Add(t, sealKey(t, m, 6))
	st := openStore(t, f)
	devs, err := st.List(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(devs) != 1 || devs[0].Err != nil {
		t.Fatalf("devices: %+v", devs)
	}
	d := devs[0]
	if d.Info.Label != devName || d.Info.Serial != "SD-0001" || d.Info.Manufacturer != "SealDesk Test" || d.Info.Model != "Test UKey" {
		t.Errorf("device info %+v", d.Info)
	}
	if len(d.Apps) != 1 || d.Apps[0].PIN == nil || *d.Apps[0].PIN != (skf.PINInfo{Max: 6, Remaining: 6}) {
		t.Fatalf("application: %+v", d.Apps)
	}
	c := d.Apps[0].Containers[0]
	if c.Type != skf.ContainerECC || c.SignCert == nil || c.EncCert == nil {
		t.Fatalf("container %+v", c)
	}
	if !c.SignCert.Equal(m.sign.Cert) || !c.EncCert.Equal(m.enc.Cert) {
		t.Errorf("signing and encryption certificates mixed up: sign %q enc %q", c.SignCert.Subject.CommonName, c.EncCert.Subject.CommonName)
	}
	id := c.Identity
	if id == nil || id.URI != keyURI(f.Path) || id.Algorithm != signer.SM2 || id.Label != "SKF 测试签章人" || id.Signer != nil {
		t.Fatalf("identity %+v", id)
	}
	if len(id.Seals) != 1 || !bytes.Equal(id.Seals[0], m.seal) {
		t.Errorf("seals: %d (want the one seal, padding dropped)", len(id.Seals))
	}

	// The same through signer/keys, as `sealctl keys list` and the app see it.
	cfg := &keys.Config{SKF: []skf.Library{{Path: f.Path}}, NoDiscovery: true}
	l, err := keys.List(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	ids := l.Identities()
	if len(l.SKF) != 1 || len(ids) != 1 || ids[0].URI != keyURI(f.Path) || ids[0].Seals != 1 {
		t.Fatalf("keys.List: %+v", l.SKF)
	}
	if tl := l.SKF[0].Tokens[0]; tl.PINTriesLeft == nil || *tl.PINTriesLeft != 6 || tl.SealObjects != 1 {
		t.Errorf("token listing %+v", tl)
	}
}

// TestSign: SKF_ECCSignData signs e = SM3(Z‖M) computed here; the blob comes back as DER
// that verifies with the certificate's key; smx509's message-style call works too.
func TestSign(t *testing.T) {
	f := skftest.Library(t)
	m := getMaterial(t)
	f.Add(t, sealKey(t, m, 6))
	id, err := openStore(t, f).Open(context.Background(), keyURI(f.Path), []byte(goodPIN))
	if err != nil {
		t.Fatal(err)
	}
	defer id.Close()
	msg := []byte("报价单 2026")
	sig, err := signer.SignSM2Message(id.Signer, msg)
	if err != nil {
		t.Fatal(err)
	}
	pub := m.sign.Cert.PublicKey.(*ecdsa.PublicKey)
	if !sm2.VerifyASN1WithSM2(pub, nil, msg, sig) {
		t.Fatal("signature does not verify")
	}
	sig2, err := id.Signer.Sign(rand.Reader, msg, sm2.DefaultSM2SignerOpts)
	if err != nil || !sm2.VerifyASN1WithSM2(pub, nil, msg, sig2) {
		t.Fatalf("message-style signature: %v", err)
	}
	if _, err := id.Signer.Sign(rand.Reader, msg[:5], nil); err == nil {
		t.Error("a 5-byte digest was signed")
	}
	if len(id.Seals) != 1 {
		t.Errorf("seals after login: %d", len(id.Seals))
	}
}

// TestPINRetriesAndLockout: each wrong PIN shows the tries left from SKF_VerifyPIN; the last
// one locks; a locked PIN is refused without calling SKF_VerifyPIN again; nothing retries.
func TestPINRetriesAndLockout(t *testing.T) {
	f := skftest.Library(t)
	m := getMaterial(t)
	f.Add(t, sealKey(t, m, 3))
	st := openStore(t, f)
	ctx := context.Background()
	uri := keyURI(f.Path)
	want := []struct {
		left   int
		reason string
	}{{2, "incorrect"}, {1, "final try"}, {0, "locked"}}
	for i, w := range want {
		_, err := st.Open(ctx, uri, []byte("000000"))
		var pe *signer.PINError
		if !errors.As(err, &pe) {
			t.Fatalf("wrong PIN #%d: %v", i+1, err)
		}
		if pe.TriesLeft != w.left || pe.Reason != w.reason {
			t.Errorf("wrong PIN #%d: %q (tries %d reason %q), want %d %q", i+1, err, pe.TriesLeft, pe.Reason, w.left, w.reason)
		}
		if f.VerifyCount(devName) != i+1 {
			t.Errorf("SKF_VerifyPIN called %d times after %d attempts (never retried)", f.VerifyCount(devName), i+1)
		}
		t.Logf("wrong PIN #%d: %v", i+1, err)
	}
	_, err := st.Open(ctx, uri, []byte(goodPIN))
	if !errors.Is(err, signer.ErrPINLocked) {
		t.Fatalf("locked key: %v", err)
	}
	if n := f.VerifyCount(devName); n != 3 {
		t.Errorf("SKF_VerifyPIN called on a locked key (%d calls, want 3)", n)
	}
	if r := f.Remaining(t, devName, appName); r != 0 {
		t.Errorf("stored retry count %d", r)
	}
	t.Logf("locked: %v", err)
	// The listing shows it locked.
	l, err := keys.List(ctx, &keys.Config{SKF: []skf.Library{{Path: f.Path}}, NoDiscovery: true})
	if err != nil {
		t.Fatal(err)
	}
	if tok := l.SKF[0].Tokens[0]; !tok.PINLocked || tok.PINTriesLeft == nil || *tok.PINTriesLeft != 0 {
		t.Errorf("listing of a locked key: %+v", tok)
	}
}

// TestCorrectPINResetsCounter: a right PIN after a wrong one restores the count (the
// standard's behaviour) and the identity signs.
func TestCorrectPINResetsCounter(t *testing.T) {
	f := skftest.Library(t)
	f.Add(t, sealKey(t, getMaterial(t), 5))
	st := openStore(t, f)
	if _, err := st.Open(context.Background(), keyURI(f.Path), []byte("1")); err == nil {
		t.Fatal("wrong PIN accepted")
	}
	id, err := st.Open(context.Background(), keyURI(f.Path), []byte(goodPIN))
	if err != nil {
		t.Fatal(err)
	}
	id.Close()
	if r := f.Remaining(t, devName, appName); r != 5 {
		t.Errorf("retry count after a right PIN: %d, want 5", r)
	}
}

// TestURIErrors: what a person gets for keys that are not there.
func TestURIErrors(t *testing.T) {
	f := skftest.Library(t)
	f.Add(t, sealKey(t, getMaterial(t), 6))
	st := openStore(t, f)
	ctx := context.Background()
	for uri, want := range map[string]string{
		skf.KeyURI(f.Path, "No Such Key", "", ""): "no USB key matching",
		skf.KeyURI(f.Path, devName, "Other", ""):  "no application matching",
		skf.KeyURI(f.Path, devName, appName, "x"): "no container",
		"skf:lib=a;pin=1234":                      "never goes into a key URI",
		"skf:bogus=1":                             "unknown attribute",
	} {
		_, err := st.Open(ctx, uri, []byte(goodPIN))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", uri, err, want)
		}
	}
	if f.VerifyCount(devName) != 0 {
		t.Error("a PIN was verified for a key that was not found")
	}
	// A URI by library name and container only finds the same key.
	u := "skf:lib=Fake%20SKF;con=" + conName
	id, err := st.Open(ctx, u, []byte(goodPIN))
	if err != nil {
		t.Fatal(err)
	}
	id.Close()
	if id.URI != keyURI(f.Path) {
		t.Errorf("URI %s", id.URI)
	}
}

// TestGenerateRequest: a key pair generated through SKF_GenECCKeyPair in a new container
// yields a PKCS#10 request whose signature verifies with the exported public key; after the
// certificate is imported, the container signs.
func TestGenerateRequest(t *testing.T) {
	f := skftest.Library(t)
	m := getMaterial(t)
	f.Add(t, skftest.Device{Name: devName, Serial: "SD-0002", Apps: []skftest.App{{Name: appName, PIN: goodPIN}}})
	st := openStore(t, f)
	ctx := context.Background()
	uri := skf.KeyURI(f.Path, devName, appName, "NewSealKey")
	req, err := st.GenerateRequest(ctx, uri, []byte(goodPIN), &smx509.CertificateRequest{Subject: pkix.Name{CommonName: "新印章", Organization: []string{"测试单位"}}})
	if err != nil {
		t.Fatal(err)
	}
	csr, err := smx509.ParseCertificateRequest(req.CSR)
	if err != nil {
		t.Fatal(err)
	}
	if err := csr.CheckSignature(); err != nil {
		t.Fatalf("request signature: %v", err)
	}
	exported, err := st.PublicKey(ctx, uri, true)
	if err != nil {
		t.Fatal(err)
	}
	if !exported.Equal(csr.PublicKey) || !exported.Equal(req.PublicKey) {
		t.Fatal("the request's key is not the key SKF_ExportPublicKey gives")
	}
	if csr.Subject.CommonName != "新印章" || csr.SignatureAlgorithm != smx509.SM2WithSM3 {
		t.Errorf("request %v %v", csr.Subject, csr.SignatureAlgorithm)
	}
	// The CA issues; the certificate goes back into the container; the key signs.
	issued, err := pki.Certify(pubOnly{exported}, pki.Template{Kind: pki.Signer, CommonName: "新印章"}, m.chain.Intermediate)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.ImportCertificate(ctx, uri, []byte(goodPIN), true, issued.Cert); err != nil {
		t.Fatal(err)
	}
	id, err := st.Open(ctx, uri, []byte(goodPIN))
	if err != nil {
		t.Fatal(err)
	}
	defer id.Close()
	sig, err := signer.SignSM2Message(id.Signer, []byte("apply"))
	if err != nil || !sm2.VerifyASN1WithSM2(exported, nil, []byte("apply"), sig) {
		t.Fatalf("signing with the generated key: %v", err)
	}
	// Without the PIN nothing is generated.
	if _, err := st.GenerateRequest(ctx, uri, []byte("999999"), nil); err == nil {
		t.Error("key pair generated with a wrong PIN")
	}
}

// pubOnly is a crypto.Signer that only knows its public key: enough for pki.Certify, which
// signs with the parent's key.
type pubOnly struct{ pub *ecdsa.PublicKey }

func (p pubOnly) Public() crypto.PublicKey { return p.pub }
func (p pubOnly) Sign(_ io.Reader, _ []byte, _ crypto.SignerOpts) ([]byte, error) {
	return nil, errors.New("no private key here")
}

// TestHungLibrary: a library whose SKF_EnumDev never returns costs the caller one timeout,
// then every call is refused at once until it returns; the watcher reports it and goes on.
func TestHungLibrary(t *testing.T) {
	f := skftest.Library(t)
	f.Add(t, sealKey(t, getMaterial(t), 6))
	old := skf.CallTimeout
	skf.CallTimeout = 400 * time.Millisecond
	defer func() { skf.CallTimeout = old }()
	st, err := skf.Open(skf.Library{Path: f.Path, NoWait: true})
	if err != nil {
		t.Fatal(err)
	}
	f.Control(t, false, true)
	released := false
	release := func() {
		if !released {
			f.Control(t, false, false)
			released = true
		}
	}
	defer release()
	start := time.Now()
	_, err = st.List(context.Background())
	if !errors.Is(err, skf.ErrHung) {
		t.Fatalf("hung library: %v", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("the caller waited %v", d)
	}
	start = time.Now()
	_, err = st.Open(context.Background(), keyURI(f.Path), []byte(goodPIN))
	if !errors.Is(err, skf.ErrHung) || time.Since(start) > 100*time.Millisecond {
		t.Errorf("call on a library with a stuck call: %v after %v", err, time.Since(start))
	}
	t.Logf("hung: %v", err)
	// The watcher over the hung library reports it and does not stop.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	w, err := keys.Watch(ctx, &keys.Config{SKF: []skf.Library{{Path: f.Path, NoWait: true}}, NoDiscovery: true})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	select {
	case ev := <-w.Events():
		if ev.Kind != signer.ModuleError || !strings.Contains(ev.Err, "has not returned yet") {
			t.Errorf("watcher event on a hung library: %+v", ev)
		}
		t.Logf("watcher: %s", ev.Err)
	case <-time.After(10 * time.Second):
		t.Error("the watcher said nothing about the hung library")
	}
	release()
	deadline := time.Now().Add(5 * time.Second)
	for {
		if _, err = st.List(context.Background()); err == nil || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("after the library returned: %v", err)
	}
}

func writeConfig(t *testing.T, cfg *keys.Config) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "config.json")
	b, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestWatcherShowsLockout: the watcher's report of a device carries its PIN state, and a
// lockout through Open shows as a change event (what the app's key panel marks "PIN locked").
func TestWatcherShowsLockout(t *testing.T) {
	f := skftest.Library(t)
	f.Add(t, sealKey(t, getMaterial(t), 2))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	w, err := keys.Watch(ctx, &keys.Config{SKF: []skf.Library{{Path: f.Path, NoWait: true}}, NoDiscovery: true})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	next := func() signer.Event {
		t.Helper()
		select {
		case ev := <-w.Events():
			return ev
		case <-time.After(10 * time.Second):
			t.Fatal("no event within 10 s")
		}
		return signer.Event{}
	}
	if ev := next(); ev.Kind != signer.TokenInserted || ev.Token.PINLocked || ev.Token.PINCountLow {
		t.Fatalf("first event %+v", ev)
	}
	st := openStore(t, f)
	for i := 0; i < 2; i++ {
		st.Open(ctx, keyURI(f.Path), []byte("000000"))
	}
	for {
		ev := next()
		if ev.Kind == signer.TokenChanged && ev.Token.PINLocked {
			break
		}
		if ev.Kind != signer.TokenChanged {
			t.Fatalf("event %+v", ev)
		}
	}
}
