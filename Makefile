# The two commands: `make run` (whole system with demo data) and `make test` (whole suite).
# Both use DATABASE_URL / REDIS_URL when set, else embedded PostgreSQL and Redis in .data/.

PYTHON_BOOTSTRAP ?= $(shell command -v python3.11 || command -v python3)
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: run test lint typecheck check stop install migrate seed bench

$(STAMP): requirements.txt requirements-dev.txt
	test -x $(PY) || $(PYTHON_BOOTSTRAP) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(PY) -m devtools run

test: $(STAMP)
	$(PY) -m devtools test $(ARGS)

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports

typecheck: $(STAMP)
	DATABASE_URL=postgres://localhost/typecheck REDIS_URL=redis://localhost:6379/0 SECRET_KEY=typecheck \
		$(VENV)/bin/mypy .

.PHONY: schema
# openapi.yaml, the committed API schema (tests/platform fails when the code's schema differs from it).
schema: $(STAMP)
	DATABASE_URL=postgres://localhost/schema REDIS_URL=redis://localhost:6379/0 SECRET_KEY=schema DEBUG=0 \
		$(PY) manage.py spectacular --lang en --validate --fail-on-warn --file openapi.yaml

check: lint typecheck test

migrate: $(STAMP)
	$(PY) -m devtools manage migrate

seed: $(STAMP)
	$(PY) -m devtools manage seed_demo

stop: $(STAMP)
	$(PY) -m devtools stop

.PHONY: lock
# The hashed lock file the Dockerfile and CI's production check install from (pip-tools). Pins already in
# it are kept; add --upgrade to move them. Check it with: pip install --require-hashes -r requirements.lock
lock: $(STAMP)
	$(VENV)/bin/pip-compile --quiet --generate-hashes --allow-unsafe --strip-extras \
		--no-emit-index-url --no-emit-find-links --output-file requirements.lock requirements.txt
