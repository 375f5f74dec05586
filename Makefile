# Quick start: `make run` sets everything up and runs the pipeline; `make test` runs the tests.
PYTHON ?= python3.11
VENV := .venv
BIN := $(abspath $(VENV))/bin
# `mlflow run --env-manager local` runs `python` from PATH: make it the project's venv.
export PATH := $(BIN):$(PATH)
PRODUCT ?= dairy
# `mlflow run` prints the address of the run it made, credentials in the tracking URI included,
# unless told not to (docs/team-server.md).
export MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT ?= true
# The retries grocery/tracking.py gives the steps, for the outer `mlflow run` too (it asks the
# server for its run's status at the end): ~30 s of outage ridden out, then it gives up.
export MLFLOW_HTTP_REQUEST_MAX_RETRIES ?= 5
export MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR ?= 1
export MLFLOW_HTTP_REQUEST_BACKOFF_JITTER ?= 0.5
export MLFLOW_HTTP_REQUEST_TIMEOUT ?= 60
# Python's default, whatever the machine's environment says: bytecode cached beside the source
# (__pycache__/, ignored by git). The pipeline and the tests run as on a user's machine; with the
# cache off, a model that carried its own bytecode (refused by predict) went unnoticed.
export PYTHONDONTWRITEBYTECODE :=

.PHONY: run test test-fast lint clean postgresql

# uv installs the pinned lists: the same packages as pip, compiled to bytecode as pip does,
# several times faster (docs/contributing.md).
UV_INSTALL := $(BIN)/uv pip install --quiet --python $(BIN)/python --compile-bytecode

$(VENV)/.installed: requirements.txt requirements-setup.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet -r requirements-setup.txt
	$(UV_INSTALL) -r requirements.txt
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed requirements-test.txt requirements-ray.txt
	$(UV_INSTALL) -r requirements-test.txt
	touch $@

# The outer `mlflow run` is MLflow's own process: quiet its INFO lines as the project quiets
# its steps' (GROCERY_VERBOSE=true brings MLflow's lines back; docs/troubleshooting.md).
run: $(VENV)/.installed
	MLFLOW_LOGGING_LEVEL=$${MLFLOW_LOGGING_LEVEL:-$$( [ "$$GROCERY_VERBOSE" = true ] \
	  && echo INFO || echo WARNING)} mlflow run . -P product=$(PRODUCT) --env-manager local

# The test suite needs real services: PostgreSQL (behind `mlflow server`) and Debian's
# Chromium (the UI test). Both come from Debian's packages when missing. Two workers, a file at a
# time, in the order tests/conftest.py gives (the longest files first; xdist would otherwise
# start the files with the most tests first, and the long end-to-end files last).
test: $(VENV)/.installed-test postgresql chromium
	ruff check .
	pytest -n 2 --dist loadfile --no-loadscope-reorder --durations=25

# The fast tests alone: every tests/test_<module>.py, none of the end-to-end tests/*_e2e.py.
test-fast: $(VENV)/.installed-test
	pytest --ignore-glob='tests/*_e2e.py'

lint: $(VENV)/.installed-test
	ruff check .

# PostgreSQL's server programs (initdb, pg_ctl): the tests start a throwaway cluster on loopback.
postgresql:
	command -v initdb >/dev/null || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 \
	  || (apt-get update && apt-get install -y postgresql)

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache

# The pictures in docs/: a real server, the real pipeline, headless Debian Chromium.
.PHONY: docs chromium
docs: $(VENV)/.installed-test chromium
	$(BIN)/python -m scripts.docs_pictures

# Debian's Chromium for `make docs` and the UI test (never a downloaded browser).
chromium:
	test -x /usr/bin/chromium || (apt-get update && apt-get install -y chromium)
