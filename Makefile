# corpusforge — the two commands of the README are `make demo` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
OUT    ?= out/sample
SAMPLE := tests/data/warc/*.warc.gz

.PHONY: setup demo test test-unit test-cluster bench clean
setup: $(VENV)/.installed

$(VENV)/.installed: setup.py
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

demo: setup
	$(BIN)/corpusforge format --input '$(SAMPLE)' --output $(OUT)/format
	@echo "sample output: $(OUT)"

test: setup
	$(BIN)/python -m pytest -q

test-unit: setup
	$(BIN)/python -m pytest -q -m "not spark and not cluster"

clean:
	rm -rf $(VENV) out build *.egg-info
