package demo

import (
	"context"
	"fmt"
	"os"

	"sealdesk/signer"
	"sealdesk/signer/pki"
)

// Algorithms the demo makes a chain for, in the order root.pem lists their roots.
var Algorithms = []signer.KeyAlgorithm{signer.SM2, signer.ECDSA, signer.RSA}

func init() {
	RegisterStep(Step{Order: 10, Name: "test PKI", Run: makePKI})
}

// makePKI makes, per algorithm, root → intermediate → signer, plus an SM2 seal maker
// (制章人) under the SM2 intermediate, and writes root.pem (the three roots, then the three
// issuing CAs: SES signatures carry only the signer certificate, so a verifier given root.pem
// needs the intermediates to build the chain; self-signed entries are the anchors) and
// certs/signer-<alg>.pem (each signer's chain, leaf first, for `verify --cert`).
func makePKI(ctx context.Context, ws *Workspace) error {
	var roots, issuers []byte
	if err := os.MkdirAll(ws.Path("certs"), 0o755); err != nil {
		return err
	}
	for _, a := range Algorithms {
		ch, err := pki.NewChain(a, "SealDesk Demo")
		if err != nil {
			return err
		}
		s, err := ch.Issue(pki.Template{Kind: pki.Signer, CommonName: fmt.Sprintf("演示签章人 Demo Signer (%s)", a), Org: "SealDesk Demo 演示单位"})
		if err != nil {
			return err
		}
		ws.Root[a] = &KeyPair{Cert: ch.Root.Cert, Key: ch.Root.Key}
		ws.Intermediate[a] = &KeyPair{Cert: ch.Intermediate.Cert, Key: ch.Intermediate.Key}
		ws.Signers[a] = &KeyPair{Cert: s.Cert, Key: s.Key}
		roots = append(roots, pki.PEM(ch.Root.Cert)...)
		issuers = append(issuers, pki.PEM(ch.Intermediate.Cert)...)
		name := "certs/signer-" + string(a) + ".pem"
		if err := os.WriteFile(ws.Path(name), pki.PEM(s.Cert, ch.Intermediate.Cert, ch.Root.Cert), 0o644); err != nil {
			return err
		}
		ws.Manifest.Files["cert-"+string(a)] = name
		if a == signer.SM2 {
			m, err := pki.New(signer.SM2, pki.Template{Kind: pki.SealMaker, CommonName: "演示制章人 Demo Seal Maker", Org: "SealDesk Demo"}, ch.Intermediate)
			if err != nil {
				return err
			}
			ws.Maker = &KeyPair{Cert: m.Cert, Key: m.Key}
			if err := os.WriteFile(ws.Path("certs/maker-sm2.pem"), pki.PEM(m.Cert, ch.Intermediate.Cert, ch.Root.Cert), 0o644); err != nil {
				return err
			}
			ws.Manifest.Files["cert-maker"] = "certs/maker-sm2.pem"
		}
	}
	if err := os.WriteFile(ws.Path("root.pem"), append(roots, issuers...), 0o644); err != nil {
		return err
	}
	ws.Manifest.Root = "root.pem"
	ws.Manifest.Files["root"] = "root.pem"
	return nil
}
