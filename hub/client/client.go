// Package client is the typed Go client of sealhub's /v1 API (hub/api). Refusals come back as
// *api.Error carrying the HTTP status and the hub's stable error code; transport failures are
// ordinary errors (Temporary reports which errors are worth retrying).
//
// Status answers are signed by the hub. The client checks every signed answer against a
// pinned hub key: the one given in Options.HubKey, or else the key fetched from /v1/hub-key
// on first use (trust on first use; hub/outbox stores it and pins it from then on).
package client

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"sealdesk/hub/api"
)

// Options configures a Client.
type Options struct {
	// Token is the bearer token of the organisation (or admin).
	Token string
	// HubKey pins the hub's status-signing key; nil fetches it on first use.
	HubKey *ecdsa.PublicKey
	// TLS configures HTTPS (client certificates, roots); nil uses the system defaults.
	TLS *tls.Config
	// Timeout bounds each request (default 10 s).
	Timeout time.Duration
	// HTTP replaces the whole transport (tests).
	HTTP *http.Client
}

// Client talks to one hub.
type Client struct {
	base  string
	opt   Options
	http  *http.Client
	mu    sync.Mutex
	key   *ecdsa.PublicKey
	keyID string
}

// New makes a client for the hub at baseURL (e.g. http://127.0.0.1:8443).
func New(baseURL string, opt Options) (*Client, error) {
	u, err := url.Parse(baseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("hub URL %q: want http(s)://host:port", baseURL)
	}
	if opt.Timeout <= 0 {
		opt.Timeout = 10 * time.Second
	}
	hc := opt.HTTP
	if hc == nil {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.TLSClientConfig = opt.TLS
		tr.MaxIdleConnsPerHost = 32
		hc = &http.Client{Transport: tr, Timeout: opt.Timeout}
	}
	c := &Client{base: strings.TrimRight(baseURL, "/"), opt: opt, http: hc, key: opt.HubKey}
	if c.key != nil {
		c.keyID, _ = api.KeyID(c.key)
	}
	return c, nil
}

// URL returns the hub's base URL.
func (c *Client) URL() string { return c.base }

// Temporary reports whether err is worth retrying later: transport failures, timeouts, 429
// and 5xx answers. Refusals (4xx) are not: retrying would get the same answer.
func Temporary(err error) bool {
	if err == nil {
		return false
	}
	var he *api.Error
	if errors.As(err, &he) {
		return he.HTTPStatus == http.StatusTooManyRequests || he.HTTPStatus >= 500
	}
	var ne net.Error
	if errors.As(err, &ne) {
		return true
	}
	return errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, context.DeadlineExceeded) || strings.Contains(err.Error(), "connection")
}

func (c *Client) do(ctx context.Context, method, path string, in, out any) (int, error) {
	return c.doAuth(ctx, method, path, in, out, true)
}

// doAuth is do with the credential sent only when auth is set.
func (c *Client) doAuth(ctx context.Context, method, path string, in, out any, auth bool) (int, error) {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return 0, err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		return 0, err
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	if auth && c.opt.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.opt.Token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, fmt.Errorf("hub %s unreachable: %w", c.base, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return resp.StatusCode, fmt.Errorf("hub %s: reading the answer: %w", c.base, err)
	}
	if resp.StatusCode >= 300 {
		var er api.ErrorResponse
		if json.Unmarshal(data, &er) != nil || er.Error.Code == "" {
			er.Error = api.ErrorBody{Code: api.CodeInternal, Message: fmt.Sprintf("unexpected answer: %.200s", data)}
		}
		return resp.StatusCode, &api.Error{HTTPStatus: resp.StatusCode, ErrorBody: er.Error}
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			return resp.StatusCode, fmt.Errorf("hub %s: answer to %s %s is not the expected JSON: %w", c.base, method, path, err)
		}
	}
	return resp.StatusCode, nil
}

// HubKey fetches the hub's public status-signing key (no credential needed).
func (c *Client) HubKey(ctx context.Context) (*api.HubKey, error) {
	var k api.HubKey
	_, err := c.do(ctx, "GET", "/v1/hub-key", nil, &k)
	return &k, err
}

// ProveIdentity asks the hub to sign a fresh random challenge and checks the proof: under pin
// when given (the key pinned earlier), else under the key the hub presents, which it returns
// for the caller to pin (trust on first use). The question carries no credential, so an
// impostor learns nothing from it.
func (c *Client) ProveIdentity(ctx context.Context, pin *ecdsa.PublicKey) (*ecdsa.PublicKey, error) {
	nonce := make([]byte, 32)
	if _, err := rand.Read(nonce); err != nil {
		return nil, err
	}
	challenge := hex.EncodeToString(nonce)
	var k api.HubKey
	if _, err := c.doAuth(ctx, "GET", "/v1/hub-key?challenge="+challenge, nil, &k, false); err != nil {
		return nil, err
	}
	pub := pin
	if pub == nil {
		var err error
		if pub, err = api.ParseHubKey(k.PublicKeyPEM); err != nil {
			return nil, fmt.Errorf("hub %s: %w", c.base, err)
		}
	}
	if k.Challenge != challenge || api.VerifyIdentity(pub, challenge, k.Proof) != nil {
		if pin != nil {
			return nil, fmt.Errorf("hub %s: %w; it may not be the hub this installation knows (wrong address, a proxy, or a replaced hub key): nothing was sent", c.base, api.ErrBadIdentityProof)
		}
		return nil, fmt.Errorf("hub %s: %w: nothing was sent", c.base, api.ErrBadIdentityProof)
	}
	return pub, nil
}

// PinnedKey returns the hub key status answers are checked with, fetching it on first use.
func (c *Client) PinnedKey(ctx context.Context) (*ecdsa.PublicKey, error) {
	c.mu.Lock()
	k := c.key
	c.mu.Unlock()
	if k != nil {
		return k, nil
	}
	hk, err := c.HubKey(ctx)
	if err != nil {
		return nil, err
	}
	pub, err := api.ParseHubKey(hk.PublicKeyPEM)
	if err != nil {
		return nil, err
	}
	id, _ := api.KeyID(pub)
	if id != hk.KeyID {
		return nil, fmt.Errorf("hub key: id %s does not match the key (%s)", hk.KeyID, id)
	}
	c.mu.Lock()
	c.key, c.keyID = pub, id
	c.mu.Unlock()
	return pub, nil
}

// Whoami returns the principal the credential acts as.
func (c *Client) Whoami(ctx context.Context) (*api.Principal, error) {
	var p api.Principal
	_, err := c.do(ctx, "GET", "/v1/whoami", nil, &p)
	return &p, err
}

// CreateOrg adds an organisation (admin).
func (c *Client) CreateOrg(ctx context.Context, o api.Org) (*api.Org, error) {
	var out api.Org
	_, err := c.do(ctx, "POST", "/v1/orgs", o, &out)
	return &out, err
}

// IssueToken makes a bearer token (admin).
func (c *Client) IssueToken(ctx context.Context, req api.TokenRequest) (*api.TokenResponse, error) {
	var out api.TokenResponse
	_, err := c.do(ctx, "POST", "/v1/tokens", req, &out)
	return &out, err
}

// FileSeal files a seal.
func (c *Client) FileSeal(ctx context.Context, req api.FileSealRequest) (*api.Seal, error) {
	var out api.Seal
	_, err := c.do(ctx, "POST", "/v1/seals", req, &out)
	return &out, err
}

// Seal returns one of the caller's seals with its history.
func (c *Client) Seal(ctx context.Context, id string) (*api.Seal, error) {
	var out api.Seal
	_, err := c.do(ctx, "GET", "/v1/seals/"+url.PathEscape(id), nil, &out)
	return &out, err
}

// ListSeals lists the caller's seals (admin: org's, or all with org "").
func (c *Client) ListSeals(ctx context.Context, org, status string) ([]api.Seal, error) {
	var out struct {
		Seals []api.Seal `json:"seals"`
	}
	q := url.Values{}
	if org != "" {
		q.Set("org", org)
	}
	if status != "" {
		q.Set("status", status)
	}
	_, err := c.do(ctx, "GET", "/v1/seals?"+q.Encode(), nil, &out)
	return out.Seals, err
}

// SetStatus changes a seal's status (revoke, suspend, withdraw, lost, reactivate).
func (c *Client) SetStatus(ctx context.Context, id string, ch api.StatusChange) (*api.Seal, error) {
	var out api.Seal
	_, err := c.do(ctx, "POST", "/v1/seals/"+url.PathEscape(id)+"/status", ch, &out)
	return &out, err
}

// Renew extends a seal's validity.
func (c *Client) Renew(ctx context.Context, id string, req api.RenewRequest) (*api.Seal, error) {
	var out api.Seal
	_, err := c.do(ctx, "POST", "/v1/seals/"+url.PathEscape(id)+"/renew", req, &out)
	return &out, err
}

// Status asks the status of seals and checks the hub's signature. It returns the verified
// payload and the signed answer (to cache).
func (c *Client) Status(ctx context.Context, ids ...string) (*api.StatusPayload, *api.SignedStatus, error) {
	var s api.SignedStatus
	var err error
	if len(ids) == 1 {
		_, err = c.do(ctx, "GET", "/v1/status/"+url.PathEscape(ids[0]), nil, &s)
	} else {
		_, err = c.do(ctx, "POST", "/v1/status", api.StatusBatchRequest{IDs: ids}, &s)
	}
	if err != nil {
		return nil, nil, err
	}
	p, err := c.open(ctx, &s)
	return p, &s, err
}

// Revocations returns the signed list of status changes after since.
func (c *Client) Revocations(ctx context.Context, since time.Time) (*api.StatusPayload, *api.SignedStatus, error) {
	var s api.SignedStatus
	q := ""
	if !since.IsZero() {
		q = "?since=" + url.QueryEscape(since.UTC().Format(time.RFC3339Nano))
	}
	if _, err := c.do(ctx, "GET", "/v1/revocations"+q, nil, &s); err != nil {
		return nil, nil, err
	}
	p, err := c.open(ctx, &s)
	return p, &s, err
}

func (c *Client) open(ctx context.Context, s *api.SignedStatus) (*api.StatusPayload, error) {
	key, err := c.PinnedKey(ctx)
	if err != nil {
		return nil, err
	}
	return s.Open(key)
}

// PushRecords pushes a batch of signing records; the result has one entry per record.
func (c *Client) PushRecords(ctx context.Context, recs []api.Record) (*api.RecordBatchResult, error) {
	var out api.RecordBatchResult
	_, err := c.do(ctx, "POST", "/v1/records", api.RecordBatch{Records: recs}, &out)
	return &out, err
}

// PutRecord pushes one record under its id; created reports whether it was new.
func (c *Client) PutRecord(ctx context.Context, rec api.Record) (created bool, err error) {
	var out api.RecordResult
	code, err := c.do(ctx, "PUT", "/v1/records/"+url.PathEscape(rec.ID), rec, &out)
	return code == http.StatusCreated, err
}

// Record returns one of the caller's records.
func (c *Client) Record(ctx context.Context, id string) (*api.StoredRecord, error) {
	var out api.StoredRecord
	_, err := c.do(ctx, "GET", "/v1/records/"+url.PathEscape(id), nil, &out)
	return &out, err
}

// Records lists the caller's records after the cursor ("" from the start).
func (c *Client) Records(ctx context.Context, sealID, after string, limit int) (*api.RecordPage, error) {
	q := url.Values{}
	if sealID != "" {
		q.Set("seal", sealID)
	}
	if after != "" {
		q.Set("after", after)
	}
	if limit > 0 {
		q.Set("limit", fmt.Sprint(limit))
	}
	var out api.RecordPage
	_, err := c.do(ctx, "GET", "/v1/records?"+q.Encode(), nil, &out)
	return &out, err
}

// Verify asks the hub about a signature (see api.VerifyRequest).
func (c *Client) Verify(ctx context.Context, req api.VerifyRequest) (*api.VerifyResult, error) {
	var out api.VerifyResult
	_, err := c.do(ctx, "POST", "/v1/verify", req, &out)
	return &out, err
}

// Audit reads the caller's audit trail after the cursor.
func (c *Client) Audit(ctx context.Context, org, action, after string, limit int) (*api.AuditPage, error) {
	q := url.Values{}
	for k, v := range map[string]string{"org": org, "action": action, "after": after} {
		if v != "" {
			q.Set(k, v)
		}
	}
	if limit > 0 {
		q.Set("limit", fmt.Sprint(limit))
	}
	var out api.AuditPage
	_, err := c.do(ctx, "GET", "/v1/audit?"+q.Encode(), nil, &out)
	return &out, err
}

// Pin sets the hub key status answers must verify under (e.g. the key an outbox pinned
// earlier), replacing any key fetched before.
func (c *Client) Pin(pub *ecdsa.PublicKey) {
	id, _ := api.KeyID(pub)
	c.mu.Lock()
	c.key, c.keyID = pub, id
	c.mu.Unlock()
}
