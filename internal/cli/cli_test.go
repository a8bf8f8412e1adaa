package cli

import (
	"bytes"
	"context"
	"flag"
	"strings"
	"testing"
)

func TestParseInterleavedFlags(t *testing.T) {
	env := &Env{Stderr: &bytes.Buffer{}}
	fs := FlagSet(env, "verify", "FILE")
	js := fs.Bool("json", false, "")
	trust := fs.String("trust", "", "")
	pos, err := Parse(fs, []string{"a.pdf", "--json", "--trust", "r.pem", "b.pdf"})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(pos, ",") != "a.pdf,b.pdf" || !*js || *trust != "r.pem" {
		t.Fatalf("got pos=%v json=%v trust=%q", pos, *js, *trust)
	}
}

func TestMainExitCodes(t *testing.T) {
	Register(&Command{Program: "test", Path: []string{"no"}, Run: func(context.Context, *Env) error {
		return Nof("the answer is no")
	}})
	Register(&Command{Program: "test", Path: []string{"flags"}, Run: func(_ context.Context, env *Env) error {
		fs := FlagSet(env, "flags", "")
		_, err := Parse(fs, env.Args)
		return err
	}})
	var out, errb bytes.Buffer
	if code := Main("test", []string{"no"}, nil, &out, &errb); code != ExitNo {
		t.Fatalf("exit %d, want %d", code, ExitNo)
	}
	if got := errb.String(); got != "test: the answer is no\n" {
		t.Fatalf("stderr %q", got)
	}
	errb.Reset()
	if code := Main("test", []string{"nosuch"}, nil, &out, &errb); code != ExitUsage {
		t.Fatalf("unknown command: exit %d", code)
	}
	if code := Main("test", []string{"flags", "--bogus"}, nil, &out, &errb); code != ExitUsage {
		t.Fatalf("bad flag: exit %d", code)
	}
	_ = flag.ErrHelp
}
