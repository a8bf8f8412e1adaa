package cli

import (
	"context"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"strings"

	"github.com/emmansun/gmsm/smx509"

	"sealdesk/document"
	"sealdesk/signer/keys"
)

func init() {
	Register(&Command{
		Path:  []string{"keys", "request"},
		Usage: "--key skf:… --cn NAME [--org ORG] --out REQ.csr [--pin-file F]",
		Short: "generate an SM2 key pair on an SKF USB key and write a PKCS#10 certificate request for it",
		Run:   runKeysRequest,
	})
}

func runKeysRequest(ctx context.Context, env *Env) error {
	fs := FlagSet(env, "keys request", "--key skf:… --cn NAME [--org ORG] --out REQ.csr [--pin-file F]")
	keyURI := fs.String("key", "", "SKF container `URI` (skf:lib=…;dev=…;app=…;con=…; created when missing)")
	cn := fs.String("cn", "", "subject common `name` of the request")
	org := fs.String("org", "", "subject `organisation`")
	out := fs.String("out", "", "PEM `file` to write the request to")
	pinFile := fs.String("pin-file", "", "read the PIN from `file`")
	pos, err := Parse(fs, env.Args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return Usagef("keys request takes no arguments (got %q)", strings.Join(pos, " "))
	}
	if *keyURI == "" || *cn == "" || *out == "" {
		return Usagef("give --key skf:…, --cn NAME and --out FILE")
	}
	cfg, err := keys.LoadConfig()
	if err != nil {
		return Usagef("%v", err)
	}
	pin, err := ReadPIN(env, *pinFile, "PIN")
	if err != nil {
		return err
	}
	subject := pkix.Name{CommonName: *cn}
	if *org != "" {
		subject.Organization = []string{*org}
	}
	req, err := keys.GenerateRequest(ctx, cfg, *keyURI, pin, &smx509.CertificateRequest{Subject: subject})
	clear(pin)
	if err != nil {
		return Usagef("%v", err)
	}
	if err := document.WriteFileAtomic(*out, func(w io.Writer) error {
		return pem.Encode(w, &pem.Block{Type: "CERTIFICATE REQUEST", Bytes: req.CSR})
	}); err != nil {
		return err
	}
	fmt.Fprintf(env.Stdout, "wrote %s: SM2 key pair generated in %s\n", *out, req.URI)
	return nil
}
