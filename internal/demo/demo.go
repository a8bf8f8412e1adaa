// Package demo builds the demo workspace of `sealctl demo init` and `make run`: a test PKI,
// encrypted keystores, an SES seal, a SoftHSM2 token when softhsm2 is installed, sample
// documents, and workspace.json listing it all. The layout is a contract (docs/CLI.md):
//
//	root.pem  pin.txt  seal.esl  sample.pdf  sample.ofd  workspace.json
//	keys/signer-sm2.pem  keys/signer-ecdsa.p12  keys/signer-rsa.p12
//
// and, SealDesk's own additions: certs/ (each signer's chain), crl/ (the CAs' CRLs, which
// `sealhub serve --demo DIR` publishes at the CRL distribution points the demo certificates
// name, http://127.0.0.1:8443/v1/crl/), softhsm2.conf and tokens/ (the SoftHSM2 token),
// hub.db, hub-key.pem and hub-token.txt (the local hub and the demo client's credential).
//
// Each part is a Step registered from its own file, run in Order.
package demo

import (
	"context"
	"crypto"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"github.com/emmansun/gmsm/smx509"

	"sealdesk/internal/workspace"
	"sealdesk/signer"
)

// KeyPair is a certificate with its private key.
type KeyPair struct {
	Cert *smx509.Certificate
	Key  crypto.Signer
}

// KeyEntry is one key the workspace made, as listed in workspace.json.
type KeyEntry = workspace.KeyEntry

// Workspace is the state the steps build up; Manifest is what workspace.json holds.
type Workspace struct {
	Dir  string
	PIN  string
	Algo signer.KeyAlgorithm // the signer the seal binds (default sm2)

	Root         map[signer.KeyAlgorithm]*KeyPair
	Intermediate map[signer.KeyAlgorithm]*KeyPair
	Maker        *KeyPair // the seal maker (制章人), SM2
	Signers      map[signer.KeyAlgorithm]*KeyPair
	Seal         []byte // DER SES seal binding Signers[Algo]

	Manifest Manifest
}

// Manifest is workspace.json (package internal/workspace reads it).
type Manifest = workspace.Manifest

// Step is one part of building the workspace.
type Step struct {
	Order int // lower runs first: 10 PKI, 20 keystores, 30 seal, 40 token, 50 documents
	Name  string
	Run   func(ctx context.Context, ws *Workspace) error
}

var steps []Step

// RegisterStep adds a step; called from init functions.
func RegisterStep(s Step) { steps = append(steps, s) }

// Init builds the workspace in dir.
func Init(ctx context.Context, dir string, algo signer.KeyAlgorithm) (*Workspace, error) {
	if algo == "" {
		algo = signer.SM2
	}
	if err := os.MkdirAll(filepath.Join(dir, "keys"), 0o755); err != nil {
		return nil, err
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	ws := &Workspace{
		Dir:          abs,
		PIN:          "123456",
		Algo:         algo,
		Root:         map[signer.KeyAlgorithm]*KeyPair{},
		Intermediate: map[signer.KeyAlgorithm]*KeyPair{},
		Signers:      map[signer.KeyAlgorithm]*KeyPair{},
		Manifest:     Manifest{Dir: abs, Algorithm: string(algo), Files: map[string]string{}},
	}
	ordered := append([]Step(nil), steps...)
	sort.SliceStable(ordered, func(i, j int) bool { return ordered[i].Order < ordered[j].Order })
	for _, s := range ordered {
		if err := s.Run(ctx, ws); err != nil {
			return nil, fmt.Errorf("demo %s: %w", s.Name, err)
		}
	}
	b, err := json.MarshalIndent(ws.Manifest, "", "  ")
	if err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(dir, "workspace.json"), append(b, '\n'), 0o644); err != nil {
		return nil, err
	}
	return ws, nil
}

// Path returns a path inside the workspace.
func (ws *Workspace) Path(name ...string) string {
	return filepath.Join(append([]string{ws.Dir}, name...)...)
}
