# medid: the targets a newcomer can guess.
#   make run    start a registry node on its embedded default and run the demo against it
#   make test   set up a fresh machine, then vet, govulncheck, every test and the README walkthrough (what CI runs)
SHELL := /bin/bash
GO ?= go
BIN := $(CURDIR)/bin
VULNDB ?= $(abspath $(CURDIR)/../shared/vulndb)
REGISTRY_HOME ?= $(HOME)/.medid/registryd
HTTP ?= 127.0.0.1:8080
P2P ?= 127.0.0.1:26656

.PHONY: all build run demo app test unit race vet vuln lint bench bench-ledger fuzz soak faults setup screenshots clean walkthrough

all: build

setup:
	@.ci/setup

# The command-line tools: medid, registryd, medid-loadtest (pure Go). The
# wallet app (cmd/wallet, cgo + GL) is built by `make app` only, so a
# first `make run` on a fresh machine does not wait for the GUI toolkit.
build:
	$(GO) build -o $(BIN)/ ./cmd/medid ./cmd/registryd ./cmd/medid-loadtest

# The main job on its embedded default: one validator under $(REGISTRY_HOME),
# its HTTP API on $(HTTP), then the demo runs through it. Ctrl-C stops the node;
# `make run` again restarts it from the same home with nothing lost.
run: build
	@set -m; $(BIN)/registryd --home "$(REGISTRY_HOME)" --http $(HTTP) --p2p $(P2P) & pid=$$!; \
	trap 'kill -TERM $$pid 2>/dev/null; wait $$pid' EXIT INT TERM; \
	for i in $$(seq 1 120); do curl -fsS http://$(HTTP)/readyz >/dev/null 2>&1 && break; \
	  kill -0 $$pid 2>/dev/null || exit 1; sleep 0.5; done; \
	$(BIN)/medid demo --registry http://$(HTTP) --governance-key "$(REGISTRY_HOME)/governance.jwk" && \
	echo && echo "registryd is running on http://$(HTTP) (home $(REGISTRY_HOME)); Ctrl-C stops it." && wait $$pid

# The patient's wallet app (a real window: needs a display and the GL/X
# packages .ci/setup installs).
app: setup
	$(GO) run ./cmd/wallet

# Screenshots of the real app under Xvfb into docs/screenshots/.
screenshots:
	.ci/screenshots.sh

# The demo alone, with no registry (local files only).
demo:
	$(GO) run ./cmd/medid demo

test: setup vet vuln unit race walkthrough

# Every command block of README.md, run as written in a fresh shell with an
# empty HOME against a `make run` of its own (internal/walkthrough says how
# blocks are written). Fails on the first command that fails or no longer
# prints what the README shows.
walkthrough: build
	$(GO) run ./internal/walkthrough/cmd/walkthrough README.md

# cmd/medid's testscripts drive the real CLI against real registries: on a
# loaded 2-core machine they can take longer than go test's default 10 min
# per package, so the limit is raised (a hung test still fails).
unit:
	$(GO) test -count=1 -timeout 30m ./...

# Packages with goroutines run again under the race detector (the GUI too:
# its screens update from background work through fyne.Do).
race:
	$(GO) test -count=1 -race -short ./credentials/... ./wallet/... ./registry/... ./app/...

vet:
	$(GO) vet ./...
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	@if ! out=$$($(GO) mod tidy -diff 2>&1); then \
	  echo "go.mod/go.sum are not tidy: run 'go mod tidy' and commit the result. What it would change:"; \
	  echo "$$out"; exit 1; fi

vuln:
	.tmp/bin/govulncheck -db file://$(VULNDB) ./...

lint: vet
	GOBIN=$(CURDIR)/.tmp/bin $(GO) install honnef.co/go/tools/cmd/staticcheck@v0.7.0
	.tmp/bin/staticcheck ./...

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./credentials/... ./registry/... ./wallet/...

# The ledger's cost per transaction (issue 19, docs/design/0022): the
# state machine's node path, one in-process validator, four in-process
# validators, 1/4/7 validator processes and their latency under 50/80/90%
# of peak load, each in sig-equivalents per tx; then the PNG plots in
# docs/benchmarks/ (internal/benchplot, gonum/plot). Takes ~15 minutes on
# a quiet 2-core machine; run nothing else meanwhile.
BENCH_LABEL ?= after
bench-ledger:
	rm -rf .bench-ledger && mkdir -p .bench-ledger
	$(GO) test ./registry/machine -run '^$$' -bench 'BenchmarkNodePathDIDCreate$$' -benchtime 8000x -count 3
	MEDID_BENCH_RESULTS=$(CURDIR)/.bench-ledger $(GO) test ./registry/node -run '^$$' -timeout 60m \
	  -bench 'BenchmarkCommitDIDCreate$$|BenchmarkCommitDIDCreate4Nodes$$|BenchmarkCommitDIDCreateProcs$$|BenchmarkCommitLatencyProcs' \
	  -benchtime 8000x -count 3
	$(GO) run ./internal/benchplot -runs .bench-ledger -label $(BENCH_LABEL) -history docs/benchmarks/ledger-runs.json -out docs/benchmarks

# Short fuzzing of every parser of untrusted input (the seed corpora also run in `make test`).
# FUZZMINIMIZE bounds how long each new interesting input is minimized
# (Go's default is 60 s each): in the test binaries that link CometBFT or
# the wallet, one call costs about a millisecond, and unbounded
# minimization left targets idle most of their time (docs/design/0013,
# fuzzing record). A failing input is still minimized within that bound.
FUZZTIME ?= 15s
FUZZMINIMIZE ?= 100x
fuzz:
	@for pkg in $$($(GO) list ./...); do \
	  for f in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz'); do \
	    echo "== $$pkg $$f"; $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) -fuzzminimizetime $(FUZZMINIMIZE) $$pkg || exit 1; \
	  done; done

# The attacks of issue 11 (docs/design/0013-threat-model.md), longer and
# under load, against the real binaries on loopback only: SIGKILL at every
# step of a trail flush SOAK_ROUNDS times each, every vault attack at once
# for SOAK_DURATION, then a report of what held. `make test` runs short
# versions of the same tests.
SOAK_ROUNDS ?= 5
SOAK_DURATION ?= 60s
soak:
	set -o pipefail; MEDID_SOAK_ROUNDS=$(SOAK_ROUNDS) MEDID_SOAK_DURATION=$(SOAK_DURATION) \
	  $(GO) test -count=1 -timeout 60m -v -run 'TestTrailSurvivesSIGKILL|TestAttacksUnderLoad|TestConnectionFlood' ./cmd/registryd 2>&1 | \
	  grep -E '^(=== RUN|--- |\s+\S+_test.go:[0-9]+: (held|[0-9]+ reads)|PASS|FAIL|ok )'

# The network's faults (issue 18, docs/design/0021-network-operations.md):
# four registryd processes on loopback under a steady write load, with kill
# -9 and restart of random nodes (5 rounds), a partition, delayed links and
# a disk filling up, each lasting 20 s; after each, every acknowledged
# transaction is on every node, the blocks are identical and the recovery
# time is reported. Then a fifth node joins a network of FAULTS_DIDS DIDs
# by state sync. `make test` runs short versions of both (1,000 DIDs).
FAULTS_DIDS ?= 20000
faults:
	set -o pipefail; MEDID_FAULTS=full MEDID_STATESYNC_DIDS=$(FAULTS_DIDS) $(GO) test -count=1 -parallel 1 -timeout 60m -v \
	  -run 'TestFaults|TestFifthNodeJoinsByStateSync' ./registry/node/proctest 2>&1 | \
	  grep -E '^(=== RUN|--- |\s+\S+_test.go:[0-9]+: |PASS|FAIL|ok )'

clean:
	rm -rf $(BIN) .tmp
