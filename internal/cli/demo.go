package cli

import (
	"context"
	"fmt"
	"strings"

	"sealdesk/internal/demo"
	"sealdesk/signer"
)

func init() {
	Register(&Command{
		Path:  []string{"demo", "init"},
		Usage: "--dir DIR [--algo sm2|ecdsa|rsa]",
		Short: "make a demo workspace: test PKI, keystores, SES seal, SoftHSM2 token, samples; prints the key URIs",
		Run:   runDemoInit,
	})
}

func runDemoInit(ctx context.Context, env *Env) error {
	fs := FlagSet(env, "demo init", "--dir DIR [--algo sm2|ecdsa|rsa]")
	dir := fs.String("dir", "", "workspace `directory` (created if missing)")
	algo := fs.String("algo", "sm2", "algorithm of the signer the seal binds: sm2, ecdsa or rsa")
	pos, err := Parse(fs, env.Args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return Usagef("demo init takes no arguments (got %q); use --dir DIR", strings.Join(pos, " "))
	}
	if *dir == "" {
		return Usagef("demo init needs --dir DIR")
	}
	a := signer.KeyAlgorithm(*algo)
	switch a {
	case signer.SM2, signer.ECDSA, signer.RSA:
	default:
		return Usagef("--algo must be sm2, ecdsa or rsa (got %q)", *algo)
	}
	ws, err := demo.Init(ctx, *dir, a)
	if err != nil {
		return Usagef("%v", err)
	}
	m := ws.Manifest
	fmt.Fprintf(env.Stdout, "demo workspace: %s (workspace.json lists everything)\n", m.Dir)
	fmt.Fprintf(env.Stdout, "test roots: %s; PIN and keystore password: in %s\n", ws.Path(m.Root), ws.Path(m.PINFile))
	if m.SoftHSM != "" {
		fmt.Fprintf(env.Stdout, "SoftHSM2 token %q: export SOFTHSM2_CONF=%s\n", demo.DemoTokenLabel, m.SoftHSM)
	}
	if p := m.Files["config"]; p != "" {
		// The workspace's own key config; the user's is left alone.
		fmt.Fprintf(env.Stdout, "registered in the workspace's key config %s (export SEALDESK_CONFIG=%s)\n", ws.Path(p), ws.Path(p))
	}
	for _, n := range m.Notes {
		fmt.Fprintf(env.Stdout, "note: %s\n", n)
	}
	// The contract: the last lines are the key URIs, one a line.
	fmt.Fprintln(env.Stdout, "key URIs:")
	for _, k := range m.Keys {
		fmt.Fprintln(env.Stdout, k.URI)
	}
	return nil
}
