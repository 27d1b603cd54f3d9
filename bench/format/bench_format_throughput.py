"""Format stage throughput (documents/s per core) vs a bare single-process loop, in the same run.

Input: every WARC file under ../shared/data/warc (ARC files excluded: the bare loop's fastwarc cannot
read them; WET files hold no HTML), the list repeated --repeat times through symlinks with distinct
names so the run lasts long enough to mean something.

  bare loop:  one Python process, fastwarc → HTML 200 responses → trafilatura.extract (bytes in, the
              same extraction switches as conf) → pycld2.detect. No ids, URLs, charset logic,
              accounting, Arrow or Spark.
  udfs loop:  one Python process running the stage's own record logic (udfs.documents: charset
              decoding, ids, URLs, accounting) without Spark: what our plumbing costs by itself.
  Spark:      corpusforge's Format stage (corpusforge.jobs.format) on local[--cores], writing its real
              output (Parquet kept/removed, JSONL as conf/local.yaml asks, _stats.json).
              Measured twice on the same list: cold (session start-up + first run, which forks the
              Python workers) and warm (a second run on the running session).

Figures: wall-clock documents/s, documents/s per core (Spark divided by --cores), and CPU
milliseconds per document (Spark: the JVM plus its Python workers, read from /proc). On a machine
shared with other work the CPU figure is the steadier comparison; wall-clock per core assumes the
cores were free.

With --against CHECKOUT (another checkout of corpusforge with its own .venv, e.g. the main branch) it
measures instead what a change to the record logic costs: the udfs loop of this checkout and of
CHECKOUT, each in its own process with its own code, alternated --rounds times on the same files,
and the reader alone (every record read, every HTML body read as the stage reads it, no extraction).
CPU seconds of the loop only (imports excluded), best and median of the rounds, and the ratio.

Usage: .venv/bin/python bench/format/bench_format_throughput.py [--repeat 2] [--cores 2]
       .venv/bin/python bench/format/bench_format_throughput.py --against ../main [--rounds 3]
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # bench/, for common.py and proc_stats.py

import pycld2  # noqa: E402
import trafilatura  # noqa: E402
from fastwarc.warc import ArchiveIterator, WarcRecordType  # noqa: E402

from common import SHARED  # noqa: E402
from proc_stats import tree_cpu_seconds  # noqa: E402

HTML_TYPES = ("text/html", "application/xhtml+xml")


def warc_files(data: Path) -> list[Path]:
    return sorted(p for p in data.rglob("*") if p.is_file() and p.name.endswith((".warc", ".warc.gz")))


def replicated(files: list[Path], repeat: int, into: Path) -> list[str]:
    """The file list `repeat` times, as symlinks with distinct names (the stage dedups identical paths)."""
    out = []
    for n in range(repeat):
        for path in files:
            link = into / f"r{n}-{path.name}"
            link.symlink_to(path.resolve())
            out.append(str(link))
    return out


def bare_loop(paths: list[str], fmt) -> tuple[int, float, float]:
    """(documents, wall seconds, CPU seconds) of fastwarc + trafilatura + pycld2 alone."""
    trafilatura_options = dict(output_format="txt", with_metadata=False, deduplicate=False,
                               favor_precision=fmt.trafilatura.favor == "precision",
                               favor_recall=fmt.trafilatura.favor == "recall",
                               include_comments=fmt.trafilatura.include_comments,
                               include_tables=fmt.trafilatura.include_tables,
                               include_images=False, include_links=False)
    docs = 0
    wall, cpu = time.perf_counter(), time.process_time()
    for path in paths:
        with open(path, "rb") as stream:
            for record in ArchiveIterator(stream, parse_http=True, record_types=WarcRecordType.response):
                if not record.is_http or record.http_headers.status_code != 200:
                    continue
                if record.http_content_type not in HTML_TYPES and record.http_content_type is not None:
                    continue
                docs += 1
                text = trafilatura.extract(record.reader.read(), **trafilatura_options)
                if text:
                    try:
                        pycld2.detect(text.encode("utf-8", "replace"), isPlainText=True)
                    except pycld2.error:
                        pass
    return docs, time.perf_counter() - wall, time.process_time() - cpu


def udfs_loop(paths: list[str], cfg) -> tuple[int, float, float]:
    """(documents, wall seconds, CPU seconds) of the stage's per-record logic in this process."""
    from corpusforge.jobs.format import format_options
    from corpusforge.udfs.documents import ArchiveToDocuments

    converter = ArchiveToDocuments(format_options(cfg))
    docs = 0
    wall, cpu = time.perf_counter(), time.process_time()
    for path in paths:
        with open(path, "rb") as stream:
            docs += sum(1 for row in converter.rows(stream, path) if row["file_summary"] is None)
    return docs, time.perf_counter() - wall, time.process_time() - cpu


def spark_runs(paths: list[str], cfg, work: Path) -> dict:
    from corpusforge.jobs.format import FormatStage
    from corpusforge.jobs.stage import run_stage
    from corpusforge.jobs.session import build_session

    started = time.perf_counter()
    spark = build_session(cfg)
    startup = time.perf_counter() - started
    jvm = spark.sparkContext._jvm.java.lang.ProcessHandle.current().pid()
    result = {"startup": startup, "jsonl": cfg.output.jsonl}
    try:
        for label in ("cold", "warm"):
            cpu0, wall0 = tree_cpu_seconds(jvm), time.perf_counter()
            stats = run_stage(spark, cfg, FormatStage(), paths, str(work / f"out-{label}"))
            result[label] = (stats["input_docs"], time.perf_counter() - wall0, tree_cpu_seconds(jvm) - cpu0,
                             stats["kept_docs"])
            print(f"Spark {label}: {result[label][0]} docs, {result[label][1]:.1f} s wall, {result[label][2]:.1f} s CPU; "
                  f"removed {stats['removed_by_reason']}", flush=True)
    finally:
        spark.stop()
    return result


# Run by each checkout's own Python (its own corpusforge): the udfs loop, or the reader alone, over the
# files named in argv; prints {"docs", "records", "cpu"} (CPU seconds of the loop, imports excluded).
CHILD = """
import json, sys, time
from corpusforge.conf import load_config
from corpusforge.jobs.format import format_options
from corpusforge.udfs.documents import ArchiveToDocuments
from corpusforge.udfs.warc_records import iter_records
mode, paths = sys.argv[1], sys.argv[2:]
options = format_options(load_config(None, []))
converter = ArchiveToDocuments(options)
docs = records = 0
cpu = time.process_time()
for path in paths:
    with open(path, "rb") as stream:
        if mode == "udfs":
            docs += sum(1 for row in converter.rows(stream, path) if row["file_summary"] is None)
            continue
        for record in iter_records(stream, path, quirks_mode=True):
            records += 1
            if converter.skip_reason(record) is None:
                docs += 1
                if hasattr(record, "read_body"):
                    record.read_body()
                else:
                    from corpusforge.udfs.content_encoding import decode_content, is_encoded
                    payload = record.read_payload(options.max_html_bytes + 1)
                    if is_encoded(payload, record.content_encoding):
                        decode_content(payload, record.content_encoding, options.max_html_bytes)
print(json.dumps({"docs": docs, "records": records, "cpu": time.process_time() - cpu}))
"""


def checkout_run(checkout: Path, mode: str, paths: list[str]) -> dict:
    import json
    import subprocess
    python = checkout / ".venv" / "bin" / "python"
    done = subprocess.run([str(python), "-c", CHILD, mode, *paths], cwd=checkout, capture_output=True, text=True,
                          check=True, env={**os.environ, "OMP_NUM_THREADS": "1"})
    return json.loads(done.stdout.strip().splitlines()[-1])


def compare_checkouts(against: Path, paths: list[str], rounds: int) -> None:
    """The udfs loop and the reader alone of this checkout vs `against`, alternated, CPU seconds."""
    import statistics
    here = Path(__file__).resolve().parents[2]
    for mode in ("reader", "udfs"):
        times: dict[str, list[float]] = {"baseline": [], "this": []}
        counts = {}
        for n in range(rounds):
            order = [("baseline", against), ("this", here)] if n % 2 == 0 else [("this", here), ("baseline", against)]
            for label, checkout in order:
                result = checkout_run(checkout, mode, paths)
                times[label].append(result["cpu"])
                counts[label] = (result["docs"], result["records"])
                print(f"  {mode} round {n + 1} {label:8} {result['cpu']:7.2f} s CPU ({result['docs']} HTML records)"
                      f"  load {os.getloadavg()[0]:.1f}", flush=True)
        best = {k: min(v) for k, v in times.items()}
        median = {k: statistics.median(v) for k, v in times.items()}
        print(f"{mode:6} baseline {against}: best {best['baseline']:.2f} s, median {median['baseline']:.2f} s; "
              f"this checkout: best {best['this']:.2f} s, median {median['this']:.2f} s; "
              f"ratio this/baseline: best {best['this'] / best['baseline']:.3f}, "
              f"median {median['this'] / median['baseline']:.3f}; HTML records {counts['baseline'][0]} vs "
              f"{counts['this'][0]}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", default=str(SHARED / "warc"))
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--cores", type=int, default=2)
    parser.add_argument("--against", type=Path, help="another checkout (with .venv) to compare the record logic with")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    if args.against is not None:
        files = [str(p) for p in warc_files(Path(args.data))]
        print(f"input: {len(files)} WARC files under {args.data}; {os.cpu_count()} CPUs, "
              f"load average {os.getloadavg()[0]:.1f} at start", flush=True)
        compare_checkouts(args.against.resolve(), files, args.rounds)
        print(f"load average {os.getloadavg()[0]:.1f} at end")
        return
    from corpusforge.conf import load_config

    cfg = load_config(None, [f"spark.master=local[{args.cores}]"])  # read once: the run outlives edits to conf/
    files = warc_files(Path(args.data))
    with tempfile.TemporaryDirectory(prefix="cf-bench-") as tmp:
        work = Path(tmp)
        (work / "in").mkdir()
        paths = replicated(files, args.repeat, work / "in")
        print(f"input: {len(files)} WARC files under {args.data} x {args.repeat} = {len(paths)} files; "
              f"machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f} at start")
        bare_docs, bare_wall, bare_cpu = bare_loop(paths, cfg.format)
        print(f"bare loop: {bare_docs} docs, {bare_wall:.1f} s wall, {bare_cpu:.1f} s CPU", flush=True)
        udfs_docs, udfs_wall, udfs_cpu = udfs_loop(paths, cfg)
        print(f"udfs loop: {udfs_docs} docs, {udfs_wall:.1f} s wall, {udfs_cpu:.1f} s CPU", flush=True)
        spark = spark_runs(paths, cfg, work)
    print(f"load average {os.getloadavg()[0]:.1f} at end\n")

    bare_rate = bare_docs / bare_wall
    rows = [("bare loop (1 process)", bare_docs, bare_wall, 1, bare_cpu),
            ("udfs loop (1 process, no Spark)", udfs_docs, udfs_wall, 1, udfs_cpu)]
    cold_docs, cold_wall, cold_cpu, _ = spark["cold"]
    warm_docs, warm_wall, warm_cpu, kept = spark["warm"]
    rows.append(("Spark warm (stage only)", warm_docs, warm_wall, args.cores, warm_cpu))
    rows.append((f"Spark cold (+ {spark['startup']:.1f}s start-up)", cold_docs, cold_wall + spark["startup"],
                 args.cores, cold_cpu))
    print(f"{'run':34} {'docs':>6} {'wall s':>8} {'docs/s':>8} {'cores':>5} {'docs/s/core':>11} "
          f"{'ratio':>6} {'CPU s':>8} {'CPU ms/doc':>10} {'ratio':>6}")
    for label, docs, wall, cores, cpu in rows:
        per_core = docs / wall / cores
        print(f"{label:34} {docs:6d} {wall:8.1f} {docs / wall:8.2f} {cores:5d} {per_core:11.2f} "
              f"{per_core / bare_rate:6.2f} {cpu:8.1f} {1000 * cpu / docs:10.1f} "
              f"{(bare_cpu / bare_docs) / (cpu / docs):6.2f}")
    print("\nratio = Spark per-core throughput / bare loop throughput (1.00 = no overhead; goal >= 0.75);"
          "\nCPU ratio = bare CPU per doc / Spark CPU per doc (all Spark processes).")
    print(f"Spark kept {kept} of {warm_docs} documents; JSONL output {'on' if spark['jsonl'] else 'off'}; "
          f"documents counted by both sides: {'same' if bare_docs == warm_docs else 'DIFFERENT'} "
          f"({bare_docs} vs {warm_docs}).")


if __name__ == "__main__":
    main()
