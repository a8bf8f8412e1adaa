package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Mutual recognition (issue 14). A provider keeps every filing it owes the registry in
// registry_queue until the registry acknowledged it with a filing number; the registry keeps
// what it received in registry_filings, once per (provider, filing id), and its accredited
// providers in registry_providers. The logic lives in hub/registry; these are its tables.
// The methods are on RegistryStore, reached by a type assertion on a Store, so the Store
// interface other packages implement does not grow.

// QueuedFiling is one filing a provider owes the registry.
type QueuedFiling struct {
	ID        string // chosen by the provider; the registry stores each id once
	Kind      string // "seal" or "status"
	ESID      string
	Body      []byte // the JSON sent
	Created   time.Time
	Attempts  int
	NextTry   time.Time
	Number    string // the registry's filing number once acknowledged
	Acked     time.Time
	LastError string
}

// ReceivedFiling is a filing as the registry stored it.
type ReceivedFiling struct {
	Seq      int64
	Provider string
	FilingID string
	Kind     string
	ESID     string
	Status   string
	Reason   string
	At       time.Time
	Body     []byte
	Number   string
	Received time.Time
}

// ProviderRow is an accredited (or suspended) provider: Body is its JSON description.
type ProviderRow struct {
	ID      string
	Body    []byte
	Status  string
	Updated time.Time
}

// RegistryStore is implemented by the SQL store.
type RegistryStore interface {
	EnqueueFiling(ctx context.Context, f QueuedFiling) error
	DueFilings(ctx context.Context, now time.Time, limit int) ([]QueuedFiling, error)
	AckFiling(ctx context.Context, id, number string, at time.Time) error
	RetryFiling(ctx context.Context, id string, next time.Time, msg string) error
	QueueCounts(ctx context.Context) (pending, acked int, err error)

	PutProvider(ctx context.Context, p ProviderRow) error
	GetProvider(ctx context.Context, id string) (*ProviderRow, error)
	ListProviders(ctx context.Context) ([]ProviderRow, error)
	// ReceiveFiling stores f unless (provider, filing id) is there already; either way it
	// answers the stored filing number and whether f was a duplicate.
	ReceiveFiling(ctx context.Context, f ReceivedFiling) (number string, dup bool, err error)
	FilingsFor(ctx context.Context, esID string) ([]ReceivedFiling, error)
	StatusFilingsSince(ctx context.Context, since time.Time) ([]ReceivedFiling, error)
	CountFilings(ctx context.Context) (int, error)
	// CountFilingsByProvider answers how many filings each provider has at the registry.
	CountFilingsByProvider(ctx context.Context) (map[string]int, error)
}

var _ RegistryStore = (*sqlStore)(nil)

func (s *sqlStore) EnqueueFiling(ctx context.Context, f QueuedFiling) error {
	return s.tx(ctx, func(tx *sql.Tx) error { return enqueueFilings(ctx, tx, []QueuedFiling{f}) })
}

// enqueueFilings writes filings in tx (a filing id already queued is kept as it is).
func enqueueFilings(ctx context.Context, tx *sql.Tx, fs []QueuedFiling) error {
	for _, f := range fs {
		if _, err := tx.ExecContext(ctx, `INSERT INTO registry_queue (id, kind, esid, body, created, next_try) VALUES ($1, $2, $3, $4, $5, $6)
			ON CONFLICT (id) DO NOTHING`, f.ID, f.Kind, f.ESID, f.Body, us(f.Created), us(f.Created)); err != nil {
			return fmt.Errorf("queueing registry filing %s: %w", f.ID, err)
		}
	}
	return nil
}

func (s *sqlStore) DueFilings(ctx context.Context, now time.Time, limit int) ([]QueuedFiling, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, kind, esid, body, created, attempts, next_try, last_error FROM registry_queue
		WHERE acked = 0 AND next_try <= $1 ORDER BY created, id LIMIT $2`, us(now), limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []QueuedFiling
	for rows.Next() {
		var f QueuedFiling
		var created, next int64
		if err := rows.Scan(&f.ID, &f.Kind, &f.ESID, &f.Body, &created, &f.Attempts, &next, &f.LastError); err != nil {
			return nil, err
		}
		f.Created, f.NextTry = fromUS(created), fromUS(next)
		out = append(out, f)
	}
	return out, rows.Err()
}

func (s *sqlStore) AckFiling(ctx context.Context, id, number string, at time.Time) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE registry_queue SET number = $1, acked = $2, last_error = '' WHERE id = $3`, number, us(at), id)
		return err
	})
}

func (s *sqlStore) RetryFiling(ctx context.Context, id string, next time.Time, msg string) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE registry_queue SET attempts = attempts + 1, next_try = $1, last_error = $2 WHERE id = $3`, us(next), msg, id)
		return err
	})
}

func (s *sqlStore) QueueCounts(ctx context.Context) (pending, acked int, err error) {
	err = s.db.QueryRowContext(ctx, `SELECT COALESCE(SUM(CASE WHEN acked = 0 THEN 1 ELSE 0 END), 0), COALESCE(SUM(CASE WHEN acked <> 0 THEN 1 ELSE 0 END), 0) FROM registry_queue`).Scan(&pending, &acked)
	return
}

func (s *sqlStore) PutProvider(ctx context.Context, p ProviderRow) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO registry_providers (id, body, status, updated) VALUES ($1, $2, $3, $4)
			ON CONFLICT (id) DO UPDATE SET body = excluded.body, status = excluded.status, updated = excluded.updated`,
			p.ID, string(p.Body), p.Status, us(p.Updated))
		return err
	})
}

func (s *sqlStore) GetProvider(ctx context.Context, id string) (*ProviderRow, error) {
	var p ProviderRow
	var body string
	var upd int64
	err := s.db.QueryRowContext(ctx, `SELECT id, body, status, updated FROM registry_providers WHERE id = $1`, id).Scan(&p.ID, &body, &p.Status, &upd)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	p.Body, p.Updated = []byte(body), fromUS(upd)
	return &p, nil
}

func (s *sqlStore) ListProviders(ctx context.Context) ([]ProviderRow, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, body, status, updated FROM registry_providers ORDER BY id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []ProviderRow
	for rows.Next() {
		var p ProviderRow
		var body string
		var upd int64
		if err := rows.Scan(&p.ID, &body, &p.Status, &upd); err != nil {
			return nil, err
		}
		p.Body, p.Updated = []byte(body), fromUS(upd)
		out = append(out, p)
	}
	return out, rows.Err()
}

func (s *sqlStore) ReceiveFiling(ctx context.Context, f ReceivedFiling) (number string, dup bool, err error) {
	err = s.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO registry_filings (provider, filing_id, kind, esid, status, reason, at, body, number, received)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (provider, filing_id) DO NOTHING`,
			f.Provider, f.FilingID, f.Kind, f.ESID, f.Status, f.Reason, us(f.At), f.Body, f.Number, us(f.Received))
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 1 {
			number = f.Number
			return nil
		}
		dup = true
		return tx.QueryRowContext(ctx, `SELECT number FROM registry_filings WHERE provider = $1 AND filing_id = $2`, f.Provider, f.FilingID).Scan(&number)
	})
	return
}

func (s *sqlStore) scanFilings(rows *sql.Rows, err error) ([]ReceivedFiling, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []ReceivedFiling
	for rows.Next() {
		var f ReceivedFiling
		var at, rec int64
		if err := rows.Scan(&f.Seq, &f.Provider, &f.FilingID, &f.Kind, &f.ESID, &f.Status, &f.Reason, &at, &f.Body, &f.Number, &rec); err != nil {
			return nil, err
		}
		f.At, f.Received = fromUS(at), fromUS(rec)
		out = append(out, f)
	}
	return out, rows.Err()
}

const filingCols = `seq, provider, filing_id, kind, esid, status, reason, at, body, number, received`

func (s *sqlStore) FilingsFor(ctx context.Context, esID string) ([]ReceivedFiling, error) {
	return s.scanFilings(s.db.QueryContext(ctx, `SELECT `+filingCols+` FROM registry_filings WHERE esid = $1 ORDER BY at, seq`, esID))
}

func (s *sqlStore) StatusFilingsSince(ctx context.Context, since time.Time) ([]ReceivedFiling, error) {
	return s.scanFilings(s.db.QueryContext(ctx, `SELECT `+filingCols+` FROM registry_filings WHERE kind = 'status' AND at > $1 ORDER BY at, seq`, us(since)))
}

func (s *sqlStore) CountFilings(ctx context.Context) (int, error) {
	var n int
	err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM registry_filings`).Scan(&n)
	return n, err
}

func (s *sqlStore) CountFilingsByProvider(ctx context.Context) (map[string]int, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT provider, COUNT(*) FROM registry_filings GROUP BY provider`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var p string
		var n int
		if err := rows.Scan(&p, &n); err != nil {
			return nil, err
		}
		out[p] = n
	}
	return out, rows.Err()
}
