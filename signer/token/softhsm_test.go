//go:build cgo

package token

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"sealdesk/internal/testenv"
	"sealdesk/signer"
	"sealdesk/signer/pki"
)

const testPIN = "123456"

// softHSM makes a hermetic SoftHSM2 directory (own SOFTHSM2_CONF and token dir) and returns
// the module config that points at it.
func softHSM(t testing.TB) Module {
	t.Helper()
	lib := testenv.SoftHSMModule(t)
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "tokens"), 0o700); err != nil {
		t.Fatal(err)
	}
	conf := filepath.Join(dir, "softhsm2.conf")
	body := fmt.Sprintf("directories.tokendir = %s\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n", filepath.Join(dir, "tokens"))
	if err := os.WriteFile(conf, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return Module{Path: lib, Name: "SoftHSM2", Env: map[string]string{"SOFTHSM2_CONF": conf}, Reinit: true}
}

type testToken struct {
	store          *Store
	ecdsa, rsa     *pki.Pair
	ecChain, rsaCh *pki.Chain
}

// provision makes a token "Test Key" holding an ECDSA and an RSA identity with their chains.
func provision(t testing.TB, mod Module) *testToken {
	t.Helper()
	ctx := context.Background()
	st, err := OpenModule(mod)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.InitToken(ctx, "Test Key", []byte("12345678"), []byte(testPIN)); err != nil {
		t.Fatal(err)
	}
	tt := &testToken{store: st}
	for _, a := range []signer.KeyAlgorithm{signer.ECDSA, signer.RSA} {
		ch, err := pki.NewChain(a, "Token Test")
		if err != nil {
			t.Fatal(err)
		}
		p, err := ch.Issue(pki.Template{Kind: pki.Signer, CommonName: "signer " + string(a)})
		if err != nil {
			t.Fatal(err)
		}
		id := []byte{1}
		if a == signer.RSA {
			id = []byte{2}
			tt.rsa, tt.rsaCh = p, ch
		} else {
			tt.ecdsa, tt.ecChain = p, ch
		}
		if err := st.ImportIdentity(ctx, "Test Key", []byte(testPIN), "signer-"+string(a), id, p.Key, p.Cert); err != nil {
			t.Fatal(err)
		}
		for i, c := range ch.Certs() {
			if err := st.ImportCertificate(ctx, "Test Key", []byte(testPIN), fmt.Sprintf("ca-%s-%d", a, i), nil, c); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := st.ImportData(ctx, "Test Key", []byte(testPIN), SealLabel, SealApplication, []byte("not a real seal"), false); err != nil {
		t.Fatal(err)
	}
	return tt
}

func TestSoftHSMIdentitiesSignVerify(t *testing.T) {
	tt := provision(t, softHSM(t))
	ctx := context.Background()
	list, err := tt.store.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 1 || list[0].Info.Label != "Test Key" || list[0].Err != nil {
		t.Fatalf("tokens: %+v", list)
	}
	ids := list[0].Identities
	if len(ids) != 2 {
		t.Fatalf("want 2 identities, got %d", len(ids))
	}
	if list[0].Seals != 1 {
		t.Fatalf("want 1 seal object, got %d", list[0].Seals)
	}
	byAlg := map[signer.KeyAlgorithm]*signer.Identity{}
	for _, id := range ids {
		byAlg[id.Algorithm] = id
		if id.Signer != nil {
			t.Fatalf("%s: Signer set without login", id.Label)
		}
		if len(id.Chain) != 2 || !id.Chain[1].Equal(map[signer.KeyAlgorithm]*pki.Chain{signer.ECDSA: tt.ecChain, signer.RSA: tt.rsaCh}[id.Algorithm].Root.Cert) {
			t.Fatalf("%s: chain of %d, root last expected", id.Label, len(id.Chain))
		}
		if len(id.Seals) != 1 {
			t.Fatalf("%s: %d seals", id.Label, len(id.Seals))
		}
		if !strings.Contains(id.URI, "token=Test%20Key") || !strings.Contains(id.URI, "module-path=") {
			t.Fatalf("URI %s", id.URI)
		}
	}
	if !byAlg[signer.RSA].Certificate.Equal(tt.rsa.Cert) || !byAlg[signer.ECDSA].Certificate.Equal(tt.ecdsa.Cert) {
		t.Fatal("certificates on the token differ from the imported ones")
	}

	digest := sha256.Sum256([]byte("document bytes"))

	rsaID, err := tt.store.Open(ctx, byAlg[signer.RSA].URI, []byte(testPIN))
	if err != nil {
		t.Fatal(err)
	}
	defer rsaID.Close()
	pub := tt.rsa.Cert.PublicKey.(*rsa.PublicKey)
	sig, err := rsaID.Signer.Sign(rand.Reader, digest[:], crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	if err := rsa.VerifyPKCS1v15(pub, crypto.SHA256, digest[:], sig); err != nil {
		t.Fatalf("RSA PKCS#1 v1.5 signature from the token does not verify: %v", err)
	}
	pss := &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash, Hash: crypto.SHA256}
	sig, err = rsaID.Signer.Sign(rand.Reader, digest[:], pss)
	if err != nil {
		t.Fatal(err)
	}
	if err := rsa.VerifyPSS(pub, crypto.SHA256, digest[:], sig, pss); err != nil {
		t.Fatalf("RSA-PSS signature from the token does not verify: %v", err)
	}

	ecID, err := tt.store.Open(ctx, byAlg[signer.ECDSA].URI, []byte(testPIN))
	if err != nil {
		t.Fatal(err)
	}
	sig, err = ecID.Signer.Sign(rand.Reader, digest[:], crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	if !ecdsa.VerifyASN1(tt.ecdsa.Cert.PublicKey.(*ecdsa.PublicKey), digest[:], sig) {
		t.Fatal("ECDSA signature from the token does not verify")
	}
	if err := ecID.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := ecID.Signer.Sign(rand.Reader, digest[:], crypto.SHA256); err == nil {
		t.Fatal("signing after Close succeeded")
	}
}

func TestSoftHSMWrongPIN(t *testing.T) {
	tt := provision(t, softHSM(t))
	ctx := context.Background()
	ids, err := tt.store.Identities(ctx)
	if err != nil || len(ids) == 0 {
		t.Fatal(ids, err)
	}
	if runtime.GOOS == "linux" && tt.store.m.loginFn == nil {
		t.Fatal("SoftHSM2's C_Login was not found: the PIN would go through miekg/pkcs11's unwiped C copy")
	}
	_, err = tt.store.Open(ctx, ids[0].URI, []byte("000000"))
	var pe *signer.PINError
	if !errors.As(err, &pe) {
		t.Fatalf("want *signer.PINError, got %T %v", err, err)
	}
	// SoftHSM2 sets CKF_USER_PIN_COUNT_LOW after a wrong PIN and never locks.
	if pe.Reason != "count low" || pe.TriesLeft != -1 {
		t.Fatalf("PIN state: %+v", pe)
	}
	msg := err.Error()
	if !strings.Contains(msg, `token "Test Key"`) || !strings.Contains(msg, "wrong PIN") || strings.Contains(msg, "000000") {
		t.Fatalf("message %q", msg)
	}
	t.Logf("wrong PIN: %v", err)
	toks, _ := tt.store.Tokens(ctx)
	if len(toks) != 1 || !toks[0].PINCountLow {
		t.Fatalf("token flags after a wrong PIN: %+v", toks)
	}
	// The right PIN still works (no automatic retry happened, nothing locked).
	id, err := tt.store.Open(ctx, ids[0].URI, []byte(testPIN))
	if err != nil {
		t.Fatal(err)
	}
	id.Close()
}

func TestOpenModuleErrors(t *testing.T) {
	_, err := OpenModule(Module{Path: "/nonexistent/libnothing.so"})
	var me *ModuleError
	if !errors.As(err, &me) || !strings.Contains(err.Error(), "/nonexistent/libnothing.so") || !strings.Contains(err.Error(), "does not exist") {
		t.Fatalf("got %v", err)
	}
	notLib := filepath.Join(t.TempDir(), "fake.so")
	os.WriteFile(notLib, []byte("not a library"), 0o644)
	_, err = OpenModule(Module{Path: notLib})
	if !errors.As(err, &me) || !strings.Contains(err.Error(), "cannot be loaded") {
		t.Fatalf("got %v", err)
	}
}

func TestSoftHSMNoSuchKey(t *testing.T) {
	tt := provision(t, softHSM(t))
	_, err := tt.store.Open(context.Background(), "pkcs11:token=Test%20Key;object=nothing", []byte(testPIN))
	if !errors.Is(err, ErrNotFound) {
		t.Fatalf("got %v", err)
	}
	_, err = tt.store.Open(context.Background(), "pkcs11:token=Other", []byte(testPIN))
	if !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "no token") {
		t.Fatalf("got %v", err)
	}
}

// TestSoftHSMWatcher creates and deletes a token from another process (softhsm2-util) while
// the watcher runs, and measures how long the matching event takes.
func TestSoftHSMWatcher(t *testing.T) {
	mod := softHSM(t)
	util := testenv.LookPath(t, "softhsm2-util")
	st, err := OpenModule(mod)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	w := NewWatcher(ctx, []Lister{st}, WatchOptions{})
	defer w.Close()
	run := func(args ...string) {
		cmd := exec.Command(util, args...)
		cmd.Env = append(os.Environ(), "SOFTHSM2_CONF="+mod.Env["SOFTHSM2_CONF"])
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("softhsm2-util %v: %v\n%s", args, err, out)
		}
	}
	wait := func(kind signer.EventKind, label string) time.Duration {
		start := time.Now()
		deadline := time.After(3 * time.Second)
		for {
			select {
			case e := <-w.Events():
				if e.Kind == signer.ModuleError {
					t.Fatalf("module error: %s", e.Err)
				}
				if e.Kind == kind && e.Token.Label == label {
					return time.Since(start)
				}
			case <-deadline:
				t.Fatalf("no %s event for %q within 3 s", kind, label)
			}
		}
	}
	time.Sleep(400 * time.Millisecond) // first poll done: the empty state is known
	start := time.Now()
	run("--init-token", "--free", "--label", "Plugged", "--so-pin", "12345678", "--pin", testPIN)
	t.Logf("softhsm2-util --init-token took %v", time.Since(start))
	insert := wait(signer.TokenInserted, "Plugged")
	insertTotal := time.Since(start)
	start = time.Now()
	run("--delete-token", "--token", "Plugged")
	remove := wait(signer.TokenRemoved, "Plugged")
	removeTotal := time.Since(start)
	t.Logf("watcher latency: inserted %v after softhsm2-util returned (%v from its start); removed %v after it returned (%v from its start)",
		insert.Round(time.Millisecond), insertTotal.Round(time.Millisecond), remove.Round(time.Millisecond), removeTotal.Round(time.Millisecond))
}

func BenchmarkTokenSign(b *testing.B) {
	tt := provision(b, softHSM(b))
	ctx := context.Background()
	digest := sha256.Sum256([]byte("bench"))
	for _, c := range []struct {
		name string
		id   string
	}{{"RSA2048-PKCS1v15", "signer-rsa"}, {"ECDSA-P256", "signer-ecdsa"}} {
		b.Run(c.name, func(b *testing.B) {
			id, err := tt.store.Open(ctx, "pkcs11:token=Test%20Key;object="+c.id, []byte(testPIN))
			if err != nil {
				b.Fatal(err)
			}
			defer id.Close()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				if _, err := id.Signer.Sign(rand.Reader, digest[:], crypto.SHA256); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// TestSoftHSMNoReinitWhileSessionOpen: a Reinit module is not re-initialised while an
// identity's session is open (that would close the session); new tokens show up after.
func TestSoftHSMNoReinitWhileSessionOpen(t *testing.T) {
	mod := softHSM(t)
	util := testenv.LookPath(t, "softhsm2-util")
	tt := provision(t, mod)
	ctx := context.Background()
	id, err := tt.store.Open(ctx, "pkcs11:token=Test%20Key;object=signer-ecdsa", []byte(testPIN))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(util, "--init-token", "--free", "--label", "Second", "--so-pin", "12345678", "--pin", testPIN)
	cmd.Env = append(os.Environ(), "SOFTHSM2_CONF="+mod.Env["SOFTHSM2_CONF"])
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	toks, err := tt.store.Tokens(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(toks) != 1 {
		t.Fatalf("the module was re-initialised under an open session: %d tokens", len(toks))
	}
	d := sha256.Sum256([]byte("still open"))
	if _, err := id.Signer.Sign(rand.Reader, d[:], crypto.SHA256); err != nil {
		t.Fatalf("the open session broke: %v", err)
	}
	id.Close()
	toks, err = tt.store.Tokens(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(toks) != 2 {
		t.Fatalf("after the session closed, want 2 tokens, got %d", len(toks))
	}
}
