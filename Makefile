# The two commands a newcomer needs (see README.md):
#   make demo   set up .venv, then run word count compiled on the embedded broker
#   make test   set up .venv, then run lint, type checks and the whole test suite

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test compat lint typecheck clean

$(BIN)/faustc: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $@

demo: $(BIN)/faustc
	$(BIN)/python examples/demo/run_wordcount.py

lint: $(BIN)/faustc
	$(BIN)/ruff check compiler runtime tests examples bench
	$(BIN)/ruff format --check compiler runtime tests examples bench

typecheck: $(BIN)/faustc
	$(BIN)/mypy compiler/faustc runtime/faust

test: lint typecheck
	$(BIN)/pytest -q -n 3 --dist loadfile --durations=15

# every corpus app faustc meets, compiled or not, against faust-streaming (~10 minutes more;
# tests/compat/STATUS.md has the whole corpus: tests/compat/status.py)
compat: $(BIN)/faustc
	FAUSTC_COMPAT=all $(BIN)/pytest -q tests/test_compat.py

clean:
	rm -rf $(VENV) build .pytest_cache .mypy_cache .ruff_cache .hypothesis
