# Genesis Gateway — the two commands a fresh machine needs: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip --disable-pip-version-check -q
PORT ?= 8080

.PHONY: run test install install-dev services lint typecheck pytest bench clean

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --upgrade pip "setuptools>=77"

$(VENV)/.installed: $(VENV)/bin/python pyproject.toml
	$(PIP) install -e .
	touch $@

$(VENV)/.installed-dev: $(VENV)/bin/python pyproject.toml
	$(PIP) install -e '.[dev]'
	touch $(VENV)/.installed $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

## make run: install into .venv and start the embedded demo (simulator upstream, five agents, traffic).
run: install
	$(VENV)/bin/genesis-gateway demo --port $(PORT)

## make test: dev extras, the services the tests need, ruff, mypy, the benchmark's smoke run, then pytest.
test: install-dev services lint typecheck bench-smoke pytest

services:
	bash scripts/ensure-services.sh

lint:
	$(VENV)/bin/ruff check gateway scoring dashboards benchmarks tests
	$(VENV)/bin/ruff format --check gateway scoring dashboards benchmarks tests

typecheck:
	$(VENV)/bin/mypy

pytest:
	$(VENV)/bin/pytest -q

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache build *.egg-info

## make bench: the request-path benchmark (nginx upstream, wrk, gateway vs passthrough); docs/performance.md.
.PHONY: bench-smoke
bench: install services
	$(PY) -m benchmarks.run

## make bench-smoke: the same harness for a few seconds with small counts, proving it still runs.
bench-smoke: install services
	$(PY) -m benchmarks.run --smoke --out benchmarks/results/smoke
