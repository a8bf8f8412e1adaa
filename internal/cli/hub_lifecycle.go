package cli

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"sealdesk/hub/ca"
	"sealdesk/hub/holder"
	"sealdesk/hub/maker"
	"sealdesk/hub/server"
	"sealdesk/signer/keys"
	"sealdesk/signer/pki"
	"sealdesk/signer/trust"
)

// sealhub's side of the lifecycle: the maker and CA keys it holds on its token, the seal
// type table, and `sealhub maker init` to make those keys on a token.

func init() {
	Register(&Command{Program: "sealhub", Path: []string{"maker", "init"},
		Usage: "--key pkcs11:token=LABEL[;…] --org NAME --ca-cert-out FILE [--pin-file F] [--json]",
		Short: "make the hub's CA and seal-maker keys on its token (C_GenerateKeyPair) and print their URIs", Run: runMakerInit})
}

type lcFlags struct {
	makerKey, caKey, caCert, sealTypes, pinFile *string
}

func lifecycleFlags(fs *flag.FlagSet) lcFlags {
	return lcFlags{
		makerKey:  fs.String("maker-key", "", "the seal maker's key on the hub's token (pkcs11: URI only: never a file)"),
		caKey:     fs.String("ca-key", "", "the built-in CA's key on the hub's token (pkcs11: URI)"),
		caCert:    fs.String("ca-cert", "", "the built-in CA's certificate `PEM` (with its issuers)"),
		sealTypes: fs.String("seal-types", "", "seal type table `JSON` ([{\"code\",\"name\",\"widthMm\",\"heightMm\"}]; default: the built-in table)"),
		pinFile:   fs.String("pin-file", "", "the hub token's PIN `file` (default $SEALDESK_PIN)"),
	}
}

// apply opens the maker and CA keys into opt and returns what closes them.
func (f lcFlags) apply(ctx context.Context, env *Env, opt *server.Options) (func(), error) {
	closers := []func(){}
	done := func() {
		for _, c := range closers {
			c()
		}
	}
	if *f.sealTypes != "" {
		b, err := os.ReadFile(*f.sealTypes)
		if err != nil {
			return done, Usagef("--seal-types: %v", err)
		}
		if err := json.Unmarshal(b, &opt.SealTypes); err != nil || len(opt.SealTypes) == 0 {
			return done, Usagef("--seal-types %s: want a JSON list of {code, name, widthMm, heightMm}: %v", *f.sealTypes, err)
		}
	}
	if p := os.Getenv("SEALHUB_TEST_PAUSE"); p != "" {
		// Tests kill the hub in the middle of a step: it stops at the named point.
		opt.Pause = func(point string) {
			if point == p {
				fmt.Fprintf(env.Stderr, "sealhub: paused at %s\n", point)
				time.Sleep(time.Hour)
			}
		}
	}
	if *f.makerKey == "" && *f.caKey == "" {
		return done, nil
	}
	if *f.makerKey == "" || *f.caKey == "" || *f.caCert == "" {
		return done, Usagef("--maker-key, --ca-key and --ca-cert go together")
	}
	for _, k := range []string{*f.makerKey, *f.caKey} {
		if !strings.HasPrefix(strings.ToLower(k), "pkcs11:") {
			return done, Usagef("%s: the hub's maker and CA keys live on a PKCS#11 token (pkcs11: URI), never in a file", k)
		}
	}
	pin, err := ReadPIN(env, *f.pinFile, "hub token PIN")
	if err != nil {
		return done, err
	}
	defer clear(pin)
	mk, err := keys.Open(ctx, *f.makerKey, pin)
	if err != nil {
		return done, Usagef("--maker-key: %v", err)
	}
	if mk.Close != nil {
		closers = append(closers, func() { mk.Close() })
	}
	opt.Maker = &maker.SES{Key: mk.Signer, Cert: mk.Certificate}
	cfg, err := keys.LoadConfig()
	if err != nil {
		return done, err
	}
	st, _, err := keys.TokenStore(ctx, cfg, *f.caKey)
	if err != nil {
		return done, Usagef("--ca-key: %v", err)
	}
	closers = append(closers, func() { st.Close() })
	ck, err := st.OpenKey(ctx, *f.caKey, pin)
	if err != nil {
		return done, Usagef("--ca-key: %v", err)
	}
	closers = append(closers, func() { ck.Close() })
	pemText, err := os.ReadFile(*f.caCert)
	if err != nil {
		return done, Usagef("--ca-cert: %v", err)
	}
	certs, err := trust.ParseCertificates(pemText)
	if err != nil || len(certs) == 0 {
		return done, Usagef("--ca-cert %s: no certificate: %v", *f.caCert, err)
	}
	if !holder.SameKey(certs[0].PublicKey, ck.Public()) {
		return done, Usagef("--ca-cert %s is not the certificate of --ca-key", *f.caCert)
	}
	opt.CA = &ca.Local{Key: ck.Signer, Cert: certs[0], Chain: certs[1:]}
	return done, nil
}

func runMakerInit(ctx context.Context, env *Env) error {
	fs := FlagSet(env, "maker init", "--key pkcs11:token=LABEL --org NAME --ca-cert-out FILE [--pin-file F] [--json]")
	uri := fs.String("key", "", "the hub's token: pkcs11:token=LABEL[;module-path=…]")
	org := fs.String("org", "SealDesk Hub", "the hub operator's `name` (in the CA and maker certificates)")
	out := fs.String("ca-cert-out", "", "write the CA certificate (PEM) to `FILE`, for serve --ca-cert")
	makerOut := fs.String("maker-cert-out", "", "also write the seal-maker certificate (PEM) to `FILE`, for sealhub registry accredit --maker")
	pinFile := fs.String("pin-file", "", "the token PIN `file` (default $SEALDESK_PIN)")
	asJSON := fs.Bool("json", false, "print JSON")
	if _, err := Parse(fs, env.Args); err != nil {
		return err
	}
	if *uri == "" || *out == "" {
		return Usagef("give --key pkcs11:token=LABEL and --ca-cert-out FILE")
	}
	pin, err := ReadPIN(env, *pinFile, "PIN")
	if err != nil {
		return err
	}
	defer clear(pin)
	cfg, err := keys.LoadConfig()
	if err != nil {
		return err
	}
	st, label, err := keys.TokenStore(ctx, cfg, *uri)
	if err != nil {
		return Usagef("%v", err)
	}
	defer st.Close()
	p, err := maker.Provision(ctx, st, label, pin, *org)
	if err != nil {
		return Usagef("%v", err)
	}
	if err := os.WriteFile(*out, pki.PEM(p.CACert), 0o644); err != nil {
		return Usagef("%v", err)
	}
	res := map[string]string{"caKey": p.CAURI, "makerKey": p.MakerURI, "caCert": *out}
	if *makerOut != "" {
		if err := os.WriteFile(*makerOut, pki.PEM(p.MakerCert), 0o644); err != nil {
			return Usagef("%v", err)
		}
		res["makerCert"] = *makerOut
	}
	if *asJSON {
		return PrintJSON(env.Stdout, res)
	}
	fmt.Fprintf(env.Stdout, "CA certificate written to %s\n%s\n%s\n", *out, p.CAURI, p.MakerURI)
	return nil
}
