# Two commands on a fresh machine: `make run` (chat on http://127.0.0.1:7860) and `make test`.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-stamp

.PHONY: install run test lint eval build clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e ".[test]"
	touch $(STAMP)

install: $(STAMP)

run: install
	$(PY) app.py

test: install
	$(PY) -m ruff check src tests bench app.py
	$(PY) -m pytest -q

eval: install
	$(VENV)/bin/dadong-qa eval ../shared/eval/dev.jsonl

build: install
	$(VENV)/bin/dadong-qa build

clean:
	rm -rf $(VENV) index
