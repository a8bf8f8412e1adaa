package holder

import (
	"context"

	"sealdesk/hub/api"
	"sealdesk/hub/client"
	"sealdesk/signer/keys"
)

// Service is what the app's "apply for a seal" and "my applications and seals" views call:
// the same steps as sealctl, without any UI.
type Service struct {
	Hub    *client.Client
	Config *keys.Config // nil: keys.LoadConfig
}

// Overview returns the organisation's applications and seals.
func (s *Service) Overview(ctx context.Context) ([]api.Application, []api.Seal, error) {
	apps, err := s.Hub.Applications(ctx, "", "", false)
	if err != nil {
		return nil, nil, err
	}
	seals, err := s.Hub.ListSeals(ctx, "", "")
	return apps, seals, err
}

// SealTypes is the hub's seal type table.
func (s *Service) SealTypes(ctx context.Context) ([]api.SealType, error) { return s.Hub.SealTypes(ctx) }

// Apply sends an application made with the key keyURI (generated first when newKey).
func (s *Service) Apply(ctx context.Context, req api.ApplicationRequest, keyURI string, newKey bool, pin []byte) (*api.Application, error) {
	return Apply(ctx, s.Hub, ApplyOptions{KeyURI: keyURI, PIN: pin, NewKey: newKey, Config: s.Config, Request: req})
}

// SetStatus suspends, resumes, reports lost or withdraws a seal.
func (s *Service) SetStatus(ctx context.Context, esID, status, reason string) (*api.Seal, error) {
	return s.Hub.SetStatus(ctx, esID, api.StatusChange{Status: status, Reason: reason})
}
