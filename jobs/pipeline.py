"""`corpusforge run`: the report's five data states in order, then the final JSONL export and the report.

Each stage's _SUCCESS records the fingerprint of its configuration and input. A rerun skips every
stage whose fingerprint still matches and reruns from the first that changed; since a rerun stage
writes the same marker for the same input and configuration, later stages stay valid exactly when
their input is unchanged, and outputs of two configurations are never mixed. A run killed at any
point leaves the interrupted stage without _SUCCESS, so the next run redoes it and only it.
"""
from __future__ import annotations

import importlib
import json
import time

from pyspark.sql import SparkSession

from jobs.config import Config
from jobs.export import write_jsonl_shards
from jobs.inputs import resolve_warc_inputs
from jobs.progress import StageProgress
from jobs.report import build_report
from jobs.stage_io import (DOCUMENT_COLUMNS, InputError, join, marker_id, read_success, read_text,
                           spark_path, stage_fingerprint, write_text)

STAGES = ("format", "clean", "dedup", "safety", "quality")


def log(message: str) -> None:
    print(f"[corpusforge {time.strftime('%H:%M:%S')}] {message}", flush=True)


def stage_module(stage: str):
    return importlib.import_module(f"jobs.{stage}")


# Each stage's check of what it reads from conf (settings, model directories, list files), run on the
# driver before Spark starts; a stage not named here reads nothing from disk but its input.
START_UP_CHECKS = {"dedup": "check_settings", "safety": "check_start_up", "quality": "check_models"}


def chosen_stages(first: str, last: str) -> tuple[str, ...]:
    for name in (first, last):
        if name not in STAGES:
            raise InputError(f"unknown stage {name!r}. Fix: use one of {', '.join(STAGES)}.")
    chosen = STAGES[STAGES.index(first): STAGES.index(last) + 1]
    if not chosen:
        raise InputError(f"--from {first} comes after --to {last}. Fix: swap them.")
    return chosen


def check_start_up(cfg: Config, first: str = STAGES[0], last: str = STAGES[-1]) -> None:
    """The start-up checks of every stage the run will reach, so that a missing model directory or an
    unreadable block list stops `corpusforge run` before the JVM starts, not after hours of Format.
    Raises InputError (stage names) or ConfigError (naming the conf key)."""
    for stage in chosen_stages(first, last):
        check = START_UP_CHECKS.get(stage)
        if check is not None:
            getattr(stage_module(stage), check)(cfg)


def run_pipeline(spark: SparkSession, cfg: Config, inputs: list[str], output: str,
                 first: str = STAGES[0], last: str = STAGES[-1]) -> dict:
    chosen = chosen_stages(first, last)
    started = time.monotonic()
    every_stats: dict[str, dict] = {}
    previous = None if first == STAGES[0] else join(output, STAGES[STAGES.index(first) - 1])
    for stage in chosen:
        stage_dir = join(output, stage)
        if previous is None:
            stage_input, input_id = inputs, stage_module("format").paths_id(
                resolve_warc_inputs(inputs, cfg.io.storage_options, cfg.format.paths_prefix))
        else:
            marker = read_success(cfg, previous)
            if marker is None:
                raise InputError(f"{previous} has no _SUCCESS. Fix: run the earlier stages first "
                                 f"(corpusforge run without --from, or --from an earlier stage).")
            stage_input, input_id = previous, marker_id(marker)
        every_stats[stage] = run_or_skip(spark, cfg, stage, stage_input, stage_dir, input_id)
        previous = stage_dir
    final = export_final(spark, cfg, previous, join(output, "final"))
    summary = {"stages": every_stats, "final": final, "seconds": round(time.monotonic() - started, 3),
               "funnel": funnel(every_stats)}
    write_text(cfg, join(output, "stats.json"), json.dumps(summary, indent=2, sort_keys=True))
    build_report(spark, cfg, output, STAGES)
    log(f"report: {join(output, 'report.html')}")
    log(f"done in {summary['seconds']:.1f}s: {final['rows']} documents in {join(output, 'final')}")
    return summary


def run_or_skip(spark: SparkSession, cfg: Config, stage: str, stage_input, stage_dir: str, input_id: str) -> dict:
    expected = stage_fingerprint(cfg, stage, input_id)
    done = read_success(cfg, stage_dir)
    if done and all(done.get(k) == v for k, v in expected.items()):
        log(f"{stage}: finished earlier with the same input and configuration, skipped")
        return json.loads(read_text(cfg, join(stage_dir, "_stats.json")) or "{}")
    log(f"{stage}: running → {stage_dir}")
    with StageProgress(spark, stage, cfg.spark.progress_seconds, log):
        stats = stage_module(stage).run(spark, cfg, stage_input, stage_dir)
    log(f"{stage}: {stats['input_docs']} in, {stats['kept_docs']} kept, {stats['removed_docs']} removed "
        f"in {stats['seconds']:.1f}s")
    return stats


def export_final(spark: SparkSession, cfg: Config, last_stage_dir: str, final_dir: str) -> dict:
    """The last stage's kept documents as sharded JSONL, skipped when already exported from the same input."""
    expected = {"input": marker_id(read_success(cfg, last_stage_dir) or {}),
                "config": cfg.fingerprint("output")}
    done = read_text(cfg, join(final_dir, "_SOURCE"))
    if done and json.loads(done) == expected and read_text(cfg, join(final_dir, "_SUCCESS")):
        log("final: exported earlier from the same input, skipped")
        return json.loads(read_text(cfg, join(final_dir, "_SUCCESS")))
    kept = spark.read.parquet(spark_path(join(last_stage_dir, "kept"))).select(*DOCUMENT_COLUMNS)
    if cfg.output.final_shards:
        kept = kept.repartition(cfg.output.final_shards, "id")
    summary = write_jsonl_shards(kept.sortWithinPartitions("id"), final_dir, cfg.output.final_compression,
                                 cfg.io.storage_options)
    write_text(cfg, join(final_dir, "_SOURCE"), json.dumps(expected, sort_keys=True))
    log(f"final: {summary['rows']} documents in {summary['shards']} shards")
    return summary


def funnel(every_stats: dict[str, dict]) -> list[dict]:
    """Documents and characters after each stage: the first figure of the run report."""
    rows = []
    for stage, stats in every_stats.items():
        if not rows:
            rows.append({"state": "input", "docs": stats.get("input_docs", 0), "chars": None})
        rows.append({"state": stage, "docs": stats.get("kept_docs", 0), "chars": stats.get("kept_chars")})
    return rows


if __name__ == "__main__":  # spark-submit jobs/pipeline.py --input … --output …
    import sys

    from jobs.cli import main
    main(["run", *sys.argv[1:]])
