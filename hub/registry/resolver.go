package registry

import (
	"context"
	"crypto/ecdsa"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"sealdesk/hub/api"
)

// The client's registry configuration: a client set up for any provider (its own hub, if
// any, is configured apart) resolves every seal through the registry it trusts. Only the
// registry's URL and its public key are configured; everything else (accredited providers,
// their seal makers, roots and endpoints) comes in the trust bundle signed by that key.

// Environment variables of the client's registry configuration.
const (
	EnvURL     = "SEALDESK_REGISTRY"         // the registry's base URL
	EnvKey     = "SEALDESK_REGISTRY_KEY"     // file holding the registry's public key (PEM)
	EnvRefresh = "SEALDESK_REGISTRY_REFRESH" // bundle refresh interval (Go duration, default 10m)
	EnvCache   = "SEALDESK_REGISTRY_CACHE"   // bundle cache file
)

// DefaultRefresh is how old a cached trust bundle may be before it is fetched again.
const DefaultRefresh = 10 * time.Minute

// ErrMakerNotAccredited: the seal's maker certificate belongs to no accredited provider in
// the trust bundle (an unknown or suspended provider, or a maker it never registered).
var ErrMakerNotAccredited = errors.New("the seal maker's certificate is not in the registry's trust bundle: its provider is not accredited")

// Config is a client's registry configuration.
type Config struct {
	URL string
	Key *ecdsa.PublicKey // the registry key: the bundle and every status answer must verify under it
	// Refresh is how old the cached bundle may be before it is fetched again (default
	// DefaultRefresh). CacheFile is where it is cached (default: the user's cache folder,
	// one file per registry key).
	Refresh   time.Duration
	CacheFile string
	HTTP      *http.Client
	Now       func() time.Time
}

// LoadKey reads a registry public key (PEM) from file.
func LoadKey(file string) (*ecdsa.PublicKey, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("registry key: %w", err)
	}
	k, err := api.ParseHubKey(string(b))
	if err != nil {
		return nil, fmt.Errorf("registry key %s: %w", file, err)
	}
	return k, nil
}

// ConfigFromEnv reads the configuration from the environment (EnvURL, EnvKey, EnvRefresh,
// EnvCache). Without EnvURL it answers nil, nil: no registry is configured.
func ConfigFromEnv() (*Config, error) {
	u := os.Getenv(EnvURL)
	if u == "" {
		return nil, nil
	}
	kf := os.Getenv(EnvKey)
	if kf == "" {
		return nil, fmt.Errorf("registry %s: set %s to the file holding the registry's public key (sealhub registry key prints it)", u, EnvKey)
	}
	key, err := LoadKey(kf)
	if err != nil {
		return nil, err
	}
	c := &Config{URL: u, Key: key, CacheFile: os.Getenv(EnvCache)}
	if v := os.Getenv(EnvRefresh); v != "" {
		if c.Refresh, err = time.ParseDuration(v); err != nil || c.Refresh <= 0 {
			return nil, fmt.Errorf("%s=%q: want a positive duration such as 10m", EnvRefresh, v)
		}
	}
	return c, nil
}

// Resolver answers, for a client, the trust bundle and the status of any provider's seal.
// It is safe for concurrent use.
type Resolver struct {
	cfg     Config
	bundles *BundleClient
	status  *Client
	mu      sync.Mutex
	bundle  *Bundle
	fetched time.Time // when the bundle in memory was fetched (or its cache written)
}

// Resolver makes the resolver of the configuration.
func (c *Config) Resolver() (*Resolver, error) {
	if c == nil || c.URL == "" || c.Key == nil {
		return nil, errors.New("registry: a URL and the registry's public key are required")
	}
	cfg := *c
	if cfg.Refresh <= 0 {
		cfg.Refresh = DefaultRefresh
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.CacheFile == "" {
		dir, err := os.UserCacheDir()
		if err != nil {
			return nil, fmt.Errorf("registry: no cache folder for the trust bundle (set %s): %w", EnvCache, err)
		}
		kid, _ := api.KeyID(cfg.Key)
		cfg.CacheFile = filepath.Join(dir, "sealdesk", "trust-bundle-"+safeName(kid)+".json")
	}
	if err := os.MkdirAll(filepath.Dir(cfg.CacheFile), 0o700); err != nil {
		return nil, fmt.Errorf("registry: bundle cache: %w", err)
	}
	return &Resolver{cfg: cfg,
		bundles: &BundleClient{URL: cfg.URL, Key: cfg.Key, CacheFile: cfg.CacheFile, HTTP: cfg.HTTP, Now: cfg.Now},
		status:  &Client{URL: cfg.URL, Key: cfg.Key, HTTP: cfg.HTTP}}, nil
}

func safeName(s string) string {
	b := []byte(s)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			b[i] = '_'
		}
	}
	return string(b[:min(len(b), 40)])
}

// Config returns the resolver's configuration with its defaults filled in.
func (r *Resolver) Config() Config { return r.cfg }

// Bundle answers the trust bundle: the one in memory or in the cache while it is younger than
// the refresh interval (counted from when it was fetched), else a fresh one from the
// registry; with the registry unreachable, the cache (checked again). A wrongly signed or
// expired bundle is refused: errors.Is(err, ErrBundleSignature / ErrBundleExpired).
func (r *Resolver) Bundle(ctx context.Context) (*Bundle, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	now := r.cfg.Now()
	if r.bundle != nil && now.Sub(r.fetched) < r.cfg.Refresh && now.Before(r.bundle.Expires) {
		return r.bundle, nil
	}
	if fi, err := os.Stat(r.cfg.CacheFile); err == nil && now.Sub(fi.ModTime()) < r.cfg.Refresh {
		if b, err := r.bundles.Cached(); err == nil {
			r.bundle, r.fetched = b, fi.ModTime()
			return b, nil
		}
	}
	b, err := r.bundles.Fetch(ctx)
	if err != nil {
		return nil, err
	}
	r.bundle, r.fetched = b, now
	if fi, err := os.Stat(r.cfg.CacheFile); err == nil {
		r.fetched = fi.ModTime() // a fallback to the cache keeps the cache's age
	}
	return b, nil
}

// Recognize answers the accredited provider whose seal-maker certificate is makerDER, or an
// error wrapping ErrMakerNotAccredited (or the bundle's own error).
func (r *Resolver) Recognize(ctx context.Context, makerDER []byte) (*BundleProvider, error) {
	b, err := r.Bundle(ctx)
	if err != nil {
		return nil, err
	}
	id := b.MakerProvider(makerDER)
	if id == "" {
		return nil, fmt.Errorf("%w (trust bundle version %d of %s)", ErrMakerNotAccredited, b.Version, b.Issued.Format(time.RFC3339))
	}
	return b.Provider(id), nil
}

// StatusAt answers a seal's status at time at (zero: now) with the registry's signed answer,
// which names at (api.StatusPayload.At) and can be kept as a proof. When the registry cannot
// be reached and makerDER names an accredited provider, that provider is asked the same
// question at its endpoint (registrar.ProviderHandler); its answer is checked with its key
// from the bundle.
func (r *Resolver) StatusAt(ctx context.Context, esID string, at time.Time, makerDER []byte) (*api.SealStatus, *api.SignedStatus, error) {
	pl, signed, err := r.status.Status(ctx, at, esID)
	var refused *api.Error
	if err != nil && !errors.As(err, &refused) && makerDER != nil {
		if pl2, signed2, perr := r.providerStatus(ctx, esID, at, makerDER); perr == nil {
			pl, signed, err = pl2, signed2, nil
		} else {
			err = fmt.Errorf("registry %s: %v; the seal's provider: %v", r.cfg.URL, err, perr)
		}
	}
	if err != nil {
		return nil, nil, err
	}
	for i := range pl.Statuses {
		if pl.Statuses[i].ESID == esID {
			return &pl.Statuses[i], signed, nil
		}
	}
	return nil, nil, fmt.Errorf("registry: the answer does not name seal %s", esID)
}

func (r *Resolver) providerStatus(ctx context.Context, esID string, at time.Time, makerDER []byte) (*api.StatusPayload, *api.SignedStatus, error) {
	p, err := r.Recognize(ctx, makerDER)
	if err != nil {
		return nil, nil, err
	}
	if p.Endpoint == "" {
		return nil, nil, fmt.Errorf("provider %s has no endpoint in the trust bundle", p.ID)
	}
	key, err := api.ParseHubKey(p.KeyPEM)
	if err != nil {
		return nil, nil, fmt.Errorf("provider %s: %w", p.ID, err)
	}
	return (&Client{URL: p.Endpoint, Key: key, HTTP: r.cfg.HTTP}).Status(ctx, at, esID)
}
