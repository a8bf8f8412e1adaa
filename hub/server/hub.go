// Package server is sealhub: the seal registry, signing-record log, online verification and
// audit trail behind the /v1 HTTP API of hub/api.
//
// Hub holds the rules and is usable without HTTP (sealhub's admin commands call it directly
// on the database); Handler wraps it in HTTP with authentication (per-organisation bearer
// tokens stored as SHA-256 hashes, optionally TLS client certificates registered the same
// way), request size limits, per-request timeouts, per-credential rate limits and JSON errors
// with stable codes.
//
// Authorisation: an organisation sees and changes only its own seals, records and audit
// trail; the admin role sees every organisation and alone creates organisations and tokens.
// Seal status answers (status, batch status, revocation list) are public registry facts —
// any authenticated caller may ask about any seal, as the national status services allow
// anyone verifying a document to — and carry only the public facts (status, validity,
// owner code, name, certificate fingerprints), signed by the hub key.
package server

import (
	"context"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"sealdesk/hub/api"
	"sealdesk/hub/ca"
	"sealdesk/hub/maker"
	"sealdesk/hub/store"
)

// SealFacts is what a seal parser reads from a DER SES seal.
type SealFacts struct {
	ESID       string
	Name       string
	ValidStart time.Time
	ValidEnd   time.Time
	Certs      [][]byte
}

// Options configures a Hub. Store and Key are required.
type Options struct {
	Store store.Store
	// Key signs status answers (ECDSA P-256).
	Key *ecdsa.PrivateKey
	// ParseSeal reads an SES seal (signer/ses); nil means filings must give every field.
	ParseSeal func(der []byte) (*SealFacts, error)
	// VerifyBlob checks a signature blob cryptographically (signer/ses, signer/cms); nil
	// means blobs are answered with crypto result "unknown".
	VerifyBlob func(ctx context.Context, blob []byte) api.CryptoResult
	// MaxBody limits request bodies (default 4 MiB).
	MaxBody int64
	// RequestTimeout bounds each request (default 15 s).
	RequestTimeout time.Duration
	// Rate and Burst limit requests per credential (default 100/s, burst 200); Rate < 0
	// disables the limit.
	Rate  float64
	Burst int
	// Now is the clock (tests); nil means time.Now.
	Now func() time.Time
	// CRLDir holds the DER CRLs GET /v1/crl/{name} publishes ("" publishes none).
	CRLDir string

	// The seal lifecycle (lifecycle.go). Maker makes seals with the key the hub holds on
	// its token, CA issues holder certificates, Registrar files seals (default:
	// LocalRegistrar); without Maker and CA, approvals answer not_configured.
	Maker     maker.Maker
	CA        ca.CA
	Registrar Registrar
	// SealTypes is the seal type table (default api.DefaultSealTypes).
	SealTypes []api.SealType
	// Pause, when set, is called at named points of a lifecycle step (tests that kill the
	// hub in the middle of an approval).
	Pause func(point string)
}

// Hub is the registry service.
type Hub struct {
	opt   Options
	st    store.Store
	keyID string
	lim   *limiter
	// failLim limits failed authentications per client address (10 a minute, burst 20).
	failLim *limiter
	cl      clusterState // several instances on one database (cluster.go)
}

// Limits of one request.
const (
	MaxBatchRecords = 1000
	MaxStatusIDs    = 1000
)

// New makes a Hub.
func New(opt Options) (*Hub, error) {
	if opt.Store == nil || opt.Key == nil {
		return nil, errors.New("sealhub: a store and a signing key are required")
	}
	if opt.MaxBody <= 0 {
		opt.MaxBody = 4 << 20
	}
	if opt.RequestTimeout <= 0 {
		opt.RequestTimeout = 15 * time.Second
	}
	if opt.Rate == 0 {
		opt.Rate = 100
	}
	if opt.Burst <= 0 {
		opt.Burst = int(2 * max(opt.Rate, 1))
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Registrar == nil {
		opt.Registrar = LocalRegistrar{}
	}
	if len(opt.SealTypes) == 0 {
		opt.SealTypes = api.DefaultSealTypes
	}
	id, err := api.KeyID(&opt.Key.PublicKey)
	if err != nil {
		return nil, err
	}
	h := &Hub{opt: opt, st: opt.Store, keyID: id, lim: newLimiter(opt.Rate, opt.Burst), failLim: newLimiter(10.0/60, 20)}
	h.cl.instance = newInstanceID()
	return h, nil
}

func (h *Hub) now() time.Time { return h.opt.Now().UTC() }

// Admin is the principal the sealhub admin commands act as.
var Admin = api.Principal{Role: api.RoleAdmin, Label: "sealhub-cli"}

func actor(p api.Principal) string {
	if p.IsAdmin() {
		return "admin:" + p.Label
	}
	return p.OrgID + ":" + p.Label
}

func (h *Hub) audit(ctx context.Context, org string, p api.Principal, action, target, detail string) {
	// The audit trail must not make a successful operation fail; a store that cannot write
	// will fail the next real write anyway.
	_ = h.st.AppendAudit(ctx, h.signAudit, api.AuditEvent{OrgID: org, At: h.now(), Actor: actor(p), Role: p.Role, Action: action, Target: target, Detail: detail})
}

func internal(err error) *api.ErrorBody {
	if errors.Is(err, context.DeadlineExceeded) {
		return api.Errf(api.CodeTimeout, "the request took too long and was stopped")
	}
	return api.Errf(api.CodeInternal, "store error: %v", err)
}

func requireAdmin(p api.Principal, what string) *api.ErrorBody {
	if !p.IsAdmin() {
		return api.Errf(api.CodeAdminRequired, "%s needs an admin credential", what)
	}
	return nil
}

// NewToken makes a random bearer token and the hash the store keeps.
func NewToken() (token, hash string) {
	b := make([]byte, 32)
	rand.Read(b)
	token = "sdh_" + base64.RawURLEncoding.EncodeToString(b)
	return token, TokenHash(token)
}

// TokenHash is the SHA-256 (hex) a token is stored and looked up by. Tokens are 256 random
// bits, so a fast hash is as safe as a slow one and keeps every request cheap.
func TokenHash(token string) string {
	s := sha256.Sum256([]byte(token))
	return hex.EncodeToString(s[:])
}

// CertCredentialHash is the credential hash of a TLS client certificate (DER).
func CertCredentialHash(der []byte) string {
	s := sha256.Sum256(der)
	return "cert:" + hex.EncodeToString(s[:])
}

// CreateOrg adds an organisation (admin).
func (h *Hub) CreateOrg(ctx context.Context, p api.Principal, o api.Org) (*api.Org, *api.ErrorBody) {
	if e := requireAdmin(p, "creating an organisation"); e != nil {
		return nil, e
	}
	if !api.ValidOrgID(o.ID) {
		return nil, api.Errf(api.CodeInvalidField, "organisation id %q: want a lowercase slug of letters, digits and '-'", o.ID)
	}
	if strings.TrimSpace(o.Name) == "" || len(o.Name) > 256 {
		return nil, api.Errf(api.CodeInvalidField, "organisation %s: name must be 1-256 bytes", o.ID)
	}
	if err := api.ValidUSCC(o.USCC); err != nil {
		return nil, api.Errf(api.CodeInvalidUSCC, "%v", err)
	}
	o.Created = h.now()
	if err := h.st.CreateOrg(ctx, o); err != nil {
		if errors.Is(err, store.ErrExists) {
			return nil, api.Errf(api.CodeAlreadyExists, "organisation %s or its unified social credit code %s exists already", o.ID, o.USCC)
		}
		return nil, internal(err)
	}
	h.audit(ctx, o.ID, p, "org.create", o.ID, o.Name)
	return &o, nil
}

// ListOrgs lists organisations (admin).
func (h *Hub) ListOrgs(ctx context.Context, p api.Principal) ([]api.Org, *api.ErrorBody) {
	if e := requireAdmin(p, "listing organisations"); e != nil {
		return nil, e
	}
	orgs, err := h.st.ListOrgs(ctx)
	if err != nil {
		return nil, internal(err)
	}
	return orgs, nil
}

// IssueToken makes a bearer token (admin). The token is returned once; the hub keeps its hash.
func (h *Hub) IssueToken(ctx context.Context, p api.Principal, req api.TokenRequest) (*api.TokenResponse, *api.ErrorBody) {
	if e := requireAdmin(p, "issuing a token"); e != nil {
		return nil, e
	}
	token, hash := NewToken()
	if e := h.AddCredential(ctx, p, hash, req); e != nil {
		return nil, e
	}
	return &api.TokenResponse{Token: token, OrgID: req.OrgID, Role: req.Role, Label: req.Label}, nil
}

// AddCredential registers a credential hash (a token's, or CertCredentialHash of a client
// certificate) for an organisation or as admin (admin).
func (h *Hub) AddCredential(ctx context.Context, p api.Principal, hash string, req api.TokenRequest) *api.ErrorBody {
	if e := requireAdmin(p, "adding a credential"); e != nil {
		return e
	}
	switch req.Role {
	case api.RoleAdmin:
		if req.OrgID != "" {
			return api.Errf(api.CodeInvalidField, "an admin credential belongs to no organisation (orgId must be empty)")
		}
	case api.RoleOrg, api.RoleReviewer, api.RoleMaker, api.RoleAuditor:
		// An applicant belongs to an organisation; a reviewer may (and then never reviews
		// it), the maker and auditors may too.
		if req.OrgID == "" && req.Role == api.RoleOrg {
			return api.Errf(api.CodeInvalidField, "an organisation credential names its organisation (orgId)")
		}
		if req.OrgID != "" {
			if _, err := h.st.GetOrg(ctx, req.OrgID); err != nil {
				if errors.Is(err, store.ErrNotFound) {
					return api.Errf(api.CodeNotFound, "organisation %q is not registered", req.OrgID)
				}
				return internal(err)
			}
		}
	default:
		return api.Errf(api.CodeInvalidField, "role %q: want %s, %s, %s, %s or %s", req.Role, api.RoleOrg, api.RoleReviewer, api.RoleMaker, api.RoleAuditor, api.RoleAdmin)
	}
	if len(req.Label) > 128 {
		return api.Errf(api.CodeInvalidField, "label longer than 128 bytes")
	}
	if err := h.st.AddCredential(ctx, hash, api.Principal{OrgID: req.OrgID, Role: req.Role, Label: req.Label}); err != nil {
		if errors.Is(err, store.ErrExists) {
			return api.Errf(api.CodeAlreadyExists, "this credential is registered already")
		}
		return internal(err)
	}
	h.audit(ctx, req.OrgID, p, "credential.add", req.Label, req.Role)
	return nil
}

// ListCredentials lists every credential's hash, owner and state (admin).
func (h *Hub) ListCredentials(ctx context.Context, p api.Principal) ([]store.Credential, *api.ErrorBody) {
	if e := requireAdmin(p, "listing credentials"); e != nil {
		return nil, e
	}
	cs, err := h.st.ListCredentials(ctx)
	if err != nil {
		return nil, internal(err)
	}
	return cs, nil
}

// RevokeCredential revokes the credential whose hash starts with prefix (at least 8
// characters; admin). Its requests are refused from then on.
func (h *Hub) RevokeCredential(ctx context.Context, p api.Principal, prefix string) (*store.Credential, *api.ErrorBody) {
	if e := requireAdmin(p, "revoking a credential"); e != nil {
		return nil, e
	}
	if len(prefix) < 8 {
		return nil, api.Errf(api.CodeInvalidField, "give at least 8 characters of the credential hash (see 'sealhub token list')")
	}
	c, err := h.st.RevokeCredential(ctx, prefix, h.now())
	switch {
	case errors.Is(err, store.ErrNotFound):
		return nil, api.Errf(api.CodeNotFound, "no active credential's hash starts with %s", prefix)
	case errors.Is(err, store.ErrAmbiguous):
		return nil, api.Errf(api.CodeInvalidField, "several credentials' hashes start with %s; give more characters", prefix)
	case err != nil:
		return nil, internal(err)
	}
	h.audit(ctx, c.OrgID, p, "credential.revoke", c.Label, c.Hash[:min(len(c.Hash), 16)])
	return c, nil
}

// Authenticate maps a credential hash to its principal.
func (h *Hub) Authenticate(ctx context.Context, hash string) (*api.Principal, *api.ErrorBody) {
	pr, err := h.st.Credential(ctx, hash)
	if errors.Is(err, store.ErrNotFound) {
		return nil, api.Errf(api.CodeUnauthenticated, "the credential is not known to this hub (or was revoked)")
	}
	if err != nil {
		return nil, internal(err)
	}
	return pr, nil
}

func parseCerts(in [][]byte) *api.ErrorBody {
	if len(in) == 0 {
		return api.Errf(api.CodeInvalidField, "certificates: a seal binds at least one signer certificate")
	}
	if len(in) > 16 {
		return api.Errf(api.CodeInvalidField, "certificates: at most 16")
	}
	for i, c := range in {
		if len(c) < 16 || c[0] != 0x30 {
			return api.Errf(api.CodeInvalidField, "certificates[%d] is not a DER certificate", i)
		}
	}
	return nil
}

// FileSeal registers an SES seal for the caller's organisation (or, for admin, req.OrgID).
func (h *Hub) FileSeal(ctx context.Context, p api.Principal, req api.FileSealRequest) (*api.Seal, *api.ErrorBody) {
	if e := h.requireRole(ctx, p, "filing a seal", api.RoleOrg, api.RoleAdmin); e != nil {
		return nil, e
	}
	org := p.OrgID
	if p.IsAdmin() {
		org = req.OrgID
	} else if req.OrgID != "" && req.OrgID != p.OrgID {
		h.audit(ctx, p.OrgID, p, "denied", req.ESID, "file a seal for organisation "+req.OrgID)
		return nil, api.Errf(api.CodeForbidden, "an organisation files seals only for itself (orgId %s is not yours)", req.OrgID)
	}
	o, err := h.st.GetOrg(ctx, org)
	if errors.Is(err, store.ErrNotFound) {
		return nil, api.Errf(api.CodeNotFound, "organisation %q is not registered", org)
	} else if err != nil {
		return nil, internal(err)
	}
	if len(req.Seal) > 0 && h.opt.ParseSeal != nil {
		f, err := h.opt.ParseSeal(req.Seal)
		if err != nil {
			return nil, api.Errf(api.CodeInvalidField, "seal: not a readable SES seal: %v", err)
		}
		if e := agree("esId", &req.ESID, f.ESID); e != nil {
			return nil, e
		}
		if e := agree("name", &req.Name, f.Name); e != nil {
			return nil, e
		}
		if req.ValidStart.IsZero() {
			req.ValidStart = f.ValidStart
		}
		if req.ValidEnd.IsZero() {
			req.ValidEnd = f.ValidEnd
		}
		if len(req.Certificates) == 0 {
			req.Certificates = f.Certs
		}
	}
	switch {
	case !api.ValidID(req.ESID):
		return nil, api.Errf(api.CodeInvalidField, "esId %q: want 1-128 characters of letters, digits and ._:-", req.ESID)
	case strings.TrimSpace(req.Name) == "" || len(req.Name) > 256:
		return nil, api.Errf(api.CodeInvalidField, "seal %s: name must be 1-256 bytes", req.ESID)
	case !api.ValidID(req.FilingNumber):
		return nil, api.Errf(api.CodeInvalidField, "seal %s: filingNumber %q: want 1-128 letters, digits and ._:-", req.ESID, req.FilingNumber)
	case req.ValidStart.IsZero() || req.ValidEnd.IsZero() || !req.ValidEnd.After(req.ValidStart):
		return nil, api.Errf(api.CodeInvalidField, "seal %s: validity must have validStart before validEnd", req.ESID)
	}
	if err := api.ValidUSCC(req.OwnerUSCC); err != nil {
		return nil, api.Errf(api.CodeInvalidUSCC, "seal %s: ownerUscc: %v", req.ESID, err)
	}
	if req.OwnerUSCC != o.USCC {
		return nil, api.Errf(api.CodeInvalidField, "seal %s: ownerUscc %s is not the code of organisation %s (%s)", req.ESID, req.OwnerUSCC, o.ID, o.USCC)
	}
	if e := parseCerts(req.Certificates); e != nil {
		return nil, e
	}
	now := h.now()
	row := &store.SealRow{Seal: api.Seal{
		ESID: req.ESID, OrgID: org, Name: req.Name, FilingNumber: req.FilingNumber, OwnerUSCC: req.OwnerUSCC,
		ValidStart: req.ValidStart.UTC(), ValidEnd: req.ValidEnd.UTC(), Status: api.StatusActive, StatusReason: "filed",
		StatusAt: now, FiledAt: now,
	}, SealDER: req.Seal, Certs: req.Certificates}
	if err := h.st.CreateSeal(ctx, row); err != nil {
		if errors.Is(err, store.ErrExists) {
			return nil, api.Errf(api.CodeAlreadyExists, "seal %s or filing number %s is filed already", req.ESID, req.FilingNumber)
		}
		return nil, internal(err)
	}
	h.audit(ctx, org, p, "seal.file", req.ESID, req.FilingNumber)
	s, err := h.st.GetSeal(ctx, req.ESID)
	if err != nil {
		return nil, internal(err)
	}
	return s, nil
}

func agree(field string, given *string, parsed string) *api.ErrorBody {
	if *given == "" {
		*given = parsed
		return nil
	}
	if *given != parsed {
		return api.Errf(api.CodeInvalidField, "%s %q does not match the seal object's %q", field, *given, parsed)
	}
	return nil
}

// ownSeal loads a seal the principal may see in full; another organisation's seal answers
// 404 exactly like a missing one, so ids cannot be probed through this route.
func (h *Hub) ownSeal(ctx context.Context, p api.Principal, id, action string) (*api.Seal, *api.ErrorBody) {
	s, err := h.st.GetSeal(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, api.Errf(api.CodeNotFound, "seal %s is not filed", id)
	}
	if err != nil {
		return nil, internal(err)
	}
	if !p.IsAdmin() && s.OrgID != p.OrgID {
		h.audit(ctx, p.OrgID, p, "denied", id, action+" another organisation's seal")
		return nil, api.Errf(api.CodeNotFound, "seal %s is not filed by your organisation", id)
	}
	return s, nil
}

// Seal returns a seal with its history (owner or admin).
func (h *Hub) Seal(ctx context.Context, p api.Principal, id string) (*api.Seal, *api.ErrorBody) {
	s, e := h.ownSeal(ctx, p, id, "read")
	if s != nil {
		s.Status = api.EffectiveStatus(s, h.now())
	}
	return s, e
}

// ListSeals lists the caller's seals; admin may give org ("" for all).
func (h *Hub) ListSeals(ctx context.Context, p api.Principal, org, status string) ([]api.Seal, *api.ErrorBody) {
	if !p.IsAdmin() {
		if org != "" && org != p.OrgID {
			h.audit(ctx, p.OrgID, p, "denied", org, "list another organisation's seals")
			return nil, api.Errf(api.CodeForbidden, "an organisation lists only its own seals")
		}
		org = p.OrgID
	}
	if status != "" && !api.ValidStatus(status) && status != api.StatusFiled && status != api.StatusExpired {
		return nil, api.Errf(api.CodeInvalidField, "status %q: want active, suspended, revoked, withdrawn, lost, filed or expired", status)
	}
	// "expired" is derived from the validity (never stored): list without the status filter
	// and filter on the status each seal has now.
	stored := status
	if stored == api.StatusExpired || stored == api.StatusActive || stored == api.StatusSuspended || stored == api.StatusFiled {
		stored = ""
	}
	seals, err := h.st.ListSeals(ctx, org, stored)
	if err != nil {
		return nil, internal(err)
	}
	now, out := h.now(), seals[:0]
	for _, s := range seals {
		s.Status = api.EffectiveStatus(&s, now)
		if status == "" || s.Status == status {
			out = append(out, s)
		}
	}
	return out, nil
}

// SetStatus changes a seal's status (owner or admin): active ↔ suspended, and from either
// to revoked, withdrawn or lost, which are final. A seal made through an application is
// "filed" until its holder reports it delivered (DeliverSeal); it may be cancelled then but
// not used.
func (h *Hub) SetStatus(ctx context.Context, p api.Principal, id string, ch api.StatusChange) (*api.Seal, *api.ErrorBody) {
	if e := h.requireRole(ctx, p, "changing a seal's status", api.RoleOrg, api.RoleAdmin); e != nil {
		return nil, e
	}
	s, e := h.ownSeal(ctx, p, id, "change the status of")
	if e != nil {
		return nil, e
	}
	if !api.ValidStatus(ch.Status) {
		return nil, api.Errf(api.CodeInvalidField, "status %q: want active, suspended, revoked, withdrawn or lost", ch.Status)
	}
	if len(ch.Reason) > 512 {
		return nil, api.Errf(api.CodeInvalidField, "reason longer than 512 bytes")
	}
	if ch.Status != api.StatusActive && strings.TrimSpace(ch.Reason) == "" {
		return nil, api.Errf(api.CodeInvalidField, "seal %s: a reason is required to set status %s", id, ch.Status)
	}
	if api.Terminal(s.Status) {
		return nil, api.Errf(api.CodeInvalidTransition, "seal %s is %s since %s; that status is final", id, s.Status, s.StatusAt.Format(time.RFC3339))
	}
	if ch.Status == s.Status {
		return nil, api.Errf(api.CodeInvalidTransition, "seal %s is %s already", id, s.Status)
	}
	if s.Status == api.StatusFiled && (ch.Status == api.StatusActive || ch.Status == api.StatusSuspended) {
		return nil, api.Errf(api.CodeInvalidTransition, "seal %s is filed but not yet delivered to its holder; it becomes active when the holder fetches it onto the key", id)
	}
	now := h.now()
	at := ch.At.UTC()
	if ch.At.IsZero() {
		at = now
	}
	if at.After(now.Add(time.Minute)) {
		return nil, api.Errf(api.CodeInvalidField, "seal %s: a status change cannot take effect in the future (%s)", id, at.Format(time.RFC3339))
	}
	if at.Before(s.StatusAt) {
		return nil, api.Errf(api.CodeInvalidField, "seal %s: the change at %s would precede its last change at %s", id, at.Format(time.RFC3339), s.StatusAt.Format(time.RFC3339))
	}
	ev := h.event(s.OrgID, p, "seal.status", id, ch.Status+": "+ch.Reason, ch.Reason, at)
	filings, e := h.statusFilings(id, ch.Status, ch.Reason, at)
	if e != nil {
		return nil, e
	}
	err := h.st.ChangeSeal(ctx, store.SealChange{ESID: id, From: []string{s.Status},
		Events: []api.StatusEvent{{Status: ch.Status, Reason: ch.Reason, At: at, Actor: actor(p)}}, Filings: filings}, h.signAudit, ev)
	if errors.Is(err, store.ErrStale) {
		return nil, api.Errf(api.CodeInvalidTransition, "seal %s changed meanwhile; read it again", id)
	}
	if err != nil {
		return nil, internal(err)
	}
	h.filingsQueued()
	out, err := h.st.GetSeal(ctx, id)
	if err != nil {
		return nil, internal(err)
	}
	return out, nil
}

// Renew extends a seal's validity and optionally replaces its certificates (owner or admin).
func (h *Hub) Renew(ctx context.Context, p api.Principal, id string, req api.RenewRequest) (*api.Seal, *api.ErrorBody) {
	if e := h.requireRole(ctx, p, "renewing a seal", api.RoleOrg, api.RoleAdmin); e != nil {
		return nil, e
	}
	s, e := h.ownSeal(ctx, p, id, "renew")
	if e != nil {
		return nil, e
	}
	if api.Terminal(s.Status) {
		return nil, api.Errf(api.CodeInvalidTransition, "seal %s is %s; a final status cannot be renewed", id, s.Status)
	}
	if !req.ValidEnd.After(s.ValidEnd) {
		return nil, api.Errf(api.CodeInvalidField, "seal %s: validEnd %s does not extend the current %s", id, req.ValidEnd.Format(time.RFC3339), s.ValidEnd.Format(time.RFC3339))
	}
	if len(req.Certificates) > 0 {
		if e := parseCerts(req.Certificates); e != nil {
			return nil, e
		}
	}
	if err := h.st.Renew(ctx, id, req.ValidEnd.UTC(), req.Certificates, req.Seal); err != nil {
		return nil, internal(err)
	}
	h.audit(ctx, s.OrgID, p, "seal.renew", id, "validEnd "+req.ValidEnd.UTC().Format(time.RFC3339))
	out, err := h.st.GetSeal(ctx, id)
	if err != nil {
		return nil, internal(err)
	}
	return out, nil
}

// Status answers the status of seals, signed. Unknown ids are answered with status unknown.
func (h *Hub) Status(ctx context.Context, p api.Principal, ids []string) (*api.SignedStatus, *api.ErrorBody) {
	if len(ids) == 0 || len(ids) > MaxStatusIDs {
		return nil, api.Errf(api.CodeInvalidField, "ids: want 1-%d seal ids, got %d", MaxStatusIDs, len(ids))
	}
	for _, id := range ids {
		if !api.ValidID(id) {
			return nil, api.Errf(api.CodeInvalidField, "ids: %q is not a valid seal id", id)
		}
	}
	m, err := h.st.SealStatuses(ctx, ids)
	if err != nil {
		return nil, internal(err)
	}
	pl := &api.StatusPayload{Type: "status", ProducedAt: h.now(), Statuses: make([]api.SealStatus, 0, len(ids))}
	for _, id := range ids {
		st, ok := m[id]
		if !ok {
			st = api.SealStatus{ESID: id, Status: api.StatusUnknown}
		}
		pl.Statuses = append(pl.Statuses, st)
	}
	return h.sign(pl)
}

// Revocations answers, signed, the current status of every seal whose status changed after
// since (revocations, suspensions and reactivations), so offline caches can catch up.
func (h *Hub) Revocations(ctx context.Context, p api.Principal, since time.Time) (*api.SignedStatus, *api.ErrorBody) {
	list, err := h.st.StatusChangesSince(ctx, since)
	if err != nil {
		return nil, internal(err)
	}
	sort.Slice(list, func(i, j int) bool { return list[i].ESID < list[j].ESID })
	return h.sign(&api.StatusPayload{Type: "revocations", ProducedAt: h.now(), Since: since.UTC(), Statuses: list})
}

func (h *Hub) sign(pl *api.StatusPayload) (*api.SignedStatus, *api.ErrorBody) {
	s, err := api.SignStatus(h.opt.Key, pl)
	if err != nil {
		return nil, api.Errf(api.CodeInternal, "signing the answer: %v", err)
	}
	return s, nil
}

// HubKey returns the public key status answers are signed with.
func (h *Hub) HubKey() api.HubKey {
	pemText, _ := api.PublicKeyPEM(&h.opt.Key.PublicKey)
	return api.HubKey{KeyID: h.keyID, Algorithm: "ES256", PublicKeyPEM: pemText}
}

// ProveIdentity answers a client's challenge (16-64 random bytes, hex) with the hub key and a
// signature over the challenge, so the client knows it talks to the holder of the key it pinned
// before it sends records or credentials.
func (h *Hub) ProveIdentity(challenge string) (*api.HubKey, *api.ErrorBody) {
	if b, err := hex.DecodeString(challenge); err != nil || len(b) < 16 || len(b) > 64 {
		return nil, api.Errf(api.CodeInvalidField, "challenge: want 16-64 random bytes in hex")
	}
	proof, err := api.SignIdentity(h.opt.Key, challenge)
	if err != nil {
		return nil, api.Errf(api.CodeInternal, "signing the identity proof: %v", err)
	}
	k := h.HubKey()
	k.Challenge, k.Proof = challenge, proof
	return &k, nil
}

// PushRecords appends signing records for the caller's organisation. Each record's seal must
// be filed by that organisation. Records are idempotent by id (see api.Result*).
func (h *Hub) PushRecords(ctx context.Context, p api.Principal, recs []api.Record) (*api.RecordBatchResult, *api.ErrorBody) {
	if p.Role != api.RoleOrg && !p.IsAdmin() {
		return nil, h.requireRole(ctx, p, "pushing signing records", api.RoleOrg)
	}
	if p.IsAdmin() || p.OrgID == "" {
		return nil, api.Errf(api.CodeForbidden, "signing records belong to an organisation: push them with the organisation's credential")
	}
	if len(recs) == 0 || len(recs) > MaxBatchRecords {
		return nil, api.Errf(api.CodeInvalidField, "records: want 1-%d per request, got %d", MaxBatchRecords, len(recs))
	}
	out := &api.RecordBatchResult{Results: make([]api.RecordResult, len(recs))}
	sealIDs := map[string]bool{}
	for i := range recs {
		out.Results[i].ID = recs[i].ID
		if e := recs[i].Validate(); e != nil {
			out.Results[i].Result, out.Results[i].Error = api.ResultRejected, e
			continue
		}
		sealIDs[recs[i].SealID] = true
	}
	ids := make([]string, 0, len(sealIDs))
	for id := range sealIDs {
		ids = append(ids, id)
	}
	owners, err := h.st.SealOwners(ctx, ids)
	if err != nil {
		return nil, internal(err)
	}
	var keep []api.Record
	var keepIdx []int
	denied := 0
	for i := range recs {
		if out.Results[i].Result != "" {
			continue
		}
		switch owner, ok := owners[recs[i].SealID]; {
		case !ok:
			out.Results[i].Result = api.ResultRejected
			out.Results[i].Error = api.Errf(api.CodeSealNotFiled, "record %s: seal %s is not filed on this hub", recs[i].ID, recs[i].SealID)
		case owner != p.OrgID:
			denied++
			out.Results[i].Result = api.ResultRejected
			out.Results[i].Error = api.Errf(api.CodeForbidden, "record %s: seal %s is not your organisation's", recs[i].ID, recs[i].SealID)
		default:
			keep = append(keep, recs[i])
			keepIdx = append(keepIdx, i)
		}
	}
	counts := map[string]int{}
	if len(keep) > 0 {
		res, err := h.st.InsertRecords(ctx, p.OrgID, keep, h.now())
		if err != nil {
			return nil, internal(err)
		}
		for k, i := range keepIdx {
			out.Results[i].Result = res[k]
			if res[k] == api.ResultConflict {
				out.Results[i].Error = api.Errf(api.CodeConflict, "record %s exists with a different body; records never change", recs[i].ID)
			}
		}
	}
	for _, r := range out.Results {
		counts[r.Result]++
	}
	if denied > 0 {
		h.audit(ctx, p.OrgID, p, "denied", "", fmt.Sprintf("%d records for other organisations' seals", denied))
	}
	if counts[api.ResultCreated] > 0 || counts[api.ResultConflict] > 0 {
		h.audit(ctx, p.OrgID, p, "records.push", "", fmt.Sprintf("created=%d duplicate=%d conflict=%d rejected=%d",
			counts[api.ResultCreated], counts[api.ResultDuplicate], counts[api.ResultConflict], counts[api.ResultRejected]))
	}
	return out, nil
}

// Record returns one of the caller's records; another organisation's answers 404.
func (h *Hub) Record(ctx context.Context, p api.Principal, org, id string) (*api.StoredRecord, *api.ErrorBody) {
	if !p.IsAdmin() {
		org = p.OrgID
	}
	r, err := h.st.GetRecord(ctx, org, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, api.Errf(api.CodeNotFound, "record %s is not among your organisation's records", id)
	}
	if err != nil {
		return nil, internal(err)
	}
	return r, nil
}

// Records lists the caller's records (admin: org's).
func (h *Hub) Records(ctx context.Context, p api.Principal, org string, q store.RecordQuery) (*api.RecordPage, *api.ErrorBody) {
	if !p.IsAdmin() {
		if org != "" && org != p.OrgID {
			h.audit(ctx, p.OrgID, p, "denied", org, "list another organisation's records")
			return nil, api.Errf(api.CodeForbidden, "an organisation reads only its own records")
		}
		org = p.OrgID
	} else if org == "" {
		return nil, api.Errf(api.CodeInvalidField, "org: an admin names the organisation whose records to list")
	}
	recs, last, err := h.st.ListRecords(ctx, org, q)
	if err != nil {
		return nil, internal(err)
	}
	page := &api.RecordPage{Records: recs}
	limit := q.Limit
	if limit <= 0 || limit > 1000 {
		limit = 1000
	}
	if len(recs) == limit {
		page.Next = fmt.Sprint(last)
	}
	return page, nil
}

// Audit lists an organisation's audit trail (own; admin: any, or all with org "").
func (h *Hub) Audit(ctx context.Context, p api.Principal, q store.AuditQuery) (*api.AuditPage, *api.ErrorBody) {
	if !p.IsAdmin() && p.Role != api.RoleAuditor {
		if q.OrgID != "" && q.OrgID != p.OrgID {
			h.audit(ctx, p.OrgID, p, "denied", q.OrgID, "read another organisation's audit trail")
			return nil, api.Errf(api.CodeForbidden, "an organisation reads only its own audit trail")
		}
		q.OrgID = p.OrgID
	}
	evs, err := h.st.ListAudit(ctx, q)
	if err != nil {
		return nil, internal(err)
	}
	page := &api.AuditPage{Events: evs}
	limit := q.Limit
	if limit <= 0 || limit > 1000 {
		limit = 1000
	}
	if len(evs) == limit {
		page.Next = fmt.Sprint(evs[len(evs)-1].Seq)
	}
	return page, nil
}
