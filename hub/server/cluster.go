package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"os"
	"sync/atomic"
	"time"

	"sealdesk/hub/store"
)

// Several sealhub instances may serve one database behind any load balancer. What an instance
// holds alone must not change an answer:
//
//   - Status answers are signed with the hub key, and clients pin one key per hub URL, so
//     every instance must hold the same key: Join refuses to serve with another key than the
//     one the database was first served with (hub_settings.status_key_id).
//   - Rate limits are token buckets in memory; each instance enforces its share (the limit
//     divided by the live instances, counted by their heartbeats), so the sum stays the
//     configured limit wherever the balancer sends a client.
//   - Nothing else is cached: credentials, seal statuses and records are read from the
//     database on every request, so a revocation is seen by every instance at once.
//   - A record is acknowledged only after its transaction commits (synchronously, see
//     hub/store), so an outbox may resend through any instance; the store's id claim makes
//     the resend a duplicate.
//
// /v1/health answers whether the process serves (liveness); /v1/ready whether it should get
// traffic: its database answers and accepts writes, and it is not draining.

// Heartbeat timing: an instance silent for instanceStale no longer counts for the shares.
const (
	heartbeatEvery   = 10 * time.Second
	instanceStale    = 35 * time.Second
	statusKeySetting = "status_key_id"
	readyTimeout     = 2 * time.Second
)

// clusterState is the part of a Hub that Join and the readiness check keep.
type clusterState struct {
	instance string
	live     atomic.Int64
	draining atomic.Bool
}

// ErrKeyMismatch means this instance's status key differs from the database's.
var ErrKeyMismatch = errors.New("status key mismatch")

// InstanceID is this instance's name in hub_instances (host, process, random suffix).
func (h *Hub) InstanceID() string { return h.cl.instance }

// Join makes the hub one of the instances serving its database (see above): it checks the
// status key, sends a first heartbeat and opens the signing log's partitions ahead; then,
// until ctx ends, it beats every 10 s, adjusts the rate-limit shares and re-opens partitions
// ahead daily. The returned leave function stops that and removes the instance.
func (h *Hub) Join(ctx context.Context) (leave func(), err error) {
	cl, ok := h.st.(store.Cluster)
	if !ok {
		return func() {}, nil
	}
	stored, err := cl.ClaimSetting(ctx, statusKeySetting, h.keyID)
	if err != nil {
		return nil, fmt.Errorf("sealhub: registering the status key: %w", err)
	}
	if stored != h.keyID {
		return nil, fmt.Errorf("%w: this database's status answers are signed with key %s, this instance holds key %s; give every instance the same --key file",
			ErrKeyMismatch, stored, h.keyID)
	}
	if err := h.beat(ctx, cl); err != nil {
		return nil, fmt.Errorf("sealhub: heartbeat: %w", err)
	}
	if p, ok := h.st.(store.Partitions); ok {
		if err := p.MaintainPartitions(ctx, h.now()); err != nil {
			return nil, fmt.Errorf("sealhub: opening signing-log partitions: %w", err)
		}
	}
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		tick := time.NewTicker(heartbeatEvery)
		defer tick.Stop()
		lastMaint := time.Now()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			// A failed beat (database away during a failover) keeps the last shares.
			_ = h.beat(ctx, cl)
			if p, ok := h.st.(store.Partitions); ok && time.Since(lastMaint) > 24*time.Hour {
				if p.MaintainPartitions(ctx, h.now()) == nil {
					lastMaint = time.Now()
				}
			}
		}
	}()
	return func() {
		cancel()
		<-done
		lctx, c := context.WithTimeout(context.Background(), 2*time.Second)
		defer c()
		cl.Leave(lctx, h.cl.instance)
	}, nil
}

func (h *Hub) beat(ctx context.Context, cl store.Cluster) error {
	ctx, cancel := context.WithTimeout(ctx, readyTimeout)
	defer cancel()
	keys, err := cl.Heartbeat(ctx, h.cl.instance, h.keyID, h.now(), instanceStale)
	if err != nil {
		return err
	}
	n := int64(max(len(keys), 1))
	if h.cl.live.Swap(n) != n {
		h.lim.setShare(n)
		h.failLim.setShare(n)
	}
	return nil
}

// LiveInstances is the number of instances the last heartbeat counted (1 before Join).
func (h *Hub) LiveInstances() int { return int(max(h.cl.live.Load(), 1)) }

// SetDraining makes /v1/ready answer 503 so a load balancer stops sending new requests
// before the instance shuts down.
func (h *Hub) SetDraining(d bool) { h.cl.draining.Store(d) }

// Ready reports whether the instance should receive traffic.
func (h *Hub) Ready(ctx context.Context) error {
	if h.cl.draining.Load() {
		return errors.New("draining: the instance is shutting down")
	}
	cl, ok := h.st.(store.Cluster)
	if !ok {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, readyTimeout)
	defer cancel()
	if err := cl.Ready(ctx); err != nil {
		return fmt.Errorf("database: %w", err)
	}
	return nil
}

// readyHandler is GET /v1/ready: 200 {"status":"ready"} or 503 {"status":"not_ready","reason":...}.
func (h *Hub) readyHandler(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		writeJSON(w, http.StatusMethodNotAllowed, map[string]any{"error": map[string]string{"code": "method_not_allowed", "message": r.Method + " is not allowed on /v1/ready"}})
		return
	}
	body := map[string]any{"instance": h.cl.instance, "keyId": h.keyID, "instances": h.LiveInstances()}
	if err := h.Ready(r.Context()); err != nil {
		body["status"], body["reason"] = "not_ready", err.Error()
		w.Header().Set("Retry-After", "2")
		writeJSON(w, http.StatusServiceUnavailable, body)
		return
	}
	body["status"] = "ready"
	writeJSON(w, http.StatusOK, body)
}

func newInstanceID() string {
	host, _ := os.Hostname()
	b := make([]byte, 4)
	rand.Read(b)
	return fmt.Sprintf("%s:%d:%s", host, os.Getpid(), hex.EncodeToString(b))
}

// setShare makes the limiter enforce its 1/n share of the configured rate and burst.
func (l *limiter) setShare(n int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.baseRate < 0 {
		return
	}
	l.rate = l.baseRate / float64(n)
	l.burst = max(1, l.baseBurst/float64(n))
}
