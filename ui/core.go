package ui

import (
	"context"

	"sealdesk/document"
	"sealdesk/hub/client"
	"sealdesk/hub/outbox"
	"sealdesk/internal/signflow"
	"sealdesk/signer"
)

// This file is the app's glue to the core: the same signing step as `sealctl sign`
// (internal/signflow) and the same registry check as `sealctl verify --hub` (outbox.Registry).
// Nothing here reads or writes a format itself.

// Signing is one signing session: a logged-in identity, a seal, the hub and the outbox.
type Signing struct {
	Identity *signer.Identity
	Seal     *SealItem
	Hub      *client.Client // nil: standalone
	Outbox   *outbox.Outbox // nil: no record kept (tests without an outbox)
}

func (s *Signing) session() (*signflow.Session, error) {
	return signflow.New(s.Identity, s.Seal.DER, s.Hub, s.Outbox)
}

// Check asks the hub (or its cached answer) whether the seal may sign.
func (s *Signing) Check(ctx context.Context) error {
	sess, err := s.session()
	if err != nil {
		return err
	}
	return sess.Check(ctx)
}

// SignOne signs in with the placements into a new file beside it (document.SignedPath) and
// returns its path.
func (s *Signing) SignOne(ctx context.Context, in string, placements []document.Placement) (string, error) {
	sess, err := s.session()
	if err != nil {
		return "", err
	}
	req := &document.SignRequest{Placements: append([]document.Placement(nil), placements...)}
	return sess.Sign(ctx, in, "", req)
}

// Verify verifies path and, with a hub, adds each signature's registry status (the hub's
// answer, or the outbox's cached status when the hub is unreachable).
func Verify(ctx context.Context, path string, trustPEM []byte, hub *client.Client, ob *outbox.Outbox) (*document.VerifyReport, error) {
	rep, err := document.VerifyFile(ctx, path, &document.VerifyOptions{TrustPEM: trustPEM})
	if err != nil || hub == nil {
		return rep, err
	}
	// An unreachable hub leaves the registry unknown (or judged from the cache); the report
	// itself stands.
	_ = outbox.Registry(ctx, hub, ob, rep)
	rep.Decide()
	return rep, nil
}
