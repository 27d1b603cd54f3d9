"""`corpusforge run`: the stages of jobs/registry.py in order, then the final JSONL export (and each branch
stage's subset beside it: DIR/final_longtext/) and the report.

Each stage's _SUCCESS records the fingerprint of its configuration and input. A rerun skips every
stage whose fingerprint still matches and reruns from the first that changed; since a rerun stage
writes the same marker for the same input and configuration, later stages stay valid exactly when
their input is unchanged, and outputs of two configurations are never mixed. A run killed at any
point leaves the interrupted stage without _SUCCESS, so the next run redoes it and only it.
"""
from __future__ import annotations

import json
import time
from typing import Any, Mapping

from pyspark.sql import SparkSession

from corpusforge.conf import Config
from corpusforge.jobs.export import write_jsonl_shards
from corpusforge.jobs.progress import StageProgress
from corpusforge.jobs.registry import NAMES, STAGES, stage
from corpusforge.jobs.report import build_report
from corpusforge.jobs.stage import DOCUMENT_COLUMNS, InputError, Stage, marker_id, read_success, run_stage
from corpusforge.jobs.storage import Storage, join, spark_path


def log(message: str) -> None:
    print(f"[corpusforge {time.strftime('%H:%M:%S')}] {message}", flush=True)


def chosen_stages(first: str, last: str) -> tuple[Stage, ...]:
    start, end = NAMES.index(stage(first).name), NAMES.index(stage(last).name)
    if start > end:
        raise InputError(f"--from {first} comes after --to {last}. Fix: swap them.")
    return STAGES[start:end + 1]


def stage_source(output: str, inputs: list[str], chosen: Stage) -> list[str]:
    """What a stage of the run reads: the run's inputs for the first stage of the registry, else the
    output of the last stage before it that is not a branch (a branch's kept/ is a subset beside the
    corpus, not the corpus)."""
    position = NAMES.index(chosen.name)
    before = [s for s in STAGES[:position] if not s.branch]
    return list(inputs) if not before else [join(output, before[-1].name)]


def corpus_stage(last: str) -> Stage:
    """The stage whose kept/ is the run's corpus: the last stage up to `last` that is not a branch."""
    return [s for s in STAGES[:NAMES.index(stage(last).name) + 1] if not s.branch][-1]


def check_start_up(cfg: Config, inputs: list[str], output: str, first: str = NAMES[0], last: str = NAMES[-1],
                   options: Mapping[str, Any] | None = None) -> None:
    """Before the JVM starts: the checks of every stage the run will reach — so that a missing model
    directory or an unreadable block list stops `corpusforge run` before hours of Format, not after —
    and the input of the first one. Raises InputError or ConfigError naming the fix."""
    chosen = chosen_stages(first, last)
    for s in chosen:
        s.check(cfg, s.with_defaults(options))
    if chosen[0].name == NAMES[0] and not inputs:
        raise InputError(f"--input is required when the run starts at {NAMES[0]} ({chosen[0].input_help}).")
    chosen[0].input_identity(cfg, stage_source(output, inputs, chosen[0]), chosen[0].with_defaults(options))


def run_pipeline(spark: SparkSession, cfg: Config, inputs: list[str], output: str,
                 first: str = NAMES[0], last: str = NAMES[-1], options: Mapping[str, Any] | None = None) -> dict:
    chosen = chosen_stages(first, last)
    started = time.monotonic()
    every_stats: dict[str, dict] = {}
    for s in chosen:
        every_stats[s.name] = run_or_skip(spark, cfg, s, stage_source(output, inputs, s), join(output, s.name),
                                          s.with_defaults(options))
    final = export_final(spark, cfg, join(output, corpus_stage(chosen[-1].name).name), join(output, "final"))
    subsets = {f"final_{s.name}": export_final(spark, cfg, join(output, s.name), join(output, f"final_{s.name}"),
                                               every_column=True) for s in chosen if s.branch}
    summary = {"stages": every_stats, "final": final, **subsets, "seconds": round(time.monotonic() - started, 3),
               "funnel": funnel({s.name: every_stats[s.name] for s in chosen if not s.branch})}
    Storage.of(cfg).write_text(join(output, "stats.json"), json.dumps(summary, indent=2, sort_keys=True))
    build_report(spark, cfg, output, NAMES)
    log(f"report: {join(output, 'report.html')}")
    log(f"done in {summary['seconds']:.1f}s: {final['rows']} documents in {join(output, 'final')}"
        + "".join(f", {v['rows']} in {join(output, k)}" for k, v in subsets.items()))
    return summary


def run_or_skip(spark: SparkSession, cfg: Config, chosen: Stage, source: list[str], stage_dir: str,
                options: Mapping[str, Any]) -> dict:
    expected = chosen.fingerprint(cfg, chosen.input_identity(cfg, source, options))
    done = read_success(cfg, stage_dir)
    if done and all(done.get(k) == v for k, v in expected.items()):
        log(f"{chosen.name}: finished earlier with the same input and configuration, skipped")
        return json.loads(Storage.of(cfg).read_text(join(stage_dir, "_stats.json")) or "{}")
    log(f"{chosen.name}: running → {stage_dir}")
    with StageProgress(spark, chosen.name, cfg.spark.progress_seconds, log):
        stats = run_stage(spark, cfg, chosen, source, stage_dir, options)
    log(f"{chosen.name}: {stats['input_docs']} in, {stats['kept_docs']} kept, {stats['removed_docs']} removed "
        f"in {stats['seconds']:.1f}s")
    return stats


def export_final(spark: SparkSession, cfg: Config, last_stage_dir: str, final_dir: str,
                 every_column: bool = False) -> dict:
    """A stage's kept documents as sharded JSONL (the document columns; with every_column, the stage's
    own columns too, such as the long-text domain), skipped when already exported from the same input."""
    storage = Storage.of(cfg)
    expected = {"input": marker_id(read_success(cfg, last_stage_dir) or {}),
                "config": cfg.fingerprint("output")}
    done = storage.read_text(join(final_dir, "_SOURCE"))
    if done and json.loads(done) == expected and storage.read_text(join(final_dir, "_SUCCESS")):
        log(f"{final_dir.rstrip('/').rsplit('/', 1)[-1]}: exported earlier from the same input, skipped")
        return json.loads(storage.read_text(join(final_dir, "_SUCCESS")))
    kept = spark.read.parquet(spark_path(join(last_stage_dir, "kept")))
    kept = kept if every_column else kept.select(*DOCUMENT_COLUMNS)
    if cfg.output.final_shards:
        kept = kept.repartition(cfg.output.final_shards, "id")
    summary = write_jsonl_shards(kept.sortWithinPartitions("id"), final_dir, cfg.output.final_compression,
                                 cfg.io.storage_options)
    storage.write_text(join(final_dir, "_SOURCE"), json.dumps(expected, sort_keys=True))
    log(f"{final_dir.rstrip('/').rsplit('/', 1)[-1]}: {summary['rows']} documents in {summary['shards']} shards")
    return summary


def funnel(every_stats: dict[str, dict]) -> list[dict]:
    """Documents and characters after each stage: the first figure of the run report."""
    rows = []
    for name, stats in every_stats.items():
        if not rows:
            rows.append({"state": "input", "docs": stats.get("input_docs", 0), "chars": None})
        rows.append({"state": name, "docs": stats.get("kept_docs", 0), "chars": stats.get("kept_chars")})
    return rows
