"""Safety stage. The report: "a comprehensive safety strategy combining a domain blocklist, a word
blocklist, a pornography classifier and a toxicity classifier" — about 13M unsafe domains, 36,289
unsafe words compiled cautiously, and BERT classifiers whose scores past a threshold remove the
document.

The filters run cheapest first and each skips what an earlier one removed: the block-domain join
(no Python), the block-word automata (Python, cheap), then the classifiers (one encoder pass for
both heads, whose pooled vectors the kept documents carry to the Quality stage in `encoder_vectors`
when inference.share_encoder_pass is on). A removed document's reason names the filter — blocked_domain, blocked_words, or the
classifier's name — and its detail the matched list entry, the matched words, or the score and
threshold. Kept documents carry their classifier scores in `scores`.
"""
from __future__ import annotations

from contextlib import contextmanager
from typing import Any, Iterator, Mapping

from pyspark import StorageLevel
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from corpusforge.conf import Config
from corpusforge.jobs.blocklists import check_list_files, mark_blocked_domains, mark_blocked_words
from corpusforge.jobs.classify import (VECTORS_COLUMN, Classifier, classifier_stats, judge, models_fingerprint,
                                       put_scores, ship, stage_models)
from corpusforge.jobs.stage import Stage, StageOutput
from corpusforge.udfs.decisions import Check
from corpusforge.udfs.overrides import OverrideTable


def check_models(cfg: Config) -> tuple[list[Classifier], OverrideTable, list[Check]]:
    """The enabled classifiers (cards read on the driver) and their thresholds per language and site."""
    return stage_models(cfg.safety, "safety", cfg.inference)


class SafetyStage(Stage):
    name = "safety"
    summary = "Safety: block-domain list, block-word lists, toxicity and pornography classifiers."
    input_help = "Output directory of the previous stage (dedup)."
    sections = ("inference",)  # the classifiers' windows, batches and long-document policy

    def fingerprint(self, cfg: Config, input_id: str) -> dict[str, str]:
        """The configuration and input, and the models' content (a retrained head reruns the stage)."""
        return {**super().fingerprint(cfg, input_id), "models": models_fingerprint(check_models(cfg)[0])}

    def check(self, cfg: Config, options: Mapping[str, Any]) -> None:
        """Every block-domain and block-word list file, then every enabled classifier and its thresholds."""
        check_list_files(cfg)
        check_models(cfg)

    @contextmanager
    def transform(self, spark: SparkSession, cfg: Config, docs: DataFrame, options: Mapping[str, Any],
                  output: str) -> Iterator[StageOutput]:
        chosen, table, checks = check_models(cfg)
        chosen = ship(spark, chosen, cfg.inference)
        input_docs = docs.count()
        marked = mark_blocked_domains(spark, cfg, docs)
        marked = marked.withColumn("_domain_blocked", F.col("blocked_list").isNotNull())
        marked = mark_blocked_words(spark, cfg, marked, skip="_domain_blocked")
        marked = marked.withColumn("_words_blocked", F.coalesce(F.col("words_blocked"), F.lit(False)))
        marked = marked.withColumn("_screened", F.col("_domain_blocked") | F.col("_words_blocked"))
        keep_vectors = cfg.inference.share_encoder_pass  # for the Quality stage: one encoder pass per document
        judged, scored, keys = judge(spark, cfg.inference, marked, chosen, table, checks, skip="_screened",
                                     keep_vectors=keep_vectors)
        judged = put_scores(judged, {"block_words_distinct": F.col("words_distinct"),
                                     "block_words_density": F.col("words_density")})
        screened = judged.withColumn(
            "reason", F.when(F.col("_domain_blocked"), F.lit("blocked_domain"))
            .when(F.col("_words_blocked"), F.lit("blocked_words")).otherwise(F.col("reason"))
        ).withColumn(
            "detail", F.when(F.col("_domain_blocked"), F.concat_ws(": ", "blocked_list", "blocked_entry"))
            .when(F.col("_words_blocked"), F.col("words_detail")).otherwise(F.col("detail"))
        ).persist(StorageLevel.DISK_ONLY)
        try:
            screened.count()  # inference runs once, here; the writes read the persisted rows
            yield StageOutput.by_reason(screened, self.name, input_docs, safety_stats(
                screened, chosen, table, checks, keys, scored.accounting(), cfg.inference.histogram_bins),
                kept_columns=(VECTORS_COLUMN,) if keep_vectors else ())
        finally:
            screened.unpersist()


def safety_stats(screened: DataFrame, chosen: list[Classifier], table: OverrideTable, checks: list[Check],
                 keys: list[str], accounting: dict, bins: int) -> dict:
    """What each filter saw and did, for _stats.json and the run report."""
    blocked_by_list = {r["blocked_list"]: r["n"] for r in screened.where(F.col("reason") == "blocked_domain")
                       .groupBy("blocked_list").agg(F.count("*").alias("n")).collect()}
    return {"blocked_by_list": blocked_by_list,
            **classifier_stats(screened, chosen, table, checks, keys, accounting, bins)}
