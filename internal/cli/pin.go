package cli

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
)

// ReadPIN returns the PIN or keystore password: from --pin-file, else $SEALDESK_PIN, else a
// terminal prompt when stdin is a terminal. Never from a flag value (it would show in ps).
// The caller zeroes the returned slice after use.
func ReadPIN(env *Env, pinFile, what string) ([]byte, error) {
	if pinFile != "" {
		b, err := os.ReadFile(pinFile)
		if err != nil {
			return nil, Usagef("cannot read the PIN file: %v", err)
		}
		pin := bytes.TrimRight(b, "\r\n")
		out := append([]byte(nil), pin...)
		clear(b)
		return out, nil
	}
	if v, ok := os.LookupEnv("SEALDESK_PIN"); ok {
		return []byte(v), nil
	}
	if f, ok := env.Stdin.(*os.File); ok && isTerminal(f) {
		fmt.Fprintf(env.Stderr, "%s: ", what)
		line, err := readNoEcho(f)
		fmt.Fprintln(env.Stderr)
		if err != nil {
			return nil, Usagef("cannot read the %s: %v", what, err)
		}
		return line, nil
	}
	return nil, Usagef("no %s given: use --pin-file FILE or the SEALDESK_PIN environment variable", what)
}

func readLine(f *os.File) ([]byte, error) {
	r := bufio.NewReader(f)
	line, err := r.ReadBytes('\n')
	if err != nil && len(line) == 0 {
		return nil, err
	}
	return bytes.TrimRight(line, "\r\n"), nil
}
