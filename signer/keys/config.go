package keys

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"sealdesk/signer/skf"
	"sealdesk/signer/token"
)

// ConfigEnv names the environment variable that points at the config file.
const ConfigEnv = "SEALDESK_CONFIG"

// Config is SealDesk's key configuration, stored as JSON:
//
//	{
//	  "modules": [{"path": "/usr/lib/softhsm/libsofthsm2.so", "name": "SoftHSM2",
//	               "env": {"SOFTHSM2_CONF": "/home/me/demo/softhsm/softhsm2.conf"}, "reinit": true},
//	              {"path": "/usr/lib/libgm3000_pkcs11.so", "sm2": {"sign": 65538}}],
//	  "keystores": ["/home/me/demo/keys/signer-sm2.pem"],
//	  "noDiscovery": false
//	}
type Config struct {
	// Modules are PKCS#11 modules to use, with their environment and vendor numbers.
	Modules []token.Module `json:"modules,omitempty"`
	// Keystores are software keystore files (PKCS#12, encrypted PKCS#8 PEM, CFCA .sm2).
	Keystores []string `json:"keystores,omitempty"`
	// SKF are GM/T 0016 libraries (signer/skf), e.g. {"path": "/usr/lib/libgm3000.1.0.so",
	// "sealFile": "seal"}.
	SKF []skf.Library `json:"skf,omitempty"`
	// NoDiscovery turns off the search of the usual install paths (token.Candidates,
	// skf.Candidates).
	NoDiscovery bool `json:"noDiscovery,omitempty"`

	// Path is where the config was loaded from and is saved to.
	Path string `json:"-"`
}

// ConfigPath returns $SEALDESK_CONFIG, or config.json in the user's config directory
// (~/.config/sealdesk on Linux, %AppData%\sealdesk on Windows).
func ConfigPath() (string, error) {
	if p := os.Getenv(ConfigEnv); p != "" {
		return p, nil
	}
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("no config directory (set %s): %w", ConfigEnv, err)
	}
	return filepath.Join(dir, "sealdesk", "config.json"), nil
}

// LoadConfig reads the config from ConfigPath; a missing file is an empty config.
func LoadConfig() (*Config, error) {
	p, err := ConfigPath()
	if err != nil {
		return nil, err
	}
	return LoadConfigFile(p)
}

// LoadConfigFile reads the config at path; a missing file is an empty config.
func LoadConfigFile(path string) (*Config, error) {
	c := &Config{Path: path}
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return c, nil
	}
	if err != nil {
		return nil, fmt.Errorf("cannot read the config %s: %w", path, err)
	}
	if err := json.Unmarshal(b, c); err != nil {
		return nil, fmt.Errorf("config %s is not valid JSON: %w", path, err)
	}
	for i, m := range c.Modules {
		if m.Path == "" {
			return nil, fmt.Errorf("config %s: module #%d has no path", path, i+1)
		}
	}
	for i, l := range c.SKF {
		if l.Path == "" {
			return nil, fmt.Errorf("config %s: SKF library #%d has no path", path, i+1)
		}
	}
	return c, nil
}

// Save writes the config to c.Path atomically, readable only by the user.
func (c *Config) Save() (err error) {
	if c.Path == "" {
		p, err := ConfigPath()
		if err != nil {
			return err
		}
		c.Path = p
	}
	b, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return err
	}
	dir := filepath.Dir(c.Path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("cannot create the config directory %s: %w", dir, err)
	}
	tmp, err := os.CreateTemp(dir, ".config.json.tmp-*")
	if err != nil {
		return fmt.Errorf("cannot write the config in %s: %w", dir, err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if _, err = tmp.Write(append(b, '\n')); err != nil {
		return err
	}
	if err = tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), c.Path)
}

// SetModule adds m, replacing a module with the same library path.
func (c *Config) SetModule(m token.Module) {
	for i, old := range c.Modules {
		if token.SamePath(old.Path, m.Path) {
			c.Modules[i] = m
			return
		}
	}
	c.Modules = append(c.Modules, m)
}

// AddKeystore adds a keystore path (made absolute) unless it is listed already.
func (c *Config) AddKeystore(path string) {
	if abs, err := filepath.Abs(path); err == nil {
		path = abs
	}
	for _, k := range c.Keystores {
		if k == path {
			return
		}
	}
	c.Keystores = append(c.Keystores, path)
}

// module returns the configured module for path, or a bare one.
func (c *Config) module(path string) token.Module {
	for _, m := range c.Modules {
		if token.SamePath(m.Path, path) {
			return m
		}
	}
	for _, m := range token.Candidates() {
		if token.SamePath(m.Path, path) {
			return m
		}
	}
	return token.Module{Path: path}
}

// AllModules returns the configured modules, then the discovered ones not configured
// already (unless NoDiscovery).
func (c *Config) AllModules() []token.Module {
	out := append([]token.Module(nil), c.Modules...)
	if c.NoDiscovery {
		return out
	}
	for _, cand := range token.Candidates() {
		dup := false
		for _, m := range out {
			if token.SamePath(m.Path, cand.Path) {
				dup = true
				break
			}
		}
		if !dup {
			out = append(out, cand)
		}
	}
	return out
}

// OnlyModules returns a copy of the config that uses just the modules at paths (with their
// configured environment when the config knows them) and no discovery.
func (c *Config) OnlyModules(paths []string) *Config {
	cc := *c
	cc.Modules = nil
	cc.NoDiscovery = true
	for _, p := range paths {
		cc.Modules = append(cc.Modules, c.module(p))
	}
	return &cc
}
