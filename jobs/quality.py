"""Quality stage. The report: marketing advertisements and texts without logical coherence (lists of
abstracts or product descriptions) are low-quality; annotators labelled advertising (whole or
partial) and fluency on four aspects — consistency, noise, information content, grammar — and BERT
classifiers trained on those labels remove the documents below the thresholds, tuned per domain.

Both classifiers read the same frozen encoder, so each document is encoded once and both heads read
the one pooled vector (udfs/classifiers.Scorer groups heads by encoder). The fluency classifier's
four aspect scores are combined into one `fluency` score as conf says. Thresholds come from a table:
a default per score key, overlaid by the document's language, then by every site pattern its URL
matches. A removed document's reason is the classifier's name; its detail the score, the threshold
and the threshold rules that applied. Kept documents carry every score in `scores`.
"""
from __future__ import annotations

from contextlib import contextmanager
from typing import Any, Iterator, Mapping

import numpy as np
import pyarrow as pa
from pyspark import StorageLevel
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

from corpusforge.jobs.classify import Classifier, put_scores, score_documents, ship
from corpusforge.jobs.config import ClassifierSettings, Config, ConfigError, QualityClassifierSettings
from corpusforge.jobs.stage import Stage, StageOutput
from corpusforge.resources import resolve
from corpusforge.udfs import classifiers
from corpusforge.udfs.classifiers import ClassifierCard, ClassifierError
from corpusforge.udfs.quality import Check, ThresholdPicker, ThresholdTable, combine, verdict

def load_models(cfg: Config) -> list[Classifier]:
    """The enabled classifiers, their cards read and checked on the driver (a bad path or a combine
    rule naming unknown outputs fails at start-up)."""
    out = []
    for name, conf in cfg.quality.classifiers.items():
        if not conf.enabled:
            continue
        try:
            card = ClassifierCard.load(resolve(conf.path))
            classifiers.refuse_pickle_weights(card.encoder_path(), "model.safetensors")
        except ClassifierError as err:
            raise ConfigError(f"quality classifier '{name}': {err}") from None
        if conf.combine is not None:
            unknown = sorted(set(conf.combine.weights) - set(card.outputs))
            if unknown or not any(conf.combine.weights.get(o, 0) > 0 for o in card.outputs):
                raise ConfigError(f"conf key 'quality.classifiers.{name}.combine.weights' must weigh the outputs "
                                  f"{list(card.outputs)} of {conf.path} (unknown: {unknown}), one of them above 0.")
        settings = ClassifierSettings(enabled=True, path=conf.path, output=None, threshold=None, direction=None,
                                      languages=conf.languages)
        out.append(Classifier(name, settings, card, None, None))
    return out


def main_key(c: Classifier, conf: QualityClassifierSettings) -> str | None:
    """The classifier's own score key: its only output, or its combined score."""
    return c.name if len(c.card.outputs) == 1 or conf.combine is not None else None


def threshold_checks(cfg: Config, chosen: list[Classifier]) -> tuple[ThresholdTable, list[Check]]:
    """The threshold table with nulls resolved to the models' stored thresholds, and the checks in
    conf order (a classifier's own score first, then its outputs)."""
    known: dict[str, tuple[Classifier, str]] = {}
    for c in chosen:
        own = main_key(c, cfg.quality.classifiers[c.name])
        if own is not None:
            known[own] = (c, "own")
        if len(c.card.outputs) > 1:
            for key in c.score_keys().values():
                known[key] = (c, "output")

    def fill(entries: dict, where: str) -> dict[str, float]:
        out = {}
        for key, value in entries.items():
            if key not in known:
                if key in cfg.quality.classifiers:  # a disabled classifier's entry is ignored
                    continue
                raise ConfigError(f"conf key '{where}.{key}' names no score of the enabled quality classifiers; "
                                  f"known: {', '.join(sorted(known)) or 'none'}.")
            c, kind = known[key]
            if value is None:
                if kind != "own" or c.card.threshold is None:
                    raise ConfigError(f"conf key '{where}.{key}' is null but {c.card.directory} stores no threshold "
                                      f"for it. Fix: set a number.")
                value = c.card.threshold
            out[key] = float(value)
        return out

    t = cfg.quality.thresholds
    table = ThresholdTable(
        default=fill(t.default, "quality.thresholds.default"),
        languages={lang: fill(v or {}, f"quality.thresholds.languages.{lang}") for lang, v in t.languages.items()},
        domains=tuple((p, fill(v or {}, f"quality.thresholds.domains.{p}")) for p, v in t.domains.items()))
    used = set(table.default) | {k for v in table.languages.values() for k in v} | {k for _, v in table.domains for k in v}
    checks = []
    for c in chosen:
        own = main_key(c, cfg.quality.classifiers[c.name])
        outputs = list(c.score_keys().values()) if len(c.card.outputs) > 1 else []
        for key in ([own] if own else []) + outputs:
            if key in used:
                context = tuple(outputs) if key == own and cfg.quality.classifiers[c.name].combine else ()
                checks.append(Check(key, c.name, c.card.direction, context))
    return table, checks


def check_models(cfg: Config) -> tuple[list[Classifier], ThresholdTable, list[Check]]:
    """Everything the stage needs from conf and the model directories, checked before Spark works."""
    chosen = load_models(cfg)
    table, checks = threshold_checks(cfg, chosen)
    return chosen, table, checks


def judge(spark: SparkSession, cfg: Config, docs: DataFrame, chosen: list[Classifier], table: ThresholdTable,
          checks: list[Check]):
    """Documents with every score merged into `scores`, and `reason`, `detail`, `threshold_rule`."""
    scored = score_documents(spark, docs, chosen, cfg.inference)
    outputs = {c.name: [(key, scored.columns[c.name][o]) for o, key in c.score_keys().items()] for c in chosen}
    combos = {c.name: (f"__combined_{i}", cfg.quality.classifiers[c.name].combine.method,
                       dict(cfg.quality.classifiers[c.name].combine.weights), list(c.card.outputs))
              for i, c in enumerate(chosen) if cfg.quality.classifiers[c.name].combine is not None}
    schema = T.StructType(scored.df.schema.fields
                          + [T.StructField(col, T.DoubleType()) for col, *_ in combos.values()]
                          + [T.StructField(n, T.StringType()) for n in ("reason", "detail", "threshold_rule")])

    def decide(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        picker = ThresholdPicker(table)
        for batch in batches:
            n = batch.num_rows
            values = {key: np.asarray(batch.column(col).to_numpy(zero_copy_only=False), dtype=float)
                      for cols in outputs.values() for key, col in cols}
            for name, (col, method, weights, outs) in combos.items():
                matrix = np.stack([values[key] for key, _ in outputs[name]], axis=1)
                values[name] = combine(matrix, outs, method, weights)
                batch = batch.append_column(col, pa.array(values[name], type=pa.float64(),
                                                          mask=np.isnan(values[name])))
            languages, hosts, urls = (batch.column(c).to_pylist() for c in ("language", "host", "url"))
            reasons, details, rules = [], [], []
            for i in range(n):
                row = {key: (None if np.isnan(v[i]) else float(v[i])) for key, v in values.items()}
                thresholds, rule = picker.for_document(languages[i], hosts[i], urls[i])
                reason, detail = verdict(row, thresholds, checks)
                scored_row = any(v is not None for v in row.values())
                reasons.append(reason)
                details.append(f"{detail} [{rule}]" if detail else None)
                rules.append(rule if scored_row else None)
            for name, column in (("reason", reasons), ("detail", details), ("threshold_rule", rules)):
                batch = batch.append_column(name, pa.array(column, type=pa.string()))
            yield batch

    decided = scored.df.mapInArrow(decide, schema)
    entries = {key: F.col(col) for cols in outputs.values() for key, col in cols}
    entries.update({name: F.col(col) for name, (col, *_) in combos.items()})
    temp = [col for cols in outputs.values() for _, col in cols] + [col for col, *_ in combos.values()]
    return put_scores(decided, entries).drop(*temp), scored, list(entries)


class QualityStage(Stage):
    name = "quality"
    summary = "Quality: advertisement and fluency classifiers, thresholds per language and site."
    input_help = "Output directory of the previous stage (safety)."
    sections = ("inference",)

    def check(self, cfg: Config, options: Mapping[str, Any]) -> None:
        check_models(cfg)

    @contextmanager
    def transform(self, spark: SparkSession, cfg: Config, docs: DataFrame, options: Mapping[str, Any],
                  output: str) -> Iterator[StageOutput]:
        chosen, table, checks = check_models(cfg)
        chosen = ship(spark, chosen, cfg.inference)
        input_docs = docs.count()
        judged, scored, keys = judge(spark, cfg, docs, chosen, table, checks)
        judged = judged.persist(StorageLevel.DISK_ONLY)
        try:
            judged.count()  # inference runs once, here; the writes read the persisted rows
            yield StageOutput.by_reason(judged, self.name, input_docs,
                                        quality_stats(cfg, judged, chosen, table, checks, keys, scored.accounting()))
        finally:
            judged.unpersist()


def quality_stats(cfg: Config, judged: DataFrame, chosen: list[Classifier], table: ThresholdTable,
                  checks: list[Check], keys: list[str], accounting: dict) -> dict:
    """Thresholds used (the run report draws `thresholds` on the histograms), score histograms,
    which threshold rules applied, and the inference accounting."""
    bins = cfg.quality.histogram_bins
    values = judged.select(F.explode("scores").alias("key", "value")).where(
        F.col("key").isin(keys) & ~F.isnan("value"))
    index = F.least(F.floor(F.col("value") * bins), F.lit(bins - 1)).cast("int")
    histograms = {k: {"lo": 0.0, "hi": 1.0, "n": 0, "counts": [0] * bins} for k in keys}
    for r in values.groupBy("key", index.alias("bin")).count().collect():
        histograms[r["key"]]["counts"][max(0, r["bin"])] += r["count"]
        histograms[r["key"]]["n"] += r["count"]
    rules = {r["threshold_rule"] or "unscored": r["n"] for r in
             judged.groupBy("threshold_rule").agg(F.count("*").alias("n")).collect()}
    scored_counts = judged.agg(*[F.count(F.col("scores").getItem(k)).alias(k) for k in keys]).first().asDict() \
        if keys else {}
    return {
        "thresholds": dict(table.default),
        "threshold_overrides": {"languages": {k: dict(v) for k, v in table.languages.items()},
                                "domains": {p: dict(v) for p, v in table.domains}},
        "directions": {c.key: c.direction for c in checks},
        "docs_by_threshold_rule": dict(sorted(rules.items(), key=lambda kv: -kv[1])),
        "unscored_docs": int(rules.get("unscored", 0)),
        "classifiers": {c.name: {"path": c.settings.path, "score_keys": list(c.score_keys().values()),
                                 "languages": c.settings.languages, "direction": c.card.direction,
                                 "combine": (cfg.quality.classifiers[c.name].combine.model_dump()
                                             if cfg.quality.classifiers[c.name].combine else None),
                                 "scored_docs": int(scored_counts.get(next(iter(c.score_keys().values())), 0))}
                        for c in chosen},
        "histograms": histograms,
        **accounting,
    }
