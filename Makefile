# The two commands a newcomer needs: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
FLASK := $(VENV)/bin/flask --app conference_app
HOST ?= 127.0.0.1
PORT ?= 5000

.PHONY: demo test install install-dev chromium clean

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(VENV)/.installed: $(VENV)/bin/python pyproject.toml
	$(PY) -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

## make demo: SQLite database in instance/, demo data, served on http://$(HOST):$(PORT)
demo: install
	$(FLASK) db upgrade
	$(FLASK) demo load
	@echo "Serving on http://$(HOST):$(PORT)  (Ctrl-C stops)"
	$(FLASK) run --host $(HOST) --port $(PORT)

## make test: everything the tests need, then the whole suite
test: install-dev chromium
	$(PY) -m pytest $(PYTEST_ARGS)

# Browser tests drive Debian's Chromium (and need a Chinese font for readable screenshots);
# install them when we are root and they are missing.
BROWSER_PACKAGES := chromium fonts-wqy-microhei
chromium:
	@missing=""; for p in $(BROWSER_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
			(apt-get update -qq && apt-get install -y -qq $$missing) >/dev/null; \
		else \
			echo "Missing:$$missing; browser tests may be skipped (sudo apt-get install -y$$missing)"; \
		fi; \
	fi

clean:
	rm -rf $(VENV) instance test-artifacts .pytest_cache
