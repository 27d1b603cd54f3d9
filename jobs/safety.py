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

from pyspark import StorageLevel
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

from jobs.blocklists import check_list_files, mark_blocked_domains, mark_blocked_words
from jobs.classify import Classifier, load_classifiers, merge_scores, put_scores, removes, score_documents, ship
from jobs.config import Config
from jobs.stage_io import StageOutput, begin_stage, marker_id, read_stage_input, write_stage

STAGE = "safety"


def check_models(cfg: Config) -> list[Classifier]:
    """Read every enabled classifier's card on the driver: a wrong path fails before Spark works."""
    return load_classifiers(cfg.safety.classifiers)


def check_start_up(cfg: Config) -> list[Classifier]:
    """Everything the stage reads from conf, checked on the driver before Spark starts: every block-domain
    and block-word list file, then every enabled classifier. Raises ConfigError naming the conf key."""
    check_list_files(cfg)
    return check_models(cfg)


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


def run(spark: SparkSession, cfg: Config, input_dir: str, output: str) -> dict:
    checked = check_start_up(cfg)  # again here: `corpusforge run` and spark-submit reach the stage this way
    started = begin_stage(cfg, output)
    docs, marker = read_stage_input(spark, cfg, input_dir)
    chosen = ship(spark, checked, cfg.inference)
    input_docs = docs.count()
    screened, scored = screen(spark, cfg, docs, chosen)
    screened = screened.persist(StorageLevel.DISK_ONLY)
    try:
        screened.count()  # inference runs once, here; the writes below read the persisted rows
        result = StageOutput.by_reason(screened, STAGE, input_docs,
                                       safety_stats(screened, chosen, scored.accounting()))
        return write_stage(spark, cfg, STAGE, output, result, started,
                           marker_id(marker))
    finally:
        screened.unpersist()


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


if __name__ == "__main__":  # spark-submit jobs/safety.py --input … --output …
    import sys

    from jobs.cli import main
    main(["safety", *sys.argv[1:]])
