package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"sealdesk/document"
	"sealdesk/hub/outbox"
	"sealdesk/hub/server"
	"sealdesk/hub/store"
	"sealdesk/internal/demo"
)

func hubRun(t *testing.T, program string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := Main(program, args, strings.NewReader(""), &out, &errb)
	return code, out.String(), errb.String()
}

// demoHub is the hub of the demo workspace in dir, as `sealhub serve --demo DIR` runs it (its
// store, key and seeded seals), for a test to serve.
func demoHub(t *testing.T, dir string) *server.Hub {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, "sqlite:"+filepath.Join(dir, "hub.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	key, err := server.LoadOrCreateKey(filepath.Join(dir, "hub-key.pem"))
	if err != nil {
		t.Fatal(err)
	}
	h, err := server.New(server.Options{Store: st, Key: key, ParseSeal: server.SESParser, VerifyBlob: server.SESVerifier})
	if err != nil {
		t.Fatal(err)
	}
	if err := demo.SeedHub(ctx, dir, h); err != nil {
		t.Fatal(err)
	}
	return h
}

// TestHubRevocationEndToEnd: the demo workspace's hub, a signature while the seal is active,
// revocation with `sealhub seal revoke`, `sealctl sync`; then signing with the seal is refused,
// and `sealctl verify --hub` fails (registry "failed") a document signed after the revocation
// (signed standalone, without the hub) while the one signed before keeps registry "ok".
func TestHubRevocationEndToEnd(t *testing.T) {
	dir := t.TempDir()
	if code, _, stderr := hubRun(t, "sealctl", "demo", "init", "--dir", dir); code != 0 {
		t.Fatalf("demo init: %d %s", code, stderr)
	}
	db := "sqlite:" + filepath.Join(dir, "hub.db")
	h := demoHub(t, dir)
	// down simulates an outage of the same hub (it answers 503, as a failing proxy would).
	var down atomic.Bool
	handler := h.Handler()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if down.Load() {
			http.Error(w, "hub down (test)", http.StatusServiceUnavailable)
			return
		}
		handler.ServeHTTP(w, r)
	}))
	defer srv.Close()
	pin, _ := os.ReadFile(filepath.Join(dir, "pin.txt"))
	t.Setenv("SEALDESK_PIN", strings.TrimSpace(string(pin)))
	t.Setenv("SEALDESK_HUB", srv.URL)
	t.Setenv("SEALDESK_HUB_TOKEN_FILE", filepath.Join(dir, "hub-token.txt"))
	t.Setenv("SEALDESK_OUTBOX", filepath.Join(dir, "outbox.db"))
	t.Setenv("SOFTHSM2_CONF", filepath.Join(dir, "softhsm2.conf"))
	in := filepath.Join(dir, "sample.ofd")
	page := "1"
	sign := func(out string) (int, string) {
		code, _, stderr := hubRun(t, "sealctl", "sign", "--in", in, "--out", filepath.Join(dir, out), "--key", "file:"+filepath.Join(dir, "keys", "signer-sm2.pem"),
			"--seal", filepath.Join(dir, "seal.esl"), "--page", page, "--at", "100,100")
		return code, stderr
	}
	page = "2"
	if code, stderr := sign("before.ofd"); code != 0 {
		t.Fatalf("signing with the active seal: %d %s", code, stderr)
	}
	page = "1"
	// The signing record names the stamped page (issue 12, defect 6: it said "pages": []).
	ob, err := outbox.Open(filepath.Join(dir, "outbox.db"), outbox.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ents, err := ob.Entries("")
	ob.Close()
	if err != nil || len(ents) != 1 || !slices.Equal(ents[0].Record.Pages, []int{2}) {
		t.Fatalf("outbox record after signing page 2: %+v %v", ents, err)
	}
	code, stdout, stderr := hubRun(t, "sealhub", "seal", "list", "--db", db, "--json")
	if code != 0 {
		t.Fatalf("seal list: %d %s", code, stderr)
	}
	var list struct {
		Seals []struct {
			ESID          string `json:"esId"`
			ApplicationID string `json:"applicationId"`
		} `json:"seals"`
	}
	if err := json.Unmarshal([]byte(stdout), &list); err != nil {
		t.Fatal(err)
	}
	// seal.esl's seal, filed directly (the other came through an application, issue 13).
	list.Seals = slices.DeleteFunc(list.Seals, func(s struct {
		ESID          string `json:"esId"`
		ApplicationID string `json:"applicationId"`
	}) bool {
		return s.ApplicationID != ""
	})
	if code != 0 || len(list.Seals) != 1 {
		t.Fatalf("seal list: %d %s %s", code, stdout, stderr)
	}
	sealID := list.Seals[0].ESID
	// Signing times carry whole seconds; a revocation in the same second would not be
	// provably later (see api.StatusAt).
	time.Sleep(1100 * time.Millisecond)
	if code, _, stderr := hubRun(t, "sealhub", "seal", "revoke", sealID, "--reason", "key compromise", "--db", db); code != 0 {
		t.Fatalf("revoke: %s", stderr)
	}
	code, stdout, stderr = hubRun(t, "sealctl", "sync", "--json")
	var rep SyncReport
	if code != 0 || json.Unmarshal([]byte(stdout), &rep) != nil || rep.Result.Changed != 1 {
		t.Fatalf("sync: %d %s %s", code, stdout, stderr)
	}
	code, stderr = sign("after.ofd")
	if code != ExitNo || !strings.Contains(stderr, "revoked") || !strings.Contains(stderr, "key compromise") {
		t.Fatalf("signing with the revoked seal: exit %d, %q", code, stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "after.ofd")); err == nil {
		t.Fatal("a refused signing wrote its output")
	}
	// Offline too: the cached, hub-signed answer says revoked.
	down.Store(true)
	if code, stderr := sign("after.ofd"); code != ExitNo || !strings.Contains(stderr, "revoked") {
		t.Fatalf("signing offline with the revoked seal: exit %d, %q", code, stderr)
	}
	down.Store(false)
	// Without a hub configured, the same installation still refuses: its outbox has the
	// hub-signed "revoked" answer (issue 12, defect 1: this used to sign).
	t.Setenv("SEALDESK_HUB", "")
	if code, stderr := sign("rogue.ofd"); code != ExitNo || !strings.Contains(stderr, "revoked") {
		t.Fatalf("standalone signing with a seal cached as revoked: exit %d, %q", code, stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "rogue.ofd")); err == nil {
		t.Fatal("a refused standalone signing wrote its output")
	}
	// Another installation that never asked the hub can still sign standalone; the
	// registry exposes it.
	t.Setenv("SEALDESK_OUTBOX", filepath.Join(dir, "other-outbox.db"))
	if code, stderr := sign("rogue.ofd"); code != 0 {
		t.Fatalf("standalone signing: %d %s", code, stderr)
	}
	t.Setenv("SEALDESK_OUTBOX", filepath.Join(dir, "outbox.db"))
	verify := func(file string) document.SignatureReport {
		_, stdout, stderr := hubRun(t, "sealctl", "verify", filepath.Join(dir, file), "--json", "--trust", filepath.Join(dir, "root.pem"), "--hub", srv.URL)
		var r document.VerifyReport
		if err := json.Unmarshal([]byte(stdout), &r); err != nil || len(r.Signatures) != 1 {
			t.Fatalf("verify %s: %v %s %s", file, err, stdout, stderr)
		}
		return r.Signatures[0]
	}
	if s := verify("before.ofd"); s.Registry != document.OK {
		t.Fatalf("signed before the revocation: registry %q %+v", s.Registry, s.Problems)
	}
	s := verify("rogue.ofd")
	if s.Registry != document.Failed || s.Valid {
		t.Fatalf("signed after the revocation: registry %q valid %v %+v", s.Registry, s.Valid, s.Problems)
	}
	found := false
	for _, p := range s.Problems {
		found = found || p.Code == "registry.seal-revoked"
	}
	if !found {
		t.Fatalf("no registry-seal_revoked problem: %+v", s.Problems)
	}
}
