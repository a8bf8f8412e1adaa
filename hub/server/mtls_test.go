package server_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net/http/httptest"
	"testing"

	"sealdesk/hub/api"
	"sealdesk/hub/client"
	"sealdesk/hub/hubtest"
	"sealdesk/hub/server"
	"sealdesk/signer"
	"sealdesk/signer/pki"
)

// TestMutualTLS: a TLS client certificate registered for an organisation authenticates as
// that organisation; a certificate from the trusted CA that is not registered does not.
func TestMutualTLS(t *testing.T) {
	st := hubtest.Store(t, "sqlite")
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	h, err := server.New(server.Options{Store: st, Key: key})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	uscc := api.USCCWithCheckDigit("91440300MA5ABCDE0")
	if _, e := h.CreateOrg(ctx, server.Admin, api.Org{ID: "org-tls", Name: "TLS org", USCC: uscc}); e != nil {
		t.Fatal(e)
	}
	chain, err := pki.NewChain(signer.ECDSA, "mTLS Test")
	if err != nil {
		t.Fatal(err)
	}
	registered, _ := chain.Issue(pki.Template{Kind: pki.ClientAuth, CommonName: "desk-1"})
	stranger, _ := chain.Issue(pki.Template{Kind: pki.ClientAuth, CommonName: "desk-2"})
	if e := h.AddCredential(ctx, server.Admin, server.CertCredentialHash(registered.Cert.Raw), api.TokenRequest{OrgID: "org-tls", Role: api.RoleOrg, Label: "desk-1"}); e != nil {
		t.Fatal(e)
	}
	pool := x509.NewCertPool()
	inter, _ := x509.ParseCertificate(chain.Intermediate.Cert.Raw)
	root, _ := x509.ParseCertificate(chain.Root.Cert.Raw)
	pool.AddCert(root)
	srv := httptest.NewUnstartedServer(h.Handler())
	srv.TLS = &tls.Config{ClientCAs: pool, ClientAuth: tls.VerifyClientCertIfGiven}
	srv.StartTLS()
	defer srv.Close()
	roots := x509.NewCertPool()
	roots.AddCert(srv.Certificate())
	dial := func(p *pki.Pair) *client.Client {
		cfg := &tls.Config{RootCAs: roots}
		if p != nil {
			cfg.Certificates = []tls.Certificate{{Certificate: [][]byte{p.Cert.Raw, inter.Raw}, PrivateKey: p.Key}}
		}
		c, err := client.New(srv.URL, client.Options{TLS: cfg})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	who, err := dial(registered).Whoami(ctx)
	if err != nil || who.OrgID != "org-tls" || who.Label != "desk-1" {
		t.Fatalf("registered client certificate: %+v %v", who, err)
	}
	var he *api.Error
	if _, err := dial(stranger).Whoami(ctx); !errors.As(err, &he) || he.Code != api.CodeUnauthenticated {
		t.Fatalf("unregistered client certificate: %v", err)
	}
	if _, err := dial(nil).Whoami(ctx); !errors.As(err, &he) || he.Code != api.CodeUnauthenticated {
		t.Fatalf("no client certificate: %v", err)
	}
}
