package cli

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sealdesk/hub/api"
	"sealdesk/hub/hubtest"
	"sealdesk/hub/outbox"
	"sealdesk/hub/server"
)

// TestSyncShowsRefusedRecords: `sealctl sync` lists each record the hub refused with the hub's
// reason — held (a seal not filed yet: sent again later) or rejected for good (malformed) —
// exits 1 while any is refused, and --retry-rejected sends them again at once (issue 12).
func TestSyncShowsRefusedRecords(t *testing.T) {
	env := hubtest.Start(t, "sqlite", server.Options{})
	dir := t.TempDir()
	obPath := filepath.Join(dir, "outbox.db")
	ob, err := outbox.Open(obPath, outbox.Options{})
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(env.A.Signer.Cert.Raw)
	cert := hex.EncodeToString(sum[:])
	add := func(name string, rec api.Record) string {
		out := filepath.Join(dir, name)
		r, err := ob.Record(context.Background(), rec, out, func() error { return os.WriteFile(out, []byte(name), 0o644) })
		if err != nil {
			t.Fatal(err)
		}
		return r.ID
	}
	late := "11010008888888"
	bad := add("bad.pdf", api.Record{SealID: env.A.SealID, SignerCertSHA256: cert, Pages: []int{0}})
	held := add("late.pdf", api.Record{SealID: late, SignerCertSHA256: cert})
	ob.Close()
	tokenFile := filepath.Join(dir, "token")
	os.WriteFile(tokenFile, []byte(env.A.Token+"\n"), 0o600)
	t.Setenv("SEALDESK_HUB", "")
	t.Setenv("SEALDESK_HUB_TOKEN", "")
	sync := func(extra ...string) (int, string, string) {
		return hubRun(t, "sealctl", append([]string{"sync", "--hub", env.URL, "--token-file", tokenFile, "--outbox", obPath}, extra...)...)
	}
	code, stdout, stderr := sync()
	if code != ExitNo || !strings.Contains(stderr, "1 held") || !strings.Contains(stderr, "1 rejected for good") {
		t.Fatalf("sync: exit %d, stderr %q", code, stderr)
	}
	for _, want := range []string{
		"rejected record " + bad + " (bad.pdf, seal " + env.A.SealID + "): invalid_field: record " + bad + ": page 0 out of range",
		"held record " + held + " (late.pdf, seal " + late + ", next try ",
		"seal_not_filed: record " + held,
	} {
		if !strings.Contains(stdout, want) {
			t.Fatalf("sync output lacks %q:\n%s", want, stdout)
		}
	}
	// The seal is filed; --retry-rejected sends both again now: the held one lands, the
	// malformed one is refused again, with its reason in the JSON.
	if _, e := env.Hub.FileSeal(context.Background(), server.Admin, hubtest.SealRequest(env.A.ID, late, env.A.USCC, env.A.Signer)); e != nil {
		t.Fatal(e)
	}
	code, stdout, _ = sync("--retry-rejected", "--json")
	var rep SyncReport
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		t.Fatal(err)
	}
	if code != ExitNo || rep.Requeued != 2 || rep.Result.Sent != 1 || rep.Result.Rejected != 1 || rep.Counts[outbox.StateSent] != 1 ||
		len(rep.Refused) != 1 || rep.Refused[0].Record.ID != bad || !strings.Contains(rep.Refused[0].LastError, "page 0 out of range") {
		t.Fatalf("sync --retry-rejected: exit %d %+v", code, rep)
	}
}
