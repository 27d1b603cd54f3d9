"""Stream the records of one web archive file (WARC of any compression, or legacy ARC).

WARC goes through fastwarc (fast, tolerant of whole-file gzip and malformed WARC headers) with its
HTTP parsing off: fastwarc raises on a response without an end of head in its first 32 KiB (which
lost the rest of the file), eats the first lines of a headless body, and has no status for
`HTTP/1.1 HTTP/1.1 200 OK`. So each response's first bytes (a window) are read here and its head
parsed by udfs/http_head.py (strict fast path, lenient only when that fails), its body decoded by
udfs/http_body.py, its URL cleaned and a web-archive replay URL unwrapped (udfs/replay_urls.py);
every repair is named on the record. ARC, which fastwarc cannot parse, goes through warcio's
ARC-to-WARC reader. Both are exposed as the same small `ArchiveRecord` so the per-record logic never
knows which library read it. Payloads are read lazily and with a byte limit, so a record's size
never decides the worker's memory.
"""
from __future__ import annotations

import io
import re
import zlib
from dataclasses import dataclass, field
from typing import BinaryIO, Callable, Iterator

from fastwarc.warc import ArchiveIterator as WarcIterator
from fastwarc.warc import WarcRecordType

from corpusforge.udfs.http_body import Body, decode_body
from corpusforge.udfs.http_head import Head, content_type_of, parse_head, split_content_type, starts_like_html
from corpusforge.udfs.replay_urls import ARCHIVES, unwrap_replay_url
from corpusforge.udfs.urls import clean_target_uri, url_from_page

_TYPE_NAMES = {int(getattr(WarcRecordType, name)): name for name in (
    "warcinfo", "response", "resource", "request", "metadata", "revisit", "conversion", "continuation")}
_FIRST_READ = 8192  # most heads end within it; the window grows to max_head_bytes only when none does
_SAMPLE_BYTES = 256  # first bytes of a block kept on the record for diagnosis (stats keep fewer)


@dataclass(frozen=True)
class HttpReading:
    """How HTTP blocks are read (conf: format.http, format.max_html_bytes)."""
    max_body_bytes: int = 5_000_000
    max_head_bytes: int = 65536
    implied_status: int | None = 200
    replay_archives: tuple[str, ...] = ARCHIVES


@dataclass
class ArchiveRecord:
    """One record, whatever the archive format: headers eagerly, payload on demand.

    `read_payload(limit)` gives the raw bytes (for HTTP blocks: the body after the head, as stored);
    `read_body()` the decoded HTTP body (chunking and codings undone, at most max_body_bytes + 1
    bytes), read once and kept in `body` — use one or the other. `repairs` names what the reading had
    to repair, `refused` why the record cannot be read (a skip reason), `block_start` the block's
    first bytes for a diagnosis sample."""
    kind: str
    record_id: str | None
    url: str | None
    date: str | None
    offset: int
    status: int | None = None
    content_type: str | None = None
    charset: str | None = None
    truncated: str | None = None
    is_document: bool = False  # an HTML page (HTTP response, or a resource record holding HTML)
    refused: str | None = None
    repairs: tuple[str, ...] = ()
    archive_url: str | None = None
    block_start: bytes = b""
    body: Body | None = None  # set by read_body once the body is read
    read_payload: Callable[[int], bytes] = field(default=lambda limit: b"", repr=False)
    read_body: Callable[[], Body] = field(default=lambda: Body(b""), repr=False)


class CorruptArchive(Exception):
    """The archive stream cannot be parsed past this point (bad compression or framing)."""


def archive_format(stream: BinaryIO) -> str:
    """'arc' or 'warc', sniffed from the first decompressed bytes; the stream is rewound."""
    head = stream.read(4096)
    stream.seek(0)
    if head[:2] == b"\x1f\x8b":
        try:
            head = zlib.decompressobj(zlib.MAX_WBITS | 16).decompress(head, 64)
        except zlib.error:
            return "warc"  # let the WARC reader report the corruption with its own message
    return "arc" if head.startswith(b"filedesc://") else "warc"


def iter_records(stream: BinaryIO, name: str, quirks_mode: bool = True,
                 reading: HttpReading | None = None) -> Iterator[ArchiveRecord]:
    """Every record of the archive in order; raises CorruptArchive where the stream breaks.

    fastwarc and warcio both end silently, as if the file ended there, when a file is cut short, so
    gzip input is inflated a second time on the side (GzipFramingCheck) and every WARC record's
    bytes are counted against its length: a truncated download is reported, not mistaken for a
    shorter file.
    """
    reading = reading or HttpReading()
    reader = _iter_arc if archive_format(stream) == "arc" else _iter_warc
    framing = GzipFramingCheck(stream) if _starts_with_gzip(stream) else None
    try:
        yield from reader(framing or stream, name, quirks_mode, reading)
        if framing is not None:
            framing.check_to_end()
    except CorruptArchive:
        raise
    except Exception as err:  # noqa: BLE001 — bad compression, framing or a dropped connection alike
        raise CorruptArchive(f"{type(err).__name__}: {err}") from err
    except BaseException as err:  # fastwarc's Rust panics (pyo3 PanicException) are BaseExceptions
        if type(err).__name__ != "PanicException":
            raise
        raise CorruptArchive(f"fastwarc panic: {err}") from None


class GzipFramingCheck(io.RawIOBase):
    """Passes a gzip stream through unchanged while inflating it on the side to check its framing.

    Hand-written because neither reader reports a file that ends inside a gzip member (a cut
    download): they stop there as if the file were complete. Inflating costs about as much again as
    the readers' own decompression, which is small next to HTML extraction.
    """

    _OUT_LIMIT = 1 << 20  # inflate in bounded steps: a highly compressed member never balloons memory

    def __init__(self, raw: BinaryIO):
        super().__init__()
        self._raw = raw
        self._inflater = None  # None between members
        self.problem: str | None = None

    def readable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._raw.tell()

    def read(self, size: int = -1) -> bytes:
        data = self._raw.read(size)
        self._inspect(data)
        return data

    def readinto(self, buffer) -> int:
        data = self.read(len(buffer))
        buffer[:len(data)] = data
        return len(data)

    def check_to_end(self) -> None:
        """Read what the archive reader left and raise CorruptArchive if the gzip stream is broken."""
        while self.problem is None and (chunk := self._raw.read(1 << 16)):
            self._inspect(chunk)
        if self.problem is None and self._inflater is not None:
            self.problem = "the file ends inside a gzip member: it is truncated"
        if self.problem is not None:
            raise CorruptArchive(self.problem)

    def _inspect(self, data: bytes) -> None:
        inflater = self._inflater
        while data and self.problem is None:
            if inflater is None:
                inflater = zlib.decompressobj(zlib.MAX_WBITS | 16)
            try:
                inflater.decompress(data, self._OUT_LIMIT)
            except zlib.error as err:
                self.problem = f"gzip data error: {err}"
                break
            if inflater.eof:
                data, inflater = inflater.unused_data, None
            else:
                data = inflater.unconsumed_tail
        self._inflater = inflater


def _starts_with_gzip(stream: BinaryIO) -> bool:
    head = stream.read(2)
    stream.seek(0)
    return head == b"\x1f\x8b"


def _iter_warc(stream: BinaryIO, name: str, quirks_mode: bool, reading: HttpReading) -> Iterator[ArchiveRecord]:
    for rec in WarcIterator(stream, parse_http=False, quirks_mode=quirks_mode, record_types=WarcRecordType.any_type):
        kind = _TYPE_NAMES.get(int(rec.record_type), "unknown")
        headers = rec.headers
        url, uri_repairs = clean_target_uri(headers.get("WARC-Target-URI"))
        record = ArchiveRecord(kind=kind, record_id=headers.get("WARC-Record-ID"), url=url,
                               date=headers.get("WARC-Date"), offset=rec.stream_pos,
                               truncated=headers.get("WARC-Truncated"), repairs=uri_repairs)
        declared, counted = rec.content_length, _CountingReader(rec.reader)
        record.read_payload = counted.read
        if kind in ("response", "resource", "revisit"):
            try:
                _read_block(record, counted, headers.get("Content-Type"), reading)
            except CorruptArchive:
                raise
            except Exception:  # noqa: BLE001 — an input no rule foresaw costs this record, not the file
                record.refused, record.is_document = "unreadable_record", False
        yield record
        counted.drain()
        if counted.bytes_read < declared:
            raise CorruptArchive(f"record {record.record_id} at offset {record.offset} ends "
                                 f"{declared - counted.bytes_read} bytes before its declared length: the file is truncated")


def _read_window(counted: "_CountingReader", max_head_bytes: int) -> tuple[bytes, bool]:
    """(the block's first bytes, whether they are the whole block): 8 KiB, or max_head_bytes + 1
    when no head ends in the first 8 KiB (a long head, or a headless minified page)."""
    window = counted.read(_FIRST_READ)
    wanted = _FIRST_READ
    if len(window) == _FIRST_READ and b"\n\r\n" not in window and b"\n\n" not in window:
        wanted = max(max_head_bytes + 1, _FIRST_READ)
        window += counted.read(wanted - _FIRST_READ)
    return window, len(window) < wanted


_STATUS_START = re.compile(rb"\s*(?:(?:HTTP|ICY)(?:/\d+(?:\.\d+)?)?\s+)+[1-5]\d\d(?:\s|$)", re.IGNORECASE)
_HTML_TYPES = ("text/html", "application/xhtml+xml")


def block_kind(warc_type: str, warc_content_type: str | None, window: bytes) -> tuple[str, tuple[str, ...]]:
    """('http' | 'document' | 'other', repairs): how to read a response, resource or revisit block.
    'http': an HTTP message (head and body); 'document': the block is an HTML page itself."""
    value = (warc_content_type or "").strip().lower()
    mime = value.split(";")[0].strip()
    if window.startswith(b"\xef\xbb\xbf"):
        window = window[3:]
    if mime == "application/http":
        if "msgtype=request" in value.replace(" ", ""):
            return "other", ()
        if warc_type == "response" and "msgtype" not in value:
            return "http", ("warc_content_type_no_msgtype",)
        return "http", ()
    status_line = _STATUS_START.match(window[:256]) is not None
    if not mime:
        if warc_type in ("response", "revisit") or status_line:
            return "http", ("warc_content_type_missing",)
        if starts_like_html(window):
            return "document", ("warc_content_type_missing", "resource_record_as_document")
        return "other", ()
    if status_line:
        return "http", ("warc_content_type_mislabelled",)
    if mime in _HTML_TYPES or (mime.startswith("text/") and starts_like_html(window)):
        if warc_type == "resource":
            return "document", ("resource_record_as_document",)
        if warc_type == "response":  # the page itself under a response's header: read as headless
            return "http", ("warc_content_type_mislabelled",)
    return "other", ()


def _read_block(record: ArchiveRecord, counted: "_CountingReader", warc_content_type: str | None,
                reading: HttpReading) -> None:
    """Read a response/resource/revisit block's head and set up its body: status, content type,
    repairs, refusal, replay unwrapping, and a URL from the page when the record has none."""
    window, at_eof = _read_window(counted, reading.max_head_bytes)
    record.block_start = window[:_SAMPLE_BYTES]
    kind, repairs = block_kind(record.kind, warc_content_type, window)
    if kind == "other":
        record.read_payload = _prefixed(window, counted)
        return
    head = None
    if kind == "http":
        head = parse_head(window, at_eof=at_eof, max_head_bytes=reading.max_head_bytes,
                          implied_status=reading.implied_status)
        record.status, record.refused = head.status, head.refused
        record.content_type, record.charset, type_repairs = content_type_of(head)
        repairs += head.repairs + type_repairs
        window = window[head.body_offset:]
        record.is_document = record.kind == "response"
    elif reading.implied_status is not None:  # a resource record holding an HTML page
        record.content_type, record.charset = split_content_type(warc_content_type)
        record.status, record.is_document = reading.implied_status, True
    record.read_payload = _prefixed(window, counted)
    record.read_body = _body_reader(record, window, counted, head, reading.max_body_bytes)
    if head is not None and reading.replay_archives:
        replay = unwrap_replay_url(record.url, memento_datetime=head.get("Memento-Datetime"),
                                   links=tuple(head.get_all("Link")), archives=reading.replay_archives)
        if replay is not None:
            record.archive_url, record.url = replay.replay_url, replay.original_url
            record.date = replay.capture_time or record.date
            repairs += replay.repairs
    record.repairs += repairs
    if record.url is None and record.is_document and record.refused is None:
        found, how = url_from_page(head.get("Content-Location") if head else None, record.read_body().data)
        if found:
            record.url, record.repairs = found, record.repairs + (how,)
        else:
            record.refused = "missing_target_uri"


def _body_reader(record: ArchiveRecord, prefix: bytes, counted: "_CountingReader", head: Head | None,
                 limit: int) -> Callable[[], Body]:
    """record.read_body: the body decoded once (prefix: what the window already holds of it)."""
    def read_body() -> Body:
        if record.body is None:
            raw = prefix[:limit + 1]
            if len(raw) <= limit:
                raw += counted.read(limit + 1 - len(raw))
            record.body = decode_body(raw, head, limit) if head is not None else \
                Body(raw[:limit + 1], too_large=len(raw) > limit)
        return record.body
    return read_body


def _prefixed(prefix: bytes, counted: "_CountingReader") -> Callable[[int], bytes]:
    """A payload reader that hands out `prefix` (bytes already read) before the rest of the record."""
    held = [prefix]

    def read(limit: int = -1) -> bytes:
        first = held[0]
        if limit < 0:
            held[0] = b""
            return first + counted.read(-1)
        held[0] = first[limit:]
        out = first[:limit]
        return out + counted.read(limit - len(out)) if len(out) < limit else out
    return read


def _iter_arc(stream: BinaryIO, name: str, quirks_mode: bool, reading: HttpReading) -> Iterator[ArchiveRecord]:
    from warcio.archiveiterator import ArchiveIterator as ArcIterator  # only ARC needs warcio

    records = ArcIterator(stream, arc2warc=True)
    for rec in records:
        offset = records.offset  # get_record_offset() would read the record to its end first
        kind = rec.rec_type or "unknown"
        url, uri_repairs = clean_target_uri(rec.rec_headers.get_header("WARC-Target-URI"))
        # warcio invents a random UUID per ARC record; a stable one comes from file and offset.
        record = ArchiveRecord(kind=kind, record_id=f"<urn:arc:{name}:{offset}>", url=url,
                               date=rec.rec_headers.get_header("WARC-Date"), offset=offset, repairs=uri_repairs)
        counted = _CountingReader(rec.content_stream())
        record.read_payload = counted.read
        if kind == "response" and rec.http_headers is None:  # a DNS record and the like: keep a sample
            record.block_start = counted.read(_SAMPLE_BYTES)
            record.read_payload = _prefixed(record.block_start, counted)
        if rec.http_headers is not None and kind == "response":
            http = rec.http_headers
            record.status = _as_int(http.get_statuscode())
            record.content_type, record.charset = split_content_type(http.get_header("Content-Type"))
            record.is_document = True
            # warcio's content_stream has undone the declared codings already: only the length is
            # left to check, and only when no coding changed it
            length = http.get_header("Content-Length")
            coded = http.get_header("Content-Encoding") or http.get_header("Transfer-Encoding")
            head = Head(record.status, (("Content-Length", length),) if length and not coded else ())
            record.read_body = _body_reader(record, b"", counted, head, reading.max_body_bytes)
        yield record


class _CountingReader:
    """A record's payload reader that counts what it hands out; a read error is a CorruptArchive."""

    def __init__(self, reader):
        self._reader = reader
        self.bytes_read = 0

    def read(self, limit: int = -1) -> bytes:
        try:
            chunk = self._reader.read(limit)
        except Exception as err:  # noqa: BLE001 — decompression errors surface here, mid-record
            raise CorruptArchive(f"{type(err).__name__}: {err}") from err
        self.bytes_read += len(chunk)
        return chunk

    def drain(self) -> None:
        while self.read(1 << 16):
            pass


def read_warcinfo_fields(record: ArchiveRecord, limit: int = 65536) -> dict[str, str]:
    """The 'key: value' fields of a warcinfo record (isPartOf names the Common Crawl dump)."""
    fields: dict[str, str] = {}
    for line in record.read_payload(limit).decode("utf-8", "replace").splitlines():
        key, sep, value = line.partition(":")
        if sep:
            fields.setdefault(key.strip(), value.strip())
    return fields


def _as_int(value) -> int | None:
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return None
