package web

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"sync"
	"time"

	"sealdesk/hub/api"
	"sealdesk/hub/store"
)

// Sessions are kept in this process's memory: a restart signs everyone out, and several hub
// instances behind one address need sticky sessions (or a shared store, not built yet).

const (
	sessionCookie = "sealhub_session"
	signinCookie  = "sealhub_signin"
	maxSessions   = 10000
)

type session struct {
	id        string // the cookie value; the map is keyed by its SHA-256
	CSRF      string
	Username  string
	Role      string
	OrgID     string
	principal api.Principal
	created   time.Time
	seen      time.Time
}

type sessions struct {
	mu        sync.Mutex
	m         map[string]*session
	idle, max time.Duration
}

func newSessions(idle, max time.Duration) *sessions {
	return &sessions{m: map[string]*session{}, idle: idle, max: max}
}

func randomToken() string {
	b := make([]byte, 32)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func keyOf(id string) string {
	h := sha256.Sum256([]byte(id))
	return string(h[:])
}

// start makes a session for a signed-in staff member.
func (ss *sessions) start(st *store.Staff, p api.Principal) *session {
	now := time.Now()
	s := &session{id: randomToken(), CSRF: randomToken(), Username: st.Username, Role: st.Role, OrgID: st.OrgID,
		principal: p, created: now, seen: now}
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if len(ss.m) >= maxSessions {
		ss.expireLocked(now)
		if len(ss.m) >= maxSessions {
			// Bounded memory: the oldest session goes.
			var oldest string
			var t time.Time
			for k, v := range ss.m {
				if oldest == "" || v.created.Before(t) {
					oldest, t = k, v.created
				}
			}
			delete(ss.m, oldest)
		}
	}
	ss.m[keyOf(s.id)] = s
	return s
}

func (ss *sessions) expireLocked(now time.Time) {
	for k, v := range ss.m {
		if now.Sub(v.seen) > ss.idle || now.Sub(v.created) > ss.max {
			delete(ss.m, k)
		}
	}
}

// get returns the live session with cookie value id, refreshing its idle timer.
func (ss *sessions) get(id string) *session {
	if id == "" {
		return nil
	}
	now := time.Now()
	ss.mu.Lock()
	defer ss.mu.Unlock()
	s := ss.m[keyOf(id)]
	if s == nil {
		return nil
	}
	if now.Sub(s.seen) > ss.idle || now.Sub(s.created) > ss.max {
		delete(ss.m, keyOf(id))
		return nil
	}
	s.seen = now
	return s
}

// Holds reports whether the role holds seals and records (admin: every organisation's; org:
// its own); reviewers and auditors work on applications and the audit trail.
func (s *session) Holds() bool { return s.Role == api.RoleAdmin || s.Role == api.RoleOrg }

// Home is where the console opens for the role.
func (s *session) Home() string {
	if s.Holds() {
		return "/console/seals"
	}
	return "/console/applications"
}

func (ss *sessions) end(id string) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	delete(ss.m, keyOf(id))
}

func sameToken(a, b string) bool {
	return a != "" && len(a) == len(b) && subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}
