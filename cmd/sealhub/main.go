// Command sealhub is the reference central verification endpoint: seal registry, signing
// records, online verification. See docs/CLI.md and hub/api/openapi.yaml.
package main

import (
	"os"

	"sealdesk/internal/cli"
)

func main() { os.Exit(cli.Main("sealhub", os.Args[1:], os.Stdin, os.Stdout, os.Stderr)) }
