#!/usr/bin/env bash
# Submit the whole pipeline to a Spark cluster in client mode with the artefacts of `make package`:
# the project zip (--py-files) and the packed virtualenv (--archives …#env) that executors run.
# tests/test_cluster.py runs exactly this script against a standalone cluster on 127.0.0.1, and
# docker/compose.yaml's submit service runs it against the containers: one command, both places.
#
#   docker/submit.sh spark://HOST:7077 --input WARCS… --output DIR [--set key=value …]
#
# Extra spark-submit flags go in CORPUSFORGE_SUBMIT_FLAGS (e.g. "--conf spark.ui.port=4050").
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
MASTER=${1:?usage: docker/submit.sh MASTER_URL --input … --output …}
shift
PYTHON=${CORPUSFORGE_DRIVER_PYTHON:-$ROOT/.venv/bin/python}
SPARK_HOME=${SPARK_HOME:-$("$PYTHON" -c 'import os, pyspark; print(os.path.dirname(pyspark.__file__))')}
# shellcheck disable=SC2086  # the extra flags are meant to split into words
exec "$SPARK_HOME/bin/spark-submit" \
  --master "$MASTER" --deploy-mode client \
  --py-files "$ROOT/dist/corpusforge.zip" \
  --archives "$ROOT/dist/corpusforge-env.tar.gz#env" \
  --conf spark.pyspark.python=./env/bin/python \
  --conf "spark.pyspark.driver.python=$PYTHON" \
  --conf "spark.executor.cores=${EXECUTOR_CORES:-1}" \
  --executor-memory "${EXECUTOR_MEMORY:-1g}" --driver-memory "${DRIVER_MEMORY:-1g}" \
  --conf spark.task.maxFailures=8 \
  ${CORPUSFORGE_SUBMIT_FLAGS:-} \
  "$ROOT/__main__.py" run "$@"
