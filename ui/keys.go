package ui

import (
	"context"
	"fmt"
	"sort"
	"sync"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"sealdesk/signer"
	"sealdesk/signer/keys"
	"sealdesk/signer/softkey"
	"sealdesk/signer/token"
)

// Keys is what the app needs from the key layer. CoreKeys is the real one (signer/keys); tests
// use StoreKeys over a token.Fake.
type Keys interface {
	// Events streams token insert/remove events (nil: none).
	Events() <-chan signer.Event
	// Identities lists every identity without logging in (tokens first, then keystores).
	Identities(ctx context.Context) ([]*signer.Identity, error)
	// Open logs in; the caller zeroes pin.
	Open(ctx context.Context, uri string, pin []byte) (*signer.Identity, error)
	// AddKeystore adds a software keystore file.
	AddKeystore(path string) error
	Close() error
}

// StoreKeys serves identities from key stores and events from a token source.
type StoreKeys struct {
	Source token.Source
	Stores []signer.KeyStore
}

func (k *StoreKeys) Events() <-chan signer.Event {
	if k.Source == nil {
		return nil
	}
	return k.Source.Events()
}

func (k *StoreKeys) Identities(ctx context.Context) ([]*signer.Identity, error) {
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

func (k *StoreKeys) Open(ctx context.Context, uri string, pin []byte) (*signer.Identity, error) {
	var firstErr error
	for _, s := range k.Stores {
		id, err := s.Open(ctx, uri, pin)
		if err == nil {
			return id, nil
		}
		if firstErr == nil || !isNotFound(err) {
			firstErr = err
		}
	}
	if firstErr == nil {
		firstErr = fmt.Errorf("no key store holds %s", uri)
	}
	return nil, firstErr
}

func isNotFound(err error) bool { return err != nil && (errorsIs(err, token.ErrNotFound)) }

func (k *StoreKeys) AddKeystore(path string) error {
	return fmt.Errorf("keystores are not supported here")
}

func (k *StoreKeys) Close() error {
	if k.Source != nil {
		return k.Source.Close()
	}
	return nil
}

// CoreKeys is the key layer of package signer/keys: configured and discovered PKCS#11 modules
// (watched for hot-plug) and software keystores.
type CoreKeys struct {
	mu     sync.Mutex
	cfg    *keys.Config
	src    token.Source
	stores map[string]*token.Store
}

// NewCoreKeys loads the key config and starts the token watcher. extraKeystores (e.g. the demo
// workspace's) are added for this run without being saved.
func NewCoreKeys(ctx context.Context, extraKeystores []string) (*CoreKeys, error) {
	cfg, err := keys.LoadConfig()
	if err != nil {
		return nil, err
	}
	for _, p := range extraKeystores {
		cfg.AddKeystore(p)
	}
	src, err := keys.Watch(ctx, cfg)
	if err != nil {
		return nil, err
	}
	return &CoreKeys{cfg: cfg, src: src, stores: map[string]*token.Store{}}, nil
}

func (k *CoreKeys) Events() <-chan signer.Event { return k.src.Events() }

func (k *CoreKeys) Identities(ctx context.Context) ([]*signer.Identity, error) {
	k.mu.Lock()
	cfg := *k.cfg
	k.mu.Unlock()
	var out []*signer.Identity
	for _, m := range cfg.AllModules() {
		st, err := k.store(m)
		if err != nil {
			continue // reported by the watcher as a module error
		}
		ids, err := st.Identities(ctx)
		if err == nil {
			out = append(out, ids...)
		}
	}
	for _, p := range cfg.Keystores {
		ids, err := softkey.New(p).Identities(ctx)
		if err != nil {
			continue // an unreadable keystore is left out; `sealctl keys list` says why
		}
		out = append(out, ids...)
	}
	return out, nil
}

func (k *CoreKeys) store(m token.Module) (*token.Store, error) {
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

func (k *CoreKeys) Open(ctx context.Context, uri string, pin []byte) (*signer.Identity, error) {
	k.mu.Lock()
	cfg := k.cfg
	k.mu.Unlock()
	return keys.OpenWith(ctx, cfg, uri, pin)
}

// AddKeystore adds the file to the saved key config.
func (k *CoreKeys) AddKeystore(path string) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.cfg.AddKeystore(path)
	if k.cfg.Path == "" {
		return nil
	}
	return k.cfg.Save()
}

func (k *CoreKeys) Close() error {
	k.mu.Lock()
	defer k.mu.Unlock()
	for _, s := range k.stores {
		s.Close()
	}
	return k.src.Close()
}

// KeyEntry is one identity in the key panel, with the token it lives on (nil for keystores).
type KeyEntry struct {
	Identity *signer.Identity
	Token    *signer.TokenInfo
}

// Title is the entry's line in the panel.
func (e KeyEntry) Title() string {
	if e.Token != nil {
		return Tf("keys.token", e.Token.Label) + " · " + e.Identity.Label
	}
	return Tf("keys.soft", e.Identity.Label)
}

// TokenOf returns the token (among toks) that an identity's pkcs11: URI names.
func TokenOf(id *signer.Identity, toks map[string]signer.TokenInfo) *signer.TokenInfo {
	u, err := token.ParseURI(id.URI)
	if err != nil {
		return nil
	}
	var keys []string
	for k := range toks {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		t := toks[k]
		if u.MatchesToken(t) && (u.ModulePath == "" || token.SamePath(u.ModulePath, t.Module) || u.ModulePath == t.Module) {
			return &t
		}
	}
	return nil
}

// KeyPanel lists the identities and follows the token watcher: inserted tokens' identities
// appear, removed ones go, and OnRemoved tells the app (which stops a signing on that token).
type KeyPanel struct {
	keys    Keys
	Box     *fyne.Container
	tokens  map[string]signer.TokenInfo
	entries []KeyEntry
	errors  map[string]string
	list    *widget.List
	// Selected is the chosen entry index (-1 none).
	Selected int
	// OnChange is called (on the UI goroutine) after the list changed.
	OnChange func(entries []KeyEntry)
	// OnRemoved is called (on the UI goroutine) when a token goes away.
	OnRemoved func(t signer.TokenInfo)
	// OnEvent is called for every event, e.g. for the status bar.
	OnEvent func(ev signer.Event)
	mu      sync.Mutex
	refresh chan struct{}
}

// NewKeyPanel builds the panel. Start begins following the key layer.
func NewKeyPanel(k Keys) *KeyPanel {
	p := &KeyPanel{keys: k, tokens: map[string]signer.TokenInfo{}, errors: map[string]string{}, Selected: -1,
		refresh: make(chan struct{}, 1)}
	p.list = widget.NewList(func() int { return len(p.entries) },
		func() fyne.CanvasObject {
			l := widget.NewLabel("")
			l.Truncation = fyne.TextTruncateEllipsis
			return l
		},
		func(i widget.ListItemID, o fyne.CanvasObject) {
			if i < len(p.entries) {
				e := p.entries[i]
				s := e.Title()
				if n := len(e.Identity.Seals); n > 0 {
					s += " (" + Tf("keys.seals", n) + ")"
				}
				if e.Token != nil && e.Token.PINLocked {
					s += " — " + T("keys.locked")
				}
				o.(*widget.Label).SetText(s)
			}
		})
	p.list.OnSelected = func(i widget.ListItemID) {
		p.Selected = i
		if p.OnChange != nil {
			p.OnChange(p.entries)
		}
	}
	p.Box = container.NewBorder(widget.NewLabelWithStyle(T("panel.keys"), fyne.TextAlignLeading, fyne.TextStyle{Bold: true}),
		nil, nil, nil, p.list)
	return p
}

// SetKeys sets the key layer (before Start) when it was not ready at construction.
func (p *KeyPanel) SetKeys(k Keys) { p.keys = k }

// Entries returns the listed identities.
func (p *KeyPanel) Entries() []KeyEntry { return p.entries }

// Current returns the selected entry, or the first one.
func (p *KeyPanel) Current() (KeyEntry, bool) {
	if len(p.entries) == 0 {
		return KeyEntry{}, false
	}
	if p.Selected >= 0 && p.Selected < len(p.entries) {
		return p.entries[p.Selected], true
	}
	return p.entries[0], true
}

// Start follows the key layer until ctx ends: one listing now, then one after every event.
func (p *KeyPanel) Start(ctx context.Context) {
	go p.relist(ctx)
	ev := p.keys.Events()
	if ev == nil {
		return
	}
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case e, ok := <-ev:
				if !ok {
					return
				}
				fyne.Do(func() { p.apply(e) })
				p.relist(ctx)
			}
		}
	}()
}

// Refresh re-reads the identities (after adding a keystore).
func (p *KeyPanel) Refresh(ctx context.Context) { go p.relist(ctx) }

func (p *KeyPanel) apply(e signer.Event) {
	k := e.Token.Key()
	switch e.Kind {
	case signer.TokenInserted, signer.TokenChanged:
		p.tokens[k] = e.Token
		delete(p.errors, e.Token.Module)
	case signer.TokenRemoved:
		delete(p.tokens, k)
	case signer.ModuleError:
		p.errors[e.Token.Module] = e.Err
	}
	if p.OnEvent != nil {
		p.OnEvent(e)
	}
	// After OnEvent, so that a stopped signing's message is what the status bar shows last.
	if e.Kind == signer.TokenRemoved && p.OnRemoved != nil {
		p.OnRemoved(e.Token)
	}
}

// relist reads identities off the UI goroutine and shows them.
func (p *KeyPanel) relist(ctx context.Context) {
	p.mu.Lock() // one listing at a time; module calls may be slow
	defer p.mu.Unlock()
	ids, _ := p.keys.Identities(ctx)
	fyne.DoAndWait(func() {
		var entries []KeyEntry
		for _, id := range ids {
			e := KeyEntry{Identity: id}
			if _, err := token.ParseURI(id.URI); err == nil {
				e.Token = TokenOf(id, p.tokens)
				if e.Token == nil {
					continue // its token is not (or no longer) present
				}
			}
			entries = append(entries, e)
		}
		sort.SliceStable(entries, func(i, j int) bool { return entries[i].Token != nil && entries[j].Token == nil })
		p.entries = entries
		if p.Selected >= len(entries) {
			p.Selected = -1
			p.list.UnselectAll()
		}
		p.list.Refresh()
		if p.OnChange != nil {
			p.OnChange(entries)
		}
	})
}
