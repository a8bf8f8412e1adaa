# SealDesk — the two commands a person needs are `make run` and `make test`.
# Both install what is missing (Debian/Ubuntu packages via scripts/install-deps.sh) first.

GO       ?= go
BIN      := bin
DEMO     ?= demo
export CGO_ENABLED ?= 1
# Cached compiles of go-pdfium's WebAssembly engine (see document/pdfium).
export SEALDESK_CACHE ?= $(CURDIR)/.cache

.PHONY: run test build build-nocgo cross deps deps-run demo fuzz bench lint clean package

run: deps-run build
	@scripts/run-demo.sh "$(DEMO)"

test: deps
	@scripts/test.sh

deps:
	@scripts/install-deps.sh test

deps-run:
	@scripts/install-deps.sh run

build:
	$(GO) build -o $(BIN)/ ./cmd/...

# sealctl and sealhub also build without cgo (PKCS#11 then says it is not built in), so they
# cross-compile to any OS; the GUI needs cgo.
build-nocgo:
	CGO_ENABLED=0 $(GO) build -o $(BIN)/nocgo/ ./cmd/sealctl ./cmd/sealhub

cross:
	CGO_ENABLED=0 GOOS=windows GOARCH=amd64 $(GO) build -o $(BIN)/windows-amd64/ ./cmd/sealctl ./cmd/sealhub
	CGO_ENABLED=0 GOOS=linux GOARCH=arm64 $(GO) build -o $(BIN)/linux-arm64/ ./cmd/sealctl ./cmd/sealhub
	CGO_ENABLED=0 GOOS=darwin GOARCH=arm64 $(GO) build -o $(BIN)/darwin-arm64/ ./cmd/sealctl ./cmd/sealhub

demo: build
	$(BIN)/sealctl demo init --dir $(DEMO)

# Short fuzz runs of every fuzz target (FUZZTIME per target).
FUZZTIME ?= 20s
fuzz:
	@scripts/fuzz.sh $(FUZZTIME)

# Benchmarks; compare runs with benchstat.
bench: deps
	$(GO) test -run '^$$' -bench . -benchmem -count 5 ./... | tee bench.txt

# What people install, then checked the way each platform would (packaging/README.md): the
# signed Windows installer, .deb for amd64/arm64, the UOS app-store .deb, tar.xz (amd64, arm64,
# loong64) into dist/. Installs its own tools (scripts/install-deps.sh package); heavy
# (cross toolchains, three cgo GUI builds, wine, qemu): never part of test.
package:
	@scripts/package.sh

lint:
	$(GO) vet ./...

clean:
	rm -rf $(BIN) .cache dist build/package

# The signing log at province scale on PostgreSQL: 1, 5 and 20 million records through the
# ingest API, latency at a fixed rate, database size (docs/SCALE.md). Not part of make test.
.PHONY: bench-scale
bench-scale: deps
	@scripts/bench-scale.sh
