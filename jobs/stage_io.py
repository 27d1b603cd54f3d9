"""The contract every stage keeps: kept/, removed/, _stats.json, then _SUCCESS, written last.

Counts in _stats.json are read back from what was written, and `input_docs` is counted
independently by the stage, so `input_docs == kept_docs + removed_docs` is a real check: a stage
that loses a document fails instead of writing _SUCCESS.
"""
from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import dataclass, field
from typing import Any

import fsspec
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

from jobs.config import Config

VERSION = "0.1.0"

DOCUMENT_SCHEMA = T.StructType([
    T.StructField("id", T.StringType(), False),
    T.StructField("url", T.StringType()),
    T.StructField("host", T.StringType()),
    T.StructField("domain", T.StringType()),
    T.StructField("dump", T.StringType()),
    T.StructField("dump_order", T.IntegerType()),
    T.StructField("warc_file", T.StringType()),
    T.StructField("warc_record_id", T.StringType()),
    T.StructField("warc_date", T.StringType()),
    T.StructField("language", T.StringType()),
    T.StructField("language_score", T.DoubleType()),
    T.StructField("title", T.StringType()),
    T.StructField("text", T.StringType()),
    T.StructField("scores", T.MapType(T.StringType(), T.DoubleType())),
])
DOCUMENT_COLUMNS = [f.name for f in DOCUMENT_SCHEMA.fields]


class StageFailed(RuntimeError):
    """A stage could not keep its contract (e.g. documents went missing); no _SUCCESS is written."""


class InputError(ValueError):
    """An input path that does not exist or is not what the stage reads; raised at start-up."""


@dataclass
class StageOutput:
    """What a stage hands to write_stage: its two outputs and what it counted on the way."""
    kept: DataFrame
    removed: DataFrame  # DOCUMENT_COLUMNS + stage, reason, detail (+ the stage's own columns)
    input_docs: int
    extra_stats: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def by_reason(cls, judged: DataFrame, stage: str, input_docs: int,
                  extra_stats: dict[str, Any] | None = None) -> "StageOutput":
        """Split documents on their `reason` column: null is kept, anything else is removed with its `detail`."""
        return cls(kept=judged.where(F.col("reason").isNull()).select(*DOCUMENT_COLUMNS),
                   removed=removed_rows(judged.where(F.col("reason").isNotNull()), stage, F.col("reason"),
                                        F.col("detail")),
                   input_docs=input_docs, extra_stats=extra_stats or {})


def spark_path(path: str) -> str:
    """Spark (Hadoop) form of a path: absolute file: URIs locally, s3a:// for S3."""
    if "://" not in path:
        return "file://" + os.path.abspath(path)
    if path.startswith("s3://"):
        return "s3a://" + path[len("s3://"):]
    return path


def fs_path(path: str) -> str:
    """fsspec form of a path (driver-side small files)."""
    if path.startswith("file://"):
        return path[len("file://"):]
    if path.startswith("s3a://"):
        return "s3://" + path[len("s3a://"):]
    return path if "://" in path else os.path.abspath(path)


def join(base: str, *parts: str) -> str:
    return "/".join([base.rstrip("/"), *parts])


def read_text(cfg: Config, path: str) -> str | None:
    fs_url = fs_path(path)
    protocol = fs_url.split("://")[0] if "://" in fs_url else "file"
    fs = fsspec.filesystem(protocol, **cfg.io.storage_options.get(protocol, {}))
    if not fs.exists(fs_url):
        return None
    with fs.open(fs_url, "r", encoding="utf-8") as handle:
        return handle.read()


def write_text(cfg: Config, path: str, text: str) -> None:
    fs_url = fs_path(path)
    protocol = fs_url.split("://")[0] if "://" in fs_url else "file"
    fs = fsspec.filesystem(protocol, **cfg.io.storage_options.get(protocol, {}))
    parent = fs_url.rsplit("/", 1)[0]
    fs.makedirs(parent, exist_ok=True)
    with fs.open(fs_url, "w", encoding="utf-8") as handle:
        handle.write(text)


def remove_file(cfg: Config, path: str) -> None:
    fs_url = fs_path(path)
    protocol = fs_url.split("://")[0] if "://" in fs_url else "file"
    fs = fsspec.filesystem(protocol, **cfg.io.storage_options.get(protocol, {}))
    if fs.exists(fs_url):
        fs.rm(fs_url)


def read_success(cfg: Config, stage_dir: str) -> dict | None:
    """The _SUCCESS marker of a finished stage output, or None when the stage did not finish."""
    text = read_text(cfg, join(stage_dir, "_SUCCESS"))
    if text is None:
        return None
    try:
        return json.loads(text) if text.strip() else {}
    except json.JSONDecodeError:
        return {}


def read_stage_input(spark: SparkSession, cfg: Config, input_dir: str) -> tuple[DataFrame, dict]:
    """The kept documents of a finished earlier stage and its _SUCCESS (for fingerprints)."""
    marker = read_success(cfg, input_dir)
    if marker is None:
        raise InputError(f"input {input_dir} is not a finished stage output (no _SUCCESS there). "
                         f"Fix: point --input at the output directory of the previous stage, and run that stage first.")
    return spark.read.parquet(spark_path(join(input_dir, "kept"))), marker


def begin_stage(cfg: Config, output: str) -> float:
    """Forget an earlier run's success marker before anything is overwritten."""
    remove_file(cfg, join(output, "_SUCCESS"))
    return time.monotonic()


def removed_rows(df: DataFrame, stage: str, reason, detail=None) -> DataFrame:
    """Documents plus the columns every removed/ table has: stage, reason, detail."""
    return df.select(*DOCUMENT_COLUMNS,
                     F.lit(stage).alias("stage"),
                     (reason if not isinstance(reason, str) else F.lit(reason)).alias("reason"),
                     (F.lit(None).cast("string") if detail is None else detail).alias("detail"))


def marker_id(marker: dict) -> str:
    """Identity of a finished stage output: a later stage's input fingerprint."""
    return hashlib.sha256(json.dumps(marker, sort_keys=True).encode()).hexdigest()[:16]


def stage_fingerprint(cfg: Config, stage: str, input_id: str) -> dict[str, str]:
    """What _SUCCESS records and the pipeline runner compares: the stage's configuration and its input."""
    shared = ("inference",) if stage in ("safety", "quality") else ()  # classifiers' window, batch, policy
    sections = [name for name in (stage, *shared, "output") if name in type(cfg).model_fields]
    return {"config": cfg.fingerprint(*sections), "input": input_id}


def write_stage(spark: SparkSession, cfg: Config, stage: str, output: str, result: StageOutput,
                started: float, input_id: str) -> dict[str, Any]:
    """Write kept/ and removed/, then _stats.json from what was written, then _SUCCESS.

    input_id identifies the input: marker_id() of the previous stage's _SUCCESS, or a hash of the
    WARC paths for Format.
    """
    compression = cfg.output.parquet_compression
    kept_path, removed_path = spark_path(join(output, "kept")), spark_path(join(output, "removed"))
    result.kept.select(*DOCUMENT_COLUMNS, *[c for c in result.kept.columns if c not in DOCUMENT_COLUMNS]) \
        .write.mode("overwrite").option("compression", compression).parquet(kept_path)
    result.removed.write.mode("overwrite").option("compression", compression).parquet(removed_path)
    kept = spark.read.parquet(kept_path)
    if cfg.output.jsonl:
        jsonl_codec = None if cfg.output.jsonl_compression == "none" else cfg.output.jsonl_compression
        writer = kept.write.mode("overwrite")
        if jsonl_codec:
            writer = writer.option("compression", jsonl_codec)
        writer.json(spark_path(join(output, "kept_jsonl")))
    stats = _count(spark, stage, kept, spark.read.parquet(removed_path), result, started)
    write_text(cfg, join(output, "_stats.json"), json.dumps(stats, indent=2, sort_keys=True))
    if stats["input_docs"] != stats["kept_docs"] + stats["removed_docs"]:
        raise StageFailed(f"{stage}: {stats['input_docs']} documents in but {stats['kept_docs']} kept + "
                          f"{stats['removed_docs']} removed; no _SUCCESS written to {output}")
    marker = {"stage": stage, "version": VERSION, **stage_fingerprint(cfg, stage, input_id),
              "counts": {k: stats[k] for k in ("input_docs", "kept_docs", "removed_docs")}}
    write_text(cfg, join(output, "_SUCCESS"), json.dumps(marker, sort_keys=True))
    return stats


def _count(spark: SparkSession, stage: str, kept: DataFrame, removed: DataFrame, result: StageOutput,
           started: float) -> dict[str, Any]:
    by_language = {(r["language"] or "null"): (r["n"], r["chars"] or 0) for r in
                   kept.groupBy("language").agg(F.count("*").alias("n"),
                                                F.sum(F.length("text")).alias("chars")).collect()}
    by_reason = {(r["reason"] or "null"): r["n"] for r in
                 removed.groupBy("reason").agg(F.count("*").alias("n")).collect()}
    stats = {
        "stage": stage,
        "input_docs": int(result.input_docs),
        "kept_docs": int(sum(n for n, _ in by_language.values())),
        "kept_chars": int(sum(c for _, c in by_language.values())),
        "removed_docs": int(sum(by_reason.values())),
        "removed_by_reason": dict(sorted(by_reason.items(), key=lambda kv: -kv[1])),
        "kept_by_language": dict(sorted(((k, n) for k, (n, _) in by_language.items()), key=lambda kv: -kv[1])),
        "seconds": round(time.monotonic() - started, 3),
    }
    stats.update(result.extra_stats)
    return stats
