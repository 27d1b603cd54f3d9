"""Classifiers in Spark, shared by the Safety and Quality stages: loading their cards on the driver,
shipping them to executors, scoring documents, and deciding with thresholds per language and site.

One encoder pass per document for both stages: every head of a stage reading the same encoder shares
the stage's forward pass, and with inference.share_encoder_pass the Safety stage keeps each scored
document's pooled vectors (float16) in the column `encoder_vectors` of its kept/ output, keyed by what
made them (udfs/classifiers/scorer.pass_key: the encoder's content hash, pooling, text prefix, window
policy, dtype); the Quality stage scores its heads from them when its pass has the same key and encodes
only the documents without. `_stats.json` counts documents_encoded and documents_reused.

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


VECTORS_COLUMN = "encoder_vectors"  # map<pass key, float16 window vectors as bytes>, kept by Safety
VECTORS_TYPE = T.MapType(T.StringType(), T.BinaryType())


@dataclass(frozen=True)
class Classifier:
    """One enabled classifier of a stage: its conf, its card (read on the driver) and where workers find it."""
    name: str
    settings: ClassifierSettings
    card: ClassifierCard
    shipped: str | None        # archive name under SparkFiles, or None when the path is used as is
    encoder_shipped: str | None
    encoder_dir: Path | None = None  # the encoder as the driver resolved it (converted: in the cache)
    encoder_id: str = ""             # what the encoder is (content hash): fingerprints and pass keys

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


def load_classifiers(settings: dict[str, ClassifierSettings], section: str,
                     inference: InferenceSettings) -> list[Classifier]:
    """The enabled classifiers of conf `section` (safety or quality), their cards read and checked on
    the driver: a bad path, pickle weights, a missing encoder or a combine rule naming unknown outputs
    fails at start-up. A converted encoder is converted (and verified) here on first use."""
    out = []
    for name, conf in settings.items():
        if not conf.enabled:
            continue
        try:
            card = ClassifierCard.load(resolve(conf.path))
            encoder_dir = card.encoder_path(inference.encoder_cache_dir)
            classifiers.refuse_pickle_weights(encoder_dir, "model.safetensors")
            encoder_id = classifiers.encoder_identity(encoder_dir)
        except ClassifierError as err:
            raise ConfigError(f"{section} classifier '{name}': {err}") from None
        if conf.combine is not None:
            unknown = sorted(set(conf.combine.weights) - set(card.outputs))
            if unknown or not any(conf.combine.weights.get(o, 0) > 0 for o in card.outputs):
                raise ConfigError(f"conf key '{section}.classifiers.{name}.combine.weights' must weigh the outputs "
                                  f"{list(card.outputs)} of {conf.path} (unknown: {unknown}), one of them above 0.")
        out.append(Classifier(name, conf, card, None, None, encoder_dir, encoder_id))
    return out


def models_fingerprint(chosen: list[Classifier]) -> str:
    """What the stage's models ARE, for its _SUCCESS fingerprint: each classifier's card, head weights
    and encoder content — so a retrained head or another encoder reruns the stage, while moving the
    same files elsewhere does not."""
    digest = hashlib.sha256()
    for c in sorted(chosen, key=lambda c: c.name):
        directory = c.card.directory
        digest.update(f"{c.name}\0{c.encoder_id}\0".encode())
        for name in (classifiers.CARD_FILE, classifiers.HEAD_FILE):
            digest.update((directory / name).read_bytes() if (directory / name).is_file() else b"-")
    return digest.hexdigest()[:16]


def stage_models(section: Any, name: str, inference: InferenceSettings) -> tuple[list[Classifier], OverrideTable,
                                                                                 list[Check]]:
    """Everything a classifier stage needs from conf section `name` (safety or quality) and the model
    directories, checked on the driver before Spark works: the enabled classifiers (cards read), their
    thresholds per language and site, and the checks in conf order."""
    chosen = load_classifiers(section.classifiers, name, inference)
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
    """Send classifier (and path-referenced or converted encoder) directories to executors as zip
    archives with addArchive, under names made unique by their content, so two models called `toxicity`
    never collide. Archives, not addFile(dir, recursive=True): Spark ships a local directory only in
    local mode (UNSUPPORTED_ADD_FILE.LOCAL_DIRECTORY on a cluster), while an archive is fetched and
    unpacked once per executor by every cluster manager. Encoders of installed packages (package:) are
    not shipped: the executors' environment has them."""
    if not inference.ship_models:
        return chosen
    staging = Path(tempfile.gettempdir()) / "corpusforge-models"
    staging.mkdir(parents=True, exist_ok=True)
    shipped = []
    for c in chosen:
        name = _archive(c.card.directory, staging)
        encoder_name = None
        if not c.card.encoder.startswith(classifiers.PACKAGE_PREFIX) and not _inside(c.encoder_dir, c.card.directory):
            encoder_name = _archive(c.encoder_dir, staging)
        for archive in {name, encoder_name} - {None}:
            spark.sparkContext.addArchive(str(staging / archive))  # the same path twice is ignored
        shipped.append(Classifier(c.name, c.settings, c.card, name, encoder_name, c.encoder_dir, c.encoder_id))
    return shipped


def _archive(directory: Path, staging: Path) -> str:
    """A zip of a directory named <name>-<hash of path, names, sizes, times>.zip; SparkFiles.get(that
    name) is the unpacked directory on an executor. Written once: a rerun with the same files reuses it.
    Deflated at level 1: the converted e5's float32 weights (4-bit values times a scale) shrink to 44%
    (470 → 209 MB) for ~20 s once, while float16 storage would not be exact (udfs/classifiers/conversion.py)."""
    digest = hashlib.sha256(str(directory.resolve()).encode())
    files = sorted(p for p in directory.rglob("*") if p.is_file())
    for path in files:
        stat = path.stat()
        digest.update(f"{path.relative_to(directory)}\0{stat.st_size}\0{stat.st_mtime_ns}\0".encode())
    name = f"{directory.name}-{digest.hexdigest()[:12]}.zip"
    target = staging / name
    if not target.is_file():
        partial = staging / f".{name}.{os.getpid()}"
        with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
            for path in files:
                archive.write(path, path.relative_to(directory).as_posix())
        partial.replace(target)  # atomic: another run writing the same archive writes the same bytes
    return name


def _inside(path: Path, directory: Path) -> bool:
    return path.resolve().is_relative_to(directory.resolve())


class _SumByKey(AccumulatorParam):
    """A dict accumulator summing per key: pid → models loaded by that Python worker, or the encoder's
    work (documents/windows/tokens encoded, documents/windows reused)."""
    def zero(self, value):
        return {}

    def addInPlace(self, a, b):
        for key, n in b.items():
            a[key] = a.get(key, 0) + n
        return a


PASS_COUNTS = ("documents_encoded", "windows_encoded", "tokens_encoded", "documents_reused", "second_look_documents")


@dataclass
class Scored:
    """Documents with one double column per classifier output, and the accounting accumulators."""
    df: DataFrame
    columns: dict[str, dict[str, str]]  # classifier → output → column
    loads: object  # accumulator of pid → models loaded
    passes: object  # accumulator of the encoder's work (PASS_COUNTS)

    def accounting(self) -> dict:
        """Read after an action. With caching working, max_loads_per_worker never exceeds the stage's
        model count (encoders + heads), however many tasks each worker ran. documents_encoded counts
        the documents this stage ran through an encoder (one forward pass per window:
        windows_encoded), documents_reused those scored from vectors an earlier stage kept,
        second_look_documents those a classifier read whole after a suspicious head window (their
        extra windows are in windows_encoded)."""
        per_worker = dict(self.loads.value)
        passes = dict(self.passes.value)
        return {"model_loads": sum(per_worker.values()), "inference_workers": len(per_worker),
                "max_loads_per_worker": max(per_worker.values(), default=0),
                **{key: int(passes.get(key, 0)) for key in PASS_COUNTS}}


def score_documents(spark: SparkSession, df: DataFrame, chosen: list[Classifier], inference: InferenceSettings,
                    skip: str | None = None, keep_vectors: bool = False) -> Scored:
    """df plus a double column per classifier output; NaN/null where a row was skipped (the `skip`
    column is true) or its language is not one the classifier is for. Documents whose VECTORS_COLUMN
    holds vectors of the same encoder pass are scored from them, not encoded again; keep_vectors
    writes every scored document's vectors into that column (added to what it already holds)."""
    sc = spark.sparkContext
    loads = sc.accumulator({}, _SumByKey())
    passes = sc.accumulator({}, _SumByKey())
    columns = {c.name: {o: f"__score_{i}_{j}" for j, o in enumerate(c.card.outputs)} for i, c in enumerate(chosen)}
    has_vectors = VECTORS_COLUMN in df.columns
    fields = [f for f in df.schema.fields if not (keep_vectors and f.name == VECTORS_COLUMN)]
    schema = T.StructType(fields + [T.StructField(col, T.DoubleType())
                                    for c in chosen for col in columns[c.name].values()]
                          + ([T.StructField(VECTORS_COLUMN, VECTORS_TYPE)] if keep_vectors else []))
    policy = WindowPolicy(inference.max_tokens, inference.long_documents, inference.chunks, inference.chunk_aggregate,
                          inference.batch_size, inference.batch_tokens, inference.second_look)
    plan = [(c.name, c.shipped, c.encoder_shipped, str(c.card.directory), c.settings.languages) for c in chosen]
    identities = [c.encoder_id for c in chosen]
    device, dtype, threads, cache = inference.device, inference.dtype, inference.threads, inference.encoder_cache_dir

    def score(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        from pyspark import TaskContext

        classifiers.set_threads(threads or int(TaskContext.get().cpus()))
        before = classifiers.loads()
        scorer = classifiers.Scorer([_worker_card(*entry[1:4], cache) for entry in plan], policy, device, dtype,
                                    identities)
        used = False
        for batch in batches:
            texts = batch.column("text").to_pylist()
            languages = batch.column("language").to_pylist()
            skipped = batch.column(skip).to_pylist() if skip else [False] * len(texts)
            wanted = {name: [not s and (langs is None or language_key(lang, langs) is not None)
                             for s, lang in zip(skipped, languages)] for name, _, _, _, langs in plan}
            if any(any(v) for v in wanted.values()):
                used = True
            stored = [dict(m) if m else None for m in batch.column(VECTORS_COLUMN).to_pylist()] if has_vectors \
                else None
            scores, vectors = scorer.run([t or "" for t in texts], wanted, stored)
            for name, *_ in plan:
                for j, col in enumerate(columns[name].values()):
                    values = scores[name][:, j]
                    batch = batch.append_column(col, pa.array(values, type=pa.float64(), mask=values != values))
            if keep_vectors:
                merged = []
                for i in range(len(texts)):
                    entry = dict(stored[i] or {}) if stored else {}
                    entry.update({key: v[i] for key, v in vectors.items() if v[i] is not None})
                    merged.append(list(entry.items()) or None)
                if has_vectors:
                    batch = batch.drop_columns([VECTORS_COLUMN])
                batch = batch.append_column(VECTORS_COLUMN, pa.array(merged, type=pa.map_(pa.string(), pa.binary())))
            yield batch
        if used:
            loads.add({os.getpid(): classifiers.loads() - before})
        passes.add(dict(scorer.counts))

    return Scored(df.mapInArrow(score, schema), columns, loads, passes)


def _worker_card(shipped: str | None, encoder_shipped: str | None, directory: str,
                 encoder_cache: str) -> ClassifierCard:
    """The card as seen on the executor: the unpacked copies when models were shipped as archives, and
    its encoder as a directory there (a converted: encoder not shipped is resolved in the executor's
    cache — converted there when missing)."""
    from pyspark import SparkFiles

    card = ClassifierCard.load(SparkFiles.get(shipped) if shipped else directory)
    encoder = SparkFiles.get(encoder_shipped) if encoder_shipped else str(card.encoder_path(encoder_cache))
    return ClassifierCard(**{**card.__dict__, "encoder": encoder})


def judge(spark: SparkSession, inference: InferenceSettings, docs: DataFrame, chosen: list[Classifier],
          table: OverrideTable, checks: list[Check], skip: str | None = None,
          keep_vectors: bool = False) -> tuple[DataFrame, Scored, list[str]]:
    """Score documents with every classifier (one encoder pass per shared encoder), combine multi-output
    scores as conf says, and decide each document against its thresholds (default → language → sites).
    Returns the documents with every score merged into `scores` and `reason`, `detail` (null when kept)
    and `threshold_rule` (null when unscored), the Scored accounting, and the score keys written."""
    scored = score_documents(spark, docs, chosen, inference, skip=skip, keep_vectors=keep_vectors)
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
