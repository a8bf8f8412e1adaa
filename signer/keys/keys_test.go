package keys

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"sealdesk/internal/testenv"
	"sealdesk/signer"
	"sealdesk/signer/pki"
	"sealdesk/signer/softkey"
	"sealdesk/signer/token"
)

func TestConfigRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "config.json")
	t.Setenv(ConfigEnv, path)
	c, err := LoadConfig()
	if err != nil || c.Path != path || len(c.Modules) != 0 {
		t.Fatalf("missing config: %+v %v", c, err)
	}
	c.SetModule(token.Module{Path: "/x/lib.so", Env: map[string]string{"A": "1"}})
	c.SetModule(token.Module{Path: "/x/lib.so", Env: map[string]string{"A": "2"}, SM2: &token.SM2Mechanisms{Sign: 0x10002}})
	c.AddKeystore("rel.p12")
	c.AddKeystore("rel.p12")
	if err := c.Save(); err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o600 {
		t.Fatalf("config mode %v", st.Mode().Perm())
	}
	d, err := LoadConfig()
	if err != nil {
		t.Fatal(err)
	}
	if len(d.Modules) != 1 || d.Modules[0].Env["A"] != "2" || d.Modules[0].SM2.Sign != 0x10002 || len(d.Keystores) != 1 || !filepath.IsAbs(d.Keystores[0]) {
		t.Fatalf("reloaded %+v", d)
	}
	os.WriteFile(path, []byte("{not json"), 0o600)
	if _, err := LoadConfig(); err == nil || !strings.Contains(err.Error(), path) {
		t.Fatalf("bad JSON: %v", err)
	}
}

func TestOpenKeystoreAndErrors(t *testing.T) {
	ch, err := pki.NewChain(signer.ECDSA, "Keys Test")
	if err != nil {
		t.Fatal(err)
	}
	p, _ := ch.Issue(pki.Template{Kind: pki.Signer, CommonName: "keys"})
	path := filepath.Join(t.TempDir(), "k.p12")
	if err := softkey.WritePKCS12(path, p.Key, p.Cert, ch.Certs(), []byte("pw")); err != nil {
		t.Fatal(err)
	}
	cfg := &Config{NoDiscovery: true}
	id, err := OpenWith(context.Background(), cfg, "file:"+path, []byte("pw"))
	if err != nil {
		t.Fatal(err)
	}
	d := sha256.Sum256([]byte("m"))
	sig, err := id.Signer.Sign(rand.Reader, d[:], crypto.SHA256)
	if err != nil || !ecdsa.VerifyASN1(p.Cert.PublicKey.(*ecdsa.PublicKey), d[:], sig) {
		t.Fatalf("sign: %v", err)
	}
	_, err = OpenWith(context.Background(), cfg, "file:"+path, []byte("bad"))
	var pe *signer.PINError
	if !errors.As(err, &pe) {
		t.Fatalf("wrong password: %v", err)
	}
	_, err = OpenWith(context.Background(), cfg, path, []byte("pw"))
	if !errors.Is(err, ErrUnknownURI) || !strings.Contains(err.Error(), "write file:") {
		t.Fatalf("bare path: %v", err)
	}
	_, err = OpenWith(context.Background(), cfg, "pkcs11:token=x", []byte("pw"))
	if !errors.Is(err, token.ErrNotFound) {
		t.Fatalf("no modules: %v", err)
	}
	cfg.AddKeystore(path)
	l, err := List(context.Background(), cfg)
	if err != nil || len(l.Keystores) != 1 || l.Keystores[0].Format != softkey.PKCS12 || l.Keystores[0].Identity == nil {
		t.Fatalf("listing %+v %v", l, err)
	}
}

func TestListNonexistentModule(t *testing.T) {
	cfg := (&Config{}).OnlyModules([]string{"/no/such/pkcs11.so"})
	l, err := List(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	if len(l.Modules) != 1 || l.Modules[0].Err() == nil || !strings.Contains(l.Modules[0].Error, "/no/such/pkcs11.so") {
		t.Fatalf("%+v", l.Modules)
	}
	t.Logf("listing error: %s", l.Modules[0].Error)
}

// demoToken makes a hermetic SoftHSM2 token with one ECDSA identity.
func demoToken(t *testing.T) (token.Module, *pki.Pair) {
	lib := testenv.SoftHSMModule(t)
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "tokens"), 0o700)
	conf := filepath.Join(dir, "softhsm2.conf")
	os.WriteFile(conf, []byte(fmt.Sprintf("directories.tokendir = %s/tokens\nobjectstore.backend = file\nlog.level = ERROR\n", dir)), 0o600)
	mod := token.Module{Path: lib, Name: "SoftHSM2", Env: map[string]string{"SOFTHSM2_CONF": conf}, Reinit: true}
	st, err := token.OpenModule(mod)
	if err != nil {
		if errors.Is(err, token.ErrNotBuiltIn) {
			testenv.Missing(t, "cgo (PKCS#11)")
		}
		t.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	if err := st.InitToken(ctx, "Keys Token", []byte("12345678"), []byte("123456")); err != nil {
		t.Fatal(err)
	}
	ch, _ := pki.NewChain(signer.ECDSA, "Keys Token Test")
	p, _ := ch.Issue(pki.Template{Kind: pki.Signer, CommonName: "token signer"})
	if err := st.ImportIdentity(ctx, "Keys Token", []byte("123456"), "signer", []byte{7}, p.Key, p.Cert); err != nil {
		t.Fatal(err)
	}
	return mod, p
}

func TestListOpenWatchToken(t *testing.T) {
	mod, p := demoToken(t)
	cfg := &Config{NoDiscovery: true, Modules: []token.Module{mod}}
	ctx := context.Background()
	l, err := List(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	ids := l.Identities()
	if len(ids) != 1 || ids[0].Algorithm != signer.ECDSA || !strings.Contains(ids[0].Subject, "token signer") {
		t.Fatalf("%+v", l)
	}
	id, err := OpenWith(ctx, cfg, ids[0].URI, []byte("123456"))
	if err != nil {
		t.Fatal(err)
	}
	d := sha256.Sum256([]byte("m"))
	sig, err := id.Signer.Sign(rand.Reader, d[:], crypto.SHA256)
	if err != nil || !ecdsa.VerifyASN1(p.Cert.PublicKey.(*ecdsa.PublicKey), d[:], sig) {
		t.Fatalf("sign: %v", err)
	}
	if err := id.Close(); err != nil {
		t.Fatal(err)
	}
	// Without module-path, the URI is looked up in every module of the config.
	id, err = OpenWith(ctx, cfg, "pkcs11:token=Keys%20Token;object=signer", []byte("123456"))
	if err != nil {
		t.Fatal(err)
	}
	id.Close()

	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	badCfg := &Config{NoDiscovery: true, Modules: []token.Module{mod, {Path: "/no/such/module.so"}}}
	w, err := Watch(wctx, badCfg)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	var gotToken, gotErr bool
	deadline := time.After(3 * time.Second)
	for !(gotToken && gotErr) {
		select {
		case e := <-w.Events():
			switch {
			case e.Kind == signer.TokenInserted && e.Token.Label == "Keys Token":
				gotToken = true
			case e.Kind == signer.ModuleError && strings.Contains(e.Err, "/no/such/module.so"):
				gotErr = true
			}
		case <-deadline:
			t.Fatalf("events: token %v, module error %v", gotToken, gotErr)
		}
	}
}
