"""The original URL and capture time behind a web-archive replay URL.

Pages re-crawled from web archives carry the archive's replay URL as WARC-Target-URI
(`https://web.archive.org/web/20220812230739id_/https://www.bing.com/search?q=…`): host
`web.archive.org` for every page, so block lists and per-site thresholds never match, and the date
of the re-crawl instead of the capture. The Format reader unwraps them: `url`/`host`/`domain` from
the original URL, `warc_date` from the Memento-Datetime header or the URL's timestamp, and the
replay URL kept in the `archive_url` column. Hand-written: no maintained library parses the replay
URL forms of the archives below.
"""
from __future__ import annotations

import datetime as dt
import email.utils
import re
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from corpusforge.udfs.urls import clean_target_uri

_TS = r"(?P<ts>\d{4,14})"
_MOD = r"(?P<mod>[a-z]{2}_|\*)?"
REPLAY_PATTERNS = {
    "wayback": re.compile(
        r"^https?://(?:web\.|wayback\.|web-beta\.|www\.)?archive\.org/web/" + _TS + _MOD + r"/(?P<url>.+)$", re.I),
    "archive.today": re.compile(
        r"^https?://(?:www\.)?archive\.(?:today|ph|is|li|vn|fo|md)/(?P<ts>\d{14}|\d{4}\.\d{2}\.\d{2}-\d{6})/(?P<url>.+)$",
        re.I),
    "arquivo.pt": re.compile(
        r"^https?://(?:www\.)?arquivo\.pt/(?:wayback|noFrame/replay)/" + _TS + _MOD + r"/(?P<url>.+)$", re.I),
    "ukwa": re.compile(
        r"^https?://(?:www\.)?webarchive\.org\.uk/wayback/(?:[a-z]{2}/)?archive/" + _TS + _MOD + r"/(?P<url>.+)$", re.I),
    "ukgwa": re.compile(
        r"^https?://webarchive\.nationalarchives\.gov\.uk/(?:ukgwa/)?" + _TS + _MOD + r"/(?P<url>.+)$", re.I),
    "loc": re.compile(r"^https?://webarchive\.loc\.gov/(?:[a-z0-9-]+/)?" + _TS + _MOD + r"/(?P<url>.+)$", re.I),
    "archive-it": re.compile(r"^https?://wayback\.archive-it\.org/(?:\d+|all)/" + _TS + _MOD + r"/(?P<url>.+)$", re.I),
    "vefsafn.is": re.compile(r"^https?://vefsafn\.is/(?:[a-z]{2}/)?" + _TS + _MOD + r"/(?P<url>.+)$", re.I),
    # any pywb / OpenWayback collection: /<coll>[/<coll>…]/<14 digits><modifier>/<scheme>:/…
    "pywb": re.compile(
        r"^https?://[^/?#]+(?:/[^/?#]+){1,3}/(?P<ts>\d{14})" + _MOD + r"/(?P<url>https?(?::|%3A).+)$", re.I),
}
# A Memento `Link: <…>; rel="original"` with a Memento-Datetime header, whatever the URL's form.
ARCHIVES = (*REPLAY_PATTERNS, "memento")

_TS_HINT = re.compile(r"/(?:\d{4,14}(?:[a-z]{2}_|\*)?|\d{4}\.\d{2}\.\d{2}-\d{6})/")
_INNER_SCHEME = re.compile(r"^(https?):/*", re.I)
_HOSTLIKE = re.compile(r"^[A-Za-z0-9.-]+\.[A-Za-z]{2,}(?::\d+)?(?:[/?#]|$)")
_LINK_ORIGINAL = re.compile(r"""<([^>]+)>\s*;[^,<]*\brel\s*=\s*"?[^",]*\boriginal\b""", re.IGNORECASE)


@dataclass(frozen=True)
class Replay:
    """What a replay URL wraps: the original URL and, when known, the capture time."""
    original_url: str
    capture_time: str | None  # ISO 8601 UTC, e.g. 2022-08-12T23:07:39Z
    archive: str
    replay_url: str
    repairs: tuple[str, ...]


def unwrap_replay_url(uri: str | None, *, memento_datetime: str | None = None, links: tuple[str, ...] = (),
                      archives: tuple[str, ...] = ARCHIVES, _depth: int = 0) -> Replay | None:
    """The original URL behind a replay URL of one of `archives` (any id_/if_/mp_/… modifier), or
    behind a Memento `Link: rel="original"` (`links`: the Link header values) with a Memento-Datetime;
    None for any other URL. Capture time: Memento-Datetime, else the URL's timestamp when it holds at
    least a full date (a year alone would misplace the capture in dump_order's year-week)."""
    if not uri or not archives:
        return None
    repairs = ["replay_url_unwrapped"]
    archive = timestamp = original = None
    if _TS_HINT.search(uri):  # cheap pre-filter: every replay form has a /<digits>…/ segment
        for name in archives:
            pattern = REPLAY_PATTERNS.get(name)
            match = pattern.match(uri) if pattern is not None else None
            if match:
                if match.groupdict().get("mod") == "*":
                    return None  # a calendar page, not a capture
                archive, timestamp = name, match.group("ts")
                original = _inner_url(match.group("url"), repairs)
                break
    linked = _link_original(links) if links and "memento" in archives else None
    if linked and memento_datetime:
        if original is None:
            archive = "memento"
        if linked != original:
            if original is not None:
                repairs.append("replay_url_from_link_header")
            original = linked
    if original is None:
        return None
    if _depth < 2:  # a replay of a replay (Wayback capturing archive.today)
        inner = unwrap_replay_url(original, archives=archives, _depth=_depth + 1)
        if inner is not None:
            original = inner.original_url
    capture = _http_date(memento_datetime) if memento_datetime else None
    if capture:
        repairs.append("capture_time_from_memento_datetime")
    elif timestamp and (capture := _timestamp(timestamp)):
        repairs.append("capture_time_from_replay_timestamp")
    return Replay(original_url=original, capture_time=capture, archive=archive, replay_url=uri, repairs=tuple(repairs))


def _inner_url(url: str, repairs: list[str]) -> str | None:
    """The embedded original URL, its scheme repaired (`http:/x.com`, `http%3A%2F%2F…`, `x.com/…`)."""
    fixed = url
    if fixed[:8].lower().startswith(("http%3a", "https%3a")):
        fixed = unquote(fixed)
    fixed = _INNER_SCHEME.sub(lambda m: m.group(1).lower() + "://", fixed, count=1)
    if not _INNER_SCHEME.match(fixed):
        if fixed.startswith("//"):
            fixed = "http:" + fixed
        elif _HOSTLIKE.match(fixed):
            fixed = "http://" + fixed
        else:
            return None
    if fixed != url:
        repairs.append("replay_inner_url_fixed")
    try:
        if not urlsplit(fixed).hostname:
            return None
    except ValueError:
        return None
    return clean_target_uri(fixed)[0]


def _link_original(links: tuple[str, ...]) -> str | None:
    for value in links:
        match = _LINK_ORIGINAL.search(value)
        if match and match.group(1).lower().startswith(("http://", "https://")):
            return clean_target_uri(match.group(1))[0]
    return None


def _http_date(value: str) -> str | None:
    try:
        when = email.utils.parsedate_to_datetime(value.strip())
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when is None:
        return None
    if when.tzinfo is not None:
        when = when.astimezone(dt.timezone.utc).replace(tzinfo=None)
    return when.isoformat(timespec="seconds") + "Z"


def _timestamp(stamp: str) -> str | None:
    digits = re.sub(r"\D", "", stamp)
    if len(digits) < 8:
        return None
    try:
        when = dt.datetime.strptime(digits[:14].ljust(14, "0"), "%Y%m%d%H%M%S")
    except ValueError:
        return None
    return when.isoformat(timespec="seconds") + "Z"
