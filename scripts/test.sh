#!/usr/bin/env bash
# Everything `make test` runs, in order. Fails on the first broken step.
set -euo pipefail
cd "$(dirname "$0")/.."
export CI=${CI:-}
export SEALDESK_CACHE=${SEALDESK_CACHE:-$PWD/.cache}
step() { printf '\n=== %s\n' "$*"; }

step "go vet"
go vet ./...

step "build (cgo) and build without cgo"
go build -o bin/ ./cmd/...
CGO_ENABLED=0 go build -o bin/nocgo/ ./cmd/sealctl ./cmd/sealhub
step "cross-compile sealctl and sealhub for windows/amd64"
CGO_ENABLED=0 GOOS=windows GOARCH=amd64 go build -o /dev/null ./cmd/sealctl
CGO_ENABLED=0 GOOS=windows GOARCH=amd64 go build -o /dev/null ./cmd/sealhub

step "go test (with a throw-away PostgreSQL for the hub, under Xvfb for the GUI end-to-end test)"
export SEALDESK_BIN=$PWD/bin
gotest=(go test -count=1 -timeout 25m ./...)
run() {
  if command -v xvfb-run >/dev/null; then
    scripts/with-postgres.sh xvfb-run -a -s "-screen 0 1280x800x24" "$@"
  else
    if [ "$CI" = true ]; then echo "xvfb-run missing" >&2; exit 1; fi
    scripts/with-postgres.sh "$@"
  fi
}
run "${gotest[@]}"
