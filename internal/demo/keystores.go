package demo

import (
	"context"
	"fmt"
	"os"

	"github.com/emmansun/gmsm/smx509"

	"sealdesk/internal/workspace"
	"sealdesk/signer"
	"sealdesk/signer/keys"
	"sealdesk/signer/softkey"
	"sealdesk/signer/token"
)

func init() {
	RegisterStep(Step{Order: 20, Name: "keystores", Run: makeKeystores})
	RegisterStep(Step{Order: 45, Name: "key config", Run: registerKeys})
}

// KeystorePath returns the workspace-relative path of the signer keystore for a.
func KeystorePath(a signer.KeyAlgorithm) string {
	if a == signer.SM2 {
		return "keys/signer-sm2.pem"
	}
	return "keys/signer-" + string(a) + ".p12"
}

// makeKeystores writes each signer's key, certificate and chain encrypted with ws.PIN:
// SM2 as encrypted PKCS#8 PEM, ECDSA and RSA as PKCS#12; and pin.txt.
func makeKeystores(ctx context.Context, ws *Workspace) error {
	if err := os.WriteFile(ws.Path("pin.txt"), []byte(ws.PIN+"\n"), 0o600); err != nil {
		return err
	}
	ws.Manifest.PINFile = "pin.txt"
	ws.Manifest.Files["pin"] = "pin.txt"
	for _, a := range Algorithms {
		s := ws.Signers[a]
		if s == nil {
			return fmt.Errorf("no %s signer: the PKI step did not run", a)
		}
		chain := []*smx509.Certificate{ws.Intermediate[a].Cert, ws.Root[a].Cert}
		rel := KeystorePath(a)
		var err error
		if a == signer.SM2 {
			err = softkey.WritePEM(ws.Path(rel), s.Key, s.Cert, chain, []byte(ws.PIN))
		} else {
			err = softkey.WritePKCS12(ws.Path(rel), s.Key, s.Cert, chain, []byte(ws.PIN))
		}
		if err != nil {
			return err
		}
		ws.Manifest.Files["keystore-"+string(a)] = rel
		ws.Manifest.Keys = append(ws.Manifest.Keys, KeyEntry{
			URI: softkey.FileURI(ws.Path(rel)), Algorithm: a, Label: "signer-" + string(a), Store: "keystore",
		})
	}
	return nil
}

// registerKeys records the demo token's module (with its SOFTHSM2_CONF) and the keystores
// in the workspace's own key config (DIR/config.json), never in the user's: a demo must not
// change another workspace's keys. `sealdesk --workspace DIR` uses it, and so does sealctl with
// SEALDESK_CONFIG=DIR/config.json (make run sets it). The workspace's outbox is DIR/outbox.db.
func registerKeys(ctx context.Context, ws *Workspace) error {
	ws.Manifest.Files["outbox"] = workspace.OutboxFile
	cfg, err := keys.LoadConfigFile(ws.Path(workspace.ConfigFile))
	if err != nil {
		ws.Manifest.Notes = append(ws.Manifest.Notes, "the key config was not updated: "+err.Error())
		return nil
	}
	if ws.Manifest.Module != "" {
		cfg.SetModule(token.Module{Path: ws.Manifest.Module, Name: "SoftHSM2 (demo)", Reinit: true,
			Env: map[string]string{"SOFTHSM2_CONF": ws.Manifest.SoftHSM}})
	}
	// Forget keystores that no longer exist (earlier demo workspaces that were removed).
	kept := cfg.Keystores[:0]
	for _, k := range cfg.Keystores {
		if _, err := os.Stat(k); err == nil {
			kept = append(kept, k)
		}
	}
	cfg.Keystores = kept
	for _, a := range Algorithms {
		cfg.AddKeystore(ws.Path(KeystorePath(a)))
	}
	if err := cfg.Save(); err != nil {
		ws.Manifest.Notes = append(ws.Manifest.Notes, "the key config was not updated: "+err.Error())
		return nil
	}
	ws.Manifest.Files["config"] = workspace.ConfigFile
	return nil
}
