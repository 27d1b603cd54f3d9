"""Shared fixtures: one local-mode SparkSession for every Spark test, the bundled sample data, the
Format output of the sample run once, and `no_spark` for the start-up checks. Helpers (WARC writers,
tiny models, fuzz settings) are in tests/support/."""
from __future__ import annotations

import pytest
from support.paths import WARCS


@pytest.fixture(scope="session")
def cfg_factory():
    from corpusforge.conf import load_config

    def make(*sets: str):
        return load_config(None, ["spark.master=local[2]", "spark.shuffle_partitions=4", *sets])
    return make


@pytest.fixture(scope="session")
def spark(cfg_factory):
    from corpusforge.jobs.session import build_session

    session = build_session(cfg_factory())
    yield session
    session.stop()


@pytest.fixture(scope="session")
def sample_warcs() -> list[str]:
    return sorted(str(p) for p in WARCS.glob("*.warc.gz"))


@pytest.fixture(scope="session")
def format_output(spark, cfg_factory, sample_warcs, tmp_path_factory):
    """The Format stage over the bundled sample WARCs, run once and shared by later-stage tests."""
    from corpusforge.jobs.format import FormatStage
    from corpusforge.jobs.stage import run_stage
    out = tmp_path_factory.mktemp("format") / "out"
    stats = run_stage(spark, cfg_factory(), FormatStage(), sample_warcs, str(out))
    return out, stats


@pytest.fixture
def no_spark(monkeypatch):
    """Starting a SparkSession is the failure being tested for: a configuration or input error must
    stop a command before Spark starts."""
    def forbid(cfg):
        raise AssertionError("the command started Spark for an input or configuration error")
    monkeypatch.setattr("corpusforge.jobs.session.build_session", forbid)
