package outbox_test

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"sealdesk/document"
	"sealdesk/hub/api"
	"sealdesk/hub/client"
	"sealdesk/hub/hubtest"
	"sealdesk/hub/outbox"
	"sealdesk/hub/server"
)

// The crash test re-executes this test binary as the signing process.
func TestMain(m *testing.M) {
	if mode := os.Getenv("OUTBOX_CRASH_CHILD"); mode != "" {
		crashChild(mode)
		return
	}
	os.Exit(m.Run())
}

// crashChild begins a record, writes the "signed" file atomically (unless mode is
// "before-write"), tells the parent, and waits to be killed without committing.
func crashChild(mode string) {
	ob, err := outbox.Open(os.Getenv("OUTBOX_PATH"), outbox.Options{Client: "crash-child"})
	if err != nil {
		fmt.Println("error", err)
		os.Exit(3)
	}
	out := os.Getenv("OUTBOX_OUT")
	p, err := ob.Begin(api.Record{ID: os.Getenv("OUTBOX_ID"), SealID: os.Getenv("OUTBOX_SEAL"),
		SignerCertSHA256: os.Getenv("OUTBOX_CERT"), Pages: []int{1}}, out)
	if err != nil {
		fmt.Println("error", err)
		os.Exit(3)
	}
	_ = p
	if mode == "after-write" {
		err := document.WriteFileAtomic(out, func(w io.Writer) error {
			_, err := io.WriteString(w, "%PDF-1.7 signed by the crash child\n")
			return err
		})
		if err != nil {
			fmt.Println("error", err)
			os.Exit(3)
		}
	}
	fmt.Println("ready")
	time.Sleep(time.Minute) // the parent kills us here, between the write and Commit
	os.Exit(4)
}

func certHash(der []byte) string {
	h := sha256.Sum256(der)
	return hex.EncodeToString(h[:])
}

// runAndKill starts the child and SIGKILLs it once it says it reached the point of mode.
func runAndKill(t *testing.T, mode string, env ...string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), append(env, "OUTBOX_CRASH_CHILD="+mode)...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil || line != "ready\n" {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("child: %q %v", line, err)
	}
	if err := cmd.Process.Kill(); err != nil { // SIGKILL on Unix: no deferred code, no Commit
		t.Fatal(err)
	}
	err = cmd.Wait()
	if ee, ok := err.(*exec.ExitError); !ok || ee.Success() {
		t.Fatalf("child was not killed: %v", err)
	}
}

func TestCrashBetweenWriteAndCommitLosesNoRecord(t *testing.T) {
	env := hubtest.Start(t, "sqlite", server.Options{})
	dir := t.TempDir()
	obPath := filepath.Join(dir, "outbox.db")
	out := filepath.Join(dir, "signed.pdf")
	common := []string{"OUTBOX_PATH=" + obPath, "OUTBOX_SEAL=" + env.A.SealID, "OUTBOX_CERT=" + certHash(env.A.Signer.Cert.Raw)}
	runAndKill(t, "after-write", append(common, "OUTBOX_OUT="+out, "OUTBOX_ID=crash-1")...)
	// A second signing killed before its file was written must not produce a record.
	runAndKill(t, "before-write", append(common, "OUTBOX_OUT="+filepath.Join(dir, "never.pdf"), "OUTBOX_ID=crash-2")...)

	ob, err := outbox.Open(obPath, outbox.Options{}) // restart: Open recovers
	if err != nil {
		t.Fatal(err)
	}
	defer ob.Close()
	counts, _ := ob.Counts()
	if counts[outbox.StateReady] != 1 || counts[outbox.StateAbandoned] != 1 || counts[outbox.StatePending] != 0 {
		t.Fatalf("after recovery: %v", counts)
	}
	c, _ := client.New(env.URL, client.Options{Token: env.A.Token})
	res, err := ob.Sync(context.Background(), c)
	if err != nil {
		t.Fatal(err)
	}
	if res.Sent != 1 || res.Remaining != 0 {
		t.Fatalf("sync: %+v", res)
	}
	res, err = ob.Sync(context.Background(), c)
	if err != nil || res.Sent != 0 || res.Duplicates != 0 {
		t.Fatalf("second sync sent again: %+v %v", res, err)
	}
	page, err := c.Records(context.Background(), "", "", 0)
	if err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(out)
	d := sha256.Sum256(data)
	if len(page.Records) != 1 || page.Records[0].ID != "crash-1" || page.Records[0].DocDigest != hex.EncodeToString(d[:]) ||
		page.Records[0].DocName != "signed.pdf" || page.Records[0].Client != "crash-child" {
		t.Fatalf("hub holds %+v", page.Records)
	}
}

// dropFirstAnswers forwards requests but loses the answer of the first n pushes, as when the
// connection breaks after the hub committed.
type dropFirstAnswers struct {
	n    atomic.Int32
	next http.RoundTripper
}

func (d *dropFirstAnswers) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := d.next.RoundTrip(r)
	if err == nil && r.Method == "POST" && r.URL.Path == "/v1/records" && d.n.Add(-1) >= 0 {
		resp.Body.Close()
		return nil, errors.New("connection reset (test)")
	}
	return resp, err
}

func TestLostAnswerIsSentOnceAndRetried(t *testing.T) {
	for _, kind := range hubtest.Kinds {
		t.Run(kind, func(t *testing.T) {
			env := hubtest.Start(t, kind, server.Options{})
			dir := t.TempDir()
			ob, err := outbox.Open(filepath.Join(dir, "outbox.db"), outbox.Options{Client: "t"})
			if err != nil {
				t.Fatal(err)
			}
			defer ob.Close()
			for i := 0; i < 3; i++ {
				out := filepath.Join(dir, fmt.Sprintf("doc%d.pdf", i))
				_, err := ob.Record(context.Background(), api.Record{SealID: env.A.SealID, SignerCertSHA256: certHash(env.A.Signer.Cert.Raw), Pages: []int{1}},
					out, func() error { return os.WriteFile(out, []byte(fmt.Sprint("signed ", i)), 0o644) })
				if err != nil {
					t.Fatal(err)
				}
			}
			// A signing that fails leaves no record to send.
			if _, err := ob.Record(context.Background(), api.Record{SealID: env.A.SealID}, filepath.Join(dir, "failed.pdf"),
				func() error { return errors.New("PIN rejected") }); err == nil {
				t.Fatal("a failed write was recorded as success")
			}
			drop := &dropFirstAnswers{next: http.DefaultTransport}
			drop.n.Store(2)
			c, _ := client.New(env.URL, client.Options{Token: env.A.Token, HTTP: &http.Client{Transport: drop}})
			res, err := ob.SyncRetry(context.Background(), c, 5)
			if err != nil {
				t.Fatal(err)
			}
			// The first two pushes reached the hub but their answers were lost: the third
			// finds every record there already.
			if res.Sent != 0 || res.Duplicates != 3 || res.Remaining != 0 {
				t.Fatalf("retried sync: %+v", res)
			}
			page, err := c.Records(context.Background(), "", "", 0)
			if err != nil || len(page.Records) != 3 {
				t.Fatalf("hub holds %d records (%v), want each once", len(page.Records), err)
			}
			counts, _ := ob.Counts()
			if counts[outbox.StateSent] != 3 || counts[outbox.StateAbandoned] != 1 {
				t.Fatalf("outbox: %v", counts)
			}
		})
	}
}

func TestRevocationRefusesSigning(t *testing.T) {
	for _, kind := range hubtest.Kinds {
		t.Run(kind, func(t *testing.T) {
			env := hubtest.Start(t, kind, server.Options{})
			ctx := context.Background()
			ob, err := outbox.Open(filepath.Join(t.TempDir(), "outbox.db"), outbox.Options{})
			if err != nil {
				t.Fatal(err)
			}
			defer ob.Close()
			c, _ := client.New(env.URL, client.Options{Token: env.A.Token})
			online := outbox.Policy{Hub: c}
			offline := outbox.Policy{}
			if err := ob.CheckSealUsable(ctx, env.A.SealID, online); err != nil {
				t.Fatalf("active seal refused: %v", err)
			}
			if err := ob.CheckSealUsable(ctx, env.A.SealID, offline); err != nil {
				t.Fatalf("fresh cache refused offline: %v", err)
			}
			var se *outbox.SealError
			if err := ob.CheckSealUsable(ctx, env.B.SealID, offline); !errors.As(err, &se) || se.Code != "status_unknown" {
				t.Fatalf("never-seen seal offline: %v", err)
			}
			if err := ob.CheckSealUsable(ctx, "12345678901234", online); !errors.As(err, &se) || se.Code != "seal_not_filed" {
				t.Fatalf("unfiled seal: %v", err)
			}

			if _, e := env.Hub.SetStatus(ctx, server.Admin, env.A.SealID, api.StatusChange{Status: api.StatusRevoked, Reason: "key compromise"}); e != nil {
				t.Fatal(e)
			}
			// Before a sync the offline cache still says active; after it, signing is refused
			// online and offline, and with a clear message.
			res, err := ob.Sync(ctx, c)
			if err != nil {
				t.Fatal(err)
			}
			if res.Changed != 1 {
				t.Fatalf("sync saw %d status changes, want 1: %+v", res.Changed, res)
			}
			for name, pol := range map[string]outbox.Policy{"offline": offline, "online": online} {
				err := ob.CheckSealUsable(ctx, env.A.SealID, pol)
				if !errors.As(err, &se) || se.Code != "seal_revoked" || se.Reason != "key compromise" || !errors.Is(err, outbox.ErrSealNotUsable) {
					t.Fatalf("%s: revoked seal: %v", name, err)
				}
				t.Logf("%s: %v", name, err)
			}
			// A revocation never goes stale: even with a tiny MaxAge the answer is "revoked".
			if err := ob.CheckSealUsable(ctx, env.A.SealID, outbox.Policy{MaxAge: time.Nanosecond}); !errors.As(err, &se) || se.Code != "seal_revoked" {
				t.Fatalf("old revocation: %v", err)
			}

			// Suspension is refused too, and lifting it allows signing again.
			if _, e := env.Hub.SetStatus(ctx, server.Admin, env.B.SealID, api.StatusChange{Status: api.StatusSuspended, Reason: "inquiry"}); e != nil {
				t.Fatal(e)
			}
			cb, _ := client.New(env.URL, client.Options{Token: env.B.Token})
			if err := ob.CheckSealUsable(ctx, env.B.SealID, outbox.Policy{Hub: cb}); !errors.As(err, &se) || se.Code != "seal_suspended" {
				t.Fatalf("suspended: %v", err)
			}
			if _, e := env.Hub.SetStatus(ctx, server.Admin, env.B.SealID, api.StatusChange{Status: api.StatusActive, Reason: "cleared"}); e != nil {
				t.Fatal(e)
			}
			if err := ob.CheckSealUsable(ctx, env.B.SealID, outbox.Policy{Hub: cb}); err != nil {
				t.Fatalf("reactivated: %v", err)
			}

			// Offline with an unreachable hub: a fresh cached "active" allows, a stale one refuses.
			down, _ := client.New("http://127.0.0.1:1", client.Options{Token: "x", Timeout: time.Second})
			if err := ob.CheckSealUsable(ctx, env.B.SealID, outbox.Policy{Hub: down}); !errors.As(err, &se) || se.Code != "status_unknown" {
				// The cache belongs to another hub URL, so it does not vouch for this one.
				t.Fatalf("unreachable other hub: %v", err)
			}
			if err := ob.CheckSealUsable(ctx, env.B.SealID, outbox.Policy{MaxAge: time.Hour}); err != nil {
				t.Fatalf("fresh cache offline: %v", err)
			}
			if err := ob.CheckSealUsable(ctx, env.B.SealID, outbox.Policy{MaxAge: time.Nanosecond}); !errors.As(err, &se) || se.Code != "status_stale" {
				t.Fatalf("stale cache offline: %v", err)
			}
		})
	}
}

func TestPinnedHubKey(t *testing.T) {
	env := hubtest.Start(t, "sqlite", server.Options{})
	other := hubtest.Start(t, "sqlite", server.Options{})
	ctx := context.Background()
	ob, err := outbox.Open(filepath.Join(t.TempDir(), "outbox.db"), outbox.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer ob.Close()
	c, _ := client.New(env.URL, client.Options{Token: env.A.Token})
	if _, _, err := ob.RefreshStatus(ctx, c, env.A.SealID); err != nil {
		t.Fatal(err)
	}
	// The same URL now answered by a hub with another key (a substitute): refused before it
	// is asked anything with a credential.
	var asked, credentials, records atomic.Int32
	impostor := other.Hub.Handler()
	env.Server.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		asked.Add(1)
		if r.Header.Get("Authorization") != "" {
			credentials.Add(1)
		}
		if strings.HasPrefix(r.URL.Path, "/v1/records") {
			records.Add(1)
		}
		impostor.ServeHTTP(w, r)
	})
	c2, _ := client.New(env.URL, client.Options{Token: env.A.Token})
	if _, _, err := ob.RefreshStatus(ctx, c2, other.A.SealID); !errors.Is(err, api.ErrBadIdentityProof) {
		t.Fatalf("answer under another hub key: %v", err)
	}
	// Issue 12, defect 3: sync used to push the records first ("sent 1") and only then fail
	// the pin check. Now nothing is sent and the token never leaves.
	out := filepath.Join(t.TempDir(), "a.pdf")
	if _, err := ob.Record(ctx, api.Record{SealID: env.A.SealID, SignerCertSHA256: certHash(env.A.Signer.Cert.Raw)}, out,
		func() error { return os.WriteFile(out, []byte("signed"), 0o644) }); err != nil {
		t.Fatal(err)
	}
	res, err := ob.Sync(ctx, c2)
	if !errors.Is(err, api.ErrBadIdentityProof) || res.Sent != 0 || res.Remaining != 1 {
		t.Fatalf("sync with an impostor: %+v %v", res, err)
	}
	if asked.Load() == 0 || credentials.Load() != 0 || records.Load() != 0 {
		t.Fatalf("the impostor got %d requests, %d with the credential, %d with records", asked.Load(), credentials.Load(), records.Load())
	}
	// The real hub back at its URL: the record goes, once.
	env.Server.Config.Handler = env.Hub.Handler()
	if res, err := ob.Sync(ctx, c2); err != nil || res.Sent != 1 || res.Remaining != 0 {
		t.Fatalf("sync with the real hub: %+v %v", res, err)
	}
}

// TestRunRetriesUntilTheHubAnswers: the sync loop keeps a record while the hub fails (503)
// and delivers it, once, when the hub is back.
func TestRunRetriesUntilTheHubAnswers(t *testing.T) {
	env := hubtest.Start(t, "sqlite", server.Options{})
	var down atomic.Bool
	down.Store(true)
	h := env.Hub.Handler()
	env.Server.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if down.Load() {
			http.Error(w, `{"error":{"code":"internal","message":"down (test)"}}`, http.StatusServiceUnavailable)
			return
		}
		h.ServeHTTP(w, r)
	})
	dir := t.TempDir()
	ob, err := outbox.Open(filepath.Join(dir, "outbox.db"), outbox.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer ob.Close()
	out := filepath.Join(dir, "a.pdf")
	if _, err := ob.Record(context.Background(), api.Record{SealID: env.A.SealID, SignerCertSHA256: certHash(env.A.Signer.Cert.Raw)}, out,
		func() error { return os.WriteFile(out, []byte("signed"), 0o644) }); err != nil {
		t.Fatal(err)
	}
	c, _ := client.New(env.URL, client.Options{Token: env.A.Token})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var failures, sent atomic.Int32
	done := make(chan struct{})
	go func() {
		defer close(done)
		ob.Run(ctx, c, 50*time.Millisecond, func(res outbox.SyncResult, err error) {
			if err != nil {
				if !client.Temporary(err) {
					t.Errorf("a 503 is not temporary: %v", err)
				}
				failures.Add(1)
				down.Store(false) // the hub comes back after the first failure
				return
			}
			if sent.Add(int32(res.Sent)) >= 1 {
				cancel()
			}
		})
	}()
	<-done
	if failures.Load() < 1 || sent.Load() != 1 {
		t.Fatalf("failures %d, sent %d", failures.Load(), sent.Load())
	}
	page, err := c.Records(context.Background(), "", "", 0)
	if err != nil || len(page.Records) != 1 {
		t.Fatalf("hub holds %d records (%v)", len(page.Records), err)
	}
}
