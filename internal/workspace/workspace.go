// Package workspace reads a SealDesk workspace: a directory with workspace.json (written by
// `sealctl demo init`, layout in docs/CLI.md) and its own configuration — the key
// configuration (config.json) and the signing-record outbox (outbox.db) — so that a demo or a
// second workspace never changes another's keys, keystores or outbox, nor the user-wide
// configuration. It imports nothing of the hub server, so the desktop app can use it.
package workspace

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"sealdesk/signer"
	"sealdesk/signer/softkey"
)

// KeyEntry is one key the workspace made, as listed in workspace.json.
type KeyEntry struct {
	URI       string              `json:"uri"`
	Algorithm signer.KeyAlgorithm `json:"algorithm"`
	Label     string              `json:"label"`
	Store     string              `json:"store"` // "softhsm" or "keystore"
}

// Manifest is workspace.json. Paths in it are relative to the workspace directory unless
// absolute.
type Manifest struct {
	Dir       string            `json:"dir"`
	Algorithm string            `json:"algorithm"`
	Root      string            `json:"root"`
	PINFile   string            `json:"pinFile"`
	Keys      []KeyEntry        `json:"keys"`
	Seals     []string          `json:"seals"`
	Files     map[string]string `json:"files"`
	Module    string            `json:"module,omitempty"`
	SoftHSM   string            `json:"softhsm2Conf,omitempty"`
	Notes     []string          `json:"notes,omitempty"`
}

// The workspace's own configuration files.
const (
	ConfigFile = "config.json" // key configuration (signer/keys.Config)
	OutboxFile = "outbox.db"   // signing-record outbox (hub/outbox)
)

// Workspace is a loaded workspace.
type Workspace struct {
	Dir      string
	Manifest Manifest
}

// Load reads dir/workspace.json.
func Load(dir string) (*Workspace, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	data, err := os.ReadFile(filepath.Join(abs, "workspace.json"))
	if err != nil {
		return nil, fmt.Errorf("workspace %s: %w", dir, err)
	}
	w := &Workspace{Dir: abs}
	if err := json.Unmarshal(data, &w.Manifest); err != nil {
		return nil, fmt.Errorf("workspace %s: workspace.json is not valid JSON: %w", dir, err)
	}
	return w, nil
}

// Path resolves a manifest path against the workspace directory ("" stays "").
func (w *Workspace) Path(p string) string {
	if p == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(w.Dir, p)
}

// KeyConfig is the workspace's key configuration file.
func (w *Workspace) KeyConfig() string {
	if p := w.Manifest.Files["config"]; p != "" {
		return w.Path(p)
	}
	return filepath.Join(w.Dir, ConfigFile)
}

// Outbox is the workspace's signing-record outbox.
func (w *Workspace) Outbox() string {
	if p := w.Manifest.Files["outbox"]; p != "" {
		return w.Path(p)
	}
	return filepath.Join(w.Dir, OutboxFile)
}

// TrustPEM reads the workspace's trust roots (nil when it names none).
func (w *Workspace) TrustPEM() ([]byte, error) {
	if w.Manifest.Root == "" {
		return nil, nil
	}
	return os.ReadFile(w.Path(w.Manifest.Root))
}

// SealFiles lists the workspace's seal files.
func (w *Workspace) SealFiles() []string {
	var out []string
	for _, s := range w.Manifest.Seals {
		out = append(out, w.Path(s))
	}
	return out
}

// Keystores lists the workspace's software keystore files.
func (w *Workspace) Keystores() []string {
	var out []string
	for _, k := range w.Manifest.Keys {
		if k.Store != "keystore" {
			continue
		}
		if p, err := softkey.ParseFileURI(k.URI); err == nil {
			out = append(out, w.Path(p))
		}
	}
	return out
}
