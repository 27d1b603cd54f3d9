"""Where the tests' data lives: the bundled sample files (a fresh clone has them) and ../shared/data
(present for developers and CI; the tests that need it skip on a bare clone)."""
from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "tests" / "data"
WARCS = DATA / "warc"
SHARED = ROOT.parent / "shared" / "data"


def shared_data() -> Path:
    """../shared/data when present (CI, developers); tests that need it skip on a bare clone."""
    if not SHARED.is_dir():
        pytest.skip("../shared/data is not present")
    return SHARED
