// Package web is sealhub's web face, served by the same binary as the /v1 API:
//
//   - the public seal check (验章) at "/": upload a PDF or OFD (multipart/form-data, field
//     "file", POST /) and see every signature with the facts `sealctl verify` reports, the
//     pages rendered with the seals outlined green / red / amber, and the report to download;
//     with "Accept: application/json" the same URL answers the `sealctl verify --json` report.
//     Uploads are checked in memory only (never written to disk) and forgotten after the
//     answer. GET /seal?id=ESID shows a seal's public registry entry and status history.
//   - the staff console under /console/: sign-in with a username and password (argon2id
//     hashes, hub/server), seals with their history and status actions, signing records,
//     the audit log, organisations and credentials — every page and action calls the same
//     server.Hub methods as the API and the sealhub commands, as the signed-in staff member's
//     principal, so authorisation and audit are the hub's own.
//
// Security: pages are server-rendered (html/template); the only script is the embedded
// static/app.js (no inline script), under a strict Content-Security-Policy; every asset is
// embedded in the binary. Sessions live in memory (HttpOnly, SameSite=Strict cookies, Secure
// under TLS, idle and absolute timeouts); every console form carries a CSRF token bound to
// the session (the sign-in form a double-submit token); sign-in attempts are rate-limited per
// address and per username and audited.
//
// Paths the web face does not serve are passed to the API handler (Options.API), so the
// whole hub is one http.Handler.
package web

import (
	"bytes"
	"context"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"log"
	"net/http"
	"runtime/debug"
	"strings"
	"time"

	"sealdesk/document"
	"sealdesk/hub/server"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// Options configures the web face. Hub is required.
type Options struct {
	Hub *server.Hub
	// API serves every path the web face does not (the /v1 API); nil answers 404.
	API http.Handler
	// Verify holds the trust anchors and revocation settings of the seal check, as
	// `sealctl verify --trust ... [--offline]` would be given.
	Verify document.VerifyOptions
	// MaxUpload is the largest document the seal check accepts (default 25 MiB).
	MaxUpload int64
	// Checks is how many uploads are verified at once (default 4); more wait. With
	// MaxUpload it bounds the memory uploads take: about Checks × (MaxUpload + rendering).
	Checks int
	// MaxPages is how many pages of a checked document are rendered beside those with a seal
	// (default 10).
	MaxPages int
	// DPI of rendered pages (default 96).
	DPI float64
	// Secure marks session cookies Secure (serving HTTPS, or behind a TLS proxy); cookies of
	// requests that arrive over TLS are Secure anyway.
	Secure bool
	// SessionIdle and SessionMax bound a console session (defaults 30 min and 12 h).
	SessionIdle, SessionMax time.Duration
	// CheckTimeout bounds one verification (default 30 s).
	CheckTimeout time.Duration
}

// Server is the web face.
type Server struct {
	opt      Options
	hub      *server.Hub
	pages    map[string]*template.Template
	sessions *sessions
	checks   chan struct{}
	// signinByAddr and signinByUser limit sign-in attempts (5 a minute, burst 10, each).
	signinByAddr, signinByUser *server.RateLimiter
	mux                        *http.ServeMux
}

// New makes the web face.
func New(opt Options) (*Server, error) {
	if opt.Hub == nil {
		return nil, fmt.Errorf("web: a hub is required")
	}
	if opt.MaxUpload <= 0 {
		opt.MaxUpload = 25 << 20
	}
	if opt.Checks <= 0 {
		opt.Checks = 4
	}
	if opt.MaxPages <= 0 {
		opt.MaxPages = 10
	}
	if opt.DPI <= 0 {
		opt.DPI = 96
	}
	if opt.SessionIdle <= 0 {
		opt.SessionIdle = 30 * time.Minute
	}
	if opt.SessionMax <= 0 {
		opt.SessionMax = 12 * time.Hour
	}
	if opt.CheckTimeout <= 0 {
		opt.CheckTimeout = 30 * time.Second
	}
	s := &Server{opt: opt, hub: opt.Hub, pages: map[string]*template.Template{},
		sessions: newSessions(opt.SessionIdle, opt.SessionMax), checks: make(chan struct{}, opt.Checks),
		signinByAddr: server.NewRateLimiter(5.0/60, 10), signinByUser: server.NewRateLimiter(5.0/60, 10)}
	names, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return nil, err
	}
	for _, n := range names {
		if n == "templates/base.html" {
			continue
		}
		t, err := template.New("").Funcs(funcs).ParseFS(templateFS, "templates/base.html", n)
		if err != nil {
			return nil, fmt.Errorf("web: template %s: %w", n, err)
		}
		s.pages[strings.TrimSuffix(strings.TrimPrefix(n, "templates/"), ".html")] = t
	}
	s.routes()
	return s, nil
}

// Handler returns the whole hub: the web face, and the API for every other path.
func (s *Server) Handler() http.Handler { return s.mux }

// MaxUpload is the upload limit in force.
func (s *Server) MaxUpload() int64 { return s.opt.MaxUpload }

func (s *Server) routes() {
	m := http.NewServeMux()
	page := func(pattern string, h http.HandlerFunc) { m.Handle(pattern, s.guard(h)) }
	page("GET /{$}", s.checkForm)
	page("POST /{$}", s.checkUpload)
	page("GET /seal", s.sealLookup)
	sub, _ := fs.Sub(staticFS, "static")
	static := http.FileServerFS(sub)
	m.Handle("GET /static/", s.guard(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		http.StripPrefix("/static/", static).ServeHTTP(w, r)
	}))
	page("GET /console/signin", s.signinForm)
	page("POST /console/signin", s.signin)
	page("POST /console/signout", s.staff(s.signout))
	page("GET /console/{$}", s.staff(func(w http.ResponseWriter, r *http.Request, c *call) {
		http.Redirect(w, r, c.s.Home(), http.StatusSeeOther)
	}))
	page("GET /console/seals", s.staff(s.seals))
	page("GET /console/seals/{id}", s.staff(s.seal))
	page("POST /console/seals/{id}/status", s.staff(s.sealStatus))
	page("GET /console/records", s.staff(s.records))
	page("GET /console/records/{org}/{id}", s.staff(s.record))
	page("GET /console/audit", s.staff(s.audit))
	page("GET /console/orgs", s.staff(s.orgs))
	page("GET /console/applications", s.staff(s.applications))
	page("GET /console/applications/{id}", s.staff(s.application))
	page("POST /console/applications/{id}/decision", s.staff(s.decide))
	page("/console/", func(w http.ResponseWriter, r *http.Request) {
		s.fail(w, r, http.StatusNotFound, tr(langOf(r), "err.notFound"))
	})
	api := s.opt.API
	if api == nil {
		api = http.NotFoundHandler()
	}
	m.Handle("/", api)
	s.mux = m
}

// csp allows the embedded script and style only; page images are data: URIs (the rendered
// pages of an upload, which is never stored, so it cannot be fetched again by URL).
const csp = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"form-action 'self'; base-uri 'none'; frame-ancestors 'none'"

// guard sets the security headers, the language cookie, and turns a panic into a clear
// error page instead of a dropped connection.
func (s *Server) guard(h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("Content-Security-Policy", csp)
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("X-Frame-Options", "DENY")
		// same-origin, not no-referrer: under no-referrer browsers send "Origin: null" with form
		// posts, which the console refuses as cross-site.
		hd.Set("Referrer-Policy", "same-origin")
		if !strings.HasPrefix(r.URL.Path, "/static/") {
			hd.Set("Cache-Control", "no-store")
		}
		if l := r.URL.Query().Get("lang"); l == langEN || l == langZH {
			http.SetCookie(w, &http.Cookie{Name: "lang", Value: l, Path: "/", MaxAge: 365 * 24 * 3600,
				HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: s.secure(r)})
		}
		defer func() {
			if v := recover(); v != nil {
				log.Printf("sealhub web: panic serving %s %s: %v\n%s", r.Method, r.URL.Path, v, debug.Stack())
				s.fail(w, r, http.StatusInternalServerError, "internal error")
			}
		}()
		h(w, r)
	})
}

func (s *Server) secure(r *http.Request) bool { return s.opt.Secure || r.TLS != nil }

// view is what every page template gets.
type view struct {
	Lang  string
	Path  string
	Staff *session
	CSRF  string
	Title string
	Data  any
	Flash string
	// FlashBad marks the flash as a refusal (red) rather than a done action (green).
	FlashBad bool
}

// T translates a message id in the page's language.
func (v *view) T(id string, args ...any) string { return tr(v.Lang, id, args...) }

// OtherLang is the language the switch link offers.
func (v *view) OtherLang() string {
	if v.Lang == langEN {
		return langZH
	}
	return langEN
}

var funcs = template.FuncMap{
	"fmtTime": func(t time.Time) string {
		if t.IsZero() {
			return "—"
		}
		return t.UTC().Format("2006-01-02 15:04:05Z")
	},
	"list": func(v ...string) []string { return v },
	// mmpx converts millimetres to CSS pixels (96 per inch), so a picture shows at its true
	// size on a screen whose scale is right.
	"mmpx": func(mm float64) float64 { return mm * 96 / 25.4 },
	"short": func(s string, n int) string {
		if len(s) <= n {
			return s
		}
		return s[:n] + "…"
	},
}

// render writes page name with status code; the page is built in memory first, so a template
// error becomes an error page, not half a page.
func (s *Server) render(w http.ResponseWriter, r *http.Request, code int, name string, v *view) {
	if v.Lang == "" {
		v.Lang = langOf(r)
	}
	v.Path = r.URL.Path
	var buf bytes.Buffer
	if err := s.pages[name].ExecuteTemplate(&buf, "base", v); err != nil {
		log.Printf("sealhub web: rendering %s: %v", name, err)
		http.Error(w, "internal error rendering the page", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(code)
	w.Write(buf.Bytes())
}

// fail answers an error page (or, to a JSON client, the API's error body).
func (s *Server) fail(w http.ResponseWriter, r *http.Request, code int, msg string) {
	if wantsJSON(r) {
		writeJSON(w, code, map[string]any{"error": map[string]string{"code": errCode(code), "message": msg}})
		return
	}
	s.render(w, r, code, "error", &view{Title: tr(langOf(r), "err.title"), Data: msg, Staff: sessionOf(r.Context())})
}

func errCode(code int) string {
	switch code {
	case http.StatusBadRequest:
		return "invalid_document"
	case http.StatusRequestEntityTooLarge:
		return "request_too_large"
	case http.StatusUnsupportedMediaType:
		return "unsupported_media_type"
	case http.StatusForbidden:
		return "forbidden"
	case http.StatusNotFound:
		return "not_found"
	case http.StatusTooManyRequests:
		return "rate_limited"
	case http.StatusServiceUnavailable:
		return "timeout"
	}
	return "internal"
}

type ctxSession struct{}

func sessionOf(ctx context.Context) *session {
	c, _ := ctx.Value(ctxSession{}).(*session)
	return c
}
