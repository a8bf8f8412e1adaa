package registrar

import (
	"crypto/ecdsa"
	"net/http"
	"time"

	"sealdesk/hub/api"
	"sealdesk/hub/registry"
	"sealdesk/hub/server"
)

// ProviderHandler serves, on a provider (its endpoint in the trust bundle), the registry's
// public status route for its own seals: GET /v1/registry/status?id=&at=, answered from the
// provider's history and signed with its hub key. A client whose registry is unreachable asks
// the seal's provider the same question (registry.Resolver.StatusAt); seals the provider did
// not make answer unknown.
func ProviderHandler(h *server.Hub, key *ecdsa.PrivateKey) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+registry.PathStatus, func(w http.ResponseWriter, req *http.Request) {
		at, ok := parseTime(w, req, "at")
		if !ok {
			return
		}
		ids := req.URL.Query()["id"]
		if len(ids) == 0 || len(ids) > 1000 {
			writeErr(w, api.Errf(api.CodeInvalidField, "id: want 1-1000 seal ids, got %d", len(ids)))
			return
		}
		now := time.Now().UTC()
		if at.IsZero() {
			at = now
		}
		pl := &api.StatusPayload{Type: "status", ProducedAt: now, At: at.UTC(), Statuses: make([]api.SealStatus, 0, len(ids))}
		for _, id := range ids {
			st := api.SealStatus{ESID: id, Status: api.StatusUnknown}
			ps, e := h.LookupSeal(req.Context(), id)
			switch {
			case e != nil && e.Code != api.CodeNotFound:
				writeErr(w, e)
				return
			case e == nil && len(ps.History) > 0 && !ps.History[0].At.Truncate(time.Second).After(at):
				ev := api.StatusAt(ps.History, at)
				st.Status, st.Reason, st.StatusAt, st.OwnerUSCC, st.Name = ev.Status, ev.Reason, ev.At, ps.OwnerUSCC, ps.Name
			}
			pl.Statuses = append(pl.Statuses, st)
		}
		s, err := api.SignStatus(key, pl)
		if err != nil {
			writeErr(w, api.Errf(api.CodeInternal, "signing the answer: %v", err))
			return
		}
		writeJSON(w, http.StatusOK, s)
	})
	return mux
}
