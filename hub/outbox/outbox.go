// Package outbox is the client side of the hub: a local SQLite file that holds every signing
// record until the hub has it, and a cache of the hub's signed seal-status answers.
//
// # Records: written in the same step as the signed file
//
// A signing command wraps the write of the signed file:
//
//	rec, err := ob.Record(ctx, api.Record{SealID: ..., SignerCertSHA256: ..., DocName: ..., Pages: ...},
//		outPath, func() error { return document.SignFile(ctx, in, outPath, req) })
//
// Record (or Begin / Commit / Abort by hand) first stores the record as "pending", durably,
// with what was at outPath before; then write runs (it renames the finished file into place
// atomically); then Commit stores the SHA-256 of the signed file and marks the record
// "ready". If the process dies between Begin and Commit, Open resolves the pending record on
// the next start: when a file is at outPath that was not there before Begin (or whose digest
// is the one SetDigest recorded), the signature happened and the record becomes ready with
// that file's digest; otherwise the signing never completed and the record is "abandoned".
// So a signed file never exists without its record.
//
// # Sync: exactly once on the hub
//
// Push sends ready records in batches. Each record has an id chosen here (random, 128 bits)
// and the hub stores an id once: a record whose answer was lost is sent again and the hub
// answers "duplicate". Run repeats Sync with exponential backoff while the hub is unreachable.
//
// # Seal status and the offline policy
//
// CheckSealUsable(ctx, sealID, policy) is what the signer calls before signing. It asks the
// hub when one is configured and reachable, caches the signed answer, and decides:
//
//   - revoked, withdrawn, lost or suspended (live or cached, however old): refused;
//   - not filed on the hub: refused;
//   - active but outside the seal's validity: refused;
//   - active, live answer: allowed;
//   - hub unreachable (or none configured) and a cached "active" answer produced within
//     Policy.MaxAge (default 72 h): allowed — offline signing with a fresh-enough cache;
//   - hub unreachable and the cached answer is older, or there is none: refused, saying to
//     sync. A hub that answers with a refusal (e.g. a rejected token) refuses too.
//
// Cached answers are kept as the hub signed them and checked again against the pinned hub key
// whenever they are used; the key is pinned on first contact (trust on first use) and a hub
// presenting another key is an error.
package outbox

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	_ "modernc.org/sqlite" // database/sql driver "sqlite"

	"sealdesk/document"
	"sealdesk/hub/api"
)

// Record states.
const (
	StatePending   = "pending"   // begun; the signed file may or may not have been written
	StateReady     = "ready"     // the signed file exists; to be sent
	StateSent      = "sent"      // the hub has it
	StateConflict  = "conflict"  // the hub holds another record under this id (needs a person)
	StateHeld      = "held"      // the hub refused it for a reason that can change (credential, seal not yet filed, hub error): retried with backoff
	StateRejected  = "rejected"  // the hub refused it for good: the record itself is malformed (see LastError)
	StateAbandoned = "abandoned" // the signing did not complete; never sent
)

// Options configures an Outbox.
type Options struct {
	// Client names this installation in records (default: the host name).
	Client string
	// Now is the clock (tests).
	Now func() time.Time
}

// Outbox is a local outbox and status cache. Safe for concurrent use within a process; two
// processes may share the file (SQLite locking).
type Outbox struct {
	db   *sql.DB
	path string
	opt  Options
	mu   sync.Mutex // serialises pushes from one process
}

// DefaultPath is $SEALDESK_OUTBOX, else outbox.db in the user's configuration directory.
func DefaultPath() (string, error) {
	if p := os.Getenv("SEALDESK_OUTBOX"); p != "" {
		return p, nil
	}
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("no place for the outbox (set SEALDESK_OUTBOX): %w", err)
	}
	return filepath.Join(dir, "sealdesk", "outbox.db"), nil
}

const schema = `
CREATE TABLE IF NOT EXISTS records (
	seq INTEGER PRIMARY KEY AUTOINCREMENT,
	id TEXT NOT NULL UNIQUE,
	seal_id TEXT NOT NULL,
	body TEXT NOT NULL,
	state TEXT NOT NULL,
	out_path TEXT NOT NULL,
	prior TEXT NOT NULL,
	expect_digest TEXT NOT NULL DEFAULT '',
	begun_at INTEGER NOT NULL,
	attempts INTEGER NOT NULL DEFAULT 0,
	last_error TEXT NOT NULL DEFAULT '',
	sent_at INTEGER NOT NULL DEFAULT 0,
	retry_at INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS records_state ON records (state, seq);
CREATE TABLE IF NOT EXISTS answers (
	id INTEGER PRIMARY KEY AUTOINCREMENT,
	signed TEXT NOT NULL,
	produced_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS status (
	es_id TEXT PRIMARY KEY,
	status TEXT NOT NULL,
	answer_id INTEGER NOT NULL,
	produced_at INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
`

// Open opens (creating if needed) the outbox at path and resolves records left pending by a
// crash (see the package documentation).
func Open(path string, opt Options) (*Outbox, error) {
	if opt.Client == "" {
		opt.Client, _ = os.Hostname()
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("outbox %s: %w", path, err)
	}
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "journal_mode(WAL)")
	// FULL: a record acknowledged by Begin or Commit survives a power cut, not just a crash.
	q.Add("_pragma", "synchronous(FULL)")
	q.Set("_txlock", "immediate")
	db, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("outbox %s: %w", path, err)
	}
	db.SetMaxOpenConns(1) // one connection: simple, and the outbox is small
	if _, err := db.Exec(schema); err != nil {
		db.Close()
		return nil, fmt.Errorf("outbox %s: cannot create its tables: %w", path, err)
	}
	o := &Outbox{db: db, path: path, opt: opt}
	if err := o.upgrade(); err != nil {
		db.Close()
		return nil, fmt.Errorf("outbox %s: %w", path, err)
	}
	if _, err := o.Recover(); err != nil {
		db.Close()
		return nil, err
	}
	return o, nil
}

// Close closes the outbox.
func (o *Outbox) Close() error { return o.db.Close() }

// Path is the outbox file.
func (o *Outbox) Path() string { return o.path }

// fileState is what was at a path: enough to tell a file renamed into place from the old one.
type fileState struct {
	Exists  bool  `json:"exists"`
	Size    int64 `json:"size,omitempty"`
	ModNano int64 `json:"mod,omitempty"`
}

func stateOf(path string) fileState {
	st, err := os.Stat(path)
	if err != nil || !st.Mode().IsRegular() {
		return fileState{}
	}
	return fileState{Exists: true, Size: st.Size(), ModNano: st.ModTime().UnixNano()}
}

// NewID returns a random record id (128 bits, hex).
func NewID() string {
	b := make([]byte, 16)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// Pending is a record begun but not yet committed.
type Pending struct {
	o   *Outbox
	ID  string
	Out string
}

// Begin stores rec as pending for the signed file that will appear at outPath. It fills
// rec.ID (when empty), rec.Client and rec.SignedAt (when zero). Call it before the signed file
// is renamed into place.
func (o *Outbox) Begin(rec api.Record, outPath string) (*Pending, error) {
	abs, err := filepath.Abs(outPath)
	if err != nil {
		return nil, err
	}
	if rec.ID == "" {
		rec.ID = NewID()
	}
	if rec.Client == "" {
		rec.Client = o.opt.Client
	}
	if rec.SignedAt.IsZero() {
		rec.SignedAt = o.opt.Now().UTC()
	}
	if rec.DocName == "" {
		rec.DocName = filepath.Base(abs)
	}
	if rec.DocDigestAlg == "" {
		rec.DocDigestAlg = "sha256"
	}
	if rec.Pages == nil {
		rec.Pages = []int{}
	}
	body, err := json.Marshal(&rec)
	if err != nil {
		return nil, err
	}
	prior, _ := json.Marshal(stateOf(abs))
	if _, err := o.db.Exec(`INSERT INTO records (id, seal_id, body, state, out_path, prior, begun_at) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		rec.ID, rec.SealID, string(body), StatePending, abs, string(prior), o.opt.Now().UnixNano()); err != nil {
		return nil, fmt.Errorf("outbox %s: cannot store the signing record: %w", o.path, err)
	}
	return &Pending{o: o, ID: rec.ID, Out: abs}, nil
}

// SetDigest records the SHA-256 (hex) of the signed file before it is renamed into place, for
// callers that hash while writing. Recovery then accepts only a file with exactly this digest.
func (p *Pending) SetDigest(sha256Hex string) error {
	_, err := p.o.db.Exec(`UPDATE records SET expect_digest = $1 WHERE id = $2 AND state = $3`, sha256Hex, p.ID, StatePending)
	return err
}

// Commit marks the record ready, with the SHA-256 of the signed file now at the output path.
func (p *Pending) Commit() (api.Record, error) {
	return p.o.commit(p.ID, p.Out)
}

// Abort marks the record abandoned (the signing failed; no signed file was written).
func (p *Pending) Abort() error {
	_, err := p.o.db.Exec(`UPDATE records SET state = $1 WHERE id = $2 AND state = $3`, StateAbandoned, p.ID, StatePending)
	return err
}

func fileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

func (o *Outbox) commit(id, out string) (api.Record, error) {
	var body string
	if err := o.db.QueryRow(`SELECT body FROM records WHERE id = $1`, id).Scan(&body); err != nil {
		return api.Record{}, fmt.Errorf("outbox: record %s: %w", id, err)
	}
	var rec api.Record
	if err := json.Unmarshal([]byte(body), &rec); err != nil {
		return api.Record{}, fmt.Errorf("outbox: record %s is corrupt: %w", id, err)
	}
	d, err := fileSHA256(out)
	if err != nil {
		return api.Record{}, fmt.Errorf("outbox: cannot hash the signed file %s: %w", out, err)
	}
	rec.DocDigestAlg, rec.DocDigest = "sha256", d
	b, _ := json.Marshal(&rec)
	if _, err := o.db.Exec(`UPDATE records SET body = $1, state = $2 WHERE id = $3`, string(b), StateReady, id); err != nil {
		return api.Record{}, fmt.Errorf("outbox %s: cannot commit record %s: %w", o.path, id, err)
	}
	return rec, nil
}

// Record runs write (which must produce the signed file at outPath atomically, as
// document.SignFile does) between Begin and Commit, and returns the committed record.
func (o *Outbox) Record(ctx context.Context, rec api.Record, outPath string, write func() error) (api.Record, error) {
	p, err := o.Begin(rec, outPath)
	if err != nil {
		return api.Record{}, err
	}
	if err := write(); err != nil {
		if aerr := p.Abort(); aerr != nil {
			return api.Record{}, errors.Join(err, aerr)
		}
		return api.Record{}, err
	}
	return p.Commit()
}

// RecoverResult counts what Recover resolved.
type RecoverResult struct {
	Kept      int // the signed file exists: the record is ready to send
	Abandoned int // no signed file: the signing never completed
	// TempsRemoved counts the temporary files the abandoned signings left (their process
	// was killed while writing) that were removed.
	TempsRemoved int
}

// Recover resolves records left pending by a process that died between Begin and Commit.
// Open calls it; a long-running process never needs to (its own pending records are live).
func (o *Outbox) Recover() (RecoverResult, error) {
	var res RecoverResult
	rows, err := o.db.Query(`SELECT id, out_path, prior, expect_digest FROM records WHERE state = $1`, StatePending)
	if err != nil {
		return res, fmt.Errorf("outbox %s: %w", o.path, err)
	}
	type pend struct{ id, out, prior, expect string }
	var ps []pend
	for rows.Next() {
		var p pend
		if err := rows.Scan(&p.id, &p.out, &p.prior, &p.expect); err != nil {
			rows.Close()
			return res, err
		}
		ps = append(ps, p)
	}
	rows.Close()
	for _, p := range ps {
		var before fileState
		json.Unmarshal([]byte(p.prior), &before)
		now := stateOf(p.out)
		written := now.Exists && now != before
		if written && p.expect != "" {
			d, err := fileSHA256(p.out)
			written = err == nil && d == p.expect
		}
		if written {
			if _, err := o.commit(p.id, p.out); err != nil {
				return res, err
			}
			res.Kept++
			continue
		}
		if _, err := o.db.Exec(`UPDATE records SET state = $1, last_error = $2 WHERE id = $3`, StateAbandoned,
			"the signed file was never written (the signing process stopped first)", p.id); err != nil {
			return res, err
		}
		res.Abandoned++
		// The dead process may have left its half-written temporary file beside the output.
		n, _ := document.RemoveStaleTemps(p.out)
		res.TempsRemoved += n
	}
	return res, nil
}

// upgrade brings an outbox written by an earlier version up to date: the retry_at column,
// and records the earlier version marked "rejected" for a reason that can change (another
// organisation's credential, a seal not yet filed, a hub error) become "held" again, so they
// are retried instead of stranded (issue 12).
func (o *Outbox) upgrade() error {
	var n int
	if err := o.db.QueryRow(`SELECT count(*) FROM pragma_table_info('records') WHERE name = 'retry_at'`).Scan(&n); err != nil {
		return err
	}
	if n == 0 {
		if _, err := o.db.Exec(`ALTER TABLE records ADD COLUMN retry_at INTEGER NOT NULL DEFAULT 0`); err != nil {
			return err
		}
	}
	rows, err := o.db.Query(`SELECT id, last_error FROM records WHERE state = $1`, StateRejected)
	if err != nil {
		return err
	}
	var held []string
	for rows.Next() {
		var id, msg string
		if err := rows.Scan(&id, &msg); err != nil {
			rows.Close()
			return err
		}
		code, _, _ := strings.Cut(msg, ":")
		if !FinalRefusal(code) {
			held = append(held, id)
		}
	}
	rows.Close()
	for _, id := range held {
		if _, err := o.db.Exec(`UPDATE records SET state = $1, retry_at = 0 WHERE id = $2`, StateHeld, id); err != nil {
			return err
		}
	}
	return rows.Err()
}

// Entry is a record in the outbox.
type Entry struct {
	Record    api.Record `json:"record"`
	State     string     `json:"state"`
	OutPath   string     `json:"outPath"`
	Attempts  int        `json:"attempts"`
	LastError string     `json:"lastError,omitempty"`
	// RetryAt is when a held record is sent again (zero: at the next sync).
	RetryAt time.Time `json:"retryAt,omitzero"`
}

// Entries lists records in a state ("" for all), oldest first.
func (o *Outbox) Entries(state string) ([]Entry, error) {
	rows, err := o.db.Query(`SELECT body, state, out_path, attempts, last_error, retry_at FROM records WHERE ($1 = '' OR state = $1) ORDER BY seq`, state)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Entry
	for rows.Next() {
		var e Entry
		var body string
		var retry int64
		if err := rows.Scan(&body, &e.State, &e.OutPath, &e.Attempts, &e.LastError, &retry); err != nil {
			return nil, err
		}
		if retry > 0 {
			e.RetryAt = time.Unix(0, retry)
		}
		if err := json.Unmarshal([]byte(body), &e.Record); err != nil {
			return nil, fmt.Errorf("outbox: a stored record is corrupt: %w", err)
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// Counts returns the number of records per state.
func (o *Outbox) Counts() (map[string]int, error) {
	rows, err := o.db.Query(`SELECT state, count(*) FROM records GROUP BY state`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var s string
		var n int
		if err := rows.Scan(&s, &n); err != nil {
			return nil, err
		}
		out[s] = n
	}
	return out, rows.Err()
}

func (o *Outbox) meta(key string) (string, error) {
	var v string
	err := o.db.QueryRow(`SELECT value FROM meta WHERE key = $1`, key).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return v, err
}

func (o *Outbox) setMeta(key, value string) error {
	_, err := o.db.Exec(`INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value`, key, value)
	return err
}
