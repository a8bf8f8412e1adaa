package web

import (
	"context"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"sealdesk/hub/api"
	"sealdesk/hub/server"
	"sealdesk/hub/store"
)

// call is one console request of a signed-in staff member.
type call struct {
	s    *session
	lang string
}

func (c *call) p() api.Principal { return c.s.principal }

// staff wraps a console page: it needs a live session (else GET goes to the sign-in page and
// anything else is refused), and every POST must carry the session's CSRF token and, when the
// browser sends one, an Origin of this host.
func (s *Server) staff(fn func(w http.ResponseWriter, r *http.Request, c *call)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var sess *session
		if ck, err := r.Cookie(sessionCookie); err == nil {
			sess = s.sessions.get(ck.Value)
		}
		if sess == nil {
			if r.Method == http.MethodGet {
				http.Redirect(w, r, "/console/signin?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
				return
			}
			s.fail(w, r, http.StatusForbidden, tr(langOf(r), "err.csrf"))
			return
		}
		r = r.WithContext(context.WithValue(r.Context(), ctxSession{}, sess))
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			if !sameToken(r.PostFormValue("csrf"), sess.CSRF) || !sameOrigin(r) {
				s.hub.AuditAs(r.Context(), sess.principal, "denied", r.URL.Path, "form without a valid CSRF token")
				s.fail(w, r, http.StatusForbidden, tr(langOf(r), "err.csrf"))
				return
			}
		}
		fn(w, r, &call{s: sess, lang: langOf(r)})
	}
}

// sameOrigin refuses a cross-site POST whose browser names its origin (SameSite=Strict
// cookies already keep the session out of such requests; this is the second lock).
func sameOrigin(r *http.Request) bool {
	o := r.Header.Get("Origin")
	if o == "" || o == "null" {
		return o == ""
	}
	u, err := url.Parse(o)
	return err == nil && u.Host == r.Host
}

func (s *Server) view(r *http.Request, c *call, title string, data any) *view {
	return &view{Lang: c.lang, Staff: c.s, CSRF: c.s.CSRF, Title: title, Data: data}
}

// hubFail shows a refusal of the hub (its code decides the HTTP status).
func (s *Server) hubFail(w http.ResponseWriter, r *http.Request, e *api.ErrorBody) {
	code := api.StatusFor(e.Code)
	msg := e.Message
	if code == http.StatusForbidden {
		msg = tr(langOf(r), "err.forbidden") + " (" + e.Message + ")"
	}
	s.fail(w, r, code, msg)
}

func (s *Server) signinForm(w http.ResponseWriter, r *http.Request) {
	s.signinPage(w, r, http.StatusOK, "")
}

func (s *Server) signinPage(w http.ResponseWriter, r *http.Request, code int, flash string) {
	tok := ""
	if ck, err := r.Cookie(signinCookie); err == nil && len(ck.Value) >= 32 {
		tok = ck.Value
	} else {
		tok = randomToken()
		http.SetCookie(w, &http.Cookie{Name: signinCookie, Value: tok, Path: "/console/", HttpOnly: true,
			SameSite: http.SameSiteStrictMode, Secure: s.secure(r)})
	}
	next := r.FormValue("next")
	s.render(w, r, code, "signin", &view{CSRF: tok, Title: tr(langOf(r), "signin.heading"), Flash: flash, FlashBad: true, Data: next})
}

func clientAddr(r *http.Request) string {
	h, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return h
}

func (s *Server) signin(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	lang := langOf(r)
	ck, err := r.Cookie(signinCookie)
	if err != nil || !sameToken(r.PostFormValue("csrf"), ck.Value) || !sameOrigin(r) {
		s.fail(w, r, http.StatusForbidden, tr(lang, "err.csrf"))
		return
	}
	user := strings.TrimSpace(r.PostFormValue("username"))
	if !s.signinByAddr.Allow(clientAddr(r)) || !s.signinByUser.Allow(user) {
		w.Header().Set("Retry-After", "60")
		s.signinPage(w, r, http.StatusTooManyRequests, tr(lang, "err.rate"))
		return
	}
	st, e := s.hub.StaffSignIn(r.Context(), user, r.PostFormValue("password"), clientAddr(r))
	if e != nil {
		code := http.StatusUnauthorized
		msg := tr(lang, "err.signin")
		if e.Code != api.CodeUnauthenticated {
			code, msg = api.StatusFor(e.Code), e.Message
		}
		s.signinPage(w, r, code, msg)
		return
	}
	sess := s.sessions.start(st, server.StaffPrincipal(st))
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: sess.id, Path: "/", HttpOnly: true,
		SameSite: http.SameSiteStrictMode, Secure: s.secure(r)})
	next := r.PostFormValue("next")
	if !strings.HasPrefix(next, "/console/") || strings.HasPrefix(next, "/console/signin") {
		next = sess.Home()
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
}

func (s *Server) signout(w http.ResponseWriter, r *http.Request, c *call) {
	s.sessions.end(c.s.id)
	s.hub.AuditAs(r.Context(), c.p(), "staff.signout", c.s.Username, clientAddr(r))
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true,
		SameSite: http.SameSiteStrictMode, Secure: s.secure(r)})
	http.Redirect(w, r, "/console/signin", http.StatusSeeOther)
}

type sealsData struct {
	Seals  []api.Seal
	Org    string
	Status string
	Orgs   []api.Org
}

func (s *Server) seals(w http.ResponseWriter, r *http.Request, c *call) {
	q := r.URL.Query()
	d := sealsData{Org: q.Get("org"), Status: q.Get("status")}
	var e *api.ErrorBody
	if d.Seals, e = s.hub.ListSeals(r.Context(), c.p(), d.Org, d.Status); e != nil {
		s.hubFail(w, r, e)
		return
	}
	if c.p().IsAdmin() {
		d.Orgs, _ = s.hub.ListOrgs(r.Context(), c.p())
	}
	s.render(w, r, http.StatusOK, "seals", s.view(r, c, tr(c.lang, "nav.seals"), d))
}

type sealData struct {
	Seal    *api.Seal
	Final   bool
	Actions []string
}

func (s *Server) seal(w http.ResponseWriter, r *http.Request, c *call) {
	s.sealPage(w, r, c, http.StatusOK, "")
}

func (s *Server) sealPage(w http.ResponseWriter, r *http.Request, c *call, code int, flash string) {
	sl, e := s.hub.Seal(r.Context(), c.p(), r.PathValue("id"))
	if e != nil {
		s.hubFail(w, r, e)
		return
	}
	d := sealData{Seal: sl, Final: api.Terminal(sl.Status)}
	switch sl.Status {
	case api.StatusActive:
		d.Actions = []string{"suspend", "revoke"}
	case api.StatusSuspended:
		d.Actions = []string{"resume", "revoke"}
	}
	if flash == "" && r.URL.Query().Get("done") == "1" {
		flash = tr(c.lang, "seal.changed")
	}
	v := s.view(r, c, sl.Name, d)
	v.Flash, v.FlashBad = flash, code >= 400
	s.render(w, r, code, "seal", v)
}

var actionStatus = map[string]string{"suspend": api.StatusSuspended, "resume": api.StatusActive, "revoke": api.StatusRevoked}

func (s *Server) sealStatus(w http.ResponseWriter, r *http.Request, c *call) {
	id := r.PathValue("id")
	st, ok := actionStatus[r.PostFormValue("action")]
	if !ok {
		s.sealPage(w, r, c, http.StatusBadRequest, "action: want suspend, resume or revoke")
		return
	}
	if _, e := s.hub.SetStatus(r.Context(), c.p(), id, api.StatusChange{Status: st, Reason: strings.TrimSpace(r.PostFormValue("reason"))}); e != nil {
		if e.Code == api.CodeNotFound || e.Code == api.CodeForbidden {
			s.hubFail(w, r, e)
			return
		}
		s.sealPage(w, r, c, api.StatusFor(e.Code), e.Message)
		return
	}
	http.Redirect(w, r, "/console/seals/"+url.PathEscape(id)+"?done=1", http.StatusSeeOther)
}

type recordsData struct {
	Page                            *api.RecordPage
	Org, Seal, Since, Until, Digest string
	Orgs                            []api.Org
	NextURL                         string
	NeedOrg                         bool
}

const pageSize = 50

// parseDay reads a yyyy-mm-dd date (UTC), or "" as zero.
func parseDay(s string) (time.Time, bool) {
	if s == "" {
		return time.Time{}, true
	}
	t, err := time.Parse("2006-01-02", s)
	return t, err == nil
}

func (s *Server) records(w http.ResponseWriter, r *http.Request, c *call) {
	q := r.URL.Query()
	d := recordsData{Org: q.Get("org"), Seal: q.Get("seal"), Since: q.Get("since"), Until: q.Get("until"), Digest: strings.TrimSpace(q.Get("digest"))}
	if c.p().IsAdmin() {
		d.Orgs, _ = s.hub.ListOrgs(r.Context(), c.p())
		if d.Org == "" {
			d.NeedOrg = true
			s.render(w, r, http.StatusOK, "records", s.view(r, c, tr(c.lang, "nav.records"), d))
			return
		}
	}
	since, ok1 := parseDay(d.Since)
	until, ok2 := parseDay(d.Until)
	if !ok1 || !ok2 {
		s.fail(w, r, http.StatusBadRequest, "dates: want yyyy-mm-dd")
		return
	}
	if !until.IsZero() {
		until = until.Add(24 * time.Hour) // through the end of that day
	}
	after, _ := strconv.ParseInt(q.Get("after"), 10, 64)
	page, e := s.hub.Records(r.Context(), c.p(), d.Org, store.RecordQuery{SealID: d.Seal, SignedFrom: since, SignedBefore: until,
		Digest: d.Digest, After: after, Limit: pageSize})
	if e != nil {
		s.hubFail(w, r, e)
		return
	}
	d.Page = page
	if page.Next != "" {
		nq := url.Values{}
		for k, v := range q {
			nq[k] = v
		}
		nq.Set("after", page.Next)
		d.NextURL = "/console/records?" + nq.Encode()
	}
	s.render(w, r, http.StatusOK, "records", s.view(r, c, tr(c.lang, "nav.records"), d))
}

func (s *Server) record(w http.ResponseWriter, r *http.Request, c *call) {
	org := r.PathValue("org")
	if !c.p().IsAdmin() && org != c.p().OrgID {
		// Another organisation's record answers exactly like a missing one.
		s.hub.AuditAs(r.Context(), c.p(), "denied", org+"/"+r.PathValue("id"), "read another organisation's record")
		s.fail(w, r, http.StatusNotFound, "record "+r.PathValue("id")+" is not among your organisation's records")
		return
	}
	rec, e := s.hub.Record(r.Context(), c.p(), org, r.PathValue("id"))
	if e != nil {
		s.hubFail(w, r, e)
		return
	}
	s.render(w, r, http.StatusOK, "record", s.view(r, c, rec.ID, rec))
}

type auditData struct {
	Page        *api.AuditPage
	Org, Action string
	Orgs        []api.Org
	NextURL     string
}

func (s *Server) audit(w http.ResponseWriter, r *http.Request, c *call) {
	q := r.URL.Query()
	d := auditData{Org: q.Get("org"), Action: q.Get("action")}
	after, _ := strconv.ParseInt(q.Get("after"), 10, 64)
	page, e := s.hub.Audit(r.Context(), c.p(), store.AuditQuery{OrgID: d.Org, Action: d.Action, After: after, Limit: pageSize})
	if e != nil {
		s.hubFail(w, r, e)
		return
	}
	if c.p().IsAdmin() {
		d.Orgs, _ = s.hub.ListOrgs(r.Context(), c.p())
	}
	d.Page = page
	if page.Next != "" {
		nq := url.Values{}
		for k, v := range q {
			nq[k] = v
		}
		nq.Set("after", page.Next)
		d.NextURL = "/console/audit?" + nq.Encode()
	}
	s.render(w, r, http.StatusOK, "audit", s.view(r, c, tr(c.lang, "nav.audit"), d))
}

type orgsData struct {
	Orgs        []api.Org
	Credentials []store.Credential
	Staff       []store.Staff
}

func (s *Server) orgs(w http.ResponseWriter, r *http.Request, c *call) {
	var d orgsData
	var e *api.ErrorBody
	if d.Orgs, e = s.hub.ListOrgs(r.Context(), c.p()); e != nil {
		s.hubFail(w, r, e)
		return
	}
	if d.Credentials, e = s.hub.ListCredentials(r.Context(), c.p()); e != nil {
		s.hubFail(w, r, e)
		return
	}
	if d.Staff, e = s.hub.ListStaff(r.Context(), c.p()); e != nil {
		s.hubFail(w, r, e)
		return
	}
	s.render(w, r, http.StatusOK, "orgs", s.view(r, c, tr(c.lang, "nav.orgs"), d))
}
