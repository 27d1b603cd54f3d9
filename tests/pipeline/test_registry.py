"""The stage registry drives the command line and the runner: one command per registered stage with the
same flags, `run` accepting every stage's own options, and start-up checks that run before Spark."""
from __future__ import annotations

import pytest
from support.paths import WARCS
from typer.testing import CliRunner

from corpusforge.jobs.cli import app
from corpusforge.jobs.registry import NAMES, STAGES, stage
from corpusforge.jobs.stage import InputError, Stage


def commands() -> dict:
    import typer.main
    return typer.main.get_command(app).commands


def test_every_registered_stage_has_its_command_with_the_common_flags():
    for s in STAGES:
        assert isinstance(s, Stage) and s.name in commands()
        params = {p.name for p in commands()[s.name].params}
        assert {"output", "inputs", "more_inputs", "conf", "sets"} <= params
        assert {o.name for o in s.options} <= params
    assert len(set(NAMES)) == len(NAMES)


def test_run_accepts_every_stage_option():
    params = {p.name for p in commands()["run"].params}
    assert {o.name for s in STAGES for o in s.options} <= params and "index" in params


def test_an_unknown_stage_name_names_the_known_ones():
    with pytest.raises(InputError, match="format, clean"):
        stage("cleaning")


def test_run_hands_the_dedup_index_to_dedup_before_spark_starts(no_spark, tmp_path):
    """--index on `run` reaches Dedup's start-up check: an index that is not one stops the run at once."""
    result = CliRunner().invoke(app, ["run", "--input", str(WARCS), "--output", str(tmp_path / "out"),
                                      "--index", str(tmp_path / "not-an-index")])
    assert result.exit_code == 2, result.output
    assert "not a dedup signature index" in result.stderr and not (tmp_path / "out").exists()


def test_a_stage_command_reports_a_missing_input_before_spark_starts(no_spark, tmp_path):
    result = CliRunner().invoke(app, ["clean", "--input", str(tmp_path / "nothing"), "--output", str(tmp_path / "o")])
    assert result.exit_code == 2 and "not a finished stage output" in result.stderr
    result = CliRunner().invoke(app, ["clean", "--output", str(tmp_path / "o")])
    assert result.exit_code == 2 and "--input is required" in result.stderr
