"""corpusforge run: stages in order, resume by fingerprint, the final export and the report."""
from __future__ import annotations

import json

import pytest
from support.runs import final_documents

from corpusforge.jobs.pipeline import run_pipeline
from corpusforge.jobs.stage import join, read_success

pytestmark = pytest.mark.spark


@pytest.fixture(scope="module")
def first_run(spark, cfg_factory, sample_warcs, tmp_path_factory):
    out = tmp_path_factory.mktemp("pipeline") / "run"
    summary = run_pipeline(spark, cfg_factory(), sample_warcs, str(out), "format", "clean")
    return out, summary


def test_run_writes_stages_final_report_and_stats(first_run):
    out, summary = first_run
    for stage in ("format", "clean"):
        assert (out / stage / "_SUCCESS").is_file()
        stats = json.loads((out / stage / "_stats.json").read_text())
        assert stats["input_docs"] == stats["kept_docs"] + stats["removed_docs"]
    docs = final_documents(out)
    assert len(docs) == summary["final"]["rows"] == summary["stages"]["clean"]["kept_docs"] > 0
    assert set(docs[0]) >= {"id", "url", "domain", "dump_order", "archive_url", "language", "text", "scores"}
    assert "<h2>Funnel</h2>" in (out / "report.html").read_text()
    report = json.loads((out / "stats.json").read_text())["report"]
    assert report["funnel"][0]["state"] == "input"
    # Clean's keep rate and top removal reasons per language, as counted by the stage
    clean = json.loads((out / "clean" / "_stats.json").read_text())
    rows = {r["language"]: r for r in report["keep_by_language"]["clean"]}
    assert sum(r["input"] for r in rows.values()) == clean["input_docs"]
    assert sum(r["kept"] for r in rows.values()) == clean["kept_docs"]
    for language, reasons in clean["removed_by_language_reason"].items():
        assert rows[language]["top_reasons"][0][1] == max(reasons.values())
    assert "clean: keep rate by language" in (out / "report.html").read_text()


def test_rerun_skips_finished_stages(spark, cfg_factory, sample_warcs, first_run, capsys):
    out, _ = first_run
    before = {s: (out / s / "_SUCCESS").stat().st_mtime_ns for s in ("format", "clean")}
    run_pipeline(spark, cfg_factory(), sample_warcs, str(out), "format", "clean")
    assert "format: finished earlier" in capsys.readouterr().out
    assert {s: (out / s / "_SUCCESS").stat().st_mtime_ns for s in ("format", "clean")} == before


def test_a_changed_setting_reruns_from_its_stage_only(spark, cfg_factory, sample_warcs, first_run, capsys):
    out, _ = first_run
    format_marker = (out / "format" / "_SUCCESS").stat().st_mtime_ns
    cfg = cfg_factory("clean.thresholds.default.c4_min_sentences=1")
    run_pipeline(spark, cfg, sample_warcs, str(out), "format", "clean")
    printed = capsys.readouterr().out
    assert "format: finished earlier" in printed and "clean: running" in printed
    assert (out / "format" / "_SUCCESS").stat().st_mtime_ns == format_marker
    assert read_success(cfg, join(str(out), "clean"))["config"] == cfg.fingerprint("clean", "output")


def test_an_interrupted_run_resumes_to_the_same_output(spark, cfg_factory, sample_warcs, first_run, tmp_path):
    """A kill during Clean leaves Clean without _SUCCESS (begin_stage removes it first) and partial files."""
    out, _ = first_run
    cfg = cfg_factory()
    run_pipeline(spark, cfg, sample_warcs, str(out), "format", "clean")
    expected = final_documents(out)
    (out / "clean" / "_SUCCESS").unlink()
    for part in (out / "clean" / "kept").glob("part-*"):
        part.write_bytes(b"half-written")
    run_pipeline(spark, cfg, sample_warcs, str(out), "format", "clean")
    assert final_documents(out) == expected
