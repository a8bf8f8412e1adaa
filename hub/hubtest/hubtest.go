// Package hubtest sets up sealhub for tests: a store of each kind (SQLite in a temporary
// directory; PostgreSQL in a fresh schema of $SEALDESK_TEST_POSTGRES, which
// scripts/with-postgres.sh provides — missing, the test fails in CI and skips elsewhere), and
// a running hub on loopback with two organisations, their tokens and a filed seal each.
package hubtest

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"database/sql"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"

	"sealdesk/hub/api"
	"sealdesk/hub/server"
	"sealdesk/hub/store"
	"sealdesk/internal/testenv"
	"sealdesk/signer"
	"sealdesk/signer/pki"
)

// Kinds are the store kinds every hub test runs against.
var Kinds = []string{"sqlite", "postgres"}

var schemaSeq atomic.Int64

// Store opens an empty store of the given kind for the test and closes it afterwards.
func Store(t testing.TB, kind string) store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), DSN(t, kind))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// DSN names an empty database of the given kind for the test (a new SQLite file, or a fresh
// PostgreSQL schema dropped afterwards), for tests that open, close and reopen a store, or
// hand it to a sealhub process.
func DSN(t testing.TB, kind string) string {
	t.Helper()
	switch kind {
	case "sqlite":
		return "sqlite:" + filepath.Join(t.TempDir(), fmt.Sprintf("hub%d.db", schemaSeq.Add(1)))
	case "postgres":
		base := os.Getenv("SEALDESK_TEST_POSTGRES")
		if base == "" {
			testenv.Missing(t, "PostgreSQL ($SEALDESK_TEST_POSTGRES, set by scripts/with-postgres.sh)")
		}
		admin, err := sql.Open("pgx", base)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { admin.Close() })
		schema := fmt.Sprintf("t%d_%d", os.Getpid(), schemaSeq.Add(1))
		if _, err := admin.Exec(`CREATE SCHEMA ` + schema); err != nil {
			t.Fatalf("PostgreSQL at $SEALDESK_TEST_POSTGRES: %v", err)
		}
		t.Cleanup(func() { admin.Exec(`DROP SCHEMA ` + schema + ` CASCADE`) })
		sep := "?"
		if strings.Contains(base, "?") {
			sep = "&"
		}
		return base + sep + "search_path=" + schema
	}
	t.Fatalf("unknown store kind %q", kind)
	return ""
}

// Org is a test organisation with its token and one filed seal.
type Org struct {
	ID     string
	USCC   string
	Token  string
	SealID string
	Signer *pki.Pair // the certificate the seal binds
}

// Env is a running hub.
type Env struct {
	Hub        *server.Hub
	Store      store.Store
	Server     *httptest.Server
	URL        string
	Key        *ecdsa.PrivateKey
	AdminToken string
	A, B       Org
}

// Start runs a hub on loopback over a store of kind, with organisations "org-a" and "org-b".
// opt may set limits; Store and Key are filled in.
func Start(t testing.TB, kind string, opt server.Options) *Env {
	t.Helper()
	st := Store(t, kind)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	opt.Store, opt.Key = st, key
	h, err := server.New(opt)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h.Handler())
	t.Cleanup(srv.Close)
	env := &Env{Hub: h, Store: st, Server: srv, URL: srv.URL, Key: key}
	ctx := context.Background()
	tok, e := h.IssueToken(ctx, server.Admin, api.TokenRequest{Role: api.RoleAdmin, Label: "test-admin"})
	if e != nil {
		t.Fatal(e)
	}
	env.AdminToken = tok.Token
	chain, err := pki.NewChain(signer.ECDSA, "Hub Test")
	if err != nil {
		t.Fatal(err)
	}
	for i, o := range []*Org{&env.A, &env.B} {
		o.ID = "org-" + string(rune('a'+i))
		o.USCC = api.USCCWithCheckDigit(fmt.Sprintf("91110000MA0%06d", i+1))
		if _, e := h.CreateOrg(ctx, server.Admin, api.Org{ID: o.ID, Name: "Org " + o.ID, USCC: o.USCC}); e != nil {
			t.Fatal(e)
		}
		tok, e := h.IssueToken(ctx, server.Admin, api.TokenRequest{OrgID: o.ID, Role: api.RoleOrg, Label: "client"})
		if e != nil {
			t.Fatal(e)
		}
		o.Token = tok.Token
		if o.Signer, err = chain.Issue(pki.Template{Kind: pki.Signer, CommonName: "Signer " + o.ID, Org: o.ID}); err != nil {
			t.Fatal(err)
		}
		o.SealID = fmt.Sprintf("1101000%07d", i+1)
		if _, e := h.FileSeal(ctx, server.Admin, SealRequest(o.ID, o.SealID, o.USCC, o.Signer)); e != nil {
			t.Fatal(e)
		}
	}
	return env
}

// SealRequest is a filing for a seal binding signer's certificate, valid for two years.
func SealRequest(org, esID, uscc string, signer *pki.Pair) api.FileSealRequest {
	now := time.Now().UTC().Truncate(time.Second)
	return api.FileSealRequest{
		ESID: esID, Name: "Contract seal of " + org, FilingNumber: "F-" + esID, OwnerUSCC: uscc, OrgID: org,
		ValidStart: now.Add(-24 * time.Hour), ValidEnd: now.AddDate(2, 0, 0), Certificates: [][]byte{signer.Cert.Raw},
	}
}
