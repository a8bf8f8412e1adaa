// Package session is SealDesk's application core, the part of the desktop app and of `sealctl`
// that is not a widget or a flag: where the configuration comes from (a workspace or the
// user's), the key layer, the seal registry and the outbox; signing a batch of files after one
// login, with progress, a classification of what went wrong (may the user retry?), and a stop
// when the key is removed; verification (document + trust + registry + verdict); sync.
//
// It imports no GUI toolkit and nothing of the hub server, and its tests run without cgo.
//
// Signing rules that live elsewhere and are only called here: the signing step and its record
// (internal/signflow), the offline seal policy (hub/outbox), the verdict (document).
package session

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"sealdesk/hub/client"
	"sealdesk/hub/outbox"
	"sealdesk/internal/workspace"
	"sealdesk/signer/keys"
)

// Config says where a core's configuration comes from.
type Config struct {
	// Workspace is a workspace directory (workspace.json), or "" for the user's configuration.
	// A workspace has its own key configuration and outbox and never touches the user's.
	Workspace string
	// KeyConfig, Outbox override the key configuration file and the outbox file.
	KeyConfig string
	Outbox    string
	// HubURL is the registry (default $SEALDESK_HUB); NoHub forces standalone.
	HubURL string
	NoHub  bool
}

// Core is an opened configuration: key configuration, registry, outbox and trust roots.
type Core struct {
	Workspace *workspace.Workspace // nil outside a workspace
	KeyConfig *keys.Config
	Hub       *client.Client // nil: standalone
	Outbox    *outbox.Outbox // nil: no records kept
	TrustPEM  []byte         // extra trust anchors (the workspace's test roots)
	SealFiles []string       // seal files offered besides the keys' own
	Keystores []string       // keystores used for this run besides the configured ones
}

// Open opens the configuration cfg names. Problems that leave the core usable (no hub, an
// unreadable outbox) are returned as warnings.
func Open(cfg Config) (c *Core, warnings []error, err error) {
	c = &Core{}
	// Explicit settings win, then the environment (SEALDESK_CONFIG, SEALDESK_OUTBOX), then the
	// workspace's own files, then the user's configuration.
	keyPath, obPath := cfg.KeyConfig, cfg.Outbox
	if keyPath == "" {
		keyPath = os.Getenv(keys.ConfigEnv)
	}
	if obPath == "" {
		obPath = os.Getenv("SEALDESK_OUTBOX") // as outbox.DefaultPath reads it
	}
	if cfg.Workspace != "" {
		ws, err := workspace.Load(cfg.Workspace)
		if err != nil {
			return nil, nil, err
		}
		c.Workspace = ws
		if keyPath == "" {
			keyPath = ws.KeyConfig()
		}
		if obPath == "" {
			obPath = ws.Outbox()
		}
		if c.TrustPEM, err = ws.TrustPEM(); err != nil {
			warnings = append(warnings, err)
		}
		c.SealFiles = ws.SealFiles()
		c.Keystores = ws.Keystores()
		if conf := ws.Manifest.SoftHSM; conf != "" && os.Getenv("SOFTHSM2_CONF") == "" {
			// The workspace's SoftHSM2 token store, for modules configured without their own.
			os.Setenv("SOFTHSM2_CONF", ws.Path(conf))
		}
	}
	if keyPath == "" {
		if keyPath, err = keys.ConfigPath(); err != nil {
			return nil, nil, err
		}
	}
	if c.KeyConfig, err = keys.LoadConfigFile(keyPath); err != nil {
		return nil, nil, err
	}
	if !cfg.NoHub {
		if c.Hub, err = client.FromEnv(cfg.HubURL, ""); err != nil {
			warnings = append(warnings, err)
			c.Hub = nil
		}
	}
	if obPath == "" {
		if obPath, err = outbox.DefaultPath(); err != nil {
			warnings = append(warnings, err)
		}
	}
	if obPath != "" {
		if c.Outbox, err = OpenOutbox(obPath); err != nil {
			warnings = append(warnings, err)
		}
	}
	return c, warnings, nil
}

// OpenOutbox opens (creating its folder) the outbox at path.
func OpenOutbox(path string) (*outbox.Outbox, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("outbox %s: %w", path, err)
	}
	return outbox.Open(path, outbox.Options{})
}

// Keys starts the key layer of the configuration (watching its modules) until ctx ends.
func (c *Core) Keys(ctx context.Context) (keys.Layer, error) {
	if c.KeyConfig == nil {
		return nil, errors.New("no key configuration")
	}
	return keys.NewLive(ctx, c.KeyConfig, c.Keystores...)
}

// Close closes the outbox.
func (c *Core) Close() error {
	if c.Outbox != nil {
		return c.Outbox.Close()
	}
	return nil
}
