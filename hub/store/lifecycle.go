package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"sealdesk/hub/api"
)

// ErrStale means a guarded change found the application or seal in another status than
// expected: someone changed it meanwhile (e.g. a second approval racing the first).
var ErrStale = errors.New("changed meanwhile")

// AuditSigner fills an audit event's KeyID and Signature (the hub key). The store sets Prev
// before calling it, inside the transaction that writes the event, so the chain has no forks.
type AuditSigner func(ev *api.AuditEvent) error

// AppRow is an application as stored: the API view plus what only the holder fetches.
type AppRow struct {
	api.Application
	// Chain is the issued holder certificate and its issuers (DER, leaf first), once approved.
	Chain [][]byte `json:"chain,omitempty"`
}

// ApplicationQuery selects applications. OrgID "" is every organisation; Status "" every
// status; Pending selects submitted and resubmitted ones.
type ApplicationQuery struct {
	OrgID   string
	Status  string
	Pending bool
}

// SealChange is a guarded status change of a seal: applied only while the seal is in one of
// From, appending Events (oldest first; the last is the new current status).
type SealChange struct {
	ESID   string
	From   []string
	Events []api.StatusEvent
	// Filings are what the provider owes the registry for this change (issue 14), queued in
	// the change's own transaction so a crash cannot commit the one without the other.
	Filings []QueuedFiling
}

// Lifecycle is the part of the store the application and seal lifecycle needs. Every write
// is one transaction together with its audit events, so a crash leaves either the whole step
// (state, history and audit) or none of it.
type Lifecycle interface {
	// AppendAudit writes events in order, chained and (with sign) signed.
	AppendAudit(ctx context.Context, sign AuditSigner, evs ...api.AuditEvent) error
	CreateApplication(ctx context.Context, a *AppRow, ev api.ApplicationEvent, sign AuditSigner, audit ...api.AuditEvent) error
	// GetApplication returns an application with its history (oldest first).
	GetApplication(ctx context.Context, id string) (*AppRow, error)
	ListApplications(ctx context.Context, q ApplicationQuery) ([]api.Application, error)
	// UpdateApplication stores a (body and status) if its stored status is one of from, and
	// appends ev when ev.Status is not empty; ErrStale otherwise.
	UpdateApplication(ctx context.Context, a *AppRow, from []string, ev api.ApplicationEvent, sign AuditSigner, audit ...api.AuditEvent) error
	// ApproveApplication is UpdateApplication, the filing of seal (with its first status
	// events) and the optional change of the seal it replaces, in one transaction.
	ApproveApplication(ctx context.Context, a *AppRow, from []string, ev api.ApplicationEvent, seal *SealRow, sealEvents []api.StatusEvent,
		replaced *SealChange, sign AuditSigner, audit ...api.AuditEvent) error
	// ChangeSeal applies a guarded status change with its audit events.
	ChangeSeal(ctx context.Context, ch SealChange, sign AuditSigner, audit ...api.AuditEvent) error
	// SealObject returns the DER seal filed with a seal (nil when none was).
	SealObject(ctx context.Context, esID string) ([]byte, error)
}

func (s *sqlStore) SealObject(ctx context.Context, esID string) ([]byte, error) {
	var der []byte
	err := s.db.QueryRowContext(ctx, `SELECT seal_der FROM seals WHERE es_id = $1`, esID).Scan(&der)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	return der, err
}

func (s *sqlStore) AppendAudit(ctx context.Context, sign AuditSigner, evs ...api.AuditEvent) error {
	return s.tx(ctx, func(tx *sql.Tx) error { return s.appendAudit(ctx, tx, sign, evs) })
}

// appendAudit writes evs at the end of the audit trail, each naming the link of the one
// before it. The chain is global (not per organisation) so that one lock orders it.
func (s *sqlStore) appendAudit(ctx context.Context, tx *sql.Tx, sign AuditSigner, evs []api.AuditEvent) error {
	if len(evs) == 0 {
		return nil
	}
	if s.dialect == postgresDialect {
		if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(80680011)`); err != nil {
			return fmt.Errorf("audit lock: %w", err)
		}
	}
	var prev []byte
	err := tx.QueryRowContext(ctx, `SELECT sig FROM audit ORDER BY seq DESC LIMIT 1`).Scan(&prev)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return err
	}
	for _, ev := range evs {
		ev.Prev = ""
		if len(prev) > 0 {
			ev.Prev = (&api.AuditEvent{Signature: prev}).Link()
		}
		ev.KeyID, ev.Signature = "", nil
		// Signed as stored: the store keeps microseconds.
		ev.At, ev.EffectiveAt = fromUS(us(ev.At)), fromUS(us(ev.EffectiveAt))
		if sign != nil {
			if err := sign(&ev); err != nil {
				return fmt.Errorf("signing the audit event: %w", err)
			}
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO audit (org_id, at, actor, action, target, detail, role, reason, effective_at, prev, key_id, sig)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
			ev.OrgID, us(ev.At), ev.Actor, ev.Action, ev.Target, ev.Detail, ev.Role, ev.Reason, us(ev.EffectiveAt), ev.Prev, ev.KeyID, ev.Signature); err != nil {
			return err
		}
		prev = ev.Signature
	}
	return nil
}

func appBody(a *AppRow) (string, error) {
	c := *a
	c.History = nil
	b, err := json.Marshal(&c)
	return string(b), err
}

func insertAppEvent(ctx context.Context, tx *sql.Tx, id string, ev api.ApplicationEvent) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO application_events (app_id, status, reason, at, actor, role) VALUES ($1, $2, $3, $4, $5, $6)`,
		id, ev.Status, ev.Reason, us(ev.At), ev.Actor, ev.Role)
	return err
}

func (s *sqlStore) CreateApplication(ctx context.Context, a *AppRow, ev api.ApplicationEvent, sign AuditSigner, audit ...api.AuditEvent) error {
	body, err := appBody(a)
	if err != nil {
		return err
	}
	return s.tx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO applications (id, org_id, status, es_id, created, updated, body) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
			a.ID, a.OrgID, a.Status, a.ESID, us(a.Created), us(a.Updated), body)
		if isUnique(err) {
			return ErrExists
		}
		if err != nil {
			return err
		}
		if err := insertAppEvent(ctx, tx, a.ID, ev); err != nil {
			return err
		}
		return s.appendAudit(ctx, tx, sign, audit)
	})
}

func (s *sqlStore) GetApplication(ctx context.Context, id string) (*AppRow, error) {
	var body string
	err := s.db.QueryRowContext(ctx, `SELECT body FROM applications WHERE id = $1`, id).Scan(&body)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	var a AppRow
	if err := json.Unmarshal([]byte(body), &a); err != nil {
		return nil, fmt.Errorf("application %s: stored body is corrupt: %w", id, err)
	}
	rows, err := s.db.QueryContext(ctx, `SELECT status, reason, at, actor, role FROM application_events WHERE app_id = $1 ORDER BY seq`, id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var ev api.ApplicationEvent
		var at int64
		if err := rows.Scan(&ev.Status, &ev.Reason, &at, &ev.Actor, &ev.Role); err != nil {
			return nil, err
		}
		ev.At = fromUS(at)
		a.History = append(a.History, ev)
	}
	return &a, rows.Err()
}

func (s *sqlStore) ListApplications(ctx context.Context, q ApplicationQuery) ([]api.Application, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT body FROM applications WHERE ($1 = '' OR org_id = $1) AND ($2 = '' OR status = $2)
		AND ($3 = 0 OR status IN ('submitted', 'resubmitted')) ORDER BY created, id`, q.OrgID, q.Status, map[bool]int{false: 0, true: 1}[q.Pending])
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []api.Application{}
	for rows.Next() {
		var body string
		if err := rows.Scan(&body); err != nil {
			return nil, err
		}
		var a AppRow
		if err := json.Unmarshal([]byte(body), &a); err != nil {
			return nil, fmt.Errorf("stored application is corrupt: %w", err)
		}
		// Listings leave out the bulky parts; GET /v1/applications/{id} has them.
		a.Picture, a.CSR = nil, nil
		for i := range a.Attachments {
			a.Attachments[i].Data = nil
		}
		out = append(out, a.Application)
	}
	return out, rows.Err()
}

func (s *sqlStore) updateApp(ctx context.Context, tx *sql.Tx, a *AppRow, from []string, ev api.ApplicationEvent) error {
	body, err := appBody(a)
	if err != nil {
		return err
	}
	list, args := inList(6, from)
	res, err := tx.ExecContext(ctx, `UPDATE applications SET status = $1, es_id = $2, updated = $3, body = $4 WHERE id = $5 AND status IN (`+list+`)`,
		append([]any{a.Status, a.ESID, us(a.Updated), body, a.ID}, args...)...)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrStale
	}
	if ev.Status == "" {
		return nil
	}
	return insertAppEvent(ctx, tx, a.ID, ev)
}

func (s *sqlStore) UpdateApplication(ctx context.Context, a *AppRow, from []string, ev api.ApplicationEvent, sign AuditSigner, audit ...api.AuditEvent) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		if err := s.updateApp(ctx, tx, a, from, ev); err != nil {
			return err
		}
		return s.appendAudit(ctx, tx, sign, audit)
	})
}

func (s *sqlStore) ApproveApplication(ctx context.Context, a *AppRow, from []string, ev api.ApplicationEvent, seal *SealRow, sealEvents []api.StatusEvent,
	replaced *SealChange, sign AuditSigner, audit ...api.AuditEvent) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		if err := s.updateApp(ctx, tx, a, from, ev); err != nil {
			return err
		}
		if err := insertSeal(ctx, tx, seal, sealEvents); err != nil {
			return err
		}
		if replaced != nil {
			if err := s.changeSeal(ctx, tx, *replaced); err != nil {
				return err
			}
		}
		return s.appendAudit(ctx, tx, sign, audit)
	})
}

func (s *sqlStore) changeSeal(ctx context.Context, tx *sql.Tx, ch SealChange) error {
	if len(ch.Events) == 0 {
		return errors.New("a seal change needs at least one event")
	}
	last := ch.Events[len(ch.Events)-1]
	list, args := inList(5, ch.From)
	res, err := tx.ExecContext(ctx, `UPDATE seals SET status = $1, status_reason = $2, status_at = $3, changed_seq = changed_seq + 1
		WHERE es_id = $4 AND status IN (`+list+`)`, append([]any{last.Status, last.Reason, us(last.At), ch.ESID}, args...)...)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrStale
	}
	for _, ev := range ch.Events {
		if _, err := tx.ExecContext(ctx, `INSERT INTO seal_events (es_id, status, reason, at, actor) VALUES ($1, $2, $3, $4, $5)`,
			ch.ESID, ev.Status, ev.Reason, us(ev.At), ev.Actor); err != nil {
			return err
		}
	}
	return enqueueFilings(ctx, tx, ch.Filings)
}

func (s *sqlStore) ChangeSeal(ctx context.Context, ch SealChange, sign AuditSigner, audit ...api.AuditEvent) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		if err := s.changeSeal(ctx, tx, ch); err != nil {
			return err
		}
		return s.appendAudit(ctx, tx, sign, audit)
	})
}
