# The two commands: `make run` and `make test` set up everything on a fresh machine.
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed-stamp

.PHONY: install run test bench parity lint clean

$(STAMP): pyproject.toml
	python3 -m venv $(VENV)
	$(VENV)/bin/pip install -q --upgrade pip
	$(VENV)/bin/pip install -q -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

run: install
	$(VENV)/bin/stratus up

test: install
	$(VENV)/bin/pytest -q

bench: install
	$(PY) -m bench

parity: install
	$(PY) scripts/parity.py

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy

clean:
	rm -rf $(VENV) .stratus .pytest_cache .mypy_cache .ruff_cache
