// Command testsigncert writes an Authenticode test identity made by the test PKI (signer/pki):
// a root, an issuing CA and an RSA code-signing certificate, so that `make package` signs the
// Windows build in CI without a real certificate and `osslsigncode verify -CAfile root.pem`
// can check it.
//
// Usage: go run ./packaging/testsigncert DIR
//
// DIR receives root.pem (the trust anchor for verification), chain.pem (signer, issuing CA,
// root) and key.pem (the signer's unencrypted PKCS#8 key: a throw-away test key), the
// -certs/-key form osslsigncode accepts. The files are test material: never ship them, never
// trust root.pem outside a test.
package main

import (
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"

	"sealdesk/signer"
	"sealdesk/signer/pki"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: testsigncert DIR")
		os.Exit(2)
	}
	if err := write(os.Args[1]); err != nil {
		fmt.Fprintln(os.Stderr, "testsigncert:", err)
		os.Exit(1)
	}
}

func write(dir string) error {
	chain, err := pki.NewChain(signer.RSA, "SealDesk Code Signing")
	if err != nil {
		return err
	}
	leaf, err := chain.Issue(pki.Template{Kind: pki.CodeSigning, CommonName: "SealDesk Test Code Signing", Org: "SealDesk"})
	if err != nil {
		return err
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(leaf.Key)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	files := map[string][]byte{
		"root.pem":  pki.PEM(chain.Root.Cert),
		"chain.pem": pki.PEM(leaf.Cert, chain.Intermediate.Cert, chain.Root.Cert),
		"key.pem":   pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}),
	}
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o600); err != nil {
			return err
		}
	}
	return nil
}
