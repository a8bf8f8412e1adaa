// Package cli implements the sealctl and sealhub command lines on top of the core packages.
// Each command group lives in its own file and registers itself with Register from an init
// function; cmd/sealctl and cmd/sealhub only call Main.
//
// The command names, flags, exit codes and JSON fields are a contract (docs/CLI.md):
// 0 success, 1 the operation ran and the answer is "no", 2 usage or input error.
package cli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strings"

	"sealdesk/internal/version"
)

// Exit codes.
const (
	ExitOK    = 0
	ExitNo    = 1
	ExitUsage = 2
)

// Env is what a command gets: its arguments and where to write.
type Env struct {
	Args   []string
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	// Program is "sealctl" or "sealhub".
	Program string
}

// Command is one sub-command, e.g. Path {"keys", "list"}.
type Command struct {
	Program string   // "sealctl" (default) or "sealhub"
	Path    []string // words after the program name
	Usage   string   // one line: arguments and flags
	Short   string   // one sentence
	Run     func(ctx context.Context, env *Env) error
}

var commands []*Command

// Register adds a command. Called from init functions.
func Register(c *Command) {
	if c.Program == "" {
		c.Program = "sealctl"
	}
	commands = append(commands, c)
}

// ExitError carries an exit code with a message. Commands return it (via Usagef, Nof or
// Inputf) so that main can print one clear sentence and exit with the right code.
type ExitError struct {
	Code int
	Err  error
}

func (e *ExitError) Error() string { return e.Err.Error() }
func (e *ExitError) Unwrap() error { return e.Err }

// Usagef reports a usage or input error (exit 2).
func Usagef(format string, args ...any) error {
	return &ExitError{Code: ExitUsage, Err: fmt.Errorf(format, args...)}
}

// Nof reports that the operation ran and the answer is "no" (exit 1).
func Nof(format string, args ...any) error {
	return &ExitError{Code: ExitNo, Err: fmt.Errorf(format, args...)}
}

// Silent is an exit code without a message (the command already printed its answer).
func Silent(code int) error { return &ExitError{Code: code} }

// Main runs the program with args (without the program name) and returns the exit code.
func Main(program string, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	env := &Env{Stdin: stdin, Stdout: stdout, Stderr: stderr, Program: program}
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		printHelp(program, stdout)
		if len(args) == 0 {
			return ExitUsage
		}
		return ExitOK
	}
	if args[0] == "version" || args[0] == "--version" {
		fmt.Fprintln(stdout, version.String(program))
		return ExitOK
	}
	cmd, rest := find(program, args)
	if cmd == nil {
		fmt.Fprintf(stderr, "%s: unknown command %q (see '%s --help')\n", program, strings.Join(args, " "), program)
		return ExitUsage
	}
	env.Args = rest
	err := cmd.Run(ctx, env)
	if err == nil {
		return ExitOK
	}
	if errors.Is(err, flag.ErrHelp) {
		return ExitOK
	}
	var ee *ExitError
	if errors.As(err, &ee) {
		if ee.Err != nil {
			fmt.Fprintf(stderr, "%s: %v\n", program, ee.Err)
		}
		return ee.Code
	}
	// Errors from the core are input errors unless a command says otherwise.
	fmt.Fprintf(stderr, "%s: %v\n", program, err)
	return ExitUsage
}

func find(program string, args []string) (*Command, []string) {
	var best *Command
	bestLen := 0
	for _, c := range commands {
		if c.Program != program || len(c.Path) > len(args) || len(c.Path) <= bestLen {
			continue
		}
		match := true
		for i, w := range c.Path {
			if args[i] != w {
				match = false
				break
			}
		}
		if match {
			best, bestLen = c, len(c.Path)
		}
	}
	if best == nil {
		return nil, nil
	}
	return best, args[bestLen:]
}

func printHelp(program string, w io.Writer) {
	fmt.Fprintf(w, "usage: %s <command> [arguments]\n\ncommands:\n", program)
	var lines []string
	for _, c := range commands {
		if c.Program != program {
			continue
		}
		lines = append(lines, fmt.Sprintf("  %-40s %s", strings.Join(c.Path, " ")+" "+c.Usage, c.Short))
	}
	sort.Strings(lines)
	for _, l := range lines {
		fmt.Fprintln(w, l)
	}
	fmt.Fprintf(w, "\nRun '%s <command> --help' for a command's flags.\n", program)
}

// FlagSet returns a flag set for a command that prints its usage to env.Stderr.
func FlagSet(env *Env, c string, usage string) *flag.FlagSet {
	fs := flag.NewFlagSet(c, flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	fs.Usage = func() {
		fmt.Fprintf(env.Stderr, "usage: %s %s %s\n", env.Program, c, usage)
		fs.PrintDefaults()
	}
	return fs
}

// Parse parses flags that may come before, between or after positional arguments (the
// contract writes `sealctl verify FILE --json`), returning the positional arguments.
// A bad flag is a usage error.
func Parse(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, &ExitError{Code: ExitUsage, Err: nil}
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		// A lone "--" ends flag parsing; the flag package consumed it already.
		if len(args) > len(rest) && args[len(args)-len(rest)-1] == "--" {
			return append(pos, rest...), nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// PrintJSON writes v as indented JSON.
func PrintJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// multiFlag collects a repeatable string flag.
type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

// StringList defines a repeatable flag.
func StringList(fs *flag.FlagSet, name, usage string) *[]string {
	var m multiFlag
	fs.Var(&m, name, usage)
	return (*[]string)(&m)
}
