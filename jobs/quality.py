"""Quality stage. The report: marketing advertisements and texts without logical coherence (lists of
abstracts or product descriptions) are low-quality; annotators labelled advertising (whole or
partial) and fluency on four aspects — consistency, noise, information content, grammar — and BERT
classifiers trained on those labels remove the documents below the thresholds, tuned per domain.

Both classifiers read the same frozen encoder, so each document is encoded once and both heads read
the one pooled vector (udfs/classifiers.Scorer groups heads by encoder). The fluency classifier's
four aspect scores are combined into one `fluency` score as conf says. Thresholds come from the
override table (quality.thresholds): a default per score key, overlaid by the document's language,
then by every site pattern its URL matches. A removed document's reason is the classifier's name; its
detail the score, the threshold and the threshold rules that applied. Kept documents carry every
score in `scores`.
"""
from __future__ import annotations

from contextlib import contextmanager
from typing import Any, Iterator, Mapping

from pyspark import StorageLevel
from pyspark.sql import DataFrame, SparkSession

from corpusforge.conf import Config
from corpusforge.jobs.classify import (Classifier, classifier_stats, judge, models_fingerprint, ship,
                                       stage_models)
from corpusforge.jobs.stage import Stage, StageOutput
from corpusforge.udfs.decisions import Check
from corpusforge.udfs.overrides import OverrideTable


def check_models(cfg: Config) -> tuple[list[Classifier], OverrideTable, list[Check]]:
    """The enabled classifiers (cards read on the driver) and their thresholds per language and site."""
    return stage_models(cfg.quality, "quality", cfg.inference)


class QualityStage(Stage):
    name = "quality"
    summary = "Quality: advertisement and fluency classifiers, thresholds per language and site."
    input_help = "Output directory of the previous stage (safety)."
    sections = ("inference",)  # the classifiers' windows, batches and long-document policy

    def fingerprint(self, cfg: Config, input_id: str) -> dict[str, str]:
        """The configuration and input, and the models' content (a retrained head reruns the stage)."""
        return {**super().fingerprint(cfg, input_id), "models": models_fingerprint(check_models(cfg)[0])}

    def check(self, cfg: Config, options: Mapping[str, Any]) -> None:
        check_models(cfg)

    @contextmanager
    def transform(self, spark: SparkSession, cfg: Config, docs: DataFrame, options: Mapping[str, Any],
                  output: str) -> Iterator[StageOutput]:
        chosen, table, checks = check_models(cfg)
        chosen = ship(spark, chosen, cfg.inference)
        input_docs = docs.count()
        judged, scored, keys = judge(spark, cfg.inference, docs, chosen, table, checks)
        judged = judged.persist(StorageLevel.DISK_ONLY)
        try:
            judged.count()  # inference runs once, here; the writes read the persisted rows
            yield StageOutput.by_reason(judged, self.name, input_docs, classifier_stats(
                judged, chosen, table, checks, keys, scored.accounting(), cfg.inference.histogram_bins))
        finally:
            judged.unpersist()
