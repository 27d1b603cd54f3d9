"""The Clean stage on the sample Format output (local Spark), and `corpusforge explain`."""
from __future__ import annotations

import json

import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from corpusforge.jobs.cli import app

ENGLISH = ("The old bridge across the river was built in 1890 and it still carries traffic every day. "
           "Local farmers bring their vegetables to the market that opens on the square each Saturday morning.")


@pytest.fixture(scope="module")
def clean_output(spark, cfg_factory, format_output, tmp_path_factory):
    from corpusforge.jobs.clean import CleanStage
    from corpusforge.jobs.stage import run_stage
    out = tmp_path_factory.mktemp("clean") / "out"
    stats = run_stage(spark, cfg_factory(), CleanStage(), str(format_output[0]), str(out))
    return out, stats


@pytest.mark.spark
def test_clean_accounts_for_every_format_document(clean_output, format_output):
    out, stats = clean_output
    assert stats["input_docs"] == format_output[1]["kept_docs"] > 0
    assert stats["input_docs"] == stats["kept_docs"] + stats["removed_docs"]
    assert stats["kept_docs"] > 0 and stats["removed_docs"] > 0
    assert json.loads((out / "_stats.json").read_text()) == stats
    assert (out / "_SUCCESS").exists()
    assert sum(stats["removed_by_language"].values()) == stats["removed_docs"]
    assert sum(stats["removed_by_reason"].values()) == stats["removed_docs"]
    assert stats["normalised_by_reason"] and all(n > 0 for n in stats["normalised_by_reason"].values())


@pytest.mark.spark
def test_removed_rows_carry_the_first_failing_rule_and_all_of_them(clean_output):
    out, _ = clean_output
    removed = pq.read_table(out / "removed").to_pylist()
    for row in removed:
        assert row["stage"] == "clean"
        assert row["failed_rules"] and row["reason"] == row["failed_rules"][0]
        statistic = row["detail"].split("=")[0]
        assert statistic in dict(row["scores"])


@pytest.mark.spark
def test_kept_rows_carry_normalised_text_and_rule_statistics(clean_output, format_output):
    out, _ = clean_output
    kept = pq.read_table(out / "kept").to_pylist()
    before = {r["id"]: r for r in pq.read_table(format_output[0] / "kept").to_pylist()}
    for row in kept:
        scores = dict(row["scores"])
        assert {"word_count", "newline_ratio", "dup_5gram_char_fraction", "line_punct_fraction"} <= set(scores)
        assert set(dict(before[row["id"]]["scores"] or [])) <= set(scores)   # Format's scores are kept
        assert "\n\n\n" not in row["text"]
    assert "failed_rules" not in pq.read_schema(out / "kept" / next(
        p.name for p in (out / "kept").iterdir() if p.suffix == ".parquet")).names


@pytest.mark.spark
def test_explain_looks_a_document_up_by_id(clean_output):
    out, _ = clean_output
    removed = pq.read_table(out / "removed", columns=["id", "reason"]).to_pylist()[0]
    result = CliRunner().invoke(app, ["explain", "--id", removed["id"], "--input", str(out)])
    assert result.exit_code == 0, result.output
    assert f"document {removed['id']} (removed in" in result.output
    assert f"reason {removed['reason']}" in result.output


def test_explain_prints_every_rule_against_its_threshold():
    from corpusforge.udfs.clean_rules import RULE_NAMES

    result = CliRunner().invoke(app, ["explain", "--text", ENGLISH, "--language", "en"])
    assert result.exit_code == 0, result.output
    for rule in RULE_NAMES:
        assert rule in result.output
    assert "gopher_min_words" in result.output and "≥ 50" in result.output and "FAIL" in result.output
    assert "verdict: REMOVE — reason" in result.output


def test_explain_a_chinese_file_detects_its_language(tmp_path):
    lines = ["这座老桥建于一八九零年，横跨河流，至今每天仍有车辆通行。",
             "当地农民每周六早上把自己种的蔬菜带到广场上的集市出售。",
             "村里的孩子们步行去山上的学校，学校有两间教室和一个小图书馆。",
             "冬天湖面结冰，冰层足够厚的时候，很多家庭都会在湖上滑冰。",
             "车站附近的博物馆展出了工具、信件和照片，讲述了这个山谷的历史。",
             "坐火车来的游客可以租自行车，沿着水边安静的小路骑到下一个小镇。"]
    page = tmp_path / "page.txt"
    page.write_text("\n".join(lines), encoding="utf-8")
    result = CliRunner().invoke(app, ["explain", "--file", str(page)])
    assert result.exit_code == 0, result.output
    assert "language: zh" in result.output and "word units: jieba" in result.output
    assert "verdict: KEEP" in result.output


@pytest.mark.parametrize("args, message", [
    ([], "exactly one of --text, --file or --id"),
    (["--text", "a", "--file", "b"], "exactly one of --text, --file or --id"),
    (["--id", "x"], "--id needs --input"),
    (["--file", "/nonexistent/page.txt"], "cannot read /nonexistent/page.txt"),
    (["--text", "a", "--set", "clean.thresholds.default.gopher_min_wrds=3"], "Did you mean"),
])
def test_explain_user_errors_exit_2(args, message):
    result = CliRunner().invoke(app, ["explain", *args])
    assert result.exit_code == 2
    assert message in result.stderr
