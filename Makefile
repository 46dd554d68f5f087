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

.PHONY: messages
# The admin's Vietnamese texts: refresh locale/vi/LC_MESSAGES/django.po from the code, then (once the new
# msgids are translated) `make compilemessages` rebuilds the committed django.mo (tests/platform/test_translations.py).
MESSAGES_IGNORE := --ignore=tests --ignore=bench --ignore=research --ignore=devtools --ignore=deploy \
	--ignore=docs --ignore=monitoring --ignore=.data --ignore=*/migrations/*
messages: $(STAMP)
	$(PY) -m devtools manage makemessages -l vi --no-location --no-obsolete $(MESSAGES_IGNORE)

.PHONY: compilemessages
compilemessages: $(STAMP)
	$(PY) -m devtools manage compilemessages -l vi --ignore=.data

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

# Every benchmark that has a results file, one after another, with the options of its README row (long
# ones take more: HTTP_BENCH_ARGS, CITY_ARGS). They write rows: point DATABASE_URL and REDIS_URL at a
# scratch database and Redis db. The machine's load moves absolute figures; the ratios are measured
# in the same run. bench/scaling_bench.py needs nginx on PATH (apt-get install nginx).
HTTP_BENCH_ARGS ?=
CITY_ARGS ?= --orders-per-minute 60 --seconds 90
bench: $(STAMP)
	@test -n "$$DATABASE_URL" && test -n "$$REDIS_URL" || \
		{ echo "make bench: set DATABASE_URL and REDIS_URL (a scratch database and Redis db)"; exit 2; }
	$(PY) bench/http_bench.py $(HTTP_BENCH_ARGS)
	$(PY) bench/merchants_bench.py --seconds 5 --rounds 3
	$(PY) bench/orders_bench.py --seconds 10 --rounds 3
	$(PY) bench/location_bench.py --drivers 1000 --seconds 20 --processes 2
	$(PY) bench/dispatch_orchestration.py --rounds 30
	$(PY) bench/dispatch_round.py
	$(PY) bench/mdrp/run_all.py
	$(PY) bench/push_bench.py --sockets 1000,5000 --samples 300
	$(PY) bench/driver_stream_bench.py --write
	$(PY) bench/scaling_bench.py --write
	$(PY) bench/city/simulate.py --spawn --results bench/city_RESULTS $(CITY_ARGS)

.PHONY: bench-faults
# The city with each part broken twice mid-run (and once with none), one column each of
# bench/city_faults_RESULTS.md. Only DATABASE_URL is needed: the runs start their own redis-server.
FAULT_ARGS ?= --seconds 150 --fault-at 40 --fault-repeat 2 --fault-every 60
bench-faults: $(STAMP)
	@test -n "$$DATABASE_URL" || { echo "make bench-faults: set DATABASE_URL (a scratch database)"; exit 2; }
	for fault in none worker redis web ws db; do \
		$(PY) bench/city/simulate.py --spawn --fault $$fault $(FAULT_ARGS) --results bench/city_faults_RESULTS \
			|| exit 1; \
	done
