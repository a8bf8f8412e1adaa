package outbox_test

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"sealdesk/hub/api"
	"sealdesk/hub/client"
	"sealdesk/hub/hubtest"
	"sealdesk/hub/outbox"
	"sealdesk/hub/server"
)

// clock is a settable clock for the outbox's backoff.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func record(t *testing.T, ob *outbox.Outbox, dir, name string, rec api.Record) string {
	t.Helper()
	out := filepath.Join(dir, name)
	r, err := ob.Record(context.Background(), rec, out, func() error { return os.WriteFile(out, []byte("signed "+name), 0o644) })
	if err != nil {
		t.Fatal(err)
	}
	return r.ID
}

func stateOf(t *testing.T, ob *outbox.Outbox, id string) outbox.Entry {
	t.Helper()
	es, err := ob.Entries("")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range es {
		if e.Record.ID == id {
			return e
		}
	}
	t.Fatalf("record %s not in the outbox", id)
	return outbox.Entry{}
}

// TestRefusedRecordsAreNeverStranded (issue 12, defect 2): records the hub refuses for a reason
// that can change are held and delivered exactly once after the reason goes away — another
// organisation's token then the right one (by backoff), a seal filed after the record was made
// (by Requeue, what --retry-rejected does) — while a malformed record is rejected for good with
// its reason kept; an outbox of the earlier version that marked such records "rejected" gets
// them back as held.
func TestRefusedRecordsAreNeverStranded(t *testing.T) {
	for _, kind := range hubtest.Kinds {
		t.Run(kind, func(t *testing.T) {
			env := hubtest.Start(t, kind, server.Options{})
			ctx := context.Background()
			dir := t.TempDir()
			clk := &clock{t: time.Now()}
			obPath := filepath.Join(dir, "outbox.db")
			ob, err := outbox.Open(obPath, outbox.Options{Now: clk.Now})
			if err != nil {
				t.Fatal(err)
			}
			defer func() { ob.Close() }()
			certA := certHash(env.A.Signer.Cert.Raw)
			wrong, _ := client.New(env.URL, client.Options{Token: env.B.Token}) // org B's token for org A's seal
			right, _ := client.New(env.URL, client.Options{Token: env.A.Token})

			// 1. Wrong credential: held, with the reason, and a retry time.
			idA := record(t, ob, dir, "a.pdf", api.Record{SealID: env.A.SealID, SignerCertSHA256: certA, Pages: []int{2}})
			res, err := ob.Sync(ctx, wrong)
			if err != nil || res.Held != 1 || res.Rejected != 0 || res.Remaining != 1 {
				t.Fatalf("sync with the wrong token: %+v %v", res, err)
			}
			e := stateOf(t, ob, idA)
			if e.State != outbox.StateHeld || !strings.HasPrefix(e.LastError, api.CodeForbidden+":") || !e.RetryAt.After(clk.Now()) {
				t.Fatalf("after the wrong token: %+v", e)
			}
			// The right token before the retry time: not sent yet (backoff)...
			if res, err := ob.Sync(ctx, right); err != nil || res.Sent != 0 || res.Remaining != 1 {
				t.Fatalf("sync before the retry time: %+v %v", res, err)
			}
			// ...and after it: delivered.
			clk.Add(outbox.HeldRetryBase + time.Second)
			if res, err := ob.Sync(ctx, right); err != nil || res.Sent != 1 || res.Remaining != 0 {
				t.Fatalf("sync after the retry time: %+v %v", res, err)
			}

			// 2. A seal not filed yet: held; filed later; sent again at once by Requeue.
			lateSeal := "11010009999999"
			idL := record(t, ob, dir, "late.pdf", api.Record{SealID: lateSeal, SignerCertSHA256: certA})
			if res, err := ob.Sync(ctx, right); err != nil || res.Held != 1 {
				t.Fatalf("sync with an unfiled seal: %+v %v", res, err)
			}
			if e := stateOf(t, ob, idL); e.State != outbox.StateHeld || !strings.HasPrefix(e.LastError, api.CodeSealNotFiled+":") {
				t.Fatalf("unfiled seal: %+v", e)
			}
			if _, e := env.Hub.FileSeal(ctx, server.Admin, hubtest.SealRequest(env.A.ID, lateSeal, env.A.USCC, env.A.Signer)); e != nil {
				t.Fatal(e)
			}
			if n, err := ob.Requeue(); err != nil || n != 1 {
				t.Fatalf("requeue: %d %v", n, err)
			}
			if res, err := ob.Sync(ctx, right); err != nil || res.Sent != 1 || res.Remaining != 0 {
				t.Fatalf("sync after filing: %+v %v", res, err)
			}

			// 3. A malformed record (page 0): rejected for good, reason kept; sending it again
			// gets the same answer and it never becomes sent.
			idM := record(t, ob, dir, "bad.pdf", api.Record{SealID: env.A.SealID, SignerCertSHA256: certA, Pages: []int{0}})
			if res, err := ob.Sync(ctx, right); err != nil || res.Rejected != 1 || res.Held != 0 || res.Remaining != 0 {
				t.Fatalf("sync with a malformed record: %+v %v", res, err)
			}
			if e := stateOf(t, ob, idM); e.State != outbox.StateRejected || !strings.Contains(e.LastError, "page 0 out of range") {
				t.Fatalf("malformed: %+v", e)
			}
			clk.Add(outbox.HeldRetryMax * 2)
			if res, err := ob.Sync(ctx, right); err != nil || res.Rejected != 0 || res.Sent != 0 {
				t.Fatalf("a rejected record was sent again without being asked: %+v %v", res, err)
			}
			ob.Requeue()
			if res, err := ob.Sync(ctx, right); err != nil || res.Rejected != 1 {
				t.Fatalf("the malformed record sent again: %+v %v", res, err)
			}

			// Exactly once on the hub: the two good records, nothing else.
			page, err := right.Records(ctx, "", "", 0)
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]int{}
			for _, r := range page.Records {
				got[r.ID]++
			}
			if len(page.Records) != 2 || got[idA] != 1 || got[idL] != 1 {
				t.Fatalf("hub holds %v", got)
			}
			for _, r := range page.Records {
				if r.ID == idA && (len(r.Pages) != 1 || r.Pages[0] != 2) {
					t.Fatalf("record pages: %v", r.Pages)
				}
			}

			// 4. An outbox of the earlier version: a record refused as "forbidden" was marked
			// rejected and had no retry_at column. Opening it holds the record again.
			idO := record(t, ob, dir, "old.pdf", api.Record{SealID: env.A.SealID, SignerCertSHA256: certA})
			ob.Close()
			db, err := sql.Open("sqlite", obPath)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := db.Exec(`UPDATE records SET state = 'rejected', last_error = 'forbidden: record x: seal y is not your organisation''s' WHERE id = ?`, idO); err != nil {
				t.Fatal(err)
			}
			if _, err := db.Exec(`ALTER TABLE records DROP COLUMN retry_at`); err != nil {
				t.Fatal(err)
			}
			db.Close()
			if ob, err = outbox.Open(obPath, outbox.Options{Now: clk.Now}); err != nil {
				t.Fatal(err)
			}
			if e := stateOf(t, ob, idO); e.State != outbox.StateHeld {
				t.Fatalf("old stranded record after the upgrade: %+v", e)
			}
			if e := stateOf(t, ob, idM); e.State != outbox.StateRejected {
				t.Fatalf("old malformed record after the upgrade: %+v", e)
			}
			if res, err := ob.Sync(ctx, right); err != nil || res.Sent != 1 {
				t.Fatalf("sync after the upgrade: %+v %v", res, err)
			}
		})
	}
}
