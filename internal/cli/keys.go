package cli

import (
	"context"
	"fmt"
	"io"
	"strings"

	"sealdesk/signer"
	"sealdesk/signer/keys"
)

func init() {
	Register(&Command{
		Path:  []string{"keys", "list"},
		Usage: "[--module PATH]... [--skf PATH]... [--json]",
		Short: "tokens, their certificates, key types and seals; configured keystores",
		Run:   runKeysList,
	})
	Register(&Command{
		Path:  []string{"keys", "watch"},
		Usage: "[--module PATH]... [--skf PATH]...",
		Short: "one line per token insert/remove/change event, as it happens (Ctrl-C ends)",
		Run:   runKeysWatch,
	})
}

// keysConfig loads the key config; --module and --skf paths replace its PKCS#11 modules and
// SKF libraries for this run (naming one kind drops the other's discovery).
func keysConfig(modules, skfs []string) (*keys.Config, error) {
	cfg, err := keys.LoadConfig()
	if err != nil {
		return nil, Usagef("%v", err)
	}
	if len(modules) > 0 || len(skfs) > 0 {
		only := cfg.OnlyModules(modules)
		only.SKF = cfg.OnlySKF(skfs).SKF
		cfg = only
	}
	return cfg, nil
}

func runKeysList(ctx context.Context, env *Env) error {
	fs := FlagSet(env, "keys list", "[--module PATH]... [--skf PATH]... [--json]")
	modules := StringList(fs, "module", "PKCS#11 module `path` to list (repeatable; default: configured and discovered modules)")
	skfs := StringList(fs, "skf", "SKF (GM/T 0016) library `path` to list (repeatable; default: configured and discovered libraries)")
	asJSON := fs.Bool("json", false, "print JSON")
	pos, err := Parse(fs, env.Args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return Usagef("keys list takes no arguments (got %q)", strings.Join(pos, " "))
	}
	cfg, err := keysConfig(*modules, *skfs)
	if err != nil {
		return err
	}
	l, err := keys.List(ctx, cfg)
	if err != nil {
		return err
	}
	if *asJSON {
		if err := PrintJSON(env.Stdout, l); err != nil {
			return err
		}
	} else {
		printListing(env.Stdout, l)
	}
	// A module the user named that cannot be used is an input error.
	for _, m := range l.Modules {
		if len(*modules) > 0 && m.Err() != nil {
			return Usagef("%v", m.Err())
		}
	}
	for _, m := range l.SKF {
		if len(*skfs) > 0 && m.Err() != nil {
			return Usagef("%v", m.Err())
		}
	}
	return nil
}

func printListing(w io.Writer, l *keys.Listing) {
	if len(l.Modules) == 0 && len(l.Keystores) == 0 && len(l.SKF) == 0 {
		fmt.Fprintln(w, "no PKCS#11 modules, SKF libraries or keystores (see 'sealctl demo init' or the config file)")
		return
	}
	kinds := make([]string, 0, len(l.Modules)+len(l.SKF))
	for range l.Modules {
		kinds = append(kinds, "module")
	}
	for range l.SKF {
		kinds = append(kinds, "SKF library")
	}
	for i, m := range append(append([]keys.ModuleListing(nil), l.Modules...), l.SKF...) {
		name := ""
		if m.Name != "" {
			name = " (" + m.Name + ")"
		}
		fmt.Fprintf(w, "%s %s%s\n", kinds[i], m.Path, name)
		if m.Error != "" {
			fmt.Fprintf(w, "  error: %s\n", m.Error)
			continue
		}
		if len(m.Tokens) == 0 {
			fmt.Fprintln(w, "  no tokens")
		}
		for _, t := range m.Tokens {
			fmt.Fprintf(w, "  token %q serial %s (%s %s)%s\n", t.Label, t.Serial, t.Manufacturer, t.Model, pinTries(t))
			if t.Error != "" {
				fmt.Fprintf(w, "    error: %s\n", t.Error)
			}
			for _, id := range t.Identities {
				printIdentity(w, id)
			}
		}
	}
	for _, k := range l.Keystores {
		fmt.Fprintf(w, "keystore %s", k.Path)
		if k.Format != "" {
			fmt.Fprintf(w, " (%s)", k.Format)
		}
		fmt.Fprintln(w)
		if k.Error != "" {
			fmt.Fprintf(w, "  error: %s\n", k.Error)
			continue
		}
		if k.Identity != nil {
			printIdentity(w, *k.Identity)
		}
	}
}

// pinTries is pinState with the exact count where the key tells it (SKF).
func pinTries(t keys.TokenListing) string {
	if t.PINTriesLeft != nil && !t.PINLocked {
		return fmt.Sprintf(" [PIN: %d tries left]", *t.PINTriesLeft)
	}
	return pinState(t.TokenInfo)
}

func pinState(t signer.TokenInfo) string {
	switch {
	case t.PINLocked:
		return " [PIN LOCKED]"
	case t.PINFinalTry:
		return " [PIN: final try]"
	case t.PINCountLow:
		return " [PIN: a wrong PIN was entered]"
	}
	return ""
}

func printIdentity(w io.Writer, id keys.IdentityInfo) {
	alg := string(id.Algorithm)
	if alg == "" {
		alg = "?"
	}
	fmt.Fprintf(w, "    %s  %s", id.Label, alg)
	if id.Subject != "" {
		fmt.Fprintf(w, "  %s", id.Subject)
	}
	if id.NotAfter != nil {
		fmt.Fprintf(w, "  until %s", id.NotAfter.Format("2006-01-02"))
	}
	fmt.Fprintf(w, "  seals: %d\n      %s\n", id.Seals, id.URI)
	if id.Subject == "" {
		fmt.Fprintln(w, "      (certificate readable only with the password)")
	}
}

func runKeysWatch(ctx context.Context, env *Env) error {
	fs := FlagSet(env, "keys watch", "[--module PATH]... [--skf PATH]...")
	modules := StringList(fs, "module", "PKCS#11 module `path` to watch (repeatable; default: configured and discovered modules)")
	skfs := StringList(fs, "skf", "SKF (GM/T 0016) library `path` to watch (repeatable; default: configured and discovered libraries)")
	pos, err := Parse(fs, env.Args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return Usagef("keys watch takes no arguments (got %q)", strings.Join(pos, " "))
	}
	cfg, err := keysConfig(*modules, *skfs)
	if err != nil {
		return err
	}
	if len(cfg.AllModules()) == 0 && len(cfg.AllSKF()) == 0 {
		return Usagef("no PKCS#11 module or SKF library to watch (give --module PATH or --skf PATH, or add one to the config)")
	}
	w, err := keys.Watch(ctx, cfg)
	if err != nil {
		return err
	}
	defer w.Close()
	for {
		select {
		case <-ctx.Done():
			return nil // SIGINT
		case e, ok := <-w.Events():
			if !ok {
				return nil
			}
			fmt.Fprintln(env.Stdout, formatEvent(e))
		}
	}
}

func formatEvent(e signer.Event) string {
	if e.Kind == signer.ModuleError {
		return fmt.Sprintf("error     %s", e.Err)
	}
	return fmt.Sprintf("%-9s token %q serial %s (%s) in %s%s", e.Kind, e.Token.Label, e.Token.Serial, e.Token.Manufacturer, e.Token.Module, pinState(e.Token))
}
