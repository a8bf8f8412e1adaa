package registry

import (
	"context"
	"crypto/ecdsa"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	"sealdesk/hub/api"
)

// Client asks a registry for seal status: any provider's seal, now or at a time T (the
// signing time). Answers are checked against the registry key the client is configured
// with, the same key that signs the trust bundle.
type Client struct {
	URL  string
	Key  *ecdsa.PublicKey
	HTTP *http.Client
}

// Status answers the status of ids at time at (zero: now), with the signed answer to keep.
func (c *Client) Status(ctx context.Context, at time.Time, ids ...string) (*api.StatusPayload, *api.SignedStatus, error) {
	q := url.Values{"id": ids}
	if !at.IsZero() {
		q.Set("at", at.UTC().Format(time.RFC3339Nano))
	}
	return c.get(ctx, PathStatus+"?"+q.Encode())
}

// Revocations answers the status changes filed after since.
func (c *Client) Revocations(ctx context.Context, since time.Time) (*api.StatusPayload, *api.SignedStatus, error) {
	return c.get(ctx, PathRevocations+"?"+url.Values{"since": {since.UTC().Format(time.RFC3339Nano)}}.Encode())
}

func (c *Client) get(ctx context.Context, path string) (*api.StatusPayload, *api.SignedStatus, error) {
	hc := c.HTTP
	if hc == nil {
		hc = &http.Client{Timeout: 15 * time.Second}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.URL+path, nil)
	if err != nil {
		return nil, nil, err
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return nil, nil, err
	}
	if resp.StatusCode != http.StatusOK {
		var er api.ErrorResponse
		if json.Unmarshal(body, &er) == nil && er.Error.Code != "" {
			return nil, nil, &api.Error{HTTPStatus: resp.StatusCode, ErrorBody: er.Error}
		}
		return nil, nil, fmt.Errorf("registry answered %s", resp.Status)
	}
	var s api.SignedStatus
	if err := json.Unmarshal(body, &s); err != nil {
		return nil, nil, fmt.Errorf("registry answer: %w", err)
	}
	p, err := s.Open(c.Key)
	if err != nil {
		return nil, nil, err
	}
	return p, &s, nil
}
