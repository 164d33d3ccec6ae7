# cdcd: the two commands that matter are `make test` and `make demo` (see README.md).
GO ?= go
export PATH := /usr/local/go/bin:$(PATH)

.PHONY: test demo bench deps vet build fuzz

## test: install missing database servers, then run every test (unit and integration, servers included)
test: deps
	$(GO) vet ./...
	rm -f .test-report
	CDCD_TEST_REPORT=$(CURDIR)/.test-report CDCD_TEST_REQUIRE_SERVERS=1 $(GO) test -count=1 -timeout 45m ./...
	@echo "== figures measured by the integration tests (crash tests, comparisons):"; cat .test-report 2>/dev/null || true

## demo: start private servers and run cdcd on a sample workload
demo: deps
	$(GO) run ./internal/demo

## bench: the end-to-end throughput, latency and memory benchmark
bench: deps
	$(GO) run ./internal/bench

## deps: install PostgreSQL, MariaDB and ClickHouse from Debian when absent
deps:
	./scripts/install-deps.sh

vet:
	$(GO) vet ./...

build:
	$(GO) build -o bin/cdcd ./cmd/cdcd
