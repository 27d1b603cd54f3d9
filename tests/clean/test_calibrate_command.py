"""`corpusforge calibrate` end to end: the real labels on the Format output of the bundled sample
WARCs (their records are labelled in resources/labels/clean-pages), without starting Spark."""
from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml
from typer.testing import CliRunner

from corpusforge.conf import load_config
from corpusforge.jobs.cli import app
from corpusforge.udfs import calibration as cal

ROOT = Path(__file__).resolve().parents[2]
LABELS = ROOT / "resources" / "labels" / "clean-pages" / "labels.jsonl"
BUNDLED = {p.name for p in (ROOT / "tests" / "data" / "warc").glob("*.warc.gz")}


def labelled_in_sample() -> list[dict]:
    rows = [json.loads(line) for line in LABELS.read_text(encoding="utf-8").splitlines()]
    return [r for r in rows if r["warc_file"] in BUNDLED]


@pytest.mark.spark
def test_calibrate_reads_a_format_output_and_writes_an_overlay_conf_accepts(format_output, no_spark, tmp_path):
    overlay, report = tmp_path / "overlay.yaml", tmp_path / "report.json"
    result = CliRunner().invoke(app, [
        "calibrate", "--labels", str(LABELS), "--input", str(format_output[0]), "--output", str(overlay),
        "--report", str(report), "--set", "calibration.min_group_pages=5", "--set", "calibration.min_site_pages=3"])
    assert result.exit_code == 0, result.output
    out = json.loads(report.read_text())
    sample = labelled_in_sample()
    assert len(sample) >= 60 and out["pages"] == len(sample)
    # every label is accounted for: measured, or skipped with the reason
    assert out["pages"] + sum(out["skipped_labels"].values()) == out["labels"] == len(LABELS.read_text().splitlines())
    assert set(out["skipped_labels"]) == {"not_in_format_output"}
    assert out["split"][cal.CALIBRATE] + out["split"][cal.HELD_OUT] == out["pages"]
    assert abs(out["split"][cal.CALIBRATE] - out["split"][cal.HELD_OUT]) <= 6   # ±1 per language and label
    # the figures are per half and language, before and after, with the rules' false removals and catches
    held = out["figures"][cal.HELD_OUT]
    assert {"all", "en", "zh", "ja"} <= set(held)
    assert held["all"]["before"]["keep_pages"] + held["all"]["before"]["remove_pages"] == out["split"][cal.HELD_OUT]
    per_rule = result.output.split("held-out half, per rule: false removals", 1)[1]
    caught = [rule for rule, f in held["all"]["rules_before"].items() if f["catches"]]
    assert caught and all(rule in per_rule for rule in caught)
    # the overlay is a conf file: it loads over conf/default.yaml, and gives what was proposed
    text = overlay.read_text(encoding="utf-8")
    assert text.startswith("# Clean thresholds proposed by `corpusforge calibrate`")
    applied = load_config(overlay, [])
    proposal = yaml.safe_load(text)["clean"]["thresholds"]
    for code, values in (proposal.get("languages") or {}).items():
        for key, value in values.items():
            assert applied.clean.thresholds.languages[code][key] == value
    # on the calibration half the proposal keeps at least as many keep pages as the conf did
    fitted = out["figures"][cal.CALIBRATE]["all"]
    assert fitted["after"]["keep_kept"] >= fitted["before"]["keep_kept"]


@pytest.fixture
def tiny_format_output(tmp_path) -> Path:
    """A Format-shaped output of two documents, written with Arrow (no Spark)."""
    out = tmp_path / "format"
    (out / "kept").mkdir(parents=True)
    text = "\n".join([
        "The old bridge across the river was built in 1890 and it still carries traffic every day.",
        "Local farmers bring their vegetables to the market that opens on the square each Saturday morning.",
        "Children from the village walk to the school on the hill, which has two classrooms and a small library.",
        "In winter the lake freezes and families skate on it when the ice is thick enough to be safe.",
        "The museum near the station shows tools, letters and photographs that tell the history of the valley.",
        "A baker on the main street has made the same rye bread with the same recipe for forty years."])
    table = pa.table({"id": ["a", "b"], "url": ["https://a.example/1", "https://b.example/2"],
                      "host": ["a.example", "b.example"], "warc_file": ["/x/one.warc.gz", "/x/one.warc.gz"],
                      "warc_record_id": ["<urn:uuid:1>", "<urn:uuid:2>"], "language": ["en", "en"],
                      "text": [text, "Home\nNews\nLogin"]})
    pq.write_table(table, out / "kept" / "part-0.parquet")
    (out / "_SUCCESS").write_text("{}")
    return out


def write_labels(path: Path, *rows: dict) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def test_calibrate_on_a_tiny_output_measures_and_accounts_for_every_label(no_spark, tiny_format_output, tmp_path):
    labels = write_labels(tmp_path / "labels.jsonl",
                          {"warc_file": "one.warc.gz", "warc_record_id": "<urn:uuid:1>", "label": "keep"},
                          {"warc_file": "one.warc.gz", "warc_record_id": "<urn:uuid:2>", "label": "remove",
                           "reason": "navigation"},
                          {"warc_file": "other.warc.gz", "warc_record_id": "<urn:uuid:3>", "label": "keep"})
    result = CliRunner().invoke(app, ["calibrate", "--labels", str(labels), "--input", str(tiny_format_output),
                                      "--output", str(tmp_path / "o.yaml"), "--report", str(tmp_path / "r.json")])
    assert result.exit_code == 0, result.output
    out = json.loads((tmp_path / "r.json").read_text())
    assert out["pages"] == 2 and out["skipped_labels"] == {"not_in_format_output": 1}
    both = {part: figures["all"]["before"] for part, figures in out["figures"].items()}
    assert sum(f["keep_kept"] for f in both.values()) == 1 and sum(f["remove_removed"] for f in both.values()) == 1
    assert yaml.safe_load((tmp_path / "o.yaml").read_text()) == {"clean": {"thresholds": {}}}  # too few to fit


@pytest.mark.parametrize("lines, message", [
    (None, "label file"),
    (['{"warc_file": "a", "warc_record_id": "b", "label": "maybe"}'], "line 1: label 'maybe' is neither keep nor remove"),
    (['{"warc_file": "a", "label": "keep"}'], "line 1 lacks warc_record_id"),
    (['not json'], "line 1 is not JSON"),
    (['{"warc_file": "a", "warc_record_id": "b", "label": "keep"}',
      '{"warc_file": "a", "warc_record_id": "b", "label": "remove"}'], "labelled both keep and remove"),
    (['{"warc_file": "a", "warc_record_id": "b", "label": "keep"}'], "none of the 1 labelled pages"),
])
def test_bad_labels_exit_2_with_one_line(no_spark, tiny_format_output, tmp_path, lines, message):
    labels = tmp_path / "labels.jsonl"
    if lines is not None:
        labels.write_text("\n".join(lines) + "\n")
    result = CliRunner().invoke(app, ["calibrate", "--labels", str(labels), "--input", str(tiny_format_output),
                                      "--output", str(tmp_path / "o.yaml")])
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith("corpusforge: ") and message in result.stderr
    assert not (tmp_path / "o.yaml").exists()


def test_an_input_that_is_not_a_format_output_exits_2(no_spark, tmp_path):
    labels = write_labels(tmp_path / "labels.jsonl", {"warc_file": "a", "warc_record_id": "b", "label": "keep"})
    result = CliRunner().invoke(app, ["calibrate", "--labels", str(labels), "--input", str(tmp_path / "nothing"),
                                      "--output", str(tmp_path / "o.yaml")])
    assert result.exit_code == 2 and "is not a finished Format output" in result.stderr


def test_an_unknown_fixed_rule_is_a_conf_error(no_spark, tiny_format_output, tmp_path):
    labels = write_labels(tmp_path / "labels.jsonl", {"warc_file": "a", "warc_record_id": "b", "label": "keep"})
    result = CliRunner().invoke(app, ["calibrate", "--labels", str(labels), "--input", str(tiny_format_output),
                                      "--output", str(tmp_path / "o.yaml"), "--set", "calibration.fixed_rules=[c4_min_sentence]"])
    assert result.exit_code == 2 and "unknown rules ['c4_min_sentence']" in result.stderr

