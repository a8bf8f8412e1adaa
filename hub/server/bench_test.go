package server_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"sort"
	"sync"
	"testing"
	"time"

	"sealdesk/hub/api"
	"sealdesk/hub/client"
	"sealdesk/hub/hubtest"
	"sealdesk/hub/server"
)

// Load benchmarks over loopback HTTP, for each store. Run with
//
//	scripts/with-postgres.sh go test -run '^$' -bench 'Ingest|VerifyLatency' -benchtime 3s ./hub/server
//
// BenchmarkIngest: each op is one batch of 500 records pushed by one of 4 concurrent clients;
// it reports records/s (goal ≥ 5,000). BenchmarkVerifyLatency: each op is one online verify
// (document-digest lookup) sent at a fixed rate of 200 requests/s against a store holding
// 20,000 records; it reports p50 and p99 latency in ms (goal p99 < 20 ms). Both are bounded
// by -benchtime.

const benchBatch = 500

func benchClient(b *testing.B, env *hubtest.Env) *client.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 64
	c, err := client.New(env.URL, client.Options{Token: env.A.Token, HTTP: &http.Client{Transport: tr, Timeout: time.Minute}})
	if err != nil {
		b.Fatal(err)
	}
	return c
}

func benchRecords(env *hubtest.Env, prefix string, n int) []api.Record {
	c := sha256.Sum256(env.A.Signer.Cert.Raw)
	cert := hex.EncodeToString(c[:])
	now := time.Now().UTC()
	out := make([]api.Record, n)
	for i := range out {
		d := sha256.Sum256([]byte(fmt.Sprint(prefix, i)))
		out[i] = api.Record{ID: fmt.Sprintf("%s-%d", prefix, i), SealID: env.A.SealID, SignerCertSHA256: cert, DocDigestAlg: "sha256",
			DocDigest: hex.EncodeToString(d[:]), DocName: fmt.Sprintf("contract-%d.pdf", i), Pages: []int{1, 2, 3}, SignedAt: now, Client: "bench"}
	}
	return out
}

func BenchmarkIngest(b *testing.B) {
	for _, kind := range hubtest.Kinds {
		b.Run(kind, func(b *testing.B) {
			env := hubtest.Start(b, kind, server.Options{Rate: -1})
			c := benchClient(b, env)
			ctx := context.Background()
			batches := make([][]api.Record, b.N)
			for i := range batches {
				batches[i] = benchRecords(env, fmt.Sprint("b", i), benchBatch)
			}
			next := make(chan []api.Record, b.N)
			for _, bt := range batches {
				next <- bt
			}
			close(next)
			b.ResetTimer()
			start := time.Now()
			var wg sync.WaitGroup
			errs := make(chan error, 4)
			for w := 0; w < 4; w++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for bt := range next {
						res, err := c.PushRecords(ctx, bt)
						if err != nil {
							errs <- err
							return
						}
						for _, r := range res.Results {
							if r.Result != api.ResultCreated {
								errs <- fmt.Errorf("record %s: %s", r.ID, r.Result)
								return
							}
						}
					}
				}()
			}
			wg.Wait()
			elapsed := time.Since(start)
			b.StopTimer()
			close(errs)
			for err := range errs {
				b.Fatal(err)
			}
			b.ReportMetric(float64(b.N*benchBatch)/elapsed.Seconds(), "records/s")
		})
	}
}

func BenchmarkVerifyLatency(b *testing.B) {
	for _, kind := range hubtest.Kinds {
		b.Run(kind, func(b *testing.B) {
			env := hubtest.Start(b, kind, server.Options{Rate: -1})
			c := benchClient(b, env)
			ctx := context.Background()
			recs := benchRecords(env, "v", 20000)
			for i := 0; i < len(recs); i += 1000 {
				if _, err := c.PushRecords(ctx, recs[i:i+1000]); err != nil {
					b.Fatal(err)
				}
			}
			const rate = 200
			tick := time.NewTicker(time.Second / rate)
			defer tick.Stop()
			lat := make([]time.Duration, b.N)
			var wg sync.WaitGroup
			var mu sync.Mutex
			var firstErr error
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				<-tick.C
				wg.Add(1)
				// Open-loop: requests leave on the clock whether or not earlier ones returned,
				// so a slow answer cannot hide the queueing it causes.
				go func(i int) {
					defer wg.Done()
					r := recs[(i*7919)%len(recs)]
					t0 := time.Now()
					res, err := c.Verify(ctx, api.VerifyRequest{DocDigest: r.DocDigest})
					lat[i] = time.Since(t0)
					if err == nil && (res.Verdict != api.VerdictOK || len(res.Records) != 1) {
						err = fmt.Errorf("verify %s: %+v", r.ID, res)
					}
					if err != nil {
						mu.Lock()
						firstErr = err
						mu.Unlock()
					}
				}(i)
			}
			wg.Wait()
			b.StopTimer()
			if firstErr != nil {
				b.Fatal(firstErr)
			}
			sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
			q := func(p float64) float64 { return float64(lat[int(p*float64(len(lat)-1))]) / 1e6 }
			b.ReportMetric(q(0.50), "p50-ms")
			b.ReportMetric(q(0.99), "p99-ms")
			b.ReportMetric(float64(len(lat)), "requests")
		})
	}
}
