package server

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"

	"sealdesk/hub/api"
	"sealdesk/hub/store"
)

// Staff accounts sign in to the web console (hub/web) with a username and a password. The
// password is kept only as an argon2id hash (RFC 9106) in the PHC string format, so a stolen
// database does not give the passwords away cheaply. A signed-in reviewer acts as the hub
// admin, an organisation user as that organisation — through the same Hub methods, rules and
// audit trail as the API and the sealhub commands.

// Argon2id parameters: OWASP's minimum for argon2id (19 MiB, 2 passes, 1 lane), which keeps a
// sign-in near 50 ms on one core of this class of machine.
const (
	argonMemoryKiB = 19 * 1024
	argonTime      = 2
	argonThreads   = 1
	argonKeyLen    = 32
)

// HashPassword returns the argon2id PHC string of password with a fresh random salt.
func HashPassword(password string) string {
	salt := make([]byte, 16)
	rand.Read(salt)
	key := argon2.IDKey([]byte(password), salt, argonTime, argonMemoryKiB, argonThreads, argonKeyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, argonMemoryKiB, argonTime, argonThreads,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key))
}

// CheckPassword reports whether password matches the PHC string hash (parameters are read
// from the hash, so stronger settings later still check older hashes).
func CheckPassword(hash, password string) bool {
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false
	}
	var v int
	var m, t uint32
	var p uint8
	if _, err := fmt.Sscanf(parts[2], "v=%d", &v); err != nil || v != argon2.Version {
		return false
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &t, &p); err != nil || m == 0 || m > 1<<21 || t == 0 || t > 16 || p == 0 {
		return false
	}
	salt, err1 := base64.RawStdEncoding.DecodeString(parts[4])
	want, err2 := base64.RawStdEncoding.DecodeString(parts[5])
	if err1 != nil || err2 != nil || len(want) == 0 || len(want) > 128 {
		return false
	}
	got := argon2.IDKey([]byte(password), salt, t, m, p, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1
}

// StaffPrincipal is the principal a signed-in staff member acts as: the account's role (one
// of the credential roles: admin, reviewer, auditor, org) and organisation.
func StaffPrincipal(s *store.Staff) api.Principal {
	return api.Principal{Role: s.Role, OrgID: s.OrgID, Label: "web:" + s.Username}
}

// AddStaff creates a console account (admin) with one of the roles admin (the hub operator),
// reviewer (decides applications; may belong to an organisation, whose own applications it
// then may not decide), auditor (reads every audit trail) or org (an organisation's user;
// org required). Passwords need at least 10 characters.
func (h *Hub) AddStaff(ctx context.Context, p api.Principal, username, password, role, org string) (*store.Staff, *api.ErrorBody) {
	if e := requireAdmin(p, "adding a staff account"); e != nil {
		return nil, e
	}
	if !api.ValidOrgID(username) {
		return nil, api.Errf(api.CodeInvalidField, "username %q: want a lowercase slug of letters, digits and '-'", username)
	}
	if utf8.RuneCountInString(password) < 10 || len(password) > 256 {
		return nil, api.Errf(api.CodeInvalidField, "the password must be 10-256 characters long")
	}
	switch role {
	case api.RoleAdmin, api.RoleAuditor:
		if org != "" {
			return nil, api.Errf(api.CodeInvalidField, "an %s account belongs to no organisation (give no --org)", role)
		}
	case api.RoleReviewer, api.RoleOrg:
		if org == "" && role == api.RoleOrg {
			return nil, api.Errf(api.CodeInvalidField, "an org account needs its organisation (--org)")
		}
		if org != "" {
			if _, err := h.st.GetOrg(ctx, org); err != nil {
				if errors.Is(err, store.ErrNotFound) {
					return nil, api.Errf(api.CodeNotFound, "organisation %q is not registered", org)
				}
				return nil, internal(err)
			}
		}
	default:
		return nil, api.Errf(api.CodeInvalidField, "role %q: want admin, reviewer, auditor or org", role)
	}
	s := store.Staff{Username: username, OrgID: org, Role: role, PassHash: HashPassword(password), Created: h.now()}
	if err := h.st.CreateStaff(ctx, s); err != nil {
		if errors.Is(err, store.ErrExists) {
			return nil, api.Errf(api.CodeAlreadyExists, "staff account %s exists already", username)
		}
		return nil, internal(err)
	}
	h.audit(ctx, org, p, "staff.add", username, role)
	return &s, nil
}

// ListStaff lists the console accounts (admin).
func (h *Hub) ListStaff(ctx context.Context, p api.Principal) ([]store.Staff, *api.ErrorBody) {
	if e := requireAdmin(p, "listing staff accounts"); e != nil {
		return nil, e
	}
	l, err := h.st.ListStaff(ctx)
	if err != nil {
		return nil, internal(err)
	}
	return l, nil
}

// dummyHash is checked against when the username is unknown, so a sign-in takes as long
// whether or not the account exists.
var dummyHash = HashPassword("no such account")

// StaffSignIn checks a username and password and returns the account. Every attempt is
// audited (staff.signin / staff.signin-failed); the answer does not say which part was wrong.
func (h *Hub) StaffSignIn(ctx context.Context, username, password, from string) (*store.Staff, *api.ErrorBody) {
	s, err := h.st.GetStaff(ctx, username)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, internal(err)
	}
	hash := dummyHash
	if s != nil {
		hash = s.PassHash
	}
	ok := CheckPassword(hash, password) && s != nil && s.Disabled.IsZero()
	who := api.Principal{Role: api.RoleOrg, Label: "web:" + trimLabel(username)}
	if !ok {
		org := ""
		if s != nil {
			org = s.OrgID
		}
		h.audit(ctx, org, who, "staff.signin-failed", trimLabel(username), from)
		return nil, api.Errf(api.CodeUnauthenticated, "wrong username or password")
	}
	h.audit(ctx, s.OrgID, StaffPrincipal(s), "staff.signin", s.Username, from)
	return s, nil
}

// AuditAs writes an audit event for an action taken outside the Hub's own methods (the web
// console's sign-out).
func (h *Hub) AuditAs(ctx context.Context, p api.Principal, action, target, detail string) {
	h.audit(ctx, p.OrgID, p, action, target, detail)
}

func trimLabel(s string) string {
	if len(s) > 64 {
		s = s[:64]
	}
	return strings.ToValidUTF8(s, "?")
}

// PublicSeal is what anyone may learn about a filed seal (the seal-check page's lookup by
// esID): the public registry facts and the status history (status, reason, time; not who
// changed it).
type PublicSeal struct {
	api.SealStatus
	FilingNumber string            `json:"filingNumber"`
	FiledAt      time.Time         `json:"filedAt"`
	History      []api.StatusEvent `json:"history"`
}

// LookupSeal answers the public facts of a seal; a seal not filed here answers not found.
func (h *Hub) LookupSeal(ctx context.Context, esID string) (*PublicSeal, *api.ErrorBody) {
	if !api.ValidID(esID) {
		return nil, api.Errf(api.CodeInvalidField, "%q is not a valid seal code (esID)", esID)
	}
	s, err := h.st.GetSeal(ctx, esID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, api.Errf(api.CodeNotFound, "seal %s is not filed on this hub", esID)
	}
	if err != nil {
		return nil, internal(err)
	}
	out := &PublicSeal{SealStatus: api.SealStatus{ESID: s.ESID, Status: s.Status, Reason: s.StatusReason, StatusAt: s.StatusAt,
		ValidStart: s.ValidStart, ValidEnd: s.ValidEnd, OwnerUSCC: s.OwnerUSCC, Name: s.Name, CertSHA256: s.CertSHA256},
		FilingNumber: s.FilingNumber, FiledAt: s.FiledAt}
	for _, ev := range s.StatusHistory {
		ev.Actor = ""
		out.History = append(out.History, ev)
	}
	return out, nil
}

// RateLimiter is a token bucket per key, for callers outside this package (the console's
// sign-in attempts per address and per username).
type RateLimiter struct{ l *limiter }

// NewRateLimiter allows rate events a second per key, with bursts of burst.
func NewRateLimiter(rate float64, burst int) *RateLimiter {
	return &RateLimiter{newLimiter(rate, burst)}
}

// Allow takes one token of key's bucket; false when it is empty.
func (r *RateLimiter) Allow(key string) bool { return r.l.allow(key) }
