"""Format stage. The report: "decompress the raw WARC files, parse the HTML and extract the main text
with Trafilatura, detect the language with pycld2, assign each document a unique identifier".

One Spark task per WARC file (the unit of streaming, retry and accounting). Each task streams its
file record by record and hands rows to Spark in bounded Arrow batches; the last row of every file
is its summary, so the driver can account for every record without a second pass.
"""
from __future__ import annotations

import hashlib
import json
import math
from collections import Counter
from contextlib import contextmanager
from typing import Any, Iterator, Mapping

import pyarrow as pa
from pyspark import StorageLevel
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

from corpusforge.conf import Config
from corpusforge.jobs.inputs import resolve_warc_inputs
from corpusforge.jobs.progress import documents_counter
from corpusforge.jobs.stage import VERDICT_FIELDS, Stage, StageOutput, arrow_schema, row_schema
from corpusforge.jobs.storage import Storage
from corpusforge.udfs.documents import ArchiveToDocuments, FormatOptions, unreadable_file_row
from corpusforge.udfs.extraction import ExtractionOptions
from corpusforge.udfs.warc_records import HttpReading

ROW_SCHEMA = row_schema(*VERDICT_FIELDS, T.StructField("file_summary", T.StringType()))


def format_options(cfg: Config) -> FormatOptions:
    fmt = cfg.format
    return FormatOptions(
        max_html_bytes=fmt.max_html_bytes, extraction_timeout_seconds=fmt.extraction_timeout_seconds,
        skip_truncated=fmt.skip_truncated, quirks_mode=fmt.quirks_mode,
        accept_status=tuple(fmt.accept_status), html_content_types=tuple(fmt.html_content_types),
        max_binary_ratio=fmt.max_binary_ratio,
        extraction=ExtractionOptions(**fmt.trafilatura.model_dump()),
        reading=HttpReading(max_head_bytes=fmt.http.max_head_bytes, implied_status=fmt.http.implied_status,
                            replay_archives=tuple(fmt.http.replay_archives)),
        sample_bytes=fmt.http.sample_bytes, samples_per_reason=fmt.http.samples_per_reason,
    )


def archive_rows(paths: Iterator[str], options: FormatOptions, storage: Storage) -> Iterator[dict]:
    """Rows of every archive file in turn; a file that cannot be opened is a counted summary row."""
    converter = ArchiveToDocuments(options)
    for path in paths:
        try:
            handle = storage.open_binary(path)
        except Exception as err:  # noqa: BLE001 — a missing or unreadable file never kills the job
            yield unreadable_file_row(path, err)
            continue
        with handle:
            yield from converter.rows(handle, path)


def documents_from_archives(spark: SparkSession, cfg: Config, paths: list[str]) -> DataFrame:
    """A DataFrame of ROW_SCHEMA rows, files_per_task archive files per task."""
    options, storage = format_options(cfg), Storage.of(cfg)
    batch_rows, schema = cfg.format.batch_rows, arrow_schema(ROW_SCHEMA)
    tasks = math.ceil(len(paths) / cfg.format.files_per_task)
    processed = documents_counter(spark)
    path_df = spark.createDataFrame(
        spark.sparkContext.parallelize([(p,) for p in paths], numSlices=tasks), "path string")

    def to_batches(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        files = (p for batch in batches for p in batch.column("path").to_pylist())
        pending: list[dict] = []
        for row in archive_rows(files, options, storage):
            if row["file_summary"] is None:
                processed.add(1)
            pending.append(row)
            if len(pending) >= batch_rows:
                yield pa.RecordBatch.from_pylist(pending, schema=schema)
                pending = []
        if pending:
            yield pa.RecordBatch.from_pylist(pending, schema=schema)

    return path_df.mapInArrow(to_batches, ROW_SCHEMA)


class FormatStage(Stage):
    """Reads archive files (paths, globs, directories, paths files), not a stage output: its input
    hooks resolve the paths on the driver, and the input's identity is the resolved paths."""
    name = "format"
    summary = "Format: WARC records → extracted, language-tagged documents."
    input_help = "WARC/ARC files, directories, globs or paths files (warc.paths.gz); local, http(s)://, s3://"

    def input_identity(self, cfg: Config, source: list[str], options: Mapping[str, Any]) -> str:
        return paths_id(self.read(None, cfg, source, options))

    def read(self, spark, cfg: Config, source: list[str], options: Mapping[str, Any]) -> list[str]:
        return resolve_warc_inputs(source, cfg.io.storage_options, cfg.format.paths_prefix)

    @contextmanager
    def transform(self, spark: SparkSession, cfg: Config, paths: list[str], options: Mapping[str, Any],
                  output: str) -> Iterator[StageOutput]:
        rows = documents_from_archives(spark, cfg, paths).persist(StorageLevel.DISK_ONLY)
        try:
            summaries = [json.loads(r.file_summary) for r in
                         rows.where(F.col("file_summary").isNotNull()).select("file_summary").collect()]
            docs = rows.where(F.col("file_summary").isNull())
            yield StageOutput.by_reason(docs, self.name, sum(s["html_records"] for s in summaries),
                                        archive_stats(summaries, cfg.format.http.samples_per_reason))
        finally:
            rows.unpersist()


def archive_stats(summaries: list[dict], samples_per_reason: int = 3) -> dict:
    """The Format stage's own counts: every record of every file, by what became of it, and what the
    reader repaired (records per repair kind) with a few samples of the records it could not read."""
    skipped, repaired, decoded, samples = Counter(), Counter(), Counter(), {}
    for s in summaries:
        skipped.update(s["skipped_by_reason"])
        repaired.update(s.get("repaired_by_kind", {}))
        decoded.update(s.get("decoded_by_kind", {}))
        for reason, found in s.get("skip_samples", {}).items():
            kept = samples.setdefault(reason, [])
            kept.extend({"warc_file": s["warc_file"], **x} for x in found[:samples_per_reason - len(kept)])
    return {
        "warc_files": len(summaries),
        "warc_records": sum(s["records"] for s in summaries),
        "html_records": sum(s["html_records"] for s in summaries),
        "skipped_by_reason": dict(skipped.most_common()),
        "repaired_records": sum(s.get("repaired_records", 0) for s in summaries),
        "repaired_by_kind": dict(repaired.most_common()),
        "decoded_by_kind": dict(decoded.most_common()),
        "skip_samples": samples,
        "failed_files": {s["warc_file"]: s["error"] for s in summaries if s["error"]},
        "files": {s["warc_file"]: {k: v for k, v in s.items() if k != "warc_file"} for s in summaries},
    }


def paths_id(paths: list[str]) -> str:
    """Identity of a Format input: the resolved archive paths (order-free)."""
    return hashlib.sha256("\n".join(sorted(paths)).encode()).hexdigest()[:16]

