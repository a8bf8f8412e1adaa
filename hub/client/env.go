package client

import (
	"fmt"
	"os"
	"strings"
)

// FromEnv makes the client the command-line tools use. The hub URL is hubURL, else
// $SEALDESK_HUB; with neither, FromEnv returns (nil, nil): no hub is configured. The bearer
// token is read from tokenFile, else $SEALDESK_HUB_TOKEN, else the file named by
// $SEALDESK_HUB_TOKEN_FILE (the demo workspace keeps it in hub-token.txt). A token is never
// taken from a command-line value, which would show in ps.
func FromEnv(hubURL, tokenFile string) (*Client, error) {
	if hubURL == "" {
		hubURL = os.Getenv("SEALDESK_HUB")
	}
	if hubURL == "" {
		return nil, nil
	}
	token := ""
	if tokenFile == "" {
		token = os.Getenv("SEALDESK_HUB_TOKEN")
		if token == "" {
			tokenFile = os.Getenv("SEALDESK_HUB_TOKEN_FILE")
		}
	}
	if token == "" && tokenFile != "" {
		b, err := os.ReadFile(tokenFile)
		if err != nil {
			return nil, fmt.Errorf("cannot read the hub token file: %w", err)
		}
		token = strings.TrimSpace(string(b))
	}
	if token == "" {
		return nil, fmt.Errorf("no token for the hub %s: use --token-file FILE, SEALDESK_HUB_TOKEN or SEALDESK_HUB_TOKEN_FILE", hubURL)
	}
	return New(hubURL, Options{Token: token})
}
