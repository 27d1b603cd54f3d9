"""The one shape of a stage, and the contract every stage keeps.

A stage is a subclass of `Stage` in its own module, listed once in jobs/registry.py: it declares its
name (the command, the conf section, the output folder), the other conf sections its output depends
on, its extra command-line options, a driver-side `check` run before Spark starts, and its
`transform` from input documents to kept and removed documents. Everything around that — the CLI
command, start-up checks, the fingerprint, `_stats.json`, `removed/` and `_SUCCESS` — comes from
here, for every stage alike (`run_stage`). A stage reading something else than the previous stage's
documents (Format: archive paths) overrides the input hooks.

The contract: kept/, removed/ (every removed document with stage, reason and detail), _stats.json,
then _SUCCESS, written last. Counts in _stats.json are read back from what was written, and
`input_docs` is counted independently by the stage, so `input_docs == kept_docs + removed_docs` is a
real check: a stage that loses a document fails instead of writing _SUCCESS.
"""
from __future__ import annotations

import hashlib
import json
import time
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any, ClassVar, Mapping

import pyarrow as pa
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

from corpusforge.conf import Config
from corpusforge.jobs.storage import Storage, join, spark_path

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
    T.StructField("archive_url", T.StringType()),  # the web-archive replay URL a page was captured through
    T.StructField("language", T.StringType()),
    T.StructField("language_score", T.DoubleType()),
    T.StructField("title", T.StringType()),
    T.StructField("text", T.StringType()),
    T.StructField("scores", T.MapType(T.StringType(), T.DoubleType())),
])
DOCUMENT_COLUMNS = [f.name for f in DOCUMENT_SCHEMA.fields]
# What a stage's Python step hands back per document beside the document: why it goes (null: kept).
VERDICT_FIELDS = (T.StructField("reason", T.StringType()), T.StructField("detail", T.StringType()))


def row_schema(*extra: T.StructField) -> T.StructType:
    """The document columns (nullable, as a Python step writes them) followed by a stage's own columns."""
    return T.StructType([T.StructField(f.name, f.dataType, True) for f in DOCUMENT_SCHEMA.fields] + list(extra))


def arrow_schema(schema: T.StructType) -> pa.Schema:
    """The Arrow form of a Spark schema: what a mapInArrow function must yield."""
    from pyspark.sql.pandas.types import to_arrow_schema
    return to_arrow_schema(schema)


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
    def by_reason(cls, judged: DataFrame, stage: str, input_docs: int, extra_stats: dict[str, Any] | None = None,
                  kept_columns: tuple[str, ...] = ()) -> "StageOutput":
        """Split documents on their `reason` column: null is kept (with the document columns and
        `kept_columns`, e.g. Safety's encoder vectors for Quality), anything else is removed with its `detail`."""
        return cls(kept=judged.where(F.col("reason").isNull()).select(*DOCUMENT_COLUMNS, *kept_columns),
                   removed=removed_rows(judged.where(F.col("reason").isNotNull()), stage, F.col("reason"),
                                        F.col("detail")),
                   input_docs=input_docs, extra_stats=extra_stats or {})


def read_success(cfg: Config, stage_dir: str) -> dict | None:
    """The _SUCCESS marker of a finished stage output, or None when the stage did not finish."""
    text = Storage.of(cfg).read_text(join(stage_dir, "_SUCCESS"))
    if text is None:
        return None
    try:
        return json.loads(text) if text.strip() else {}
    except json.JSONDecodeError:
        return {}


def removed_rows(df: DataFrame, stage: str, reason, detail=None, *extra: str) -> DataFrame:
    """Documents plus the columns every removed/ table has — stage, reason, detail — and the stage's
    own columns named in `extra` (Clean's failed_rules, Dedup's duplicate_of, …)."""
    return df.select(*DOCUMENT_COLUMNS,
                     F.lit(stage).alias("stage"),
                     (reason if not isinstance(reason, str) else F.lit(reason)).alias("reason"),
                     (F.lit(None).cast("string") if detail is None else detail).alias("detail"),
                     *extra)


def marker_id(marker: dict) -> str:
    """Identity of a finished stage output: a later stage's input fingerprint."""
    return hashlib.sha256(json.dumps(marker, sort_keys=True).encode()).hexdigest()[:16]


def write_outputs(spark: SparkSession, cfg: Config, stage: str, output: str, result: StageOutput,
                  started: float, fingerprint: dict[str, str]) -> dict[str, Any]:
    """Write kept/ and removed/, then _stats.json from what was written, then _SUCCESS holding the
    fingerprint (configuration and input) the pipeline runner compares on a rerun."""
    compression = cfg.output.parquet_compression
    kept_path, removed_path = spark_path(join(output, "kept")), spark_path(join(output, "removed"))
    result.kept.select(*DOCUMENT_COLUMNS, *[c for c in result.kept.columns if c not in DOCUMENT_COLUMNS]) \
        .write.mode("overwrite").option("compression", compression).parquet(kept_path)
    result.removed.write.mode("overwrite").option("compression", compression).parquet(removed_path)
    kept = spark.read.parquet(kept_path)
    if cfg.output.jsonl:
        jsonl_codec = None if cfg.output.jsonl_compression == "none" else cfg.output.jsonl_compression
        writer = kept.select(*DOCUMENT_COLUMNS).write.mode("overwrite")  # the documents, not a stage's own columns
        if jsonl_codec:
            writer = writer.option("compression", jsonl_codec)
        writer.json(spark_path(join(output, "kept_jsonl")))
    stats = _count(spark, stage, kept, spark.read.parquet(removed_path), result, started)
    storage = Storage.of(cfg)
    storage.write_text(join(output, "_stats.json"), json.dumps(stats, indent=2, sort_keys=True))
    if stats["input_docs"] != stats["kept_docs"] + stats["removed_docs"]:
        raise StageFailed(f"{stage}: {stats['input_docs']} documents in but {stats['kept_docs']} kept + "
                          f"{stats['removed_docs']} removed; no _SUCCESS written to {output}")
    marker = {"stage": stage, "version": VERSION, **fingerprint,
              "counts": {k: stats[k] for k in ("input_docs", "kept_docs", "removed_docs")}}
    storage.write_text(join(output, "_SUCCESS"), json.dumps(marker, sort_keys=True))
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


# ---------------------------------------------------------------------------------------------- the Stage

@dataclass(frozen=True)
class StageOption:
    """An extra command-line option of one stage (dedup's --index); `corpusforge run` accepts it too.
    Its value (a string or None) reaches the stage's hooks as options[name]."""
    name: str
    flag: str
    help: str


class Stage:
    """One stage of the pipeline. Subclasses set the class attributes and implement `transform`."""

    name: ClassVar[str]                       # command, conf section, output folder, removed/ stage
    summary: ClassVar[str]                    # one line for --help
    input_help: ClassVar[str] = "Output directory of the previous stage."
    sections: ClassVar[tuple[str, ...]] = ()  # other conf sections the output depends on (besides its own)
    options: ClassVar[tuple[StageOption, ...]] = ()
    # A branch stage's kept/ is a subset exported beside the corpus (DIR/final_<name>/), not the corpus:
    # the corpus export stays the last other stage's kept, and a later stage reads past it.
    branch: ClassVar[bool] = False

    def check(self, cfg: Config, options: Mapping[str, Any]) -> None:
        """Driver-side, before Spark starts: everything the stage reads from conf and disk besides its
        input (settings that must agree, model directories, list files). Raises ConfigError or
        InputError naming the key or path and the fix."""

    def input_identity(self, cfg: Config, source: list[str], options: Mapping[str, Any]) -> str:
        """What the fingerprint records of the input: the previous stage's _SUCCESS. Raises InputError
        when the input is not a finished stage output, so calling it checks the input too."""
        return marker_id(finished_marker(cfg, single_input(source)))

    def read(self, spark: SparkSession, cfg: Config, source: list[str], options: Mapping[str, Any]) -> Any:
        """What `transform` reads: the kept documents of the previous stage."""
        return spark.read.parquet(spark_path(join(single_input(source), "kept")))

    def transform(self, spark: SparkSession, cfg: Config, data: Any, options: Mapping[str, Any],
                  output: str) -> AbstractContextManager[StageOutput]:
        """The stage itself: a context manager yielding the StageOutput to write, and releasing what it
        cached (persisted rows, work folders) once the runner has written it."""
        raise NotImplementedError

    def fingerprint(self, cfg: Config, input_id: str) -> dict[str, str]:
        """What _SUCCESS records and a rerun compares: the stage's configuration and its input."""
        names = [n for n in (self.name, *self.sections, "output") if n in type(cfg).model_fields]
        return {"config": cfg.fingerprint(*names), "input": input_id}

    def with_defaults(self, options: Mapping[str, Any] | None) -> dict[str, Any]:
        """options[name] for every option of this stage (None when not given)."""
        return {o.name: (options or {}).get(o.name) for o in self.options}


def single_input(source: list[str]) -> str:
    if len(source) != 1:
        raise InputError(f"this stage reads one stage output directory, got {len(source)} inputs {source}. "
                         f"Fix: pass exactly one --input.")
    return source[0]


def finished_marker(cfg: Config, input_dir: str) -> dict:
    """The _SUCCESS of a finished stage output, or InputError naming the fix."""
    marker = read_success(cfg, input_dir)
    if marker is None:
        raise InputError(f"input {input_dir} is not a finished stage output (no _SUCCESS there). "
                         f"Fix: point --input at the output directory of the previous stage, and run that stage first.")
    return marker


def run_stage(spark: SparkSession, cfg: Config, stage: Stage, source: str | list[str], output: str,
              options: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Run one stage into `output` and return its statistics. `source` is what the stage reads (a stage
    output directory; Format: archive paths). The caller has run `stage.check` before starting Spark
    (the CLI and the pipeline runner do)."""
    source = [source] if isinstance(source, str) else list(source)
    options = stage.with_defaults(options)
    fingerprint = stage.fingerprint(cfg, stage.input_identity(cfg, source, options))
    Storage.of(cfg).remove(join(output, "_SUCCESS"))  # an earlier run's marker goes before anything is overwritten
    started = time.monotonic()
    data = stage.read(spark, cfg, source, options)
    with stage.transform(spark, cfg, data, options, output) as result:
        return write_outputs(spark, cfg, stage.name, output, result, started, fingerprint)
