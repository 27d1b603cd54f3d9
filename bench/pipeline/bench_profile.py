"""Where the CPU goes: Format, Clean and Dedup's record work, per step, in CPU milliseconds per record.

The three stages' Python code runs here in one process, without Spark, on the end-to-end benchmark's
corpus (bench/pipeline/build_corpus.py, the same --records and seed as bench_end_to_end.py, built in
--work when missing): every WARC record through udfs.documents (Format), every Format document
through udfs.cleaning (Clean), every Clean-kept text through udfs.minhash.dedup_features (Dedup), in
the stages' own batch sizes, with the Arrow conversions the Spark stages do around them. Each step's
CPU is measured exclusively (time.process_time around the step's function, minus the steps inside it),
so the steps of a stage add up to its total; what no step claims is listed as "other".

Format's steps: reading the WARC (fastwarc's record iteration and payload reads, inflation included),
the gzip framing check (a second inflation of every byte on the side), HTTP/charset decoding, HTML
parse (lxml), the tree-size check and title, trafilatura, language identification (pycld2), ids and
URLs, and the rows → Arrow batch conversion. Clean's: normalisation, the character-class and word
measures, each rule family, and the Arrow round trip. Dedup's: tokenising, the content hash, token
hashing, shingle hashing, per-document shingle sets, MinHash and the Arrow output.

The Spark side (JVM, Python workers' framework, Parquet writes, shuffles, JVM start-up) is what
bench_end_to_end.py measures per stage and per process kind minus these figures; with --e2e (its JSON,
default bench/results/end_to_end.json when it holds a run of the same corpus) that difference is
printed per stage.

Usage: .venv/bin/python bench/pipeline/bench_profile.py [--records 2000] [--work DIR] [--files N]
                                                        [--e2e bench/results/end_to_end.json] [--json PATH]
                                                        [--set KEY=VALUE ...]
Results: bench/results/profile.json (and --json PATH).
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # bench/, for common.py

import pyarrow as pa  # noqa: E402

from common import RESULTS, write_result  # noqa: E402

HERE = Path(__file__).resolve().parent


class StepClock:
    """Exclusive CPU seconds per step: wrapped functions add their own time minus that of the wrapped
    functions they call."""

    def __init__(self):
        self.seconds: dict[str, float] = defaultdict(float)
        self.calls: dict[str, int] = defaultdict(int)
        self._children: list[float] = []

    def timed(self, label: str, fn):
        clock = self

        def wrapper(*args, **kwargs):
            clock._children.append(0.0)
            start = time.process_time()
            try:
                return fn(*args, **kwargs)
            finally:
                elapsed = time.process_time() - start
                inner = clock._children.pop()
                clock.seconds[label] += elapsed - inner
                clock.calls[label] += 1
                if clock._children:
                    clock._children[-1] += elapsed
        wrapper.__wrapped__ = fn
        return wrapper

    def patch(self, owner, name: str, label: str) -> None:
        setattr(owner, name, self.timed(label, getattr(owner, name)))

    def timed_iterator(self, label: str, iterator):
        """Time each next() of an iterator (a generator's own work between yields)."""
        advance = self.timed(label, lambda: next(iterator, StopIteration))
        while (item := advance()) is not StopIteration:
            yield item


def options_from(sets: list[str]):
    from corpusforge.conf import load_config
    return load_config(None, sets)


def profile_format(files: list[Path], cfg, clock: StepClock) -> tuple[list[dict], float]:
    from corpusforge.jobs import format as format_job
    from corpusforge.jobs.stage import arrow_schema
    from corpusforge.udfs import documents, extraction, warc_records

    # steps, patched where the caller looks them up
    clock.patch(documents, "decode_html", "http/charset decoding")
    clock.patch(documents, "looks_binary", "http/charset decoding")
    clock.patch(documents, "detect_language", "language id (pycld2)")
    clock.patch(documents, "document_id", "ids, URLs, dump")
    clock.patch(documents, "host_of", "ids, URLs, dump")
    clock.patch(documents, "registered_domain", "ids, URLs, dump")
    clock.patch(documents, "dump_order", "ids, URLs, dump")
    clock.patch(extraction, "load_html", "HTML parse (lxml)")
    clock.patch(extraction, "_title_of", "tree size check, title")
    clock.patch(extraction.trafilatura, "extract", "trafilatura")
    if hasattr(warc_records, "GzipFramingCheck"):
        clock.patch(warc_records.GzipFramingCheck, "_inspect", "gzip framing check (second inflation)")
    plain_iter = documents.iter_records

    def iter_records(*args, **kwargs):
        for record in clock.timed_iterator("WARC read + inflate (fastwarc)", plain_iter(*args, **kwargs)):
            record.read_payload = clock.timed("WARC read + inflate (fastwarc)", record.read_payload)
            yield record
    documents.iter_records = iter_records
    extract = extraction.extract_main_text
    extraction.extract_main_text = clock.timed("tree size check, title", extract)
    documents.extract_main_text = extraction.extract_main_text

    schema = arrow_schema(format_job.ROW_SCHEMA)
    to_arrow = clock.timed("rows → Arrow", lambda rows: pa.RecordBatch.from_pylist(rows, schema=schema))
    converter = documents.ArchiveToDocuments(format_job.format_options(cfg))
    rows_of = clock.timed("record logic (skips, checks, row)", lambda it: next(it, None))
    docs, pending = [], []
    start = time.process_time()
    for path in files:
        with path.open("rb") as handle:
            rows = converter.rows(handle, str(path))
            while (row := rows_of(rows)) is not None:
                pending.append(row)
                if row["file_summary"] is None:
                    docs.append(row)
                if len(pending) >= cfg.format.batch_rows:
                    to_arrow(pending)
                    pending = []
    if pending:
        to_arrow(pending)
    return docs, time.process_time() - start


def profile_clean(docs: list[dict], cfg, clock: StepClock) -> tuple[list[dict], float]:
    from corpusforge.jobs import clean as clean_job
    from corpusforge.jobs.stage import DOCUMENT_COLUMNS, arrow_schema, row_schema
    from corpusforge.udfs import clean_rules, cleaning, text_units

    clock.patch(cleaning, "normalise", "normalisation (line rules, NFC, ftfy)")
    clock.patch(text_units, "char_classes", "character classes")
    clock.patch(text_units, "tokens", "word units (whitespace / jieba)")
    families = {}
    for rule in clean_rules.RULES:
        family = rule.__name__.split("_")[0] if rule.__name__.startswith(("gopher", "c4", "fineweb")) else "report rules"
        if rule.__name__.startswith("gopher"):
            family = "gopher repetition" if "dup" in rule.__name__ or "top" in rule.__name__ else "gopher quality"
        families[rule] = clock.timed(f"rules: {family}", rule)
    clean_rules_tuple = tuple(families[r] for r in clean_rules.RULES)
    cleaning.RULES = clean_rules_tuple

    settings = clean_job.clean_settings(cfg)
    cleaner = cleaning.Cleaner(settings)
    cleaner.clean = clock.timed("Clean other (thresholds, verdicts)", cleaner.clean)
    schema = arrow_schema(clean_job.ROW_SCHEMA)
    input_schema = arrow_schema(row_schema())
    batch_rows = cfg.spark.arrow_batch_rows
    kept: list[dict] = []
    start = time.process_time()
    for i in range(0, len(docs), batch_rows):
        chunk = [{c: d[c] for c in DOCUMENT_COLUMNS} for d in docs[i:i + batch_rows] if d["reason"] is None]
        for d in chunk:
            d["scores"] = list(d["scores"].items())
        batch = pa.RecordBatch.from_pylist(chunk, schema=input_schema)  # what Spark hands the worker
        out = clock.timed("Arrow in/out", clean_job.clean_batch)(cleaner, batch, schema)
        for row in out.to_pylist():
            if not row["failed_rules"]:
                kept.append(row)
    return kept, time.process_time() - start


def profile_dedup(docs: list[dict], cfg, clock: StepClock) -> float:
    from corpusforge.jobs import dedup as dedup_job
    from corpusforge.udfs import minhash, shingles

    if hasattr(shingles, "shingle_features"):  # the compiled path
        clock.patch(shingles, "folded", "tokenise: NFKC, lower, fold numbers (Python)")
        clock.patch(shingles, "_unknown_code_points", "tokenise: split, hash tokens (compiled)")
        clock.patch(shingles, "_fill_classes", "tokenise: split, hash tokens (compiled)")
        clock.patch(shingles, "_tokenise", "tokenise: split, hash tokens (compiled)")
        clock.patch(shingles, "_shingle_sets", "shingle sets: hash, sort, unique (compiled)")
        clock.patch(shingles.hashlib, "blake2b", "content hash (blake2b)")
        clock.patch(minhash, "signatures", "MinHash (128 permutations)")
        clock.patch(minhash, "shingle_features", "Dedup other (batch glue)")
    else:  # the reference path (before the compiled shingler)
        clock.patch(minhash, "tokens", "tokenise (NFKC, lower, fold, split)")
        clock.patch(minhash, "content_hash", "content hash (blake2b)")
        clock.patch(minhash.TokenBatch, "from_token_lists", "token hashes (xxh32)")
        clock.patch(minhash, "shingle_hashes", "shingle hashes (murmur3 of 5 tokens)")
        clock.patch(minhash, "unique_per_document", "shingle sets (sort, unique)")
        clock.patch(minhash, "signatures", "MinHash (128 permutations)")
    dedup_job.dedup_features = clock.timed("Dedup other (batch glue)", minhash.dedup_features)
    schema = pa.schema([("id", pa.string()), ("url", pa.string()), ("dump", pa.string()), ("dump_order", pa.int32()),
                        ("warc_date", pa.string()), ("text", pa.string())])
    batches = [pa.RecordBatch.from_pylist([{k: d[k] for k in schema.names} for d in docs[i:i + cfg.spark.arrow_batch_rows]],
                                          schema=schema) for i in range(0, len(docs), cfg.spark.arrow_batch_rows)]
    # the stage's own mapInArrow function, called as Spark calls it
    captured = {}

    class Capture:
        def select(self, *columns):
            return self

        def mapInArrow(self, fn, schema):
            captured["fn"] = fn
            return None
    dedup_job.document_features(Capture(), cfg)
    to_features = clock.timed("Arrow in/out", lambda it: list(captured["fn"](it)))
    start = time.process_time()
    to_features(iter(batches))
    return time.process_time() - start


def spark_side(e2e: dict | None, records: int, python_stage_cpu: dict[str, float]) -> dict:
    if not e2e or e2e.get("records") != records:
        return {}
    out = {}
    stages = e2e["corpusforge"]["stages"]
    for stage, python_cpu in python_stage_cpu.items():
        if stage in stages:
            s = stages[stage]
            out[stage] = {"stage_cpu": s["cpu"], "python_record_work": python_cpu, "by_process": s.get("by_process"),
                          "spark_and_framework": s["cpu"] - python_cpu}
    total = e2e["corpusforge"]["cpu"]
    out["fixed"] = {"cpu": total - sum(s["cpu"] for s in stages.values())}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--records", type=int, default=2000)
    parser.add_argument("--records-per-file", type=int, default=250)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--work", default=str(Path("/tmp") / "corpusforge-e2e"))
    parser.add_argument("--files", type=int, default=None, help="profile only the first N WARC files")
    parser.add_argument("--e2e", default=str(RESULTS / "end_to_end.json"),
                        help="bench_end_to_end.py's JSON: the Spark side is its stage CPU minus the record work")
    parser.add_argument("--set", dest="sets", action="append", default=[], help="conf override KEY=VALUE")
    parser.add_argument("--label", default="", help="a name for this profile in the JSON (e.g. before / after)")
    parser.add_argument("--json")
    args = parser.parse_args()

    corpus = Path(args.work) / f"corpus-{args.records}-{args.records_per_file}-{args.seed}"
    if not (corpus / "BUILD.json").exists():
        subprocess.run([sys.executable, str(HERE / "build_corpus.py"), str(corpus), "--records", str(args.records),
                        "--records-per-file", str(args.records_per_file), "--seed", str(args.seed)], check=True)
    files = sorted(corpus.glob("*/*.warc.gz"))[:args.files]
    cfg = options_from(args.sets)
    load = os.getloadavg()[0]
    import corpusforge.udfs.minhash  # noqa: F401 — numba compiles (or loads its cache) outside the figures
    corpusforge.udfs.minhash.signatures(__import__("numpy").zeros(1, "uint32"), __import__("numpy").array([0, 1]),
                                        cfg.dedup.num_perm, cfg.dedup.seed)

    clock = StepClock()
    docs, format_cpu = profile_format(files, cfg, clock)
    format_steps = dict(clock.seconds)
    clock = StepClock()
    kept, clean_cpu = profile_clean(docs, cfg, clock)
    clean_steps = dict(clock.seconds)
    clock = StepClock()
    dedup_cpu = profile_dedup(kept, cfg, clock)
    dedup_steps = dict(clock.seconds)

    result = {"label": args.label, "records": args.records, "files": len(files), "sets": args.sets,
              "load_average": load, "stages": {}}
    lines = [f"CPU per record, one process, no Spark; corpus {corpus} ({len(files)} files); load average {load:.1f}",
             f"conf overrides: {args.sets or 'none'}", ""]
    for stage, n, total, steps in (("format", len(docs), format_cpu, format_steps),
                                   ("clean", sum(d["reason"] is None for d in docs), clean_cpu, clean_steps),
                                   ("dedup", len(kept), dedup_cpu, dedup_steps)):
        other = total - sum(steps.values())
        rows = sorted(steps.items(), key=lambda kv: -kv[1]) + [("other (loops, glue)", other)]
        result["stages"][stage] = {"records": n, "cpu": total, "ms_per_record": 1000 * total / max(n, 1),
                                   "steps_ms_per_record": {k: 1000 * v / max(n, 1) for k, v in rows}}
        lines.append(f"{stage}: {n} records, {total:.2f} CPU s, {1000 * total / max(n, 1):.2f} ms per record")
        for label, seconds in rows:
            lines.append(f"  {label:46} {1000 * seconds / max(n, 1):9.3f} ms  {100 * seconds / total:5.1f}%")
        lines.append("")
    e2e = json.loads(Path(args.e2e).read_text()) if args.e2e and Path(args.e2e).exists() else None
    if args.files is None:
        spark = spark_side(e2e, args.records, {s: result["stages"][s]["cpu"] for s in ("format", "clean", "dedup")})
        if spark:
            result["spark_side"] = spark
            lines.append(f"Spark side (from {args.e2e}: that run's stage CPU minus this record work)")
            for stage, s in spark.items():
                if stage == "fixed":
                    lines.append(f"  {'JVM start-up, export, report':20} {s['cpu']:8.1f} CPU s")
                    continue
                split = s.get("by_process") or {}
                extra = ", ".join(f"{k} {v:.1f}" for k, v in split.items())
                lines.append(f"  {stage:20} stage {s['stage_cpu']:8.1f} CPU s = record work {s['python_record_work']:7.1f}"
                             f" + Spark/framework {s['spark_and_framework']:7.1f}" + (f"  (by process: {extra})" if extra else ""))
    print("\n".join(lines))
    path = write_result("profile" + (f"_{args.label}" if args.label else ""), result, args.json)
    print(f"results: {path}")


if __name__ == "__main__":
    main()
