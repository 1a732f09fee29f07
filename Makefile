# Itinera: `make run` serves the app with demo data; `make test` runs the whole suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat setup.cfg pyproject.toml | cksum | cut -d' ' -f1)
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: run test install translations catalogs benchmark clean

$(STAMP): setup.cfg pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check --upgrade pip
	$(BIN)/python -m pip install -q --disable-pip-version-check -e ".[test]"
	rm -f $(VENV)/.installed-* && touch $@

install: $(STAMP)

translations: $(STAMP)
	$(BIN)/pybabel -q compile -d translations

## Extract the strings and merge them into every catalog (then translate what is new).
catalogs: $(STAMP)
	$(BIN)/pybabel -q extract -F babel.cfg -k _l -k lazy_gettext --no-location --sort-output \
	  --project=Itinera --copyright-holder="Itinera contributors" -o translations/messages.pot .
	$(BIN)/pybabel -q update -i translations/messages.pot -d translations --no-fuzzy-matching --no-wrap

run: $(STAMP) translations
	$(BIN)/crm db upgrade
	$(BIN)/crm demo --if-empty
	@echo "Starting the scheduler and the web server (Ctrl-C stops both)"
	@$(BIN)/crm scheduler & sched=$$!; trap 'kill $$sched 2>/dev/null; wait $$sched 2>/dev/null' EXIT INT TERM; \
	  $(BIN)/crm run --host $(HOST) --port $(PORT)

test: $(STAMP) translations
	bash tests/run.sh

## The served app at 100,000 inquiries on SQLite and PostgreSQL: writes benchmarks/RESULTS.md.
benchmark: $(STAMP) translations
	$(BIN)/python -m pip install -q --disable-pip-version-check -e ".[test,prod]"
	@command -v wrk >/dev/null || { [ "$$(id -u)" = 0 ] && apt-get install -y -qq wrk >/dev/null; } || \
	  { echo "benchmark: needs wrk (apt-get install wrk)" >&2; exit 1; }
	$(BIN)/python benchmarks/serving.py $(BENCHMARK_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache
