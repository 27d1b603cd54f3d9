"""A real Spark standalone cluster on 127.0.0.1: one master, two workers, the whole pipeline (Format,
Clean, Dedup, Safety, Quality, then the final JSONL export) submitted with spark-submit in client mode
using the packaged artefacts (project zip + packed virtualenv), exactly as on a production cluster: the
executors run the packed env's Python, import the project from the zip and get the classifier heads as
archives (SparkContext.addArchive). Its final output must equal the local-mode output, also when a worker
is killed while the Format stage runs and the survivor finishes the run alone.

One local-mode reference run is shared by both tests. "Equal" is exact for every field but the
classifier scores, compared to 1e-5: float32 inference is not bitwise reproducible when a shuffle
(Dedup's) hands rows to the scorer in another order, so documents meet different mini-batch neighbours
and padding widths (observed differences ~1e-8). Both runs use inference.dtype fp32 for that reason:
bf16 (what `auto` picks on a CPU with native bf16) moves scores by up to ~1e-2 between batchings, which
could flip a document sitting on a threshold. The documents kept, every removal reason and every count
are exact. Safety keeps its encoder vectors and Quality scores from them on the executors, as in a
production run. Run alone with `make test-cluster` (pytest -m cluster)."""
from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from support.runs import final_documents

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data"
pytestmark = pytest.mark.cluster

SPARK_HOME = Path(__import__("pyspark").__file__).parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.5)
    raise TimeoutError(f"timed out waiting for {what}")


def http_json(url: str):
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return json.load(response)
    except (OSError, ValueError):
        return None


class StandaloneCluster:
    """Master and workers as child processes, stopped by their own process ids."""

    def __init__(self, workdir: Path, workers: int = 2):
        self.workdir = workdir
        self.port, self.ui_port = free_port(), free_port()
        self.url = f"spark://127.0.0.1:{self.port}"
        env = {**os.environ, "SPARK_HOME": str(SPARK_HOME), "SPARK_LOCAL_IP": "127.0.0.1",
               "SPARK_NO_DAEMONIZE": "1"}
        self.env = env
        self.master = self._start("master", "org.apache.spark.deploy.master.Master",
                                  "--host", "127.0.0.1", "--port", str(self.port), "--webui-port", str(self.ui_port))
        wait_for(lambda: http_json(f"http://127.0.0.1:{self.ui_port}/json/"), 60, "the master")
        self.workers = [self._start(f"worker{i}", "org.apache.spark.deploy.worker.Worker", self.url,
                                    "--host", "127.0.0.1", "--cores", "1", "--memory", "2g",
                                    "--webui-port", str(free_port()), "--work-dir", str(workdir / f"work{i}"))
                        for i in range(workers)]
        wait_for(lambda: len(self.alive_workers()) == workers, 90, f"{workers} workers")

    def _start(self, name: str, main_class: str, *args: str) -> subprocess.Popen:
        log = open(self.workdir / f"{name}.log", "wb")
        return subprocess.Popen([str(SPARK_HOME / "bin" / "spark-class"), main_class, *args],
                                stdout=log, stderr=subprocess.STDOUT, env=self.env, start_new_session=True)

    def alive_workers(self) -> list[dict]:
        state = http_json(f"http://127.0.0.1:{self.ui_port}/json/") or {}
        return [w for w in state.get("workers", []) if w.get("state") == "ALIVE"]

    def kill_worker(self, index: int) -> None:
        """SIGKILL the worker and its executors (its process group): a machine lost mid-job."""
        os.killpg(self.workers[index].pid, signal.SIGKILL)
        self.workers[index].wait()

    def stop(self) -> None:
        for proc in [*self.workers, self.master]:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for proc in [*self.workers, self.master]:
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)


@pytest.fixture(scope="module")
def packaged() -> dict[str, Path]:
    subprocess.run(["make", "package"], cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    return {"zip": ROOT / "dist" / "corpusforge.zip", "env": ROOT / "dist" / "corpusforge-env.tar.gz"}


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    running = StandaloneCluster(tmp_path_factory.mktemp("standalone"))
    yield running
    running.stop()


@pytest.fixture(scope="module")
def warc_inputs(tmp_path_factory) -> list[str]:
    """The sample WARCs three times under other names: enough Format tasks to lose a worker mid-stage."""
    folder = tmp_path_factory.mktemp("inputs")
    for copy in range(3):
        for warc in sorted((DATA / "warc").glob("*.warc.gz")):
            shutil.copy(warc, folder / f"copy{copy}-{warc.name}")
    return sorted(str(p) for p in folder.iterdir())


def submit(cluster: StandaloneCluster, packaged: dict, inputs: list[str], output: Path, ui_port: int) -> subprocess.Popen:
    """docker/submit.sh, the same script the compose file's submit service runs."""
    flags = " ".join(["--conf spark.driver.host=127.0.0.1", "--conf spark.driver.bindAddress=127.0.0.1",
                      f"--conf spark.ui.port={ui_port}"])
    command = [str(ROOT / "docker" / "submit.sh"), cluster.url, "--output", str(output),
               "--set", "spark.shuffle_partitions=4", "--set", "format.batch_rows=8", "--set", "inference.dtype=fp32",
               *inputs]
    log = open(output.parent / f"{output.name}.log", "wb")
    return subprocess.Popen(command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
                            env={**cluster.env, "PYTHONUNBUFFERED": "1", "CORPUSFORGE_SUBMIT_FLAGS": flags,
                                 "CORPUSFORGE_DRIVER_PYTHON": sys.executable})


def run_summary(run_dir: Path) -> dict:
    """What must not depend on where the run ran: the funnel and each stage's removals by reason."""
    stats = json.loads((run_dir / "stats.json").read_text())
    return {"funnel": stats["funnel"], "final_rows": stats["final"]["rows"],
            "removed": {stage: s.get("removed_by_reason") for stage, s in stats["stages"].items()}}


@pytest.fixture(scope="module")
def local_result(spark, cfg_factory, warc_inputs, tmp_path_factory) -> dict:
    """The whole pipeline in local mode over the same inputs, once for both tests."""
    from corpusforge.jobs.pipeline import run_pipeline

    cfg = cfg_factory("inference.dtype=fp32")
    out = tmp_path_factory.mktemp("local") / "run"
    run_pipeline(spark, cfg, warc_inputs, str(out))
    model_keys = [name for section in (cfg.safety.classifiers, cfg.quality.classifiers)
                  for name, c in section.items() if c.enabled]
    return {"docs": final_documents(out), "summary": run_summary(out), "model_keys": model_keys}


def assert_same_output(run_dir: Path, local: dict) -> None:
    """The cluster run's final documents and per-stage figures equal the local run's (model scores to 1e-5)."""
    assert run_summary(run_dir) == local["summary"]
    docs, expected = final_documents(run_dir), local["docs"]
    assert [d["id"] for d in docs] == [d["id"] for d in expected]

    def from_model(key: str) -> bool:
        return any(key == name or key.startswith(f"{name}.") for name in local["model_keys"])

    for doc, want in zip(docs, expected):
        assert {k: v for k, v in doc.items() if k != "scores"} == {k: v for k, v in want.items() if k != "scores"}
        scores, wanted = doc["scores"] or {}, want["scores"] or {}
        assert sorted(scores) == sorted(wanted), doc["id"]
        assert {k: v for k, v in scores.items() if not from_model(k)} == \
            {k: v for k, v in wanted.items() if not from_model(k)}, doc["id"]
        assert {k: v for k, v in scores.items() if from_model(k)} == \
            pytest.approx({k: v for k, v in wanted.items() if from_model(k)}, rel=1e-5, abs=1e-6), doc["id"]


def finish(proc: subprocess.Popen, output: Path, timeout: float = 900) -> None:
    code = proc.wait(timeout=timeout)
    log = (output.parent / f"{output.name}.log").read_text(errors="replace")
    assert code == 0, f"spark-submit failed ({code}):\n{log[-5000:]}"


def test_cluster_run_equals_local_run(cluster, packaged, warc_inputs, local_result, tmp_path):
    output = tmp_path / "cluster-run"
    finish(submit(cluster, packaged, warc_inputs, output, free_port()), output)
    assert local_result["docs"], "the local run kept no document"
    assert any(doc["scores"] and any(k in doc["scores"] for k in local_result["model_keys"])
               for doc in local_result["docs"]), "no final document carries a classifier score"
    assert_same_output(output, local_result)
    stats = json.loads((output / "stats.json").read_text())
    assert stats["stages"]["format"]["warc_files"] == len(warc_inputs)
    for stage in ("safety", "quality"):  # scored on the executors, with the models they were sent
        assert stats["stages"][stage]["inference_workers"] >= 1
        assert stats["stages"][stage]["model_loads"] >= 1
    safety, quality = stats["stages"]["safety"], stats["stages"]["quality"]
    assert safety["documents_encoded"] > 0 and quality["documents_reused"] > 0  # one encoder pass per document
    assert quality["documents_encoded"] == 0


def test_losing_a_worker_during_format_changes_nothing(cluster, packaged, warc_inputs, local_result, tmp_path):
    output, ui_port = tmp_path / "killed-run", free_port()
    proc = submit(cluster, packaged, warc_inputs, output, ui_port)

    def format_tasks_running():
        apps = http_json(f"http://127.0.0.1:{ui_port}/api/v1/applications") or []
        if not apps:
            return False
        stages = http_json(f"http://127.0.0.1:{ui_port}/api/v1/applications/{apps[0]['id']}/stages?status=active") or []
        return any(s.get("numActiveTasks", 0) > 0 for s in stages)

    wait_for(format_tasks_running, 300, "Format tasks to run on the cluster")
    cluster.kill_worker(0)
    finish(proc, output)
    assert_same_output(output, local_result)
    assert len(cluster.alive_workers()) <= 1
