package client

import (
	"context"
	"net/url"

	"sealdesk/hub/api"
)

// The seal lifecycle (hub/api/lifecycle.go): applications, review, fetching and delivering.

// SealTypes reads the hub's seal type table.
func (c *Client) SealTypes(ctx context.Context) ([]api.SealType, error) {
	var out api.SealTypeList
	_, err := c.do(ctx, "GET", "/v1/seal-types", nil, &out)
	return out.Types, err
}

// Apply creates an application (a draft, or submitted when req.Submit).
func (c *Client) Apply(ctx context.Context, req api.ApplicationRequest) (*api.Application, error) {
	var out api.Application
	_, err := c.do(ctx, "POST", "/v1/applications", req, &out)
	return &out, err
}

// EditApplication replaces a draft's or returned application's fields (req.Submit submits).
func (c *Client) EditApplication(ctx context.Context, id string, req api.ApplicationRequest) (*api.Application, error) {
	var out api.Application
	_, err := c.do(ctx, "PUT", "/v1/applications/"+url.PathEscape(id), req, &out)
	return &out, err
}

// Application reads one application with its history.
func (c *Client) Application(ctx context.Context, id string) (*api.Application, error) {
	var out api.Application
	_, err := c.do(ctx, "GET", "/v1/applications/"+url.PathEscape(id), nil, &out)
	return &out, err
}

// Applications lists applications (org and status may be empty; pending: only those
// waiting for a decision).
func (c *Client) Applications(ctx context.Context, org, status string, pending bool) ([]api.Application, error) {
	q := url.Values{}
	if org != "" {
		q.Set("org", org)
	}
	if status != "" {
		q.Set("status", status)
	}
	if pending {
		q.Set("pending", "1")
	}
	var out api.ApplicationList
	_, err := c.do(ctx, "GET", "/v1/applications?"+q.Encode(), nil, &out)
	return out.Applications, err
}

// Decide takes a step on an application: submit, withdraw (applicant); return, reject,
// approve (reviewer). reason is required for return and reject.
func (c *Client) Decide(ctx context.Context, id, step, reason string) (*api.Application, error) {
	var out api.Application
	var in any
	if reason != "" {
		in = api.Decision{Reason: reason}
	}
	_, err := c.do(ctx, "POST", "/v1/applications/"+url.PathEscape(id)+"/"+url.PathEscape(step), in, &out)
	return &out, err
}

// FetchSeal downloads the seal of an approved application with the holder's certificate.
func (c *Client) FetchSeal(ctx context.Context, id string) (*api.SealPackage, error) {
	var out api.SealPackage
	_, err := c.do(ctx, "GET", "/v1/applications/"+url.PathEscape(id)+"/seal", nil, &out)
	return &out, err
}

// Delivered reports the seal on the holder's key (filed → active).
func (c *Client) Delivered(ctx context.Context, esID string) (*api.Seal, error) {
	var out api.Seal
	_, err := c.do(ctx, "POST", "/v1/seals/"+url.PathEscape(esID)+"/delivered", nil, &out)
	return &out, err
}
