package token

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"sealdesk/signer"
)

// Lister is what a Watcher polls: one module's tokens. *Store and *Fake implement it.
type Lister interface {
	// Name identifies the module (its path); it is TokenInfo.Module of the tokens listed.
	Name() string
	// Tokens lists the tokens present now. It may block; the watcher gives up waiting after
	// WatchOptions.Timeout and does not call again until the call has returned.
	Tokens(ctx context.Context) ([]signer.TokenInfo, error)
}

// Source is a stream of token events: what the UI subscribes to. *Watcher implements it.
type Source interface {
	// Events delivers events; it is closed after Close or when the watcher's context ends.
	Events() <-chan signer.Event
	Close() error
}

// WatchOptions tune a Watcher. Zero values take the defaults.
type WatchOptions struct {
	// Interval between polls of one module (default 300 ms; events arrive within about
	// one interval plus the module's answer time).
	Interval time.Duration
	// Timeout after which a module call counts as hung (default 3 s).
	Timeout time.Duration
}

// Watcher polls modules and reports token events. One goroutine per module.
type Watcher struct {
	events chan signer.Event
	cancel context.CancelFunc
	wg     sync.WaitGroup
	once   sync.Once
}

// NewWatcher starts polling listers until ctx ends or Close is called.
func NewWatcher(ctx context.Context, listers []Lister, opts WatchOptions) *Watcher {
	if opts.Interval <= 0 {
		opts.Interval = 300 * time.Millisecond
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 3 * time.Second
	}
	ctx, cancel := context.WithCancel(ctx)
	w := &Watcher{events: make(chan signer.Event, 64), cancel: cancel}
	for _, l := range listers {
		w.wg.Add(1)
		go func() {
			defer w.wg.Done()
			w.poll(ctx, l, opts)
		}()
	}
	go func() {
		w.wg.Wait()
		close(w.events)
	}()
	return w
}

// Events implements Source.
func (w *Watcher) Events() <-chan signer.Event { return w.events }

// Close stops the watcher; Events is closed once every poller has stopped (a poller stuck
// in a hung module call is abandoned, not waited for).
func (w *Watcher) Close() error {
	w.once.Do(w.cancel)
	return nil
}

type pollResult struct {
	tokens []signer.TokenInfo
	err    error
}

func (w *Watcher) poll(ctx context.Context, l Lister, opts WatchOptions) {
	known := map[string]signer.TokenInfo{}
	send := func(e signer.Event) bool {
		select {
		case w.events <- e:
			return true
		case <-ctx.Done():
			return false
		}
	}
	lastErr := ""
	res := make(chan pollResult, 1)
	for {
		// One call in flight per module: a hung module gets no second call stacked on it.
		go func() {
			toks, err := l.Tokens(ctx)
			res <- pollResult{toks, err}
		}()
		timer := time.NewTimer(opts.Timeout)
		var r pollResult
		select {
		case <-ctx.Done():
			timer.Stop()
			return
		case r = <-res:
			timer.Stop()
		case <-timer.C:
			msg := fmt.Sprintf("module %s did not answer within %v", l.Name(), opts.Timeout)
			if msg != lastErr {
				if !send(signer.Event{Kind: signer.ModuleError, Token: signer.TokenInfo{Module: l.Name()}, Err: msg}) {
					return
				}
				lastErr = msg
			}
			select {
			case <-ctx.Done():
				return
			case r = <-res:
			}
		}
		if ctx.Err() != nil {
			return
		}
		if r.err != nil {
			msg := r.err.Error()
			if !strings.Contains(msg, l.Name()) {
				msg = fmt.Sprintf("module %s: %s", l.Name(), msg)
			}
			if msg != lastErr {
				if !send(signer.Event{Kind: signer.ModuleError, Token: signer.TokenInfo{Module: l.Name()}, Err: msg}) {
					return
				}
				lastErr = msg
			}
			// A module that fails cannot serve its tokens: report them gone; they come back
			// as inserted when the module answers again.
			r.tokens = nil
		} else {
			lastErr = ""
		}
		for _, e := range diff(known, r.tokens) {
			if !send(e) {
				return
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(opts.Interval):
		}
	}
}

// diff updates known to now and returns the events that lead there.
func diff(known map[string]signer.TokenInfo, now []signer.TokenInfo) []signer.Event {
	var evs []signer.Event
	seen := map[string]bool{}
	for _, t := range now {
		k := t.Key()
		seen[k] = true
		old, ok := known[k]
		switch {
		case !ok:
			evs = append(evs, signer.Event{Kind: signer.TokenInserted, Token: t})
		case old != t:
			evs = append(evs, signer.Event{Kind: signer.TokenChanged, Token: t})
		}
		known[k] = t
	}
	for k, t := range known {
		if !seen[k] {
			evs = append(evs, signer.Event{Kind: signer.TokenRemoved, Token: t})
			delete(known, k)
		}
	}
	return evs
}
