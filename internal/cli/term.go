package cli

import (
	"os"

	"golang.org/x/term"
)

func isTerminal(f *os.File) bool { return term.IsTerminal(int(f.Fd())) }

func readNoEcho(f *os.File) ([]byte, error) {
	b, err := term.ReadPassword(int(f.Fd()))
	if err != nil {
		return readLine(f)
	}
	return b, nil
}
