"""The Quality stage on the sample Format output with the bundled ad and fluency classifiers, a site
override in the threshold table, and the stats the run report reads."""
from __future__ import annotations

import json

import numpy as np
import pytest

pytestmark = pytest.mark.spark


def test_quality_stage_on_the_sample_format_output(spark, cfg_factory, format_output, tmp_path):
    from corpusforge.jobs.quality import QualityStage, check_models
    from corpusforge.jobs.stage import DOCUMENT_COLUMNS, run_stage
    from corpusforge.udfs.decisions import combine
    from corpusforge.udfs.overrides import Overrides
    from corpusforge.udfs.quality_data import ASPECTS

    format_dir, _ = format_output
    docs = spark.read.parquet(str(format_dir / "kept")).where("language in ('en', 'zh') and host is not null")
    host = docs.groupBy("host").count().orderBy("count", "host").collect()[-1]["host"]  # the busiest scored host
    cfg = cfg_factory(f"quality.thresholds.sites.{host}.ad=0.0")  # every scored page of that host is an "ad"
    chosen, table, _ = check_models(cfg)
    out = tmp_path / "quality"
    stats = run_stage(spark, cfg, QualityStage(), str(format_dir), str(out))

    assert stats["input_docs"] == stats["kept_docs"] + stats["removed_docs"] > 0
    assert (out / "_SUCCESS").is_file()
    written = json.loads((out / "_stats.json").read_text())
    assert written["stage"] == "quality" and written["thresholds"] == table.default
    cards = {c.name: c.card for c in chosen}
    assert stats["thresholds"] == {"ad": cards["ad"].threshold, "fluency": cards["fluency"].threshold}
    assert stats["threshold_overrides"]["sites"][host] == {"ad": 0.0}
    assert stats["inference_workers"] >= 1 and stats["max_loads_per_worker"] <= 3  # encoder + 2 heads, never twice
    assert stats["model_loads"] <= 3 * stats["inference_workers"]
    keys = ["ad", *[f"fluency.{a}" for a in ASPECTS], "fluency"]
    assert set(stats["histograms"]) == set(keys)
    scored = stats["classifiers"]["fluency"]["scored_docs"]
    assert scored == docs.count() and stats["unscored_docs"] == stats["input_docs"] - scored
    for key in keys:
        assert sum(stats["histograms"][key]["counts"]) == stats["histograms"][key]["n"] == scored
    assert stats["docs_by_threshold_rule"].get(f"default+site:{host}", 0) >= 1

    overrides = Overrides(table)
    removed = spark.read.parquet(str(out / "removed")).collect()
    by_host = [r for r in removed if r["host"] == host]
    assert by_host and all(r["reason"] == "ad" and f"site:{host}]" in r["detail"] for r in by_host)
    for r in removed:
        assert r["stage"] == "quality" and r["reason"] in ("ad", "fluency")
        assert r["detail"].startswith(f"{r['reason']} ")
        if r["reason"] == "fluency":
            resolved = overrides.resolve(r["language"], r["host"], r["url"])
            assert r["scores"]["fluency"] < resolved.values["fluency"] and "noise" in r["detail"] \
                and f"[{resolved.rule}]" in r["detail"]
    kept = spark.read.parquet(str(out / "kept"))
    assert kept.columns[:len(DOCUMENT_COLUMNS)] == DOCUMENT_COLUMNS
    for r in kept.collect():
        if r["language"] in ("en", "zh"):
            s, thresholds = r["scores"], overrides.resolve(r["language"], r["host"], r["url"]).values
            assert set(keys) <= set(s) and s["ad"] <= thresholds["ad"] and s["fluency"] >= thresholds["fluency"]
            rule = cfg.quality.classifiers["fluency"].combine
            aspects = np.array([[s[f"fluency.{a}"] for a in ASPECTS]])
            assert s["fluency"] == pytest.approx(combine(aspects, ASPECTS, rule.method, rule.weights)[0])
        else:
            assert not set(keys) & set(r["scores"] or {})
