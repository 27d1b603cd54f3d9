"""Classifiers in Spark, shared by the Safety and Quality stages: loading their cards on the driver,
shipping them to executors, scoring documents, and deciding with thresholds per language and site.

The report runs BERT classifiers over every document. Here the model directories reach each
executor once (SparkContext.addArchive, or shared storage), every Python worker loads each model once
and keeps it (udfs/classifiers.py caches per process; spark.python.worker.reuse keeps workers
alive across tasks), and documents flow through in Arrow batches (mapInArrow), length-sorted into
mini-batches under torch.inference_mode with as many torch threads as the task has cores. Heads
sharing an encoder cost one forward pass together.

An accumulator makes the "loaded once" property observable: the models each worker process loaded
while scoring this stage's documents. A worker reused from an earlier stage may already hold the
shared encoder, so the check is "no worker loads more models than the stage has", not an equality.
"""
from __future__ import annotations

import hashlib
import os
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

import numpy as np
import pyarrow as pa
from pyspark.accumulators import AccumulatorParam
from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

from corpusforge.conf import ConfigError
from corpusforge.conf.schema import ClassifierSettings, InferenceSettings
from corpusforge.resources import resolve
from corpusforge.udfs import classifiers
from corpusforge.udfs.classifiers import ClassifierCard, ClassifierError, WindowPolicy
from corpusforge.udfs.decisions import Check, combine, verdict
from corpusforge.udfs.overrides import OverrideTable, Overrides, language_key


@dataclass(frozen=True)
class Classifier:
    """One enabled classifier of a stage: its conf, its card (read on the driver) and where workers find it."""
    name: str
    settings: ClassifierSettings
    card: ClassifierCard
    shipped: str | None        # archive name under SparkFiles, or None when the path is used as is
    encoder_shipped: str | None

    @property
    def direction(self) -> str:
        return self.settings.direction or self.card.direction

    def score_keys(self) -> dict[str, str]:
        """output → key in `scores`: the classifier's name, or name.output for multi-output models."""
        if len(self.card.outputs) == 1:
            return {self.card.outputs[0]: self.name}
        return {o: f"{self.name}.{o}" for o in self.card.outputs}

    def own_key(self) -> str | None:
        """The classifier's own score key: its only output, or its combined score (None without one)."""
        return self.name if len(self.card.outputs) == 1 or self.settings.combine is not None else None


def load_classifiers(settings: dict[str, ClassifierSettings], section: str) -> list[Classifier]:
    """The enabled classifiers of conf `section` (safety or quality), their cards read and checked on
    the driver: a bad path, pickle weights or a combine rule naming unknown outputs fails at start-up."""
    out = []
    for name, conf in settings.items():
        if not conf.enabled:
            continue
        try:
            card = ClassifierCard.load(resolve(conf.path))
            classifiers.refuse_pickle_weights(card.encoder_path(), "model.safetensors")
        except ClassifierError as err:
            raise ConfigError(f"{section} classifier '{name}': {err}") from None
        if conf.combine is not None:
            unknown = sorted(set(conf.combine.weights) - set(card.outputs))
            if unknown or not any(conf.combine.weights.get(o, 0) > 0 for o in card.outputs):
                raise ConfigError(f"conf key '{section}.classifiers.{name}.combine.weights' must weigh the outputs "
                                  f"{list(card.outputs)} of {conf.path} (unknown: {unknown}), one of them above 0.")
        out.append(Classifier(name, conf, card, None, None))
    return out


def stage_models(section: Any, name: str) -> tuple[list[Classifier], OverrideTable, list[Check]]:
    """Everything a classifier stage needs from conf section `name` (safety or quality) and the model
    directories, checked on the driver before Spark works: the enabled classifiers (cards read), their
    thresholds per language and site, and the checks in conf order."""
    chosen = load_classifiers(section.classifiers, name)
    table, checks = threshold_checks(section.thresholds, chosen, set(section.classifiers), name)
    return chosen, table, checks


def threshold_checks(thresholds: Any, chosen: list[Classifier], configured: set[str],
                     section: str) -> tuple[OverrideTable, list[Check]]:
    """conf `<section>.thresholds` as an OverrideTable whose nulls are the models' stored thresholds, and
    the checks in conf order (a classifier's own score first, then its outputs). A key naming no score
    of the enabled classifiers (`configured` names them all, disabled ones included: their entries are
    ignored), or a null the model cannot fill, is a ConfigError."""
    known: dict[str, tuple[Classifier, str]] = {}
    for c in chosen:
        if c.own_key() is not None:
            known[c.own_key()] = (c, "own")
        if len(c.card.outputs) > 1:
            for key in c.score_keys().values():
                known[key] = (c, "output")
    def fill(entries: dict | None, where: str) -> dict[str, float]:
        out = {}
        for key, value in (entries or {}).items():
            if key not in known:
                if key.split(".", 1)[0] in configured:  # a disabled classifier's entry is ignored
                    continue
                raise ConfigError(f"conf key '{where}.{key}' names no score of the enabled {section} classifiers; "
                                  f"known: {', '.join(sorted(known)) or 'none'}.")
            c, kind = known[key]
            if value is None:
                if kind != "own" or c.card.threshold is None:
                    raise ConfigError(f"conf key '{where}.{key}' is null but {c.card.directory} stores no threshold "
                                      f"for it. Fix: set a number.")
                value = c.card.threshold
            out[key] = float(value)
        return out

    where = f"{section}.thresholds"
    table = OverrideTable(
        default=fill(thresholds.default, f"{where}.default"),
        languages={lang: fill(v, f"{where}.languages.{lang}") for lang, v in thresholds.languages.items()},
        sites=tuple((p, fill(v, f"{where}.sites.{p}")) for p, v in thresholds.sites.items()))
    used = table.keys()
    checks = []
    for c in chosen:
        outputs = list(c.score_keys().values()) if len(c.card.outputs) > 1 else []
        for key in ([c.own_key()] if c.own_key() else []) + outputs:
            if key in used:
                context = tuple(outputs) if key == c.own_key() and c.settings.combine else ()
                checks.append(Check(key, c.name, c.direction, context))
    return table, checks


def ship(spark: SparkSession, chosen: list[Classifier], inference: InferenceSettings) -> list[Classifier]:
    """Send classifier (and path-referenced encoder) directories to executors as zip archives with
    addArchive, under names made unique by their content, so two models called `toxicity` never collide.
    Archives, not addFile(dir, recursive=True): Spark ships a local directory only in local mode
    (UNSUPPORTED_ADD_FILE.LOCAL_DIRECTORY on a cluster), while an archive is fetched and unpacked
    once per executor by every cluster manager."""
    if not inference.ship_models:
        return chosen
    staging = Path(tempfile.gettempdir()) / "corpusforge-models"
    staging.mkdir(parents=True, exist_ok=True)
    shipped = []
    for c in chosen:
        name = _archive(c.card.directory, staging)
        encoder_name = None
        if not c.card.encoder.startswith(classifiers.PACKAGE_PREFIX) and not _inside(c.card.encoder_path(), c.card.directory):
            encoder_name = _archive(c.card.encoder_path(), staging)
        for archive in {name, encoder_name} - {None}:
            spark.sparkContext.addArchive(str(staging / archive))  # the same path twice is ignored
        shipped.append(Classifier(c.name, c.settings, c.card, name, encoder_name))
    return shipped


def _archive(directory: Path, staging: Path) -> str:
    """A zip of a directory named <name>-<hash of path, names, sizes, times>.zip; SparkFiles.get(that
    name) is the unpacked directory on an executor. Written once: a rerun with the same files reuses it."""
    digest = hashlib.sha256(str(directory.resolve()).encode())
    files = sorted(p for p in directory.rglob("*") if p.is_file())
    for path in files:
        stat = path.stat()
        digest.update(f"{path.relative_to(directory)}\0{stat.st_size}\0{stat.st_mtime_ns}\0".encode())
    name = f"{directory.name}-{digest.hexdigest()[:12]}.zip"
    target = staging / name
    if not target.is_file():
        partial = staging / f".{name}.{os.getpid()}"
        with zipfile.ZipFile(partial, "w", zipfile.ZIP_STORED) as archive:  # weights do not compress
            for path in files:
                archive.write(path, path.relative_to(directory).as_posix())
        partial.replace(target)  # atomic: another run writing the same archive writes the same bytes
    return name


def _inside(path: Path, directory: Path) -> bool:
    return path.resolve().is_relative_to(directory.resolve())


class _LoadsPerWorker(AccumulatorParam):
    """pid → models loaded by that Python worker process."""
    def zero(self, value):
        return {}

    def addInPlace(self, a, b):
        for pid, n in b.items():
            a[pid] = a.get(pid, 0) + n
        return a


@dataclass
class Scored:
    """Documents with one double column per classifier output, and the accounting accumulators."""
    df: DataFrame
    columns: dict[str, dict[str, str]]  # classifier → output → column
    loads: object  # accumulator of pid → models loaded

    def accounting(self) -> dict:
        """Read after an action. With caching working, max_loads_per_worker never exceeds the stage's
        model count (encoders + heads), however many tasks each worker ran."""
        per_worker = dict(self.loads.value)
        return {"model_loads": sum(per_worker.values()), "inference_workers": len(per_worker),
                "max_loads_per_worker": max(per_worker.values(), default=0)}


def score_documents(spark: SparkSession, df: DataFrame, chosen: list[Classifier], inference: InferenceSettings,
                    skip: str | None = None) -> Scored:
    """df plus a double column per classifier output; NaN/null where a row was skipped (the `skip`
    column is true) or its language is not one the classifier is for."""
    sc = spark.sparkContext
    loads = sc.accumulator({}, _LoadsPerWorker())
    columns = {c.name: {o: f"__score_{i}_{j}" for j, o in enumerate(c.card.outputs)} for i, c in enumerate(chosen)}
    schema = T.StructType(df.schema.fields + [T.StructField(col, T.DoubleType())
                                              for c in chosen for col in columns[c.name].values()])
    policy = WindowPolicy(inference.max_tokens, inference.long_documents, inference.chunks, inference.chunk_aggregate,
                          inference.batch_size, inference.batch_tokens)
    plan = [(c.name, c.shipped, c.encoder_shipped, str(c.card.directory), c.settings.languages) for c in chosen]
    device, threads = inference.device, inference.threads

    def score(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        from pyspark import TaskContext

        classifiers.set_threads(threads or int(TaskContext.get().cpus()))
        before = classifiers.loads()
        scorer = classifiers.Scorer([_worker_card(*entry[1:4]) for entry in plan], policy, device)
        used = False
        for batch in batches:
            texts = batch.column("text").to_pylist()
            languages = batch.column("language").to_pylist()
            skipped = batch.column(skip).to_pylist() if skip else [False] * len(texts)
            wanted = {name: [not s and (langs is None or language_key(lang, langs) is not None)
                             for s, lang in zip(skipped, languages)] for name, _, _, _, langs in plan}
            if any(any(v) for v in wanted.values()):
                used = True
            scores = scorer.score([t or "" for t in texts], wanted)
            for name, *_ in plan:
                for j, col in enumerate(columns[name].values()):
                    values = scores[name][:, j]
                    batch = batch.append_column(col, pa.array(values, type=pa.float64(), mask=values != values))
            yield batch
        if used:
            loads.add({os.getpid(): classifiers.loads() - before})

    return Scored(df.mapInArrow(score, schema), columns, loads)


def _worker_card(shipped: str | None, encoder_shipped: str | None, directory: str) -> ClassifierCard:
    """The card as seen on the executor: the unpacked copy when models were shipped as archives."""
    from pyspark import SparkFiles

    card = ClassifierCard.load(SparkFiles.get(shipped) if shipped else directory)
    if encoder_shipped:
        card = ClassifierCard(**{**card.__dict__, "encoder": SparkFiles.get(encoder_shipped)})
    return card


def judge(spark: SparkSession, inference: InferenceSettings, docs: DataFrame, chosen: list[Classifier],
          table: OverrideTable, checks: list[Check], skip: str | None = None) -> tuple[DataFrame, Scored, list[str]]:
    """Score documents with every classifier (one encoder pass per shared encoder), combine multi-output
    scores as conf says, and decide each document against its thresholds (default → language → sites).
    Returns the documents with every score merged into `scores` and `reason`, `detail` (null when kept)
    and `threshold_rule` (null when unscored), the Scored accounting, and the score keys written."""
    scored = score_documents(spark, docs, chosen, inference, skip=skip)
    outputs = {c.name: [(key, scored.columns[c.name][o]) for o, key in c.score_keys().items()] for c in chosen}
    combos = {c.name: (f"__combined_{i}", c.settings.combine.method, dict(c.settings.combine.weights),
                       list(c.card.outputs))
              for i, c in enumerate(chosen) if c.settings.combine is not None}
    schema = T.StructType(scored.df.schema.fields
                          + [T.StructField(col, T.DoubleType()) for col, *_ in combos.values()]
                          + [T.StructField(n, T.StringType()) for n in ("reason", "detail", "threshold_rule")])

    def decide(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        overrides = Overrides(table)
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
                resolved = overrides.resolve(languages[i], hosts[i], urls[i])
                reason, detail = verdict(row, resolved.values, checks)
                reasons.append(reason)
                details.append(f"{detail} [{resolved.rule}]" if detail else None)
                rules.append(resolved.rule if any(v is not None for v in row.values()) else None)
            for name, column in (("reason", reasons), ("detail", details), ("threshold_rule", rules)):
                batch = batch.append_column(name, pa.array(column, type=pa.string()))
            yield batch

    decided = scored.df.mapInArrow(decide, schema)
    entries = {key: F.col(col) for cols in outputs.values() for key, col in cols}
    entries.update({name: F.col(col) for name, (col, *_) in combos.items()})
    temp = [col for cols in outputs.values() for _, col in cols] + [col for col, *_ in combos.values()]
    return put_scores(decided, entries).drop(*temp), scored, list(entries)


def classifier_stats(judged: DataFrame, chosen: list[Classifier], table: OverrideTable, checks: list[Check],
                     keys: list[str], accounting: dict, bins: int) -> dict:
    """Thresholds used (the run report draws `thresholds` on the histograms), score histograms, which
    threshold rules applied, and the inference accounting — the same for Safety and Quality."""
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
                                "sites": {p: dict(v) for p, v in table.sites}},
        "directions": {c.key: c.direction for c in checks},
        "docs_by_threshold_rule": dict(sorted(rules.items(), key=lambda kv: -kv[1])),
        "unscored_docs": int(rules.get("unscored", 0)),
        "classifiers": {c.name: {"path": c.settings.path, "score_keys": list(c.score_keys().values()),
                                 "languages": c.settings.languages, "direction": c.direction,
                                 "combine": c.settings.combine.model_dump() if c.settings.combine else None,
                                 "scored_docs": int(scored_counts.get(next(iter(c.score_keys().values())), 0))}
                        for c in chosen},
        "histograms": histograms,
        **accounting,
    }


def put_scores(df: DataFrame, entries: dict[str, Column]) -> DataFrame:
    """Set keys of the `scores` map (null values are left out; same-named keys of an earlier run replaced)."""
    if not entries:
        return df
    keys = F.array(*[F.lit(k) for k in entries])
    new = F.map_filter(F.map_from_arrays(keys, F.array(*[v.cast("double") for v in entries.values()])),
                       lambda k, v: v.isNotNull())
    old = F.map_filter(F.coalesce(F.col("scores"), F.create_map().cast("map<string,double>")),
                       lambda k, v: ~F.array_contains(keys, k))
    return df.withColumn("scores", F.map_concat(old, new))
