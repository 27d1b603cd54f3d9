"""Stream the records of one web archive file (WARC of any compression, or legacy ARC).

WARC goes through fastwarc (fast, tolerant of whole-file gzip and malformed headers); ARC, which
fastwarc cannot parse, goes through warcio's ARC-to-WARC reader. Both are exposed as the same small
`ArchiveRecord` so the per-record logic never knows which library read it. Payloads are read lazily
and with a byte limit, so a record's size never decides the worker's memory.
"""
from __future__ import annotations

import io
import zlib
from dataclasses import dataclass, field
from typing import BinaryIO, Callable, Iterator

from fastwarc.warc import ArchiveIterator as WarcIterator
from fastwarc.warc import WarcRecordType

_TYPE_NAMES = {int(getattr(WarcRecordType, name)): name for name in (
    "warcinfo", "response", "resource", "request", "metadata", "revisit", "conversion", "continuation")}


@dataclass
class ArchiveRecord:
    """One record, whatever the archive format: headers eagerly, payload on demand."""
    kind: str
    record_id: str | None
    url: str | None
    date: str | None
    offset: int
    status: int | None = None
    content_type: str | None = None
    charset: str | None = None
    content_encoding: str | None = None
    http_content_length: int | None = None
    truncated: str | None = None
    read_payload: Callable[[int], bytes] = field(default=lambda limit: b"", repr=False)


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


def iter_records(stream: BinaryIO, name: str, quirks_mode: bool = True) -> Iterator[ArchiveRecord]:
    """Every record of the archive in order; raises CorruptArchive where the stream breaks.

    fastwarc and warcio both end silently, as if the file ended there, when a file is cut short, so
    gzip input is inflated a second time on the side (GzipFramingCheck) and every WARC record's
    bytes are counted against its length: a truncated download is reported, not mistaken for a
    shorter file.
    """
    reader = _iter_arc if archive_format(stream) == "arc" else _iter_warc
    framing = GzipFramingCheck(stream) if _starts_with_gzip(stream) else None
    try:
        yield from reader(framing or stream, name, quirks_mode)
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


def _iter_warc(stream: BinaryIO, name: str, quirks_mode: bool) -> Iterator[ArchiveRecord]:
    for rec in WarcIterator(stream, parse_http=True, quirks_mode=quirks_mode,
                            record_types=WarcRecordType.any_type):
        kind = _TYPE_NAMES.get(int(rec.record_type), "unknown")
        headers = rec.headers
        record = ArchiveRecord(
            kind=kind,
            record_id=headers.get("WARC-Record-ID"),
            url=_clean_uri(headers.get("WARC-Target-URI")),
            date=headers.get("WARC-Date"),
            offset=rec.stream_pos,
            truncated=headers.get("WARC-Truncated"),
        )
        if kind in ("response", "revisit") and rec.is_http:
            http = rec.http_headers
            record.status = http.status_code if http is not None else None
            record.content_type = rec.http_content_type
            record.charset = rec.http_charset
            if http is not None:
                record.content_encoding = http.get("Content-Encoding")
                record.http_content_length = _as_int(http.get("Content-Length"))
        declared, counted = rec.content_length, _CountingReader(rec.reader)
        record.read_payload = counted.read
        yield record
        counted.drain()
        if counted.bytes_read < declared:
            raise CorruptArchive(f"record {record.record_id} at offset {record.offset} ends "
                                 f"{declared - counted.bytes_read} bytes before its declared length: the file is truncated")


def _iter_arc(stream: BinaryIO, name: str, quirks_mode: bool) -> Iterator[ArchiveRecord]:
    from warcio.archiveiterator import ArchiveIterator as ArcIterator  # only ARC needs warcio

    records = ArcIterator(stream, arc2warc=True)
    for rec in records:
        offset = records.offset  # get_record_offset() would read the record to its end first
        kind = rec.rec_type or "unknown"
        # warcio invents a random UUID per ARC record; a stable one comes from file and offset.
        record = ArchiveRecord(
            kind=kind,
            record_id=f"<urn:arc:{name}:{offset}>",
            url=_clean_uri(rec.rec_headers.get_header("WARC-Target-URI")),
            date=rec.rec_headers.get_header("WARC-Date"),
            offset=offset,
        )
        if rec.http_headers is not None and kind == "response":
            http = rec.http_headers
            record.status = _as_int(http.get_statuscode())
            mime, charset = _split_content_type(http.get_header("Content-Type"))
            record.content_type, record.charset = mime, charset
            record.http_content_length = _as_int(http.get_header("Content-Length"))
        record.read_payload = _CountingReader(rec.content_stream()).read
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


def _split_content_type(value: str | None) -> tuple[str | None, str | None]:
    if not value:
        return None, None
    parts = [p.strip() for p in value.split(";")]
    charset = None
    for p in parts[1:]:
        k, _, v = p.partition("=")
        if k.strip().lower() == "charset":
            charset = v.strip().strip("'\"").lower() or None
    return parts[0].lower() or None, charset


def _clean_uri(uri: str | None) -> str | None:
    return uri.strip().strip("<>") if uri else None


def _as_int(value) -> int | None:
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return None
