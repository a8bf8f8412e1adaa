package server

import (
	"context"
	"log"
	"time"
)

// StatusFiler is a Registrar that is also told every status change of a seal it filed
// (issue 14: a provider files new seals and status changes with the registry). The queued
// registrar of hub/registry implements it; LocalRegistrar does not need to.
type StatusFiler interface {
	FileStatus(ctx context.Context, esID, status, reason string, at time.Time) error
}

// fileStatus tells the registrar about a committed status change. The change is already
// in force on this hub, so a failure to queue it is logged, not answered to the caller.
func (h *Hub) fileStatus(ctx context.Context, esID, status, reason string, at time.Time) {
	sf, ok := h.opt.Registrar.(StatusFiler)
	if !ok {
		return
	}
	if err := sf.FileStatus(context.WithoutCancel(ctx), esID, status, reason, at); err != nil {
		log.Printf("sealhub: queueing the status filing of seal %s (%s) for the registry: %v", esID, status, err)
	}
}
