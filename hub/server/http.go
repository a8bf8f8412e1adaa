package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"mime"
	"net"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"time"

	"sealdesk/hub/api"
	"sealdesk/hub/store"
)

type ctxKey struct{}

func principal(r *http.Request) api.Principal {
	p, _ := r.Context().Value(ctxKey{}).(api.Principal)
	return p
}

// handlerFunc is a route: it returns the value to send (status 200 unless it is a *created)
// or an error body.
type handlerFunc func(r *http.Request) (any, *api.ErrorBody)

// created marks a 201 answer.
type created struct{ v any }

// withStatus sends v with an explicit HTTP status.
type withStatus struct {
	code int
	v    any
}

type route struct {
	public  bool
	methods map[string]handlerFunc
}

// Handler returns the HTTP API.
func (h *Hub) Handler() http.Handler {
	mux := http.NewServeMux()
	add := func(pattern string, public bool, m map[string]handlerFunc) {
		rt := &route{public: public, methods: m}
		mux.Handle(pattern, h.wrap(rt))
	}
	add("/v1/health", true, map[string]handlerFunc{"GET": func(*http.Request) (any, *api.ErrorBody) {
		return map[string]string{"status": "ok"}, nil
	}})
	add("/v1/hub-key", true, map[string]handlerFunc{"GET": func(r *http.Request) (any, *api.ErrorBody) {
		if ch := r.URL.Query().Get("challenge"); ch != "" {
			return h.ProveIdentity(ch)
		}
		return h.HubKey(), nil
	}})
	add("/v1/whoami", false, map[string]handlerFunc{"GET": func(r *http.Request) (any, *api.ErrorBody) {
		return principal(r), nil
	}})
	add("/v1/orgs", false, map[string]handlerFunc{
		"GET": func(r *http.Request) (any, *api.ErrorBody) { return wrapList(h.ListOrgs(r.Context(), principal(r))) },
		"POST": func(r *http.Request) (any, *api.ErrorBody) {
			var o api.Org
			if e := decode(r, &o); e != nil {
				return nil, e
			}
			v, e := h.CreateOrg(r.Context(), principal(r), o)
			return created{v}, e
		},
	})
	add("/v1/tokens", false, map[string]handlerFunc{"POST": func(r *http.Request) (any, *api.ErrorBody) {
		var t api.TokenRequest
		if e := decode(r, &t); e != nil {
			return nil, e
		}
		v, e := h.IssueToken(r.Context(), principal(r), t)
		return created{v}, e
	}})
	add("/v1/seals", false, map[string]handlerFunc{
		"GET": func(r *http.Request) (any, *api.ErrorBody) {
			q := r.URL.Query()
			seals, e := h.ListSeals(r.Context(), principal(r), q.Get("org"), q.Get("status"))
			if e != nil {
				return nil, e
			}
			return map[string]any{"seals": seals}, nil
		},
		"POST": func(r *http.Request) (any, *api.ErrorBody) {
			var req api.FileSealRequest
			if e := decode(r, &req); e != nil {
				return nil, e
			}
			v, e := h.FileSeal(r.Context(), principal(r), req)
			return created{v}, e
		},
	})
	add("/v1/seals/{id}", false, map[string]handlerFunc{"GET": func(r *http.Request) (any, *api.ErrorBody) {
		return h.Seal(r.Context(), principal(r), r.PathValue("id"))
	}})
	add("/v1/seals/{id}/status", false, map[string]handlerFunc{"POST": func(r *http.Request) (any, *api.ErrorBody) {
		var ch api.StatusChange
		if e := decode(r, &ch); e != nil {
			return nil, e
		}
		return h.SetStatus(r.Context(), principal(r), r.PathValue("id"), ch)
	}})
	add("/v1/seals/{id}/renew", false, map[string]handlerFunc{"POST": func(r *http.Request) (any, *api.ErrorBody) {
		var req api.RenewRequest
		if e := decode(r, &req); e != nil {
			return nil, e
		}
		return h.Renew(r.Context(), principal(r), r.PathValue("id"), req)
	}})
	add("/v1/status/{id}", false, map[string]handlerFunc{"GET": func(r *http.Request) (any, *api.ErrorBody) {
		return h.Status(r.Context(), principal(r), []string{r.PathValue("id")})
	}})
	add("/v1/status", false, map[string]handlerFunc{"POST": func(r *http.Request) (any, *api.ErrorBody) {
		var req api.StatusBatchRequest
		if e := decode(r, &req); e != nil {
			return nil, e
		}
		return h.Status(r.Context(), principal(r), req.IDs)
	}})
	add("/v1/revocations", false, map[string]handlerFunc{"GET": func(r *http.Request) (any, *api.ErrorBody) {
		since, e := timeParam(r, "since")
		if e != nil {
			return nil, e
		}
		return h.Revocations(r.Context(), principal(r), since)
	}})
	add("/v1/records", false, map[string]handlerFunc{
		"POST": func(r *http.Request) (any, *api.ErrorBody) {
			var b api.RecordBatch
			if e := decode(r, &b); e != nil {
				return nil, e
			}
			return h.PushRecords(r.Context(), principal(r), b.Records)
		},
		"GET": func(r *http.Request) (any, *api.ErrorBody) {
			q := r.URL.Query()
			since, e := timeParam(r, "since")
			if e != nil {
				return nil, e
			}
			after, e := intParam(r, "after")
			if e != nil {
				return nil, e
			}
			limit, e := intParam(r, "limit")
			if e != nil {
				return nil, e
			}
			return h.Records(r.Context(), principal(r), q.Get("org"), store.RecordQuery{SealID: q.Get("seal"), Since: since, After: after, Limit: int(limit)})
		},
	})
	add("/v1/records/{id}", false, map[string]handlerFunc{
		"GET": func(r *http.Request) (any, *api.ErrorBody) {
			return h.Record(r.Context(), principal(r), r.URL.Query().Get("org"), r.PathValue("id"))
		},
		// PUT pushes one record under its id: 201 created, 200 the same record again,
		// 409 a different record under that id.
		"PUT": func(r *http.Request) (any, *api.ErrorBody) {
			var rec api.Record
			if e := decode(r, &rec); e != nil {
				return nil, e
			}
			if rec.ID == "" {
				rec.ID = r.PathValue("id")
			}
			if rec.ID != r.PathValue("id") {
				return nil, api.Errf(api.CodeInvalidField, "record id %q differs from the id in the path %q", rec.ID, r.PathValue("id"))
			}
			res, e := h.PushRecords(r.Context(), principal(r), []api.Record{rec})
			if e != nil {
				return nil, e
			}
			rr := res.Results[0]
			switch rr.Result {
			case api.ResultCreated:
				return withStatus{http.StatusCreated, rr}, nil
			case api.ResultDuplicate:
				return rr, nil
			default:
				return nil, rr.Error
			}
		},
	})
	add("/v1/verify", false, map[string]handlerFunc{"POST": func(r *http.Request) (any, *api.ErrorBody) {
		var req api.VerifyRequest
		if e := decode(r, &req); e != nil {
			return nil, e
		}
		return h.Verify(r.Context(), principal(r), req)
	}})
	add("/v1/audit", false, map[string]handlerFunc{"GET": func(r *http.Request) (any, *api.ErrorBody) {
		q := r.URL.Query()
		since, e := timeParam(r, "since")
		if e != nil {
			return nil, e
		}
		until, e := timeParam(r, "until")
		if e != nil {
			return nil, e
		}
		after, e := intParam(r, "after")
		if e != nil {
			return nil, e
		}
		limit, e := intParam(r, "limit")
		if e != nil {
			return nil, e
		}
		return h.Audit(r.Context(), principal(r), store.AuditQuery{OrgID: q.Get("org"), Since: since, Until: until,
			Action: q.Get("action"), After: after, Limit: int(limit)})
	}})
	h.addCRLRoute(mux)
	h.addLifecycleRoutes(mux)
	mux.HandleFunc("/v1/ready", h.readyHandler)
	mux.Handle("/", h.wrap(&route{public: true}))
	return mux
}

func wrapList[T any](v []T, e *api.ErrorBody) (any, *api.ErrorBody) {
	if e != nil {
		return nil, e
	}
	return map[string]any{"items": v}, nil
}

func timeParam(r *http.Request, name string) (time.Time, *api.ErrorBody) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return time.Time{}, api.Errf(api.CodeInvalidField, "%s %q: want an RFC 3339 time such as 2026-01-02T15:04:05Z", name, v)
	}
	return t, nil
}

func intParam(r *http.Request, name string) (int64, *api.ErrorBody) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 {
		return 0, api.Errf(api.CodeInvalidField, "%s %q: want a non-negative integer", name, v)
	}
	return n, nil
}

// decode reads a JSON body: content type application/json, within the size limit, one value.
func decode(r *http.Request, v any) *api.ErrorBody {
	ct := r.Header.Get("Content-Type")
	if mt, _, err := mime.ParseMediaType(ct); err != nil || mt != "application/json" {
		return api.Errf(api.CodeUnsupportedType, "the body must be JSON (Content-Type: application/json), got %q", ct)
	}
	// The body is bounded by the route's MaxBytesReader, so reading it whole is safe, and the
	// strict decoder needs it whole (it walks it twice).
	data, err := io.ReadAll(r.Body)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return api.Errf(api.CodeTooLarge, "the body exceeds the limit of %d bytes", mbe.Limit)
		}
		if errors.Is(err, context.DeadlineExceeded) {
			return api.Errf(api.CodeTimeout, "the body did not arrive in time")
		}
		return api.Errf(api.CodeMalformed, "the body could not be read: %v", err)
	}
	// Duplicate and unknown keys are refused on every request (issue 12): the last of two
	// "status" keys used to win, and revocation is final.
	if err := api.DecodeStrict(data, v); err != nil {
		return api.Errf(api.CodeMalformed, "the body is not valid JSON for this request: %v", err)
	}
	return nil
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		code = http.StatusInternalServerError
		buf.Reset()
		fmt.Fprintf(&buf, `{"error":{"code":"internal","message":"encoding the answer failed"}}`+"\n")
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(code)
	w.Write(buf.Bytes())
}

func writeError(w http.ResponseWriter, e *api.ErrorBody) {
	if e.Code == api.CodeUnauthenticated {
		w.Header().Set("WWW-Authenticate", `Bearer realm="sealhub"`)
	}
	writeJSON(w, api.StatusFor(e.Code), api.ErrorResponse{Error: *e})
}

// wrap applies, in order: panic recovery, the route and method check, the body size limit,
// the request timeout, authentication and the rate limit.
func (h *Hub) wrap(rt *route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				log.Printf("sealhub: panic serving %s %s: %v\n%s", r.Method, r.URL.Path, v, debug.Stack())
				writeError(w, api.Errf(api.CodeInternal, "internal error"))
			}
		}()
		if rt.methods == nil {
			writeError(w, api.Errf(api.CodeNotFound, "no such endpoint: %s %s", r.Method, r.URL.Path))
			return
		}
		fn, ok := rt.methods[r.Method]
		if !ok {
			var allowed []string
			for m := range rt.methods {
				allowed = append(allowed, m)
			}
			w.Header().Set("Allow", strings.Join(allowed, ", "))
			writeError(w, api.Errf(api.CodeMethodNotAllowed, "%s is not allowed on %s", r.Method, r.URL.Path))
			return
		}
		if r.ContentLength > h.opt.MaxBody {
			writeError(w, api.Errf(api.CodeTooLarge, "the body of %d bytes exceeds the limit of %d bytes", r.ContentLength, h.opt.MaxBody))
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, h.opt.MaxBody)
		ctx, cancel := context.WithTimeout(r.Context(), h.opt.RequestTimeout)
		defer cancel()
		if !rt.public {
			hash, e := credentialHash(r)
			var p *api.Principal
			if e == nil {
				p, e = h.Authenticate(ctx, hash)
			}
			if e != nil {
				// Failed authentication is limited per client address, so guessing is slow
				// and cheap to refuse (the credential store is not asked once over the limit).
				if e.Code == api.CodeUnauthenticated && !h.failLim.allow(clientHost(r)) {
					w.Header().Set("Retry-After", "10")
					e = api.Errf(api.CodeRateLimited, "too many failed authentications from this address; wait and retry")
				}
				writeError(w, e)
				return
			}
			if !h.lim.allow(hash) {
				w.Header().Set("Retry-After", "1")
				writeError(w, api.Errf(api.CodeRateLimited, "too many requests for this credential; slow down (limit %.0f/s)", h.opt.Rate))
				return
			}
			ctx = context.WithValue(ctx, ctxKey{}, *p)
		}
		v, e := fn(r.WithContext(ctx))
		if e == nil && ctx.Err() != nil {
			e = api.Errf(api.CodeTimeout, "the request took longer than %s and was stopped", h.opt.RequestTimeout)
		}
		if e != nil {
			writeError(w, e)
			return
		}
		switch x := v.(type) {
		case created:
			writeJSON(w, http.StatusCreated, x.v)
		case withStatus:
			writeJSON(w, x.code, x.v)
		default:
			writeJSON(w, http.StatusOK, v)
		}
	})
}

// credentialHash reads the bearer token, or else the verified TLS client certificate.
func credentialHash(r *http.Request) (string, *api.ErrorBody) {
	if a := r.Header.Get("Authorization"); a != "" {
		tok, ok := strings.CutPrefix(a, "Bearer ")
		if !ok || strings.TrimSpace(tok) == "" {
			return "", api.Errf(api.CodeUnauthenticated, "the Authorization header must be 'Bearer <token>'")
		}
		return TokenHash(strings.TrimSpace(tok)), nil
	}
	if r.TLS != nil && len(r.TLS.VerifiedChains) > 0 && len(r.TLS.PeerCertificates) > 0 {
		return CertCredentialHash(r.TLS.PeerCertificates[0].Raw), nil
	}
	return "", api.Errf(api.CodeUnauthenticated, "no credential: send 'Authorization: Bearer <token>' or a registered TLS client certificate")
}

// maxBuckets bounds a limiter's memory (keys may be client addresses).
const maxBuckets = 10000

// limiter is a token bucket per key (a credential hash, or a client address for failed
// authentication).
type limiter struct {
	rate  float64
	burst float64
	// baseRate and baseBurst are the configured limits; rate and burst are this instance's
	// share of them (setShare, cluster.go).
	baseRate, baseBurst float64
	mu                  sync.Mutex
	b                   map[string]*bucket
}

type bucket struct {
	tokens float64
	last   time.Time
}

// clientHost is the request's remote address without the port.
func clientHost(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

func newLimiter(rate float64, burst int) *limiter {
	return &limiter{rate: rate, burst: float64(burst), baseRate: rate, baseBurst: float64(burst), b: map[string]*bucket{}}
}

func (l *limiter) allow(key string) bool {
	now := time.Now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.rate < 0 {
		return true
	}
	b := l.b[key]
	if b == nil {
		if len(l.b) >= maxBuckets {
			// Bounded memory whatever the callers: forgetting every bucket only hands out
			// one fresh burst each.
			clear(l.b)
		}
		b = &bucket{tokens: l.burst, last: now}
		l.b[key] = b
	}
	b.tokens = min(l.burst, b.tokens+now.Sub(b.last).Seconds()*l.rate)
	b.last = now
	if b.tokens < 1 {
		return false
	}
	b.tokens--
	return true
}

// NewServer returns an http.Server for the handler with the timeouts a public endpoint needs.
func NewServer(addr string, handler http.Handler) *http.Server {
	return &http.Server{
		Addr:              addr,
		Handler:           handler,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       90 * time.Second,
		MaxHeaderBytes:    64 << 10,
	}
}
