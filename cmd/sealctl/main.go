// Command sealctl drives every SealDesk operation from the command line: keys, seals, signing,
// verification, rendering and sync. See docs/CLI.md. The commands live in internal/cli.
package main

import (
	"os"

	"sealdesk/internal/cli"
)

func main() { os.Exit(cli.Main("sealctl", os.Args[1:], os.Stdin, os.Stdout, os.Stderr)) }
