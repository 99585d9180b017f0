# Set-up and everyday commands. `make demo` and `make test` create .venv themselves.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: demo test lint bench docs docs-serve clean

$(STAMP): pyproject.toml
	$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "announce needs Python 3.11 or newer"'
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

# The docs extra (Sphinx, MyST, Furo) on top of the test set-up; `pip install .` stays small.
DOCS_STAMP := $(VENV)/.installed-docs

$(DOCS_STAMP): $(STAMP)
	$(PY) -m pip install --quiet -e '.[test,docs]'
	touch $(DOCS_STAMP)

demo: $(STAMP)
	$(VENV)/bin/announce send --dry-run --today 2024-02-20

test: $(STAMP)
	$(PY) -m pytest -n auto --dist loadfile
	$(MAKE) --no-print-directory lint

# ruff: lint rules and the style (E501: lines of at most 100 characters); mypy --strict.
lint: $(STAMP)
	$(VENV)/bin/ruff check mailer tests bench docs
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

bench: $(STAMP)
	$(PY) bench/throughput.py
	$(PY) bench/throughput.py --rtt-ms 50 --subscribers 400
	$(PY) bench/throughput.py --rtt-ms 50 --subscribers 1000
	$(PY) bench/handoff.py
	$(PY) bench/memory.py
	$(PY) bench/latency.py

# The site, strict: a warning (a broken link, a page in no table of contents) fails the build.
# The CLI and series.yaml references are generated first (docs/generate.py).
docs: $(DOCS_STAMP)
	$(PY) docs/generate.py
	$(VENV)/bin/sphinx-build -W --keep-going -q -b html docs docs/_build/html
	@echo "built docs/_build/html/index.html"

docs-serve: docs
	$(PY) -m http.server --directory docs/_build/html --bind 127.0.0.1 8000

clean:
	rm -rf $(VENV) .announce .pytest_cache .mypy_cache .ruff_cache tests/artifacts docs/_build
