"""Classifier inference in Spark, shared by the Safety and Quality stages.

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
from typing import Iterator

import pyarrow as pa
from pyspark.accumulators import AccumulatorParam
from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

from corpusforge.jobs.config import ClassifierSettings, ConfigError, InferenceSettings
from corpusforge.resources import resolve
from corpusforge.udfs import classifiers
from corpusforge.udfs.classifiers import ClassifierCard, ClassifierError, WindowPolicy


@dataclass(frozen=True)
class Classifier:
    """One enabled classifier of a stage: its conf, its card (read on the driver) and where workers find it."""
    name: str
    settings: ClassifierSettings
    card: ClassifierCard
    shipped: str | None        # archive name under SparkFiles, or None when the path is used as is
    encoder_shipped: str | None

    @property
    def output(self) -> str:
        """The output that is thresholded."""
        if self.settings.output is not None:
            return self.settings.output
        if len(self.card.outputs) != 1:
            raise ConfigError(f"classifier '{self.name}' has outputs {list(self.card.outputs)}: set its `output`.")
        return self.card.outputs[0]

    @property
    def threshold(self) -> float:
        value = self.settings.threshold if self.settings.threshold is not None else self.card.threshold
        if value is None:
            raise ConfigError(f"classifier '{self.name}' has no threshold in conf nor in {self.card.directory}.")
        return value

    @property
    def direction(self) -> str:
        return self.settings.direction or self.card.direction

    def score_keys(self) -> dict[str, str]:
        """output → key in `scores`: the classifier's name, or name.output for multi-output models."""
        if len(self.card.outputs) == 1:
            return {self.card.outputs[0]: self.name}
        return {o: f"{self.name}.{o}" for o in self.card.outputs}

    def score_key(self) -> str:
        return self.score_keys()[self.output]


def load_classifiers(settings: dict[str, ClassifierSettings]) -> list[Classifier]:
    """The enabled classifiers, their cards read and checked on the driver (a bad path fails at start-up)."""
    out = []
    for name, conf in settings.items():
        if not conf.enabled:
            continue
        try:
            card = ClassifierCard.load(resolve(conf.path))
            encoder = card.encoder_path()
            classifiers.refuse_pickle_weights(encoder, "model.safetensors")
        except ClassifierError as err:
            raise ConfigError(f"classifier '{name}': {err}") from None
        chosen = Classifier(name, conf, card, None, None)
        if conf.output is not None and conf.output not in card.outputs:
            raise ConfigError(f"classifier '{name}': output '{conf.output}' is not one of {list(card.outputs)}.")
        chosen.threshold, chosen.output  # noqa: B018 — raise now, not on an executor
        out.append(chosen)
    return out


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
            wanted = {name: [not s and (langs is None or _language_in(lang, langs))
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


def _language_in(language: str | None, languages: list[str]) -> bool:
    return bool(language) and (language in languages or language.split("-", 1)[0] in languages)


def merge_scores(scored: Scored, chosen: list[Classifier]) -> DataFrame:
    """Fold the score columns into the `scores` map and drop them."""
    entries = {key: F.col(scored.columns[c.name][output]) for c in chosen for output, key in c.score_keys().items()}
    temp = [col for c in scored.columns.values() for col in c.values()]
    return put_scores(scored.df, entries).drop(*temp)


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


def removes(c: Classifier, score: Column) -> Column:
    """True where the classifier's score is past its threshold in its direction."""
    return (score > F.lit(c.threshold)) if c.direction == "above" else (score < F.lit(c.threshold))
