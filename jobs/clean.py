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

from contextlib import contextmanager
from typing import Any, Iterator, Mapping

import pyarrow as pa
from pyspark import StorageLevel
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

from corpusforge.conf import Config
from corpusforge.jobs.stage import (DOCUMENT_COLUMNS, VERDICT_FIELDS, Stage, StageOutput, arrow_schema, removed_rows,
                                    row_schema)
from corpusforge.jobs.storage import Storage, join
from corpusforge.udfs.cleaning import EDIT_SCORE_PREFIX, Cleaner, CleanSettings, settings_from_conf

ROW_SCHEMA = row_schema(*VERDICT_FIELDS, T.StructField("failed_rules", T.ArrayType(T.StringType(), False)))


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
    schema = arrow_schema(ROW_SCHEMA)

    def clean_batches(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        cleaner = Cleaner(settings)
        for batch in batches:
            if batch.num_rows:
                yield clean_batch(cleaner, batch, schema)

    return docs.select(*DOCUMENT_COLUMNS).mapInArrow(clean_batches, ROW_SCHEMA)


class CleanStage(Stage):
    name = "clean"
    summary = "Clean: line-level normalisation, then the report's rule families and the Gopher, C4 and FineWeb rules."
    input_help = "Output directory of the previous stage (format)."

    @contextmanager
    def transform(self, spark: SparkSession, cfg: Config, docs: DataFrame, options: Mapping[str, Any],
                  output: str) -> Iterator[StageOutput]:
        input_docs = docs.count()
        settings = clean_settings(cfg)
        rows = cleaned_documents(docs, settings).persist(StorageLevel.DISK_ONLY)
        try:
            removed = rows.where(F.size("failed_rules") > 0)
            yield StageOutput(
                kept=rows.where(F.size("failed_rules") == 0).select(*DOCUMENT_COLUMNS),
                removed=removed_rows(removed, self.name, F.col("reason"), F.col("detail"), "failed_rules"),
                input_docs=input_docs,
                extra_stats={**clean_stats(rows, removed), "thresholds": default_thresholds(settings)})
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
    storage = Storage.of(cfg)
    for part in ("kept", "removed"):
        row = storage.find_row(join(stage_dir, part), "id", doc_id, ["id", "url", "host", "language", "text"])
        if row is not None:
            return {**row, "found_in": part}
    return None
