"""Safety stage. The report: "a comprehensive safety strategy combining a domain blocklist, a word
blocklist, a pornography classifier and a toxicity classifier" — about 13M unsafe domains, 36,289
unsafe words compiled cautiously, and BERT classifiers whose scores past a threshold remove the
document.

The filters run cheapest first and each skips what an earlier one removed: the block-domain join
(no Python), the block-word automata (Python, cheap), then the classifiers (one encoder pass for
both heads). A removed document's reason names the filter — blocked_domain, blocked_words, or the
classifier's name — and its detail the matched list entry, the matched words, or the score and
threshold. Kept documents carry their classifier scores in `scores`.
"""
from __future__ import annotations

from contextlib import contextmanager
from typing import Any, Iterator, Mapping

from pyspark import StorageLevel
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from corpusforge.jobs.blocklists import check_list_files, mark_blocked_domains, mark_blocked_words
from corpusforge.jobs.classify import Classifier, load_classifiers, merge_scores, put_scores, removes, score_documents, ship
from corpusforge.jobs.config import Config
from corpusforge.jobs.stage import Stage, StageOutput


class SafetyStage(Stage):
    name = "safety"
    summary = "Safety: block-domain list, block-word lists, toxicity and pornography classifiers."
    input_help = "Output directory of the previous stage (dedup)."
    sections = ("inference",)  # the classifiers' windows, batches and long-document policy

    def check(self, cfg: Config, options: Mapping[str, Any]) -> None:
        """Every block-domain and block-word list file, then every enabled classifier's card."""
        check_list_files(cfg)
        load_classifiers(cfg.safety.classifiers)

    @contextmanager
    def transform(self, spark: SparkSession, cfg: Config, docs: DataFrame, options: Mapping[str, Any],
                  output: str) -> Iterator[StageOutput]:
        chosen = ship(spark, load_classifiers(cfg.safety.classifiers), cfg.inference)
        input_docs = docs.count()
        screened, scored = screen(spark, cfg, docs, chosen)
        screened = screened.persist(StorageLevel.DISK_ONLY)
        try:
            screened.count()  # inference runs once, here; the writes read the persisted rows
            yield StageOutput.by_reason(screened, self.name, input_docs,
                                        safety_stats(screened, chosen, scored.accounting()))
        finally:
            screened.unpersist()


def screen(spark: SparkSession, cfg: Config, docs: DataFrame, chosen: list[Classifier]):
    """Documents with `reason` and `detail` (null when kept) and their classifier scores merged."""
    marked = mark_blocked_domains(spark, cfg, docs)
    marked = marked.withColumn("_domain_blocked", F.col("blocked_list").isNotNull())
    marked = mark_blocked_words(spark, cfg, marked, skip="_domain_blocked")
    marked = marked.withColumn("_screened", F.col("_domain_blocked") | F.coalesce(F.col("words_blocked"), F.lit(False)))
    scored = score_documents(spark, marked, chosen, cfg.inference, skip="_screened")
    merged = merge_scores(scored, chosen)
    merged = put_scores(merged, {"block_words_distinct": F.col("words_distinct"),
                                 "block_words_density": F.col("words_density")})
    reason = F.when(F.col("_domain_blocked"), F.lit("blocked_domain")) \
        .when(F.coalesce(F.col("words_blocked"), F.lit(False)), F.lit("blocked_words"))
    detail = F.when(F.col("_domain_blocked"), F.concat_ws(": ", "blocked_list", "blocked_entry")) \
        .when(F.coalesce(F.col("words_blocked"), F.lit(False)), F.col("words_detail"))
    for c in chosen:
        score = F.col("scores").getItem(c.score_key())
        past = F.coalesce(removes(c, score), F.lit(False))
        reason = reason.when(past, F.lit(c.name))
        sign = ">" if c.direction == "above" else "<"
        detail = detail.when(past, F.format_string(f"{c.score_key()} %.4f {sign} {c.threshold:.4f}", score))
    return merged.withColumn("reason", reason).withColumn("detail", detail), scored


def safety_stats(screened: DataFrame, chosen: list[Classifier], accounting: dict) -> dict:
    """What each filter saw and did, for _stats.json and the run report."""
    blocked_by_list = {r["blocked_list"]: r["n"] for r in screened.where(F.col("reason") == "blocked_domain")
                       .groupBy("blocked_list").agg(F.count("*").alias("n")).collect()}
    aggregates = [F.count(F.col("scores").getItem(c.score_key())).alias(c.name) for c in chosen]
    scored = screened.agg(*aggregates).first().asDict() if chosen else {}
    return {"blocked_by_list": blocked_by_list,
            "classifiers": {c.name: {"path": str(c.settings.path), "score_key": c.score_key(),
                                     "threshold": c.threshold, "direction": c.direction,
                                     "languages": c.settings.languages, "scored_docs": int(scored[c.name])}
                            for c in chosen},
            **accounting}
