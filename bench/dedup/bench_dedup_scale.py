"""Scale of the Dedup stage in local mode: wall time per step, peak driver (JVM) and Python worker
memory, at several corpus sizes, and how time grows with size.

The corpus is made from the real pages of ../shared/data by controlled mutation (bench/dedup/dedup_corpus.py):
about 80% unique documents, 15% near copies, 5% exact copies, three dumps. Each size runs in a fresh
process (a fresh Spark) so memory peaks do not mix; the baseline of the growth column is the
smallest size of the same run (time ratio vs size ratio; 1.0 = linear).

Usage: .venv/bin/python bench/dedup/bench_dedup_scale.py [--sizes 100000 300000 1000000] [--workdir /tmp/dedup-bench]
       (one size: --one N, used internally)

Results: bench/results/dedup_scale.json (one entry per size that finished).
"""
from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # bench/, for common.py and proc_stats.py

from common import ROOT, write_result  # noqa: E402


def one(n: int, workdir: Path, partitions: int, driver_memory: str) -> dict:
    from dedup_corpus import scale_corpus
    from proc_stats import MemorySampler

    from corpusforge.jobs.dedup import DedupStage

    from corpusforge.jobs.stage import run_stage
    from corpusforge.conf import load_config
    from corpusforge.jobs.session import build_session

    started = time.monotonic()
    source = scale_corpus(workdir, n)
    corpus_seconds = time.monotonic() - started
    cfg = load_config(None, ["spark.master=local[2]", f"spark.shuffle_partitions={partitions}",
                             f"spark.driver_memory={driver_memory}", "output.jsonl=false"])
    spark = build_session(cfg)
    jvm = spark.sparkContext._jvm.java.lang.ProcessHandle.current().pid()
    out = workdir / f"out_{n}"
    shutil.rmtree(out, ignore_errors=True)
    with MemorySampler(jvm, interval=0.5) as memory:
        t0 = time.monotonic()
        stats = run_stage(spark, cfg, DedupStage(), str(source), str(out))
        wall = time.monotonic() - t0
    spark.stop()
    return {"docs": n, "wall_seconds": round(wall, 1), "corpus_build_seconds": round(corpus_seconds, 1),
            "steps": stats["step_seconds"], "kept": stats["kept_docs"], "removed": stats["removed_by_reason"],
            "verified_edges": stats["verified_edges"], "cc_rounds": stats["cc_rounds"],
            "jvm_peak_mib": round(memory.jvm_peak() / 2**20), "python_workers_peak_sum_mib":
            round(memory.python_sum_peak / 2**20), "python_worker_peak_mib": round(max(memory.python_peaks() or [0]) / 2**20),
            "input_mib": round(sum(f.stat().st_size for f in (source / "kept").glob("*.parquet")) / 2**20)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 300_000, 1_000_000])
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/dedup-bench"))
    parser.add_argument("--partitions", type=int, default=16)
    parser.add_argument("--driver-memory", default="6g")
    parser.add_argument("--timeout", type=int, default=5400, help="seconds allowed per size")
    parser.add_argument("--one", type=int)
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    if args.one:
        import logging
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", stream=sys.stderr)
        print("RESULT " + json.dumps(one(args.one, args.workdir, args.partitions, args.driver_memory)), flush=True)
        return
    results = []
    for n in sorted(args.sizes):
        cmd = [sys.executable, __file__, "--one", str(n), "--workdir", str(args.workdir),
               "--partitions", str(args.partitions), "--driver-memory", args.driver_memory]
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=args.timeout, cwd=ROOT)
        except subprocess.TimeoutExpired as err:
            partial = (err.stderr or b"").decode(errors="replace") if isinstance(err.stderr, bytes) else (err.stderr or "")
            done = [line for line in partial.splitlines() if "dedup:" in line and "done in" in line]
            print(f"{n:>9,} docs: did not finish within {args.timeout} s; steps finished by then:", flush=True)
            for line in done:
                print("           " + line, flush=True)
            break
        line = next((l for l in proc.stdout.splitlines() if l.startswith("RESULT ")), None)
        if line is None:
            print(f"{n:>9,} docs: failed\n{proc.stderr[-3000:]}", flush=True)
            break
        r = json.loads(line[len("RESULT "):])
        results.append(r)
        base = results[0]
        growth = (r["wall_seconds"] / base["wall_seconds"]) / (r["docs"] / base["docs"])
        print(f"{n:>9,} docs: {r['wall_seconds']:8.1f} s  ({r['docs'] / r['wall_seconds']:7.0f} docs/s, "
              f"time/size growth vs {base['docs']:,}: {growth:.2f})  JVM peak {r['jvm_peak_mib']} MiB, "
              f"Python workers peak {r['python_workers_peak_sum_mib']} MiB (largest {r['python_worker_peak_mib']} MiB)",
              flush=True)
        print("           steps: " + ", ".join(f"{k} {v:.1f}s" for k, v in r["steps"].items()), flush=True)
        print(f"           kept {r['kept']:,}, removed {r['removed']}, verified edges {r['verified_edges']:,}, "
              f"CC rounds {r['cc_rounds']}, input {r['input_mib']} MiB Parquet, corpus built in "
              f"{r['corpus_build_seconds']} s", flush=True)
    print(f"results: {write_result('dedup_scale', results)}")


if __name__ == "__main__":
    main()
