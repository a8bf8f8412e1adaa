package keys

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/emmansun/gmsm/smx509"

	"sealdesk/signer"
	"sealdesk/signer/skf"
	"sealdesk/signer/token"
)

// The skf: scheme: GM/T 0016 libraries (signer/skf) configured under "skf" in the config
// file, plus the vendor libraries found on the usual install paths (skf.Candidates). Their
// devices are listed like tokens (Listing.SKF), watched by the same watcher, and their keys
// opened by skf: URIs.

// AllSKF returns the configured SKF libraries, then the discovered ones not configured
// already (unless NoDiscovery).
func (c *Config) AllSKF() []skf.Library {
	out := append([]skf.Library(nil), c.SKF...)
	if c.NoDiscovery {
		return out
	}
	for _, cand := range skf.Candidates() {
		dup := false
		for _, l := range out {
			if token.SamePath(l.Path, cand.Path) {
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

// OnlySKF returns a copy of the config that uses just the SKF libraries at paths (with
// their configured settings when the config knows them) and no discovery.
func (c *Config) OnlySKF(paths []string) *Config {
	cc := *c
	cc.SKF = nil
	cc.NoDiscovery = true
	for _, p := range paths {
		cc.SKF = append(cc.SKF, c.skfLibrary(p))
	}
	return &cc
}

// SetSKF adds an SKF library, replacing one with the same path.
func (c *Config) SetSKF(l skf.Library) {
	for i, old := range c.SKF {
		if token.SamePath(old.Path, l.Path) {
			c.SKF[i] = l
			return
		}
	}
	c.SKF = append(c.SKF, l)
}

func (c *Config) skfLibrary(path string) skf.Library {
	for _, l := range append(append([]skf.Library(nil), c.SKF...), skf.Candidates()...) {
		if token.SamePath(l.Path, path) {
			return l
		}
	}
	return skf.Library{Path: path}
}

func listSKF(ctx context.Context, cfg *Config) []ModuleListing {
	libs := cfg.AllSKF()
	out := make([]ModuleListing, len(libs))
	var wg sync.WaitGroup
	for i, l := range libs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out[i] = listSKFLibrary(ctx, cfg, l)
		}()
	}
	wg.Wait()
	return out
}

func listSKFLibrary(ctx context.Context, cfg *Config, l skf.Library) ModuleListing {
	configured := false
	for _, c := range cfg.SKF {
		configured = configured || token.SamePath(c.Path, l.Path)
	}
	ml := ModuleListing{Path: l.Path, Name: l.Name, Configured: configured, Tokens: []TokenListing{}}
	st, err := skf.Open(l)
	var devs []skf.Device
	if err == nil {
		devs, err = st.List(ctx)
	}
	if err != nil {
		ml.Error, ml.err = err.Error(), err
		return ml
	}
	for _, d := range devs {
		tl := TokenListing{TokenInfo: d.Info, Identities: []IdentityInfo{}}
		var errs []error
		if d.Err != nil {
			errs = append(errs, d.Err)
		}
		for _, a := range d.Apps {
			if a.Err != nil {
				errs = append(errs, fmt.Errorf("application %q: %w", skf.Display(a.Name), a.Err))
			}
			if a.PIN != nil && (tl.PINTriesLeft == nil || a.PIN.Remaining < *tl.PINTriesLeft) {
				n := a.PIN.Remaining
				tl.PINTriesLeft = &n
			}
			tl.SealObjects += len(a.Seals)
			for _, c := range a.Containers {
				if c.Err != nil {
					errs = append(errs, c.Err)
				}
				if c.Identity != nil {
					tl.Identities = append(tl.Identities, Info(c.Identity))
				}
			}
		}
		if len(errs) > 0 {
			tl.Error = errors.Join(errs...).Error()
		}
		ml.Tokens = append(ml.Tokens, tl)
	}
	return ml
}

// skfStores opens the libraries that may hold the key uri names.
func openSKF(ctx context.Context, cfg *Config, uri string, pin []byte) (*signer.Identity, error) {
	st, err := skfStoreFor(cfg, uri)
	if err != nil {
		return nil, err
	}
	return st.Open(ctx, uri, pin)
}

// skfStoreFor returns the store of the library the URI's lib= names: a configured or
// discovered library (by path, file name or name), or the path itself.
func skfStoreFor(cfg *Config, uri string) (*skf.Store, error) {
	u, err := skf.ParseURI(uri)
	if err != nil {
		return nil, err
	}
	for _, l := range cfg.AllSKF() {
		if u.Lib != "" && u.MatchesLibrary(l) {
			return skf.Open(l)
		}
	}
	if u.Lib == "" {
		libs := cfg.AllSKF()
		if len(libs) == 1 {
			return skf.Open(libs[0])
		}
		return nil, fmt.Errorf("%s names no library and %d SKF libraries are configured (add lib=PATH): %w", uri, len(libs), skf.ErrNotFound)
	}
	return skf.Open(cfg.skfLibrary(u.Lib))
}

// GenerateRequest generates an SM2 key pair in the SKF container uri names and returns a
// PKCS#10 request signed by it (the key side of the lifecycle's apply step).
func GenerateRequest(ctx context.Context, cfg *Config, uri string, pin []byte, tmpl *smx509.CertificateRequest) (*skf.Request, error) {
	if !skf.IsURI(uri) {
		return nil, fmt.Errorf("key pairs are generated on SKF keys only (skf:…), not %q", uri)
	}
	st, err := skfStoreFor(cfg, uri)
	if err != nil {
		return nil, err
	}
	return st.GenerateRequest(ctx, uri, pin, tmpl)
}

// skfListers returns the SKF libraries as watcher listers (a library that cannot be loaded
// reports its error through the watcher).
func skfListers(cfg *Config) []token.Lister {
	var out []token.Lister
	for _, l := range cfg.AllSKF() {
		st, err := skf.Open(l)
		if err != nil {
			out = append(out, failedModule{path: l.Path, err: err})
			continue
		}
		out = append(out, st)
	}
	return out
}

// skfIdentities lists the identities of every SKF library's devices (a library that fails
// is left out: the watcher reports it).
func skfIdentities(ctx context.Context, cfg *Config) []*signer.Identity {
	var out []*signer.Identity
	for _, l := range cfg.AllSKF() {
		st, err := skf.Open(l)
		if err != nil {
			continue
		}
		if ids, err := st.Identities(ctx); err == nil {
			out = append(out, ids...)
		}
	}
	return out
}
