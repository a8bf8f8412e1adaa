package store

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"sealdesk/hub/api"
	"sealdesk/internal/testenv"
)

// pgDSN makes a fresh schema in $SEALDESK_TEST_POSTGRES (scripts/with-postgres.sh) and
// returns a DSN whose search_path is that schema.
func pgDSN(t *testing.T) string {
	t.Helper()
	base := os.Getenv("SEALDESK_TEST_POSTGRES")
	if base == "" {
		testenv.Missing(t, "PostgreSQL ($SEALDESK_TEST_POSTGRES, set by scripts/with-postgres.sh)")
	}
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { admin.Close() })
	schema := fmt.Sprintf("st%d_%d", os.Getpid(), time.Now().UnixNano())
	if _, err := admin.Exec(`CREATE SCHEMA ` + schema); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { admin.Exec(`DROP SCHEMA ` + schema + ` CASCADE`) })
	sep := "?"
	if strings.Contains(base, "?") {
		sep = "&"
	}
	return base + sep + "search_path=" + schema
}

func testRecord(id string, signed time.Time) api.Record {
	return api.Record{ID: id, SealID: "seal-1", SignerCertSHA256: strings.Repeat("ab", 32), DocDigestAlg: "sha256",
		DocDigest: fmt.Sprintf("%064x", len(id)*7919+signed.Nanosecond()), DocName: "doc " + id + ".pdf", Pages: []int{1, 2},
		SignedAt: signed, Client: "test"}
}

// TestMigrationKeepsEveryRecord fills a database made by the migrations before the partitioned
// log (the schema of the previous release, records inserted exactly as that release's InsertRecords did) and checks
// that migrating to the partitioned log keeps every record, its sequence number and its id
// claim.
func TestMigrationKeepsEveryRecord(t *testing.T) {
	dsn := pgDSN(t)
	ctx := context.Background()
	// The schema as the release before the partitioned log left it: every migration before
	// the partitioning one.
	before := -1
	for i, m := range migrations {
		if m == "{{GO:partition-records}}" {
			before = i
		}
	}
	old, err := openTo(ctx, dsn, before)
	if err != nil {
		t.Fatal(err)
	}
	base := time.Date(2025, 11, 20, 8, 0, 0, 0, time.UTC)
	var want []api.Record
	for i := 0; i < 300; i++ {
		// Three months of signing times, two organisations, one id used by both.
		r := testRecord(fmt.Sprintf("r%03d", i), base.Add(time.Duration(i)*7*time.Hour+time.Duration(i)*time.Microsecond))
		want = append(want, r)
	}
	insertV1 := func(org string, r api.Record, received time.Time) {
		t.Helper()
		pages := `[1,2]`
		if _, err := old.db.ExecContext(ctx, `INSERT INTO records (`+recordCols+`) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12)`,
			org, r.ID, r.SealID, r.SignerCertSHA256, r.DocDigestAlg, r.DocDigest, r.DocName, pages, us(r.SignedAt), r.Client,
			r.BodyHash(), us(received)); err != nil {
			t.Fatal(err)
		}
	}
	for _, r := range want {
		insertV1("org-a", r, r.SignedAt.Add(time.Minute))
	}
	insertV1("org-b", want[0], want[0].SignedAt)
	var seqBefore []int64
	rows, err := old.db.QueryContext(ctx, `SELECT seq FROM records WHERE org_id = 'org-a' ORDER BY seq`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var s int64
		rows.Scan(&s)
		seqBefore = append(seqBefore, s)
	}
	rows.Close()
	old.Close()

	st, err := openTo(ctx, dsn, len(migrations))
	if err != nil {
		t.Fatalf("migrating a filled version-1 database: %v", err)
	}
	defer st.Close()
	parts, err := st.RecordPartitions(ctx)
	if err != nil {
		t.Fatal(err)
	}
	months := map[string]bool{}
	for _, p := range parts {
		months[p.Month] = true
	}
	for _, m := range []string{"2025-11", "2025-12", "2026-01"} {
		if !months[m] {
			t.Errorf("no partition for %s after the migration (have %v)", m, months)
		}
	}
	page, last, err := st.ListRecords(ctx, "org-a", RecordQuery{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	if len(page) != len(want) {
		t.Fatalf("org-a has %d records after the migration, want %d", len(page), len(want))
	}
	if last != seqBefore[len(seqBefore)-1] {
		t.Errorf("last sequence number %d, was %d", last, seqBefore[len(seqBefore)-1])
	}
	for i, got := range page {
		w := want[i]
		if got.ID != w.ID || got.DocDigest != w.DocDigest || !got.SignedAt.Equal(w.SignedAt) || got.DocName != w.DocName ||
			fmt.Sprint(got.Pages) != fmt.Sprint(w.Pages) || !got.ReceivedAt.Equal(w.SignedAt.Add(time.Minute)) {
			t.Fatalf("record %d after the migration: %+v, want %+v", i, got, w)
		}
		if g, err := st.GetRecord(ctx, "org-a", w.ID); err != nil || g.ID != w.ID {
			t.Fatalf("GetRecord %s: %v %v", w.ID, g, err)
		}
	}
	if g, err := st.GetRecord(ctx, "org-b", want[0].ID); err != nil || g.OrgID != "org-b" {
		t.Fatalf("org-b's record after the migration: %v %v", g, err)
	}
	// The migrated ids are claimed: a retry is a duplicate, another body a conflict, even
	// with a signing time in another month (another partition).
	moved := want[1]
	moved.SignedAt = moved.SignedAt.AddDate(0, 2, 0)
	res, err := st.InsertRecords(ctx, "org-a", []api.Record{want[0], moved, testRecord("new-1", base)}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(res) != "[duplicate conflict created]" {
		t.Fatalf("after the migration: %v, want [duplicate conflict created]", res)
	}
	// New records continue the old sequence.
	page, _, err = st.ListRecords(ctx, "org-a", RecordQuery{After: last})
	if err != nil || len(page) != 1 || page[0].ID != "new-1" {
		t.Fatalf("records after the migrated ones: %v %v", page, err)
	}
}

// TestDuplicateIDsAcrossPartitions pushes one id with signing times in different months, from
// several goroutines at once: exactly one is created, the rest are conflicts (different body)
// or duplicates (same body), and the log holds the id once.
func TestDuplicateIDsAcrossPartitions(t *testing.T) {
	ctx := context.Background()
	st, err := openTo(ctx, pgDSN(t), len(migrations))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	months := []time.Time{
		time.Date(2024, 3, 5, 0, 0, 0, 0, time.UTC), time.Date(2025, 7, 9, 0, 0, 0, 0, time.UTC),
		time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 1, 31, 23, 59, 59, 999999000, time.UTC),
	}
	results := make([][]string, len(months)*2)
	var wg sync.WaitGroup
	for k := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var batch []api.Record
			for i := 0; i < 200; i++ {
				batch = append(batch, testRecord(fmt.Sprintf("same-%03d", i), months[k%len(months)]))
			}
			r, err := st.InsertRecords(ctx, "org-a", batch, time.Now())
			if err != nil {
				t.Error(err)
				return
			}
			results[k] = r
		}()
	}
	wg.Wait()
	for i := 0; i < 200; i++ {
		count := map[string]int{}
		for k := range results {
			count[results[k][i]]++
		}
		if count[api.ResultCreated] != 1 || count[api.ResultDuplicate] != 1 || count[api.ResultConflict] != len(results)-2 {
			t.Fatalf("id same-%03d: %v, want 1 created, 1 duplicate, %d conflicts", i, count, len(results)-2)
		}
	}
	var n int
	if err := st.db.QueryRowContext(ctx, `SELECT count(*) FROM records WHERE org_id = 'org-a'`).Scan(&n); err != nil || n != 200 {
		t.Fatalf("the log holds %d records (%v), want 200", n, err)
	}
}

// TestTimeBoundedQueriesPrunePartitions checks with EXPLAIN that a query bounded by signing
// time reads only the partitions of its months, and that retiring months detaches them
// while their ids stay claimed.
func TestTimeBoundedQueriesPrunePartitions(t *testing.T) {
	ctx := context.Background()
	st, err := openTo(ctx, pgDSN(t), len(migrations))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	var batch []api.Record
	for m := 0; m < 12; m++ {
		batch = append(batch, testRecord(fmt.Sprintf("m%02d", m), time.Date(2024, time.Month(m+1), 10, 0, 0, 0, 0, time.UTC)))
	}
	if _, err := st.InsertRecords(ctx, "org-a", batch, time.Now()); err != nil {
		t.Fatal(err)
	}
	parts, err := st.RecordPartitions(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(parts) < 12+PartitionAhead {
		t.Fatalf("%d partitions, want the 12 months of 2024 and the ones opened ahead", len(parts))
	}
	explain := func(q RecordQuery) string {
		query, args := listRecordsQuery("org-a", q)
		rows, err := st.db.QueryContext(ctx, `EXPLAIN `+query, args...)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var b strings.Builder
		for rows.Next() {
			var line string
			rows.Scan(&line)
			b.WriteString(line + "\n")
		}
		return b.String()
	}
	plan := explain(RecordQuery{Limit: 100, SignedFrom: time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC), SignedBefore: time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)})
	scanned := map[string]bool{}
	for _, p := range parts {
		if strings.Contains(plan, p.Name+" ") || strings.Contains(plan, p.Name+"\n") || strings.Contains(plan, " on "+p.Name) {
			scanned[p.Name] = true
		}
	}
	if len(scanned) != 2 || !scanned["records_p202403"] || !scanned["records_p202404"] {
		t.Fatalf("a query for March-April 2024 reads partitions %v, want records_p202403 and records_p202404 only:\n%s", scanned, plan)
	}
	if unbounded := explain(RecordQuery{Limit: 100}); !strings.Contains(unbounded, "records_p202401") || !strings.Contains(unbounded, "records_p202412") {
		t.Fatalf("an unbounded query should read every partition:\n%s", unbounded)
	}
	page, _, err := st.ListRecords(ctx, "org-a", RecordQuery{SignedFrom: time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC), SignedBefore: time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)})
	if err != nil || len(page) != 2 || page[0].ID != "m02" || page[1].ID != "m03" {
		t.Fatalf("March-April 2024: %v %v", page, err)
	}

	retired, err := st.RetireRecords(ctx, time.Date(2024, 7, 1, 0, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	if len(retired) != 6 {
		t.Fatalf("retired %v, want the six months January-June 2024", retired)
	}
	page, _, err = st.ListRecords(ctx, "org-a", RecordQuery{})
	if err != nil || len(page) != 6 || page[0].ID != "m06" {
		t.Fatalf("after retiring January-June: %v %v", page, err)
	}
	var kept int
	if err := st.db.QueryRowContext(ctx, `SELECT count(*) FROM `+retired[0]).Scan(&kept); err != nil || kept != 1 {
		t.Fatalf("the detached table %s keeps %d rows (%v), want 1", retired[0], kept, err)
	}
	// A retired record pushed again is recognised, not stored again; a new record of a
	// retired month opens a fresh partition rather than being refused.
	res, err := st.InsertRecords(ctx, "org-a", []api.Record{batch[0], testRecord("late", batch[0].SignedAt)}, time.Now())
	if err != nil || fmt.Sprint(res) != "[duplicate created]" {
		t.Fatalf("pushing into a retired month: %v %v, want [duplicate created]", res, err)
	}
	if r, err := st.GetRecord(ctx, "org-a", "late"); err != nil || r.ID != "late" {
		t.Fatalf("the late record: %v %v", r, err)
	}
}
