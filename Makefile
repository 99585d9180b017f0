# Set-up and everyday commands. `make demo` and `make test` create .venv themselves.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: demo test lint bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "announce needs Python 3.11 or newer"'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/announce send --dry-run --today 2024-02-20

test: $(STAMP)
	$(PY) -m pytest -n auto --dist loadfile
	$(MAKE) --no-print-directory lint

# ruff: lint rules and the style (E501: lines of at most 100 characters); mypy --strict.
lint: $(STAMP)
	$(VENV)/bin/ruff check mailer tests bench
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

bench: $(STAMP)
	$(PY) bench/throughput.py
	$(PY) bench/throughput.py --rtt-ms 50 --subscribers 400
	$(PY) bench/throughput.py --rtt-ms 50 --subscribers 1000
	$(PY) bench/handoff.py
	$(PY) bench/memory.py
	$(PY) bench/latency.py

clean:
	rm -rf $(VENV) .announce .pytest_cache .mypy_cache .ruff_cache tests/artifacts
