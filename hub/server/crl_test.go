package server_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/emmansun/gmsm/smx509"

	"sealdesk/document"
	_ "sealdesk/document/ofd/ofdsig" // OFD signing and verification
	"sealdesk/hub/hubtest"
	"sealdesk/hub/server"
	"sealdesk/internal/demo"
	"sealdesk/signer"
	"sealdesk/signer/keys"
	"sealdesk/signer/softkey"
	"sealdesk/signer/trust"
)

// TestCRLRoute checks GET /v1/crl/{name}: the file's bytes for a known name without
// credentials, 404 for unknown or unsafe names and when no directory is configured, 405 for
// other methods.
func TestCRLRoute(t *testing.T) {
	dir := t.TempDir()
	want := []byte("0\x82not really a CRL, the hub serves files as they are")
	if err := os.WriteFile(filepath.Join(dir, "intermediate-sm2.crl"), want, 0o644); err != nil {
		t.Fatal(err)
	}
	// A file beside the directory that path tricks must not reach.
	if err := os.WriteFile(filepath.Join(filepath.Dir(dir), "secret.crl"), []byte("TOPSECRET-BYTES"), 0o644); err != nil {
		t.Fatal(err)
	}
	env := hubtest.Start(t, "sqlite", server.Options{CRLDir: dir})
	get := func(method, path string) (int, http.Header, []byte) {
		t.Helper()
		req, err := http.NewRequest(method, env.URL+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header, b
	}
	s, h, b := get("GET", "/v1/crl/intermediate-sm2.crl")
	if s != 200 || string(b) != string(want) || h.Get("Content-Type") != "application/pkix-crl" {
		t.Fatalf("GET known CRL: %d %q %q", s, h.Get("Content-Type"), b)
	}
	for _, p := range []string{"/v1/crl/missing.crl", "/v1/crl/..%2Fsecret.crl", "/v1/crl/%2E%2E%2Fsecret.crl", "/v1/crl/.hidden.crl",
		"/v1/crl/intermediate-sm2", "/v1/crl/" + strings.Repeat("a", 200) + ".crl"} {
		if s, _, b := get("GET", p); s != 404 || strings.Contains(string(b), "TOPSECRET") || !strings.Contains(string(b), "not_found") {
			t.Errorf("GET %s: %d %s, want a 404 error body", p, s, b)
		}
	}
	if s, h, _ := get("POST", "/v1/crl/intermediate-sm2.crl"); s != 405 || h.Get("Allow") == "" {
		t.Errorf("POST: %d Allow %q, want 405 with Allow", s, h.Get("Allow"))
	}
	none := hubtest.Start(t, "sqlite", server.Options{})
	resp, err := http.Get(none.URL + "/v1/crl/intermediate-sm2.crl")
	if err != nil {
		t.Fatal(err)
	}
	b, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 404 || !strings.Contains(string(b), "publishes no CRLs") {
		t.Errorf("hub without CRLDir: %d %s", resp.StatusCode, b)
	}
}

// routeTo sends requests for host to h (a hub on its demo address, without binding the port,
// which a developer's running `sealhub serve --demo` may hold) and everything else to next.
type routeTo struct {
	host string
	h    http.Handler
	next http.RoundTripper
	hits int
}

func (rt *routeTo) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.URL.Host != rt.host {
		return rt.next.RoundTrip(r)
	}
	rt.hits++
	rec := httptest.NewRecorder()
	rt.h.ServeHTTP(rec, r)
	return rec.Result(), nil
}

// refuse answers every request for host like a port nobody listens on.
type refuse struct {
	host string
	next http.RoundTripper
}

func (rf refuse) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.URL.Host != rf.host {
		return rf.next.RoundTrip(r)
	}
	return nil, &url.Error{Op: "dial", URL: r.URL.String(), Err: os.ErrDeadlineExceeded}
}

// TestDemoRevocationViaHub makes a demo workspace, signs its sample OFD with the demo SM2
// keystore and seal, and verifies it: with the hub (`sealhub serve --demo` wiring: CRLDir =
// workspace/crl) at the demo CRL address, revocation is "ok" via CRL and the signature valid;
// with nothing there, revocation is "unknown", not "failed"; offline it is "unknown" too.
// Document verification fetches with the default transport, so the test swaps
// http.DefaultTransport for one that answers the demo address from the handler in-process.
func TestDemoRevocationViaHub(t *testing.T) {
	t.Setenv(keys.ConfigEnv, filepath.Join(t.TempDir(), "config.json"))
	ctx := context.Background()
	dir := t.TempDir()
	ws, err := demo.Init(ctx, dir, signer.SM2)
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(demo.CRLBaseURL)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range demo.Algorithms {
		for _, c := range []*smx509.Certificate{ws.Signers[a].Cert, ws.Intermediate[a].Cert} {
			if len(c.CRLDistributionPoints) != 1 || !strings.HasPrefix(c.CRLDistributionPoints[0], demo.CRLBaseURL) {
				t.Fatalf("%s: CRL distribution points %q", c.Subject.CommonName, c.CRLDistributionPoints)
			}
		}
	}

	id, err := softkey.Load(ws.Path(demo.KeystorePath(signer.SM2)), []byte(ws.PIN))
	if err != nil {
		t.Fatal(err)
	}
	signed := filepath.Join(t.TempDir(), "signed.ofd")
	if err := document.SignFile(ctx, ws.Path("sample.ofd"), signed, &document.SignRequest{
		Profile: document.ProfileOFDSES4, Identity: id, Seal: ws.Seal,
		Placements: []document.Placement{{Page: 1, At: &document.Point{X: 100, Y: 100}, SealW: 40, SealH: 40}},
	}); err != nil {
		t.Fatal(err)
	}
	roots, err := os.ReadFile(ws.Path("root.pem"))
	if err != nil {
		t.Fatal(err)
	}
	verify := func(offline bool) document.SignatureReport {
		t.Helper()
		rep, err := document.VerifyFile(ctx, signed, &document.VerifyOptions{TrustPEM: roots, Offline: offline})
		if err != nil {
			t.Fatal(err)
		}
		if len(rep.Signatures) != 1 {
			t.Fatalf("%d signatures", len(rep.Signatures))
		}
		return rep.Signatures[0]
	}

	orig := http.DefaultTransport
	t.Cleanup(func() { http.DefaultTransport = orig })

	// No hub at the CRL address: unknown, never failed.
	http.DefaultTransport = refuse{host: u.Host, next: orig}
	if s := verify(false); s.Revocation != document.Unknown || s.Trust == document.Failed {
		t.Fatalf("without the hub: revocation %q trust %q %v, want unknown", s.Revocation, s.Trust, s.Problems)
	}
	// Offline: unknown, and nothing is fetched.
	env := hubtest.Start(t, "sqlite", server.Options{CRLDir: ws.Path(demo.CRLDir)})
	rt := &routeTo{host: u.Host, h: env.Hub.Handler(), next: orig}
	http.DefaultTransport = rt
	if s := verify(true); s.Revocation != document.Unknown || rt.hits != 0 {
		t.Fatalf("offline: revocation %q after %d fetches, want unknown after none", s.Revocation, rt.hits)
	}
	// The hub serves the workspace CRLs: ok, valid.
	s := verify(false)
	if s.Revocation != document.OK || s.Trust != document.OK || !s.Valid {
		t.Fatalf("with the hub: revocation %q trust %q valid %v %v", s.Revocation, s.Trust, s.Valid, s.Problems)
	}
	if rt.hits < 2 {
		t.Fatalf("%d CRL fetches, want the signer's and the intermediate's", rt.hits)
	}

	// Every demo chain (SM2, ECDSA, RSA signers and the SM2 seal maker) checks ok via CRL
	// through trust.Config.HTTP, the way the desktop app's verifier is configured.
	tv, err := trust.NewVerifier(trust.Config{Roots: roots, HTTP: &http.Client{Transport: rt}})
	if err != nil {
		t.Fatal(err)
	}
	certs := []*smx509.Certificate{ws.Maker.Cert}
	for _, a := range demo.Algorithms {
		certs = append(certs, ws.Signers[a].Cert)
	}
	for _, c := range certs {
		r := tv.Check(ctx, c, nil, time.Now())
		if r.Revocation != trust.OK || r.RevocationVia != "crl" {
			t.Errorf("%s: revocation %q via %q %v", c.Subject.CommonName, r.Revocation, r.RevocationVia, r.Problems)
		}
	}
}
