"""The `corpusforge format` command line: bad input and bad configuration stop it before Spark starts."""
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from corpusforge.jobs.cli import app

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = str(ROOT / "tests" / "data" / "warc")




@pytest.mark.parametrize("args, message", [
    (["--input", "/nonexistent/x.warc.gz"], "input /nonexistent/x.warc.gz does not exist"),
    (["--input", "/nonexistent/*.warc.gz"], "matches no file"),
    (["--input", "/nonexistent/warc.paths.gz"], "paths file /nonexistent/warc.paths.gz does not exist"),
    (["--input", SAMPLE, "--set", "format.max_html_byts=3"], "Did you mean 'format.max_html_bytes'?"),
    (["--input", SAMPLE, "--set", "format.max_html_bytes=abc"], "conf key 'format.max_html_bytes'"),
    (["--input", SAMPLE, "--set", "oops"], "not of the form key.path=value"),
    (["--input", SAMPLE, "--conf", "/nonexistent/conf.yaml"], "/nonexistent/conf.yaml does not exist"),
    ([], "--input is required"),
])
def test_user_errors_exit_2_with_one_line(no_spark, tmp_path, args, message):
    result = CliRunner().invoke(app, ["format", "--output", str(tmp_path / "out"), *args])
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith("corpusforge: ") and message in result.stderr
    assert result.stderr.count("\n") == 1
    assert not (tmp_path / "out").exists()


def test_the_console_script_reports_a_missing_input_without_starting_a_jvm(tmp_path):
    result = subprocess.run([sys.executable, "-m", "corpusforge", "format", "--input", str(tmp_path / "missing.warc.gz"),
                             "--output", str(tmp_path / "out")], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert result.stderr.splitlines() == [f"corpusforge: input {tmp_path}/missing.warc.gz does not exist. "
                                          f"Fix: pass an existing WARC file, directory, glob or paths file."]


def test_inspect_tells_per_file_and_in_total_what_format_does_without_spark(no_spark):
    import io
    import json

    from support.defects import BUNDLED
    from support.fuzz import format_options

    from corpusforge.udfs.documents import ArchiveToDocuments

    result = CliRunner().invoke(app, ["inspect", str(BUNDLED), f"{SAMPLE}/*.warc.gz", "--json"])
    assert result.exit_code == 0, result.output
    *files, total = [json.loads(line) for line in result.stdout.splitlines()]
    assert [f["file"] for f in files] == [str(BUNDLED), *sorted(str(p) for p in Path(SAMPLE).glob("*.warc.gz"))]
    assert total["files"] == 5 and total["records"] == sum(f["records"] for f in files)
    crafted = files[0]
    rows = list(ArchiveToDocuments(format_options()).rows(io.BytesIO(BUNDLED.read_bytes()), str(BUNDLED)))
    summary = json.loads(rows[-1]["file_summary"])
    assert crafted["records"] == summary["records"] == 71 == sum(crafted["record_types"].values())
    assert crafted["repaired_by_kind"] == summary["repaired_by_kind"]
    assert {k[len("skipped:"):]: n for k, n in crafted["outcomes"].items() if k.startswith("skipped:")} \
        == summary["skipped_by_reason"]
    pages = crafted["outcomes"]["page_as_is"] + crafted["outcomes"]["page_repaired"]
    removed = sum(n for k, n in crafted["outcomes"].items() if k.startswith("removed:"))
    assert pages + removed == summary["html_records"]  # not extracted: no extraction_empty among them
    assert crafted["http_statuses"]["404"] == 1 and crafted["http_statuses"]["(unreadable)"] == 3
    assert crafted["skip_samples"]["status_line_ambiguous"][0]["first_bytes"].startswith(
        "HTTP/1.1 200 HTTP/1.1 404 Not Found\\r\\n")
    text = CliRunner().invoke(app, ["inspect", str(BUNDLED)])
    assert text.exit_code == 0 and "status_line_doubled_protocol 3" in text.stdout
    assert "status_line_ambiguous at offset" in text.stdout


def test_inspect_with_extraction_shows_removal_reasons(no_spark):
    import json
    result = CliRunner().invoke(app, ["inspect", str(Path(SAMPLE) / "sample-0000.warc.gz"), "--json", "--extract"])
    found = json.loads(result.stdout.splitlines()[0])
    assert result.exit_code == 0 and found["outcomes"]["page_as_is"] > 0


def test_inspect_refuses_a_missing_input(no_spark, tmp_path):
    result = CliRunner().invoke(app, ["inspect", str(tmp_path / "missing.warc.gz")])
    assert result.exit_code == 2 and "does not exist" in result.stderr
