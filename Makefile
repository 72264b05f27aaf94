# Plain entry points. `make demo` and `make test` are the README's two Quickstart commands:
# each does its own set-up on a fresh machine (virtualenv; Docker engine when root on Debian).

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: demo test unit lint bench engine venv clean-venv

venv: $(STAMP)

# editable_mode=compat: the checkout on sys.path through a .pth entry, instead of setuptools'
# import finder, which costs every omc-dev start ~20 ms of CPU (pathlib, urllib, ipaddress, ...).
$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "omc-dev needs Python >= 3.11 (set PYTHON=python3.11)")'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@echo "installing omc-dev and its dev dependencies into $(VENV)"
	@$(BIN)/python -m pip install --quiet --disable-pip-version-check --config-settings editable_mode=compat \
		-e '.[all,dev]' 2>&1 \
		| grep -v 'is ignored: it is neither a file nor a directory' || true
	@$(BIN)/python -c 'import devtools, click, rich, docker, git, alembic, sqlalchemy, psycopg, pytest, xdist, pytest_cov, build' \
		|| { echo "dependency install failed: see pip output above"; exit 1; }
	@# Bytecode up front: machines that set PYTHONDONTWRITEBYTECODE would recompile every start.
	@$(BIN)/python -m compileall -q devtools kernel >/dev/null
	@touch $@

# Best effort: without root on Debian, the docker tier skips (or fails under OMC_REQUIRE_DOCKER=1).
engine:
	-@scripts/provision-engine
	-@scripts/provision-browser

# A simulated paper-trading day on the embedded SQLite default (.omc/kernel.db), then the status.
# Re-running continues the same ledger with the next day.
demo: $(STAMP)
	$(BIN)/omc-dev kernel migrate
	$(BIN)/omc-dev kernel run --seed 7 --duration 24h
	$(BIN)/omc-dev kernel status

# Parallel workers: most of the suite waits on containers, git and PostgreSQL, not on the CPU, so
# four workers on two cores halve the wall time. `--dist loadfile` keeps a module's tests (and its
# module-scoped stack or cluster) on one worker. TEST_WORKERS=0 runs in one process.
TEST_WORKERS ?= 4

test: $(STAMP) engine
	@rm -f .coverage .coverage.*
	$(BIN)/pytest -n $(TEST_WORKERS) --dist loadfile --cov --cov-report= --durations=25
	@$(BIN)/coverage report --format=total | xargs -I{} echo "coverage (devtools + kernel): {}%"
	$(BIN)/coverage report --include=kernel/guard.py,kernel/market_mode.py,kernel/killswitch.py --fail-under=95
	$(MAKE) --no-print-directory lint

unit: $(STAMP)
	$(BIN)/pytest -m unit

lint: $(STAMP)
	PATH="$(CURDIR)/$(BIN):$$PATH" $(BIN)/pre-commit run --all-files --show-diff-on-failure

bench: $(STAMP)
	@for script in benchmarks/[!_]*.py; do echo "== $$script"; $(BIN)/python $$script || exit 1; done

clean-venv:
	rm -rf $(VENV)
