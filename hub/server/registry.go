package server

import (
	"time"

	"sealdesk/hub/api"
	"sealdesk/hub/store"
)

// StatusFiler is a Registrar that is also told every status change of a seal it filed
// (issue 14: a provider files new seals and status changes with the registry). The queued
// registrar of hub/registry/registrar implements it; LocalRegistrar does not need to.
type StatusFiler interface {
	// StatusFiling makes the filing a status change owes the registry. The hub writes it
	// into the store in the change's own transaction, so a crash can lose neither alone.
	StatusFiling(esID, status, reason string, at time.Time) (store.QueuedFiling, error)
	// Queued is told after a transaction holding filings committed (the sender wakes up).
	Queued()
}

// statusFilings is what a status change of esID owes the registrar: nothing unless it is
// a StatusFiler.
func (h *Hub) statusFilings(esID, status, reason string, at time.Time) ([]store.QueuedFiling, *api.ErrorBody) {
	sf, ok := h.opt.Registrar.(StatusFiler)
	if !ok {
		return nil, nil
	}
	f, err := sf.StatusFiling(esID, status, reason, at)
	if err != nil {
		return nil, api.Errf(api.CodeInternal, "the status filing of seal %s for the registry: %v", esID, err)
	}
	return []store.QueuedFiling{f}, nil
}

// filingsQueued wakes the registrar's sender after filings committed.
func (h *Hub) filingsQueued() {
	if sf, ok := h.opt.Registrar.(StatusFiler); ok {
		sf.Queued()
	}
}
