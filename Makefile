# nbstudio: `make lab` to use it, `make test` to check it. Both set everything up on a fresh machine.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.nbstudio-installed
CHROMIUM := /usr/bin/chromium
PYTEST_ARGS ?=
# The Python tests mostly wait on kernels, servers and subprocesses: two pytest-xdist workers take
# them from 20 to 12 minutes on 2 cores. The browser tests share one JupyterLab and stay serial.
PYTEST_WORKERS ?= 2

export MLFLOW_DISABLE_TELEMETRY := true
export MLFLOW_SERVER_ENABLE_JOB_EXECUTION := false
export PYDEVD_DISABLE_FILE_VALIDATION := 1
# Material for MkDocs' banner about MkDocs 2 on every build.
export NO_MKDOCS_2_WARNING := 1

.PHONY: install lab test lint ts-test pytest browser-tests chromium postgresql docs docs-serve docs-pictures bench clean

install: $(STAMP)

# Reinstalls only when the package definition or the labextension sources changed.
$(STAMP): pyproject.toml $(shell find labextension -path labextension/node_modules -prune -o -path labextension/lib -prune -o -type f \( -name '*.ts' -o -name '*.tsx' -o -name '*.css' -o -name 'package.json' -o -name 'package-lock.json' -o -name 'tsconfig.json' -o -name '*.js' -o -name 'install.json' \) -print 2>/dev/null) $(wildcard jupyter-config/server-config/*.json)
	@test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	@# The panel is built from the lock file as it is (npm ci never rewrites it, where the
	@# build hook's npm install would add platform entries and leave the clone dirty).
	$(PY) -m pip install --quiet "jupyter-builder>=1.0"
	cd labextension && npm ci --no-audit --no-fund && PATH="$(CURDIR)/$(VENV)/bin:$$PATH" npm run build:prod
	HATCH_JUPYTER_BUILDER_SKIP_NPM=1 $(PY) -m pip install --quiet -e ".[dev]"
	@touch $(STAMP)

lab: install
	cd notebooks && ../$(VENV)/bin/jupyter lab

chromium:
	@test -x $(CHROMIUM) || { apt-get update -q && apt-get install -y -q chromium; }

# The tracking, monitor and panel-API tests also run on a throwaway PostgreSQL cluster
# (tests/helpers/postgres.py starts it from Debian's binaries under /usr/lib/postgresql/*/bin).
postgresql:
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || { apt-get update -q && apt-get install -y -q postgresql; }

lint: install
	$(VENV)/bin/ruff check src tests benchmarks
	$(VENV)/bin/ruff format --check src tests benchmarks

pytest: install postgresql
	$(PY) -m pytest tests --ignore=tests/ui -n $(PYTEST_WORKERS) --durations=25 $(PYTEST_ARGS)

# The side panel's TypeScript: prettier + eslint, then jest unit tests of its pure logic.
ts-test: install
	cd labextension && npm run --silent lint:check && npm test --silent

browser-tests: install chromium
	@if [ -d tests/ui ]; then $(PY) -m pytest tests/ui $(PYTEST_ARGS); fi

test: lint ts-test pytest browser-tests docs

# The manual (mkdocs.yml, docs/): strict, so a broken link, anchor or a page left out of the nav fails.
# The REST reference and the console help are generated from the code at build time.
docs: install
	$(VENV)/bin/mkdocs build --strict --site-dir site

docs-serve: install
	$(VENV)/bin/mkdocs serve --dev-addr 127.0.0.1:8000

# The README's and the docs site's pictures (docs/*.png), taken by the browser tests that show those views.
docs-pictures: install chromium
	NBSTUDIO_DOCS_PICTURES=1 $(PY) -m pytest tests/ui/test_monitor_ui.py tests/ui/test_panel.py -q

bench: install
	@for script in benchmarks/*.py; do echo "== $$script"; $(PY) $$script || exit 1; done

clean:
	rm -rf $(VENV) build dist site .cache/mkdocs-jupyter labextension/node_modules labextension/lib src/nbstudio/labextension
