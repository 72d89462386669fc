# progress-service: `make run` starts everything locally, `make test` passes the tests.
SHELL := /bin/bash
.DEFAULT_GOAL := help
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)

.PHONY: help setup run test lint fmt bench-auth bench-statements bench-ingest bench-outbox bench-projection clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-12s %s\n", $$1, $$2}'

setup: ## Install what is missing, start local services, create the venv, migrate
	@bash scripts/bootstrap.sh

run: setup ## Set up, then run every process role in the foreground (Ctrl-C stops all)
	@$(PY) manage.py partitions_ensure >/dev/null
	@$(PY) manage.py demo_setup --port $(PORT)
	@rm -rf .run/prometheus .run/prometheus-projector && mkdir -p .run/prometheus .run/prometheus-projector
	@echo "==> serving on http://127.0.0.1:$(PORT)  (process roles: see Procfile)"
	@PROGRESS_BIND=127.0.0.1:$(PORT) PROMETHEUS_MULTIPROC_DIR=$(CURDIR)/.run/prometheus \
	  CELERY_BEAT_SCHEDULE=$(CURDIR)/.run/celerybeat-schedule \
	  PROJECTOR_PROMETHEUS_DIR=$(CURDIR)/.run/prometheus-projector \
	  honcho start -f Procfile

test: setup ## Set up, lint, then run the whole test suite against the real services
	@$(VENV)/bin/ruff check .
	@$(VENV)/bin/ruff format --check .
	@$(VENV)/bin/pytest

lint: ## ruff lint and format check
	@$(VENV)/bin/ruff check . && $(VENV)/bin/ruff format --check .

fmt: ## Apply ruff's fixes and formatting
	@$(VENV)/bin/ruff check --fix . && $(VENV)/bin/ruff format .

bench-auth: setup ## Measure the cost of authenticating an xAPI request
	@$(PY) bench/auth.py

bench-statements: setup ## Statement resource over HTTP vs binary COPY, at 1M and 10M rows (ARGS=--quick)
	@$(PY) bench/statements_http.py $(ARGS)

bench-ingest: setup ## NATS ingest end to end vs binary COPY, 1 and 2 consumers, latency (ARGS=--quick)
	@$(PY) bench/ingest_nats.py $(ARGS)

bench-outbox: setup ## Outbox relay to JetStream: events/s with 1 and 2 relays, latency (ARGS=--quick)
	@$(PY) bench/outbox.py $(ARGS)

bench-projection: setup ## Projector: lag under sustained ingest, catch-up, rebuild (ARGS=--quick)
	@$(PY) bench/projection.py $(ARGS)

clean: ## Remove the venv and local run state (databases are left alone)
	rm -rf $(VENV) .run .pytest_cache .ruff_cache
