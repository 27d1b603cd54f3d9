"""The long-text stage in Spark on real long documents (tests/data/long), a spliced one, junk and
documents at the length boundary, with a tiny random causal LM shipped to the executors; and
`corpusforge run --from longtext`: the corpus and the long-context subset exported side by side."""
from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from support.models import make_tiny_causal_lm
from support.paths import DATA

pytestmark = pytest.mark.spark

LONG = [json.loads(line) for line in (DATA / "long" / "documents.jsonl").read_text(encoding="utf-8").splitlines()]


def documents() -> list[dict]:
    en_a, en_b, zh_a, zh_b = LONG
    cut = en_a["text"].find("\n", len(en_a["text"]) // 2) + 1
    spliced = en_a["text"][:cut] + en_b["text"][en_b["text"].find("\n", len(en_b["text"]) // 3) + 1:]
    table = "\n".join(f"| {i} | item {i} | {i * 7 % 13} | stock |" for i in range(1500))
    docs = [(d["id"], d["language"], d["text"]) for d in LONG] + [
        ("spliced-en", "en", spliced),
        ("table-en", "en", table),
        ("ascii-32768", "en", "a" * 32768),         # exactly 32 KiB: not long
        ("han-10922", "zh", "中" * 10922),           # 32,766 bytes: not long
        ("han-10923", "zh", "中" * 10923),           # 32,769 bytes: long (and junk)
        ("short-page", "en", "A short page.")]
    return [{"id": i, "url": None, "host": None, "domain": None, "dump": None, "dump_order": None,
             "warc_file": None, "warc_record_id": None, "warc_date": None, "language": lang, "language_score": 0.99,
             "title": None, "text": text, "scores": {"fluency": 0.9}} for i, lang, text in docs]


def write_stage_output(spark, directory: Path) -> None:
    """A finished stage output as Quality writes it: kept/, removed/ (none), _stats.json, _SUCCESS."""
    from pyspark.sql import functions as F

    from corpusforge.jobs.stage import DOCUMENT_SCHEMA, removed_rows

    kept = spark.createDataFrame(documents(), DOCUMENT_SCHEMA)
    kept.write.mode("overwrite").parquet(str(directory / "kept"))
    removed_rows(kept.limit(0), "quality", F.lit("fluency")).write.mode("overwrite").parquet(str(directory / "removed"))
    n = len(documents())
    (directory / "_stats.json").write_text(json.dumps({"stage": "quality", "input_docs": n, "kept_docs": n,
                                                       "removed_docs": 0, "kept_by_language": {}}))
    (directory / "_SUCCESS").write_text(json.dumps({"stage": "quality", "test": "longtext"}))


@pytest.fixture(scope="module")
def tiny_lm(tmp_path_factory):
    return make_tiny_causal_lm(tmp_path_factory.mktemp("longtext-lm") / "lm", tuple(d["text"] for d in LONG))


def coherence_sets(lm: Path, zh_threshold: float) -> list[str]:
    scale = "{cross_dip: [-10, 5], cross_v: [-0.2, 0.1], chain_mean: [0, 1], anchor_gain: [0, 1]}"
    return [f"longtext.coherence.model={lm}", "longtext.coherence.head_vocab=null", "longtext.coherence.dtype=float32",
            "longtext.coherence.features=[cross_dip, chain_mean, anchor_gain]",
            f"longtext.coherence.scales={{en: {scale}, zh: {scale}}}",
            "longtext.coherence.segment_tokens=64", "longtext.coherence.context_tokens=64",
            "longtext.thresholds.languages.en.min_coherence=-1000000",
            f"longtext.thresholds.languages.zh.min_coherence={zh_threshold}"]


@pytest.fixture(scope="module")
def stage_run(spark, cfg_factory, tiny_lm, tmp_path_factory):
    from corpusforge.jobs.longtext import LongTextStage
    from corpusforge.jobs.stage import run_stage

    root = tmp_path_factory.mktemp("longtext")
    write_stage_output(spark, root / "quality")
    cfg = cfg_factory(*coherence_sets(tiny_lm, 1e9))  # every scored Chinese document falls below its threshold
    stats = run_stage(spark, cfg, LongTextStage(), str(root / "quality"), str(root / "longtext"))
    return root / "longtext", stats, cfg


def test_every_document_is_kept_or_removed_with_its_reason(spark, stage_run):
    out, stats, _ = stage_run
    assert stats["input_docs"] == stats["kept_docs"] + stats["removed_docs"] == len(documents())
    removed = {r["id"]: r for r in spark.read.parquet(str(out / "removed")).collect()}
    for doc_id in ("ascii-32768", "han-10922", "short-page"):
        assert removed[doc_id]["reason"] == "too_short" and "bytes <= 32768" in removed[doc_id]["detail"]
    assert removed["han-10923"]["reason"] not in ("too_short", None)      # long by its bytes, then junk
    assert removed["table-en"]["reason"] == "max_table_line_fraction"
    assert "table_line_fraction" in removed["table-en"]["detail"] and "[default+language:en" in removed["table-en"]["detail"]
    for doc in LONG:
        if doc["language"] == "zh":
            r = removed[doc["id"]]
            assert r["reason"] == "min_coherence" and r["detail"].startswith("coherence ")
            assert "< 1e+09" in r["detail"] and "language:zh" in r["detail"]
    kept = {r["id"]: r for r in spark.read.parquet(str(out / "kept")).collect()}
    assert set(kept) == {LONG[0]["id"], LONG[1]["id"], "spliced-en"}
    for r in kept.values():
        assert r["longtext_domain"] in ("other", "textbook", "encyclopedia")
        assert {"longtext.bytes", "longtext.window_ttr", "longtext.coherence", "longtext.chain_mean",
                "longtext.anchor_gain", "longtext.cross_dip", "fluency"} <= set(r["scores"])
    assert all(r["stage"] == "longtext" for r in removed.values())


def test_the_model_reaches_executors_once_and_is_loaded_once_per_worker(stage_run):
    _, stats, _ = stage_run
    assert stats["coherence"]["scored_docs"] == 5                           # 2 en + spliced + 2 zh reach it
    assert stats["inference_workers"] >= 1 and stats["max_loads_per_worker"] == 1
    assert stats["model_loads"] == stats["inference_workers"]


def test_stats_hold_lengths_domains_and_the_thresholds_that_applied(stage_run):
    _, stats, _ = stage_run
    assert stats["long_docs"] == 7 and stats["short_docs"] == 3
    assert sum(stats["lengths_kib"].values()) == 7
    assert sum(d["long"] for d in stats["domains"].values()) == 7
    assert 1e9 in stats["thresholds"]["longtext.coherence"] and stats["thresholds"]["longtext.table_line_fraction"]
    written = json.loads((stage_run[0] / "_stats.json").read_text())
    assert written["docs_by_threshold_rule"] == stats["docs_by_threshold_rule"]


def test_lexical_coherence_needs_no_model(spark, cfg_factory, tiny_lm, stage_run, tmp_path):
    from corpusforge.jobs.longtext import LongTextStage
    from corpusforge.jobs.stage import run_stage

    sets = coherence_sets(tiny_lm, -1000000)
    sets[0] = "longtext.coherence.model=/nonexistent/model"                  # never read
    sets[3] = "longtext.coherence.features=[cross_dip, cross_v]"
    cfg = cfg_factory(*sets)
    stats = run_stage(spark, cfg, LongTextStage(), str(stage_run[0].parent / "quality"), str(tmp_path / "out"))
    assert stats["coherence"]["scored_docs"] == 5 and stats["model_loads"] == stats["inference_workers"] == 0
    assert stats["kept_docs"] == 5 and stats["coherence"]["model"] is None


def test_run_exports_the_corpus_and_the_long_context_subset_side_by_side(spark, cfg_factory, tiny_lm, stage_run,
                                                                          tmp_path):
    import zstandard

    from corpusforge.jobs.pipeline import run_pipeline

    run = tmp_path / "run"
    write_stage_output(spark, run / "quality")
    cfg = cfg_factory(*coherence_sets(tiny_lm, 1e9))
    summary = run_pipeline(spark, cfg, [], str(run), "longtext", "longtext")

    def exported(folder: str) -> list[dict]:
        rows = []
        for shard in sorted((run / folder).glob("part-*.jsonl.zst")):
            with open(shard, "rb") as raw, zstandard.ZstdDecompressor().stream_reader(raw) as reader:
                rows.extend(json.loads(line) for line in io.TextIOWrapper(reader, encoding="utf-8"))
        return rows

    corpus, subset = exported("final"), exported("final_longtext")
    assert len(corpus) == summary["final"]["rows"] == len(documents())     # the corpus is Quality's kept
    assert {d["id"] for d in subset} == {LONG[0]["id"], LONG[1]["id"], "spliced-en"}
    assert summary["final_longtext"]["rows"] == 3 and all(d["longtext_domain"] for d in subset)
    assert "longtext_domain" not in corpus[0]
    report = (run / "report.html").read_text()
    assert "longtext: the long-context subset" in report and "min_coherence" in report
    stats = json.loads((run / "stats.json").read_text())
    assert stats["report"]["subsets"]["longtext"]["long_docs"] == 7
    assert [row["state"] for row in stats["report"]["funnel"]] == ["input", "quality"]  # the subset is not in it
