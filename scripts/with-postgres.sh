#!/usr/bin/env bash
# Runs a command with a throw-away PostgreSQL server on loopback, for the hub's PostgreSQL
# tests, and stops it afterwards. Exports SEALDESK_TEST_POSTGRES (a postgres:// URL).
# In CI (CI=true) a missing PostgreSQL is an error; elsewhere the command runs without it
# (the PostgreSQL tests then skip, saying why). $SEALDESK_PG_OPTS adds or overrides server
# settings ("-c fsync=on ..."; scripts/bench-scale.sh uses it).
set -euo pipefail
bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
if [ -z "$bindir" ] || [ ! -x "$bindir/initdb" ]; then
  if [ "${CI:-}" = true ]; then echo "with-postgres: PostgreSQL server binaries not found (install postgresql)" >&2; exit 1; fi
  echo "with-postgres: PostgreSQL not installed; running without it" >&2
  exec "$@"
fi
dir=$(mktemp -d /tmp/sealdesk-pg.XXXXXX)
port=$(( 20000 + RANDOM % 20000 ))
as_pg=()
if [ "$(id -u)" = 0 ]; then
  # PostgreSQL refuses to run as root.
  chown postgres "$dir"; as_pg=(runuser -u postgres --)
fi
"${as_pg[@]}" "$bindir/initdb" -D "$dir/data" -U sealdesk --auth=trust -E UTF8 >"$dir/initdb.log" 2>&1 \
  || { cat "$dir/initdb.log" >&2; exit 1; }
"${as_pg[@]}" "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
  -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=off -c synchronous_commit=off -c full_page_writes=off ${SEALDESK_PG_OPTS:-}" start >/dev/null \
  || { cat "$dir/server.log" >&2; exit 1; }
stop() { "${as_pg[@]}" "$bindir/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true; rm -rf "$dir"; }
trap stop EXIT
"${as_pg[@]}" "$bindir/createdb" -h 127.0.0.1 -p "$port" -U sealdesk sealdesk_test
export SEALDESK_TEST_POSTGRES="postgres://sealdesk@127.0.0.1:$port/sealdesk_test?sslmode=disable"
echo "with-postgres: PostgreSQL $("$bindir/postgres" --version | awk '{print $3}') on 127.0.0.1:$port"
set +e
"$@"
rc=$?
exit $rc
