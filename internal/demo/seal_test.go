package demo

import (
	"bytes"
	"context"
	"os"
	"testing"
	"time"

	"sealdesk/signer"
	"sealdesk/signer/pki"
	"sealdesk/signer/ses"
)

// TestSealStep runs the seal step alone on a workspace whose PKI is made here.
func TestSealStep(t *testing.T) {
	dir := t.TempDir()
	ws := &Workspace{Dir: dir, Algo: signer.SM2, Signers: map[signer.KeyAlgorithm]*KeyPair{}, Manifest: Manifest{Files: map[string]string{}}}
	for _, a := range []signer.KeyAlgorithm{signer.SM2, signer.ECDSA, signer.RSA} {
		ch, err := pki.NewChain(a, "Demo Test")
		if err != nil {
			t.Fatal(err)
		}
		s, err := ch.Issue(pki.Template{Kind: pki.Signer, CommonName: "signer " + string(a)})
		if err != nil {
			t.Fatal(err)
		}
		ws.Signers[a] = &KeyPair{Cert: s.Cert, Key: s.Key}
		if a == signer.SM2 {
			m, err := ch.Issue(pki.Template{Kind: pki.SealMaker, CommonName: "maker"})
			if err != nil {
				t.Fatal(err)
			}
			ws.Maker = &KeyPair{Cert: m.Cert, Key: m.Key}
		}
	}
	if err := makeSeal(context.Background(), ws); err != nil {
		t.Fatal(err)
	}
	der, err := os.ReadFile(ws.Path("seal.esl"))
	if err != nil || !bytes.Equal(der, ws.Seal) {
		t.Fatalf("seal.esl: %v", err)
	}
	seal, err := ses.ParseSeal(der)
	if err != nil {
		t.Fatal(err)
	}
	if seal.Version() != ses.V4 || seal.Info.Property.Name != DemoSealName || len(seal.Info.Property.Certs) != 3 ||
		seal.Info.Picture.Width != 42 {
		t.Fatalf("seal: %+v", seal.Info)
	}
	if r := ses.VerifySeal(seal, time.Now()); r.Status() != ses.OK {
		t.Fatalf("seal checks: %+v", r.Checks)
	}
	for _, a := range []string{"sm2", "ecdsa", "rsa"} {
		b, err := os.ReadFile(ws.Path("keys", "signer-"+a+".esl"))
		if err != nil || !bytes.Equal(b, der) {
			t.Fatalf("keys/signer-%s.esl: %v", a, err)
		}
	}
	if len(ws.Manifest.Seals) != 4 {
		t.Fatalf("manifest seals %v", ws.Manifest.Seals)
	}
	// Without the PKI step the step says what is missing.
	if err := makeSeal(context.Background(), &Workspace{Dir: dir}); err == nil {
		t.Fatal("seal step ran without a maker")
	}
}
