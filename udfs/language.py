"""Language identification with pycld2, as the report does, hardened against what crashes CLD2.

CLD2 rejects bytes that are not valid UTF-8 and some control characters; both are replaced before
the call, and any remaining error yields 'un' (unknown) rather than an exception.
"""
from __future__ import annotations

import re

import pycld2

_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
UNKNOWN = "un"


def detect_language(text: str) -> tuple[str, float, bool]:
    """(CLD2 code of the top language, its share of the text in [0, 1], whether CLD2 is confident)."""
    if not text or not text.strip():
        return UNKNOWN, 0.0, False
    data = _CONTROL.sub(" ", text).encode("utf-8", "replace")
    try:
        reliable, _, details = pycld2.detect(data, isPlainText=True)
    except pycld2.error:
        return UNKNOWN, 0.0, False
    name, code, percent, _score = details[0]
    if code == "un" or name == "Unknown":
        return UNKNOWN, 0.0, False
    return code, percent / 100.0, bool(reliable)
