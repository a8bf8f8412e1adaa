package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx"
	_ "modernc.org/sqlite"             // database/sql driver "sqlite"

	"sealdesk/hub/api"
)

type dialect int

const (
	sqliteDialect dialect = iota
	postgresDialect
)

// sqlStore implements Store over database/sql. Both drivers accept $N placeholders, and both
// databases support INSERT ... ON CONFLICT DO NOTHING RETURNING, so the SQL is shared; only
// the DDL differs (see migrations).
type sqlStore struct {
	db      *sql.DB
	dialect dialect
	// wmu serialises SQLite write transactions in this process: SQLite allows one writer,
	// and waiting here is cheaper and fairer than SQLite's sleeping busy handler.
	wmu sync.Mutex
	// parts caches the attached signing-log partitions (PostgreSQL; partition.go).
	parts partitionCache
}

// Open opens (creating if needed) the store named by dsn and applies pending migrations:
// "sqlite:PATH" (or a bare path), or "postgres://..." / "postgresql://...".
func Open(ctx context.Context, dsn string) (Store, error) {
	return openTo(ctx, dsn, len(migrations))
}

// openTo opens the store with the migrations up to version last applied.
func openTo(ctx context.Context, dsn string, last int) (*sqlStore, error) {
	switch {
	case strings.HasPrefix(dsn, "postgres://"), strings.HasPrefix(dsn, "postgresql://"):
		db, err := sql.Open("pgx", dsn)
		if err != nil {
			return nil, fmt.Errorf("hub store: %w", err)
		}
		db.SetMaxOpenConns(16)
		db.SetMaxIdleConns(16)
		s := &sqlStore{db: db, dialect: postgresDialect}
		if err := s.migrateTo(ctx, last); err != nil {
			db.Close()
			return nil, err
		}
		if last == len(migrations) {
			if err := s.MaintainPartitions(ctx, time.Now()); err != nil {
				db.Close()
				return nil, err
			}
		}
		return s, nil
	default:
		path := strings.TrimPrefix(dsn, "sqlite:")
		if path == "" {
			return nil, errors.New("hub store: empty SQLite path (want --db sqlite:PATH)")
		}
		q := url.Values{}
		q.Add("_pragma", "busy_timeout(10000)")
		q.Add("_pragma", "journal_mode(WAL)")
		q.Add("_pragma", "synchronous(NORMAL)")
		q.Add("_pragma", "foreign_keys(1)")
		q.Set("_txlock", "immediate")
		db, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
		if err != nil {
			return nil, fmt.Errorf("hub store: %w", err)
		}
		db.SetMaxOpenConns(8)
		db.SetMaxIdleConns(8)
		s := &sqlStore{db: db, dialect: sqliteDialect}
		if err := s.migrateTo(ctx, last); err != nil {
			db.Close()
			return nil, fmt.Errorf("hub store %s: %w", path, err)
		}
		return s, nil
	}
}

func (s *sqlStore) Close() error { return s.db.Close() }

// tx runs fn in a transaction, serialised for SQLite.
func (s *sqlStore) tx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	if s.dialect == sqliteDialect {
		s.wmu.Lock()
		defer s.wmu.Unlock()
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	return tx.Commit()
}

// ph is the placeholder of the n-th argument of a statement whose placeholders are all in
// order. SQLite gets anonymous "?": it resolves named "$N" parameters by a linear search
// per parameter, which made a 4,800-parameter batch insert quadratic.
func (s *sqlStore) ph(n int) string {
	if s.dialect == sqliteDialect {
		return "?"
	}
	return "$" + strconv.Itoa(n)
}

func us(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMicro()
}

func fromUS(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return time.UnixMicro(v).UTC()
}

// isUnique reports a unique-constraint violation from either driver.
func isUnique(err error) bool {
	if err == nil {
		return false
	}
	m := err.Error()
	return strings.Contains(m, "UNIQUE constraint failed") || strings.Contains(m, "SQLSTATE 23505") ||
		strings.Contains(m, "duplicate key value")
}

func (s *sqlStore) CreateOrg(ctx context.Context, o api.Org) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO orgs (id, name, uscc, created) VALUES ($1, $2, $3, $4)`,
			o.ID, o.Name, o.USCC, us(o.Created))
		if isUnique(err) {
			return ErrExists
		}
		return err
	})
}

func (s *sqlStore) GetOrg(ctx context.Context, id string) (*api.Org, error) {
	var o api.Org
	var created int64
	err := s.db.QueryRowContext(ctx, `SELECT id, name, uscc, created FROM orgs WHERE id = $1`, id).
		Scan(&o.ID, &o.Name, &o.USCC, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	o.Created = fromUS(created)
	return &o, nil
}

func (s *sqlStore) ListOrgs(ctx context.Context) ([]api.Org, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, name, uscc, created FROM orgs ORDER BY id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []api.Org{}
	for rows.Next() {
		var o api.Org
		var created int64
		if err := rows.Scan(&o.ID, &o.Name, &o.USCC, &created); err != nil {
			return nil, err
		}
		o.Created = fromUS(created)
		out = append(out, o)
	}
	return out, rows.Err()
}

func (s *sqlStore) AddCredential(ctx context.Context, hash string, p api.Principal) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO credentials (hash, org_id, role, label, created) VALUES ($1, $2, $3, $4, $5)`,
			hash, p.OrgID, p.Role, p.Label, us(time.Now()))
		if isUnique(err) {
			return ErrExists
		}
		return err
	})
}

func (s *sqlStore) Credential(ctx context.Context, hash string) (*api.Principal, error) {
	var p api.Principal
	err := s.db.QueryRowContext(ctx, `SELECT org_id, role, label FROM credentials WHERE hash = $1 AND revoked = 0`, hash).
		Scan(&p.OrgID, &p.Role, &p.Label)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	return &p, nil
}

func (s *sqlStore) ListCredentials(ctx context.Context) ([]Credential, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT hash, org_id, role, label, created, revoked FROM credentials ORDER BY created, hash`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Credential{}
	for rows.Next() {
		var c Credential
		var created, revoked int64
		if err := rows.Scan(&c.Hash, &c.OrgID, &c.Role, &c.Label, &created, &revoked); err != nil {
			return nil, err
		}
		c.Created, c.Revoked = fromUS(created), fromUS(revoked)
		out = append(out, c)
	}
	return out, rows.Err()
}

func (s *sqlStore) RevokeCredential(ctx context.Context, prefix string, at time.Time) (*Credential, error) {
	all, err := s.ListCredentials(ctx)
	if err != nil {
		return nil, err
	}
	var match []Credential
	for _, c := range all {
		if strings.HasPrefix(c.Hash, prefix) && c.Revoked.IsZero() {
			match = append(match, c)
		}
	}
	switch len(match) {
	case 0:
		return nil, ErrNotFound
	case 1:
	default:
		return nil, ErrAmbiguous
	}
	err = s.tx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE credentials SET revoked = $1 WHERE hash = $2`, us(at), match[0].Hash)
		return err
	})
	match[0].Revoked = at
	return &match[0], err
}

func certHash(der []byte) string {
	h := sha256.Sum256(der)
	return hex.EncodeToString(h[:])
}

func (s *sqlStore) CreateSeal(ctx context.Context, r *SealRow) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		return insertSeal(ctx, tx, r, []api.StatusEvent{{Status: r.Status, Reason: r.StatusReason, At: r.StatusAt, Actor: "filing"}})
	})
}

// insertSeal files r with its certificates and its first status events (oldest first).
func insertSeal(ctx context.Context, tx *sql.Tx, r *SealRow, events []api.StatusEvent) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO seals (es_id, org_id, name, filing_no, owner_uscc, valid_start, valid_end,
		seal_der, status, status_reason, status_at, filed_at, app_id, replaces) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`,
		r.ESID, r.OrgID, r.Name, r.FilingNumber, r.OwnerUSCC, us(r.ValidStart), us(r.ValidEnd), r.SealDER,
		r.Status, r.StatusReason, us(r.StatusAt), us(r.FiledAt), r.ApplicationID, r.Replaces)
	if isUnique(err) {
		return ErrExists
	}
	if err != nil {
		return err
	}
	if err := insertCerts(ctx, tx, r.ESID, r.Certs); err != nil {
		return err
	}
	for _, ev := range events {
		if _, err := tx.ExecContext(ctx, `INSERT INTO seal_events (es_id, status, reason, at, actor) VALUES ($1, $2, $3, $4, $5)`,
			r.ESID, ev.Status, ev.Reason, us(ev.At), ev.Actor); err != nil {
			return err
		}
	}
	return nil
}

func insertCerts(ctx context.Context, tx *sql.Tx, esID string, certs [][]byte) error {
	seen := map[string]bool{}
	for _, c := range certs {
		h := certHash(c)
		if seen[h] {
			continue
		}
		seen[h] = true
		if _, err := tx.ExecContext(ctx, `INSERT INTO seal_certs (es_id, sha256, der) VALUES ($1, $2, $3)`, esID, h, c); err != nil {
			return err
		}
	}
	return nil
}

const sealCols = `es_id, org_id, name, filing_no, owner_uscc, valid_start, valid_end, status, status_reason, status_at, filed_at,
	CASE WHEN seal_der IS NULL THEN 0 ELSE length(seal_der) END, app_id, replaces`

type scanner interface{ Scan(...any) error }

func scanSeal(r scanner) (*api.Seal, error) {
	var s api.Seal
	var vs, ve, sa, fa, sealLen int64
	if err := r.Scan(&s.ESID, &s.OrgID, &s.Name, &s.FilingNumber, &s.OwnerUSCC, &vs, &ve, &s.Status, &s.StatusReason, &sa, &fa, &sealLen, &s.ApplicationID, &s.Replaces); err != nil {
		return nil, err
	}
	s.ValidStart, s.ValidEnd, s.StatusAt, s.FiledAt = fromUS(vs), fromUS(ve), fromUS(sa), fromUS(fa)
	s.HasSealObject = sealLen > 0
	return &s, nil
}

func (s *sqlStore) GetSeal(ctx context.Context, esID string) (*api.Seal, error) {
	seal, err := scanSeal(s.db.QueryRowContext(ctx, `SELECT `+sealCols+` FROM seals WHERE es_id = $1`, esID))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	// Certificates and history in one round trip (verification latency on PostgreSQL).
	rows, err := s.db.QueryContext(ctx, `SELECT kind, a, b, at, actor FROM (
		SELECT 'c' AS kind, sha256 AS a, '' AS b, 0 AS at, '' AS actor, 0 AS seq FROM seal_certs WHERE es_id = $1
		UNION ALL
		SELECT 'e', status, reason, at, actor, seq FROM seal_events WHERE es_id = $1) x ORDER BY kind, seq, a`, esID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	seal.CertSHA256 = []string{}
	for rows.Next() {
		var kind, a, b, actor string
		var at int64
		if err := rows.Scan(&kind, &a, &b, &at, &actor); err != nil {
			return nil, err
		}
		if kind == "c" {
			seal.CertSHA256 = append(seal.CertSHA256, a)
			continue
		}
		seal.StatusHistory = append(seal.StatusHistory, api.StatusEvent{Status: a, Reason: b, At: fromUS(at), Actor: actor})
	}
	return seal, rows.Err()
}

func (s *sqlStore) certHashes(ctx context.Context, esID string) ([]string, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT sha256 FROM seal_certs WHERE es_id = $1 ORDER BY sha256`, esID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []string{}
	for rows.Next() {
		var h string
		if err := rows.Scan(&h); err != nil {
			return nil, err
		}
		out = append(out, h)
	}
	return out, rows.Err()
}

func (s *sqlStore) SealCerts(ctx context.Context, esID string) ([][]byte, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT der FROM seal_certs WHERE es_id = $1 ORDER BY sha256`, esID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out [][]byte
	for rows.Next() {
		var d []byte
		if err := rows.Scan(&d); err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

func (s *sqlStore) ListSeals(ctx context.Context, orgID, status string) ([]api.Seal, error) {
	q := `SELECT ` + sealCols + ` FROM seals WHERE ($1 = '' OR org_id = $1) AND ($2 = '' OR status = $2) ORDER BY es_id`
	rows, err := s.db.QueryContext(ctx, q, orgID, status)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []api.Seal{}
	for rows.Next() {
		seal, err := scanSeal(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *seal)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for i := range out {
		if out[i].CertSHA256, err = s.certHashes(ctx, out[i].ESID); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// inList returns "$k,$k+1,..." for n values starting at placeholder k, and the values.
func inList(k int, ids []string) (string, []any) {
	var b strings.Builder
	args := make([]any, len(ids))
	for i, id := range ids {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, "$%d", k+i)
		args[i] = id
	}
	return b.String(), args
}

func (s *sqlStore) SealStatuses(ctx context.Context, ids []string) (map[string]api.SealStatus, error) {
	out := map[string]api.SealStatus{}
	for len(ids) > 0 {
		n := min(len(ids), 500)
		list, args := inList(1, ids[:n])
		ids = ids[n:]
		rows, err := s.db.QueryContext(ctx, `SELECT es_id, status, status_reason, status_at, valid_start, valid_end, owner_uscc, name
			FROM seals WHERE es_id IN (`+list+`)`, args...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var st api.SealStatus
			var sa, vs, ve int64
			if err := rows.Scan(&st.ESID, &st.Status, &st.Reason, &sa, &vs, &ve, &st.OwnerUSCC, &st.Name); err != nil {
				rows.Close()
				return nil, err
			}
			st.StatusAt, st.ValidStart, st.ValidEnd = fromUS(sa), fromUS(vs), fromUS(ve)
			out[st.ESID] = st
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	for id, st := range out {
		h, err := s.certHashes(ctx, id)
		if err != nil {
			return nil, err
		}
		st.CertSHA256 = h
		out[id] = st
	}
	return out, nil
}

func (s *sqlStore) SealOwners(ctx context.Context, ids []string) (map[string]string, error) {
	out := map[string]string{}
	for len(ids) > 0 {
		n := min(len(ids), 500)
		list, args := inList(1, ids[:n])
		ids = ids[n:]
		rows, err := s.db.QueryContext(ctx, `SELECT es_id, org_id FROM seals WHERE es_id IN (`+list+`)`, args...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var id, org string
			if err := rows.Scan(&id, &org); err != nil {
				rows.Close()
				return nil, err
			}
			out[id] = org
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func (s *sqlStore) SealsByCert(ctx context.Context, certSHA256 string) ([]string, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT es_id FROM seal_certs WHERE sha256 = $1 ORDER BY es_id`, strings.ToLower(certSHA256))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out = append(out, id)
	}
	return out, rows.Err()
}

func (s *sqlStore) SetStatus(ctx context.Context, esID string, ev api.StatusEvent) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE seals SET status = $1, status_reason = $2, status_at = $3, changed_seq = changed_seq + 1 WHERE es_id = $4`,
			ev.Status, ev.Reason, us(ev.At), esID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrNotFound
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO seal_events (es_id, status, reason, at, actor) VALUES ($1, $2, $3, $4, $5)`,
			esID, ev.Status, ev.Reason, us(ev.At), ev.Actor)
		return err
	})
}

func (s *sqlStore) Renew(ctx context.Context, esID string, validEnd time.Time, certs [][]byte, sealDER []byte) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE seals SET valid_end = $1 WHERE es_id = $2`, us(validEnd), esID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrNotFound
		}
		if sealDER != nil {
			if _, err := tx.ExecContext(ctx, `UPDATE seals SET seal_der = $1 WHERE es_id = $2`, sealDER, esID); err != nil {
				return err
			}
		}
		if len(certs) > 0 {
			if _, err := tx.ExecContext(ctx, `DELETE FROM seal_certs WHERE es_id = $1`, esID); err != nil {
				return err
			}
			if err := insertCerts(ctx, tx, esID, certs); err != nil {
				return err
			}
		}
		return nil
	})
}

func (s *sqlStore) StatusChangesSince(ctx context.Context, t time.Time) ([]api.SealStatus, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT DISTINCT es_id FROM seal_events WHERE at > $1 AND actor <> 'filing'`, us(t))
	if err != nil {
		return nil, err
	}
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return nil, err
		}
		ids = append(ids, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	m, err := s.SealStatuses(ctx, ids)
	if err != nil {
		return nil, err
	}
	out := []api.SealStatus{}
	for _, id := range ids {
		out = append(out, m[id])
	}
	return out, nil
}

// recordCols is the column list of records, in the order insertRecords binds them.
const recordCols = `org_id, id, seal_id, cert_sha256, doc_alg, doc_digest, doc_name, pages, signed_at, client, body_hash, received_at`

func (s *sqlStore) InsertRecords(ctx context.Context, orgID string, recs []api.Record, now time.Time) ([]string, error) {
	results := make([]string, len(recs))
	hashes := make([]string, len(recs))
	first := map[string]int{} // id -> index of its first occurrence in this batch
	var unique []int
	for i := range recs {
		hashes[i] = recs[i].BodyHash()
		if j, ok := first[recs[i].ID]; ok {
			// A repeated id inside one batch is judged against its first occurrence.
			if hashes[j] == hashes[i] {
				results[i] = api.ResultDuplicate
			} else {
				results[i] = api.ResultConflict
			}
			continue
		}
		first[recs[i].ID] = i
		unique = append(unique, i)
	}
	if s.dialect == postgresDialect {
		if err := s.insertPartitioned(ctx, orgID, recs, hashes, unique, results, now); err != nil {
			return nil, err
		}
		return results, nil
	}
	err := s.tx(ctx, func(tx *sql.Tx) error {
		created := map[string]bool{}
		if s.dialect == sqliteDialect {
			// SQLite is in-process: one prepared single-row statement executed per record
			// costs no round trips and skips re-parsing a huge multi-row statement.
			stmt, err := tx.PrepareContext(ctx, `INSERT INTO records (`+recordCols+`) VALUES (?,?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT (org_id, id) DO NOTHING`)
			if err != nil {
				return err
			}
			defer stmt.Close()
			for _, i := range unique {
				r := &recs[i]
				pages, _ := json.Marshal(r.Pages)
				res, err := stmt.ExecContext(ctx, orgID, r.ID, r.SealID, strings.ToLower(r.SignerCertSHA256), r.DocDigestAlg,
					strings.ToLower(r.DocDigest), r.DocName, string(pages), us(r.SignedAt), r.Client, hashes[i], us(now))
				if err != nil {
					return err
				}
				if n, _ := res.RowsAffected(); n == 1 {
					created[r.ID] = true
				}
			}
		}
		const chunk = 400 // 12 columns: 4800 parameters, well inside both databases' limits
		for start := 0; s.dialect == postgresDialect && start < len(unique); start += chunk {
			part := unique[start:min(start+chunk, len(unique))]
			var b strings.Builder
			b.WriteString(`INSERT INTO records (` + recordCols + `) VALUES `)
			args := make([]any, 0, len(part)*12)
			for k, i := range part {
				if k > 0 {
					b.WriteByte(',')
				}
				n := len(args)
				b.WriteByte('(')
				for c := 1; c <= 12; c++ {
					if c > 1 {
						b.WriteByte(',')
					}
					b.WriteString(s.ph(n + c))
				}
				b.WriteByte(')')
				r := &recs[i]
				pages, _ := json.Marshal(r.Pages)
				args = append(args, orgID, r.ID, r.SealID, strings.ToLower(r.SignerCertSHA256), r.DocDigestAlg,
					strings.ToLower(r.DocDigest), r.DocName, string(pages), us(r.SignedAt), r.Client, hashes[i], us(now))
			}
			b.WriteString(` ON CONFLICT (org_id, id) DO NOTHING RETURNING id`)
			rows, err := tx.QueryContext(ctx, b.String(), args...)
			if err != nil {
				return err
			}
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
		}
		var existing []string
		for _, i := range unique {
			if created[recs[i].ID] {
				results[i] = api.ResultCreated
			} else {
				existing = append(existing, recs[i].ID)
			}
		}
		stored := map[string]string{}
		for len(existing) > 0 {
			n := min(len(existing), 500)
			list, args := inList(2, existing[:n])
			existing = existing[n:]
			rows, err := tx.QueryContext(ctx, `SELECT id, body_hash FROM records WHERE org_id = $1 AND id IN (`+list+`)`,
				append([]any{orgID}, args...)...)
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
		for _, i := range unique {
			if results[i] != "" {
				continue
			}
			if stored[recs[i].ID] == hashes[i] {
				results[i] = api.ResultDuplicate
			} else {
				results[i] = api.ResultConflict
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return results, nil
}

const recordSelect = `SELECT seq, org_id, id, seal_id, cert_sha256, doc_alg, doc_digest, doc_name, pages, signed_at, client, received_at FROM records`

func scanRecord(r scanner) (*api.StoredRecord, int64, error) {
	var rec api.StoredRecord
	var seq, signed, received int64
	var pages string
	if err := r.Scan(&seq, &rec.OrgID, &rec.ID, &rec.SealID, &rec.SignerCertSHA256, &rec.DocDigestAlg, &rec.DocDigest,
		&rec.DocName, &pages, &signed, &rec.Client, &received); err != nil {
		return nil, 0, err
	}
	rec.SignedAt, rec.ReceivedAt = fromUS(signed), fromUS(received)
	if err := json.Unmarshal([]byte(pages), &rec.Pages); err != nil {
		return nil, 0, fmt.Errorf("record %s: stored pages are corrupt: %w", rec.ID, err)
	}
	return &rec, seq, nil
}

func (s *sqlStore) GetRecord(ctx context.Context, orgID, id string) (*api.StoredRecord, error) {
	q, args := recordSelect+` WHERE org_id = $1 AND id = $2`, []any{orgID, id}
	if s.dialect == postgresDialect {
		// record_keys names the month, so one partition is searched, not every one.
		var signed int64
		err := s.db.QueryRowContext(ctx, `SELECT signed_at FROM record_keys WHERE org_id = $1 AND id = $2`, orgID, id).Scan(&signed)
		if errors.Is(err, sql.ErrNoRows) {
			return nil, ErrNotFound
		}
		if err != nil {
			return nil, err
		}
		q, args = q+` AND signed_at = $3`, append(args, signed)
	}
	rec, _, err := scanRecord(s.db.QueryRowContext(ctx, q, args...))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	return rec, err
}

func (s *sqlStore) ListRecords(ctx context.Context, orgID string, q RecordQuery) ([]api.StoredRecord, int64, error) {
	if q.Limit <= 0 || q.Limit > 1000 {
		q.Limit = 1000
	}
	query, args := listRecordsQuery(orgID, q)
	rows, err := s.db.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, 0, err
	}
	defer rows.Close()
	out := []api.StoredRecord{}
	var last int64
	for rows.Next() {
		rec, seq, err := scanRecord(rows)
		if err != nil {
			return nil, 0, err
		}
		out = append(out, *rec)
		last = seq
	}
	return out, last, rows.Err()
}

func (s *sqlStore) RecordsByDigest(ctx context.Context, digest string, limit int) ([]api.StoredRecord, error) {
	rows, err := s.db.QueryContext(ctx, recordSelect+` WHERE doc_digest = $1 ORDER BY seq LIMIT $2`, strings.ToLower(digest), limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []api.StoredRecord{}
	for rows.Next() {
		rec, _, err := scanRecord(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *rec)
	}
	return out, rows.Err()
}

func (s *sqlStore) Audit(ctx context.Context, ev api.AuditEvent) error {
	return s.AppendAudit(ctx, nil, ev)
}

func (s *sqlStore) ListAudit(ctx context.Context, q AuditQuery) ([]api.AuditEvent, error) {
	if q.Limit <= 0 || q.Limit > 1000 {
		q.Limit = 1000
	}
	until := int64(1) << 62
	if !q.Until.IsZero() {
		until = us(q.Until)
	}
	rows, err := s.db.QueryContext(ctx, `SELECT seq, org_id, at, actor, action, target, detail, role, reason, effective_at, prev, key_id, sig FROM audit
		WHERE seq > $1 AND ($2 = '' OR org_id = $2) AND at >= $3 AND at <= $4 AND ($5 = '' OR action = $5)
		ORDER BY seq LIMIT $6`, q.After, q.OrgID, us(q.Since), until, q.Action, q.Limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []api.AuditEvent{}
	for rows.Next() {
		var ev api.AuditEvent
		var at, eff int64
		if err := rows.Scan(&ev.Seq, &ev.OrgID, &at, &ev.Actor, &ev.Action, &ev.Target, &ev.Detail,
			&ev.Role, &ev.Reason, &eff, &ev.Prev, &ev.KeyID, &ev.Signature); err != nil {
			return nil, err
		}
		ev.At, ev.EffectiveAt = fromUS(at), fromUS(eff)
		out = append(out, ev)
	}
	return out, rows.Err()
}
