"""Shared fixtures: one local-mode SparkSession for every Spark test, and the bundled sample data."""
from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data"
SHARED = ROOT.parent / "shared" / "data"


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
    return sorted(str(p) for p in (DATA / "warc").glob("*.warc.gz"))


@pytest.fixture(scope="session")
def format_output(spark, cfg_factory, sample_warcs, tmp_path_factory):
    """The Format stage over the bundled sample WARCs, run once and shared by later-stage tests."""
    from corpusforge.jobs.format import FormatStage
    from corpusforge.jobs.stage import run_stage
    out = tmp_path_factory.mktemp("format") / "out"
    stats = run_stage(spark, cfg_factory(), FormatStage(), sample_warcs, str(out))
    return out, stats


def shared_data() -> Path:
    """../shared/data when present (CI, developers); tests that need it skip on a bare clone."""
    if not SHARED.is_dir():
        pytest.skip("../shared/data is not present")
    return SHARED
