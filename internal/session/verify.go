package session

import (
	"context"

	"sealdesk/document"
	"sealdesk/hub/client"
	"sealdesk/hub/outbox"
)

// Verify is the one verification the app and `sealctl verify` share: the document's own checks
// with the core's trust roots, then, with a hub, each signature's registry facts (Registry),
// then the verdict (document.VerifyReport.Decide).
func (c *Core) Verify(ctx context.Context, path string) (*document.VerifyReport, error) {
	rep, err := document.VerifyFile(ctx, path, &document.VerifyOptions{TrustPEM: c.TrustPEM})
	if err != nil {
		return nil, err
	}
	if c.Hub != nil {
		if err := Registry(ctx, c.Hub, c.Outbox, rep); err != nil {
			rep.Problems = append(rep.Problems, document.Problem{Code: document.RegistryCode("unreachable"), Message: err.Error()})
		}
	}
	rep.Decide()
	return rep, nil
}

// Registry adds the registry's facts to rep: the hub's answer per signature, or the outbox's
// cached status when the hub is unreachable (hub/outbox.Registry). The caller decides the
// verdict afterwards.
func Registry(ctx context.Context, hub *client.Client, ob *outbox.Outbox, rep *document.VerifyReport) error {
	return outbox.Registry(ctx, hub, ob, rep)
}
