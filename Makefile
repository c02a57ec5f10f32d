# minemap: set-up, demo, tests and benchmarks. Everything the project needs is
# installed here, so a fresh machine needs only `make demo` and `make test`.

SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEMO_OUT ?= demo-output

# Debian parts: PostGIS for the server store, Chromium for the browser tests,
# Pango and fonts for WeasyPrint's PDF reports, poppler-utils to look at PDF pages.
DEBIAN_PACKAGES := postgresql-15-postgis-3 chromium chromium-driver \
	libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core poppler-utils

# Front-end libraries from npm, served by minemap itself (no CDN).
VENDOR := src/minemap/api/static/vendor
VENDOR_STAMP := $(VENDOR)/.installed

.PHONY: setup system-deps web-assets demo test lint typecheck pytest bench clean

setup: $(STAMP) system-deps web-assets

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "error: $(PYTHON) not found (minemap needs Python 3.11)"; exit 1; }
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[postgis,web,dask,dev]'
	touch $(STAMP)

# Installs the Debian packages that are missing when we run as root; otherwise
# says what is missing (the tests then fail under CI=true, skip elsewhere).
system-deps:
	@missing=""; \
	for p in $(DEBIAN_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "installing Debian packages:$$missing"; \
	    export DEBIAN_FRONTEND=noninteractive; \
	    apt-get install -y -qq $$missing >/dev/null \
	      || { apt-get update -qq && apt-get install -y -qq $$missing >/dev/null; }; \
	  else \
	    echo "warning: missing Debian packages:$$missing (run make as root to install them)"; \
	  fi; \
	fi

web-assets: $(VENDOR_STAMP)

$(VENDOR_STAMP): web/package.json web/package-lock.json
	@command -v npm >/dev/null || { echo "error: npm not found (needed for the web map's MapLibre GL)"; exit 1; }
	cd web && npm ci --no-audit --no-fund --loglevel=error
	mkdir -p $(VENDOR)
	cp web/node_modules/maplibre-gl/dist/maplibre-gl.js web/node_modules/maplibre-gl/dist/maplibre-gl.css \
	   web/node_modules/maplibre-gl/LICENSE.txt $(VENDOR)/
	cp web/node_modules/chart.js/dist/chart.umd.min.js $(VENDOR)/chart.umd.min.js
	cp web/node_modules/pmtiles/dist/pmtiles.js $(VENDOR)/pmtiles.js
	cp web/node_modules/swagger-ui-dist/swagger-ui-bundle.js web/node_modules/swagger-ui-dist/swagger-ui.css $(VENDOR)/
	touch $(VENDOR_STAMP)

demo: setup
	$(BIN)/minemap demo --out $(DEMO_OUT)

lint: $(STAMP)
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/ruff check src tests benchmarks

typecheck: $(STAMP)
	$(BIN)/mypy

pytest: setup
	$(BIN)/pytest

test: lint typecheck pytest

bench: setup
	@for b in benchmarks/*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) $(DEMO_OUT) $(VENDOR) web/node_modules .pytest_cache .mypy_cache .ruff_cache
