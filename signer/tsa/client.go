package tsa

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/asn1"
	"fmt"
	"io"
	"math/big"
	"mime"
	"net/http"
	"time"

	"github.com/emmansun/gmsm/smx509"

	"sealdesk/signer"
)

// Client asks an RFC 3161 time-stamping service over HTTP. It implements cms.Timestamper.
type Client struct {
	// URL of the service (HTTP POST, application/timestamp-query).
	URL string
	// HTTP is the client to use; nil means one with a 30 s timeout.
	HTTP *http.Client
	// Policy requests a TSA policy; nil accepts the TSA's default.
	Policy asn1.ObjectIdentifier
	// Header is added to every request (e.g. Authorization for commercial TSAs).
	Header http.Header
	// Certificates supplies TSA certificates a token may omit.
	Certificates []*smx509.Certificate
	// TokenReserve is the size to reserve for a token in PDF placeholders; 0 = 8 KiB.
	TokenReserve int
}

var defaultHTTP = &http.Client{Timeout: 30 * time.Second}

// MaxTokenSize is the placeholder reserve for one token (cms uses it for MaxSize).
func (c *Client) MaxTokenSize() int {
	if c.TokenReserve > 0 {
		return c.TokenReserve
	}
	return 8192
}

// Stamp requests a token over digest (made with alg) and returns it as DER after checking
// that it answers this request: status granted, a valid token signature from a TSA
// certificate, the same imprint and nonce, and the requested policy.
func (c *Client) Stamp(ctx context.Context, alg signer.DigestAlgorithm, digest []byte) ([]byte, error) {
	h, err := alg.New()
	if err != nil {
		return nil, fmt.Errorf("tsa: %w", err)
	}
	if len(digest) != h.Size() {
		return nil, fmt.Errorf("tsa: %s digest must be %d bytes, got %d", alg, h.Size(), len(digest))
	}
	nonce, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 64))
	if err != nil {
		return nil, err
	}
	req := &Request{HashAlgorithm: alg, HashedMessage: digest, Policy: c.Policy, Nonce: nonce, CertReq: true}
	body, err := req.Marshal()
	if err != nil {
		return nil, err
	}
	hr, err := http.NewRequestWithContext(ctx, http.MethodPost, c.URL, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("tsa: %w", err)
	}
	for k, vs := range c.Header {
		for _, v := range vs {
			hr.Header.Add(k, v)
		}
	}
	hr.Header.Set("Content-Type", "application/timestamp-query")
	hr.Header.Set("Accept", "application/timestamp-reply")
	hc := c.HTTP
	if hc == nil {
		hc = defaultHTTP
	}
	resp, err := hc.Do(hr)
	if err != nil {
		return nil, fmt.Errorf("tsa: %s: %w", c.URL, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse+1))
	if err != nil {
		return nil, fmt.Errorf("tsa: reading the response from %s: %w", c.URL, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("tsa: %s answered HTTP %s", c.URL, resp.Status)
	}
	if mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type")); mt != "application/timestamp-reply" && mt != "application/timestamp-response" {
		return nil, fmt.Errorf("tsa: %s answered Content-Type %q, not application/timestamp-reply", c.URL, mt)
	}
	r, err := ParseResponse(raw)
	if err != nil {
		return nil, err
	}
	if err := r.Err(); err != nil {
		return nil, err
	}
	info, err := VerifyDigest(r.Token, digest, c.Certificates...)
	if err != nil {
		return nil, fmt.Errorf("tsa: token from %s: %w", c.URL, err)
	}
	if !info.OK {
		return nil, fmt.Errorf("tsa: token from %s does not verify: %w", c.URL, info.Err())
	}
	if info.HashAlgorithm != alg {
		return nil, fmt.Errorf("tsa: token imprint uses %s, requested %s", info.HashAlgorithm, alg)
	}
	if info.Nonce == nil || info.Nonce.Cmp(nonce) != 0 {
		return nil, fmt.Errorf("tsa: token nonce does not match the request (replayed or foreign response)")
	}
	if c.Policy != nil && !info.Policy.Equal(c.Policy) {
		return nil, fmt.Errorf("tsa: token policy %s, requested %s", info.Policy, c.Policy)
	}
	return info.Token, nil
}
