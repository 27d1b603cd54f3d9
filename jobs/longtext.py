"""Long-text stage: the long-context subset of the InternLM2 report (§3.1.3), drawn from the standard
corpus (the output of Quality) and exported beside it.

Three steps, cheapest first, each only on what the one before kept:
1. length selection: more than longtext.min_bytes (32K) bytes of UTF-8 text; the rest is removed as
   `too_short` (its detail gives the bytes) — a long-context subset, not a judgement on the page;
2. domain (URL patterns, then text rules: udfs/longtext/domain.py), written to the `longtext_domain`
   column, and the statistical filters (udfs/longtext/statistics.py) with the thresholds of the
   document's language × domain × site (longtext.thresholds, the override table with its domains
   level); reason: the first failing rule;
3. coherence (udfs/longtext/coherence.py): lexical cohesion and the perplexity difference of a causal
   LM, summed into one score per document; reason `min_coherence`. The LM (default: Gemma 3 270M
   from its pinned PyPI packages, converted once into longtext.coherence.cache_dir on first use)
   reaches executors once (an archive, like the classifiers) and is loaded once per Python worker
   (`model_loads`, `inference_workers`, `max_loads_per_worker` in _stats.json). Only documents that
   reach this step are scored, and the model is prepared only when one does.

Statistics and coherence features go into `scores` under `longtext.`; `removed/` carries reason and
detail (statistic against threshold, the threshold rules that applied, the domain and its evidence).
"""
from __future__ import annotations

import json
import math
import os
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator, Mapping

import pyarrow as pa
from pyspark import StorageLevel
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

from corpusforge.conf import Config, ConfigError
from corpusforge.jobs.classify import _archive, _SumByKey
from corpusforge.jobs.stage import (DOCUMENT_COLUMNS, InputError, Stage, StageOutput, arrow_schema, removed_rows,
                                    row_schema)
from corpusforge.resources import resolve
from corpusforge.udfs.longtext import model as lm_model
from corpusforge.udfs.longtext.coherence import RULE as COHERENCE_RULE
from corpusforge.udfs.longtext.coherence import needs_model
from corpusforge.udfs.overrides import OverrideTable, language_key

DOMAIN_COLUMN = "longtext_domain"
SCORE_PREFIX = "longtext."
TOO_SHORT = "too_short"
LENGTH_BUCKETS = (32, 64, 128, 256, 512, 1024, 2048)  # KiB: the report's length histogram

_MEASURED = row_schema(T.StructField(DOMAIN_COLUMN, T.StringType()), T.StructField("reason", T.StringType()),
                       T.StructField("detail", T.StringType()), T.StructField("_rule", T.StringType()),
                       T.StructField("_thresholds", T.StringType()), T.StructField("_min_coherence", T.DoubleType()),
                       T.StructField("_scales", T.StringType()))


def threshold_table(cfg: Config) -> OverrideTable:
    return OverrideTable.from_conf(cfg.longtext.thresholds.model_dump())


def known_domains(cfg: Config) -> set[str]:
    d = cfg.longtext.domains
    return set(d.url_patterns) | set(d.text_rules) | {"other"}


def check_settings(cfg: Config) -> None:
    """Driver-side: threshold domains that no rule produces (a typo), the head-vocabulary file, and a
    coherence model that can be had offline. Raises ConfigError naming the key and the fix."""
    settings = cfg.longtext
    unknown = sorted(set(settings.thresholds.domains) - known_domains(cfg))
    if unknown:
        raise ConfigError(f"conf key 'longtext.thresholds.domains' names {unknown}, which no URL pattern or text rule "
                          f"of longtext.domains produces. Fix: use one of {', '.join(sorted(known_domains(cfg)))}.")
    coherence = settings.coherence
    if not coherence.enabled or not needs_model(coherence.features):
        return
    if coherence.head_vocab is not None and not Path(resolve(coherence.head_vocab)).is_file():
        raise ConfigError(f"conf key 'longtext.coherence.head_vocab': {coherence.head_vocab} does not exist. Fix: "
                          f"point it at a token-id list, or set it to null (the full LM head).")
    if coherence.device == "cuda":
        import torch
        if not torch.cuda.is_available():
            raise ConfigError("conf key 'longtext.coherence.device' is cuda but torch sees no CUDA device. "
                              "Fix: set it to auto or cpu.")
    try:
        lm_model.check_available(coherence.model, coherence.cache_dir, coherence.dtype)
    except lm_model.ModelError as err:
        raise ConfigError(str(err)) from None


class LongTextStage(Stage):
    name = "longtext"
    summary = ("Long text: the long-context subset (> 32K bytes, statistical filters per domain × language, "
               "coherence), exported beside the corpus.")
    input_help = "Output directory of the previous stage (quality)."
    branch = True  # its kept/ is a subset exported beside the corpus, not the corpus itself

    def check(self, cfg: Config, options: Mapping[str, Any]) -> None:
        check_settings(cfg)

    @contextmanager
    def transform(self, spark: SparkSession, cfg: Config, docs: DataFrame, options: Mapping[str, Any],
                  output: str) -> Iterator[StageOutput]:
        input_docs = docs.count()
        measured = measure(docs, cfg).persist(StorageLevel.DISK_ONLY)
        scored = None
        try:
            wanted = measured.where(F.col("_min_coherence").isNotNull() & F.col("reason").isNull())
            to_score = wanted.count()
            extra: dict[str, Any] = {"coherence": {"enabled": cfg.longtext.coherence.enabled, "scored_docs": to_score,
                                                   "features": list(cfg.longtext.coherence.features)}}
            judged = measured
            if to_score:
                model_dir, prepared, shipped = prepare_model(spark, cfg)
                extra["coherence"].update(prepared)
                cohered, loads, seconds = cohere(spark, cfg, wanted, model_dir, shipped, to_score)
                scored = cohered.persist(StorageLevel.DISK_ONLY)
                scored.count()  # the LM runs once, here; the writes read the persisted rows
                per_worker = dict(loads.value)
                extra["coherence"].update({"cpu_seconds": round(seconds.value, 3)})
                extra.update({"model_loads": sum(per_worker.values()), "inference_workers": len(per_worker),
                              "max_loads_per_worker": max(per_worker.values(), default=0)})
                judged = measured.where(F.col("_min_coherence").isNull() | F.col("reason").isNotNull()) \
                    .unionByName(scored)
            extra.update(longtext_stats(judged, cfg))
            yield StageOutput(
                kept=judged.where(F.col("reason").isNull()).select(*DOCUMENT_COLUMNS, DOMAIN_COLUMN),
                removed=removed_rows(judged.where(F.col("reason").isNotNull()), self.name, F.col("reason"),
                                     F.col("detail"), DOMAIN_COLUMN),
                input_docs=input_docs, extra_stats=extra)
        finally:
            measured.unpersist()
            if scored is not None:
                scored.unpersist()


# ----------------------------------------------------------------------------- steps 1 and 2

def measure(docs: DataFrame, cfg: Config) -> DataFrame:
    """Length, domain and statistical filters for every document; `_min_coherence` is the coherence
    threshold of the documents still kept that the coherence step must score (null: not scored)."""
    settings = cfg.longtext
    min_bytes = settings.min_bytes
    domain_settings = settings.domains.model_dump()
    statistics = settings.statistics.model_dump()
    table = threshold_table(cfg)
    coherence_on = settings.coherence.enabled
    scaled_languages = sorted(settings.coherence.scales)
    schema = arrow_schema(_MEASURED)

    def batches(source: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        from corpusforge.udfs.longtext.domain import DomainRules
        from corpusforge.udfs.longtext.statistics import first_failure, is_long, judge, utf8_bytes
        from corpusforge.udfs.overrides import Overrides

        rules, overrides = DomainRules(domain_settings), Overrides(table)
        for batch in source:
            columns = {name: batch.column(name).to_pylist() for name in batch.schema.names}
            out: dict[str, list] = {k: [] for k in (DOMAIN_COLUMN, "reason", "detail", "_rule", "_thresholds",
                                                    "_min_coherence", "_scales", "scores")}
            for i, text in enumerate(columns["text"]):
                scores = dict(columns["scores"][i] or ())
                language, host, url = columns["language"][i], columns["host"][i], columns["url"][i]
                row = dict.fromkeys(out)
                if not is_long(text, min_bytes):
                    row.update(reason=TOO_SHORT, detail=f"{utf8_bytes(text or '')} bytes <= {min_bytes}")
                else:
                    domain, evidence = rules.detect(text, language, url)
                    resolved = overrides.resolve(language, host, url, domain)
                    verdicts = judge(text, language, resolved.values, **statistics)
                    scores[SCORE_PREFIX + "bytes"] = float(utf8_bytes(text))
                    scores.update({SCORE_PREFIX + v.statistic: v.value for v in verdicts if v.value == v.value})
                    failed = first_failure(verdicts)
                    row.update({DOMAIN_COLUMN: domain, "_rule": resolved.rule,
                                "_thresholds": json.dumps(dict(resolved.values), sort_keys=True)})
                    if failed is not None:
                        row.update(reason=failed.rule,
                                   detail=f"{failed.detail()} [{resolved.rule}] {domain} ({evidence})")
                    else:
                        scale = language_key(language, scaled_languages)
                        threshold = resolved.values.get(COHERENCE_RULE)
                        if coherence_on and scale is not None and threshold is not None:
                            row.update(_min_coherence=float(threshold), _scales=scale)
                        row["detail"] = f"{domain} ({evidence}) [{resolved.rule}]"
                row["scores"] = list(scores.items())
                for k, v in row.items():
                    out[k].append(v)
            for name in out:
                columns[name] = out[name]
            yield pa.RecordBatch.from_pydict(columns, schema=schema)

    return docs.select(*DOCUMENT_COLUMNS).mapInArrow(batches, _MEASURED)


# ---------------------------------------------------------------------------------- step 3

def prepare_model(spark: SparkSession, cfg: Config) -> tuple[str, dict, str | None]:
    """On the driver, when a document needs it: the model directory (the package model converted on
    first use), and its archive name when shipped to executors (inference.ship_models)."""
    coherence = cfg.longtext.coherence
    if not needs_model(coherence.features):
        return "", {"model": None}, None
    started = time.monotonic()
    try:
        directory, converted = lm_model.prepare(coherence.model, coherence.cache_dir, coherence.dtype)
    except lm_model.ModelError as err:
        raise InputError(str(err)) from None
    info = {"model": coherence.model, "model_dir": str(directory), "prepare_seconds": round(time.monotonic() - started, 3),
            **({"converted": converted} if converted else {})}
    if not cfg.inference.ship_models:
        return str(directory), info, None
    import tempfile
    staging = Path(tempfile.gettempdir()) / "corpusforge-models"
    staging.mkdir(parents=True, exist_ok=True)
    name = _archive(directory, staging)
    spark.sparkContext.addArchive(str(staging / name))
    return str(directory), info, name


def cohere(spark: SparkSession, cfg: Config, wanted: DataFrame, model_dir: str, shipped: str | None,
           count: int) -> tuple[DataFrame, Any, Any]:
    """Coherence features and score for each wanted document; reason min_coherence below its threshold.
    The few long documents are spread over the cluster's cores first (they are the expensive ones)."""
    coherence = cfg.longtext.coherence
    head_ids = lm_model.read_head_vocab(resolve(coherence.head_vocab)) \
        if coherence.head_vocab is not None and needs_model(coherence.features) else None
    plan = {k: v for k, v in coherence.model_dump().items()
            if k in ("segment_tokens", "probes", "context_tokens", "skip_first", "batch_size", "max_chain_tokens",
                     "lexical_points", "lexical_edge", "anchor_candidates", "anchor_points")}
    features, scales = tuple(coherence.features), coherence.model_dump()["scales"]
    device, dtype, threads = coherence.device, coherence.dtype, coherence.threads
    needs_lm = needs_model(coherence.features)
    sc = spark.sparkContext
    loads = sc.accumulator({}, _SumByKey())
    seconds = sc.accumulator(0.0)
    schema = arrow_schema(_MEASURED)

    def batches(source: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        from pyspark import SparkFiles, TaskContext

        from corpusforge.udfs import classifiers
        from corpusforge.udfs.longtext import coherence as C
        from corpusforge.udfs.longtext import model as M

        settings = C.CoherenceSettings(features=features, **plan)
        lm, before, used = None, M.loads(), False
        for batch in source:
            columns = {name: batch.column(name).to_pylist() for name in batch.schema.names}
            if needs_lm and lm is None and batch.num_rows:
                classifiers.set_threads(threads or int(TaskContext.get().cpus()))
                directory = SparkFiles.get(shipped) if shipped else model_dir
                lm = M.load(directory, classifiers.pick_device(device), dtype, head_ids)
            for i, text in enumerate(columns["text"]):
                started = time.process_time()
                values = C.features(text, columns["language"][i], settings, lm)
                value = C.score(values, features, scales[columns["_scales"][i]])
                reason, detail = C.verdict(value, columns["_min_coherence"][i])
                shown = ", ".join(f"{k} {values[k]:.3f}" for k in features if values.get(k) == values.get(k))
                scores = dict(columns["scores"][i] or ())
                scores.update({SCORE_PREFIX + k: float(v) for k, v in values.items()
                               if k in C.FEATURES and v == v})
                if value == value:
                    scores[SCORE_PREFIX + "coherence"] = value
                columns["scores"][i] = list(scores.items())
                if reason is not None:
                    columns["reason"][i] = reason
                    columns["detail"][i] = f"{detail} ({shown}) [{columns['_rule'][i]}] {columns[DOMAIN_COLUMN][i]}"
                used = True
                seconds.add(time.process_time() - started)
            yield pa.RecordBatch.from_pydict(columns, schema=schema)
        if used and needs_lm:
            loads.add({os.getpid(): M.loads() - before})

    partitions = max(1, min(count, sc.defaultParallelism))
    return wanted.repartition(partitions, "id").mapInArrow(batches, _MEASURED), loads, seconds


# ----------------------------------------------------------------------------------- statistics

def longtext_stats(judged: DataFrame, cfg: Config) -> dict:
    """What the run report's long-text section shows: lengths, domains, removals per domain, the
    thresholds that applied (drawn on the statistics' histograms), and the rules per document."""
    long_docs = judged.where(F.col("reason").isNull() | (F.col("reason") != TOO_SHORT))
    kib = F.col("scores").getItem(SCORE_PREFIX + "bytes") / 1024
    bucket = F.coalesce(*[F.when(kib <= b * 2, F.lit(f"{b}-{b * 2} KiB")) for b in LENGTH_BUCKETS],
                        F.lit(f"> {LENGTH_BUCKETS[-1] * 2} KiB"))
    lengths = {r["bucket"]: r["n"] for r in long_docs.groupBy(bucket.alias("bucket")).agg(F.count("*").alias("n")).collect()}
    domains: dict[str, dict] = {}
    for r in long_docs.groupBy(DOMAIN_COLUMN, "language", F.coalesce("reason", F.lit("kept")).alias("outcome")) \
            .agg(F.count("*").alias("n")).collect():
        entry = domains.setdefault(r[DOMAIN_COLUMN] or "other", {"long": 0, "kept": 0, "by_language": {}, "removed_by_reason": {}})
        entry["long"] += r["n"]
        entry["by_language"][r["language"] or "null"] = entry["by_language"].get(r["language"] or "null", 0) + r["n"]
        if r["outcome"] == "kept":
            entry["kept"] += r["n"]
        else:
            entry["removed_by_reason"][r["outcome"]] = entry["removed_by_reason"].get(r["outcome"], 0) + r["n"]
    rules = long_docs.groupBy("_rule", "_thresholds").agg(F.count("*").alias("n")).collect()
    from corpusforge.udfs.longtext.statistics import RULE_STATISTIC
    thresholds: dict[str, set] = {}
    for r in rules:
        for rule, value in json.loads(r["_thresholds"] or "{}").items():
            key = SCORE_PREFIX + (RULE_STATISTIC.get(rule) or "coherence")
            if value is not None and (rule in RULE_STATISTIC or rule == COHERENCE_RULE):
                thresholds.setdefault(key, set()).add(float(value))
    total = judged.count()
    n_long = sum(lengths.values())
    return {"min_bytes": cfg.longtext.min_bytes, "long_docs": n_long, "short_docs": total - n_long,
            "long_share": round(n_long / total, 6) if total else 0.0,
            "lengths_kib": dict(sorted(lengths.items(), key=lambda kv: _bucket_order(kv[0]))),
            "domains": dict(sorted(domains.items(), key=lambda kv: -kv[1]["long"])),
            "docs_by_threshold_rule": dict(sorted(((r["_rule"], r["n"]) for r in rules), key=lambda kv: -kv[1])),
            "thresholds": {k: sorted(v) for k, v in sorted(thresholds.items())}}


def _bucket_order(label: str) -> float:
    head = label.split()[0].split("-")[0].lstrip(">")
    return float(head) if head.replace(".", "").isdigit() else math.inf
