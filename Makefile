# The two commands: `make demo` and `make test`. Both start from a fresh clone.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
MANAGE := $(PY) manage.py
SIZE ?= small
PORT ?= 8000

.PHONY: demo test lint install serve bench schema schema-check clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@

install: $(VENV)/.installed

demo: install
	$(MANAGE) migrate --noinput
	$(MANAGE) compilemessages --ignore '.venv' -v0 || true
	$(MANAGE) load_reference_data
	@if $(MANAGE) help simulate >/dev/null 2>&1; then \
		$(MANAGE) simulate --scenario demo --seed 1 --reset --yes; fi
	@if $(MANAGE) help setup_beat >/dev/null 2>&1; then $(MANAGE) setup_beat; fi
	@mkdir -p var
	$(MANAGE) create_demo_accounts | tee var/demo-accounts.txt
	@echo "Serving on http://127.0.0.1:$(PORT) (accounts above, also in var/demo-accounts.txt)"
	$(MANAGE) runserver 127.0.0.1:$(PORT)

test: install
	$(PY) -m pytest -n $${PYTEST_WORKERS:-auto} --dist loadgroup $(PYTEST_ARGS)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(MANAGE) makemigrations --check --dry-run

schema: install
	$(MANAGE) spectacular --lang en --validate --fail-on-warn --file docs/openapi.yaml

bench: install
	$(PY) -m pip install --quiet -e '.[dev,bench]'
	$(PY) -m benchmarks.run --size $(SIZE)

clean:
	rm -rf $(VENV) db.sqlite3 staticfiles var

# The committed OpenAPI schema (docs/openapi.yaml) must match the code: regenerate with
# `make schema` after changing an endpoint.
schema-check: install
	@mkdir -p var
	$(MANAGE) spectacular --lang en --validate --fail-on-warn --file var/openapi.check.yaml
	diff -u docs/openapi.yaml var/openapi.check.yaml

# Dependency audit against PyPI's advisory data (needs network; --strict: a package that could
# not be audited is a failure, not a pass). tests/reliability/test_dependency_audit.py runs it too.
.PHONY: audit
audit: install
	$(VENV)/bin/pip-audit --progress-spinner off --strict

# Translations: extract the English source strings into locale/vi/LC_MESSAGES/django.po (existing
# translations kept) and compile django.mo, which is committed with it. New entries come out
# untranslated: translate them in django.po, then run it again to compile them.
.PHONY: messages
messages: install
	$(MANAGE) makemessages -l vi --ignore=.venv --ignore=node_modules --ignore=staticfiles --ignore=var --no-obsolete
	$(MANAGE) compilemessages -l vi --ignore=.venv
