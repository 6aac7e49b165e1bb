# The two commands a newcomer needs: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
FLASK := $(VENV)/bin/flask --app conference_app
HOST ?= 127.0.0.1
PORT ?= 5000
# The demo's mail links and printed addresses point at the server it starts.
demo: export PUBLIC_BASE_URL ?= http://$(HOST):$(PORT)

.PHONY: demo serve test install install-dev chromium fonts clean

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
demo: install fonts
	$(FLASK) db upgrade
	$(FLASK) demo load
	@echo "Serving on http://$(HOST):$(PORT)  (Ctrl-C stops)"
	$(FLASK) run --host $(HOST) --port $(PORT)

## make serve: the production server, gunicorn with several workers on http://$(HOST):$(PORT)
## (docs/deployment.md: DATABASE_URL, SECRET_KEY, REDIS_URL, PUBLIC_BASE_URL, WORKERS ...)
serve: export HOST := $(HOST)
serve: export PORT := $(PORT)
serve: export PUBLIC_BASE_URL ?= http://$(HOST):$(PORT)
serve: install fonts
	$(FLASK) db upgrade
	$(VENV)/bin/gunicorn --config gunicorn.conf.py

## make test: everything the tests need, then the whole suite
test: install-dev chromium fonts
	$(PY) -m pytest $(PYTEST_ARGS)

# Debian packages installed when we are root and they are missing; otherwise say what to install.
define debian_packages
	@missing=""; for p in $(1); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
			(apt-get update -qq && apt-get install -y -qq $$missing) >/dev/null; \
		else \
			echo "Missing:$$missing; $(2) (sudo apt-get install -y$$missing)"; \
		fi; \
	fi
endef

# Browser tests drive Debian's Chromium.
chromium:
	$(call debian_packages,chromium,browser tests may be skipped)

# A Chinese font: the ranking's charts are labelled in Chinese with it, and browser
# screenshots show Chinese text.
fonts:
	$(call debian_packages,fonts-wqy-microhei,charts fall back to English labels)

clean:
	rm -rf $(VENV) instance test-artifacts .pytest_cache
