# The two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3
HOST ?= 127.0.0.1
PORT ?= 8000
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
JS_DIR := tests/independent/js
JS_DEPS := $(JS_DIR)/node_modules/.package-lock.json

.PHONY: run test bench bench-full drill wrk system-deps lint typecheck check clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test,dev]'
	touch $(STAMP)

# Links and QR codes in certificates point where the server is: the port `make run` was given
# (on this machine's address when serving on every interface), unless LEDGER_PUBLIC_URL is set.
PUBLIC_HOST := $(if $(filter 0.0.0.0 ::,$(HOST)),127.0.0.1,$(HOST))
run: export LEDGER_PUBLIC_URL := $(or $(LEDGER_PUBLIC_URL),http://$(PUBLIC_HOST):$(PORT))

run: $(STAMP)
	$(BIN)/ledger keys init --if-missing
	$(BIN)/ledger demo --if-empty
	$(BIN)/ledger demo-admin
	exec $(BIN)/ledger serve --host $(HOST) --port $(PORT)

# Four test processes on two cores: much of the suite waits on servers, browsers and databases.
# Each module runs whole, in order, in one process: some tell a story across their tests.
# `make test PYTEST_ARGS=` runs it in one process.
PYTEST_ARGS ?= -n 4 --dist loadscope
test: $(STAMP) system-deps $(JS_DEPS)
	$(BIN)/ruff check src projections tests bench
	$(BIN)/mypy
	$(BIN)/python -m pytest $(PYTEST_ARGS)

bench: $(STAMP) wrk
	$(BIN)/python -m bench.run $(BENCH_ARGS)

# The full run behind the committed results: one million records per backend (about 40 min).
bench-full: $(STAMP) wrk
	$(BIN)/python -m bench.run --events 1000000 $(BENCH_ARGS)

# The standing drill on both backends (kill -9 cycles, a PostgreSQL restart, a full disk, 64
# writers on one stream, slow clients): short by default (about 4 min), `make drill DRILL=full`
# for the full run behind the committed results (about 12 min). Needs root for the tmpfs and the
# private PostgreSQL cluster.
drill: $(STAMP)
	$(BIN)/python -m bench.drill $(if $(filter full,$(DRILL)),--full) $(DRILL_ARGS)

# Debian's wrk drives the verification load when it can be installed; otherwise the bench uses
# its own async load generator (bench/load.py) and says so in the results.
wrk:
	@command -v wrk >/dev/null || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && \
		{ apt-get install -y -qq wrk >/dev/null 2>&1 || \
		{ apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq wrk >/dev/null 2>&1; }; }; } || \
		echo "wrk is not installed: using bench/load.py for the verification load"

# The independent credential check runs Digital Bazaar's verifiers from npm: `npm ci` when
# node_modules is missing or older than the committed lock (the test fails under CI without it).
$(JS_DEPS): $(JS_DIR)/package-lock.json
	@cd $(JS_DIR) && npm ci --no-audit --no-fund --loglevel=error || \
		echo "npm ci failed in $(JS_DIR): the independent verifier test cannot run"

# Browser, PDF and QR tests need Debian's chromium, poppler-utils, zbar-tools and the DejaVu
# fonts (the PDF's and the badges' letters); the deployment checks need systemd
# (systemd-analyze) and caddy; the independent credential check needs Node.js and npm.
# Installed here when missing (as root).
SYSTEM_TOOLS := chromium pdftoppm zbarimg systemd-analyze caddy curl jq node npm
FONT := /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf
system-deps:
	@missing=0; for tool in $(SYSTEM_TOOLS); do command -v $$tool >/dev/null || missing=1; done; \
	[ -f $(FONT) ] || missing=1; \
	if [ $$missing = 1 ]; then \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
				chromium poppler-utils zbar-tools fonts-dejavu-core systemd caddy curl jq \
				$$(command -v npm >/dev/null || echo nodejs npm) >/dev/null; \
		else \
			echo "missing system tools: install Debian's chromium poppler-utils zbar-tools fonts-dejavu-core systemd caddy curl jq nodejs npm"; \
		fi; \
	fi

lint: $(STAMP)
	$(BIN)/ruff check src projections tests bench
	$(BIN)/ruff format --check src projections tests bench

typecheck: $(STAMP)
	$(BIN)/mypy

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache
