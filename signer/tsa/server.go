package tsa

import (
	"context"
	"encoding/asn1"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"time"

	"github.com/emmansun/gmsm/smx509"
	"golang.org/x/crypto/cryptobyte"
	casn1 "golang.org/x/crypto/cryptobyte/asn1"

	"sealdesk/signer"
	"sealdesk/signer/cms"
	"sealdesk/signer/pki"
)

// Server is an RFC 3161 time-stamping authority over HTTP, for tests and the demo workspace
// (not a production TSA: no audit log, no clock discipline, no key protection).
type Server struct {
	// Pair is the TSA certificate (extended key usage timeStamping) and its key.
	Pair *pki.Pair
	// Chain holds the issuers included in tokens when the request asks for certificates.
	Chain []*smx509.Certificate
	// Policy is the TSA policy written into tokens (DefaultPolicy when nil); requests for
	// another policy are refused (unacceptedPolicy).
	Policy asn1.ObjectIdentifier
	// Now is the clock (time.Now when nil).
	Now func() time.Time
	// Accuracy written into tokens (0 = none).
	Accuracy time.Duration

	serial atomic.Int64
	// Requests counts answered requests (for tests).
	Requests atomic.Int64
}

// NewServer makes a test TSA signing with pair and including chain (issuers, root last).
func NewServer(pair *pki.Pair, chain ...*smx509.Certificate) *Server {
	s := &Server{Pair: pair, Chain: chain, Accuracy: time.Second}
	s.serial.Store(time.Now().UnixNano())
	return s
}

// ServeHTTP answers POSTed TimeStampReqs with TimeStampResps.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST")
		http.Error(w, "POST an application/timestamp-query", http.StatusMethodNotAllowed)
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, 64<<10))
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	resp := s.Respond(r.Context(), body)
	w.Header().Set("Content-Type", "application/timestamp-reply")
	w.Write(resp)
}

// Respond turns a DER TimeStampReq into a DER TimeStampResp (refusals included).
func (s *Server) Respond(ctx context.Context, reqDER []byte) []byte {
	s.Requests.Add(1)
	req, err := ParseRequest(reqDER)
	if err != nil {
		return marshalResponse(StatusRejection, err.Error(), FailBadRequest, nil)
	}
	if req.HashAlgorithm == "" {
		return marshalResponse(StatusRejection, "unsupported hash algorithm "+req.HashOID.String(), FailBadAlg, nil)
	}
	if h, err := cms.NewHash(req.HashAlgorithm); err != nil || h.Size() != len(req.HashedMessage) {
		return marshalResponse(StatusRejection, "hashed message length does not fit the algorithm", FailBadDataFormat, nil)
	}
	policy := s.Policy
	if policy == nil {
		policy = DefaultPolicy
	}
	if req.Policy != nil && !req.Policy.Equal(policy) {
		return marshalResponse(StatusRejection, "policy "+req.Policy.String()+" is not offered", FailUnacceptedPolicy, nil)
	}
	token, err := s.token(ctx, req, policy)
	if err != nil {
		return marshalResponse(StatusRejection, err.Error(), FailSystemFailure, nil)
	}
	return marshalResponse(StatusGranted, "", -1, token)
}

func (s *Server) token(ctx context.Context, req *Request, policy asn1.ObjectIdentifier) ([]byte, error) {
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	t := now().UTC().Truncate(time.Second)
	serial := big.NewInt(s.serial.Add(1))
	var b cryptobyte.Builder
	b.AddASN1(casn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddASN1Int64(1)
		b.AddASN1ObjectIdentifier(policy)
		b.AddASN1(casn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddASN1(casn1.SEQUENCE, func(b *cryptobyte.Builder) { b.AddASN1ObjectIdentifier(req.HashOID) })
			b.AddASN1OctetString(req.HashedMessage)
		})
		b.AddASN1BigInt(serial)
		b.AddASN1GeneralizedTime(t)
		if s.Accuracy > 0 {
			b.AddASN1(casn1.SEQUENCE, func(b *cryptobyte.Builder) {
				secs := int64(s.Accuracy / time.Second)
				ms := int64(s.Accuracy%time.Second) / int64(time.Millisecond)
				if secs > 0 {
					b.AddASN1Int64(secs)
				}
				if ms > 0 {
					b.AddASN1Int64WithTag(ms, casn1.Tag(0).ContextSpecific())
				}
			})
		}
		if req.Nonce != nil {
			b.AddASN1BigInt(req.Nonce)
		}
		b.AddASN1(casn1.Tag(0).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
			b.AddASN1(casn1.Tag(4).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
				b.AddBytes(s.Pair.Cert.RawSubject)
			})
		})
	})
	tst, err := b.Bytes()
	if err != nil {
		return nil, err
	}
	alg, err := signer.AlgorithmOf(s.Pair.Cert.PublicKey)
	if err != nil {
		return nil, err
	}
	id := &signer.Identity{Label: "tsa", Algorithm: alg, Certificate: s.Pair.Cert, Chain: s.Chain, Signer: s.Pair.Key}
	tok, err := cms.SignEncapsulated(ctx, cms.OIDTSTInfo, tst, cms.Options{Identity: id, SigningTime: t, NoCertificates: !req.CertReq})
	if err != nil {
		return nil, fmt.Errorf("signing the token: %w", err)
	}
	return tok, nil
}

// TestTSA is a test TSA running on a loopback HTTP server.
type TestTSA struct {
	*Server
	HTTP   *httptest.Server
	URL    string
	Chain  *pki.Chain          // the TSA's CA (root and intermediate)
	Root   *smx509.Certificate // trust anchor for the TSA's tokens
	Client *Client             // a client for URL
}

// Close stops the HTTP server.
func (t *TestTSA) Close() { t.HTTP.Close() }

// StartTest makes a TSA PKI of algorithm a (root, intermediate, TSA certificate) and serves a
// TSA on 127.0.0.1 (httptest). Close it when done.
func StartTest(a signer.KeyAlgorithm) (*TestTSA, error) {
	chain, err := pki.NewChain(a, "SealDesk TSA")
	if err != nil {
		return nil, err
	}
	pair, err := chain.Issue(pki.Template{Kind: pki.TSA, CommonName: "SealDesk Test TSA (" + string(a) + ")", Org: "SealDesk"})
	if err != nil {
		return nil, err
	}
	srv := NewServer(pair, chain.Certs()...)
	hs := httptest.NewServer(srv)
	return &TestTSA{Server: srv, HTTP: hs, URL: hs.URL, Chain: chain, Root: chain.Root.Cert,
		Client: &Client{URL: hs.URL, HTTP: hs.Client()}}, nil
}

// Listener is a Server answering on a real TCP address (for the demo workspace and manual
// tests: `sealctl sign --tsa URL`).
type Listener struct {
	URL  string
	http *http.Server
	done chan error
}

// Listen serves s on addr ("127.0.0.1:0" picks a free loopback port) until Close. Only
// loopback addresses are accepted: this TSA has no production safeguards.
func Listen(addr string, s *Server) (*Listener, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("tsa: listen address %q: %w", addr, err)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return nil, fmt.Errorf("tsa: the test TSA only listens on loopback, not %q", host)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("tsa: %w", err)
	}
	hs := &http.Server{Handler: s, ReadHeaderTimeout: 10 * time.Second}
	l := &Listener{URL: "http://" + ln.Addr().String() + "/", http: hs, done: make(chan error, 1)}
	go func() { l.done <- hs.Serve(ln) }()
	return l, nil
}

// Close stops the listener and waits for the server to end.
func (l *Listener) Close() error {
	err := l.http.Close()
	if serr := <-l.done; serr != nil && !errors.Is(serr, http.ErrServerClosed) && err == nil {
		err = serr
	}
	return err
}
