# Two commands: `make run` (console on the bundled samples) and `make test`.
# Both install what is missing: Debian packages when root (else print the command), then a .venv.

PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
RUN_PKGS  := tshark
TEST_PKGS := tshark mosquitto tmux chromium

.PHONY: run test lint bench system-run system-test clean

run: system-run $(STAMP)
	$(BIN)/spear-tui

test: system-test $(STAMP)
	$(BIN)/ruff check spear_tui tests bench sample_captures
	$(BIN)/python -m pytest -ra

lint: $(STAMP)
	$(BIN)/ruff check spear_tui tests bench sample_captures

bench: $(STAMP)
	$(BIN)/python bench/ingest.py

system-run:
	@./.ci/apt-ensure $(RUN_PKGS)

system-test:
	@./.ci/apt-ensure $(TEST_PKGS)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $(STAMP)

clean:
	rm -rf $(VENV) .pytest_cache
