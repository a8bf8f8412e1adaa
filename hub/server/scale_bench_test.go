package server_test

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/http"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"sealdesk/hub/api"
	"sealdesk/hub/client"
	"sealdesk/hub/hubtest"
	"sealdesk/hub/server"
)

// BenchmarkScale is `make bench-scale` (scripts/bench-scale.sh starts a PostgreSQL tuned
// like a production one — fsync and synchronous commit on — and runs it once):
//
//	scripts/bench-scale.sh            # sizes from $SCALE_SIZES, default 1000000,5000000,20000000
//
// It loads the signing log through the hub's own HTTP ingest API (POST /v1/records, batches
// of 1,000, $SCALE_CLIENTS concurrent clients, default 6) and, at each size, reports
// ingest records/s for the step, then p50/p99 latency of a status query (GET /v1/status/{id}),
// a record lookup by id (GET /v1/records/{id}) and a verify by document digest (POST
// /v1/verify), each sent open-loop at a fixed $SCALE_RATE requests/s (default 1,000) for
// $SCALE_SECONDS (default 10), plus the database size and how many partitions a one-month
// query reads. Signing times advance with the load across $SCALE_MONTHS months (default 24),
// as a real log grows month by month.
func BenchmarkScale(b *testing.B) {
	if os.Getenv("SEALDESK_BENCH_SCALE") == "" {
		b.Skip("run through scripts/bench-scale.sh (make bench-scale)")
	}
	sizes := envInts(b, "SCALE_SIZES", "1000000,5000000,20000000")
	clients := envInts(b, "SCALE_CLIENTS", "6")[0]
	rate := envInts(b, "SCALE_RATE", "1000")[0]
	seconds := envInts(b, "SCALE_SECONDS", "10")[0]
	months := envInts(b, "SCALE_MONTHS", "24")[0]
	const batch = 1000
	const nSeals = 50

	env := hubtest.Start(b, "postgres", server.Options{Rate: -1, MaxBody: 16 << 20, RequestTimeout: time.Minute})
	ctx := context.Background()
	total := sizes[len(sizes)-1]
	end := time.Now().UTC()
	start := end.AddDate(0, -months, 0)
	var seals []string
	for i := 0; i < nSeals; i++ {
		id := fmt.Sprintf("2101%010d", i)
		req := hubtest.SealRequest(env.A.ID, id, env.A.USCC, env.A.Signer)
		req.ValidStart = start.AddDate(0, 0, -1).Truncate(time.Second)
		if _, e := env.Hub.FileSeal(ctx, server.Admin, req); e != nil {
			b.Fatal(e)
		}
		seals = append(seals, id)
	}
	ch := sha256.Sum256(env.A.Signer.Cert.Raw)
	cert := hex.EncodeToString(ch[:])
	step := end.Sub(start) / time.Duration(total)
	record := func(i int) api.Record {
		d := sha256.Sum256([]byte("doc-" + strconv.Itoa(i)))
		return api.Record{ID: fmt.Sprintf("r%010d", i), SealID: seals[i%nSeals], SignerCertSHA256: cert, DocDigestAlg: "sha256",
			DocDigest: hex.EncodeToString(d[:]), DocName: fmt.Sprintf("合同-%d.pdf", i), Pages: []int{1, 3},
			SignedAt: start.Add(time.Duration(i) * step).Truncate(time.Microsecond), Client: "bench-scale"}
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 256
	tr.MaxConnsPerHost = 0
	c, err := client.New(env.URL, client.Options{Token: env.A.Token, HTTP: &http.Client{Transport: tr, Timeout: time.Minute}})
	if err != nil {
		b.Fatal(err)
	}
	db, err := sql.Open("pgx", strings.Split(os.Getenv("SEALDESK_TEST_POSTGRES"), "?")[0]+"?sslmode=disable")
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()

	fmt.Printf("bench-scale: %d clients, batches of %d, %d seals, signing times over %d months; latency at %d req/s for %d s each\n",
		clients, batch, nSeals, months, rate, seconds)
	fmt.Printf("%-11s %-11s %-30s %-30s %-30s %-10s %-10s\n", "records", "ingest/s", "status p50/p99 ms", "lookup p50/p99 ms", "verify p50/p99 ms", "db GiB", "partitions")
	loaded := 0
	b.ResetTimer()
	for _, size := range sizes {
		var next atomic.Int64
		next.Store(int64(loaded))
		t0 := time.Now()
		var wg sync.WaitGroup
		var firstErr atomic.Value
		for w := 0; w < clients; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				recs := make([]api.Record, 0, batch)
				for {
					from := int(next.Add(batch)) - batch
					if from >= size || firstErr.Load() != nil {
						return
					}
					recs = recs[:0]
					for i := from; i < min(from+batch, size); i++ {
						recs = append(recs, record(i))
					}
					res, err := c.PushRecords(ctx, recs)
					if err != nil {
						firstErr.Store(err)
						return
					}
					for _, r := range res.Results {
						if r.Result != api.ResultCreated {
							firstErr.Store(fmt.Errorf("record %s: %s %v", r.ID, r.Result, r.Error))
							return
						}
					}
				}
			}()
		}
		wg.Wait()
		if e := firstErr.Load(); e != nil {
			b.Fatal(e)
		}
		ingest := float64(size-loaded) / time.Since(t0).Seconds()
		loaded = size
		if _, err := db.Exec(`ANALYZE`); err != nil {
			b.Fatal(err)
		}

		pick := func(k int) api.Record { return record(int((uint64(k) * 2654435761) % uint64(size))) }
		status := latency(b, rate, seconds, func(k int) error {
			p, _, err := c.Status(ctx, seals[k%nSeals])
			if err == nil && (len(p.Statuses) != 1 || p.Statuses[0].Status != api.StatusActive) {
				err = wrongAnswer{fmt.Errorf("status: %+v", p)}
			}
			return err
		})
		lookup := latency(b, rate, seconds, func(k int) error {
			r := pick(k)
			got, err := c.Record(ctx, r.ID)
			if err == nil && got.DocDigest != r.DocDigest {
				err = wrongAnswer{fmt.Errorf("record %s: %+v", r.ID, got)}
			}
			return err
		})
		verify := latency(b, rate, seconds, func(k int) error {
			r := pick(k)
			res, err := c.Verify(ctx, api.VerifyRequest{DocDigest: r.DocDigest})
			if err == nil && (res.Verdict != api.VerdictOK || len(res.Records) != 1) {
				err = wrongAnswer{fmt.Errorf("verify %s: %+v", r.ID, res)}
			}
			return err
		})
		var dbBytes int64
		db.QueryRow(`SELECT pg_database_size(current_database())`).Scan(&dbBytes)
		var parts int
		db.QueryRow(`SELECT count(*) FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhparent JOIN pg_namespace n ON n.oid = c.relnamespace
			WHERE c.relname = 'records' AND n.nspname LIKE 't%'`).Scan(&parts)
		fmt.Printf("%-11d %-11.0f %-30s %-30s %-30s %-10.2f %-10d\n", size, ingest, status, lookup, verify, float64(dbBytes)/(1<<30), parts)
		b.ReportMetric(ingest, fmt.Sprintf("ingest-rec/s@%d", size))
	}
	b.StopTimer()
	fmt.Print(scaleExplain(b, env, db, start.AddDate(0, months/2, 0)))
}

// wrongAnswer marks an answer that is not the expected one (fatal), as opposed to a request
// that failed (timed out under overload: counted and reported).
type wrongAnswer struct{ error }

// latency sends fn open-loop at rate per second for seconds and returns "p50/p99" in ms, with
// the number of failed requests when there were any.
func latency(b *testing.B, rate, seconds int, fn func(k int) error) string {
	n := rate * seconds
	lat := make([]time.Duration, n)
	tick := time.NewTicker(time.Second / time.Duration(rate))
	defer tick.Stop()
	var wg sync.WaitGroup
	var firstErr atomic.Value
	var failed atomic.Int64
	for k := 0; k < n; k++ {
		<-tick.C
		wg.Add(1)
		go func() {
			defer wg.Done()
			t0 := time.Now()
			err := fn(k)
			lat[k] = time.Since(t0)
			if _, wrong := err.(wrongAnswer); wrong {
				firstErr.Store(err)
			} else if err != nil {
				failed.Add(1)
			}
		}()
	}
	wg.Wait()
	if e := firstErr.Load(); e != nil {
		b.Fatal(e)
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	q := func(p float64) float64 { return float64(lat[int(p*float64(n-1))]) / 1e6 }
	if f := failed.Load(); f > 0 {
		return fmt.Sprintf("%.2f/%.2f (%d failed)", q(0.5), q(0.99), f)
	}
	return fmt.Sprintf("%.2f/%.2f", q(0.5), q(0.99))
}

// scaleExplain prints the plan of a one-month query by signing time: it must read one
// partition (TestTimeBoundedQueriesPrunePartitions asserts this on a small log).
func scaleExplain(b *testing.B, env *hubtest.Env, db *sql.DB, month time.Time) string {
	var schema string
	db.QueryRow(`SELECT n.nspname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relname = 'record_keys' AND n.nspname LIKE 't%' LIMIT 1`).Scan(&schema)
	from := time.Date(month.Year(), month.Month(), 1, 0, 0, 0, 0, time.UTC)
	rows, err := db.Query(fmt.Sprintf(`EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) SELECT id FROM %s.records WHERE org_id = $1 AND signed_at >= $2 AND signed_at < $3 ORDER BY seq LIMIT 100`, schema),
		env.A.ID, from.UnixMicro(), from.AddDate(0, 1, 0).UnixMicro())
	if err != nil {
		b.Fatal(err)
	}
	defer rows.Close()
	var out strings.Builder
	fmt.Fprintf(&out, "one month by signing time (%s):\n", from.Format("2006-01"))
	for rows.Next() {
		var line string
		rows.Scan(&line)
		out.WriteString("  " + line + "\n")
	}
	return out.String()
}

func envInts(b *testing.B, name, def string) []int {
	v := os.Getenv(name)
	if v == "" {
		v = def
	}
	var out []int
	for _, f := range strings.Split(v, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n <= 0 {
			b.Fatalf("$%s=%q: want positive integers separated by commas", name, v)
		}
		out = append(out, n)
	}
	return out
}
