package registrar

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"time"

	"sealdesk/hub/api"
	"sealdesk/hub/registry"
	"sealdesk/hub/server"
	"sealdesk/hub/store"
)

// Queue is a provider's registrar: it implements server.Registrar and server.StatusFiler by
// writing each filing into the provider's store (registry_queue) and sending it from there.
type Queue struct {
	st       store.RegistryStore
	url      string
	provider string
	key      *ecdsa.PrivateKey
	// HTTP is the client used to reach the registry (default: 15 s timeout).
	HTTP *http.Client
	// MinBackoff and MaxBackoff bound the wait before a failed filing is sent again
	// (defaults 1 s and 5 min); Interval is how often Run looks for due filings (1 s).
	MinBackoff, MaxBackoff, Interval time.Duration
	Now                              func() time.Time
	kick                             chan struct{}
}

// NewQueue makes the queued registrar of provider id (its hub key signs the filings) for
// the registry at url.
func NewQueue(st store.Store, url, providerID string, key *ecdsa.PrivateKey) (*Queue, error) {
	rs, ok := st.(store.RegistryStore)
	if !ok || key == nil || url == "" || !api.ValidID(providerID) {
		return nil, errors.New("registry queue: a SQL store, the registry URL, a valid provider id and the hub key are required")
	}
	return &Queue{st: rs, url: url, provider: providerID, key: key, HTTP: &http.Client{Timeout: 15 * time.Second},
		MinBackoff: time.Second, MaxBackoff: 5 * time.Minute, Interval: time.Second, Now: time.Now, kick: make(chan struct{}, 1)}, nil
}

var (
	_ server.Registrar   = (*Queue)(nil)
	_ server.StatusFiler = (*Queue)(nil)
)

func (q *Queue) filing(m registry.FilingMsg) (store.QueuedFiling, error) {
	b, err := json.Marshal(m)
	if err != nil {
		return store.QueuedFiling{}, err
	}
	return store.QueuedFiling{ID: m.ID, Kind: m.Kind, ESID: m.ESID, Body: b, Created: q.Now().UTC()}, nil
}

func (q *Queue) enqueue(ctx context.Context, m registry.FilingMsg) error {
	f, err := q.filing(m)
	if err != nil {
		return err
	}
	if err := q.st.EnqueueFiling(ctx, f); err != nil {
		return err
	}
	q.Queued()
	return nil
}

// File implements server.Registrar: the seal is queued for the registry, and its filing
// number is the one the registry gives a seal filing (BA-ESID), so the approval does not
// wait for the registry. The filing id seal:ESID makes a retried approval file once.
func (q *Queue) File(ctx context.Context, f server.Filing) (string, error) {
	m := registry.FilingMsg{ID: "seal:" + f.ESID, Kind: "seal", ESID: f.ESID, Status: api.StatusFiled, At: q.Now().UTC(),
		OrgID: f.OrgID, OwnerUSCC: f.OwnerUSCC, Name: f.Name, Type: f.Type, Seal: f.Seal}
	if err := q.enqueue(ctx, m); err != nil {
		return "", fmt.Errorf("queueing the filing of seal %s: %w", f.ESID, err)
	}
	return "BA-" + f.ESID, nil
}

// StatusFiling implements server.StatusFiler: the filing the hub writes in the status
// change's own transaction.
func (q *Queue) StatusFiling(esID, status, reason string, at time.Time) (store.QueuedFiling, error) {
	at = at.UTC()
	return q.filing(registry.FilingMsg{ID: fmt.Sprintf("status:%s:%s:%d", esID, status, at.UnixMicro()), Kind: "status",
		ESID: esID, Status: status, Reason: reason, At: at})
}

// Queued implements server.StatusFiler: filings were committed, send them now.
func (q *Queue) Queued() {
	select {
	case q.kick <- struct{}{}:
	default:
	}
}

// Drain sends every due filing once (in batches) and answers how many were acknowledged.
// A failed batch is rescheduled with exponential backoff and its error returned.
func (q *Queue) Drain(ctx context.Context) (int, error) {
	sent := 0
	for {
		due, err := q.st.DueFilings(ctx, q.Now().UTC(), 100)
		if err != nil || len(due) == 0 {
			return sent, err
		}
		ans, err := q.send(ctx, due)
		if err != nil {
			for _, f := range due {
				back := q.MinBackoff << min(f.Attempts, 20)
				if back > q.MaxBackoff || back < 0 {
					back = q.MaxBackoff
				}
				if rerr := q.st.RetryFiling(ctx, f.ID, q.Now().UTC().Add(back), err.Error()); rerr != nil {
					return sent, rerr
				}
			}
			return sent, err
		}
		now := q.Now().UTC()
		for _, r := range ans.Results {
			if err := q.st.AckFiling(ctx, r.ID, r.Number, now); err != nil {
				return sent, err
			}
			sent++
		}
	}
}

func (q *Queue) send(ctx context.Context, due []store.QueuedFiling) (*registry.FilingAnswer, error) {
	req := registry.FilingRequest{Filings: make([]registry.FilingMsg, 0, len(due))}
	for _, f := range due {
		var m registry.FilingMsg
		if err := json.Unmarshal(f.Body, &m); err != nil {
			return nil, fmt.Errorf("queued filing %s: %w", f.ID, err)
		}
		req.Filings = append(req.Filings, m)
	}
	body, err := json.Marshal(req)
	if err != nil {
		return nil, err
	}
	sig, err := api.SignContext(q.key, registry.FilingContext, body)
	if err != nil {
		return nil, err
	}
	hr, err := http.NewRequestWithContext(ctx, http.MethodPost, q.url+registry.PathFilings, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	hr.Header.Set("Content-Type", "application/json")
	hr.Header.Set(registry.HeaderProvider, q.provider)
	hr.Header.Set(registry.HeaderSignature, base64.StdEncoding.EncodeToString(sig))
	resp, err := q.HTTP.Do(hr)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	rb, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		var er api.ErrorResponse
		if json.Unmarshal(rb, &er) == nil && er.Error.Code != "" {
			return nil, &api.Error{HTTPStatus: resp.StatusCode, ErrorBody: er.Error}
		}
		return nil, fmt.Errorf("registry answered %s", resp.Status)
	}
	var ans registry.FilingAnswer
	if err := json.Unmarshal(rb, &ans); err != nil {
		return nil, fmt.Errorf("registry answer: %w", err)
	}
	if len(ans.Results) != len(req.Filings) {
		return nil, fmt.Errorf("registry acknowledged %d of %d filings", len(ans.Results), len(req.Filings))
	}
	return &ans, nil
}

// Pending and Acked count the queue.
func (q *Queue) Counts(ctx context.Context) (pending, acked int, err error) {
	return q.st.QueueCounts(ctx)
}

// Run drains the queue until ctx ends: at every Interval and whenever a filing is queued.
func (q *Queue) Run(ctx context.Context) {
	t := time.NewTicker(q.Interval)
	defer t.Stop()
	var lastErr string
	for {
		if _, err := q.Drain(ctx); err != nil && ctx.Err() == nil && err.Error() != lastErr {
			lastErr = err.Error()
			log.Printf("sealhub: filing with the registry %s: %v (will retry)", q.url, err)
		} else if err == nil {
			lastErr = ""
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-q.kick:
		}
	}
}
