# Two commands: `make run` (console on the bundled samples) and `make test`.
# Both install what is missing: Debian packages when root (else print the command), then a .venv.

PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
NATIVE := spear_tui/detect/kernels/_lstm_native.so
RUN_PKGS  := tshark g++
TEST_PKGS := tshark g++ mosquitto tmux chromium

.PHONY: run test typecheck fuzz lint bench system-run system-test clean

run: system-run $(STAMP) $(NATIVE)
	$(BIN)/spear-tui

test: system-test $(STAMP) $(NATIVE)
	$(BIN)/ruff check spear_tui tests bench sample_captures
	$(BIN)/mypy
	$(BIN)/python -m pytest -ra

# mypy on spear_tui/ (configured in pyproject.toml's [tool.mypy]); part of `make test`.
typecheck: $(STAMP)
	$(BIN)/mypy

# Hypothesis with fresh random examples (20x as many); `make test` draws the same ones every run.
# The seed is printed first: rerun a failure with `make fuzz SEED=<seed>`.
SEED ?= $(shell od -An -N4 -tu4 /dev/urandom | tr -d ' ')
fuzz: system-test $(STAMP) $(NATIVE)
	@echo "hypothesis seed: $(SEED)"
	HYPOTHESIS_PROFILE=fuzz $(BIN)/python -m pytest -q --hypothesis-seed=$(SEED) \
	  tests/meter/test_fuzz.py tests/hardening/test_fuzz_decode.py tests/detect/lstm/test_peaks.py \
	  tests/detect/lstm/test_features.py tests/detect/novelty/test_merge.py

lint: $(STAMP)
	$(BIN)/ruff check spear_tui tests bench sample_captures

bench: $(STAMP) $(NATIVE)
	$(BIN)/python bench/ingest.py

system-run:
	@./.ci/apt-ensure $(RUN_PKGS)

system-test:
	@./.ci/apt-ensure $(TEST_PKGS)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $(STAMP)

# The LSTM time loops as native XLA FFI calls (spear_tui/detect/kernels/lstm_native.py): built for this
# machine's CPU, like the .venv; without it the detectors run the same loops in JAX.
$(NATIVE): spear_tui/detect/kernels/lstm_native.cc $(STAMP)
	g++ -O3 -march=native -std=c++17 -shared -fPIC -Wno-psabi \
	  -isystem "$$($(BIN)/python -c 'import jax.ffi; print(jax.ffi.include_dir())')" $< -o $@

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache $(NATIVE)
