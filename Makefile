# axis — see README.md. Every target works on a fresh clone.
GO         ?= go
STATICCHECK = $(GO) run honnef.co/go/tools/cmd/staticcheck@v0.8.2
FUZZTIME   ?= 1m

.PHONY: build run run-ha run-national run-h41 test lint fuzz bench bench-network profile bench-go verify-compare bench-million bench-retention testdata clean deb deb-smoke

# Starts a hub on 127.0.0.1:8080 with the demo province (Nam Định, H40);
# its bbolt file is var/axis.db. The demo VDXP system's secret is a demo one
# (internal/testgen: DemoVDXPSecret), set here unless already set.
AXIS_DEMO_VDXP_SECRET ?= demo-vdxp-secret-NOT-SECRET
export AXIS_DEMO_VDXP_SECRET
# The demo hubs follow each other's traces (trace --follow) with the demo
# admin token, the same on the three (internal/testgen: DemoAdminTokenEnv).
AXIS_DEMO_ADMIN_TOKEN ?= demo-admin-token
export AXIS_DEMO_ADMIN_TOKEN
run: build
	mkdir -p var
	bin/axisd --config testdata/demo/axis-h40.yaml

# The demo national axis (127.0.0.1:9090) and Nghệ An (H41, 127.0.0.1:8081):
# with make run, three hubs that relay to each other.
run-national: build
	mkdir -p var/national
	bin/axisd --config testdata/demo/axis-national.yaml

run-h41: build
	mkdir -p var/h41
	bin/axisd --config testdata/demo/axis-h41.yaml

# The same demo province on three axisd nodes (127.0.0.1:8080, :8081,
# :8082) over one local PostgreSQL in var/ha/pg (README: "Past one
# machine"). Needs PostgreSQL's binaries (apt-get install postgresql).
run-ha: build
	mkdir -p var/ha
	$(GO) run ./internal/cmd/runha

build:
	$(GO) build -o bin/ ./cmd/...

# Every test on the embedded default (bbolt), then the behaviour suite
# again with the store on PostgreSQL (each package that opens stores
# starts a cluster with initdb in a temp dir: internal/pgtest). The drill
# (TestDrillHA) makes its own clusters and runs in the first pass.
PG_PACKAGES = ./store/... ./axis/... ./cmd/...
test:
	$(GO) test -race ./...
	AXIS_TEST_STORE=postgres $(GO) test -race -skip '^TestDrillHA$$' $(PG_PACKAGES)

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(STATICCHECK) ./...

fuzz:
	$(GO) test ./envelope -run '^$$' -fuzz '^FuzzParse$$' -fuzztime $(FUZZTIME)
	$(GO) test ./envelope -run '^$$' -fuzz '^FuzzVerify$$' -fuzztime $(FUZZTIME)
	$(GO) test ./envelope -run '^$$' -fuzz '^FuzzParseOrganID$$' -fuzztime $(FUZZTIME)
	$(GO) test ./envelope -run '^$$' -fuzz '^FuzzReadTree$$' -fuzztime $(FUZZTIME)
	$(GO) test ./axis/vdxp -run '^$$' -fuzz '^FuzzVerify$$' -fuzztime $(FUZZTIME)
	$(GO) test ./axis/archive -run '^$$' -fuzz '^FuzzVerify$$' -fuzztime $(FUZZTIME)
	$(GO) test ./axis/tsa -run '^$$' -fuzz '^FuzzVerify$$' -fuzztime $(FUZZTIME)
	$(GO) test ./cmd/axisd -run '^$$' -fuzz '^FuzzIntakeHTTP$$' -fuzztime $(FUZZTIME) -fuzzminimizetime 2s

# The load generator's three standard scenarios against fresh hubs, then
# relay throughput H40 -> national next to the national hub's intake.
bench:
	scripts/bench.sh
	scripts/relay-bench.sh

# The country's peak hour (3,200 envelopes from 63 provinces, ~3.5 GiB)
# against one national hub on this machine: axisctl bench --network
# (scripts/bench-network.sh; about 5 minutes, ~8 GB of temp disk).
bench-network:
	scripts/bench-network.sh

# CPU and allocation profiles of axisd under the first two bench
# scenarios, kept in var/profile (scripts/profile.sh).
profile:
	scripts/profile.sh

# Go benchmarks: Verify next to bare goxmldsig, 20 KB and 2 MB.
bench-go:
	$(GO) test ./envelope ./axis -run '^$$' -bench . -benchmem -count 6

# Verify, bare goxmldsig and libxmlsec1 (the C library, through
# scripts/xmlsec-verify-bench.c, built with gcc in a temp dir) on the same
# envelopes in one run, as README's table (COUNT rounds, default 6). Needs
# gcc, pkg-config and libxmlsec1-dev.
verify-compare:
	@GO=$(GO) scripts/verify-compare.sh $(COUNT)

# The admin's questions on a store of a million documents (median and p95
# of real HTTP round trips). The store is generated once (about 10 minutes,
# about 10 GB) under var/bench-1m and reused.
MILLION ?= var/bench-1m/axis.db
bench-million:
	@[ -f $(MILLION) ] || $(GO) run ./internal/cmd/genstore -n 1000000 -out $(MILLION)
	AXIS_MILLION_STORE=$(abspath $(MILLION)) $(GO) test ./cmd/axisd -run '^$$' -bench Million -benchtime 400x -count 3 -timeout 60m

# Retention (README "Archives"): a year of a province's traffic written
# twice, one copy archived by a real hub with hot_days 90, and the open
# after a crash of each timed (cold page cache when run as root). About
# 15 minutes and 8 GB under var/retention.
bench-retention:
	$(GO) run ./internal/cmd/retainbench -days 365 -per-day 130 -size 100000 -hot-days 90 -dir var/retention

# Regenerate testdata/envelopes and testdata/hostile from the demo PKI
# (add ARGS=-pki for a new demo PKI: every signed file changes).
testdata:
	$(GO) run ./internal/cmd/gentestdata $(ARGS)

clean:
	rm -rf bin

# The Debian package dist/axis_VERSION_amd64.deb (README: "Installing on
# Debian"; deploy/nfpm.yaml says what is in it). Reproducible: -trimpath, the
# version the Go toolchain stamps from git (what `axisd --version` prints:
# internal/version reads it from the build info, hence -buildvcs, whatever
# GOFLAGS says), and SOURCE_DATE_EPOCH, the last commit's time, for every
# time in the archive: two builds of one tree are the same bytes. The first
# run downloads nfpm through the Go module proxy.
NFPM               = $(GO) run github.com/goreleaser/nfpm/v2/cmd/nfpm@v2.45.2
SOURCE_DATE_EPOCH ?= $(shell git log -1 --format=%ct 2>/dev/null || echo 0)
DEB_MAINTAINER    ?= axis maintainers <axis@localhost>
deb:
	rm -rf dist/build dist/axis_*_amd64.deb
	CGO_ENABLED=1 $(GO) build -trimpath -buildvcs=auto -o dist/build/ ./cmd/axisd ./cmd/axisctl
	@set -e; \
	v=$$($(GO) version -m dist/build/axisd | awk '$$1 == "mod" { print $$3 }'); \
	case "$$v" in ""|"(devel)") v=0.0.0~devel ;; *) v=$$(echo "$$v" | sed -e 's/^v//' -e 's/-/~/' -e 's/-/./g') ;; esac; \
	echo "nfpm: axis $$v, SOURCE_DATE_EPOCH=$(SOURCE_DATE_EPOCH)"; \
	AXIS_DEB_VERSION="$$v" AXIS_DEB_MAINTAINER='$(DEB_MAINTAINER)' SOURCE_DATE_EPOCH=$(SOURCE_DATE_EPOCH) \
		$(NFPM) package --config deploy/nfpm.yaml --packager deb --target dist/axis_$${v}_amd64.deb; \
	sha256sum dist/axis_$${v}_amd64.deb

# Builds the package, installs it on this machine, checks it, removes it
# (root; what CI runs after make test): scripts/deb-smoke.sh.
deb-smoke:
	scripts/deb-smoke.sh
