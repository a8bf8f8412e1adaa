// Package registry is mutual recognition (互信互认, issue 14): one filing registry (备案) and
// many seal providers.
//
// A provider (sealhub serve --role provider --registry URL) files every new seal and every
// status change through Queue, a server.Registrar: the filing goes first into a table of the
// provider's own store, then a loop sends due filings to the registry, retrying with
// exponential backoff while it is unreachable. Each filing has an id the provider chooses
// (seal:ESID, status:ESID:STATUS:MICROS), and the registry stores an id once per provider, so
// a filing whose acknowledgement was lost is sent again and answered with the same filing
// number: every filing lands exactly once.
//
// The registry (sealhub serve --role registry) accepts filings only from accredited
// providers, checked by the provider's signature over the request body (ES256 with the
// provider's hub key, context "sealhub-filing-v1\n"); it answers seal status across all
// providers, now or at a time T, the status changes since T, and a signed, versioned trust
// bundle (bundle.go) of the accredited providers, their seal-maker certificates, CA roots
// and endpoints.
//
// Stable error codes: provider_not_accredited (unknown or suspended provider),
// bad_provider_signature, invalid_field.
package registry

import (
	"context"
	"crypto/ecdsa"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"time"

	"sealdesk/hub/api"
	"sealdesk/hub/store"
)

// Provider states.
const (
	Accredited = "accredited"
	Suspended  = "suspended"
)

// Error codes of the registry.
const (
	CodeNotAccredited = "provider_not_accredited"
	CodeBadSignature  = "bad_provider_signature"
)

// FilingContext separates a provider's filing signatures from its status answers.
const FilingContext = "sealhub-filing-v1\n"

// Provider is an accredited provider as the registry's admin describes it.
type Provider struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	Endpoint string `json:"endpoint,omitempty"`
	// KeyPEM is the provider's hub key (status answers, filing signatures).
	KeyPEM string `json:"keyPem"`
	// MakerCerts are the DER certificates of its seal makers; CARoots the DER roots of
	// its holders' certificates.
	MakerCerts [][]byte  `json:"makerCerts,omitempty"`
	CARoots    [][]byte  `json:"caRoots,omitempty"`
	Status     string    `json:"status"`
	Updated    time.Time `json:"updated"`
}

// FilingMsg is one filing as a provider sends it.
type FilingMsg struct {
	ID        string    `json:"id"`
	Kind      string    `json:"kind"` // seal or status
	ESID      string    `json:"esId"`
	Status    string    `json:"status"`
	Reason    string    `json:"reason,omitempty"`
	At        time.Time `json:"at"`
	OrgID     string    `json:"orgId,omitempty"`
	OwnerUSCC string    `json:"ownerUscc,omitempty"`
	Name      string    `json:"name,omitempty"`
	Type      string    `json:"type,omitempty"`
	Seal      []byte    `json:"seal,omitempty"`
}

// FilingRequest is the body of POST /v1/registry/filings.
type FilingRequest struct {
	Filings []FilingMsg `json:"filings"`
}

// FilingResult acknowledges one filing.
type FilingResult struct {
	ID        string `json:"id"`
	Number    string `json:"number"`
	Duplicate bool   `json:"duplicate,omitempty"`
}

// FilingAnswer is the registry's answer to a FilingRequest.
type FilingAnswer struct {
	Results []FilingResult `json:"results"`
}

// MaxFilings bounds one request.
const MaxFilings = 500

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
func (r *Registry) Accredit(ctx context.Context, p Provider) error {
	if !api.ValidID(p.ID) {
		return fmt.Errorf("registry: provider id %q is not valid", p.ID)
	}
	if _, err := api.ParseHubKey(p.KeyPEM); err != nil {
		return fmt.Errorf("registry: provider %s: %w", p.ID, err)
	}
	p.Status = Accredited
	return r.putProvider(ctx, p)
}

// SetProviderStatus accredits again or suspends an existing provider.
func (r *Registry) SetProviderStatus(ctx context.Context, id, status string) error {
	if status != Accredited && status != Suspended {
		return fmt.Errorf("registry: provider status %q: want %s or %s", status, Accredited, Suspended)
	}
	p, err := r.Provider(ctx, id)
	if err != nil {
		return err
	}
	p.Status = status
	return r.putProvider(ctx, *p)
}

func (r *Registry) putProvider(ctx context.Context, p Provider) error {
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

// Provider reads one provider.
func (r *Registry) Provider(ctx context.Context, id string) (*Provider, error) {
	row, err := r.st.GetProvider(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("registry: provider %s: %w", id, err)
	}
	var p Provider
	if err := json.Unmarshal(row.Body, &p); err != nil {
		return nil, err
	}
	p.Status, p.Updated = row.Status, row.Updated
	return &p, nil
}

// Providers lists every provider.
func (r *Registry) Providers(ctx context.Context) ([]Provider, error) {
	rows, err := r.st.ListProviders(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]Provider, 0, len(rows))
	for _, row := range rows {
		var p Provider
		if err := json.Unmarshal(row.Body, &p); err != nil {
			return nil, err
		}
		p.Status, p.Updated = row.Status, row.Updated
		out = append(out, p)
	}
	return out, nil
}

// Receive stores a provider's signed filing request.
func (r *Registry) Receive(ctx context.Context, providerID string, body, sig []byte) (*FilingAnswer, *api.ErrorBody) {
	p, err := r.Provider(ctx, providerID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, api.Errf(CodeNotAccredited, "provider %q is not accredited by this registry", providerID)
	}
	if err != nil {
		return nil, api.Errf(api.CodeInternal, "%v", err)
	}
	if p.Status != Accredited {
		return nil, api.Errf(CodeNotAccredited, "provider %q is %s by this registry; its filings are refused", providerID, p.Status)
	}
	pub, err := api.ParseHubKey(p.KeyPEM)
	if err != nil || !api.VerifyContext(pub, FilingContext, body, sig) {
		return nil, api.Errf(CodeBadSignature, "the filing request is not signed by provider %s's key", providerID)
	}
	var req FilingRequest
	if err := json.Unmarshal(body, &req); err != nil {
		return nil, api.Errf(api.CodeInvalidField, "filing request: %v", err)
	}
	if len(req.Filings) == 0 || len(req.Filings) > MaxFilings {
		return nil, api.Errf(api.CodeInvalidField, "filings: want 1-%d, got %d", MaxFilings, len(req.Filings))
	}
	ans := &FilingAnswer{}
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
		ans.Results = append(ans.Results, FilingResult{ID: f.ID, Number: n, Duplicate: dup})
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
	pl := &api.StatusPayload{Type: "status", ProducedAt: now, Statuses: make([]api.SealStatus, 0, len(ids))}
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
				var m FilingMsg
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
