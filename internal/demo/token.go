package demo

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"sealdesk/signer"
	"sealdesk/signer/token"
)

// DemoTokenLabel is the label of the demo SoftHSM2 token.
const DemoTokenLabel = "Demo Seal Key"

// demoSOPIN is the demo token's security officer PIN (the user PIN is ws.PIN).
const demoSOPIN = "12345678"

func init() {
	RegisterStep(Step{Order: 40, Name: "SoftHSM2 token", Run: makeToken})
}

// tokenKeys are the identities the demo token holds: SoftHSM2 has no SM2.
var tokenKeys = []struct {
	alg signer.KeyAlgorithm
	id  byte
}{{signer.ECDSA, 1}, {signer.RSA, 2}}

// makeToken creates a hermetic SoftHSM2 setup in the workspace (softhsm2.conf + tokens/)
// with the token "Demo Seal Key": the ECDSA and RSA signers (the same keys as the
// keystores) with their chains, and the seal as a data object when the seal step made one.
func makeToken(ctx context.Context, ws *Workspace) error {
	mod, ok := token.FindKnown("SoftHSM2")
	if !ok {
		ws.Manifest.Notes = append(ws.Manifest.Notes,
			"softhsm2 is not installed, so there is no demo token (apt-get install softhsm2, then run demo init again)")
		return nil
	}
	tokens := ws.Path("tokens")
	// A workspace made again starts from an empty token directory, not a second token.
	if err := os.RemoveAll(tokens); err != nil {
		return err
	}
	if err := os.MkdirAll(tokens, 0o700); err != nil {
		return err
	}
	conf := ws.Path("softhsm2.conf")
	body := fmt.Sprintf("# SoftHSM2 configuration of this demo workspace (export SOFTHSM2_CONF=%s)\n"+
		"directories.tokendir = %s\nobjectstore.backend = file\nlog.level = ERROR\nslots.removable = false\n",
		conf, tokens)
	if err := os.WriteFile(conf, []byte(body), 0o644); err != nil {
		return err
	}
	mod.Env = map[string]string{"SOFTHSM2_CONF": conf}
	st, err := token.OpenModule(mod)
	if err != nil {
		if errors.Is(err, token.ErrNotBuiltIn) {
			ws.Manifest.Notes = append(ws.Manifest.Notes, "this sealctl was built without cgo, so it cannot make the demo token ("+token.ErrNotBuiltIn.Error()+")")
			return nil
		}
		return err
	}
	defer st.Close()
	pin := []byte(ws.PIN)
	if err := st.InitToken(ctx, DemoTokenLabel, []byte(demoSOPIN), pin); err != nil {
		return err
	}
	for _, k := range tokenKeys {
		s := ws.Signers[k.alg]
		label := "signer-" + string(k.alg)
		if err := st.ImportIdentity(ctx, DemoTokenLabel, pin, label, []byte{k.id}, s.Key, s.Cert); err != nil {
			return err
		}
		for name, c := range map[string]*KeyPair{"intermediate": ws.Intermediate[k.alg], "root": ws.Root[k.alg]} {
			if err := st.ImportCertificate(ctx, DemoTokenLabel, pin, "ca-"+string(k.alg)+"-"+name, nil, c.Cert); err != nil {
				return err
			}
		}
	}
	if len(ws.Seal) > 0 {
		if err := st.ImportData(ctx, DemoTokenLabel, pin, token.SealLabel, token.SealApplication, ws.Seal, false); err != nil {
			return err
		}
	}
	list, err := st.List(ctx)
	if err != nil {
		return err
	}
	for _, tc := range list {
		if tc.Info.Label != DemoTokenLabel {
			continue
		}
		for _, id := range tc.Identities {
			ws.Manifest.Keys = append(ws.Manifest.Keys, KeyEntry{URI: id.URI, Algorithm: id.Algorithm, Label: id.Label, Store: "softhsm"})
		}
	}
	ws.Manifest.Module = mod.Path
	ws.Manifest.SoftHSM = conf
	ws.Manifest.Files["softhsm2.conf"] = filepath.Base(conf)
	return nil
}
