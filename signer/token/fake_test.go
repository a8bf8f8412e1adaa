package token

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"strings"
	"testing"
	"time"

	"sealdesk/signer"
	"sealdesk/signer/pki"
)

func fakeWithKey(t *testing.T) (*Fake, *FakeToken, *pki.Pair) {
	t.Helper()
	ch, err := pki.NewChain(signer.ECDSA, "Fake Test")
	if err != nil {
		t.Fatal(err)
	}
	p, err := ch.Issue(pki.Template{Kind: pki.Signer, CommonName: "fake signer"})
	if err != nil {
		t.Fatal(err)
	}
	f := NewFake("fake-module")
	tok := f.AddToken("Seal Key", []byte("123456"))
	tok.AddIdentity("signer", []byte{1}, p.Key, p.Cert, ch.Certs())
	tok.AddSeal(append([]byte("seal with cert "), p.Cert.Raw...))
	return f, tok, p
}

func TestFakeLockout(t *testing.T) {
	f, tok, _ := fakeWithKey(t)
	ctx := context.Background()
	ids, _ := f.Identities(ctx)
	if len(ids) != 1 || len(ids[0].Seals) != 1 {
		t.Fatalf("identities %+v", ids)
	}
	uri := ids[0].URI
	want := []struct {
		reason string
		tries  int
	}{{"count low", -1}, {"final try", 1}, {"locked", 0}}
	for i, w := range want {
		_, err := f.Open(ctx, uri, []byte("999999"))
		var pe *signer.PINError
		if !errors.As(err, &pe) || pe.Reason != w.reason || pe.TriesLeft != w.tries {
			t.Fatalf("wrong PIN #%d: got %v (%+v), want %s/%d", i+1, err, pe, w.reason, w.tries)
		}
		t.Logf("wrong PIN #%d: %v", i+1, err)
	}
	if !errors.Is(func() error { _, err := f.Open(ctx, uri, []byte("999999")); return err }(), signer.ErrPINLocked) {
		t.Fatal("a locked token must answer ErrPINLocked")
	}
	// Locked: even the right PIN is refused before any login attempt.
	_, err := f.Open(ctx, uri, []byte("123456"))
	if !errors.Is(err, signer.ErrPINLocked) {
		t.Fatalf("right PIN on a locked token: %v", err)
	}
	var pe *signer.PINError
	if errors.As(err, &pe) {
		t.Fatalf("a locked token must not report a wrong PIN: %v", err)
	}
	if info := tok.Info(); !info.PINLocked || info.PINFinalTry {
		t.Fatalf("flags %+v", info)
	}
}

func TestFakeCorrectPINResetsCount(t *testing.T) {
	f, tok, _ := fakeWithKey(t)
	ctx := context.Background()
	ids, _ := f.Identities(ctx)
	f.Open(ctx, ids[0].URI, []byte("x"))
	if !tok.Info().PINCountLow {
		t.Fatal("COUNT_LOW not set after a wrong PIN")
	}
	id, err := f.Open(ctx, ids[0].URI, []byte("123456"))
	if err != nil {
		t.Fatal(err)
	}
	defer id.Close()
	if tok.Info().PINCountLow {
		t.Fatal("COUNT_LOW still set after a correct PIN")
	}
}

func TestFakeRemovedMidSigning(t *testing.T) {
	f, _, p := fakeWithKey(t)
	ctx := context.Background()
	id, err := f.Open(ctx, "pkcs11:token=Seal%20Key;object=signer", []byte("123456"))
	if err != nil {
		t.Fatal(err)
	}
	d := sha256.Sum256([]byte("x"))
	sig, err := id.Signer.Sign(rand.Reader, d[:], crypto.SHA256)
	if err != nil || !ecdsa.VerifyASN1(p.Cert.PublicKey.(*ecdsa.PublicKey), d[:], sig) {
		t.Fatalf("sign before removal: %v", err)
	}
	f.Unplug("Seal Key")
	_, err = id.Signer.Sign(rand.Reader, d[:], crypto.SHA256)
	if !errors.Is(err, ErrTokenRemoved) || !strings.Contains(err.Error(), "Seal Key") {
		t.Fatalf("sign after removal: %v", err)
	}
	// Plugging back does not revive the old session: a new login is needed.
	f.Plug("Seal Key")
	if _, err = id.Signer.Sign(rand.Reader, d[:], crypto.SHA256); !errors.Is(err, ErrTokenRemoved) {
		t.Fatalf("old session after re-plug: %v", err)
	}
}

func nextEvent(t *testing.T, w *Watcher, within time.Duration) signer.Event {
	t.Helper()
	select {
	case e, ok := <-w.Events():
		if !ok {
			t.Fatal("events closed")
		}
		return e
	case <-time.After(within):
		t.Fatalf("no event within %v", within)
	}
	return signer.Event{}
}

func TestWatcherFake(t *testing.T) {
	f, tok, _ := fakeWithKey(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	w := NewWatcher(ctx, []Lister{f}, WatchOptions{Interval: 20 * time.Millisecond, Timeout: 200 * time.Millisecond})
	if e := nextEvent(t, w, 3*time.Second); e.Kind != signer.TokenInserted || e.Token.Label != "Seal Key" {
		t.Fatalf("initial: %+v", e)
	}
	f.Unplug("Seal Key")
	if e := nextEvent(t, w, 3*time.Second); e.Kind != signer.TokenRemoved {
		t.Fatalf("unplug: %+v", e)
	}
	f.Plug("Seal Key")
	if e := nextEvent(t, w, 3*time.Second); e.Kind != signer.TokenInserted {
		t.Fatalf("plug: %+v", e)
	}
	// A wrong PIN changes the flags: a changed event.
	f.Open(ctx, "pkcs11:token=Seal%20Key", []byte("bad"))
	if e := nextEvent(t, w, 3*time.Second); e.Kind != signer.TokenChanged || !e.Token.PINCountLow {
		t.Fatalf("flags: %+v", e)
	}
	_ = tok
	// A failing module: one error event, its tokens reported gone, then back on recovery.
	f.SetError(errors.New("CKR_DEVICE_ERROR"))
	if e := nextEvent(t, w, 3*time.Second); e.Kind != signer.ModuleError || !strings.Contains(e.Err, "CKR_DEVICE_ERROR") || e.Token.Module != "fake-module" {
		t.Fatalf("error: %+v", e)
	}
	if e := nextEvent(t, w, 3*time.Second); e.Kind != signer.TokenRemoved {
		t.Fatalf("after error: %+v", e)
	}
	f.SetError(nil)
	if e := nextEvent(t, w, 3*time.Second); e.Kind != signer.TokenInserted {
		t.Fatalf("recovered: %+v", e)
	}
	// A hanging module: an error event after the timeout, no pile-up, recovery afterwards.
	f.SetHang(true)
	if e := nextEvent(t, w, 3*time.Second); e.Kind != signer.ModuleError || !strings.Contains(e.Err, "did not answer") {
		t.Fatalf("hang: %+v", e)
	}
	select {
	case e := <-w.Events():
		t.Fatalf("unexpected event while hung: %+v", e)
	case <-time.After(300 * time.Millisecond):
	}
	f.Unplug("Seal Key")
	f.SetHang(false)
	if e := nextEvent(t, w, 3*time.Second); e.Kind != signer.TokenRemoved {
		t.Fatalf("after hang: %+v", e)
	}
	w.Close()
	for range w.Events() {
	}
}

func TestWatcherTwoModulesOneHangs(t *testing.T) {
	good, _, _ := fakeWithKey(t)
	bad := NewFake("stuck-module")
	bad.SetHang(true)
	defer bad.SetHang(false)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	w := NewWatcher(ctx, []Lister{bad, good}, WatchOptions{Interval: 20 * time.Millisecond, Timeout: 100 * time.Millisecond})
	defer w.Close()
	if e := nextEvent(t, w, 3*time.Second); e.Kind != signer.TokenInserted || e.Token.Module != "fake-module" {
		t.Fatalf("the good module must not wait for the stuck one: %+v", e)
	}
}

func TestURIRoundTrip(t *testing.T) {
	for _, c := range []struct{ in, out string }{
		{"pkcs11:token=Demo%20Seal%20Key;object=signer?module-path=/usr/lib/softhsm/libsofthsm2.so",
			"pkcs11:token=Demo%20Seal%20Key;object=signer?module-path=/usr/lib/softhsm/libsofthsm2.so"},
		{"pkcs11:object=my-key;id=%01%02;type=private;serial=ab12;manufacturer=Longmai;model=GM3000",
			"pkcs11:manufacturer=Longmai;serial=ab12;model=GM3000;object=my-key;id=%01%02;type=private"},
		{"pkcs11:token=%E5%8D%B0%E7%AB%A0?module-path=C:%5CWindows%5CSystem32%5Cgm3000_pkcs11.dll",
			"pkcs11:token=%E5%8D%B0%E7%AB%A0?module-path=C:%5CWindows%5CSystem32%5Cgm3000_pkcs11.dll"},
		{"pkcs11:", "pkcs11:"},
		{"PKCS11:token=a;x-vendor=1;library-version=1", "pkcs11:token=a"},
	} {
		u, err := ParseURI(c.in)
		if err != nil {
			t.Fatalf("%s: %v", c.in, err)
		}
		if got := u.String(); got != c.out {
			t.Fatalf("%s: formatted %s, want %s", c.in, got, c.out)
		}
	}
	u, _ := ParseURI("pkcs11:token=%E5%8D%B0%E7%AB%A0;id=%01")
	if u.Token != "印章" || !bytes.Equal(u.ID, []byte{1}) {
		t.Fatalf("%+v", u)
	}
}

func TestURIErrors(t *testing.T) {
	for in, want := range map[string]string{
		"file:x.p12":                      "does not start with pkcs11:",
		"pkcs11:token=a?pin-source=f.txt": "PINs never come from URIs",
		"pkcs11:token=a?pin-value=1234":   "PINs never come from URIs",
		"pkcs11:token=%4":                 "truncated",
		"pkcs11:token=%zz":                "bad %-escape",
		"pkcs11:token":                    "not name=value",
		"pkcs11:token=a;token=b":          "appears twice",
		"pkcs11:colour=red":               "unknown attribute",
		"pkcs11:type=blob":                "unknown object type",
	} {
		_, err := ParseURI(in)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: got %v, want %q", in, err, want)
		}
	}
}

func FuzzParseURI(f *testing.F) {
	for _, s := range []string{"pkcs11:token=Demo%20Seal%20Key;object=signer?module-path=/usr/lib/x.so",
		"pkcs11:id=%01%FF;type=cert", "pkcs11:", "pkcs11:token=a?module-name=b&x-y=z"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		u, err := ParseURI(s)
		if err != nil {
			return
		}
		again, err := ParseURI(u.String())
		if err != nil {
			t.Fatalf("formatted URI %q does not parse: %v", u.String(), err)
		}
		if again.String() != u.String() {
			t.Fatalf("round trip: %q → %q", u.String(), again.String())
		}
	})
}
