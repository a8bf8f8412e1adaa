package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
)

// migrations are applied in order, each once, each in its own transaction; schema_migrations
// remembers the last applied version. Never edit a released migration: append a new one.
// {{SERIAL}} and {{BLOB}} are replaced per database.
var migrations = []string{
	// 1: the initial schema.
	`CREATE TABLE orgs (
		id TEXT PRIMARY KEY,
		name TEXT NOT NULL,
		uscc TEXT NOT NULL UNIQUE,
		created BIGINT NOT NULL
	);
	CREATE TABLE credentials (
		hash TEXT PRIMARY KEY,
		org_id TEXT NOT NULL,
		role TEXT NOT NULL,
		label TEXT NOT NULL,
		created BIGINT NOT NULL,
		revoked BIGINT NOT NULL DEFAULT 0
	);
	CREATE TABLE seals (
		es_id TEXT PRIMARY KEY,
		org_id TEXT NOT NULL REFERENCES orgs(id),
		name TEXT NOT NULL,
		filing_no TEXT NOT NULL UNIQUE,
		owner_uscc TEXT NOT NULL,
		valid_start BIGINT NOT NULL,
		valid_end BIGINT NOT NULL,
		seal_der {{BLOB}},
		status TEXT NOT NULL,
		status_reason TEXT NOT NULL,
		status_at BIGINT NOT NULL,
		filed_at BIGINT NOT NULL,
		changed_seq BIGINT NOT NULL DEFAULT 0
	);
	CREATE INDEX seals_org ON seals (org_id, es_id);
	CREATE TABLE seal_certs (
		es_id TEXT NOT NULL REFERENCES seals(es_id),
		sha256 TEXT NOT NULL,
		der {{BLOB}} NOT NULL,
		PRIMARY KEY (es_id, sha256)
	);
	CREATE INDEX seal_certs_sha ON seal_certs (sha256);
	CREATE TABLE seal_events (
		seq {{SERIAL}},
		es_id TEXT NOT NULL REFERENCES seals(es_id),
		status TEXT NOT NULL,
		reason TEXT NOT NULL,
		at BIGINT NOT NULL,
		actor TEXT NOT NULL
	);
	CREATE INDEX seal_events_es ON seal_events (es_id, seq);
	CREATE INDEX seal_events_at ON seal_events (at);
	CREATE TABLE records (
		seq {{SERIAL}},
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
		UNIQUE (org_id, id)
	);
	CREATE INDEX records_digest ON records (doc_digest);
	CREATE INDEX records_org_seq ON records (org_id, seq);
	CREATE TABLE audit (
		seq {{SERIAL}},
		org_id TEXT NOT NULL,
		at BIGINT NOT NULL,
		actor TEXT NOT NULL,
		action TEXT NOT NULL,
		target TEXT NOT NULL,
		detail TEXT NOT NULL
	);
	CREATE INDEX audit_org_seq ON audit (org_id, seq);`,
	// 2: the seal lifecycle (issue 13): applications with their append-only history, the
	// application and replaced seal of a seal, and signed, chained audit events.
	`CREATE TABLE applications (
		id TEXT PRIMARY KEY,
		org_id TEXT NOT NULL REFERENCES orgs(id),
		status TEXT NOT NULL,
		es_id TEXT NOT NULL,
		created BIGINT NOT NULL,
		updated BIGINT NOT NULL,
		body TEXT NOT NULL
	);
	CREATE INDEX applications_org ON applications (org_id, id);
	CREATE INDEX applications_status ON applications (status, id);
	CREATE TABLE application_events (
		seq {{SERIAL}},
		app_id TEXT NOT NULL REFERENCES applications(id),
		status TEXT NOT NULL,
		reason TEXT NOT NULL,
		at BIGINT NOT NULL,
		actor TEXT NOT NULL,
		role TEXT NOT NULL
	);
	CREATE INDEX application_events_app ON application_events (app_id, seq);
	ALTER TABLE seals ADD COLUMN app_id TEXT NOT NULL DEFAULT '';
	ALTER TABLE seals ADD COLUMN replaces TEXT NOT NULL DEFAULT '';
	ALTER TABLE audit ADD COLUMN role TEXT NOT NULL DEFAULT '';
	ALTER TABLE audit ADD COLUMN reason TEXT NOT NULL DEFAULT '';
	ALTER TABLE audit ADD COLUMN effective_at BIGINT NOT NULL DEFAULT 0;
	ALTER TABLE audit ADD COLUMN prev TEXT NOT NULL DEFAULT '';
	ALTER TABLE audit ADD COLUMN key_id TEXT NOT NULL DEFAULT '';
	ALTER TABLE audit ADD COLUMN sig {{BLOB}}`,
	// 3: PostgreSQL: the signing log range-partitioned by month of signing time, with the
	// record_keys table that keeps record ids unique across partitions (partition.go).
	// SQLite: nothing.
	`{{GO:partition-records}}`,
	// 4: what several hub instances on one database share (cluster.go): the status-signing
	// key every instance must hold, and each instance's heartbeat.
	`CREATE TABLE hub_settings (
		name TEXT PRIMARY KEY,
		value TEXT NOT NULL
	);
	CREATE TABLE hub_instances (
		id TEXT PRIMARY KEY,
		key_id TEXT NOT NULL,
		started BIGINT NOT NULL,
		seen BIGINT NOT NULL
	)`,
	// 5: staff accounts of the web console (argon2id password hashes).
	`CREATE TABLE staff (
		username TEXT PRIMARY KEY,
		org_id TEXT NOT NULL,
		role TEXT NOT NULL,
		pass_hash TEXT NOT NULL,
		created BIGINT NOT NULL,
		disabled BIGINT NOT NULL DEFAULT 0
	)`,
	// 6: mutual recognition (registry.go): a provider's durable queue of filings for the
	// registry, and the registry's accredited providers and received filings.
	`CREATE TABLE registry_queue (
		id TEXT PRIMARY KEY,
		kind TEXT NOT NULL,
		esid TEXT NOT NULL,
		body {{BLOB}} NOT NULL,
		created BIGINT NOT NULL,
		attempts INTEGER NOT NULL DEFAULT 0,
		next_try BIGINT NOT NULL,
		number TEXT NOT NULL DEFAULT '',
		acked BIGINT NOT NULL DEFAULT 0,
		last_error TEXT NOT NULL DEFAULT ''
	);
	CREATE INDEX registry_queue_due ON registry_queue (acked, next_try);
	CREATE TABLE registry_providers (
		id TEXT PRIMARY KEY,
		body TEXT NOT NULL,
		status TEXT NOT NULL,
		updated BIGINT NOT NULL
	);
	CREATE TABLE registry_filings (
		seq {{SERIAL}},
		provider TEXT NOT NULL,
		filing_id TEXT NOT NULL,
		kind TEXT NOT NULL,
		esid TEXT NOT NULL,
		status TEXT NOT NULL,
		reason TEXT NOT NULL,
		at BIGINT NOT NULL,
		body {{BLOB}} NOT NULL,
		number TEXT NOT NULL,
		received BIGINT NOT NULL,
		UNIQUE (provider, filing_id)
	);
	CREATE INDEX registry_filings_esid ON registry_filings (esid, at);
	CREATE INDEX registry_filings_at ON registry_filings (at)`,
}

// goMigrations are migrations written in Go, named in the list as {{GO:name}}; they run in
// the migration transaction like the SQL ones.
var goMigrations = map[string]func(ctx context.Context, s *sqlStore, tx *sql.Tx) error{
	"partition-records": partitionRecords,
}

func (s *sqlStore) ddl(m string) string {
	if s.dialect == postgresDialect {
		return strings.NewReplacer("{{SERIAL}}", "BIGSERIAL PRIMARY KEY", "{{BLOB}}", "BYTEA").Replace(m)
	}
	return strings.NewReplacer("{{SERIAL}}", "INTEGER PRIMARY KEY AUTOINCREMENT", "{{BLOB}}", "BLOB").Replace(m)
}

// migrate brings the schema up to date. On PostgreSQL an advisory lock keeps two hubs starting
// at once from applying the same migration twice; SQLite's immediate transactions do the same.
func (s *sqlStore) migrate(ctx context.Context) error { return s.migrateTo(ctx, len(migrations)) }

// migrateTo applies the migrations up to version last (tests build older schemas with it).
func (s *sqlStore) migrateTo(ctx context.Context, last int) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		if s.dialect == postgresDialect {
			if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(80680010)`); err != nil {
				return fmt.Errorf("migration lock: %w", err)
			}
		}
		if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT NOT NULL)`); err != nil {
			return fmt.Errorf("migrations table: %w", err)
		}
		var v sql.NullInt64
		if err := tx.QueryRowContext(ctx, `SELECT max(version) FROM schema_migrations`).Scan(&v); err != nil {
			return err
		}
		cur := int(v.Int64)
		if cur > len(migrations) {
			return fmt.Errorf("database schema version %d is newer than this sealhub knows (%d): upgrade sealhub", cur, len(migrations))
		}
		for i := cur; i < last; i++ {
			if name, ok := strings.CutPrefix(migrations[i], "{{GO:"); ok {
				if err := goMigrations[strings.TrimSuffix(name, "}}")](ctx, s, tx); err != nil {
					return fmt.Errorf("migration %d: %w", i+1, err)
				}
				if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version) VALUES ($1)`, i+1); err != nil {
					return err
				}
				continue
			}
			for _, stmt := range strings.Split(s.ddl(migrations[i]), ";") {
				if strings.TrimSpace(stmt) == "" {
					continue
				}
				if _, err := tx.ExecContext(ctx, stmt); err != nil {
					return fmt.Errorf("migration %d: %w", i+1, err)
				}
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version) VALUES ($1)`, i+1); err != nil {
				return err
			}
		}
		return nil
	})
}
