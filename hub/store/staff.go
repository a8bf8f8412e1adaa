package store

import (
	"context"
	"database/sql"
	"errors"
)

func (s *sqlStore) CreateStaff(ctx context.Context, st Staff) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO staff (username, org_id, role, pass_hash, created) VALUES ($1, $2, $3, $4, $5)`,
			st.Username, st.OrgID, st.Role, st.PassHash, us(st.Created))
		if isUnique(err) {
			return ErrExists
		}
		return err
	})
}

const staffSelect = `SELECT username, org_id, role, pass_hash, created, disabled FROM staff`

func scanStaff(r scanner) (*Staff, error) {
	var st Staff
	var created, disabled int64
	if err := r.Scan(&st.Username, &st.OrgID, &st.Role, &st.PassHash, &created, &disabled); err != nil {
		return nil, err
	}
	st.Created = fromUS(created)
	if disabled != 0 {
		st.Disabled = fromUS(disabled)
	}
	return &st, nil
}

func (s *sqlStore) GetStaff(ctx context.Context, username string) (*Staff, error) {
	st, err := scanStaff(s.db.QueryRowContext(ctx, staffSelect+` WHERE username = $1`, username))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	return st, err
}

func (s *sqlStore) ListStaff(ctx context.Context) ([]Staff, error) {
	rows, err := s.db.QueryContext(ctx, staffSelect+` ORDER BY username`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Staff{}
	for rows.Next() {
		st, err := scanStaff(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *st)
	}
	return out, rows.Err()
}
