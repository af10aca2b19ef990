# Two commands do all set-up: `make run` and `make test`.
VENV   := .venv
PY     := $(VENV)/bin/python
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
PYTHON ?= python3

.PHONY: run test index lint bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	# The CPU build of torch first: an unpinned torch pulls gigabytes of CUDA packages.
	$(PY) -m pip install --quiet torch==2.13.0
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

index: $(STAMP)
	$(BIN)/artistbot index

run: index
	@if [ -n "$$TELEGRAM_BOT_TOKEN$$DISCORD_BOT_TOKEN" ] && $(BIN)/artistbot run --help >/dev/null 2>&1; \
	then $(BIN)/artistbot run; else $(BIN)/artistbot repl; fi

test: $(STAMP)
	# The Telegram Bot API emulator for the end-to-end tests (pinned in its package-lock.json).
	cd tests/telegram/emulator && npm ci --no-audit --no-fund
	$(BIN)/pytest -q

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

clean:
	rm -rf $(VENV) data
