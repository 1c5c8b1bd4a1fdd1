# Two commands on a fresh machine: `make run` and `make test`. See README.md.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 5000
DEV := CLINIC_ENV=development
# Flask's factory convention, as in production: `clinic` has create_app.
FLASK := $(BIN)/flask --app clinic

.PHONY: run test lint install system-deps browser-deps bench clean translations

## install: create .venv and install the app with its test tools
install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $@

## run: set up everything (venv, migrations, demo data) and serve the app, with the
## worker beside it (sends mail as .eml files to the instance folder's outbox/, runs the
## scheduled work); Ctrl-C stops both
# The worker runs in the background and the server in the foreground; however the server
# ends (Ctrl-C, an error), the trap stops the worker too. --max-delay 1: the SQLite queue
# is polled at least every second. Links in messages point at this server unless
# CLINIC_BASE_URL says otherwise.
run: install
	$(DEV) $(FLASK) db upgrade
	$(DEV) $(FLASK) seed-demo --if-empty
	@echo
	@echo "  Open http://$(HOST):$(PORT)/ and sign in with any demo account"
	@echo "  (password for all of them: demo-pass-2026):"
	@echo "    clinician  physio@northside.example   (also physio2@northside.example)"
	@echo "    admin      admin@northside.example"
	@echo "    patient    avery.quinn@example.org    sam.rivera@example.org    morgan.ellis@example.org"
	@echo "    other clinic: physio@riverside.example, admin@riverside.example,"
	@echo "                  jordan.blake@example.org"
	@echo "  Messages are written to the instance folder's outbox/ (open them in a mail program)."
	@echo
	@export CLINIC_BASE_URL="$${CLINIC_BASE_URL:-http://$(HOST):$(PORT)}"; \
	trap 'kill $$worker 2>/dev/null; wait $$worker 2>/dev/null' EXIT INT TERM; \
	$(DEV) $(BIN)/huey_consumer clinic.worker.huey --workers 2 --max-delay 1 --quiet & worker=$$!; \
	$(DEV) $(FLASK) run --host $(HOST) --port $(PORT)

## test: lint, then every test (unit, integration, browser); SQLite unless
## CLINIC_TEST_DATABASE_URL points at PostgreSQL
# Two processes (the machines here have two cores): see tests/conftest.py for the tests
# that stay together. PYTEST_ARGS="-n 0" runs everything in one process.
PYTEST_ARGS ?= -n 2 --dist loadgroup
test: install browser-deps lint
	$(BIN)/pytest $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

## translations: extract every marked string (babel.cfg) into clinic/translations/messages.pot,
## merge it into each language's catalogue (a new string arrives untranslated, and the
## completeness test fails until every patient-facing one is translated), and compile the
## .mo files the app reads (committed, so a deployment needs no build step)
TRANSLATIONS := clinic/translations
translations: install
	$(BIN)/pybabel --quiet extract -F babel.cfg -k _l -k N_ -k lazy_gettext -k lazy_ngettext:1,2 \
		-c TRANSLATORS: --sort-by-file --project "Therapy diary" -o $(TRANSLATIONS)/messages.pot .
	$(BIN)/pybabel --quiet update -i $(TRANSLATIONS)/messages.pot -d $(TRANSLATIONS) --no-fuzzy-matching --ignore-obsolete
	$(BIN)/pybabel --quiet compile -d $(TRANSLATIONS) --statistics

## browser-deps: Debian's Chromium for the browser tests, axe-core for accessibility checks
browser-deps: system-deps tests/e2e/node_modules/.installed

system-deps:
	@bash .ci/system-deps

tests/e2e/node_modules/.installed: tests/e2e/package.json tests/e2e/package-lock.json
	npm ci --prefix tests/e2e --no-audit --no-fund --loglevel=error
	touch $@

## bench: throughput of the clinicians' and patients' pages (dashboard, caseload list,
## protocol page, timeline, portal Today and progress, logging a session by POST) against a
## trivial endpoint (gunicorn + wrk), on data from `flask seed-load` (10 clinics; 1,000
## patients by default), on SQLite or PostgreSQL; prints req/s, latency, the ratio to the
## baseline and each page's target (met/MISSED). With several sizes, each on a fresh
## database, it then compares each page's ratio at the largest size with the smallest
## (flagged when more than 20% slower). Options via BENCH_ARGS, e.g.
## make bench BENCH_ARGS="--database postgresql --patients 1000,10000"   (a new database on
##   127.0.0.1:5432 as user postgres, dropped at the end)
## make bench BENCH_ARGS="--patients 100 --seconds 3 --pages dashboard,timeline"
## Then the progress report: median render time of a demo patient's 12-week report next to
## a one-paragraph document, and the ratio (target: at most 10x):
## make bench BENCH_ARGS="--report only --renders 40"   (the report alone, no wrk needed)
## (the MDT pack: .venv/bin/python tests/bench/mdt_pack.py [--database postgresql])
## Last, mail: messages per second through the worker to an SMTP server on the loopback
## against a plain smtplib loop (target: at least half), and the time from a red-flag diary
## entry to the clinician's email (median, p95): make bench BENCH_ARGS="--mail only --messages 1000"   (no wrk needed)
## Then reminders: 10,000 patients' reminders due in the same minute, queued by the
## reminders job and delivered by the worker to the SMTP sink, against a plain smtplib loop
## sending as many (target: at least half its speed):
## make bench BENCH_ARGS="--reminders only --reminder-patients 10000"   (no wrk needed; "--reminders skip" leaves it out)
## Last, the fault drill on a private PostgreSQL (never the shared one): wrk posts diary
## entries while PostgreSQL is stopped, crashed and started, a gunicorn worker and the huey
## worker are SIGKILLed; every acknowledged entry must be stored once and whole, every
## message delivered (tests/bench/faults.py): make bench BENCH_ARGS="--faults only"
bench: install
	@case " $(BENCH_ARGS) " in *" --report only "*|*" --report=only "*|*" --mail only "*|*" --mail=only "*|*" --reminders only "*|*" --reminders=only "*) ;; *) \
	command -v wrk >/dev/null || { [ "$$(id -u)" -eq 0 ] && apt-get install -y -qq wrk >/dev/null; } \
		|| { echo "Install wrk (apt-get install wrk) to run the benchmark." >&2; exit 1; } ;; esac
	$(BIN)/python tests/bench/run.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) tests/e2e/node_modules .pytest_cache .ruff_cache
