"""Block-domain matching at the report's scale: a 13M-entry list against 1M documents, local mode.

The list is the real UT1 adult list (4,558,939 domains) grown to 13M with generated domains that look
like its own: real second-level labels recombined, given other TLDs, digits and subdomain prefixes.
The documents' hosts: 2% are subdomains (or the domain itself) of real UT1 entries, 1% of generated
ones, and the rest clean-looking hosts built from the words of real page URLs (../shared/data/warc),
some of them suffix tricks (a listed domain with letters in front: "ample.com" for "example.com").

The Spark join (jobs/blocklists.py) runs twice: with the default plan (adaptive execution may
broadcast the small side — the documents' host suffixes) and with broadcasts disabled (a shuffle
sort-merge join of both sides). The baseline, same run: the approach the issue rules out — a Python
set of the 13M domains (what a set copied into every worker costs each worker), probed in one
process with every host suffix. Figures: wall time, peak memory (JVM, Python workers, the set's
process), blocked documents (all three must agree).

Usage: .venv/bin/python bench/safety/bench_safety_domains.py [--entries 13000000] [--docs 1000000]
                                                            [--workdir /tmp/cf-bench-domains]

Results: bench/results/safety_domains.json (the planted truth and the three variants' figures).
"""
from __future__ import annotations

import argparse
import gzip
import json
import random
import re
import resource
import shutil
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # bench/, for common.py and proc_stats.py

from common import ROOT, SHARED, write_result  # noqa: E402

UT1 = ROOT / "resources" / "blocklists" / "ut1-adult" / "domains.gz"
TLDS = ["com", "net", "org", "info", "xyz", "top", "biz", "ru", "de", "fr", "nl", "co.uk", "com.br", "pl", "cz",
        "jp", "cn", "tk", "online", "site", "club", "live", "tv", "me", "io", "es", "it", "us", "eu", "xxx"]
PREFIXES = ["", "", "", "www.", "m.", "cdn.", "img.", "free.", "hd.", "live.", "en.", "de.", "video."]


def read_ut1() -> list[str]:
    with gzip.open(UT1, "rt", encoding="utf-8") as handle:
        return [line.strip() for line in handle if line.strip()]


def grow_list(real: list[str], target: int, path: Path, seed: int = 7) -> int:
    """The real list plus generated look-alikes until `target` distinct entries; written gzipped."""
    rng = random.Random(seed)
    labels = [d.split(".")[0] for d in real if "." in d]
    pieces = [p for label in rng.sample(labels, 200_000) for p in re.split(r"[-0-9]+", label) if 2 < len(p) < 9]
    seen = set(real)
    with gzip.open(path, "wt", encoding="utf-8", compresslevel=1) as out:
        out.write("\n".join(real) + "\n")
        made = len(real)
        while made < target:
            kind = rng.random()
            if kind < 0.4:  # a real name under another TLD
                name = f"{rng.choice(labels)}.{rng.choice(TLDS)}"
            elif kind < 0.8:  # recombined real pieces, sometimes with digits or a hyphen
                name = rng.choice(pieces) + rng.choice(["", "", "-", "4", "24", "x"]) + rng.choice(pieces)
                name = f"{name}{rng.choice(['', '', str(rng.randrange(100))])}.{rng.choice(TLDS)}"
            else:  # a listed subdomain
                name = f"{rng.choice(PREFIXES[3:])}{rng.choice(real)}"
            if name not in seen:
                seen.add(name)
                out.write(name + "\n")
                made += 1
    return made


def clean_words() -> list[str]:
    words = set()
    for warc in (SHARED / "warc").rglob("*.groundtruth.jsonl"):
        for line in warc.read_text(encoding="utf-8").splitlines():
            url = json.loads(line).get("url") or ""
            words.update(w for w in re.split(r"[^a-z]+", url.lower()) if 3 < len(w) < 12)
    return sorted(words) or ["news", "daily", "garden", "travel", "market", "science", "school", "city"]


def make_docs(real: list[str], generated_sample: list[str], n: int, path: Path, seed: int = 11) -> dict:
    rng = random.Random(seed)
    words = clean_words()
    rows, truth = [], {"listed": 0, "trick": 0, "clean": 0}
    for i in range(n):
        u = rng.random()
        if u < 0.02:
            host, kind = rng.choice(PREFIXES) + rng.choice(real), "listed"
        elif u < 0.03:
            host, kind = rng.choice(PREFIXES) + rng.choice(generated_sample), "listed"
        elif u < 0.04:  # suffix trick: letters glued in front of a listed name
            host, kind = "my" + rng.choice(real), "trick"
        else:
            host = f"{rng.choice(['www.', '', 'blog.', 'news.'])}{rng.choice(words)}{rng.choice(['', '-', ''])}" \
                   f"{rng.choice(words)}{rng.randrange(50) if rng.random() < 0.3 else ''}.{rng.choice(TLDS[:12])}"
            kind = "clean"
        truth[kind] += 1
        rows.append({"id": f"doc{i}", "host": host.upper() if i % 97 == 0 else host, "text": "x" * 200})
    import pyarrow as pa
    import pyarrow.parquet as pq
    path.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_pylist(rows), path / "part-0.parquet")
    return truth


def python_set_baseline(list_path: Path, docs_path: Path) -> dict:
    """A plain Python set of every entry, probed with every suffix of every host (one process)."""
    import pyarrow.parquet as pq

    from corpusforge.udfs.urls import normalise_host

    started = time.monotonic()
    with gzip.open(list_path, "rt", encoding="utf-8") as handle:
        entries = {line.strip().lower() for line in handle if line.strip()}
    loaded = time.monotonic() - started
    hosts = pq.read_table(docs_path, columns=["host"]).column("host").to_pylist()
    blocked = 0
    for host in hosts:
        h = normalise_host(host) or ""
        parts = h.split(".")
        if any(".".join(parts[i:]) in entries for i in range(len(parts) - 1)):
            blocked += 1
    return {"seconds": round(time.monotonic() - started, 1), "load_seconds": round(loaded, 1),
            "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024), "blocked": blocked}


def spark_run(list_path: Path, docs_path: Path, shuffle_only: bool, driver_memory: str) -> dict:
    from proc_stats import MemorySampler
    from pyspark.sql import functions as F

    from corpusforge.jobs.blocklists import mark_blocked_domains
    from corpusforge.conf import load_config
    from corpusforge.jobs.session import build_session

    sets = ["spark.master=local[2]", "spark.shuffle_partitions=16", f"spark.driver_memory={driver_memory}",
            f"safety.block_domains.lists={{bench: {list_path}}}"]
    if shuffle_only:
        sets += ["safety.block_domains.broadcast_max_bytes=0", "safety.block_domains.broadcast_max_blocked_hosts=0",
                 'spark.extra={"spark.sql.autoBroadcastJoinThreshold": "-1", '
                 '"spark.sql.adaptive.autoBroadcastJoinThreshold": "-1"}']
    cfg = load_config(None, sets)
    spark = build_session(cfg)
    jvm = spark.sparkContext._jvm.java.lang.ProcessHandle.current().pid()
    try:
        docs = spark.read.parquet(str(docs_path))
        with MemorySampler(jvm, interval=0.5) as memory:
            started = time.monotonic()
            marked = mark_blocked_domains(spark, cfg, docs)
            counts = marked.agg(F.count("*").alias("docs"), F.count("blocked_list").alias("blocked")).first()
            seconds = time.monotonic() - started
        plan = marked._jdf.queryExecution().executedPlan().toString()
        join = "broadcast" if "BroadcastHashJoin" in plan else "sort-merge" if "SortMergeJoin" in plan else "?"
        python = memory.python_peaks()
        return {"seconds": round(seconds, 1), "docs": counts["docs"], "blocked": counts["blocked"],
                "jvm_peak_mib": round(memory.jvm_peak() / 2**20), "jvm_hwm_mib": round(memory.hwm.get(jvm, 0) / 2**20),
                "python_workers_peak_mib": round(memory.python_sum_peak / 2**20), "python_workers": len(python),
                "join": join}
    finally:
        spark.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--entries", type=int, default=13_000_000)
    parser.add_argument("--docs", type=int, default=1_000_000)
    parser.add_argument("--workdir", default="/tmp/cf-bench-domains")
    parser.add_argument("--driver-memory", default="6g")
    args = parser.parse_args()
    work = Path(args.workdir)
    work.mkdir(parents=True, exist_ok=True)
    list_path, docs_path = work / f"domains-{args.entries}.txt.gz", work / f"docs-{args.docs}"
    real = read_ut1()
    t0 = time.monotonic()
    if not list_path.is_file():
        made = grow_list(real, args.entries, list_path)
        print(f"list: {len(real):,} real UT1 + {made - len(real):,} generated = {made:,} entries "
              f"({list_path.stat().st_size / 2**20:.0f} MiB gzipped) in {time.monotonic() - t0:.0f}s", flush=True)
    shutil.rmtree(docs_path, ignore_errors=True)
    with gzip.open(list_path, "rt", encoding="utf-8") as handle:
        sample = [line.strip() for _, line in zip(range(len(real) + 200_000), handle)][len(real):]
    truth = make_docs(real, sample, args.docs, docs_path)
    print(f"documents: {args.docs:,} ({truth})", flush=True)

    results = {"spark_default": spark_run(list_path, docs_path, False, args.driver_memory)}
    print("spark (default plan):", results["spark_default"], flush=True)
    results["spark_shuffle"] = spark_run(list_path, docs_path, True, args.driver_memory)
    print("spark (broadcasts off):", results["spark_shuffle"], flush=True)
    results["python_set"] = python_set_baseline(list_path, docs_path)
    print("python set baseline:", results["python_set"], flush=True)

    base = results["python_set"]
    print(f"\n{'variant':<26}{'wall s':>9}{'vs set':>8}{'peak MiB':>22}{'blocked':>10}")
    for name, r in results.items():
        peak = (f"JVM {r['jvm_peak_mib']:,} + py {r['python_workers_peak_mib']:,}" if "jvm_peak_mib" in r
                else f"{r['peak_rss_mib']:,} (one process)")
        print(f"{name:<26}{r['seconds']:>9.1f}{r['seconds'] / base['seconds']:>8.2f}{peak:>22}{r['blocked']:>10,}")
    print(f"expected blocked ≥ {truth['listed']:,} (documents on listed hosts; suffix tricks must not count)")
    print(f"results: {write_result('safety_domains', {'truth': truth, **results})}")


if __name__ == "__main__":
    main()
