// Package store keeps sealhub's state: organisations, hashed credentials, filed seals with
// their status history, signing records and the audit trail. One Store interface has two
// implementations over database/sql — SQLite (modernc.org/sqlite, pure Go, the embedded
// default) and PostgreSQL (pgx) — sharing the same SQL, with schema migrations applied on Open.
//
// The store checks nothing about who may do what; hub/server does. The store guarantees what
// only the database can: a seal is filed once, a record id is stored once per organisation
// (InsertRecords is idempotent: a repeated id with the same body hash is a duplicate, with a
// different one a conflict, never an overwrite), and records and history are never updated.
package store

import (
	"context"
	"errors"
	"time"

	"sealdesk/hub/api"
)

// Errors the store reports; callers compare with errors.Is.
var (
	ErrNotFound  = errors.New("not found")
	ErrExists    = errors.New("already exists")
	ErrAmbiguous = errors.New("ambiguous")
)

// Credential is a stored credential as an admin lists it (the hash, never the token).
type Credential struct {
	Hash    string    `json:"hash"`
	OrgID   string    `json:"orgId,omitempty"`
	Role    string    `json:"role"`
	Label   string    `json:"label"`
	Created time.Time `json:"created"`
	Revoked time.Time `json:"revoked,omitzero"`
}

// SealRow is a seal to file, with the DER certificates it binds and the seal object itself.
type SealRow struct {
	api.Seal
	SealDER []byte
	Certs   [][]byte
}

// RecordQuery selects an organisation's records.
type RecordQuery struct {
	SealID string
	Since  time.Time // received at or after
	After  int64     // cursor: sequence number of the last record of the previous page
	Limit  int
	// SignedFrom and SignedBefore bound the signing time (zero: unbounded); on PostgreSQL
	// they prune the monthly partitions a query reads.
	SignedFrom, SignedBefore time.Time
	Digest                   string // the document digest (hex), "" for any
}

// Staff is a person who signs in to sealhub's web console. Role is a credential role (api:
// admin, reviewer, auditor, org); the console acts as that role and OrgID. PassHash is an
// argon2id PHC string (hub/server makes and checks it); the password is never stored.
type Staff struct {
	Username string    `json:"username"`
	OrgID    string    `json:"orgId,omitempty"`
	Role     string    `json:"role"`
	PassHash string    `json:"-"`
	Created  time.Time `json:"created"`
	Disabled time.Time `json:"disabled,omitzero"`
}

// AuditQuery selects audit events; OrgID "" means every organisation (admin).
type AuditQuery struct {
	OrgID  string
	Since  time.Time
	Until  time.Time
	Action string
	After  int64
	Limit  int
}

// Store is sealhub's persistence. Every method is safe for concurrent use.
type Store interface {
	CreateOrg(ctx context.Context, o api.Org) error
	GetOrg(ctx context.Context, id string) (*api.Org, error)
	ListOrgs(ctx context.Context) ([]api.Org, error)

	// AddCredential stores the SHA-256 (hex) of a bearer token or client certificate.
	AddCredential(ctx context.Context, hash string, p api.Principal) error
	Credential(ctx context.Context, hash string) (*api.Principal, error)
	ListCredentials(ctx context.Context) ([]Credential, error)
	// RevokeCredential revokes the one credential whose hash starts with prefix; ErrNotFound
	// when none does, ErrAmbiguous when several do.
	RevokeCredential(ctx context.Context, prefix string, at time.Time) (*Credential, error)

	CreateSeal(ctx context.Context, s *SealRow) error
	// GetSeal returns the seal with its status history (oldest first).
	GetSeal(ctx context.Context, esID string) (*api.Seal, error)
	SealCerts(ctx context.Context, esID string) ([][]byte, error)
	ListSeals(ctx context.Context, orgID, status string) ([]api.Seal, error)
	// SealStatuses returns the public facts of the seals that exist among ids.
	SealStatuses(ctx context.Context, ids []string) (map[string]api.SealStatus, error)
	// SealOwners maps each existing esID among ids to its organisation.
	SealOwners(ctx context.Context, ids []string) (map[string]string, error)
	SealsByCert(ctx context.Context, certSHA256 string) ([]string, error)
	// SetStatus appends a status event and makes it the seal's current status.
	SetStatus(ctx context.Context, esID string, ev api.StatusEvent) error
	Renew(ctx context.Context, esID string, validEnd time.Time, certs [][]byte, sealDER []byte) error
	// StatusChangesSince returns the current status of every seal whose status changed after t.
	StatusChangesSince(ctx context.Context, t time.Time) ([]api.SealStatus, error)

	// InsertRecords stores records for orgID and returns one api.Result* per record, in order.
	InsertRecords(ctx context.Context, orgID string, recs []api.Record, now time.Time) ([]string, error)
	GetRecord(ctx context.Context, orgID, id string) (*api.StoredRecord, error)
	// ListRecords returns a page and the cursor of its last record (0 when the page is empty).
	ListRecords(ctx context.Context, orgID string, q RecordQuery) ([]api.StoredRecord, int64, error)
	RecordsByDigest(ctx context.Context, digest string, limit int) ([]api.StoredRecord, error)

	Audit(ctx context.Context, ev api.AuditEvent) error
	ListAudit(ctx context.Context, q AuditQuery) ([]api.AuditEvent, error)

	// Lifecycle: applications, guarded seal changes and signed audit events (lifecycle.go).
	Lifecycle

	// Staff accounts of the web console; CreateStaff returns ErrExists for a taken username.
	CreateStaff(ctx context.Context, s Staff) error
	GetStaff(ctx context.Context, username string) (*Staff, error)
	ListStaff(ctx context.Context) ([]Staff, error)

	Close() error
}
