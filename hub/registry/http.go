package registry

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"time"

	"sealdesk/hub/api"
)

// Routes of the registry (mounted beside the hub API by sealhub serve --role registry).
// Reads are public: a seal's filed status and the trust bundle are what every relying
// party asks for. Filings are authenticated by the provider's signature.
const (
	PathFilings     = "/v1/registry/filings"     // POST, headers Sealhub-Provider and Sealhub-Signature
	PathStatus      = "/v1/registry/status"      // GET ?id=ESID[&id=…][&at=RFC3339]
	PathRevocations = "/v1/registry/revocations" // GET ?since=RFC3339
	PathBundle      = "/v1/registry/bundle"      // GET: the signed trust bundle
	PathKey         = "/v1/registry/key"         // GET: the registry's public key (PEM)
)

// Headers of a filing request.
const (
	HeaderProvider  = "Sealhub-Provider"
	HeaderSignature = "Sealhub-Signature" // base64 (std) ES256 over FilingContext || body
)

func httpStatus(code string) int {
	switch code {
	case CodeNotAccredited, CodeBadSignature:
		return http.StatusForbidden
	}
	return api.StatusFor(code)
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(v)
}

func writeErr(w http.ResponseWriter, e *api.ErrorBody) {
	writeJSON(w, httpStatus(e.Code), api.ErrorResponse{Error: *e})
}

func parseTime(w http.ResponseWriter, r *http.Request, name string) (time.Time, bool) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return time.Time{}, true
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		writeErr(w, api.Errf(api.CodeInvalidField, "%s: %q is not an RFC 3339 time", name, v))
		return time.Time{}, false
	}
	return t, true
}

// Handler serves the registry routes.
func (r *Registry) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST "+PathFilings, func(w http.ResponseWriter, req *http.Request) {
		body, err := io.ReadAll(http.MaxBytesReader(w, req.Body, 32<<20))
		if err != nil {
			writeErr(w, api.Errf(api.CodeTooLarge, "filing request: %v", err))
			return
		}
		sig, err := base64.StdEncoding.DecodeString(req.Header.Get(HeaderSignature))
		if err != nil || len(sig) == 0 {
			writeErr(w, api.Errf(CodeBadSignature, "the %s header is missing or not base64", HeaderSignature))
			return
		}
		ans, e := r.Receive(req.Context(), req.Header.Get(HeaderProvider), body, sig)
		if e != nil {
			writeErr(w, e)
			return
		}
		writeJSON(w, http.StatusOK, ans)
	})
	mux.HandleFunc("GET "+PathStatus, func(w http.ResponseWriter, req *http.Request) {
		at, ok := parseTime(w, req, "at")
		if !ok {
			return
		}
		s, e := r.Status(req.Context(), req.URL.Query()["id"], at)
		if e != nil {
			writeErr(w, e)
			return
		}
		writeJSON(w, http.StatusOK, s)
	})
	mux.HandleFunc("GET "+PathRevocations, func(w http.ResponseWriter, req *http.Request) {
		since, ok := parseTime(w, req, "since")
		if !ok {
			return
		}
		s, e := r.Revocations(req.Context(), since)
		if e != nil {
			writeErr(w, e)
			return
		}
		writeJSON(w, http.StatusOK, s)
	})
	mux.HandleFunc("GET "+PathBundle, func(w http.ResponseWriter, req *http.Request) {
		b, err := r.Bundle(req.Context())
		if err != nil {
			writeErr(w, api.Errf(api.CodeInternal, "%v", err))
			return
		}
		writeJSON(w, http.StatusOK, b)
	})
	mux.HandleFunc("GET "+PathKey, func(w http.ResponseWriter, req *http.Request) {
		pemText, _ := api.PublicKeyPEM(&r.key.PublicKey)
		w.Header().Set("Content-Type", "application/x-pem-file")
		io.WriteString(w, pemText)
	})
	return mux
}
