# chatd — `make run` (embedded, nothing to install but Python 3.11) and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
MOCKLLM_PORT ?= 8765
# Distributed-mode services used by `make test` (CI starts them; see .ci/run).
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/chatd
TEST_REDIS_URL ?= redis://127.0.0.1:6379/0
PYTEST_ARGS ?=

.PHONY: run test test-distributed test-embedded lint bench worker beat clean vendor-novnc

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev-installed: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@ $(VENV)/.installed

run: $(VENV)/.installed
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py ensureadmin
	@mock=$$($(BIN)/python manage.py demosetup --port $(MOCKLLM_PORT)) && \
		$(BIN)/python manage.py serve --host $(HOST) --port $(PORT) $${mock:+--mockllm-port $$mock}

test: $(VENV)/.dev-installed lint test-distributed test-embedded

lint: $(VENV)/.dev-installed
	$(BIN)/ruff check .
	$(BIN)/mypy .

# Full suite on real PostgreSQL + Redis.
test-distributed: $(VENV)/.dev-installed
	@if $(BIN)/python tests/services_up.py "$(TEST_DATABASE_URL)" "$(TEST_REDIS_URL)"; then \
		CHATD_DATA_DIR=$$(mktemp -d) DATABASE_URL="$(TEST_DATABASE_URL)" REDIS_URL="$(TEST_REDIS_URL)" \
			$(BIN)/python -m pytest $(PYTEST_ARGS); \
	elif [ -n "$$CHATD_REQUIRE_SERVICES" ]; then \
		echo "PostgreSQL/Redis unreachable and CHATD_REQUIRE_SERVICES is set" >&2; exit 1; \
	else \
		echo "!! PostgreSQL or Redis unreachable: distributed suite SKIPPED (see README)" >&2; \
	fi

# The core subset again in embedded mode: SQLite, in-memory layer, in-process workers.
test-embedded: $(VENV)/.dev-installed
	env -u DATABASE_URL -u REDIS_URL CHATD_DATA_DIR=$$(mktemp -d) $(BIN)/python -m pytest -m core $(PYTEST_ARGS)

# Streaming benchmark: mockllm + serve + Celery workers on PostgreSQL and Redis (its own database
# and Redis block; BENCH_* variables in bench/stream_bench.py). Prints figures next to their targets.
bench: $(VENV)/.dev-installed
	$(BIN)/python -m bench.stream_bench

worker: $(VENV)/.installed
	$(BIN)/celery -A config worker --loglevel INFO

beat: $(VENV)/.installed
	$(BIN)/celery -A config beat --loglevel INFO

# noVNC (the live desktop view) is vendored into static/ so `make run` needs no npm; this
# target refreshes it from the npm registry. Bump NOVNC_VERSION, run it, commit static/vendor/novnc.
NOVNC_VERSION ?= 1.7.0
vendor-novnc:
	@set -e; tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	(cd "$$tmp" && npm pack --silent @novnc/novnc@$(NOVNC_VERSION) >/dev/null && tar xzf novnc-novnc-$(NOVNC_VERSION).tgz); \
	rm -rf static/vendor/novnc && mkdir -p static/vendor/novnc; \
	cp -r "$$tmp/package/core" "$$tmp/package/vendor" "$$tmp/package/LICENSE.txt" "$$tmp/package/AUTHORS" static/vendor/novnc/; \
	echo "$(NOVNC_VERSION)" > static/vendor/novnc/VERSION; echo "noVNC $(NOVNC_VERSION) vendored into static/vendor/novnc"

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
