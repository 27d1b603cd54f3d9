"""The HTTP head of a WARC block: the strict fast path agrees with fastwarc on every clean real head;
the lenient parser recovers what is unambiguous, names each repair, and refuses the rest."""
import io

import pytest
from fastwarc.warc import ArchiveIterator as FastIterator
from support.paths import WARCS
from support.warcs import record_blocks

from corpusforge.udfs.http_head import Head, content_type_of, parse_head, parse_status_line
from corpusforge.udfs.repairs import READ_SKIP_REASONS


def head(*headers: tuple[str, str]) -> Head:
    return Head(200, tuple(headers))


@pytest.mark.parametrize("line, status, repairs", [
    ("HTTP/1.1 200 OK", 200, ()),
    ("HTTP/1.1 HTTP/1.1 200 OK", 200, ("status_line_doubled_protocol",)),
    ("HTTP/1.0 HTTP/1.1 200 OK", 200, ("status_line_doubled_protocol",)),
    ("200 OK", 200, ("status_line_missing_protocol",)),
    ("200", 200, ("status_line_missing_protocol",)),
    ("http/1.1 200 OK", 200, ("status_line_protocol_case",)),
    ("HTTP 200 OK", 200, ("status_line_protocol_no_version",)),
    ("ICY 200 OK", 200, ("status_line_odd_protocol",)),
    ("HTTP/1.1  200   OK ", 200, ("status_line_extra_whitespace",)),
    ("HTTP/1.1\t200\tOK", 200, ("status_line_extra_whitespace",)),
    ("HTTP/2 200", 200, ()),
    ("HTTP/1.0 404 Not Found", 404, ()),
    ("HTTP/1.1 HTTP/1.1 301 Moved Permanently", 301, ("status_line_doubled_protocol",)),
    ("HTTP/1.1 200 200 OK", 200, ("status_line_repeated",)),
    ("HTTP/1.1 200 OK HTTP/1.1 200 OK", 200, ("status_line_repeated",)),
])
def test_status_lines_recovered(line, status, repairs):
    assert parse_status_line(line.encode()) == (status, repairs, None)


@pytest.mark.parametrize("line, reason", [
    ("HTTP/1.1 OK", "status_line_unparseable"),
    ("HTTP/1.1 2OO OK", "status_line_unparseable"),
    ("HTTP/1.1 999 Weird", "status_line_unparseable"),
    ("HTTP/1.1", "status_line_unparseable"),
    ("", "status_line_unparseable"),
    ("HTTP/1.1 200 HTTP/1.1 404 Not Found", "status_line_ambiguous"),  # may be a 404: never guessed
    ("HTTP/1.1 200 404 Not Found", "status_line_ambiguous"),
])
def test_status_lines_refused(line, reason):
    status, _, refused = parse_status_line(line.encode())
    assert status is None and refused == reason


def test_a_clean_head_takes_the_strict_path():
    block = b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 5\r\n\r\nhello"
    found = parse_head(block)
    assert found.strict and found.status == 200 and found.repairs == ()
    assert found.get("content-type") == "text/html" and block[found.body_offset:] == b"hello"


@pytest.mark.parametrize("block, repairs, body", [
    (b"HTTP/1.1 200 OK\nContent-Type: text/html\n\nhello", ("bare_lf",), b"hello"),
    (b"HTTP/1.1 200 OK\r\nA: b\nC: d\r\n\r\nhello", ("bare_lf",), b"hello"),
    (b"\xef\xbb\xbfHTTP/1.1 200 OK\r\n\r\nhello", ("leading_bom",), b"hello"),
    (b"\r\n\r\nHTTP/1.1 200 OK\r\n\r\nhello", ("leading_blank_lines",), b"hello"),
    (b"HTTP/1.1 200 OK\r\nContent-Type: text/html;\r\n charset=gbk\r\n\r\nhello", ("header_folded",), b"hello"),
    (b"HTTP/1.1 200 OK\r\nno colon here\r\nA: b\r\n\r\nhello", ("header_line_without_colon",), b"hello"),
    (b"HTTP/1.1 200 OK\r\nContent-Type : text/html\r\n\r\nhello", ("header_name_whitespace",), b"hello"),
    (b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n<html><p>x</p>", ("head_missing_blank_line",), b"<html><p>x</p>"),
    (b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n", ("head_unterminated",), b""),
    (b"<!DOCTYPE html><html><p>x</p>", ("no_http_head", "status_implied"), b"<!DOCTYPE html><html><p>x</p>"),
    (b"\n\n  <html><p>x</p>", ("no_http_head", "status_implied"), b"\n\n  <html><p>x</p>"),
    (b"Content-Type: text/html\r\n\r\n<html><p>x</p>", ("status_line_missing", "status_implied"), b"<html><p>x</p>"),
])
def test_heads_recovered(block, repairs, body):
    found = parse_head(block)
    assert (found.status, found.refused, found.repairs) == (200, None, repairs)
    assert block[found.body_offset:] == body


def test_a_folded_value_is_joined_and_its_charset_read():
    found = parse_head(b"HTTP/1.1 200 OK\r\nContent-Type: text/html;\r\n\tcharset=gb2312\r\n\r\nx")
    assert content_type_of(found)[:2] == ("text/html", "gb2312")


@pytest.mark.parametrize("block, at_eof, reason", [
    (b"\x89PNG\r\n\x1a\n\x00\x00", True, "no_http_head"),
    (b"HTTP/1.1 OK\r\n\r\n<html>", True, "status_line_unparseable"),
    (b"HTTP/1.1 200 HTTP/1.1 404 Not Found\r\n\r\n<html>", True, "status_line_ambiguous"),
    (b"Content-Type: image/png\r\n\r\n\x89PNG", True, "status_line_unparseable"),
    (b"HTTP/1.1 200 OK\r\n" + b"X-Filler: aaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n" * 3000, False, "head_too_long"),
])
def test_heads_refused(block, at_eof, reason):
    found = parse_head(block, at_eof=at_eof)
    assert found.status is None and found.refused == reason and reason in READ_SKIP_REASONS


def test_implied_status_follows_the_setting():
    assert parse_head(b"<html><p>x</p>", implied_status=None).refused == "no_http_head"
    assert parse_head(b"<html><p>x</p>", implied_status=203).status == 203


def real_http_blocks() -> list[bytes]:
    """The block of every HTTP response record of the bundled real WARCs."""
    blocks = []
    for path in sorted(WARCS.glob("*.warc.gz")):
        for kind, record in record_blocks(path.name):
            rec = next(iter(FastIterator(io.BytesIO(record), parse_http=False)))
            if kind == "response" and "application/http" in (rec.headers.get("Content-Type") or ""):
                blocks.append(rec.reader.read())
    return blocks


def test_the_strict_path_agrees_with_fastwarc_on_every_real_head():
    """Same status, headers and body on every clean head of the bundled WARCs; the ClueWeb09 LF heads
    (which fastwarc reads in quirks mode) go the lenient way and come out the same, with bare_lf."""
    blocks, strict = real_http_blocks(), 0
    for block in blocks:
        found = parse_head(block)
        record = b"WARC/1.1\r\nWARC-Type: response\r\nContent-Type: application/http; msgtype=response\r\n" \
                 b"Content-Length: %d\r\n\r\n" % len(block) + block + b"\r\n\r\n"
        rec = next(iter(FastIterator(io.BytesIO(record), parse_http=True, quirks_mode=True)))
        body = rec.reader.read()
        assert found.status == rec.http_headers.status_code
        assert list(found.headers) == [(k, v) for k, v in rec.http_headers.items()]
        assert block[found.body_offset:] == body
        strict += found.strict
        assert found.strict or found.repairs == ("bare_lf",)
    assert len(blocks) == 68 and strict == 39


@pytest.mark.parametrize("headers, expected", [
    ([("Content-Type", "text/html; charset=UTF-8")], ("text/html", "utf-8", ())),
    ([("Content-Type", "text/html"), ("Content-Type", "text/html; charset=gbk")], ("text/html", "gbk", ())),
    ([("Content-Type", "text/plain"), ("Content-Type", "text/html")], (None, None, ("content_type_conflict",))),
    ([("Content-Type", "text/html; charset=gbk"), ("Content-Type", "text/html; charset=utf-8")],
     ("text/html", None, ("charset_conflict",))),
    ([("x-archive-orig-content-type", "text/html; charset=gb2312")], ("text/html", "gb2312", ("archive_orig_headers",))),
    ([("Content-Type", "text/html"), ("x-archive-orig-content-type", "text/plain")], ("text/html", None, ())),
    ([], (None, None, ())),
    ([("Content-Type", "")], (None, None, ())),
])
def test_content_type_of(headers, expected):
    assert content_type_of(head(*headers)) == expected

