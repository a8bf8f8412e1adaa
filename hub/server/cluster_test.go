package server_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"sealdesk/hub/hubtest"
	"sealdesk/hub/server"
)

// TestSeveralInstances runs two hubs on one store of each kind: a second instance with
// another status key is refused; one with the same key joins, both count two live instances
// (each then enforces half the rate limit), and readiness turns 503 while one drains.
func TestSeveralInstances(t *testing.T) {
	for _, kind := range hubtest.Kinds {
		t.Run(kind, func(t *testing.T) {
			ctx := context.Background()
			env := hubtest.Start(t, kind, server.Options{Rate: 10, Burst: 10})
			leaveA, err := env.Hub.Join(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer leaveA()

			other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
			stranger, err := server.New(server.Options{Store: env.Store, Key: other})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := stranger.Join(ctx); !errors.Is(err, server.ErrKeyMismatch) {
				t.Fatalf("an instance with another status key joined: %v", err)
			}

			b, err := server.New(server.Options{Store: env.Store, Key: env.Key, Rate: 10, Burst: 10})
			if err != nil {
				t.Fatal(err)
			}
			leaveB, err := b.Join(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer leaveB()
			if b.LiveInstances() != 2 {
				t.Fatalf("instance B counts %d live instances, want 2", b.LiveInstances())
			}
			srvB := httptest.NewServer(b.Handler())
			defer srvB.Close()

			// B's share of the limit (10/s, burst 10) is a burst of 5.
			limited := 0
			for i := 0; i < 8; i++ {
				if s, _ := do(t, &hubtest.Env{URL: srvB.URL}, "GET", "/v1/whoami", env.A.Token, nil); s == http.StatusTooManyRequests {
					limited++
				}
			}
			if limited < 2 {
				t.Fatalf("instance B let %d of 8 immediate requests through; its share of the burst is 5", 8-limited)
			}

			ready := func(url string) (int, map[string]any) {
				s, body := do(t, &hubtest.Env{URL: url}, "GET", "/v1/ready", "", nil)
				var m map[string]any
				json.Unmarshal(body, &m)
				return s, m
			}
			if s, m := ready(srvB.URL); s != 200 || m["status"] != "ready" || m["keyId"] != env.Hub.HubKey().KeyID {
				t.Fatalf("/v1/ready of B: %d %v", s, m)
			}
			b.SetDraining(true)
			if s, m := ready(srvB.URL); s != 503 || m["status"] != "not_ready" {
				t.Fatalf("/v1/ready of a draining B: %d %v", s, m)
			}
			if s, _ := ready(env.URL); s != 200 {
				t.Fatalf("/v1/ready of A while B drains: %d", s)
			}
		})
	}
}
