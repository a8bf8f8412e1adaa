package registrar_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509/pkix"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emmansun/gmsm/smx509"

	"sealdesk/hub/api"
	hubca "sealdesk/hub/ca"
	"sealdesk/hub/hubtest"
	"sealdesk/hub/maker"
	"sealdesk/hub/registry"
	"sealdesk/hub/registry/registrar"
	"sealdesk/hub/server"
	"sealdesk/hub/store"
	"sealdesk/signer"
	"sealdesk/signer/pki"
	"sealdesk/signer/ses"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// regServer is the registry on a fixed loopback address that can be stopped and started
// again over the same SQLite file (a restart: new store handle, new Registry).
type regServer struct {
	t    *testing.T
	addr string
	dsn  string
	key  *ecdsa.PrivateKey
	reg  *registrar.Registry
	st   store.Store
	srv  *http.Server
	// dropAcks makes the next n filing answers get lost after the registry stored them.
	dropAcks atomic.Int32
}

func (r *regServer) start() {
	r.t.Helper()
	st, err := store.Open(context.Background(), r.dsn)
	if err != nil {
		r.t.Fatal(err)
	}
	reg, err := registrar.New(st, r.key)
	if err != nil {
		r.t.Fatal(err)
	}
	addr := r.addr
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		r.t.Fatal(err)
	}
	r.addr = ln.Addr().String()
	inner := reg.Handler()
	h := http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if req.URL.Path == registry.PathFilings && r.dropAcks.Load() > 0 {
			r.dropAcks.Add(-1)
			inner.ServeHTTP(discard{http.Header{}}, req) // stored, but the answer is lost
			http.Error(w, "connection lost", http.StatusBadGateway)
			return
		}
		inner.ServeHTTP(w, req)
	})
	r.srv = &http.Server{Handler: h}
	go r.srv.Serve(ln)
	r.reg, r.st = reg, st
}

func (r *regServer) stop() {
	r.srv.Close()
	r.st.Close()
}

func (r *regServer) url() string { return "http://" + r.addr }

type discard struct{ h http.Header }

func (d discard) Header() http.Header         { return d.h }
func (d discard) Write(b []byte) (int, error) { return len(b), nil }
func (d discard) WriteHeader(int)             {}

type provider struct {
	id    string
	hub   *server.Hub
	q     *registrar.Queue
	key   *ecdsa.PrivateKey
	maker *pki.Pair
	chain *pki.Chain
	clk   *clock
	org   api.Org
	n     int
	dsn   string
}

func startProvider(t *testing.T, kind, id, regURL string) *provider {
	t.Helper()
	ctx := context.Background()
	dsn := hubtest.DSN(t, kind)
	st, err := store.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	chain, err := pki.NewChain(signer.ECDSA, "Provider "+id)
	if err != nil {
		t.Fatal(err)
	}
	mk, err := chain.Issue(pki.Template{Kind: pki.SealMaker, CommonName: "Seal Maker " + id})
	if err != nil {
		t.Fatal(err)
	}
	q, err := registrar.NewQueue(st, regURL, id, key)
	if err != nil {
		t.Fatal(err)
	}
	clk := &clock{t: time.Now()}
	q.Now = clk.Now
	h, err := server.New(server.Options{Store: st, Key: key, ParseSeal: server.SESParser, Registrar: q,
		Maker: &maker.SES{Key: mk.Key, Cert: mk.Cert},
		CA:    &hubca.Local{Key: chain.Intermediate.Key, Cert: chain.Intermediate.Cert, Chain: []*smx509.Certificate{chain.Root.Cert}}})
	if err != nil {
		t.Fatal(err)
	}
	p := &provider{id: id, hub: h, q: q, key: key, maker: mk, chain: chain, clk: clk, dsn: dsn}
	p.org = api.Org{ID: "org-" + id, Name: "Unit of " + id, USCC: api.USCCWithCheckDigit(fmt.Sprintf("91110000MA%07d", len(id)*7+int(id[len(id)-1])))}
	if _, e := h.CreateOrg(ctx, server.Admin, p.org); e != nil {
		t.Fatal(e)
	}
	return p
}

func (p *provider) accreditation() registry.Provider {
	pemKey, _ := api.PublicKeyPEM(&p.key.PublicKey)
	return registry.Provider{ID: p.id, Name: "Provider " + p.id, Endpoint: "http://" + p.id + ".invalid", KeyPEM: pemKey,
		MakerCerts: [][]byte{p.maker.Cert.Raw}, CARoots: [][]byte{p.chain.Root.Cert.Raw}}
}

// makeSeal runs the lifecycle at the provider: apply, approve (files the seal), deliver
// (files "active"). It answers the esID and the seal's DER.
func (p *provider) makeSeal(t *testing.T) (string, []byte) {
	t.Helper()
	ctx := context.Background()
	p.n++
	holder, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	csr, err := smx509.CreateCertificateRequest(rand.Reader, &smx509.CertificateRequest{Subject: pkix.Name{CommonName: "holder"}}, holder)
	if err != nil {
		t.Fatal(err)
	}
	applicant := api.Principal{OrgID: p.org.ID, Role: api.RoleOrg, Label: "applicant"}
	app, e := p.hub.Apply(ctx, applicant, api.ApplicationRequest{UnitName: p.org.Name, USCC: p.org.USCC, SealType: "04",
		SealName: fmt.Sprintf("%s 合同专用章 %d", p.id, p.n), CSR: csr, Contact: "张三 010-12345678", Submit: true})
	if e != nil {
		t.Fatal(e)
	}
	app, e = p.hub.ApproveApplication(ctx, api.Principal{OrgID: "org-reviewers", Role: api.RoleReviewer, Label: "reviewer"}, app.ID, "")
	if e != nil {
		t.Fatal(e)
	}
	pkg, e := p.hub.FetchSeal(ctx, applicant, app.ID)
	if e != nil {
		t.Fatal(e)
	}
	if _, e := p.hub.DeliverSeal(ctx, applicant, app.ESID); e != nil {
		t.Fatal(e)
	}
	return app.ESID, pkg.Seal
}

func (p *provider) setStatus(t *testing.T, esID, status, reason string) {
	t.Helper()
	if _, e := p.hub.SetStatus(context.Background(), api.Principal{OrgID: p.org.ID, Role: api.RoleOrg, Label: "owner"}, esID,
		api.StatusChange{Status: status, Reason: reason}); e != nil {
		t.Fatal(e)
	}
}

func drain(t *testing.T, p *provider) int {
	t.Helper()
	n, err := p.q.Drain(context.Background())
	if err != nil {
		t.Fatalf("provider %s: drain: %v", p.id, err)
	}
	return n
}

func wantCode(t *testing.T, what string, err error, code string) {
	t.Helper()
	var he *api.Error
	if !errors.As(err, &he) || he.Code != code {
		t.Fatalf("%s: got %v, want code %s", what, err, code)
	}
}

// TestMutualRecognition: one registry, providers A and B and an unaccredited C, each a hub
// with its own SQLite store, talking HTTP on loopback.
func TestMutualRecognition(t *testing.T) {
	for _, kind := range hubtest.Kinds {
		t.Run(kind, func(t *testing.T) { testMutualRecognition(t, kind) })
	}
}

func testMutualRecognition(t *testing.T, kind string) {
	ctx := context.Background()
	regKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	rs := &regServer{t: t, dsn: hubtest.DSN(t, kind), key: regKey}
	rs.start()
	defer func() { rs.stop() }()

	a := startProvider(t, kind, "prov-a", rs.url())
	b := startProvider(t, kind, "prov-b", rs.url())
	c := startProvider(t, kind, "prov-c", rs.url())
	for _, p := range []*provider{a, b} {
		if err := rs.reg.Accredit(ctx, p.accreditation()); err != nil {
			t.Fatal(err)
		}
	}

	// B's client: configured with the registry's URL and key only.
	bundles := &registry.BundleClient{URL: rs.url(), Key: &regKey.PublicKey, CacheFile: filepath.Join(t.TempDir(), "bundle.json")}
	status := &registry.Client{URL: rs.url(), Key: &regKey.PublicKey}

	// A seal made at A lands at the registry and is seen, active, by B's client.
	s1, der1 := a.makeSeal(t)
	if n := drain(t, a); n != 2 {
		t.Fatalf("A filed %d filings for a new, delivered seal; want 2 (seal, active)", n)
	}
	pl, _, err := status.Status(ctx, time.Time{}, s1)
	if err != nil || pl.Statuses[0].Status != api.StatusActive {
		t.Fatalf("B's client: status of A's seal: %v %+v", err, pl)
	}
	bundle, err := bundles.Fetch(ctx)
	if err != nil {
		t.Fatal(err)
	}
	parsed, err := ses.ParseSeal(der1)
	if err != nil {
		t.Fatal(err)
	}
	if got := bundle.MakerProvider(parsed.MakerCert); got != a.id {
		t.Fatalf("bundle: the maker of A's seal is recognised as %q, want %s", got, a.id)
	}
	if age := bundle.Age(time.Now()); age < 0 || age > time.Minute {
		t.Fatalf("bundle age %v", age)
	}
	activeAt := time.Now()

	// A suspends: the registry sees it; the status at the earlier time stays active.
	time.Sleep(1100 * time.Millisecond) // status changes take effect from their whole second
	a.setStatus(t, s1, api.StatusSuspended, "印章停用检查")
	if n := drain(t, a); n != 1 {
		t.Fatalf("suspension: %d filings, want 1", n)
	}
	if pl, _, err = status.Status(ctx, time.Time{}, s1); err != nil || pl.Statuses[0].Status != api.StatusSuspended {
		t.Fatalf("after suspension: %v %+v", err, pl)
	}
	if pl, _, err = status.Status(ctx, activeAt, s1); err != nil || pl.Statuses[0].Status != api.StatusActive {
		t.Fatalf("status at %s (before the suspension): %v %+v", activeAt, err, pl)
	}
	if pl, _, err = status.Revocations(ctx, activeAt); err != nil || len(pl.Statuses) != 1 || pl.Statuses[0].ESID != s1 || pl.Statuses[0].Status != api.StatusSuspended {
		t.Fatalf("revocations since %s: %v %+v", activeAt, err, pl)
	}

	// B's own seal lands too.
	sb, _ := b.makeSeal(t)
	drain(t, b)

	// The registry is down while A makes and revokes seals: nothing is lost.
	rs.stop()
	s2, _ := a.makeSeal(t)
	s3, _ := a.makeSeal(t)
	a.setStatus(t, s2, api.StatusRevoked, "作废")
	if _, err := a.q.Drain(ctx); err == nil {
		t.Fatal("drain with the registry down: no error")
	}
	if n, err := a.q.Drain(ctx); n != 0 || err != nil {
		t.Fatalf("drain again at once: %d sent, %v; want nothing due (backoff)", n, err)
	}
	pending, _, _ := a.q.Counts(ctx)
	if pending != 5 {
		t.Fatalf("queued while the registry was down: %d, want 5", pending)
	}
	rs.start()
	rs.dropAcks.Store(1) // the first answer after the restart is lost: A sends again
	a.clk.Add(10 * time.Minute)
	if _, err := a.q.Drain(ctx); err == nil {
		t.Fatal("a lost acknowledgement was not noticed")
	}
	a.clk.Add(10 * time.Minute)
	if n := drain(t, a); n != 5 {
		t.Fatalf("after the restart: %d acknowledged, want 5", n)
	}
	pending, acked, _ := a.q.Counts(ctx)
	total, err := rs.reg.FilingCount(ctx)
	// A: s1 (seal, active, suspended) + s2 (seal, active, revoked) + s3 (seal, active); B: 2.
	if err != nil || pending != 0 || acked != 8 || total != 10 {
		t.Fatalf("exactly once: A pending %d acked %d, registry holds %d (%v); want 0, 8, 10", pending, acked, total, err)
	}
	if pl, _, err = status.Status(ctx, time.Time{}, s2, s3, sb); err != nil ||
		pl.Statuses[0].Status != api.StatusRevoked || pl.Statuses[1].Status != api.StatusActive || pl.Statuses[2].Status != api.StatusActive {
		t.Fatalf("after the restart: %v %+v", err, pl)
	}

	// A provider the registry has not accredited is refused with a stable code, and keeps
	// its filings queued; its maker is not in the bundle.
	_, derC := c.makeSeal(t)
	_, err = c.q.Drain(ctx)
	wantCode(t, "unaccredited provider", err, registry.CodeNotAccredited)
	if p, _, _ := c.q.Counts(ctx); p != 2 {
		t.Fatalf("C's refused filings: %d queued, want 2", p)
	}
	pc, _ := ses.ParseSeal(derC)
	if got := bundle.MakerProvider(pc.MakerCert); got != "" {
		t.Fatalf("C's maker recognised as %q", got)
	}

	// The registry admin suspends B: its filings are refused, and it leaves the bundle.
	if err := rs.reg.SetProviderStatus(ctx, b.id, registry.Suspended); err != nil {
		t.Fatal(err)
	}
	b.setStatus(t, sb, api.StatusSuspended, "检查")
	_, err = b.q.Drain(ctx)
	wantCode(t, "suspended provider", err, registry.CodeNotAccredited)
	nb, err := bundles.Fetch(ctx)
	if err != nil || nb.Version <= bundle.Version || nb.Provider(b.id) != nil || nb.Provider(a.id) == nil {
		t.Fatalf("bundle after suspending B: %v version %d (was %d)", err, nb.Version, bundle.Version)
	}
	if total, _ = rs.reg.FilingCount(ctx); total != 10 {
		t.Fatalf("registry holds %d filings after refusals, want 10", total)
	}

	// A filing signed by another key is refused.
	forged := startProvider(t, kind, "prov-a", rs.url()) // claims to be A, holds another key
	forged.makeSeal(t)
	_, err = forged.q.Drain(ctx)
	wantCode(t, "forged provider signature", err, registry.CodeBadSignature)
}

func TestTrustBundle(t *testing.T) {
	for _, kind := range hubtest.Kinds {
		t.Run(kind, func(t *testing.T) { testTrustBundle(t, kind) })
	}
}

func testTrustBundle(t *testing.T, kind string) {
	ctx := context.Background()
	regKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	rs := &regServer{t: t, dsn: hubtest.DSN(t, kind), key: regKey}
	rs.start()
	defer func() { rs.stop() }()
	a := startProvider(t, kind, "prov-a", rs.url())
	if err := rs.reg.Accredit(ctx, a.accreditation()); err != nil {
		t.Fatal(err)
	}
	rs.reg.BundleTTL = time.Hour
	cache := filepath.Join(t.TempDir(), "bundle.json")

	// Wrongly signed: a client configured with another registry key refuses it.
	wrong := &registry.BundleClient{URL: rs.url(), Key: &other.PublicKey, CacheFile: cache}
	if _, err := wrong.Fetch(ctx); !errors.Is(err, registry.ErrBundleSignature) {
		t.Fatalf("bundle under the wrong key: %v", err)
	}
	// Tampered payload.
	sb, err := rs.reg.Bundle(ctx)
	if err != nil {
		t.Fatal(err)
	}
	sb.Payload = append([]byte(nil), sb.Payload...)
	sb.Payload[len(sb.Payload)-2] ^= 1
	if _, err := sb.Open(&regKey.PublicKey, time.Now()); err == nil {
		t.Fatal("tampered bundle accepted")
	}

	now := time.Now()
	cl := &registry.BundleClient{URL: rs.url(), Key: &regKey.PublicKey, CacheFile: cache, Now: func() time.Time { return now }}
	b, err := cl.Fetch(ctx)
	if err != nil || b.Provider(a.id) == nil {
		t.Fatalf("fetch: %v", err)
	}
	// The registry goes away: the cache serves, with its age, until it expires.
	rs.stop()
	now = now.Add(30 * time.Minute)
	b2, err := cl.Fetch(ctx)
	if err != nil || b2.Version != b.Version {
		t.Fatalf("cached bundle: %v", err)
	}
	if age := b2.Age(now); age < 29*time.Minute || age > 31*time.Minute {
		t.Fatalf("bundle age %v, want about 30m", age)
	}
	now = now.Add(31 * time.Minute)
	if _, err := cl.Fetch(ctx); !errors.Is(err, registry.ErrBundleExpired) {
		t.Fatalf("expired cached bundle: %v", err)
	}
	rs.start()
}

// rawDB opens a second handle on a store's database, to break it from outside.
func rawDB(t *testing.T, dsn string) *sql.DB {
	t.Helper()
	driver, src := "pgx", dsn
	if p, ok := strings.CutPrefix(dsn, "sqlite:"); ok {
		driver, src = "sqlite", "file:"+p+"?_pragma=busy_timeout(10000)"
	}
	db, err := sql.Open(driver, src)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// TestStatusFilingInTransaction: a status change and its registry filing commit together.
// With the queue table unwritable the change is refused and the seal keeps its status (so
// no change can be in force without its filing); once writable, the change and its filing
// land, and a provider restarted before sending (a crash) still sends it.
func TestStatusFilingInTransaction(t *testing.T) {
	for _, kind := range hubtest.Kinds {
		t.Run(kind, func(t *testing.T) { testStatusFilingInTransaction(t, kind) })
	}
}

func testStatusFilingInTransaction(t *testing.T, kind string) {
	ctx := context.Background()
	regKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	rs := &regServer{t: t, dsn: hubtest.DSN(t, kind), key: regKey}
	rs.start()
	defer func() { rs.stop() }()
	a := startProvider(t, kind, "prov-a", rs.url())
	if err := rs.reg.Accredit(ctx, a.accreditation()); err != nil {
		t.Fatal(err)
	}
	s1, _ := a.makeSeal(t)
	if p, _, _ := a.q.Counts(ctx); p != 2 {
		t.Fatalf("a delivered seal queued %d filings, want 2", p)
	}

	db := rawDB(t, a.dsn)
	if _, err := db.Exec(`ALTER TABLE registry_queue RENAME TO registry_queue_away`); err != nil {
		t.Fatal(err)
	}
	_, e := a.hub.SetStatus(ctx, api.Principal{OrgID: a.org.ID, Role: api.RoleOrg, Label: "owner"}, s1,
		api.StatusChange{Status: api.StatusSuspended, Reason: "检查"})
	if e == nil {
		t.Fatal("a status change whose filing cannot be queued was committed")
	}
	if s, err := a.hub.Seal(ctx, server.Admin, s1); err != nil || s.Status != api.StatusActive {
		t.Fatalf("after the refused change the seal is %v (%v), want still active", s, err)
	}
	if _, err := db.Exec(`ALTER TABLE registry_queue_away RENAME TO registry_queue`); err != nil {
		t.Fatal(err)
	}
	a.setStatus(t, s1, api.StatusSuspended, "检查")
	if p, _, _ := a.q.Counts(ctx); p != 3 {
		t.Fatalf("after the suspension %d filings queued, want 3", p)
	}

	// A crash before the sender ran: a new queue on the reopened store sends all three.
	st2, err := store.Open(ctx, a.dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer st2.Close()
	q2, err := registrar.NewQueue(st2, rs.url(), a.id, a.key)
	if err != nil {
		t.Fatal(err)
	}
	if n, err := q2.Drain(ctx); n != 3 || err != nil {
		t.Fatalf("after the restart: %d sent (%v), want 3", n, err)
	}
	status := &registry.Client{URL: rs.url(), Key: &regKey.PublicKey}
	if pl, _, err := status.Status(ctx, time.Time{}, s1); err != nil || pl.Statuses[0].Status != api.StatusSuspended {
		t.Fatalf("registry status after the restart: %v %+v", err, pl)
	}
}

// TestResolver: the client's view. The bundle is cached (across processes: the cache file)
// and fetched again once older than the refresh interval; a maker no accredited provider
// has is ErrMakerNotAccredited; with the registry down, the seal's provider (endpoint and key
// from the bundle) answers its status.
func TestResolver(t *testing.T) {
	ctx := context.Background()
	regKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	rs := &regServer{t: t, dsn: hubtest.DSN(t, "sqlite"), key: regKey}
	rs.start()
	defer func() { rs.stop() }()
	a := startProvider(t, "sqlite", "prov-a", rs.url())
	mux := http.NewServeMux()
	mux.Handle("/v1/registry/", registrar.ProviderHandler(a.hub, a.key))
	mux.Handle("/", a.hub.Handler())
	srv := httptest.NewServer(mux)
	defer srv.Close()
	acc := a.accreditation()
	acc.Endpoint = srv.URL
	if err := rs.reg.Accredit(ctx, acc); err != nil {
		t.Fatal(err)
	}
	s1, der := a.makeSeal(t)
	drain(t, a)
	sealA, err := ses.ParseSeal(der)
	if err != nil {
		t.Fatal(err)
	}
	cache := filepath.Join(t.TempDir(), "bundle.json")
	resolver := func(refresh time.Duration) *registry.Resolver {
		r, err := (&registry.Config{URL: rs.url(), Key: &regKey.PublicKey, Refresh: refresh, CacheFile: cache}).Resolver()
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	r := resolver(time.Hour)
	if p, err := r.Recognize(ctx, sealA.MakerCert); err != nil || p.ID != a.id {
		t.Fatalf("recognize A's maker: %v %v", p, err)
	}
	st, signed, err := r.StatusAt(ctx, s1, time.Now(), sealA.MakerCert)
	if err != nil || st.Status != api.StatusActive || signed.KeyID == "" {
		t.Fatalf("status of A's seal now: %+v %v", st, err)
	}

	// The admin suspends A: clients see it once their bundle is older than the refresh
	// interval, not before (also a new process on the same cache).
	if err := rs.reg.SetProviderStatus(ctx, a.id, registry.Suspended); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Recognize(ctx, sealA.MakerCert); err != nil {
		t.Fatalf("within the refresh interval: %v", err)
	}
	if _, err := resolver(time.Hour).Recognize(ctx, sealA.MakerCert); err != nil {
		t.Fatalf("another process within the refresh interval: %v", err)
	}
	time.Sleep(300 * time.Millisecond)
	if _, err := resolver(200*time.Millisecond).Recognize(ctx, sealA.MakerCert); !errors.Is(err, registry.ErrMakerNotAccredited) {
		t.Fatalf("after the refresh interval: %v, want ErrMakerNotAccredited", err)
	}

	// The registry is down: A (accredited again, in a fresh bundle) answers for its seal.
	if err := rs.reg.SetProviderStatus(ctx, a.id, registry.Accredited); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	r = resolver(200 * time.Millisecond)
	if _, err := r.Bundle(ctx); err != nil {
		t.Fatal(err)
	}
	rs.stop()
	st, signed, err = r.StatusAt(ctx, s1, time.Time{}, sealA.MakerCert)
	if err != nil || st.Status != api.StatusActive {
		t.Fatalf("status from the provider with the registry down: %+v %v", st, err)
	}
	if pl, err := signed.Open(&a.key.PublicKey); err != nil || pl.At.IsZero() {
		t.Fatalf("the provider's answer: %v (at %v)", err, pl)
	}
	if _, _, err := r.StatusAt(ctx, s1, time.Time{}, nil); err == nil {
		t.Fatal("registry down and no provider named: no error")
	}
	rs.start()
}
