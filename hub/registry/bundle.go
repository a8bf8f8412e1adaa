package registry

import (
	"context"
	"crypto/ecdsa"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"

	"sealdesk/document"
	"sealdesk/hub/api"
)

// The trust bundle: what a client needs to recognise seals of every accredited provider.
// Signed like a status answer (payload bytes as sent, ES256 under the registry key) with
// its own context, so a bundle can never pass as a status answer or the other way round.

// BundleContext is the signing context of trust bundles.
const BundleContext = "sealhub-trust-bundle-v1\n"

// Bundle is the payload of a trust bundle.
type Bundle struct {
	Type string `json:"type"` // "trust-bundle"
	// Version increases with every accreditation change (the latest change, µs since 1970).
	Version   int64            `json:"version"`
	Issued    time.Time        `json:"issued"`
	Expires   time.Time        `json:"expires"`
	Registry  string           `json:"registry"` // the registry key's id
	Providers []BundleProvider `json:"providers"`
}

// BundleProvider is one accredited provider in a bundle (suspended ones are left out).
type BundleProvider struct {
	ID         string   `json:"id"`
	Name       string   `json:"name"`
	Endpoint   string   `json:"endpoint,omitempty"`
	KeyPEM     string   `json:"keyPem"`
	MakerCerts [][]byte `json:"makerCerts,omitempty"`
	CARoots    [][]byte `json:"caRoots,omitempty"`
}

// SignedBundle is a bundle as served and cached.
type SignedBundle struct {
	Payload   json.RawMessage `json:"payload"`
	KeyID     string          `json:"keyId"`
	Algorithm string          `json:"algorithm"` // ES256
	Signature []byte          `json:"signature"`
}

// Errors of opening a bundle.
var (
	ErrBundleSignature = errors.New("trust bundle: the signature does not verify under the configured registry key")
	ErrBundleExpired   = errors.New("trust bundle: expired")
)

// Open checks a bundle's signature under the registry key and its validity at now.
func (s *SignedBundle) Open(pub *ecdsa.PublicKey, now time.Time) (*Bundle, error) {
	if s == nil || s.Algorithm != "ES256" || !api.VerifyContext(pub, BundleContext, s.Payload, s.Signature) {
		return nil, ErrBundleSignature
	}
	var b Bundle
	if err := json.Unmarshal(s.Payload, &b); err != nil || b.Type != "trust-bundle" {
		return nil, fmt.Errorf("trust bundle: the payload is not a trust bundle")
	}
	if !now.Before(b.Expires) {
		return nil, fmt.Errorf("%w at %s (issued %s)", ErrBundleExpired, b.Expires.Format(time.RFC3339), b.Issued.Format(time.RFC3339))
	}
	if now.Before(b.Issued.Add(-5 * time.Minute)) {
		return nil, fmt.Errorf("trust bundle: issued %s, in the future", b.Issued.Format(time.RFC3339))
	}
	return &b, nil
}

// Age is how old the bundle is at now.
func (b *Bundle) Age(now time.Time) time.Duration { return now.Sub(b.Issued) }

// MakerProvider names the accredited provider whose seal-maker certificate is makerDER
// (compared by SHA-256 of the DER), or "" when none is.
func (b *Bundle) MakerProvider(makerDER []byte) string {
	want := sha256.Sum256(makerDER)
	for _, p := range b.Providers {
		for _, c := range p.MakerCerts {
			if sha256.Sum256(c) == want {
				return p.ID
			}
		}
	}
	return ""
}

// Provider returns the accredited provider id, or nil.
func (b *Bundle) Provider(id string) *BundleProvider {
	for i := range b.Providers {
		if b.Providers[i].ID == id {
			return &b.Providers[i]
		}
	}
	return nil
}

// BundleClient fetches the trust bundle from a registry and caches it in a file.
type BundleClient struct {
	URL       string           // the registry's base URL
	Key       *ecdsa.PublicKey // the registry key the client is configured with
	CacheFile string
	HTTP      *http.Client
	Now       func() time.Time
}

func (c *BundleClient) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

// Fetch asks the registry for the bundle, checks it and caches it. When the registry
// cannot be reached it falls back to the cached bundle (checked again: an expired cache
// is refused). A bundle older (lower version) than the cached one is refused as a rollback.
func (c *BundleClient) Fetch(ctx context.Context) (*Bundle, error) {
	sb, ferr := c.fetch(ctx)
	if ferr != nil {
		b, err := c.Cached()
		if err != nil {
			return nil, fmt.Errorf("trust bundle: the registry is unreachable (%v) and the cache cannot be used: %w", ferr, err)
		}
		return b, nil
	}
	b, err := sb.Open(c.Key, c.now())
	if err != nil {
		return nil, err
	}
	if old, err := c.Cached(); err == nil && old.Version > b.Version {
		return nil, fmt.Errorf("trust bundle: the registry sent version %d, older than the cached %d", b.Version, old.Version)
	}
	if c.CacheFile != "" {
		raw, _ := json.Marshal(sb)
		if err := document.WriteFileAtomic(c.CacheFile, func(w io.Writer) error { _, err := w.Write(raw); return err }); err != nil {
			return nil, fmt.Errorf("trust bundle: caching: %w", err)
		}
	}
	return b, nil
}

func (c *BundleClient) fetch(ctx context.Context) (*SignedBundle, error) {
	hc := c.HTTP
	if hc == nil {
		hc = &http.Client{Timeout: 15 * time.Second}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.URL+PathBundle, nil)
	if err != nil {
		return nil, err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("registry answered %s", resp.Status)
	}
	var sb SignedBundle
	if err := json.Unmarshal(body, &sb); err != nil {
		return nil, fmt.Errorf("registry answer is not a signed bundle: %w", err)
	}
	return &sb, nil
}

// Cached opens the cached bundle.
func (c *BundleClient) Cached() (*Bundle, error) {
	if c.CacheFile == "" {
		return nil, errors.New("no cache file configured")
	}
	raw, err := os.ReadFile(c.CacheFile)
	if err != nil {
		return nil, err
	}
	var sb SignedBundle
	if err := json.Unmarshal(raw, &sb); err != nil {
		return nil, fmt.Errorf("trust bundle cache %s: %w", c.CacheFile, err)
	}
	return sb.Open(c.Key, c.now())
}
