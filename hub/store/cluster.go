package store

import (
	"context"
	"database/sql"
	"errors"
	"time"
)

// Cluster is what several sealhub instances serving one database share through it. Both
// stores implement it (SQLite for instances on one machine sharing a file); callers reach it
// by a type assertion, so other Store implementations may leave it out.
type Cluster interface {
	// ClaimSetting stores value under name unless a value is stored already, and returns
	// the stored one (the first instance's claim wins).
	ClaimSetting(ctx context.Context, name, value string) (string, error)
	// Heartbeat records that instance id (holding status key keyID) is alive at now, forgets
	// instances silent for longer than stale, and returns the live instances' key ids.
	Heartbeat(ctx context.Context, id, keyID string, now time.Time, stale time.Duration) ([]string, error)
	// Leave removes instance id (a clean shutdown).
	Leave(ctx context.Context, id string) error
	// Ready reports whether the database answers and accepts writes (a PostgreSQL standby
	// in recovery does not).
	Ready(ctx context.Context) error
}

// Partitions is the signing log's monthly partitioning (PostgreSQL only; see partition.go).
type Partitions interface {
	MaintainPartitions(ctx context.Context, now time.Time) error
	RecordPartitions(ctx context.Context) ([]Partition, error)
	RetireRecords(ctx context.Context, before time.Time) ([]string, error)
}

var (
	_ Cluster    = (*sqlStore)(nil)
	_ Partitions = (*sqlStore)(nil)
)

// ErrReadOnly is Ready's answer for a database that is a standby in recovery.
var ErrReadOnly = errors.New("the database is a read-only standby (in recovery)")

func (s *sqlStore) ClaimSetting(ctx context.Context, name, value string) (string, error) {
	var stored string
	err := s.tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO hub_settings (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING`, name, value); err != nil {
			return err
		}
		return tx.QueryRowContext(ctx, `SELECT value FROM hub_settings WHERE name = $1`, name).Scan(&stored)
	})
	return stored, err
}

func (s *sqlStore) Heartbeat(ctx context.Context, id, keyID string, now time.Time, stale time.Duration) ([]string, error) {
	var keys []string
	err := s.tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO hub_instances (id, key_id, started, seen) VALUES ($1, $2, $3, $3)
			ON CONFLICT (id) DO UPDATE SET seen = excluded.seen, key_id = excluded.key_id`, id, keyID, us(now)); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM hub_instances WHERE seen < $1`, us(now.Add(-stale))); err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx, `SELECT key_id FROM hub_instances ORDER BY id`)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var k string
			if err := rows.Scan(&k); err != nil {
				return err
			}
			keys = append(keys, k)
		}
		return rows.Err()
	})
	return keys, err
}

func (s *sqlStore) Leave(ctx context.Context, id string) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `DELETE FROM hub_instances WHERE id = $1`, id)
		return err
	})
}

func (s *sqlStore) Ready(ctx context.Context) error {
	if s.dialect != postgresDialect {
		return s.db.PingContext(ctx)
	}
	var recovery bool
	if err := s.db.QueryRowContext(ctx, `SELECT pg_is_in_recovery()`).Scan(&recovery); err != nil {
		return err
	}
	if recovery {
		return ErrReadOnly
	}
	return nil
}
