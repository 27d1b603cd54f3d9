"""A progress line for long stages: elapsed time, Spark tasks done, and documents so far.

Spark's own console bar is off (it garbles logs on clusters); this prints one plain line every
`spark.progress_seconds`, from the driver's status tracker and a documents accumulator that
tasks add to as they finish (retried tasks may count twice: it is a progress figure, not a stat).
"""
from __future__ import annotations

import threading
import time

from pyspark.sql import SparkSession

def documents_counter(spark: SparkSession):
    """The accumulator stages add their processed documents to (one per Spark application)."""
    context = spark.sparkContext
    if getattr(context, "_corpusforge_documents", None) is None:
        context._corpusforge_documents = context.accumulator(0)
    return context._corpusforge_documents


class StageProgress:
    def __init__(self, spark: SparkSession, stage: str, every_seconds: float, log):
        self.spark, self.stage, self.every, self.log = spark, stage, every_seconds, log
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name=f"progress-{stage}", daemon=True)

    def __enter__(self):
        self.started = time.monotonic()
        self.docs_at_start = documents_counter(self.spark).value
        if self.every > 0:
            self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)

    def line(self) -> str:
        tracker = self.spark.sparkContext.statusTracker()
        stages = [s for s in (tracker.getStageInfo(i) for i in tracker.getActiveStageIds()) if s is not None]
        done, total = sum(s.numCompletedTasks for s in stages), sum(s.numTasks for s in stages)
        docs = documents_counter(self.spark).value - self.docs_at_start
        return (f"{self.stage}: {time.monotonic() - self.started:.0f}s elapsed, {docs:,} documents so far, "
                f"tasks {done}/{total} in {len(stages)} running Spark stage(s)")

    def _loop(self):
        while not self._stop.wait(self.every):
            try:
                self.log(self.line())
            except Exception:  # noqa: BLE001 — progress must never break a run
                pass
