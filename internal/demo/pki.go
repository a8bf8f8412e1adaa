package demo

import (
	"context"
	"crypto/rand"
	"fmt"
	"math/big"
	"os"
	"time"

	"github.com/emmansun/gmsm/smx509"

	"sealdesk/signer"
	"sealdesk/signer/pki"
)

// Algorithms the demo makes a chain for, in the order root.pem lists their roots.
var Algorithms = []signer.KeyAlgorithm{signer.SM2, signer.ECDSA, signer.RSA}

// CRLBaseURL is where the demo certificates say their CRLs are: the default address of
// `sealhub serve --demo DIR`, which serves DIR/crl/<name>.crl there. Plain HTTP is enough (a
// CRL is signed by its issuer) and keeps the verifier free of the hub's TLS setup.
const CRLBaseURL = "http://127.0.0.1:8443/v1/crl/"

// CRLDir is the workspace folder holding the demo CRLs the hub publishes.
const CRLDir = "crl"

// CRLValidity is how long a demo CRL stays fresh (its nextUpdate). Long, because nothing
// re-issues the demo CRLs: a workspace older than this verifies with revocation "unknown"
// (stale) until `sealctl demo init` is run again.
const CRLValidity = 30 * 24 * time.Hour

// CRLName returns the file name of the CRL issued by the CA of algorithm a at level
// ("root" or "intermediate"), e.g. "intermediate-sm2.crl".
func CRLName(level string, a signer.KeyAlgorithm) string {
	return level + "-" + string(a) + ".crl"
}

func init() {
	RegisterStep(Step{Order: 10, Name: "test PKI", Run: makePKI})
}

// makePKI makes, per algorithm, root → intermediate → signer, plus an SM2 seal maker
// (制章人) under the SM2 intermediate, and writes root.pem (the three roots, then the three
// issuing CAs: SES signatures carry only the signer certificate, so a verifier given root.pem
// needs the intermediates to build the chain; self-signed entries are the anchors) and
// certs/signer-<alg>.pem (each signer's chain, leaf first, for `verify --cert`).
//
// Every non-root certificate names a CRL distribution point under CRLBaseURL, and the CRLs
// themselves (empty: nothing is revoked) are written to crl/, so that a verifier online
// while `sealhub serve --demo` runs finds revocation "ok" instead of "unknown".
func makePKI(ctx context.Context, ws *Workspace) error {
	var roots, issuers []byte
	for _, d := range []string{"certs", CRLDir} {
		if err := os.MkdirAll(ws.Path(d), 0o755); err != nil {
			return err
		}
	}
	for _, a := range Algorithms {
		org := "SealDesk Demo"
		root, err := pki.New(a, pki.Template{Kind: pki.Root, CommonName: org + " Test Root CA (" + string(a) + ")", Org: org}, nil)
		if err != nil {
			return err
		}
		inter, err := pki.New(a, pki.Template{Kind: pki.Intermediate, CommonName: org + " Test Issuing CA (" + string(a) + ")", Org: org,
			CRLDistributionPoints: []string{CRLBaseURL + CRLName("root", a)}}, root)
		if err != nil {
			return err
		}
		leafCDP := []string{CRLBaseURL + CRLName("intermediate", a)}
		s, err := pki.New(a, pki.Template{Kind: pki.Signer, CommonName: fmt.Sprintf("演示签章人 Demo Signer (%s)", a), Org: "SealDesk Demo 演示单位",
			CRLDistributionPoints: leafCDP}, inter)
		if err != nil {
			return err
		}
		for level, ca := range map[string]*pki.Pair{"root": root, "intermediate": inter} {
			if err := writeCRL(ws, CRLName(level, a), ca); err != nil {
				return err
			}
		}
		ws.Root[a] = &KeyPair{Cert: root.Cert, Key: root.Key}
		ws.Intermediate[a] = &KeyPair{Cert: inter.Cert, Key: inter.Key}
		ws.Signers[a] = &KeyPair{Cert: s.Cert, Key: s.Key}
		roots = append(roots, pki.PEM(root.Cert)...)
		issuers = append(issuers, pki.PEM(inter.Cert)...)
		name := "certs/signer-" + string(a) + ".pem"
		if err := os.WriteFile(ws.Path(name), pki.PEM(s.Cert, inter.Cert, root.Cert), 0o644); err != nil {
			return err
		}
		ws.Manifest.Files["cert-"+string(a)] = name
		if a == signer.SM2 {
			m, err := pki.New(signer.SM2, pki.Template{Kind: pki.SealMaker, CommonName: "演示制章人 Demo Seal Maker", Org: "SealDesk Demo",
				CRLDistributionPoints: leafCDP}, inter)
			if err != nil {
				return err
			}
			ws.Maker = &KeyPair{Cert: m.Cert, Key: m.Key}
			if err := os.WriteFile(ws.Path("certs/maker-sm2.pem"), pki.PEM(m.Cert, inter.Cert, root.Cert), 0o644); err != nil {
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
	ws.Manifest.Files["crl"] = CRLDir
	return nil
}

// writeCRL writes an empty CRL signed by ca (SM2, ECDSA or RSA: smx509 picks the signature
// algorithm from the key, SM2-with-SM3 for SM2) as crl/<name>.
func writeCRL(ws *Workspace, name string, ca *pki.Pair) error {
	now := time.Now().Add(-time.Hour).Truncate(time.Second) // tolerate clocks a little behind
	der, err := smx509.CreateRevocationList(rand.Reader, &smx509.RevocationList{
		Number:     big.NewInt(now.Unix()), // increases with every demo init
		ThisUpdate: now,
		NextUpdate: now.Add(CRLValidity),
	}, ca.Cert, ca.Key)
	if err != nil {
		return fmt.Errorf("CRL %s: %w", name, err)
	}
	return os.WriteFile(ws.Path(CRLDir, name), der, 0o644)
}
