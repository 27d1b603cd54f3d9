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
