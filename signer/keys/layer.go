package keys

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"sealdesk/signer"
	"sealdesk/signer/softkey"
	"sealdesk/signer/token"
)

// Layer is the one key layer the application core and the app use: the identities of the
// present tokens and of the keystores (without logging in), token events, login. Live is the
// real one; Stores serves given key stores (tests, with token.Fake).
type Layer interface {
	// Events streams token insert/remove events (nil: none).
	Events() <-chan signer.Event
	// Identities lists every identity without logging in (tokens first, then keystores).
	Identities(ctx context.Context) ([]*signer.Identity, error)
	// Open logs in; the caller zeroes pin and closes the identity.
	Open(ctx context.Context, uri string, pin []byte) (*signer.Identity, error)
	// AddKeystore adds a software keystore file (and saves it in the configuration when
	// there is one).
	AddKeystore(path string) error
	Close() error
}

// Live is the key layer over a Config: its PKCS#11 modules (watched for hot-plug) and its
// keystores.
type Live struct {
	mu     sync.Mutex
	cfg    *Config
	src    token.Source
	stores map[string]*token.Store
	// save says whether AddKeystore writes the configuration.
	save bool
}

// NewLive starts watching cfg's modules. extraKeystores are used for this run without being
// saved. AddKeystore saves to cfg.Path when it is set.
func NewLive(ctx context.Context, cfg *Config, extraKeystores ...string) (*Live, error) {
	run := *cfg
	run.Keystores = append([]string(nil), cfg.Keystores...)
	for _, p := range extraKeystores {
		run.AddKeystore(p)
	}
	src, err := Watch(ctx, &run)
	if err != nil {
		return nil, err
	}
	return &Live{cfg: &run, src: src, stores: map[string]*token.Store{}, save: cfg.Path != ""}, nil
}

func (k *Live) Events() <-chan signer.Event { return k.src.Events() }

func (k *Live) Identities(ctx context.Context) ([]*signer.Identity, error) {
	k.mu.Lock()
	cfg := *k.cfg
	k.mu.Unlock()
	var out []*signer.Identity
	for _, m := range cfg.AllModules() {
		st, err := k.store(m)
		if err != nil {
			continue // reported by the watcher as a module error
		}
		if ids, err := st.Identities(ctx); err == nil {
			out = append(out, ids...)
		}
	}
	out = append(out, skfIdentities(ctx, &cfg)...)
	for _, p := range cfg.Keystores {
		ids, err := softkey.New(p).Identities(ctx)
		if err != nil {
			continue // an unreadable keystore is left out; `sealctl keys list` says why
		}
		out = append(out, ids...)
	}
	return out, nil
}

func (k *Live) store(m token.Module) (*token.Store, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if s, ok := k.stores[m.Path]; ok {
		return s, nil
	}
	s, err := token.OpenModule(m)
	if err != nil {
		return nil, err
	}
	k.stores[m.Path] = s
	return s, nil
}

func (k *Live) Open(ctx context.Context, uri string, pin []byte) (*signer.Identity, error) {
	k.mu.Lock()
	cfg := k.cfg
	k.mu.Unlock()
	return OpenWith(ctx, cfg, uri, pin)
}

// AddKeystore adds the file for this run and to the saved configuration.
func (k *Live) AddKeystore(path string) error {
	k.mu.Lock()
	k.cfg.AddKeystore(path)
	save, cfgPath := k.save, k.cfg.Path
	k.mu.Unlock()
	if !save {
		return nil
	}
	saved, err := LoadConfigFile(cfgPath)
	if err != nil {
		return err
	}
	saved.AddKeystore(path)
	return saved.Save()
}

func (k *Live) Close() error {
	k.mu.Lock()
	defer k.mu.Unlock()
	for _, s := range k.stores {
		s.Close()
	}
	return k.src.Close()
}

// Stores is a key layer over given key stores and a token event source.
type Stores struct {
	Source token.Source
	Stores []signer.KeyStore
}

func (k *Stores) Events() <-chan signer.Event {
	if k.Source == nil {
		return nil
	}
	return k.Source.Events()
}

func (k *Stores) Identities(ctx context.Context) ([]*signer.Identity, error) {
	var out []*signer.Identity
	for _, s := range k.Stores {
		ids, err := s.Identities(ctx)
		if err != nil {
			continue // a failing module shows up as a watcher event; the others still list
		}
		out = append(out, ids...)
	}
	return out, nil
}

func (k *Stores) Open(ctx context.Context, uri string, pin []byte) (*signer.Identity, error) {
	var firstErr error
	for _, s := range k.Stores {
		id, err := s.Open(ctx, uri, pin)
		if err == nil {
			return id, nil
		}
		if firstErr == nil || !errors.Is(err, token.ErrNotFound) {
			firstErr = err
		}
	}
	if firstErr == nil {
		firstErr = fmt.Errorf("no key store holds %s: %w", uri, token.ErrNotFound)
	}
	return nil, firstErr
}

// AddKeystore adds a software keystore for this run.
func (k *Stores) AddKeystore(path string) error {
	k.Stores = append(k.Stores, softkey.New(path))
	return nil
}

func (k *Stores) Close() error {
	if k.Source != nil {
		return k.Source.Close()
	}
	return nil
}
