# Two entry points for a fresh machine (see README): `make book` and `make test`.
# Both create .venv and install the package with its test tools when pyproject.toml changes.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $@

.PHONY: book test lint
book: $(VENV)/.installed
	$(PY) compile.py build .

test: $(VENV)/.installed
	$(PY) -m ruff check anthology tests compile.py scripts
	$(PY) -m pytest -q

lint: $(VENV)/.installed
	$(PY) -m ruff check anthology tests compile.py scripts
