"""Format stage memory on a >= 1 GiB WARC with 1g of driver memory: records are streamed.

Builds (bench/format/build_big_warc.py) a WARC of real pages replicated to --size bytes, then runs the
Format stage with spark.master=local[2] and spark.driver_memory=1g (in local mode the executor lives
in the driver JVM, so this is the executor's heap too). Side by side in the same session, the same
stage on the real WARC the pages come from: if records are streamed, peak memory on the big file
is about the same as on the small one, whatever the file size.

The pages default to the 181 of article-extraction-benchmark.warc.gz: of the built WARCs they cost
the least extraction time per byte, and one file is one task on one core, so a 1 GiB file of the
heavier magic-html pages would take well over an hour on a small machine. --source picks others.

Memory is sampled every 0.25 s from /proc: the JVM (driver + executor) and every Python worker.
The big file is deleted at the end unless --keep.

Usage: .venv/bin/python bench/format/bench_format_streaming.py [--size 1073741824] [--warc PATH] [--keep]
"""
from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # bench/, for common.py and proc_stats.py

from build_big_warc import GIB, build  # noqa: E402
from common import SHARED  # noqa: E402
from proc_stats import MemorySampler, mib  # noqa: E402


SETTINGS = ["spark.master=local[2]", "spark.driver_memory=1g", "spark.extra.spark.executor.memory=1g"]


def run_format(spark, cfg, jvm: int, path: str, output: Path) -> dict:
    from corpusforge.jobs.format import FormatStage
    from corpusforge.jobs.stage import run_stage
    with MemorySampler(jvm) as memory:
        started = time.perf_counter()
        stats = run_stage(spark, cfg, FormatStage(), [path], str(output))
        seconds = time.perf_counter() - started
    pythons = memory.python_peaks()
    return {"stats": stats, "seconds": seconds, "bytes": os.path.getsize(path), "jvm": memory.jvm_peak(),
            "python_max": pythons[0] if pythons else 0, "python_sum": memory.python_sum_peak,
            "workers": len(pythons), "samples": memory.samples, "hwm": memory.hwm}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", type=int, default=GIB)
    parser.add_argument("--warc", default=None, help="where to build the big WARC (default: a temp dir)")
    parser.add_argument("--keep", action="store_true", help="keep the big WARC afterwards")
    parser.add_argument("--built", default=str(SHARED / "warc" / "built"))
    parser.add_argument("--source", default="article-extraction-benchmark.warc.gz")
    args = parser.parse_args()

    from corpusforge.conf import load_config
    from corpusforge.jobs.session import build_session

    work = Path(tempfile.mkdtemp(prefix="cf-stream-"))
    big = Path(args.warc) if args.warc else work / "corpusforge-big.warc.gz"
    started = time.perf_counter()
    small = str(Path(args.built) / args.source)
    cfg = load_config(None, SETTINGS)  # read once, before the long run
    info = build(big, args.size, [Path(small)])
    print(f"built {big}: {info['bytes']:,} bytes ({info['bytes'] / GIB:.2f} GiB) in {time.perf_counter() - started:.0f} s "
          f"from {info['pages']} REAL pages replicated {info['replicas']:.2f} times = {info['records']:,} records")
    spark = build_session(cfg)
    jvm = spark.sparkContext._jvm.java.lang.ProcessHandle.current().pid()
    heap = spark.sparkContext._jvm.java.lang.Runtime.getRuntime().maxMemory()
    print(f"Spark: {' '.join(SETTINGS)}; JVM max heap {mib(heap)}; load average {os.getloadavg()[0]:.1f}")
    try:
        runs = {"small (the real WARC)": run_format(spark, cfg, jvm, small, work / "out-small"),
                "big": run_format(spark, cfg, jvm, str(big), work / "out-big")}
    finally:
        spark.stop()
        if not args.keep:
            big.unlink(missing_ok=True)
    driver_python = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024

    print(f"\n{'input':20} {'MiB':>8} {'docs':>7} {'kept':>7} {'seconds':>8} {'docs/s':>7} {'MiB/s':>6} "
          f"{'JVM peak RSS':>13} {'Py worker max':>14} {'Py workers sum':>15} {'workers':>7}")
    for label, run in runs.items():
        s = run["stats"]
        print(f"{label:20} {run['bytes'] / 2**20:8,.0f} {s['input_docs']:7,d} {s['kept_docs']:7,d} {run['seconds']:8.0f} "
              f"{s['input_docs'] / run['seconds']:7.1f} {run['bytes'] / 2**20 / run['seconds']:6.2f} "
              f"{mib(run['jvm']):>13} {mib(run['python_max']):>14} {mib(run['python_sum']):>15} {run['workers']:7d}")
    small_run, big_run = runs["small (the real WARC)"], runs["big"]
    print(f"\nbig / small: input {big_run['bytes'] / small_run['bytes']:.0f}x, JVM peak RSS "
          f"{big_run['jvm'] / small_run['jvm']:.2f}x, largest Python worker {big_run['python_max'] / small_run['python_max']:.2f}x")
    jvm_hwm = big_run["hwm"].get(jvm, 0)
    print(f"JVM VmHWM over the whole session: {mib(jvm_hwm)}; benchmark's own Python process (driver side) "
          f"peak RSS: {mib(driver_python)}")
    s = big_run["stats"]
    print(f"big run: {s['warc_records']:,} records, {s['html_records']:,} HTML, kept {s['kept_docs']:,}, removed "
          f"{s['removed_docs']:,} {s['removed_by_reason']}, skipped {s['skipped_by_reason']}, failed files {s['failed_files']}")
    print(f"the big WARC was {'kept at ' + str(big) if args.keep else 'deleted'}; outputs under {work}")


if __name__ == "__main__":
    main()
