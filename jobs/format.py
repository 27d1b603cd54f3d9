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
from typing import Iterator

import pyarrow as pa
from pyspark import StorageLevel
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

from jobs.config import Config
from jobs.inputs import open_archive, resolve_warc_inputs
from jobs.progress import documents_counter
from jobs.stage_io import DOCUMENT_SCHEMA, StageOutput, begin_stage, write_stage
from udfs.documents import ArchiveToDocuments, FormatOptions, unreadable_file_row
from udfs.extraction import ExtractionOptions

STAGE = "format"
ROW_SCHEMA = T.StructType([T.StructField(f.name, f.dataType, True) for f in DOCUMENT_SCHEMA.fields] + [
    T.StructField("reason", T.StringType()),
    T.StructField("detail", T.StringType()),
    T.StructField("file_summary", T.StringType()),
])


def format_options(cfg: Config) -> FormatOptions:
    fmt = cfg.format
    return FormatOptions(
        max_html_bytes=fmt.max_html_bytes, extraction_timeout_seconds=fmt.extraction_timeout_seconds,
        skip_truncated=fmt.skip_truncated, quirks_mode=fmt.quirks_mode,
        accept_status=tuple(fmt.accept_status), html_content_types=tuple(fmt.html_content_types),
        max_binary_ratio=fmt.max_binary_ratio,
        extraction=ExtractionOptions(**fmt.trafilatura.model_dump()),
    )


def archive_rows(paths: Iterator[str], options: FormatOptions, storage_options: dict) -> Iterator[dict]:
    """Rows of every archive file in turn; a file that cannot be opened is a counted summary row."""
    converter = ArchiveToDocuments(options)
    for path in paths:
        try:
            handle = open_archive(path, storage_options)
        except Exception as err:  # noqa: BLE001 — a missing or unreadable file never kills the job
            yield unreadable_file_row(path, err)
            continue
        with handle:
            yield from converter.rows(handle, path)


def documents_from_archives(spark: SparkSession, cfg: Config, paths: list[str]) -> DataFrame:
    """A DataFrame of ROW_SCHEMA rows, files_per_task archive files per task."""
    options, storage_options = format_options(cfg), cfg.io.storage_options
    batch_rows, arrow_schema = cfg.format.batch_rows, _arrow_schema()
    tasks = math.ceil(len(paths) / cfg.format.files_per_task)
    processed = documents_counter(spark)
    path_df = spark.createDataFrame(
        spark.sparkContext.parallelize([(p,) for p in paths], numSlices=tasks), "path string")

    def to_batches(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        files = (p for batch in batches for p in batch.column("path").to_pylist())
        pending: list[dict] = []
        for row in archive_rows(files, options, storage_options):
            if row["file_summary"] is None:
                processed.add(1)
            pending.append(row)
            if len(pending) >= batch_rows:
                yield pa.RecordBatch.from_pylist(pending, schema=arrow_schema)
                pending = []
        if pending:
            yield pa.RecordBatch.from_pylist(pending, schema=arrow_schema)

    return path_df.mapInArrow(to_batches, ROW_SCHEMA)


def run(spark: SparkSession, cfg: Config, inputs: list[str], output: str) -> dict:
    started = begin_stage(cfg, output)
    paths = resolve_warc_inputs(inputs, cfg.io.storage_options, cfg.format.paths_prefix)
    rows = documents_from_archives(spark, cfg, paths).persist(StorageLevel.DISK_ONLY)
    try:
        summaries = [json.loads(r.file_summary) for r in
                     rows.where(F.col("file_summary").isNotNull()).select("file_summary").collect()]
        docs = rows.where(F.col("file_summary").isNull())
        result = StageOutput.by_reason(docs, STAGE, sum(s["html_records"] for s in summaries),
                                       archive_stats(summaries))
        return write_stage(spark, cfg, STAGE, output, result, started, input_id=paths_id(paths))
    finally:
        rows.unpersist()


def archive_stats(summaries: list[dict]) -> dict:
    """The Format stage's own counts: every record of every file, by what became of it."""
    skipped = Counter()
    for s in summaries:
        skipped.update(s["skipped_by_reason"])
    return {
        "warc_files": len(summaries),
        "warc_records": sum(s["records"] for s in summaries),
        "html_records": sum(s["html_records"] for s in summaries),
        "skipped_by_reason": dict(skipped.most_common()),
        "failed_files": {s["warc_file"]: s["error"] for s in summaries if s["error"]},
        "files": {s["warc_file"]: {k: v for k, v in s.items() if k != "warc_file"} for s in summaries},
    }


def paths_id(paths: list[str]) -> str:
    """Identity of a Format input: the resolved archive paths (order-free)."""
    return hashlib.sha256("\n".join(sorted(paths)).encode()).hexdigest()[:16]


def _arrow_schema() -> pa.Schema:
    from pyspark.sql.pandas.types import to_arrow_schema
    return to_arrow_schema(ROW_SCHEMA)


if __name__ == "__main__":  # spark-submit jobs/format.py --input … --output …
    import sys

    from jobs.cli import main
    main(["format", *sys.argv[1:]])
