// Package keys is the one entry point to keys that the CLI and the GUI share: List shows the
// PKCS#11 tokens (configured and discovered modules), the USB keys of GM/T 0016 SKF libraries
// (skf.go) with their identities, and the configured software keystores; Open turns a key URI
// (pkcs11:, skf: or file:) and a PIN into a usable signer.Identity; Watch streams token and
// SKF device events. Config (config.go) says which modules and
// keystores to use and is stored as JSON at $SEALDESK_CONFIG or the user config directory.
//
// Nothing here reads or keeps PINs: callers pass the PIN to Open and zero it afterwards.
package keys

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"sealdesk/signer"
	"sealdesk/signer/skf"
	"sealdesk/signer/softkey"
	"sealdesk/signer/token"
)

// IdentityInfo is what a listing shows of one identity.
type IdentityInfo struct {
	URI       string              `json:"uri"`
	Label     string              `json:"label"`
	Algorithm signer.KeyAlgorithm `json:"algorithm,omitempty"`
	Subject   string              `json:"subject,omitempty"`
	Issuer    string              `json:"issuer,omitempty"`
	Serial    string              `json:"serial,omitempty"`
	NotBefore *time.Time          `json:"notBefore,omitempty"`
	NotAfter  *time.Time          `json:"notAfter,omitempty"`
	// ChainLength counts the issuer certificates found with the key.
	ChainLength int `json:"chainLength"`
	// Seals counts the SES seals bound to the identity.
	Seals int `json:"seals"`
}

// TokenListing is one token.
type TokenListing struct {
	signer.TokenInfo
	Identities []IdentityInfo `json:"identities"`
	// SealObjects counts the seal data objects readable without login.
	SealObjects int `json:"sealObjects"`
	// PINTriesLeft is the exact retry count where the key tells it (SKF; the lowest over
	// the device's applications).
	PINTriesLeft *int   `json:"pinTriesLeft,omitempty"`
	Error        string `json:"error,omitempty"`
}

// ModuleListing is one PKCS#11 module.
type ModuleListing struct {
	Path string `json:"path"`
	Name string `json:"name,omitempty"`
	// Configured is false for modules found on the usual install paths.
	Configured bool           `json:"configured"`
	Tokens     []TokenListing `json:"tokens"`
	Error      string         `json:"error,omitempty"`
	err        error
}

// Err returns the module's error (nil when it was read).
func (m *ModuleListing) Err() error { return m.err }

// KeystoreListing is one software keystore.
type KeystoreListing struct {
	Path     string         `json:"path"`
	URI      string         `json:"uri"`
	Format   softkey.Format `json:"format,omitempty"`
	Identity *IdentityInfo  `json:"identity,omitempty"`
	Error    string         `json:"error,omitempty"`
}

// Listing is what List returns: `sealctl keys list --json` prints it.
type Listing struct {
	Modules   []ModuleListing   `json:"modules"`
	Keystores []KeystoreListing `json:"keystores"`
	// SKF lists the GM/T 0016 libraries; their devices are the tokens (skf.go).
	SKF []ModuleListing `json:"skf"`
}

// Identities returns every identity of the listing, tokens first.
func (l *Listing) Identities() []IdentityInfo {
	var out []IdentityInfo
	for _, m := range append(append([]ModuleListing(nil), l.Modules...), l.SKF...) {
		for _, t := range m.Tokens {
			out = append(out, t.Identities...)
		}
	}
	for _, k := range l.Keystores {
		if k.Identity != nil {
			out = append(out, *k.Identity)
		}
	}
	return out
}

// Info summarises an identity for listings.
func Info(id *signer.Identity) IdentityInfo {
	in := IdentityInfo{URI: id.URI, Label: id.Label, Algorithm: id.Algorithm, ChainLength: len(id.Chain), Seals: len(id.Seals)}
	if c := id.Certificate; c != nil {
		in.Subject = c.Subject.String()
		in.Issuer = c.Issuer.String()
		in.Serial = c.SerialNumber.Text(16)
		nb, na := c.NotBefore.UTC(), c.NotAfter.UTC()
		in.NotBefore, in.NotAfter = &nb, &na
	}
	return in
}

func configured(cfg *Config, path string) bool {
	for _, m := range cfg.Modules {
		if token.SamePath(m.Path, path) {
			return true
		}
	}
	return false
}

// List reads every module and keystore of cfg. Errors of single modules, tokens or
// keystores are reported in the listing, not returned; List fails only when ctx ends.
func List(ctx context.Context, cfg *Config) (*Listing, error) {
	l := &Listing{Keystores: []KeystoreListing{}}
	// Modules are read in parallel, so one slow or hung module (each call gives up after
	// token.CallTimeout) does not hold up the others.
	mods := cfg.AllModules()
	l.Modules = make([]ModuleListing, len(mods))
	var wg sync.WaitGroup
	for i, m := range mods {
		wg.Add(1)
		go func() {
			defer wg.Done()
			l.Modules[i] = listModule(ctx, cfg, m)
		}()
	}
	wg.Wait()
	l.SKF = listSKF(ctx, cfg)
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	for _, p := range cfg.Keystores {
		ks := KeystoreListing{Path: p, URI: softkey.FileURI(p)}
		st := softkey.New(p)
		ids, err := st.Identities(ctx)
		if err != nil {
			ks.Error = err.Error()
		} else if len(ids) > 0 {
			in := Info(ids[0])
			ks.Identity = &in
			if b, rerr := os.ReadFile(p); rerr == nil {
				ks.Format, _ = softkey.Detect(p, b)
			}
		}
		l.Keystores = append(l.Keystores, ks)
	}
	return l, nil
}

func listModule(ctx context.Context, cfg *Config, m token.Module) ModuleListing {
	ml := ModuleListing{Path: m.Path, Name: m.Name, Configured: configured(cfg, m.Path), Tokens: []TokenListing{}}
	st, err := token.OpenModule(m)
	if err == nil {
		var list []token.TokenContents
		list, err = st.List(ctx)
		st.Close()
		for _, tc := range list {
			tl := TokenListing{TokenInfo: tc.Info, Identities: []IdentityInfo{}, SealObjects: tc.Seals}
			if tc.Err != nil {
				tl.Error = tc.Err.Error()
			}
			for _, id := range tc.Identities {
				tl.Identities = append(tl.Identities, Info(id))
			}
			ml.Tokens = append(ml.Tokens, tl)
		}
	}
	if err != nil {
		ml.Error, ml.err = err.Error(), err
	}
	return ml
}

// Open returns the identity named by uri, logged in with pin, using the config at
// ConfigPath for module settings. The caller zeroes pin afterwards and calls the identity's
// Close when done.
func Open(ctx context.Context, uri string, pin []byte) (*signer.Identity, error) {
	cfg, err := LoadConfig()
	if err != nil {
		return nil, err
	}
	return OpenWith(ctx, cfg, uri, pin)
}

// ErrUnknownURI is wrapped when a key name is not a pkcs11:, skf: or file: URI.
var ErrUnknownURI = errors.New("not a key URI")

// OpenWith is Open with an explicit config.
func OpenWith(ctx context.Context, cfg *Config, uri string, pin []byte) (*signer.Identity, error) {
	lower := strings.ToLower(uri)
	switch {
	case strings.HasPrefix(lower, "file:"):
		path, err := softkey.ParseFileURI(uri)
		if err != nil {
			return nil, err
		}
		return softkey.New(path).Open(ctx, uri, pin)
	case strings.HasPrefix(lower, "pkcs11:"):
		return openToken(ctx, cfg, uri, pin)
	case skf.IsURI(uri):
		return openSKF(ctx, cfg, uri, pin)
	}
	hint := ""
	if ext := strings.ToLower(filepath.Ext(uri)); ext == ".p12" || ext == ".pfx" || ext == ".pem" || ext == ".sm2" {
		hint = fmt.Sprintf(" (for a keystore file write file:%s)", uri)
	}
	return nil, fmt.Errorf("key %q is not a pkcs11:, skf: or file: URI%s: %w", uri, hint, ErrUnknownURI)
}

func openToken(ctx context.Context, cfg *Config, uri string, pin []byte) (*signer.Identity, error) {
	u, err := token.ParseURI(uri)
	if err != nil {
		return nil, err
	}
	var mods []token.Module
	if u.ModulePath != "" {
		mods = []token.Module{cfg.module(u.ModulePath)}
	} else {
		for _, m := range cfg.AllModules() {
			if u.MatchesModule(m) {
				mods = append(mods, m)
			}
		}
	}
	if len(mods) == 0 {
		return nil, fmt.Errorf("no PKCS#11 module to look for %s in (add one to the config or use module-path): %w", uri, token.ErrNotFound)
	}
	var errs []error
	for _, m := range mods {
		st, err := token.OpenModule(m)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		id, err := st.Open(ctx, uri, pin)
		if err != nil {
			st.Close()
			if errors.Is(err, token.ErrNotFound) {
				errs = append(errs, err)
				continue
			}
			return nil, err
		}
		// The identity keeps the module loaded; closing it releases both.
		inner := id.Close
		id.Close = func() error {
			var err error
			if inner != nil {
				err = inner()
			}
			st.Close()
			return err
		}
		return id, nil
	}
	if len(errs) == 1 {
		return nil, errs[0]
	}
	return nil, fmt.Errorf("no key matches %s: %w", uri, errors.Join(errs...))
}

// Watch starts a watcher over every module of cfg. Modules that cannot be opened show up
// as ModuleError events. The watcher stops when ctx ends or Close is called.
func Watch(ctx context.Context, cfg *Config) (token.Source, error) {
	var listers []token.Lister
	var stores []*token.Store
	for _, m := range cfg.AllModules() {
		st, err := token.OpenModule(m)
		if err != nil {
			listers = append(listers, failedModule{path: m.Path, err: err})
			continue
		}
		stores = append(stores, st)
		listers = append(listers, st)
	}
	listers = append(listers, skfListers(cfg)...)
	ctx, cancel := context.WithCancel(ctx)
	w := token.NewWatcher(ctx, listers, token.WatchOptions{})
	go func() {
		<-ctx.Done()
		for _, st := range stores {
			st.Close()
		}
	}()
	return &watch{Watcher: w, cancel: cancel}, nil
}

type watch struct {
	*token.Watcher
	cancel context.CancelFunc
}

func (w *watch) Close() error {
	w.cancel()
	return w.Watcher.Close()
}

// failedModule reports a module that could not be opened on every poll (the watcher sends
// its error once).
type failedModule struct {
	path string
	err  error
}

func (f failedModule) Name() string { return f.path }
func (f failedModule) Tokens(context.Context) ([]signer.TokenInfo, error) {
	return nil, f.err
}

// TokenStore opens the PKCS#11 module holding the token that uri names (module-path, or the
// configured and known modules) and returns it with the token's label, for operations on the
// token itself rather than on an identity: generating a key pair, writing an issued
// certificate and a seal (the seal lifecycle, hub/holder). Close the store when done.
func TokenStore(ctx context.Context, cfg *Config, uri string) (*token.Store, string, error) {
	u, err := token.ParseURI(uri)
	if err != nil {
		return nil, "", err
	}
	var mods []token.Module
	if u.ModulePath != "" {
		mods = []token.Module{cfg.module(u.ModulePath)}
	} else {
		for _, m := range cfg.AllModules() {
			if u.MatchesModule(m) {
				mods = append(mods, m)
			}
		}
	}
	var errs []error
	for _, m := range mods {
		st, err := token.OpenModule(m)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		toks, err := st.Tokens(ctx)
		if err == nil {
			for _, t := range toks {
				if u.MatchesToken(t) {
					return st, t.Label, nil
				}
			}
		}
		st.Close()
		if err != nil {
			errs = append(errs, err)
		}
	}
	return nil, "", fmt.Errorf("no token matching %s is present: %w", uri, errors.Join(append(errs, token.ErrNotFound)...))
}
