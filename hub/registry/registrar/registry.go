// Package registrar is the hub side of mutual recognition (issue 14; the formats and the
// client are package registry): Queue, the provider's registrar that keeps every filing in
// its own store until the registry acknowledged it, and Registry, the filing registry (备案)
// with its HTTP routes, accreditation of providers and signed trust bundle.
package registrar

import (
	"context"
	"crypto/ecdsa"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"
	"time"

	"sealdesk/hub/api"
	"sealdesk/hub/registry"
	"sealdesk/hub/store"
)

// Registry is the registry side.
type Registry struct {
	st  store.RegistryStore
	key *ecdsa.PrivateKey
	// BundleTTL is how long a trust bundle is valid (default 24 h).
	BundleTTL time.Duration
	Now       func() time.Time
}

// New makes a registry on a store opened with store.Open; key signs its answers and bundles.
func New(st store.Store, key *ecdsa.PrivateKey) (*Registry, error) {
	rs, ok := st.(store.RegistryStore)
	if !ok || key == nil {
		return nil, errors.New("registry: a SQL store and a signing key are required")
	}
	return &Registry{st: rs, key: key, BundleTTL: 24 * time.Hour, Now: time.Now}, nil
}

func (r *Registry) now() time.Time { return r.Now().UTC() }

// Accredit adds or updates a provider as accredited (the registry admin's act).
func (r *Registry) Accredit(ctx context.Context, p registry.Provider) error {
	if !api.ValidID(p.ID) {
		return fmt.Errorf("registry: provider id %q is not valid", p.ID)
	}
	if _, err := api.ParseHubKey(p.KeyPEM); err != nil {
		return fmt.Errorf("registry: provider %s: %w", p.ID, err)
	}
	p.Status = registry.Accredited
	return r.putProvider(ctx, p)
}

// SetProviderStatus accredits again or suspends an existing provider.
func (r *Registry) SetProviderStatus(ctx context.Context, id, status string) error {
	if status != registry.Accredited && status != registry.Suspended {
		return fmt.Errorf("registry: provider status %q: want %s or %s", status, registry.Accredited, registry.Suspended)
	}
	p, err := r.Provider(ctx, id)
	if err != nil {
		return err
	}
	p.Status = status
	return r.putProvider(ctx, *p)
}

func (r *Registry) putProvider(ctx context.Context, p registry.Provider) error {
	p.Updated = r.now()
	if old, err := r.st.GetProvider(ctx, p.ID); err == nil && !p.Updated.After(old.Updated) {
		// The bundle version is the latest change's time: keep it strictly increasing.
		p.Updated = old.Updated.Add(time.Microsecond)
	}
	b, err := json.Marshal(p)
	if err != nil {
		return err
	}
	return r.st.PutProvider(ctx, store.ProviderRow{ID: p.ID, Body: b, Status: p.Status, Updated: p.Updated})
}

// registry.Provider reads one provider.
func (r *Registry) Provider(ctx context.Context, id string) (*registry.Provider, error) {
	row, err := r.st.GetProvider(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("registry: provider %s: %w", id, err)
	}
	var p registry.Provider
	if err := json.Unmarshal(row.Body, &p); err != nil {
		return nil, err
	}
	p.Status, p.Updated = row.Status, row.Updated
	return &p, nil
}

// Providers lists every provider.
func (r *Registry) Providers(ctx context.Context) ([]registry.Provider, error) {
	rows, err := r.st.ListProviders(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]registry.Provider, 0, len(rows))
	for _, row := range rows {
		var p registry.Provider
		if err := json.Unmarshal(row.Body, &p); err != nil {
			return nil, err
		}
		p.Status, p.Updated = row.Status, row.Updated
		out = append(out, p)
	}
	return out, nil
}

// Receive stores a provider's signed filing request.
func (r *Registry) Receive(ctx context.Context, providerID string, body, sig []byte) (*registry.FilingAnswer, *api.ErrorBody) {
	p, err := r.Provider(ctx, providerID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, api.Errf(registry.CodeNotAccredited, "provider %q is not accredited by this registry", providerID)
	}
	if err != nil {
		return nil, api.Errf(api.CodeInternal, "%v", err)
	}
	if p.Status != registry.Accredited {
		return nil, api.Errf(registry.CodeNotAccredited, "provider %q is %s by this registry; its filings are refused", providerID, p.Status)
	}
	pub, err := api.ParseHubKey(p.KeyPEM)
	if err != nil || !api.VerifyContext(pub, registry.FilingContext, body, sig) {
		return nil, api.Errf(registry.CodeBadSignature, "the filing request is not signed by provider %s's key", providerID)
	}
	var req registry.FilingRequest
	if err := json.Unmarshal(body, &req); err != nil {
		return nil, api.Errf(api.CodeInvalidField, "filing request: %v", err)
	}
	if len(req.Filings) == 0 || len(req.Filings) > registry.MaxFilings {
		return nil, api.Errf(api.CodeInvalidField, "filings: want 1-%d, got %d", registry.MaxFilings, len(req.Filings))
	}
	ans := &registry.FilingAnswer{}
	for _, f := range req.Filings {
		if f.ID == "" || len(f.ID) > 200 || !api.ValidID(f.ESID) || (f.Kind != "seal" && f.Kind != "status") {
			return nil, api.Errf(api.CodeInvalidField, "filing %q: want an id, a valid esId and kind seal or status", f.ID)
		}
		status := f.Status
		number := "BA-" + f.ESID
		if f.Kind == "seal" {
			status = api.StatusFiled
		} else {
			if !api.ValidStatus(status) {
				return nil, api.Errf(api.CodeInvalidField, "filing %s: status %q is not valid", f.ID, status)
			}
			number = fmt.Sprintf("BS-%s-%d", f.ESID, f.At.UnixMicro())
		}
		b, _ := json.Marshal(f)
		n, dup, err := r.st.ReceiveFiling(ctx, store.ReceivedFiling{Provider: providerID, FilingID: f.ID, Kind: f.Kind, ESID: f.ESID,
			Status: status, Reason: f.Reason, At: f.At.UTC(), Body: b, Number: number, Received: r.now()})
		if err != nil {
			return nil, api.Errf(api.CodeInternal, "storing filing %s: %v", f.ID, err)
		}
		ans.Results = append(ans.Results, registry.FilingResult{ID: f.ID, Number: n, Duplicate: dup})
	}
	return ans, nil
}

// history is a seal's status history at the registry, oldest first, and its provider.
func (r *Registry) history(ctx context.Context, esID string) ([]api.StatusEvent, *store.ReceivedFiling, error) {
	fs, err := r.st.FilingsFor(ctx, esID)
	if err != nil || len(fs) == 0 {
		return nil, nil, err
	}
	var seal *store.ReceivedFiling
	h := make([]api.StatusEvent, 0, len(fs))
	for i, f := range fs {
		if f.Kind == "seal" && seal == nil {
			seal = &fs[i]
		}
		h = append(h, api.StatusEvent{Status: f.Status, Reason: f.Reason, At: f.At, Actor: f.Provider})
	}
	return h, seal, nil
}

// Status answers, signed, the status of seals at time at (zero: now), across all providers.
func (r *Registry) Status(ctx context.Context, ids []string, at time.Time) (*api.SignedStatus, *api.ErrorBody) {
	if len(ids) == 0 || len(ids) > 1000 {
		return nil, api.Errf(api.CodeInvalidField, "id: want 1-1000 seal ids, got %d", len(ids))
	}
	now := r.now()
	if at.IsZero() {
		at = now
	}
	pl := &api.StatusPayload{Type: "status", ProducedAt: now, At: at.UTC(), Statuses: make([]api.SealStatus, 0, len(ids))}
	for _, id := range ids {
		if !api.ValidID(id) {
			return nil, api.Errf(api.CodeInvalidField, "id: %q is not a valid seal id", id)
		}
		h, seal, err := r.history(ctx, id)
		if err != nil {
			return nil, api.Errf(api.CodeInternal, "%v", err)
		}
		st := api.SealStatus{ESID: id, Status: api.StatusUnknown}
		if len(h) > 0 && !h[0].At.Truncate(time.Second).After(at) {
			ev := api.StatusAt(h, at)
			st.Status, st.Reason, st.StatusAt = ev.Status, ev.Reason, ev.At
			if seal != nil {
				var m registry.FilingMsg
				if json.Unmarshal(seal.Body, &m) == nil {
					st.OwnerUSCC, st.Name = m.OwnerUSCC, m.Name
				}
			}
		}
		pl.Statuses = append(pl.Statuses, st)
	}
	return r.sign(pl)
}

// Revocations answers, signed, the latest status of every seal whose status changed after
// since, across all providers.
func (r *Registry) Revocations(ctx context.Context, since time.Time) (*api.SignedStatus, *api.ErrorBody) {
	fs, err := r.st.StatusFilingsSince(ctx, since)
	if err != nil {
		return nil, api.Errf(api.CodeInternal, "%v", err)
	}
	last := map[string]api.SealStatus{}
	for _, f := range fs {
		last[f.ESID] = api.SealStatus{ESID: f.ESID, Status: f.Status, Reason: f.Reason, StatusAt: f.At}
	}
	list := make([]api.SealStatus, 0, len(last))
	for _, s := range last {
		list = append(list, s)
	}
	sort.Slice(list, func(i, j int) bool { return list[i].ESID < list[j].ESID })
	return r.sign(&api.StatusPayload{Type: "revocations", ProducedAt: r.now(), Since: since.UTC(), Statuses: list})
}

func (r *Registry) sign(pl *api.StatusPayload) (*api.SignedStatus, *api.ErrorBody) {
	s, err := api.SignStatus(r.key, pl)
	if err != nil {
		return nil, api.Errf(api.CodeInternal, "signing the answer: %v", err)
	}
	return s, nil
}

// FilingCount is how many filings the registry holds (each once).
func (r *Registry) FilingCount(ctx context.Context) (int, error) { return r.st.CountFilings(ctx) }

// FilingCounts is how many filings the registry holds from each provider.
func (r *Registry) FilingCounts(ctx context.Context) (map[string]int, error) {
	return r.st.CountFilingsByProvider(ctx)
}

// registry.Bundle builds and signs the current trust bundle.
func (r *Registry) Bundle(ctx context.Context) (*registry.SignedBundle, error) {
	ps, err := r.Providers(ctx)
	if err != nil {
		return nil, err
	}
	kid, err := api.KeyID(&r.key.PublicKey)
	if err != nil {
		return nil, err
	}
	now := r.now()
	b := registry.Bundle{Type: "trust-bundle", Issued: now, Expires: now.Add(r.BundleTTL), Registry: kid, Providers: []registry.BundleProvider{}}
	for _, p := range ps {
		b.Version = max(b.Version, p.Updated.UnixMicro())
		if p.Status != registry.Accredited {
			continue
		}
		b.Providers = append(b.Providers, registry.BundleProvider{ID: p.ID, Name: p.Name, Endpoint: p.Endpoint, KeyPEM: p.KeyPEM, MakerCerts: p.MakerCerts, CARoots: p.CARoots})
	}
	payload, err := json.Marshal(b)
	if err != nil {
		return nil, err
	}
	sig, err := api.SignContext(r.key, registry.BundleContext, payload)
	if err != nil {
		return nil, err
	}
	return &registry.SignedBundle{Payload: payload, KeyID: kid, Algorithm: "ES256", Signature: sig}, nil
}

func httpStatus(code string) int {
	switch code {
	case registry.CodeNotAccredited, registry.CodeBadSignature:
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
	mux.HandleFunc("POST "+registry.PathFilings, func(w http.ResponseWriter, req *http.Request) {
		body, err := io.ReadAll(http.MaxBytesReader(w, req.Body, 32<<20))
		if err != nil {
			writeErr(w, api.Errf(api.CodeTooLarge, "filing request: %v", err))
			return
		}
		sig, err := base64.StdEncoding.DecodeString(req.Header.Get(registry.HeaderSignature))
		if err != nil || len(sig) == 0 {
			writeErr(w, api.Errf(registry.CodeBadSignature, "the %s header is missing or not base64", registry.HeaderSignature))
			return
		}
		ans, e := r.Receive(req.Context(), req.Header.Get(registry.HeaderProvider), body, sig)
		if e != nil {
			writeErr(w, e)
			return
		}
		writeJSON(w, http.StatusOK, ans)
	})
	mux.HandleFunc("GET "+registry.PathStatus, func(w http.ResponseWriter, req *http.Request) {
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
	mux.HandleFunc("GET "+registry.PathRevocations, func(w http.ResponseWriter, req *http.Request) {
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
	mux.HandleFunc("GET "+registry.PathBundle, func(w http.ResponseWriter, req *http.Request) {
		b, err := r.Bundle(req.Context())
		if err != nil {
			writeErr(w, api.Errf(api.CodeInternal, "%v", err))
			return
		}
		writeJSON(w, http.StatusOK, b)
	})
	mux.HandleFunc("GET "+registry.PathKey, func(w http.ResponseWriter, req *http.Request) {
		pemText, _ := api.PublicKeyPEM(&r.key.PublicKey)
		w.Header().Set("Content-Type", "application/x-pem-file")
		io.WriteString(w, pemText)
	})
	return mux
}
