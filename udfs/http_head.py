"""The HTTP head of a WARC record's block: status, headers and where the body starts.

Hand-written because the readers that exist refuse or misread what archives write: fastwarc returns
no status for `HTTP/1.1 HTTP/1.1 200 OK`, `200 OK` or a BOM, eats the first lines of a headless body
as headers, and raises (killing the rest of the file) when no head ends within 32 KiB; warcio
returns the second token as the status. Clean heads take a strict fast path (one find and a few
regex matches, the same result as fastwarc's); the lenient parser runs only when it fails, recovers
the status and headers where the intent is unambiguous, names each repair (udfs/repairs.py) and
refuses with a reason otherwise — a status line holding two codes may be a 404.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

MAX_HEADER_LINES = 1000

_BOM = b"\xef\xbb\xbf"
_STRICT_STATUS = re.compile(rb"HTTP/\d(?:\.\d)? ([1-5]\d\d)(?: [^\r\n]*)?")
_TOKEN = re.compile(rb"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
_PROTOCOL = re.compile(r"(?:HTTP|ICY|RTSP|SIP)(?:/\d+(?:\.\d+)?)?", re.IGNORECASE)
_CODE = re.compile(r"[1-5]\d\d")
_OTHER_STATUS = re.compile(r"(?:^|\s)(?:(?:HTTP|ICY)(?:/\d+(?:\.\d+)?)?\s+)?([1-5]\d\d)(?=\s|$)", re.IGNORECASE)
_HEADER_START = re.compile(rb"[!#$%&'*+.^_`|~0-9A-Za-z-]+[ \t]*:")
_HTML_START = re.compile(
    rb"\s*(?:<!doctype\s+html|<html|<head|<body|<\?xml|<!--|<meta|<title|<script|<link|<style|<div|<p[\s>]"
    rb"|<table|<frameset|<center|<font|<br|<h[1-6])", re.IGNORECASE)


@dataclass(frozen=True)
class Head:
    """The head of a block. `body_offset` indexes the block; `refused` names why there is no status
    (status None exactly when refused is set)."""
    status: int | None
    headers: tuple[tuple[str, str], ...] = ()
    body_offset: int = 0
    repairs: tuple[str, ...] = ()
    refused: str | None = None
    strict: bool = False  # read by the strict fast path

    def get(self, name: str, default: str | None = None) -> str | None:
        name = name.lower()
        for key, value in self.headers:
            if key.lower() == name:
                return value
        return default

    def get_all(self, name: str) -> list[str]:
        name = name.lower()
        return [value for key, value in self.headers if key.lower() == name]


def starts_like_html(data: bytes) -> bool:
    """Does `data` start like an HTML document or fragment (after a BOM and whitespace)? Broader than
    html_decoding.looks_like_html: it decides whether a block without head is a page at all."""
    if data.startswith(_BOM):
        data = data[3:]
    return _HTML_START.match(data[:2048]) is not None


def parse_head(block: bytes, *, at_eof: bool = True, max_head_bytes: int = 65536,
               implied_status: int | None = 200) -> Head:
    """The head of `block`: the whole block, or its first bytes (at_eof=False: pass at least
    max_head_bytes of them when the block is longer). A headless HTML body gets `implied_status`
    (None: refused as no_http_head)."""
    head = _strict_head(block, max_head_bytes)
    if head is not None:
        return head
    return _lenient_head(block, max_head_bytes, implied_status, at_eof)


def _strict_head(block: bytes, max_head_bytes: int) -> Head | None:
    """RFC 9112's shape exactly (CRLF lines, `HTTP/x.y DDD reason`, token names), else None."""
    end = block.find(b"\r\n\r\n", 0, max_head_bytes)
    if end < 0:
        return None
    raw = block[:end]
    if raw.count(b"\n") != raw.count(b"\r\n"):
        return None
    lines = raw.split(b"\r\n")
    status = _STRICT_STATUS.fullmatch(lines[0])
    if status is None or b"HTTP/" in lines[0][status.end(1):].upper():
        return None  # a second status inside the reason phrase: the lenient parser decides
    headers = []
    for line in lines[1:]:
        name, sep, value = line.partition(b":")
        if not sep or _TOKEN.fullmatch(name) is None:
            return None  # folding, a line without colon, spaces before the colon
        headers.append((name.decode("latin-1"), value.strip(b" \t").decode("latin-1")))
    return Head(status=int(status.group(1)), headers=tuple(headers), body_offset=end + 4, strict=True)


def parse_status_line(line: bytes) -> tuple[int | None, tuple[str, ...], str | None]:
    """(status, repairs, refusal) of one status line, read leniently."""
    text = line.decode("latin-1")
    repairs: list[str] = []
    tokens = text.split()
    if " ".join(tokens) != text:
        repairs.append("status_line_extra_whitespace")
    protocols = []
    while tokens and _PROTOCOL.fullmatch(tokens[0]):
        protocols.append(tokens.pop(0))
    if not tokens or not _CODE.fullmatch(tokens[0]):
        return None, tuple(repairs), "status_line_unparseable"
    code = int(tokens[0])
    reason = " ".join(tokens[1:])
    for match in _OTHER_STATUS.finditer(reason):
        if int(match.group(1)) != code:
            return None, tuple(repairs), "status_line_ambiguous"
        repairs.append("status_line_repeated")
        break
    if not protocols:
        repairs.append("status_line_missing_protocol")
    else:
        if len(protocols) > 1:
            repairs.append("status_line_doubled_protocol")
        name = protocols[0].split("/")[0]
        if name.upper() != "HTTP":
            repairs.append("status_line_odd_protocol")
        elif name != "HTTP":
            repairs.append("status_line_protocol_case")
        elif "/" not in protocols[0]:
            repairs.append("status_line_protocol_no_version")
    return code, tuple(repairs), None


def _lines(block: bytes, start: int, limit: int):
    """(line without its ending, ending, next start) up to `limit`; the last line may have no ending."""
    pos = start
    while pos < limit:
        nl = block.find(b"\n", pos, limit)
        if nl < 0:
            yield block[pos:limit], b"", limit
            return
        if nl > pos and block[nl - 1] == 0x0D:
            yield block[pos:nl - 1], b"\r\n", nl + 1
        else:
            yield block[pos:nl], b"\n", nl + 1
        pos = nl + 1


def _lenient_head(block: bytes, max_head_bytes: int, implied_status: int | None, at_eof: bool) -> Head:
    repairs: list[str] = []
    pos = 0
    if block.startswith(_BOM):
        pos = 3
        repairs.append("leading_bom")
    start = len(block) - len(block[pos:].lstrip(b" \t\r\n"))
    if start > pos:
        pos = start
        repairs.append("leading_blank_lines")
    limit = min(len(block), pos + max_head_bytes)
    lines = _lines(block, pos, limit)
    first = next(lines, None)
    if first is None or starts_like_html(block[pos:pos + 2048]):
        return _headless(block, pos, repairs, implied_status)
    first_line, first_ending, _ = first

    status, refused = None, None
    if _HEADER_START.match(first_line):  # headers without a status line: read the first as a header
        repairs.append("status_line_missing")
        lines = _prepend(first, lines)
    else:
        status, status_repairs, refused = parse_status_line(first_line)
        if refused == "status_line_unparseable" and not _PROTOCOL.match(first_line.decode("latin-1").strip()):
            return _headless(block, pos, repairs, implied_status)  # no status line at all
        repairs.extend(status_repairs)
    bare_lf = first_ending == b"\n"

    headers: list[tuple[str, str]] = []
    body_offset = None
    for count, (line, ending, after) in enumerate(lines):
        if line[:1] == b"<":  # the body itself: its line ending is none of the head's
            body_offset = after - len(line) - len(ending)
            repairs.append("head_missing_blank_line")
            break
        bare_lf = bare_lf or ending == b"\n"
        if not line.strip(b" \t\r"):
            body_offset = after
            break
        if count > MAX_HEADER_LINES:
            return Head(None, (), pos, tuple(repairs), refused="head_too_long")
        _read_header_line(line, headers, repairs)
    if body_offset is None:
        if limit < len(block) or not at_eof:  # no end of head within what was searched
            if starts_like_html(block[pos:pos + 2048]):
                return _headless(block, pos, repairs, implied_status)
            return Head(None, (), pos, tuple(repairs), refused="head_too_long")
        body_offset = len(block)
        repairs.append("head_unterminated")
    if bare_lf:
        repairs.insert(0, "bare_lf")
    if status is None and refused is None:  # headers without a status line
        if implied_status is not None and starts_like_html(block[body_offset:body_offset + 2048]):
            status = implied_status
            repairs.append("status_implied")
        else:
            refused = "status_line_unparseable"
    return Head(status=status, headers=tuple(headers), body_offset=body_offset, repairs=tuple(repairs),
                refused=refused)


def _read_header_line(line: bytes, headers: list[tuple[str, str]], repairs: list[str]) -> None:
    """Append one head line to `headers`: a folded continuation joins the previous value; a line
    that is no header is dropped. Repairs are noted once each."""
    if line[:1] in (b" ", b"\t") and headers:
        name, value = headers[-1]
        headers[-1] = (name, (value + " " + line.strip(b" \t\r").decode("latin-1")).strip())
        _note(repairs, "header_folded")
        return
    name, sep, value = line.partition(b":")
    clean_name = name.strip(b" \t")
    if not sep or not clean_name or b"\x00" in line or _TOKEN.fullmatch(clean_name) is None:
        _note(repairs, "header_line_without_colon")
        return
    if clean_name != name:
        _note(repairs, "header_name_whitespace")
    headers.append((clean_name.decode("latin-1"), value.strip(b" \t\r").decode("latin-1")))


def _prepend(first, rest):
    yield first
    yield from rest


def _note(repairs: list[str], kind: str) -> None:
    if kind not in repairs:
        repairs.append(kind)


def _headless(block: bytes, pos: int, repairs: list[str], implied_status: int | None) -> Head:
    """No HTTP head: the whole block is the body. An HTML body gets the implied status."""
    repairs = [r for r in repairs if r != "leading_blank_lines"]  # whitespace before a body is no repair
    if implied_status is not None and starts_like_html(block[pos:pos + 2048]):
        return Head(implied_status, (), 0, (*repairs, "no_http_head", "status_implied"))
    return Head(None, (), 0, tuple(repairs), refused="no_http_head")


# ---------------------------------------------------------------------------------- content type

_ARCHIVE_PREFIX = "x-archive-orig-"


def header_values(head: Head, name: str, *, archive_fallback: bool = True) -> tuple[list[str], bool]:
    """All values of header `name`; when there are none, those of `x-archive-orig-<name>`, which web
    archives write in place of the original (second item: True)."""
    values = head.get_all(name)
    if values or not archive_fallback:
        return values, False
    values = head.get_all(_ARCHIVE_PREFIX + name)
    return values, bool(values)


def split_content_type(value: str | None) -> tuple[str | None, str | None]:
    """(mime, charset) of one Content-Type value, both lower-case; None for what is absent."""
    if not value:
        return None, None
    parts = [p.strip() for p in value.split(";")]
    charset = None
    for part in parts[1:]:
        key, _, val = part.partition("=")
        if key.strip().lower() == "charset":
            charset = val.strip().strip("'\"").lower() or None
    return (parts[0].lower() or None), charset


def content_type_of(head: Head) -> tuple[str | None, str | None, tuple[str, ...]]:
    """(mime, charset, repairs). Different MIME types give None (the stage sniffs the payload),
    different charsets None (the meta tag or detection decides)."""
    values, from_archive = header_values(head, "Content-Type")
    repairs = ("archive_orig_headers",) if from_archive else ()
    parsed = [split_content_type(v) for v in values]
    mimes = {m for m, _ in parsed if m}
    charsets = {c for _, c in parsed if c}
    if len(mimes) > 1:
        repairs += ("content_type_conflict",)
    if len(charsets) > 1:
        repairs += ("charset_conflict",)
    return (mimes.pop() if len(mimes) == 1 else None), (charsets.pop() if len(charsets) == 1 else None), repairs
