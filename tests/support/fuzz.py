"""Shared by the hardening tests: the fuzz budget, the Format options of the default configuration,
and converting one archive's bytes into documents with every record accounted for (the WARCs
themselves come from support/warcs.py).

The fuzz tests run a bounded number of examples in CI (seconds); set CORPUSFORGE_FUZZ_EXAMPLES to run
a longer session by hand, e.g. `CORPUSFORGE_FUZZ_EXAMPLES=5000 .venv/bin/pytest -q
tests/hardening/test_hardening_fuzz.py --hypothesis-show-statistics` (the statistics say how many inputs ran).
"""
from __future__ import annotations

import io
import json
import os
from functools import lru_cache

from hypothesis import HealthCheck, settings

FUZZ_EXAMPLES = int(os.environ.get("CORPUSFORGE_FUZZ_EXAMPLES", "0") or 0)


def fuzz_settings(ci_examples: int) -> settings:
    """ci_examples in CI; CORPUSFORGE_FUZZ_EXAMPLES when set. No deadline: a slow example is not a bug
    here (the time bounds are checked by the pathological-input tests), an exception is."""
    return settings(max_examples=FUZZ_EXAMPLES or ci_examples, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                           HealthCheck.large_base_example])


@lru_cache(maxsize=1)
def format_options():
    """The Format options of the bundled configuration (conf/default.yaml + conf/local.yaml)."""
    from corpusforge.conf import load_config
    from corpusforge.jobs.format import format_options as from_conf
    return from_conf(load_config(None, []))


def convert(data: bytes, options=None, name: str = "fuzz.warc.gz") -> tuple[list[dict], dict]:
    """Every row ArchiveToDocuments yields for one file: (document rows, the file's summary)."""
    from corpusforge.udfs.documents import ArchiveToDocuments
    rows = list(ArchiveToDocuments(options or format_options()).rows(io.BytesIO(data), f"/fuzz/{name}"))
    assert rows and rows[-1]["file_summary"] is not None, "the last row of a file is always its summary"
    assert all(r["file_summary"] is None for r in rows[:-1])
    return rows[:-1], json.loads(rows[-1]["file_summary"])


def assert_accounted(rows: list[dict], summary: dict) -> None:
    """Every record is a kept document, a removed one with a reason, or a counted skip."""
    removed = sum(summary["removed_by_reason"].values())
    assert summary["html_records"] == len(rows) == summary["kept"] + removed
    assert sum(r["reason"] is None for r in rows) == summary["kept"]
    assert all(r["reason"] for r in rows if r["reason"] is not None)
    broken = summary["skipped_by_reason"].get("corrupt_stream", 0)
    assert broken == (summary["error"] is not None)
    assert summary["records"] == summary["html_records"] + sum(summary["skipped_by_reason"].values()) - broken
