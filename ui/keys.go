package ui

import (
	"context"
	"sort"
	"sync"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/widget"

	"sealdesk/signer"
	"sealdesk/signer/keys"
	"sealdesk/signer/skf"
	"sealdesk/signer/token"
)

// Keys is the key layer (signer/keys): keys.Live in the app, keys.Stores over a token.Fake in
// tests.
type Keys = keys.Layer

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

// TokenOf returns the token (among toks) that an identity's pkcs11: or skf: URI names.
func TokenOf(id *signer.Identity, toks map[string]signer.TokenInfo) *signer.TokenInfo {
	var matches func(t signer.TokenInfo) bool
	if su, err := skf.ParseURI(id.URI); err == nil {
		matches = su.MatchesToken
	} else if u, err := token.ParseURI(id.URI); err == nil {
		matches = func(t signer.TokenInfo) bool {
			return u.MatchesToken(t) && (u.ModulePath == "" || token.SamePath(u.ModulePath, t.Module) || u.ModulePath == t.Module)
		}
	} else {
		return nil
	}
	var keys []string
	for k := range toks {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if t := toks[k]; matches(t) {
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
			if _, err := token.ParseURI(id.URI); err == nil || skf.IsURI(id.URI) {
				e.Token = TokenOf(id, p.tokens)
				if e.Token == nil {
					continue // its token is not (or no longer) present
				}
			}
			entries = append(entries, e)
		}
		sort.SliceStable(entries, func(i, j int) bool { return entries[i].Token != nil && entries[j].Token == nil })
		// The chosen identity stays chosen when the listing changes order (a token inserted
		// lists first): an index alone pointed at another key, and signing used it.
		chosen := ""
		if p.Selected >= 0 && p.Selected < len(p.entries) {
			chosen = p.entries[p.Selected].Identity.URI
		}
		p.entries = entries
		p.Selected = -1
		for i, e := range entries {
			if chosen != "" && e.Identity.URI == chosen {
				p.Selected = i
			}
		}
		if p.Selected >= 0 {
			p.list.Select(p.Selected)
		} else {
			p.list.UnselectAll()
		}
		p.list.Refresh()
		if p.OnChange != nil {
			p.OnChange(entries)
		}
	})
}
