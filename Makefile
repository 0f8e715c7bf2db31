# Cakupan — two commands on a fresh machine: `make demo` and `make test`.
# Both create .venv from the lock file (uv from PyPI) and install what the system lacks through `system-deps`.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
ROOT := $(abspath .)
PY ?= python3
VENV := $(ROOT)/.venv
BIN := $(VENV)/bin
SHARED ?= $(abspath $(ROOT)/../shared)

# demo settings: a throwaway home under var/demo (gitignored)
DEMO_HOME := $(ROOT)/var/demo
export AIRFLOW_HOME ?= $(ROOT)/var/airflow
export AIRFLOW__CORE__DAGS_FOLDER := $(ROOT)/dags
export AIRFLOW__CORE__LOAD_EXAMPLES := False
export AIRFLOW__COSMOS__ENABLE_TELEMETRY := False
export AIRFLOW__CORE__UNIT_TEST_MODE := False
export AIRFLOW__LOGGING__LOGGING_LEVEL := WARNING
export DBT_SEND_ANONYMOUS_USAGE_STATS := False
export GX_ANALYTICS_ENABLED := False
export NO_COLOR := 1

.PHONY: help venv lineage-venv system-deps browser-deps postgres-deps redis-deps manifest airflow-init demo docs test test-fast bench eval lint clean

help:
	@echo "make demo   - synthetic data for Parepare, Palopo and Sidrap through Airflow -> published coverage table"
	@echo "make test   - the whole test suite (real DuckDB, dbt, GX, Airflow, PostgreSQL, Chromium)"
	@echo "make bench  - national-scale benchmark, results in BENCHMARKS.md"
	@echo "make eval   - precision and recall of the press-release extractor on tests/fixtures/press"
	@echo "make docs   - dbt docs catalogue of the demo warehouse (after make demo)"

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check uv

$(VENV)/.synced: requirements.lock pyproject.toml dev/pyproject.toml | $(BIN)/python
	# --compile-bytecode: uv does not write .pyc files by default (pip does), and with PYTHONDONTWRITEBYTECODE set
	# every Airflow task process, DAG parse and ingest would compile pandas, Airflow and cosmos from source again.
	$(BIN)/uv pip sync --quiet --compile-bytecode --python $(BIN)/python requirements.lock
	$(BIN)/uv pip install --quiet --python $(BIN)/python --no-deps -e . -e dev
	touch $@

# The project's own modules as bytecode, made again when a source changes: `-e .` installs them as source, and with
# PYTHONDONTWRITEBYTECODE set (CI and this machine set it) every process compiled the ones it imports again: an
# ingest process 0.08 s, a task importing the whole package up to 0.19 s (BENCHMARKS.md "Session 50").
PY_SOURCES := $(shell find include dags dev/cakupan_dev bench -name '*.py' -not -path '*/.*')
$(VENV)/.bytecode: $(PY_SOURCES) | $(VENV)/.synced
	$(BIN)/python -m compileall -q -j 0 include dags dev/cakupan_dev bench >/dev/null
	touch $@

venv: $(VENV)/.synced $(VENV)/.bytecode

# OpenLineage is an opt-in extra (README "OpenLineage"): with the provider installed, cosmos imports it on every
# parse of the transform DAG. A second venv with it runs the lineage test, so `make test` checks it all the same.
LINEAGE_VENV := $(ROOT)/.venv-lineage
$(LINEAGE_VENV)/.synced: requirements.lock pyproject.toml dev/pyproject.toml | $(BIN)/python
	$(PY) -m venv $(LINEAGE_VENV)
	$(BIN)/uv pip sync --quiet --compile-bytecode --python $(LINEAGE_VENV)/bin/python requirements.lock
	$(BIN)/uv pip install --quiet --compile-bytecode --python $(LINEAGE_VENV)/bin/python -c requirements.lock \
		-e '.[lineage]' -e dev
	touch $@

lineage-venv: $(LINEAGE_VENV)/.synced

# System packages the tests need and a fresh machine may lack (Debian): Chromium for the report's browser test,
# PostgreSQL server binaries for the throwaway cluster, Redis for the CeleryExecutor test's broker. Installs only
# what is missing.
system-deps: browser-deps postgres-deps redis-deps

browser-deps:
	@if ! command -v chromium >/dev/null || [ ! -x /usr/bin/chromedriver ]; then \
	  echo "installing chromium + chromium-driver (apt-get)"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null; fi

postgres-deps:
	@if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then \
	  echo "installing postgresql (apt-get)"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null; fi

redis-deps:
	@if ! command -v redis-server >/dev/null; then \
	  echo "installing redis-server (apt-get)"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null; fi

# dbt manifest built ahead: cosmos renders the DAG from it (no dbt call at DAG parse time)
dbt_project/target/manifest.json: venv $(shell find dbt_project/models dbt_project/macros dbt_project/tests -type f) dbt_project/dbt_project.yml
	# the work file by its bare name, as cakupan.transform runs dbt: its partial-parse file then seeds every home
	cd dbt_project && CAKUPAN_HOME=$(DEMO_HOME) CAKUPAN_WORK_DB=work.duckdb $(BIN)/dbt parse --quiet --project-dir . --profiles-dir . --target-path target

manifest: dbt_project/target/manifest.json

airflow-init: venv
	mkdir -p $(AIRFLOW_HOME)
	$(BIN)/airflow db migrate >/dev/null
	$(BIN)/airflow pools set cakupan_duckdb_writer 1 "one writer per DuckDB file" >/dev/null

demo: venv manifest airflow-init
	rm -rf $(DEMO_HOME)/warehouse $(DEMO_HOME)/published $(DEMO_HOME)/inbox $(DEMO_HOME)/reports $(DEMO_HOME)/logs
	$(BIN)/python -m cakupan_dev.demo $(DEMO_HOME)/inbox   # the seed reports' scale: cakupan_dev/demo.py
	mkdir -p $(DEMO_HOME)/inbox/reports && cp $(SHARED)/city_reports/*.txt $(DEMO_HOME)/inbox/reports/ 2>/dev/null || true
	CAKUPAN_HOME=$(DEMO_HOME) CAKUPAN_PSEUDONYM_KEY=$${CAKUPAN_PSEUDONYM_KEY:-demo-only-not-a-secret} \
	  $(BIN)/airflow dags test cakupan_ingest >$(DEMO_HOME)/airflow_ingest.log 2>&1 \
	  || { tail -50 $(DEMO_HOME)/airflow_ingest.log; exit 1; }
	CAKUPAN_HOME=$(DEMO_HOME) CAKUPAN_PSEUDONYM_KEY=$${CAKUPAN_PSEUDONYM_KEY:-demo-only-not-a-secret} \
	  $(BIN)/airflow dags test cakupan_transform_publish >$(DEMO_HOME)/airflow_transform.log 2>&1 \
	  || { tail -80 $(DEMO_HOME)/airflow_transform.log; exit 1; }
	CAKUPAN_HOME=$(DEMO_HOME) $(BIN)/python -m cakupan demo-summary --truth $(DEMO_HOME)/inbox/ground_truth.json

# dbt docs: the catalogue of every model, column and test, built against the demo warehouse (run `make demo` first)
docs: venv manifest
	cd dbt_project && CAKUPAN_HOME=$(DEMO_HOME) $(BIN)/dbt docs generate --quiet --project-dir . --profiles-dir . \
	  --target-path $(DEMO_HOME)/dbt-docs
	@echo "dbt docs: $(DEMO_HOME)/dbt-docs/index.html (serve with: cd $(DEMO_HOME)/dbt-docs && python3 -m http.server)"

test: venv lineage-venv system-deps manifest
	$(BIN)/ruff check --quiet include dags tests bench
	$(BIN)/python -m pytest -q -p no:cacheprovider -n 2 --dist loadfile --no-loadscope-reorder --timeout 1200 --durations 30

test-fast: venv
	$(BIN)/python -m pytest -q -m "not integration and not postgres and not browser"

# the peers of issue 22 (polars, dlt) in their own venv, pinned in bench/requirements-peers.txt (not the runtime lock)
BENCH_VENV := .venv-bench
$(BENCH_VENV)/.synced: bench/requirements-peers.txt | $(BIN)/python
	$(BIN)/uv venv --quiet --allow-existing --python $(BIN)/python $(BENCH_VENV)
	$(BIN)/uv pip sync --quiet --compile-bytecode --python $(BENCH_VENV)/bin/python bench/requirements-peers.txt
	touch $@

bench: venv manifest $(BENCH_VENV)/.synced
	$(BIN)/python -m bench.run --out BENCHMARKS.md
	# a national month through the real scheduler vs `cakupan run` (issue 20; the year: bench/scheduler_year.json)
	$(BIN)/python -m bench.scheduler --months 1 --dbt-tasks build --out BENCHMARKS.md

# precision and recall of the narrative extractor on the labelled press corpus (tests/fixtures/press)
eval: venv
	$(BIN)/python -m bench.eval_reports

lint: venv
	$(BIN)/ruff check include dags tests

clean:
	rm -rf var dbt_project/target dbt_project/logs
