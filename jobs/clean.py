"""Clean stage. The report: web pages carry parse errors, format errors and non-natural-language text,
so heuristic rules both modify and filter documents — anomalies in separators and line breaks,
frequency of abnormal characters, distribution of punctuation — with thresholds tailored per
language and per domain.

Each Format document is normalised line by line (udfs/text_normalise.py), measured, and judged by
every rule (udfs/clean_rules.py) with its language's and site's thresholds (udfs/cleaning.py), in
Arrow batches. Kept documents carry the normalised text; every rule statistic and normalisation
count goes into `scores`. A removed document keeps its original text, with the first failing rule as
`reason`, that rule's statistic against its threshold as `detail`, and every failing rule in
`failed_rules`.
"""
from __future__ import annotations

from typing import Iterator

import pyarrow as pa
from pyspark import StorageLevel
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

from jobs.config import Config
from jobs.stage_io import (DOCUMENT_COLUMNS, DOCUMENT_SCHEMA, StageOutput, begin_stage, join, marker_id,
                           read_stage_input, write_stage)
from udfs.cleaning import EDIT_SCORE_PREFIX, Cleaner, CleanSettings, settings_from_conf

STAGE = "clean"
ROW_SCHEMA = T.StructType([T.StructField(f.name, f.dataType, True) for f in DOCUMENT_SCHEMA.fields] + [
    T.StructField("reason", T.StringType()),
    T.StructField("detail", T.StringType()),
    T.StructField("failed_rules", T.ArrayType(T.StringType(), False)),
])


def clean_settings(cfg: Config) -> CleanSettings:
    """conf clean as the plain values udfs/ takes."""
    return settings_from_conf(cfg.clean.model_dump())


def clean_batch(cleaner: Cleaner, batch: pa.RecordBatch, schema: pa.Schema) -> pa.RecordBatch:
    """Normalise and judge every document of one Arrow batch; kept rows get the normalised text."""
    columns = {name: batch.column(name) for name in DOCUMENT_COLUMNS}
    texts, scores, reasons, details, failed = [], [], [], [], []
    for text, language, host, url, old_scores in zip(
            columns["text"].to_pylist(), columns["language"].to_pylist(), columns["host"].to_pylist(),
            columns["url"].to_pylist(), columns["scores"].to_pylist()):
        cleaned = cleaner.clean(text, language, host, url)
        merged = dict(old_scores or ())
        merged.update(cleaned.scores)
        scores.append(list(merged.items()))
        texts.append(cleaned.text if cleaned.keep else text)
        reasons.append(cleaned.reason)
        details.append(cleaned.detail)
        failed.append(cleaned.failed_rules)
    columns["text"] = pa.array(texts, pa.string())
    columns["scores"] = pa.array(scores, schema.field("scores").type)
    arrays = [columns[name].cast(schema.field(name).type) for name in DOCUMENT_COLUMNS]
    arrays += [pa.array(reasons, pa.string()), pa.array(details, pa.string()),
               pa.array(failed, schema.field("failed_rules").type)]
    return pa.RecordBatch.from_arrays(arrays, schema=schema)


def cleaned_documents(docs: DataFrame, settings: CleanSettings) -> DataFrame:
    """ROW_SCHEMA rows: every document normalised and judged, in Arrow batches."""
    schema = _arrow_schema()

    def clean_batches(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        cleaner = Cleaner(settings)
        for batch in batches:
            if batch.num_rows:
                yield clean_batch(cleaner, batch, schema)

    return docs.select(*DOCUMENT_COLUMNS).mapInArrow(clean_batches, ROW_SCHEMA)


def run(spark: SparkSession, cfg: Config, input_dir: str, output: str) -> dict:
    started = begin_stage(cfg, output)
    docs, marker = read_stage_input(spark, cfg, input_dir)
    input_docs = docs.count()
    rows = cleaned_documents(docs, clean_settings(cfg)).persist(StorageLevel.DISK_ONLY)
    try:
        removed = rows.where(F.size("failed_rules") > 0)
        result = StageOutput(
            kept=rows.where(F.size("failed_rules") == 0).select(*DOCUMENT_COLUMNS),
            # the columns of stage_io.removed_rows (document, stage, reason, detail) plus failed_rules
            removed=removed.select(*DOCUMENT_COLUMNS, F.lit(STAGE).alias("stage"), "reason", "detail", "failed_rules"),
            input_docs=input_docs,
            extra_stats={**clean_stats(rows, removed), "thresholds": default_thresholds(clean_settings(cfg))},
        )
        return write_stage(spark, cfg, STAGE, output, result, started, input_id=marker_id(marker))
    finally:
        rows.unpersist()


def clean_stats(rows: DataFrame, removed: DataFrame) -> dict:
    """The stage's own counts: normalisation edits per reason, every failing rule, removals per language."""
    edits = rows.select(F.explode(F.map_filter("scores", lambda k, v: k.startswith(EDIT_SCORE_PREFIX))))
    normalised = {r["key"][len(EDIT_SCORE_PREFIX):]: int(r["n"]) for r in
                  edits.groupBy("key").agg(F.sum("value").alias("n")).collect()}
    edited_docs = rows.where(F.size(F.map_filter("scores", lambda k, v: k.startswith(EDIT_SCORE_PREFIX))) > 0).count()
    failed = {r["rule"]: r["n"] for r in
              removed.select(F.explode("failed_rules").alias("rule")).groupBy("rule").count()
              .withColumnRenamed("count", "n").collect()}
    by_language: dict[str, dict[str, int]] = {}
    for r in removed.groupBy("language", "reason").count().collect():
        by_language.setdefault(r["language"] or "null", {})[r["reason"]] = r["count"]
    return {
        "normalised_by_reason": dict(sorted(normalised.items(), key=lambda kv: -kv[1])),
        "normalised_docs": edited_docs,
        "failed_by_rule": dict(sorted(failed.items(), key=lambda kv: -kv[1])),
        "removed_by_language": dict(sorted(((k, sum(v.values())) for k, v in by_language.items()),
                                           key=lambda kv: -kv[1])),
        "removed_by_language_reason": {k: dict(sorted(v.items(), key=lambda kv: -kv[1]))
                                       for k, v in sorted(by_language.items())},
    }


def default_thresholds(settings: CleanSettings) -> dict[str, list[float]]:
    """Statistic → the base thresholds of the rules reading it (what the run report draws on its
    histogram); language and site overrides are in conf."""
    out: dict[str, list[float]] = {}
    for verdict in Cleaner(settings).clean("", None, None, None).verdicts:
        if verdict.threshold is not None:
            out.setdefault(verdict.statistic, []).append(float(verdict.threshold))
    return out


def find_document(cfg: Config, stage_dir: str, doc_id: str) -> dict | None:
    """One document of a stage output by id (kept/ first, then removed/), read without Spark."""
    import fsspec
    import pyarrow.dataset as ds
    from pyarrow.fs import FSSpecHandler, PyFileSystem

    from jobs.stage_io import fs_path
    for part in ("kept", "removed"):
        url = fs_path(join(stage_dir, part))
        protocol = url.split("://")[0] if "://" in url else "file"
        fs = fsspec.filesystem(protocol, **cfg.io.storage_options.get(protocol, {}))
        if not fs.exists(url):
            continue
        path = url.split("://", 1)[1] if protocol != "file" else url
        dataset = ds.dataset(path, format="parquet", filesystem=PyFileSystem(FSSpecHandler(fs)),
                             exclude_invalid_files=True)
        table = dataset.to_table(filter=ds.field("id") == doc_id,
                                 columns=[c for c in ("id", "url", "host", "language", "text") if c in dataset.schema.names])
        if table.num_rows:
            return {**table.slice(0, 1).to_pylist()[0], "found_in": part}
    return None


def _arrow_schema() -> pa.Schema:
    from pyspark.sql.pandas.types import to_arrow_schema
    return to_arrow_schema(ROW_SCHEMA)


if __name__ == "__main__":  # spark-submit jobs/clean.py --input … --output …
    import sys

    from jobs.cli import main
    main(["clean", *sys.argv[1:]])
