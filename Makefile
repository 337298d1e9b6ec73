# Ancore developer entry points. `make test` is what CI runs (.ci/run) and must
# pass on a fresh Debian 12 clone with Go installed; what else it needs (a C
# compiler for the race detector, Chromium, GTK/WebKitGTK and Xvfb for the
# window) it installs with apt when run as root.

GO ?= go
# gofmt from the same toolchain as $(GO), so it works when only `go` is on PATH.
GOFMT ?= $(shell $(GO) env GOROOT)/bin/gofmt
FUZZTIME ?= 30s
ARGS ?=

SHELL := /bin/sh
.SHELLFLAGS := -ec

# Every .go file except dependencies (node_modules) and testdata, which the Go
# tool ignores and which may hold deliberately malformed inputs.
GO_FILES = find . \( -name node_modules -o -name testdata -o -name .git \) -prune -o -name '*.go' -print

.PHONY: relay deps-pg test test-go test-media deps-media test-ui test-e2e test-smoke deps-go deps-ui deps-e2e deps-desktop deps-smoke fmt-check vet lint bench fuzz run build desktop ui

FRONTEND = desktop/frontend

# The desktop window (package desktop): Wails v2 on GTK 3 and WebKitGTK 4.1.
# Without webkit2_41 POST bodies to Wails' asset server are lost; without
# production (or dev) the binary builds but refuses to run (docs/operations.md,
# "Building the desktop window").
DESKTOP_TAGS = desktop,production,webkit2_41
# What the programs a person runs are built with: media gives calls their
# codec and the machine's microphone and speaker (node/media/device), so
# those builds need deps-media (libopus-dev). The relay is built without it.
NODE_TAGS = media
DESKTOP_BUILD = $(GO) build -tags $(DESKTOP_TAGS),$(NODE_TAGS) -o bin/ancore ./cmd/ancore

test: test-go test-media test-ui test-e2e test-smoke

test-go: deps-go deps-pg fmt-check vet
	$(GO) test -race -shuffle=on -timeout 15m ./...

# The race detector needs cgo, so a C compiler.
deps-go:
	@if ! command -v gcc >/dev/null 2>&1; then \
		if [ "$$(id -u)" = 0 ]; then \
			echo "installing gcc (the race detector needs cgo)"; \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq gcc libc6-dev; \
		else \
			echo "gcc is missing: run 'sudo apt-get install gcc' (the race detector needs cgo)"; exit 1; \
		fi; \
	fi

# The relay's tests run against a real PostgreSQL at 127.0.0.1:5432 (user
# postgres, trust authentication; each test makes its own database;
# ANCORE_TEST_PG names another server). As root, a stopped cluster is
# started, and a machine without PostgreSQL gets Debian's, trusting local
# TCP connections (a test machine's setting, not a production one).
deps-pg:
	@if command -v pg_isready >/dev/null 2>&1 && pg_isready -q -h 127.0.0.1 -p 5432; then exit 0; fi; \
	if [ -n "$$ANCORE_TEST_PG" ]; then exit 0; fi; \
	if [ "$$(id -u)" != 0 ]; then echo "PostgreSQL is not reachable at 127.0.0.1:5432: start it, or set ANCORE_TEST_PG"; exit 1; fi; \
	if ! command -v pg_ctlcluster >/dev/null 2>&1; then \
		echo "installing PostgreSQL for the relay's tests"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql; \
		v=$$(ls /etc/postgresql); \
		sed -i '1i host all postgres 127.0.0.1/32 trust' /etc/postgresql/$$v/main/pg_hba.conf; \
	fi; \
	pg_ctlcluster --skip-systemctl-redirect $$(ls /etc/postgresql) main start || true; \
	for i in 1 2 3 4 5 6 7 8 9 10; do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done; \
	pg_isready -h 127.0.0.1 -p 5432; \
	psql -h 127.0.0.1 -U postgres -tc "SELECT 1 FROM pg_database WHERE datname = 'test'" | grep -q 1 || psql -h 127.0.0.1 -U postgres -c "CREATE DATABASE test"

# The UI's dependencies, from the committed lockfile; Node 20 and npm come
# with the machine.
deps-ui:
	@command -v npm >/dev/null 2>&1 || { echo "npm is missing: install Node.js 20"; exit 1; }
	cd $(FRONTEND) && npm ci --no-audit --no-fund --loglevel=error

# Type-check and unit-test the UI (Vitest).
test-ui: deps-ui
	cd $(FRONTEND) && npm run typecheck && npm test

# End to end in Chromium: two real headless nodes, two browser contexts
# (desktop/frontend/e2e; screenshots in build/e2e): the chat (run.mjs), then
# the relay's flows beside bin/ancore-relay on a fresh PostgreSQL database,
# dropped at the end (relay.mjs; build/e2e/relay-*), then every message of
# a channel seen once while scrolling its history (scrollback.mjs; at
# 800x600, where rows wrap and differ from the list's estimate most).
test-e2e: ui relay deps-e2e deps-pg deps-media
	cd $(FRONTEND) && node e2e/run.mjs && ANCORE_RELAY_BIN=$(CURDIR)/bin/ancore-relay node e2e/relay.mjs \
		&& node e2e/scrollback.mjs --viewport 800x600

# Debian's Chromium for the end-to-end test (Playwright cannot download its own).
deps-e2e:
	@if [ ! -x /usr/bin/chromium ]; then \
		if [ "$$(id -u)" = 0 ]; then \
			echo "installing chromium (the end-to-end test drives it)"; \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-color-emoji; \
		else \
			echo "chromium is missing: run 'sudo apt-get install chromium'"; exit 1; \
		fi; \
	fi

# The desktop binary in a real window under Xvfb: the first-run screen, a
# message typed into the composer, a second launch, a restart that restores
# the window (desktop/smoke_test.go; screenshots and logs in build/smoke).
# Also runs the window's unit tests, which need the desktop tags too.
test-smoke: ui deps-desktop deps-smoke deps-media
	$(DESKTOP_BUILD)
	ANCORE_BIN=$(CURDIR)/bin/ancore $(GO) test -race -tags $(DESKTOP_TAGS) -count=1 -timeout 5m ./desktop/...

# apt-install PACKAGES,WHY: installs those of the Debian PACKAGES that are
# missing, with apt when root; otherwise says what to install.
define apt-install
missing=""; \
for p in $(1); do \
	dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'ok installed' || missing="$$missing $$p"; \
done; \
if [ -n "$$missing" ]; then \
	if [ "$$(id -u)" = 0 ]; then \
		echo "installing$$missing ($(2))"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	else \
		echo "missing Debian packages: run 'sudo apt-get install$$missing' ($(2))"; exit 1; \
	fi; \
fi
endef

# Calls' audio engine with its codec and devices: node/media built with the
# media tag links libopus through cgo, and node/media/device loads the sound
# system through malgo at run time, its tests on the null device (without
# the tag it builds pure Go and calls are unavailable). test-go has run its
# untagged tests and vetted its untagged files; these are the rest, with
# node/app's end-to-end call test (two nodes, the calls feature,
# node/media's sessions), and the node's command vetted as it is built.
test-media: deps-go deps-media
	$(GO) vet -tags media ./node/media/... ./node/app/ ./cmd/ancore/
	$(GO) test -race -shuffle=on -tags media -timeout 10m ./node/media/... ./node/app/

deps-media:
	@$(call apt-install,libopus-dev gcc libc6-dev,calls encode and decode Opus with libopus)

deps-desktop:
	@$(call apt-install,libgtk-3-dev libwebkit2gtk-4.1-dev pkg-config gcc libc6-dev,the window builds against GTK and WebKitGTK)

deps-smoke:
	@$(call apt-install,xvfb xdotool imagemagick,the smoke test runs the window under Xvfb)

# Build the UI into desktop/ui/static/app, where the binary embeds it.
ui: deps-ui
	cd $(FRONTEND) && npm run build

fmt-check:
	@unformatted=$$($(GO_FILES) | xargs -r $(GOFMT) -l); \
	if [ -n "$$unformatted" ]; then \
		echo "gofmt -l reports unformatted files (run gofmt -w on them):"; \
		echo "$$unformatted"; \
		exit 1; \
	fi

vet:
	$(GO) vet ./...

lint: fmt-check vet
	@if command -v staticcheck >/dev/null 2>&1; then \
		echo "staticcheck ./..."; staticcheck ./...; \
	else \
		echo "staticcheck not on PATH; skipped"; \
	fi

# Benchmarks are fixed-size workloads that report custom metrics, so one
# iteration each is the measurement.
# With the media tag, so that the calls' benchmarks have their codec.
bench: deps-go deps-media
	@$(GO) version; uname -srm; echo "cpus: $$(nproc)"
	$(GO) test -run '^$$' -bench . -benchtime 1x -timeout 60m -tags media ./...
	@echo "Record these results with the command and machine in docs/benchmarks.md."

# `go test -fuzz` takes one package and one target at a time; with the
# media tag, which node/media's codec fuzz target needs.
fuzz: deps-go deps-media
	@targets=$$(grep -r -o --include='*_test.go' --exclude-dir=node_modules --exclude-dir=.git \
		'^func Fuzz[A-Za-z0-9_]*' . | sed -E 's|^(.*)/[^/]*:func (Fuzz[A-Za-z0-9_]*)$$|\1:\2|' | sort -u); \
	if [ -z "$$targets" ]; then echo "no fuzz targets found"; exit 0; fi; \
	for target in $$targets; do \
		dir=$${target%%:*}; name=$${target##*:}; \
		echo "$(GO) test -tags media -run '^\$$' -fuzz '^$$name\$$' -fuzztime $(FUZZTIME) $$dir"; \
		$(GO) test -tags media -run '^$$' -fuzz "^$$name\$$" -fuzztime $(FUZZTIME) "$$dir"; \
	done

# With a display, the desktop binary in its window; without one, a headless
# node that prints the address to open in a browser.
run: ui deps-media
	@if [ -n "$$DISPLAY$$WAYLAND_DISPLAY" ]; then \
		$(MAKE) --no-print-directory deps-desktop; \
		echo '$(DESKTOP_BUILD)'; $(DESKTOP_BUILD); \
		exec ./bin/ancore $(ARGS); \
	else \
		echo 'no display: running headless'; \
		exec $(GO) run -tags $(NODE_TAGS) ./cmd/ancore --headless $(ARGS); \
	fi

# bin/ancore without the window: no GTK needed, runs headless.
build: ui deps-media
	$(GO) build -tags $(NODE_TAGS) -o bin/ancore ./cmd/ancore

# bin/ancore-relay, the home relay (docs/operations.md, "Running a relay").
relay:
	$(GO) build -o bin/ancore-relay ./cmd/ancore-relay

# bin/ancore with the window.
desktop: ui deps-desktop deps-media
	$(DESKTOP_BUILD)

# The web UI's performance in headless Chromium (issue 6): opening a channel
# of 100,000 messages, scrolling it (at most 200 message rows in the DOM, no
# long task over 100 ms), the gzip size of the built JS, screenshots in both
# themes in build/perf (desktop/frontend/e2e/perf.mjs). The 100k-message node
# is built on first use under $TMPDIR/ancore-bench/ui-100k-v1 and reused.
# BENCH_UI_ARGS=--full scrolls to the oldest message (about 10 minutes).
# Record the results in docs/benchmarks.md.
BENCH_UI_ARGS ?=
.PHONY: bench-ui
bench-ui: ui deps-media
	cd $(FRONTEND) && node e2e/perf.mjs $(BENCH_UI_ARGS)
