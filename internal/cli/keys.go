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
		Usage: "[--module PATH]... [--json]",
		Short: "tokens, their certificates, key types and seals; configured keystores",
		Run:   runKeysList,
	})
	Register(&Command{
		Path:  []string{"keys", "watch"},
		Usage: "[--module PATH]...",
		Short: "one line per token insert/remove/change event, as it happens (Ctrl-C ends)",
		Run:   runKeysWatch,
	})
}

// keysConfig loads the key config; --module paths replace its modules for this run.
func keysConfig(modules []string) (*keys.Config, error) {
	cfg, err := keys.LoadConfig()
	if err != nil {
		return nil, Usagef("%v", err)
	}
	if len(modules) > 0 {
		cfg = cfg.OnlyModules(modules)
	}
	return cfg, nil
}

func runKeysList(ctx context.Context, env *Env) error {
	fs := FlagSet(env, "keys list", "[--module PATH]... [--json]")
	modules := StringList(fs, "module", "PKCS#11 module `path` to list (repeatable; default: configured and discovered modules)")
	asJSON := fs.Bool("json", false, "print JSON")
	pos, err := Parse(fs, env.Args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return Usagef("keys list takes no arguments (got %q)", strings.Join(pos, " "))
	}
	cfg, err := keysConfig(*modules)
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
	return nil
}

func printListing(w io.Writer, l *keys.Listing) {
	if len(l.Modules) == 0 && len(l.Keystores) == 0 {
		fmt.Fprintln(w, "no PKCS#11 modules and no keystores (see 'sealctl demo init' or the config file)")
		return
	}
	for _, m := range l.Modules {
		name := ""
		if m.Name != "" {
			name = " (" + m.Name + ")"
		}
		fmt.Fprintf(w, "module %s%s\n", m.Path, name)
		if m.Error != "" {
			fmt.Fprintf(w, "  error: %s\n", m.Error)
			continue
		}
		if len(m.Tokens) == 0 {
			fmt.Fprintln(w, "  no tokens")
		}
		for _, t := range m.Tokens {
			fmt.Fprintf(w, "  token %q serial %s (%s %s)%s\n", t.Label, t.Serial, t.Manufacturer, t.Model, pinState(t.TokenInfo))
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
	fs := FlagSet(env, "keys watch", "[--module PATH]...")
	modules := StringList(fs, "module", "PKCS#11 module `path` to watch (repeatable; default: configured and discovered modules)")
	pos, err := Parse(fs, env.Args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return Usagef("keys watch takes no arguments (got %q)", strings.Join(pos, " "))
	}
	cfg, err := keysConfig(*modules)
	if err != nil {
		return err
	}
	if len(cfg.AllModules()) == 0 {
		return Usagef("no PKCS#11 module to watch (give --module PATH or add one to the config)")
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
