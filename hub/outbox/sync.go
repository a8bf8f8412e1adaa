package outbox

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"sealdesk/hub/api"
	"sealdesk/hub/client"
)

// PushBatch is how many records one push request carries.
const PushBatch = 500

// SyncResult counts what a sync did.
type SyncResult struct {
	Sent       int `json:"sent"`       // records the hub stored now
	Duplicates int `json:"duplicates"` // records the hub had already (a retried push)
	Conflicts  int `json:"conflicts"`  // records the hub holds with another body under the same id
	Rejected   int `json:"rejected"`   // records the hub refused for good (malformed)
	Held       int `json:"held"`       // records the hub refused for now (credential, seal not filed, hub error): retried later
	Remaining  int `json:"remaining"`  // records still waiting (ready or held)
	Statuses   int `json:"statuses"`   // seal statuses refreshed
	Changed    int `json:"changed"`    // cached statuses that changed
}

// Push sends ready records, and held ones whose retry time has come, until none is left or
// the hub fails. A record is marked sent only after the hub confirmed it, so a lost answer
// means a resend, which the hub recognises. Nothing is sent, and no credential shown, before
// the hub has proved it holds the key pinned for its URL (see pin).
func (o *Outbox) Push(ctx context.Context, c *client.Client) (SyncResult, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	var res SyncResult
	if err := o.pin(ctx, c); err != nil {
		n, _ := o.waiting()
		res.Remaining = n
		return res, err
	}
	for {
		rows, err := o.db.QueryContext(ctx, `SELECT id, body FROM records WHERE state = $1 OR (state = $2 AND retry_at <= $3) ORDER BY seq LIMIT $4`,
			StateReady, StateHeld, o.opt.Now().UnixNano(), PushBatch)
		if err != nil {
			return res, err
		}
		var recs []api.Record
		for rows.Next() {
			var id, body string
			if err := rows.Scan(&id, &body); err != nil {
				rows.Close()
				return res, err
			}
			var r api.Record
			if err := json.Unmarshal([]byte(body), &r); err != nil {
				rows.Close()
				return res, fmt.Errorf("outbox: record %s is corrupt: %w", id, err)
			}
			recs = append(recs, r)
		}
		rows.Close()
		if len(recs) == 0 {
			break
		}
		out, err := c.PushRecords(ctx, recs)
		if err != nil {
			o.noteAttempt(recs, err.Error())
			n, _ := o.waiting()
			res.Remaining = n
			return res, fmt.Errorf("pushing %d signing records to %s: %w", len(recs), c.URL(), err)
		}
		if len(out.Results) != len(recs) {
			return res, fmt.Errorf("hub %s answered %d results for %d records", c.URL(), len(out.Results), len(recs))
		}
		if err := o.applyResults(ctx, recs, out.Results, &res); err != nil {
			return res, err
		}
		if len(recs) < PushBatch {
			break
		}
	}
	n, err := o.waiting()
	res.Remaining = n
	return res, err
}

// FinalRefusal reports whether a hub's per-record refusal code means the record itself is
// wrong, so sending it again can never succeed. Every other refusal (another organisation's
// credential, a seal not filed yet, a hub error, a code this client does not know) can change,
// so the record is held and retried: records are never dropped on a guess.
func FinalRefusal(code string) bool {
	switch code {
	case api.CodeInvalidField, api.CodeMalformed, api.CodeTooLarge, api.CodeInvalidUSCC:
		return true
	}
	return false
}

// Retry backoff for held records: HeldRetryBase doubled per attempt, at most HeldRetryMax.
const (
	HeldRetryBase = 30 * time.Second
	HeldRetryMax  = 6 * time.Hour
)

func heldDelay(attempts int) time.Duration {
	d := HeldRetryBase << min(max(attempts-1, 0), 20)
	if d > HeldRetryMax || d <= 0 {
		d = HeldRetryMax
	}
	return d
}

// Requeue makes records in the given states (held and rejected when none are given) ready to
// be sent at the next push, as `sealctl sync --retry-rejected` and the app's "send again" do.
// Sent, pending and abandoned records are never requeued. It returns how many were.
func (o *Outbox) Requeue(states ...string) (int, error) {
	if len(states) == 0 {
		states = []string{StateHeld, StateRejected}
	}
	total := 0
	for _, st := range states {
		switch st {
		case StateHeld, StateRejected, StateConflict:
		default:
			return total, fmt.Errorf("outbox: records in state %q cannot be sent again", st)
		}
		r, err := o.db.Exec(`UPDATE records SET state = $1, retry_at = 0 WHERE state = $2`, StateReady, st)
		if err != nil {
			return total, err
		}
		n, _ := r.RowsAffected()
		total += int(n)
	}
	return total, nil
}

// waiting counts the records not yet on the hub that will still be sent (ready or held).
func (o *Outbox) waiting() (int, error) {
	var n int
	err := o.db.QueryRow(`SELECT count(*) FROM records WHERE state IN ($1, $2)`, StateReady, StateHeld).Scan(&n)
	return n, err
}

func (o *Outbox) applyResults(ctx context.Context, recs []api.Record, results []api.RecordResult, res *SyncResult) error {
	tx, err := o.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	nowT := o.opt.Now()
	now := nowT.UnixNano()
	for i, r := range results {
		state, msg := StateSent, ""
		if r.Error != nil {
			msg = r.Error.Code + ": " + r.Error.Message
		}
		switch r.Result {
		case api.ResultCreated:
			res.Sent++
		case api.ResultDuplicate:
			res.Duplicates++
		case api.ResultConflict:
			res.Conflicts++
			state = StateConflict
		default:
			code := ""
			if r.Error != nil {
				code = r.Error.Code
			}
			if FinalRefusal(code) {
				res.Rejected++
				state = StateRejected
				break
			}
			res.Held++
			var attempts int
			if err := tx.QueryRowContext(ctx, `SELECT attempts FROM records WHERE id = $1`, recs[i].ID).Scan(&attempts); err != nil {
				return err
			}
			retry := nowT.Add(heldDelay(attempts + 1)).UnixNano()
			if _, err := tx.ExecContext(ctx, `UPDATE records SET state = $1, last_error = $2, attempts = attempts + 1, retry_at = $3 WHERE id = $4`,
				StateHeld, msg, retry, recs[i].ID); err != nil {
				return err
			}
			continue
		}
		if _, err := tx.ExecContext(ctx, `UPDATE records SET state = $1, last_error = $2, attempts = attempts + 1, sent_at = $3 WHERE id = $4`,
			state, msg, now, recs[i].ID); err != nil {
			return err
		}
	}
	return tx.Commit()
}

func (o *Outbox) noteAttempt(recs []api.Record, msg string) {
	for _, r := range recs {
		o.db.Exec(`UPDATE records SET attempts = attempts + 1, last_error = $1 WHERE id = $2`, msg, r.ID)
	}
}

// pin makes c check status answers against the key this outbox pinned for the hub, or pins
// the hub's key on first contact (trust on first use), and in both cases makes the hub prove,
// by signing a fresh challenge, that it holds that key before anything else is sent: an
// impostor at the hub's URL (a wrong address, a proxy, plain HTTP) then never receives a
// signing record or the bearer token (the proof request carries no credential).
func (o *Outbox) pin(ctx context.Context, c *client.Client) error {
	key := "hubkey:" + c.URL()
	stored, err := o.meta(key)
	if err != nil {
		return err
	}
	if stored != "" {
		pub, err := api.ParseHubKey(stored)
		if err != nil {
			return fmt.Errorf("outbox: the pinned key of %s is corrupt: %w", c.URL(), err)
		}
		c.Pin(pub)
		if _, err := c.ProveIdentity(ctx, pub); err != nil {
			return err
		}
		return nil
	}
	pub, err := c.ProveIdentity(ctx, nil)
	if err != nil {
		return err
	}
	c.Pin(pub)
	pemText, err := api.PublicKeyPEM(pub)
	if err != nil {
		return err
	}
	return o.setMeta(key, pemText)
}

func (o *Outbox) pinnedKeyPEM(hubURL string) (string, error) { return o.meta("hubkey:" + hubURL) }

// knownSeals lists the seals this installation has used or asked about.
func (o *Outbox) knownSeals(ctx context.Context) ([]string, error) {
	rows, err := o.db.QueryContext(ctx, `SELECT seal_id FROM records WHERE state <> $1 UNION SELECT es_id FROM status`, StateAbandoned)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		if api.ValidID(id) {
			ids = append(ids, id)
		}
	}
	return ids, rows.Err()
}

// RefreshStatus asks the hub for the status of ids (all known seals when none are given) and
// for the revocation list since the last one, and caches the signed answers.
func (o *Outbox) RefreshStatus(ctx context.Context, c *client.Client, ids ...string) (statuses, changed int, err error) {
	if err := o.pin(ctx, c); err != nil {
		return 0, 0, err
	}
	if len(ids) == 0 {
		if ids, err = o.knownSeals(ctx); err != nil {
			return 0, 0, err
		}
	}
	for len(ids) > 0 {
		n := min(len(ids), 1000)
		p, signed, err := c.Status(ctx, ids[:n]...)
		if err != nil {
			return statuses, changed, err
		}
		ch, err := o.storeAnswer(ctx, p, signed, c.URL())
		if err != nil {
			return statuses, changed, err
		}
		statuses += len(p.Statuses)
		changed += ch
		ids = ids[n:]
	}
	lastKey := "revocations:" + c.URL()
	last, err := o.meta(lastKey)
	if err != nil {
		return statuses, changed, err
	}
	var since time.Time
	if last != "" {
		since, _ = time.Parse(time.RFC3339Nano, last)
	}
	p, signed, err := c.Revocations(ctx, since)
	if err != nil {
		return statuses, changed, err
	}
	ch, err := o.storeAnswer(ctx, p, signed, c.URL())
	if err != nil {
		return statuses, changed, err
	}
	changed += ch
	// The next list starts a little before this answer, so a change committed while this
	// one was produced is not missed (repeats are harmless).
	return statuses, changed, o.setMeta(lastKey, p.ProducedAt.Add(-time.Minute).Format(time.RFC3339Nano))
}

// storeAnswer caches a verified answer: each seal's row points at the newest answer about it.
func (o *Outbox) storeAnswer(ctx context.Context, p *api.StatusPayload, signed *api.SignedStatus, hubURL string) (changed int, err error) {
	b, err := json.Marshal(struct {
		Hub string `json:"hub"`
		*api.SignedStatus
	}{hubURL, signed})
	if err != nil {
		return 0, err
	}
	tx, err := o.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback()
	r, err := tx.ExecContext(ctx, `INSERT INTO answers (signed, produced_at) VALUES ($1, $2)`, string(b), p.ProducedAt.UnixNano())
	if err != nil {
		return 0, err
	}
	aid, err := r.LastInsertId()
	if err != nil {
		return 0, err
	}
	for _, st := range p.Statuses {
		var old string
		var oldAt int64
		err := tx.QueryRowContext(ctx, `SELECT status, produced_at FROM status WHERE es_id = $1`, st.ESID).Scan(&old, &oldAt)
		if err == nil && oldAt > p.ProducedAt.UnixNano() {
			continue // a newer answer is cached already
		}
		if err == nil && old != st.Status {
			changed++
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO status (es_id, status, answer_id, produced_at) VALUES ($1, $2, $3, $4)
			ON CONFLICT (es_id) DO UPDATE SET status = excluded.status, answer_id = excluded.answer_id, produced_at = excluded.produced_at`,
			st.ESID, st.Status, aid, p.ProducedAt.UnixNano()); err != nil {
			return 0, err
		}
	}
	// Answers no seal points at any more are dead weight.
	if _, err := tx.ExecContext(ctx, `DELETE FROM answers WHERE id NOT IN (SELECT answer_id FROM status)`); err != nil {
		return 0, err
	}
	return changed, tx.Commit()
}

// Sync pushes the outbox and refreshes the status of every known seal.
func (o *Outbox) Sync(ctx context.Context, c *client.Client) (SyncResult, error) {
	res, err := o.Push(ctx, c)
	if err != nil {
		return res, err
	}
	res.Statuses, res.Changed, err = o.RefreshStatus(ctx, c)
	return res, err
}

// SyncRetry runs Sync up to attempts times, backing off between temporary failures
// (unreachable hub, 429, 5xx); a refusal is returned at once.
func (o *Outbox) SyncRetry(ctx context.Context, c *client.Client, attempts int) (SyncResult, error) {
	var total SyncResult
	b := backoff{base: 500 * time.Millisecond, max: 30 * time.Second}
	for i := 0; ; i++ {
		res, err := o.Sync(ctx, c)
		total.add(res)
		total.Remaining, total.Statuses, total.Changed = res.Remaining, res.Statuses, res.Changed
		if err == nil || !client.Temporary(err) || i+1 >= attempts {
			return total, err
		}
		select {
		case <-ctx.Done():
			return total, errors.Join(err, ctx.Err())
		case <-time.After(b.next()):
		}
	}
}

func (r *SyncResult) add(x SyncResult) {
	r.Sent += x.Sent
	r.Duplicates += x.Duplicates
	r.Conflicts += x.Conflicts
	r.Rejected += x.Rejected
	r.Held += x.Held
}

// Run syncs every interval until ctx ends, backing off exponentially (with jitter, up to 5
// minutes) while the hub is unreachable; report (may be nil) sees every outcome.
func (o *Outbox) Run(ctx context.Context, c *client.Client, interval time.Duration, report func(SyncResult, error)) {
	b := backoff{base: time.Second, max: 5 * time.Minute}
	for {
		res, err := o.Sync(ctx, c)
		if report != nil {
			report(res, err)
		}
		wait := interval
		if err != nil && client.Temporary(err) {
			wait = b.next()
		} else {
			b.reset()
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
	}
}

type backoff struct {
	base, max time.Duration
	n         int
}

func (b *backoff) next() time.Duration {
	d := b.base << min(b.n, 20)
	if d > b.max || d <= 0 {
		d = b.max
	}
	b.n++
	// Full jitter keeps many clients from retrying in step after an outage.
	return d/2 + time.Duration(rand.Int64N(int64(d/2)+1))
}

func (b *backoff) reset() { b.n = 0 }
