#!/usr/bin/env bash
# make bench-scale: loads the hub's signing log through its HTTP ingest API to 1, 5 and 20
# million records on a throw-away PostgreSQL set up like a production server (fsync, full page
# writes and synchronous commit on) and reports ingest records/s, p50/p99 of status, record
# lookup and verify at a fixed rate, the database size, and the plan of a one-month query.
# Not part of make test (about 20-30 minutes on 2 cores). See docs/SCALE.md.
# Knobs: SCALE_SIZES (1000000,5000000,20000000), SCALE_CLIENTS (6), SCALE_RATE (1000),
# SCALE_SECONDS (10), SCALE_MONTHS (24). The report is also written to bench-scale.txt.
set -euo pipefail
cd "$(dirname "$0")/.."
export SEALDESK_BENCH_SCALE=1
export SEALDESK_PG_OPTS="-c fsync=on -c synchronous_commit=on -c full_page_writes=on -c shared_buffers=2GB \
 -c effective_cache_size=8GB -c max_wal_size=16GB -c checkpoint_timeout=15min -c wal_compression=on \
 -c max_connections=200 -c work_mem=16MB -c maintenance_work_mem=512MB -c autovacuum_vacuum_cost_limit=2000"
echo "bench-scale: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg) at start"
scripts/with-postgres.sh go test -count=1 -run '^$' -bench '^BenchmarkScale$' -benchtime 1x -timeout 90m ./hub/server 2>&1 | tee bench-scale.txt
echo "bench-scale: load average $(cut -d' ' -f1-3 /proc/loadavg) at the end" | tee -a bench-scale.txt
