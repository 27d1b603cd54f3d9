"""Common Crawl dump names and their sortable order, the key of "keep the newest copy".

For captures outside Common Crawl (institutional crawls, wget) the order falls back to the ISO
year-week of the capture date, on the same scale as CC-MAIN-YYYY-WW, so "newest wins" still holds.
"""
from __future__ import annotations

import datetime as dt
import re

_DUMP = re.compile(r"CC-MAIN-(\d{4})(?:-(\d{4}|\d{2}))?(?!\d)")
_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")


def dump_from_text(text: str | None) -> str | None:
    """The first CC-MAIN-YYYY-WW (or the early CC-MAIN-2008-2009 / CC-MAIN-2012 forms) in a path or field."""
    if not text:
        return None
    match = _DUMP.search(text)
    return match.group(0) if match else None


def dump_order(dump: str | None, capture_date: str | None = None) -> int | None:
    """YYYYWW: larger is newer. From the dump name when known, else from the capture date."""
    match = _DUMP.fullmatch(dump) if dump else None
    if match:
        year, part = int(match.group(1)), match.group(2)
        if part is None:
            return year * 100
        if len(part) == 4:  # CC-MAIN-2008-2009: a crawl spanning two years, dated by its end
            return int(part) * 100
        return year * 100 + int(part)
    match = _DATE.match(capture_date or "")
    if match:
        try:
            iso = dt.date(int(match.group(1)), int(match.group(2)), int(match.group(3))).isocalendar()
        except ValueError:
            return None
        return iso.year * 100 + iso.week
    return None
