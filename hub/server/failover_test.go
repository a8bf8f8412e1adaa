package server_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"sealdesk/hub/api"
	"sealdesk/hub/client"
	"sealdesk/hub/hubtest"
	"sealdesk/hub/outbox"
	"sealdesk/hub/server"
	"sealdesk/hub/store"
	"sealdesk/internal/testenv"
	"sealdesk/signer"
	"sealdesk/signer/pki"
)

// pgCluster is a PostgreSQL server this test starts on loopback.
type pgCluster struct {
	t    *testing.T
	bin  string
	dir  string
	port int
	asPG []string // runuser prefix when the test runs as root (PostgreSQL refuses root)
}

func (c *pgCluster) run(name string, args ...string) string {
	c.t.Helper()
	cmd := exec.Command(c.asPG[0], append(append(c.asPG[1:], filepath.Join(c.bin, name)), args...)...)
	if len(c.asPG) == 1 && c.asPG[0] == "" {
		cmd = exec.Command(filepath.Join(c.bin, name), args...)
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		log, _ := os.ReadFile(filepath.Join(c.dir, "server.log"))
		c.t.Fatalf("%s %s: %v\n%s\n%s", name, strings.Join(args, " "), err, out, log)
	}
	return string(out)
}

func (c *pgCluster) start(extra ...string) {
	c.t.Helper()
	opts := fmt.Sprintf("-c listen_addresses=127.0.0.1 -p %d -k %s %s", c.port, c.dir, strings.Join(extra, " "))
	c.run("pg_ctl", "-D", filepath.Join(c.dir, "data"), "-l", filepath.Join(c.dir, "server.log"), "-w", "-t", "60", "-o", opts, "start")
	c.t.Cleanup(func() {
		exec.Command(c.asPG[0], append(c.asPG[1:], filepath.Join(c.bin, "pg_ctl"), "-D", filepath.Join(c.dir, "data"), "-m", "immediate", "stop")...).Run()
	})
}

// kill SIGKILLs the postmaster: no shutdown checkpoint, no goodbye to the standby.
func (c *pgCluster) kill() {
	c.t.Helper()
	b, err := os.ReadFile(filepath.Join(c.dir, "data", "postmaster.pid"))
	if err != nil {
		c.t.Fatal(err)
	}
	pid, _ := strconv.Atoi(strings.SplitN(string(b), "\n", 2)[0])
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		c.t.Fatal(err)
	}
}

func freePort(t *testing.T) int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

func newCluster(t *testing.T, bin, base, name string, asPG []string) *pgCluster {
	dir := filepath.Join(base, name)
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	chownPG(t, dir, asPG)
	return &pgCluster{t: t, bin: bin, dir: dir, port: freePort(t), asPG: asPG}
}

func chownPG(t *testing.T, dir string, asPG []string) {
	if asPG[0] == "" {
		return
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		testenv.Missing(t, "the postgres system user (PostgreSQL refuses to run as root)")
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	if err := os.Chown(dir, uid, gid); err != nil {
		t.Fatal(err)
	}
}

// TestFailover: a primary and a streaming-replication standby that the primary waits for on
// every commit (synchronous_standby_names = '*'); two hub instances on a DSN naming both
// hosts (target_session_attrs=read-write); four clients pushing their outboxes through both
// instances without pause. The primary is SIGKILLed, the standby promoted. Every record a
// hub acknowledged, before or after, must be on the new primary exactly once, and every
// client's outbox must drain.
func TestFailover(t *testing.T) {
	if testing.Short() {
		t.Skip("starts two PostgreSQL servers")
	}
	bins, _ := filepath.Glob("/usr/lib/postgresql/*/bin/pg_basebackup")
	if len(bins) == 0 {
		testenv.Missing(t, "PostgreSQL server binaries (/usr/lib/postgresql/*/bin)")
	}
	sort.Strings(bins)
	bin := filepath.Dir(bins[len(bins)-1])
	asPG := []string{""}
	if os.Getuid() == 0 {
		asPG = []string{"runuser", "-u", "postgres", "--"}
	}
	base, err := os.MkdirTemp("", "sealdesk-failover-")
	if err != nil {
		t.Fatal(err)
	}
	os.Chmod(base, 0o755)
	t.Cleanup(func() { os.RemoveAll(base) })

	primary := newCluster(t, bin, base, "primary", asPG)
	primary.run("initdb", "-D", filepath.Join(primary.dir, "data"), "-U", "sealdesk", "--auth=trust", "-E", "UTF8")
	// fsync off keeps the test fast: a SIGKILLed process loses nothing the kernel holds.
	// What is under test is that the primary acknowledges a commit only after the standby
	// has it (synchronous replication), so the standby holds every acknowledged record.
	primary.start("-c wal_level=replica", "-c max_wal_senders=4", "-c synchronous_standby_names='*'",
		"-c synchronous_commit=on", "-c fsync=off", "-c full_page_writes=off")
	standby := newCluster(t, bin, base, "standby", asPG)
	primary.run("pg_basebackup", "-h", "127.0.0.1", "-p", strconv.Itoa(primary.port), "-U", "sealdesk",
		"-D", filepath.Join(standby.dir, "data"), "-R", "-X", "stream")
	standby.start("-c hot_standby=on", "-c fsync=off")

	dsn := fmt.Sprintf("postgres://sealdesk@127.0.0.1:%d,127.0.0.1:%d/postgres?sslmode=disable&target_session_attrs=read-write&connect_timeout=2",
		primary.port, standby.port)
	ctx := context.Background()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	var hubs []*server.Hub
	var urls []string
	for i := 0; i < 2; i++ {
		st, err := store.Open(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		h, err := server.New(server.Options{Store: st, Key: key, Rate: -1, RequestTimeout: 10 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		leave, err := h.Join(ctx)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(leave)
		srv := httptest.NewServer(h.Handler())
		t.Cleanup(srv.Close)
		hubs, urls = append(hubs, h), append(urls, srv.URL)
	}
	var streaming string
	pdb, err := sql.Open("pgx", fmt.Sprintf("postgres://sealdesk@127.0.0.1:%d/postgres?sslmode=disable", primary.port))
	if err != nil {
		t.Fatal(err)
	}
	if err := pdb.QueryRow(`SELECT sync_state FROM pg_stat_replication`).Scan(&streaming); err != nil || streaming != "sync" {
		t.Fatalf("the standby is not a synchronous replica: %q %v", streaming, err)
	}
	pdb.Close()

	// One organisation, its token and seal, filed through instance 0.
	h0 := hubs[0]
	uscc := api.USCCWithCheckDigit("91110000MA0000001")
	if _, e := h0.CreateOrg(ctx, server.Admin, api.Org{ID: "org-a", Name: "Org A", USCC: uscc}); e != nil {
		t.Fatal(e)
	}
	tok, e := h0.IssueToken(ctx, server.Admin, api.TokenRequest{OrgID: "org-a", Role: api.RoleOrg, Label: "clients"})
	if e != nil {
		t.Fatal(e)
	}
	chain, err := pki.NewChain(signer.ECDSA, "Failover")
	if err != nil {
		t.Fatal(err)
	}
	signerPair, err := chain.Issue(pki.Template{Kind: pki.Signer, CommonName: "Signer A", Org: "org-a"})
	if err != nil {
		t.Fatal(err)
	}
	if _, e := h0.FileSeal(ctx, server.Admin, hubtest.SealRequest("org-a", "11010000000001", uscc, signerPair)); e != nil {
		t.Fatal(e)
	}
	certHash := fmt.Sprintf("%x", sha256.Sum256(signerPair.Cert.Raw))

	const clients = 4
	stop := make(chan struct{})
	var wg sync.WaitGroup
	obs := make([]*outbox.Outbox, clients)
	var pushErrs sync.Map
	for c := 0; c < clients; c++ {
		ob, err := outbox.Open(filepath.Join(base, fmt.Sprintf("outbox-%d.db", c)), outbox.Options{Client: fmt.Sprint("client-", c)})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { ob.Close() })
		obs[c] = ob
		wg.Add(1)
		go func() {
			defer wg.Done()
			var hcs []*client.Client
			for _, u := range urls {
				hc, _ := client.New(u, client.Options{Token: tok.Token, Timeout: 15 * time.Second})
				hcs = append(hcs, hc)
			}
			for n := 0; ; n++ {
				select {
				case <-stop:
					return
				default:
				}
				// Sign a few documents (each a real file the record's digest is taken of),
				// then push through the next instance, as a load balancer would alternate.
				for k := 0; k < 5; k++ {
					out := filepath.Join(base, fmt.Sprintf("c%d-%d-%d.pdf", c, n, k))
					if _, err := ob.Record(ctx, api.Record{SealID: "11010000000001", SignerCertSHA256: certHash, Pages: []int{1}}, out,
						func() error { return os.WriteFile(out, []byte(out), 0o600) }); err != nil {
						t.Error(err)
						return
					}
				}
				if _, err := ob.Push(ctx, hcs[n%len(hcs)]); err != nil {
					pushErrs.Store(err.Error(), true)
					time.Sleep(100 * time.Millisecond)
				}
			}
		}()
	}

	readyCode := func(u string) int {
		resp, err := http.Get(u + "/v1/ready")
		if err != nil {
			return 0
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	time.Sleep(3 * time.Second)
	primary.kill()
	killedAt := time.Now()
	// Until the promotion neither host takes writes: readiness says so.
	deadline := time.Now().Add(20 * time.Second)
	for readyCode(urls[0]) != http.StatusServiceUnavailable {
		if time.Now().After(deadline) {
			t.Fatal("instance 0 stayed ready with its primary killed and the standby read-only")
		}
		time.Sleep(200 * time.Millisecond)
	}
	time.Sleep(time.Second)
	standby.run("pg_ctl", "-D", filepath.Join(standby.dir, "data"), "-w", "promote")
	for _, u := range urls {
		for readyCode(u) != http.StatusOK {
			if time.Now().After(deadline.Add(20 * time.Second)) {
				t.Fatalf("%s is not ready after the standby's promotion", u)
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	t.Logf("primary killed; both instances ready on the promoted standby %.1f s later", time.Since(killedAt).Seconds())
	time.Sleep(3 * time.Second)
	close(stop)
	wg.Wait()

	// Drain every outbox through the instances on the new primary.
	total := map[string]bool{}
	for c, ob := range obs {
		hc, _ := client.New(urls[c%2], client.Options{Token: tok.Token})
		for try := 0; ; try++ {
			res, err := ob.Push(ctx, hc)
			if err == nil && res.Remaining == 0 {
				break
			}
			if try > 50 {
				t.Fatalf("outbox %d does not drain: %+v %v", c, res, err)
			}
			time.Sleep(200 * time.Millisecond)
		}
		counts, err := ob.Counts()
		if err != nil {
			t.Fatal(err)
		}
		if counts[outbox.StateReady] != 0 || counts[outbox.StateConflict] != 0 || counts[outbox.StateRejected] != 0 || counts[outbox.StatePending] != 0 {
			t.Fatalf("outbox %d after draining: %v", c, counts)
		}
		sent, err := ob.Entries(outbox.StateSent)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range sent {
			total[e.Record.ID] = true
		}
	}

	ndb, err := sql.Open("pgx", fmt.Sprintf("postgres://sealdesk@127.0.0.1:%d/postgres?sslmode=disable", standby.port))
	if err != nil {
		t.Fatal(err)
	}
	defer ndb.Close()
	rows, err := ndb.Query(`SELECT id, count(*) FROM records WHERE org_id = 'org-a' GROUP BY id`)
	if err != nil {
		t.Fatal(err)
	}
	stored := map[string]int{}
	for rows.Next() {
		var id string
		var n int
		rows.Scan(&id, &n)
		stored[id] = n
	}
	rows.Close()
	for id := range total {
		if stored[id] != 1 {
			t.Errorf("record %s, acknowledged to its client, is stored %d times on the new primary", id, stored[id])
		}
	}
	for id := range stored {
		if !total[id] {
			t.Errorf("record %s is stored but no outbox holds it as sent", id)
		}
	}
	var errs []string
	pushErrs.Range(func(k, _ any) bool { errs = append(errs, k.(string)); return true })
	t.Logf("%d records pushed by %d clients, each stored once; %d distinct push errors during the failover (retried), e.g. %.200s",
		len(total), clients, len(errs), strings.Join(errs, " | "))
	if len(total) < 100 {
		t.Fatalf("only %d records were pushed; the test exercised too little", len(total))
	}
}
