"""Pathological documents inside a real WARC: each is capped or skipped with a reason, in bounded memory,
and the real pages after it in the same file are still processed.

Every case is one WARC file built here: a real page (tests/data/warc, CC-MAIN-2020-34), the hostile
record, another real page. Memory is asserted with generous bounds (Python heap peak by tracemalloc,
growth of the process's peak RSS, which also sees libxml2's and zlib's C allocations); time is only
printed (`pytest -s`), never asserted: this machine is shared.
"""
from __future__ import annotations

import random
import resource
import time
import tracemalloc
import zlib

import numpy._core._multiarray_umath as numpy_core
import pytest
from support.fuzz import assert_accounted, convert
from support.warcs import Response, real_pages, write_warc

from corpusforge.conf import load_config
from corpusforge.udfs.cleaning import Cleaner, settings_from_conf

MIB = 1 << 20
PYTHON_HEAP_BOUND = 96 * MIB     # the payload cap (format.max_html_bytes, 5 MB) times a handful of copies
RSS_GROWTH_BOUND = 768 * MIB     # C allocations included (libxml2 trees, inflaters)
PAGES = [real_pages("CC-MAIN-2020-34-sample.warc.gz", 4)[i] for i in (0, 3)]  # a Chinese page, an English one


def hostile_page(name: str) -> tuple[bytes, list[tuple[str, str]]]:
    """(HTTP body, extra HTTP headers) of each hostile record."""
    if name == "nested_100000_levels":
        return b"<html><body>" + b"<div>" * 100_000 + b"deep text. " * 20 + b"</div>" * 100_000 + b"</body></html>", []
    if name == "wide_tree_300000_elements":
        return b"<html><body>" + b"<p>x</p>" * 300_000 + b"</body></html>", []
    if name == "single_line_50MB":
        return b"<html><body><p>" + b"word " * 10_000_000 + b"</p></body></html>", []
    if name == "http_gzip_bomb_256MiB":
        return gzip_bomb(256 * MIB), [("Content-Encoding", "gzip")]
    if name == "random_bytes_as_html":
        return random.Random(0).randbytes(300_000), []
    if name == "shared_library_as_html":
        with open(numpy_core.__file__, "rb") as library:  # a real binary: numpy's compiled core
            return library.read(1_000_000), []
    if name == "one_char_a_1M":
        return b"<html><body><p>" + b"a" * 1_000_000 + b"</p></body></html>", []
    if name == "one_char_han_300k":
        return b"<html><body><p>" + "中".encode() * 300_000 + b"</p></body></html>", []
    if name == "one_char_lt_1M":
        return b"<html><body>" + b"<" * 1_000_000 + b"</body></html>", []
    if name == "one_char_newline_1M":
        return b"<html><body><pre>" + b"\n" * 1_000_000 + b"</pre></body></html>", []
    raise ValueError(name)


def gzip_bomb(expanded: int, head: bytes = b"", tail: bytes = b"") -> bytes:
    """One gzip member of head, `expanded` zero bytes, tail: about 1 KB per MiB expanded."""
    deflate = zlib.compressobj(9, zlib.DEFLATED, 31)
    chunk = bytes(MIB)
    parts = [deflate.compress(head)] + [deflate.compress(chunk) for _ in range(expanded // MIB)]
    return b"".join(parts) + deflate.compress(tail) + deflate.flush()


def warc_level_bomb(expanded: int) -> bytes:
    """A WARC response record whose own gzip member expands to `expanded` bytes of zeros (an HTTP 200
    text/html response with a body of NULs), declared with its true Content-Length."""
    http = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n"
    head = (f"WARC/1.0\r\nWARC-Type: response\r\nWARC-Record-ID: <urn:uuid:00000000-0000-0000-0000-00000000b0b0>\r\n"
            f"WARC-Date: 2024-05-20T10:00:00Z\r\nWARC-Target-URI: http://bomb.example/\r\n"
            f"Content-Type: application/http; msgtype=response\r\nContent-Length: {len(http) + expanded}\r\n\r\n").encode()
    return gzip_bomb(expanded, head + http, b"\r\n\r\n")


def sandwich(hostile: bytes) -> bytes:
    """real page, hostile record (a whole gzip member), real page: one WARC file."""
    first = write_warc([Response(PAGES[0][0], PAGES[0][1], content_type="text/html")], first_id=0)
    last = write_warc([Response(PAGES[1][0], PAGES[1][1], content_type="text/html")], first_id=2)
    return first + hostile + last


def measured(data: bytes):
    """convert() under tracemalloc and the RSS high-water mark: (rows, summary, heap peak, RSS growth, s)."""
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    tracemalloc.start()
    started = time.monotonic()
    try:
        rows, summary = convert(data)
        seconds = time.monotonic() - started
        _, heap_peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    rss_growth = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 - rss_before
    return rows, summary, heap_peak, rss_growth, seconds


@pytest.fixture(scope="module")
def reference_texts() -> list[str]:
    """The two real pages' texts from a WARC without the hostile record (also warms imports and models)."""
    rows, summary = convert(write_warc([Response(url, body, content_type="text/html") for url, body in PAGES]))
    assert [r["reason"] for r in rows] == [None, None]
    return [r["text"] for r in rows]


CLEANER = Cleaner(settings_from_conf(load_config(None, []).clean.model_dump()))

# What becomes of each hostile record in Format: removed with one of these reasons, or (None) kept with
# text that Clean must then remove.
EXPECTED = {
    "nested_100000_levels": {"extraction_empty", "too_large"},   # libxml2 stops nesting at 255 levels
    "wide_tree_300000_elements": {"too_large"},                   # format.trafilatura.max_tree_size
    "single_line_50MB": {"too_large"},                            # format.max_html_bytes
    "http_gzip_bomb_256MiB": {"too_large"},                         # inflated only up to the cap
    "random_bytes_as_html": {"undecodable"},                      # format.max_binary_ratio
    "shared_library_as_html": {"undecodable"},
    "one_char_a_1M": {None, "extraction_empty"},
    "one_char_han_300k": {None, "extraction_empty"},
    "one_char_lt_1M": {None, "extraction_empty"},
    "one_char_newline_1M": {None, "extraction_empty"},
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_a_hostile_record_is_capped_or_skipped_and_the_file_goes_on(name, reference_texts):
    body, headers = hostile_page(name)
    data = sandwich(write_warc([Response(f"http://hostile.example/{name}", body, content_type="text/html",
                                          extra_headers=tuple(headers))], first_id=1))
    rows, summary, heap_peak, rss_growth, seconds = measured(data)
    print(f"\n{name}: {len(body):,} bytes of body ({len(data):,} in the WARC) → "
          f"{rows[1]['reason'] if len(rows) > 1 else '?'}; {seconds:.2f}s, heap peak {heap_peak / MIB:.1f} MiB, "
          f"RSS growth {rss_growth / MIB:.0f} MiB")

    assert_accounted(rows, summary)
    assert summary["error"] is None and summary["html_records"] == 3
    first, hostile, last = rows
    assert hostile["url"].endswith(name)
    assert hostile["reason"] in EXPECTED[name], (hostile["reason"], hostile["detail"])
    if hostile["reason"] is None:  # Format kept some text: Clean removes it, with its rule as the reason
        cleaned = CLEANER.clean(hostile["text"], hostile["language"], hostile["host"], hostile["url"])
        assert not cleaned.keep and cleaned.reason and cleaned.detail
    assert [first["reason"], last["reason"]] == [None, None]
    assert [first["text"], last["text"]] == reference_texts, "the pages around it come out as without it"
    assert heap_peak < PYTHON_HEAP_BOUND
    assert rss_growth < RSS_GROWTH_BOUND


def test_a_warc_level_gzip_bomb_is_capped_and_the_file_goes_on(reference_texts):
    """The record's own gzip member expands 256 KB → 256 MiB: the payload is read only up to the cap,
    the rest is inflated in bounded steps to reach the next record."""
    expanded = 256 * MIB
    data = sandwich(warc_level_bomb(expanded))
    assert len(data) < MIB
    rows, summary, heap_peak, rss_growth, seconds = measured(data)
    print(f"\nWARC-level bomb: {len(data):,} bytes → {expanded:,} expanded; {rows[1]['reason']}; {seconds:.2f}s, "
          f"heap peak {heap_peak / MIB:.1f} MiB, RSS growth {rss_growth / MIB:.0f} MiB")
    assert_accounted(rows, summary)
    assert summary["error"] is None
    assert [r["reason"] for r in rows] == [None, "too_large", None]
    assert [rows[0]["text"], rows[2]["text"]] == reference_texts
    assert heap_peak < PYTHON_HEAP_BOUND
    assert rss_growth < RSS_GROWTH_BOUND


def test_clean_bounds_a_huge_one_character_document():
    """Straight into Clean (as from a Format run with a larger cap): removed with a reason, and the heap
    stays linear in the text. The constant is large for Chinese and Japanese: rjieba hands back one
    Python string per word (about 230 bytes per Han character all told), so a 1M-character page costs
    ~230 MB in its Python worker while it is measured. Bounds are 2-3x what was measured."""
    for text, language, bytes_per_char in (("a" * 1_000_000, "en", 100), ("中" * 100_000, "zh", 500),
                                           ("。" * 100_000, "zh", 100), ("a\n" * 100_000, "en", 200),
                                           ("!" * 1_000_000, None, 100), ("ab " * 250_000, "en", 200)):
        tracemalloc.start()
        try:
            cleaned = CLEANER.clean(text, language)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        print(f"\n{text[:3]!r}×{len(text):,} ({language}): {cleaned.reason}, heap peak {peak / MIB:.0f} MiB "
              f"= {peak / len(text):.0f} bytes per character")
        assert not cleaned.keep and cleaned.reason
        assert peak < bytes_per_char * len(text) + 16 * MIB
