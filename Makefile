# docjobs: `make run` starts the local stack, `make test` runs every test.
# Both create and fill the virtual environment themselves.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: run test test-unit test-integration test-e2e test-reliability lint bench clean

$(STAMP): pyproject.toml constraints.txt
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "docjobs needs Python 3.11+"'
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(PY) -m pip install --quiet --disable-pip-version-check -c constraints.txt -e '.[local,dev]'
	@touch $(STAMP)

run: $(STAMP)
	$(PY) -m docjobs.local

test: $(STAMP) lint
	$(PY) -m pytest -n 2 --dist loadfile

test-unit: $(STAMP)
	$(PY) -m pytest tests/unit

test-integration: $(STAMP)
	$(PY) -m pytest tests/integration

test-e2e: $(STAMP)
	$(PY) -m pytest tests/e2e

# Fault scenarios, each printing its figure (make test runs them too).
test-reliability: $(STAMP)
	$(PY) -m pytest -s tests/reliability

bench: $(STAMP)
	$(PY) -m bench.run

lint: $(STAMP)
	$(VENV)/bin/cfn-lint template.yaml
	$(VENV)/bin/ruff check layers functions tests bench

clean:
	rm -rf $(VENV) .pytest_cache .aws-sam .docjobs
