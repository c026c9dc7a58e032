# Two commands on a fresh machine:  `make app`  and  `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
WORKSPACE ?= ./workspace
PORT ?= 8501
export HF_HUB_OFFLINE ?= 1
export TRANSFORMERS_OFFLINE ?= 1

.PHONY: app test test-all lint browser clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

## Create the environment, load the demo data (once) and start the app.
app: $(BIN)/.installed
	$(BIN)/flywheel --workspace $(WORKSPACE) demo
	$(BIN)/flywheel --workspace $(WORKSPACE) embed  # once, now: Grade's first visit then shows a document at once
	@echo "Flywheel: open http://localhost:$(PORT)"
	$(BIN)/flywheel --workspace $(WORKSPACE) app --port $(PORT) --headless

## The [ray] extra, for the tests of `embed --ray` and `train --ray` (the app itself never needs it).
$(BIN)/.ray: $(BIN)/.installed
	$(BIN)/pip install --quiet -e '.[dev,ray]'
	touch $@

## Create the environment and run the tests (slow ones excluded; `make test-all` runs them too).
## Two workers: the browser and Ray tests run in turn on one (tests/conftest.py groups them), the rest spread.
PYTEST_WORKERS ?= -n 2 --dist loadgroup
test: $(BIN)/.installed $(BIN)/.ray browser
	$(BIN)/pytest -m "not slow" -q $(PYTEST_WORKERS)

test-all: $(BIN)/.installed $(BIN)/.ray browser
	$(BIN)/pytest -q $(PYTEST_WORKERS)

lint: $(BIN)/.installed
	$(BIN)/ruff check .

## Debian's Chromium for the browser tests (Playwright cannot download its own browser here).
browser:
	@if [ ! -x /usr/bin/chromium ]; then \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq chromium >/dev/null; \
	  else echo "note: /usr/bin/chromium is missing and this is not root: browser tests will be skipped"; fi; \
	fi

clean:
	rm -rf $(VENV) *.egg-info
