# The two commands a new user needs: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
HOST   ?= 127.0.0.1
PORT   ?= 8000
# Browser origins `make run` allows (local frontend dev servers: Vite, CRA/Next, Vue CLI).
DEV_ORIGINS ?= http://localhost:5173,http://127.0.0.1:5173,http://localhost:3000,http://127.0.0.1:3000,http://localhost:8080,http://127.0.0.1:8080

.PHONY: install run test lint format openapi clean bench

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11+ is required"'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $@

run: install
	$(BIN)/anjian db upgrade
	$(BIN)/anjian demo --if-empty --print-accounts
	@echo "API:  http://$(HOST):$(PORT)/api/v1   docs: http://$(HOST):$(PORT)/docs"
	ANJIAN_CORS_ORIGINS="$${ANJIAN_CORS_ORIGINS-$(DEV_ORIGINS)}" \
	ANJIAN_WEBHOOK_ALLOW_HTTP="$${ANJIAN_WEBHOOK_ALLOW_HTTP-true}" \
	$(BIN)/anjian serve --host $(HOST) --port $(PORT)

test: install
	$(BIN)/pytest -q

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

openapi: install
	$(BIN)/anjian openapi --output openapi.json

# Service against a bare Starlette+asyncpg reference sending the same SQL (issue 10): loads
# anjian_bench_make once (BENCH_HAZARDS, default 1000000), wrk rounds of BENCH_DURATION seconds;
# prints the table and writes bench/results/latest.json. Quick: BENCH_HAZARDS=100000 make bench
bench: install
	$(BIN)/python -m bench.run

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .hypothesis
