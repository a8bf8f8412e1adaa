package demo

import (
	"context"
	"encoding/pem"
	"os"
	"path/filepath"
	"testing"

	"sealdesk/internal/testenv"
	"sealdesk/signer"
	"sealdesk/signer/keys"
	"sealdesk/signer/softkey"
	"sealdesk/signer/token"
)

// TestDemoKeys checks the PKI, keystore, token and config steps on a real workspace.
func TestDemoKeys(t *testing.T) {
	userConfig := filepath.Join(t.TempDir(), "config.json")
	t.Setenv(keys.ConfigEnv, userConfig)
	dir := t.TempDir()
	ctx := context.Background()
	ws, err := Init(ctx, dir, signer.ECDSA)
	if err != nil {
		t.Fatal(err)
	}

	// root.pem: the three roots (then the issuing CAs, so that signer-only SES signatures chain).
	b, err := os.ReadFile(filepath.Join(dir, "root.pem"))
	if err != nil {
		t.Fatal(err)
	}
	var inFile [][]byte
	for rest := b; ; {
		var blk *pem.Block
		if blk, rest = pem.Decode(rest); blk == nil {
			break
		}
		inFile = append(inFile, blk.Bytes)
	}
	for _, a := range Algorithms {
		found := false
		for _, der := range inFile {
			found = found || string(der) == string(ws.Root[a].Cert.Raw)
		}
		if !found {
			t.Fatalf("root.pem lacks the %s root", a)
		}
	}
	for _, a := range Algorithms {
		s, in, root := ws.Signers[a], ws.Intermediate[a], ws.Root[a]
		if s.Cert.CheckSignatureFrom(in.Cert) != nil || in.Cert.CheckSignatureFrom(root.Cert) != nil {
			t.Fatalf("%s: signer → intermediate → root does not chain", a)
		}
		if got, _ := signer.AlgorithmOf(s.Cert.PublicKey); got != a {
			t.Fatalf("%s signer has a %s key", a, got)
		}
		// The keystore holds the same key, encrypted with the workspace PIN.
		id, err := softkey.Load(ws.Path(KeystorePath(a)), []byte(ws.PIN))
		if err != nil {
			t.Fatal(err)
		}
		if !id.Certificate.Equal(s.Cert) || len(id.Chain) != 2 {
			t.Fatalf("%s keystore: wrong certificate or chain", a)
		}
	}
	if ws.Maker == nil || ws.Maker.Cert.CheckSignatureFrom(ws.Intermediate[signer.SM2].Cert) != nil {
		t.Fatal("the seal maker is not issued by the SM2 intermediate")
	}
	if got, _ := signer.AlgorithmOf(ws.Maker.Cert.PublicKey); got != signer.SM2 {
		t.Fatalf("seal maker key %s, want sm2", got)
	}

	// The workspace's own key config, never the user's (issue 11, defect 6).
	if _, err := os.Stat(userConfig); !os.IsNotExist(err) {
		t.Fatalf("demo init wrote the user's key config %s (%v)", userConfig, err)
	}
	cfg, err := keys.LoadConfigFile(filepath.Join(dir, "config.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Keystores) != 3 {
		t.Fatalf("config keystores %v", cfg.Keystores)
	}

	if _, ok := token.FindKnown("SoftHSM2"); !ok {
		testenv.Missing(t, "SoftHSM2")
	}
	if ws.Manifest.Module == "" {
		t.Skipf("no demo token: %v", ws.Manifest.Notes) // built without cgo
	}
	tokenKeys := 0
	for _, k := range ws.Manifest.Keys {
		if k.Store == "softhsm" {
			tokenKeys++
		}
	}
	if tokenKeys != 3 { // signer-ecdsa, signer-rsa, and the lifecycle's holder key
		t.Fatalf("manifest lists %d token keys, want 3", tokenKeys)
	}
	// The token holds the same signers as the keystores, and the seal.
	l, err := keys.List(ctx, &keys.Config{NoDiscovery: true, Modules: cfg.Modules})
	if err != nil {
		t.Fatal(err)
	}
	// The holder's token and the demo hub's own token (its CA and seal-maker keys).
	if len(l.Modules) != 1 || len(l.Modules[0].Tokens) != 2 {
		t.Fatalf("listing %+v", l.Modules)
	}
	var tok keys.TokenListing
	for _, tl := range l.Modules[0].Tokens {
		if tl.Label == DemoTokenLabel {
			tok = tl
		}
	}
	// signer-ecdsa, signer-rsa and holder; seal.esl and the seal obtained through the lifecycle.
	if len(tok.Identities) != 3 || tok.SealObjects != 2 {
		t.Fatalf("token: %d identities, %d seals", len(tok.Identities), tok.SealObjects)
	}
	signerURI := ""
	for _, ti := range tok.Identities {
		if ti.Label == "signer-ecdsa" {
			signerURI = ti.URI
		}
	}
	id, err := keys.OpenWith(ctx, cfg, signerURI, []byte(ws.PIN))
	if err != nil {
		t.Fatal(err)
	}
	defer id.Close()
	if !id.Certificate.Equal(ws.Signers[id.Algorithm].Cert) || len(id.Seals) != 1 {
		t.Fatalf("token identity %s: certificate differs from the keystore's, or %d seals", id.Label, len(id.Seals))
	}

	checkLifecycle(t, ws, cfg)

	// Making the workspace again replaces the token instead of adding a second one.
	if _, err := Init(ctx, dir, signer.ECDSA); err != nil {
		t.Fatal(err)
	}
	cfg2, _ := keys.LoadConfigFile(filepath.Join(dir, "config.json"))
	l, err = keys.List(ctx, &keys.Config{NoDiscovery: true, Modules: cfg2.Modules})
	if err != nil {
		t.Fatal(err)
	}
	if len(l.Modules[0].Tokens) != 2 {
		t.Fatalf("after a second demo init: %d tokens", len(l.Modules[0].Tokens))
	}
}
