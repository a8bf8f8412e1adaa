package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"sealdesk/hub/api"
)

// The signing log on PostgreSQL (migration 2) is range-partitioned by month of the signing
// time (signed_at, µs since 1970 UTC): one partition records_pYYYYMM per month, created ahead
// by the hub (MaintainPartitions) and on demand for a record of a month not yet open (a late
// or an early record is stored, never refused).
//
// Duplicate record ids across partitions. A unique index of a partitioned table must contain
// the partition column, so records' own key (org_id, id, signed_at) only catches a repeat
// with the same signing time. Records' ids are unique per organisation whatever the signing
// time, so a plain table record_keys (org_id, id) PRIMARY KEY → (signed_at, body_hash) is the
// one place ids are claimed: InsertRecords inserts the keys first (ON CONFLICT DO NOTHING,
// ids sorted so concurrent batches lock in one order), writes only the records whose key it
// created, and judges the others duplicate or conflict by the stored body hash. Concurrent
// pushes of one id wait on the key's index entry, so exactly one wins on every hub instance.
// record_keys also locates a record's partition for a lookup by id.
//
// Retention (RetireRecords) detaches whole months, never deletes rows; their keys stay in
// record_keys as tombstones, so a client retrying a retired record is answered "duplicate"
// and the record is not stored a second time.

// partitionCache remembers the months whose partitions are attached, so the ingest path asks
// the catalogue only for a month it has not seen.
type partitionCache struct {
	mu     sync.Mutex
	months map[int]bool // YYYYMM
}

func (c *partitionCache) has(m int) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.months[m]
}

func (c *partitionCache) add(m int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.months == nil {
		c.months = map[int]bool{}
	}
	c.months[m] = true
}

func (c *partitionCache) reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.months = nil
}

// monthKey is YYYYMM of the UTC month holding µs timestamp v.
func monthKey(v int64) int {
	t := time.UnixMicro(v).UTC()
	return t.Year()*100 + int(t.Month())
}

// monthBounds returns the µs bounds [from, to) of month YYYYMM.
func monthBounds(m int) (from, to int64) {
	start := time.Date(m/100, time.Month(m%100), 1, 0, 0, 0, 0, time.UTC)
	return start.UnixMicro(), start.AddDate(0, 1, 0).UnixMicro()
}

func partitionName(m int) string { return fmt.Sprintf("records_p%06d", m) }

// partitionLock serialises partition DDL between hub instances.
const partitionLock = 80680011

type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// createPartition attaches month m's partition unless it is attached already.
func createPartition(ctx context.Context, ex execer, m int) error {
	from, to := monthBounds(m)
	_, err := ex.ExecContext(ctx, fmt.Sprintf(`CREATE TABLE IF NOT EXISTS %s PARTITION OF records FOR VALUES FROM (%d) TO (%d)`,
		partitionName(m), from, to))
	if err != nil {
		return fmt.Errorf("signing-log partition %s: %w", partitionName(m), err)
	}
	return nil
}

// attachedMonths lists the months (YYYYMM) whose partitions are attached to records.
func attachedMonths(ctx context.Context, q interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}) ([]int, error) {
	rows, err := q.QueryContext(ctx, `SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
		WHERE i.inhparent = 'records'::regclass`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []int
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			return nil, err
		}
		if m, err := strconv.Atoi(strings.TrimPrefix(name, "records_p")); err == nil {
			out = append(out, m)
		}
	}
	sort.Ints(out)
	return out, rows.Err()
}

// ensureMonths attaches the partitions of months not known to be attached.
func (s *sqlStore) ensureMonths(ctx context.Context, months map[int]bool) error {
	var missing []int
	for m := range months {
		if !s.parts.has(m) {
			missing = append(missing, m)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	sort.Ints(missing)
	err := s.tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1)`, partitionLock); err != nil {
			return err
		}
		attached, err := attachedMonths(ctx, tx)
		if err != nil {
			return err
		}
		have := map[int]bool{}
		for _, m := range attached {
			have[m] = true
		}
		for _, m := range missing {
			if !have[m] {
				if err := createPartition(ctx, tx, m); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, m := range missing {
		s.parts.add(m)
	}
	return nil
}

// PartitionAhead is how many months beyond the current one MaintainPartitions opens.
const PartitionAhead = 3

// MaintainPartitions opens the signing-log partitions from last month to PartitionAhead
// months ahead of now (PostgreSQL; nothing on SQLite). The hub calls it on start and daily.
func (s *sqlStore) MaintainPartitions(ctx context.Context, now time.Time) error {
	if s.dialect != postgresDialect {
		return nil
	}
	months := map[int]bool{}
	first := time.Date(now.UTC().Year(), now.UTC().Month(), 1, 0, 0, 0, 0, time.UTC).AddDate(0, -1, 0)
	for i := 0; i <= PartitionAhead+1; i++ {
		months[monthKey(first.AddDate(0, i, 0).UnixMicro())] = true
	}
	s.parts.reset()
	return s.ensureMonths(ctx, months)
}

// Partition is one month of the signing log as RecordPartitions lists it.
type Partition struct {
	Name  string    `json:"name"`
	Month string    `json:"month"` // YYYY-MM
	From  time.Time `json:"from"`
	Until time.Time `json:"until"`
	Rows  int64     `json:"rows"`  // the planner's estimate (pg_class.reltuples; -1 never analysed)
	Bytes int64     `json:"bytes"` // table and its indexes
}

// RecordPartitions lists the attached signing-log partitions, oldest first (PostgreSQL).
func (s *sqlStore) RecordPartitions(ctx context.Context) ([]Partition, error) {
	if s.dialect != postgresDialect {
		return nil, errors.New("the signing log is partitioned only on PostgreSQL")
	}
	rows, err := s.db.QueryContext(ctx, `SELECT c.relname, c.reltuples::bigint, pg_total_relation_size(c.oid)
		FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'records'::regclass ORDER BY c.relname`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Partition
	for rows.Next() {
		var p Partition
		if err := rows.Scan(&p.Name, &p.Rows, &p.Bytes); err != nil {
			return nil, err
		}
		m, err := strconv.Atoi(strings.TrimPrefix(p.Name, "records_p"))
		if err != nil {
			continue
		}
		from, to := monthBounds(m)
		p.From, p.Until = fromUS(from), fromUS(to)
		p.Month = p.From.Format("2006-01")
		out = append(out, p)
	}
	return out, rows.Err()
}

// RetireRecords detaches every signing-log partition whose month ends at or before before
// and renames it records_retired_pYYYYMM_<unix time>; it returns the new names. Detached
// tables keep every row for archiving (pg_dump -t) and are dropped by the operator, never by
// the hub. Detaching is concurrent (readers and writers of other months are not blocked).
func (s *sqlStore) RetireRecords(ctx context.Context, before time.Time) ([]string, error) {
	if s.dialect != postgresDialect {
		return nil, errors.New("retiring records by month needs the PostgreSQL store (SQLite keeps one table)")
	}
	attached, err := attachedMonths(ctx, s.db)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, m := range attached {
		_, to := monthBounds(m)
		if to > us(before) {
			continue
		}
		// DETACH ... CONCURRENTLY may not run inside a transaction block.
		if _, err := s.db.ExecContext(ctx, `ALTER TABLE records DETACH PARTITION `+partitionName(m)+` CONCURRENTLY`); err != nil {
			return out, fmt.Errorf("detaching %s: %w", partitionName(m), err)
		}
		name := fmt.Sprintf("records_retired_p%06d_%d", m, time.Now().Unix())
		if _, err := s.db.ExecContext(ctx, `ALTER TABLE `+partitionName(m)+` RENAME TO `+name); err != nil {
			return out, fmt.Errorf("renaming the detached %s: %w", partitionName(m), err)
		}
		out = append(out, name)
	}
	s.parts.reset()
	return out, nil
}

// partitionRecords is migration 2: on PostgreSQL it replaces the records table by the
// partitioned one, copying every record (with its sequence number) and claiming every id in
// record_keys. On SQLite it does nothing.
func partitionRecords(ctx context.Context, s *sqlStore, tx *sql.Tx) error {
	if s.dialect != postgresDialect {
		return nil
	}
	for _, stmt := range []string{
		`ALTER TABLE records RENAME TO records_v1`,
		`ALTER INDEX records_digest RENAME TO records_v1_digest`,
		`ALTER INDEX records_org_seq RENAME TO records_v1_org_seq`,
		`ALTER SEQUENCE records_seq_seq OWNED BY NONE`,
		`CREATE TABLE records (
			seq BIGINT NOT NULL DEFAULT nextval('records_seq_seq'),
			org_id TEXT NOT NULL,
			id TEXT NOT NULL,
			seal_id TEXT NOT NULL,
			cert_sha256 TEXT NOT NULL,
			doc_alg TEXT NOT NULL,
			doc_digest TEXT NOT NULL,
			doc_name TEXT NOT NULL,
			pages TEXT NOT NULL,
			signed_at BIGINT NOT NULL,
			client TEXT NOT NULL,
			body_hash TEXT NOT NULL,
			received_at BIGINT NOT NULL,
			CONSTRAINT records_key UNIQUE (org_id, id, signed_at)
		) PARTITION BY RANGE (signed_at)`,
		`ALTER SEQUENCE records_seq_seq OWNED BY records.seq`,
		// B-trees where a lookup is selective; BRIN on the times, which grow with the
		// insertion order inside a month and cost a few pages per partition.
		`CREATE INDEX records_digest ON records (doc_digest)`,
		`CREATE INDEX records_org_seq ON records (org_id, seq)`,
		`CREATE INDEX records_seal_signed ON records (seal_id, signed_at)`,
		`CREATE INDEX records_signed_brin ON records USING brin (signed_at)`,
		`CREATE INDEX records_received_brin ON records USING brin (received_at)`,
		`CREATE TABLE record_keys (
			org_id TEXT NOT NULL,
			id TEXT NOT NULL,
			signed_at BIGINT NOT NULL,
			body_hash TEXT NOT NULL,
			PRIMARY KEY (org_id, id)
		)`,
	} {
		if _, err := tx.ExecContext(ctx, stmt); err != nil {
			return err
		}
	}
	rows, err := tx.QueryContext(ctx, `SELECT DISTINCT (extract(year FROM t) * 100 + extract(month FROM t))::int
		FROM (SELECT to_timestamp(signed_at / 1000000.0) AT TIME ZONE 'UTC' AS t FROM records_v1) x`)
	if err != nil {
		return err
	}
	var months []int
	for rows.Next() {
		var m int
		if err := rows.Scan(&m); err != nil {
			rows.Close()
			return err
		}
		months = append(months, m)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, m := range months {
		if err := createPartition(ctx, tx, m); err != nil {
			return err
		}
	}
	for _, stmt := range []string{
		`INSERT INTO records (seq, ` + recordCols + `) SELECT seq, ` + recordCols + ` FROM records_v1`,
		`INSERT INTO record_keys (org_id, id, signed_at, body_hash) SELECT org_id, id, signed_at, body_hash FROM records_v1`,
		`DROP TABLE records_v1`,
	} {
		if _, err := tx.ExecContext(ctx, stmt); err != nil {
			return err
		}
	}
	return nil
}

// isNoPartition reports an insert whose row has no partition (a month detached meanwhile).
func isNoPartition(err error) bool {
	return err != nil && strings.Contains(err.Error(), "no partition of relation")
}

// listRecordsQuery is ListRecords' statement; the signing-time bounds appear only when set,
// so PostgreSQL prunes the partitions outside them.
func listRecordsQuery(orgID string, q RecordQuery) (string, []any) {
	query := recordSelect + ` WHERE org_id = $1 AND seq > $2 AND ($3 = '' OR seal_id = $3) AND received_at >= $4`
	args := []any{orgID, q.After, q.SealID, us(q.Since)}
	if !q.SignedFrom.IsZero() {
		args = append(args, us(q.SignedFrom))
		query += ` AND signed_at >= $` + strconv.Itoa(len(args))
	}
	if !q.SignedBefore.IsZero() {
		args = append(args, us(q.SignedBefore))
		query += ` AND signed_at < $` + strconv.Itoa(len(args))
	}
	if q.Digest != "" {
		args = append(args, strings.ToLower(q.Digest))
		query += ` AND doc_digest = $` + strconv.Itoa(len(args))
	}
	args = append(args, q.Limit)
	return query + ` ORDER BY seq LIMIT $` + strconv.Itoa(len(args)), args
}

// insertPartitioned is InsertRecords on PostgreSQL: unique lists the indexes of the batch's
// first occurrences; their results are filled in.
func (s *sqlStore) insertPartitioned(ctx context.Context, orgID string, recs []api.Record, hashes []string, unique []int, results []string, now time.Time) error {
	order := append([]int(nil), unique...)
	sort.Slice(order, func(a, b int) bool { return recs[order[a]].ID < recs[order[b]].ID })
	months := map[int]bool{}
	for _, i := range order {
		months[monthKey(us(recs[i].SignedAt))] = true
	}
	for attempt := 0; ; attempt++ {
		if err := s.ensureMonths(ctx, months); err != nil {
			return err
		}
		err := s.tx(ctx, func(tx *sql.Tx) error { return insertPartitionedTx(ctx, tx, orgID, recs, hashes, order, results, now) })
		if isNoPartition(err) && attempt == 0 {
			// Another instance detached a month this one thought attached.
			s.parts.reset()
			continue
		}
		return err
	}
}

func insertPartitionedTx(ctx context.Context, tx *sql.Tx, orgID string, recs []api.Record, hashes []string, order []int, results []string, now time.Time) error {
	// The records are acknowledged only after this commit; with a synchronous standby
	// configured (synchronous_standby_names), on waits until the standby has flushed it.
	if _, err := tx.ExecContext(ctx, `SET LOCAL synchronous_commit TO on`); err != nil {
		return err
	}
	n := len(order)
	ids, signed, bodies := make([]string, n), make([]int64, n), make([]string, n)
	for k, i := range order {
		ids[k], signed[k], bodies[k] = recs[i].ID, us(recs[i].SignedAt), hashes[i]
	}
	rows, err := tx.QueryContext(ctx, `INSERT INTO record_keys (org_id, id, signed_at, body_hash)
		SELECT $1::text, k.id, k.s, k.h FROM unnest($2::text[], $3::bigint[], $4::text[]) AS k(id, s, h)
		ON CONFLICT (org_id, id) DO NOTHING RETURNING id`, orgID, ids, signed, bodies)
	if err != nil {
		return err
	}
	created := map[string]bool{}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return err
		}
		created[id] = true
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	var (
		cID, cSeal, cCert, cAlg, cDigest, cName, cPages, cClient, cHash []string
		cSigned                                                         []int64
		existing                                                        []string
	)
	for _, i := range order {
		r := &recs[i]
		if !created[r.ID] {
			existing = append(existing, r.ID)
			continue
		}
		pages, _ := json.Marshal(r.Pages)
		cID, cSeal, cCert = append(cID, r.ID), append(cSeal, r.SealID), append(cCert, strings.ToLower(r.SignerCertSHA256))
		cAlg, cDigest, cName = append(cAlg, r.DocDigestAlg), append(cDigest, strings.ToLower(r.DocDigest)), append(cName, r.DocName)
		cPages, cSigned, cClient, cHash = append(cPages, string(pages)), append(cSigned, us(r.SignedAt)), append(cClient, r.Client), append(cHash, hashes[i])
	}
	if len(cID) > 0 {
		if _, err := tx.ExecContext(ctx, `INSERT INTO records (`+recordCols+`)
			SELECT $1::text, u.*, $12::bigint FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[],
				$9::bigint[], $10::text[], $11::text[]) AS u`,
			orgID, cID, cSeal, cCert, cAlg, cDigest, cName, cPages, cSigned, cClient, cHash, us(now)); err != nil {
			return err
		}
	}
	stored := map[string]string{}
	if len(existing) > 0 {
		rows, err := tx.QueryContext(ctx, `SELECT id, body_hash FROM record_keys WHERE org_id = $1 AND id = ANY($2::text[])`, orgID, existing)
		if err != nil {
			return err
		}
		for rows.Next() {
			var id, h string
			if err := rows.Scan(&id, &h); err != nil {
				rows.Close()
				return err
			}
			stored[id] = h
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
	}
	for _, i := range order {
		switch {
		case created[recs[i].ID]:
			results[i] = api.ResultCreated
		case stored[recs[i].ID] == hashes[i]:
			results[i] = api.ResultDuplicate
		default:
			results[i] = api.ResultConflict
		}
	}
	return nil
}
