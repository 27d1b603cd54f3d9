"""The tests' one source of archives: small WARC files written with warcio's writer (and ARC files by
the format's definition), malformed records written byte by byte (support/defects.py uses them), the
records and pages of the bundled real WARCs, and counts of their HTML responses made independently of
udfs/documents.py."""
from __future__ import annotations

import gzip
import io
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from fastwarc.warc import ArchiveIterator as FastArchiveIterator
from fastwarc.warc import WarcRecordType
from support.paths import WARCS
from warcio.archiveiterator import ArchiveIterator
from warcio.exceptions import ArchiveLoadFailed
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

HTML_TYPES = ("text/html", "application/xhtml+xml")
DATE = "2024-05-20T10:00:00Z"


@dataclass
class Response:
    """One HTTP response to write as a WARC response record."""
    url: str
    body: bytes
    status: str = "200 OK"
    content_type: str | None = "text/html; charset=utf-8"
    extra_headers: tuple[tuple[str, str], ...] = ()
    content_length: int | None = None  # HTTP Content-Length to declare (default: the body's length)
    record_id: str | None = None


def write_warc(records: list, *, gzip_members: bool = True, is_part_of: str | None = None, first_id: int = 0) -> bytes:
    """A WARC file's bytes: a warcinfo record (when is_part_of is given), then `records`.

    Items are Response objects or ("request"|"metadata"|"revisit"|"dns", url) tuples; record ids count
    from first_id, so that two files written apart can be joined without repeating an id.
    """
    out = io.BytesIO()
    writer = WARCWriter(out, gzip=gzip_members)
    if is_part_of is not None:
        info = writer.create_warcinfo_record("test.warc.gz", {"isPartOf": is_part_of, "software": "pytest"})
        info.rec_headers.replace_header("WARC-Record-ID", "<urn:uuid:00000000-0000-0000-0000-00000000info>")
        info.rec_headers.replace_header("WARC-Date", DATE)
        writer.write_record(info)
    for n, item in enumerate(records, start=first_id):
        record_id = f"<urn:uuid:00000000-0000-0000-0000-{n:012d}>"
        fixed = {"WARC-Record-ID": record_id, "WARC-Date": DATE}
        if isinstance(item, Response):
            fixed["WARC-Record-ID"] = item.record_id or record_id
            headers = []
            if item.content_type is not None:
                headers.append(("Content-Type", item.content_type))
            headers.append(("Content-Length", str(item.content_length if item.content_length is not None else len(item.body))))
            headers.extend(item.extra_headers)
            http = StatusAndHeaders(item.status, headers, protocol="HTTP/1.1")
            writer.write_record(writer.create_warc_record(item.url, "response", payload=io.BytesIO(item.body),
                                                          length=len(item.body), http_headers=http,
                                                          warc_headers_dict=fixed))
        else:
            kind, url = item
            if kind == "revisit":
                record = writer.create_revisit_record(url, "sha1:AAAA", url, DATE, warc_headers_dict=fixed)
            elif kind == "dns":
                body = b"20240520100000\nexample.com. 300 IN A 93.184.216.34\n"
                record = writer.create_warc_record(url, "response", payload=io.BytesIO(body), length=len(body),
                                                   warc_content_type="text/dns", warc_headers_dict=fixed)
            else:
                body = b"GET / HTTP/1.1\r\nHost: example.com\r\n\r\n" if kind == "request" else b"fetchTimeMs: 12\r\n"
                record = writer.create_warc_record(url, kind, payload=io.BytesIO(body), length=len(body),
                                                   warc_content_type="application/http; msgtype=request"
                                                   if kind == "request" else "application/warc-fields",
                                                   warc_headers_dict=fixed)
            writer.write_record(record)
    return out.getvalue()


def open_warc(path: str | Path):
    """A file object over an archive for warcio, un-gzipping a whole-file gzip WARC (which warcio refuses)."""
    data = Path(path).read_bytes()
    try:
        for _ in ArchiveIterator(io.BytesIO(data)):
            pass
    except ArchiveLoadFailed:
        data = gzip.decompress(data)
    return io.BytesIO(data)


def count_html_200(path: str | Path) -> tuple[int, int]:
    """(records, HTML responses with status 200), counted with warcio, independently of the Format code.

    A response without Content-Type counts as HTML, as the stage sniffs those.
    """
    records = html = 0
    for record in ArchiveIterator(open_warc(path), arc2warc=True):
        records += 1
        if record.rec_type != "response" or record.http_headers is None:
            continue
        if record.http_headers.get_statuscode() != "200":
            continue
        mime = (record.http_headers.get_header("Content-Type") or "").split(";")[0].strip().lower()
        if mime in HTML_TYPES or not mime:
            html += 1
    return records, html


def html_responses(path: str | Path, limit: int) -> list[tuple[str, bytes, str | None]]:
    """(url, decoded HTML body, charset) of the first `limit` HTML 200 responses, read with warcio."""
    found = []
    for record in ArchiveIterator(open_warc(path)):
        if record.rec_type != "response" or record.http_headers is None:
            continue
        if record.http_headers.get_statuscode() != "200":
            continue
        value = record.http_headers.get_header("Content-Type") or ""
        if value.split(";")[0].strip().lower() not in HTML_TYPES:
            continue
        charset = None
        for part in value.split(";")[1:]:
            key, _, val = part.partition("=")
            if key.strip().lower() == "charset":
                charset = val.strip()
        found.append((record.rec_headers.get_header("WARC-Target-URI"), record.content_stream().read(), charset))
        if len(found) == limit:
            break
    return found


def write_arc(pages: list[tuple[str, bytes, str | None]], name: str = "test.arc.gz", compress: bool = True) -> bytes:
    """An ARC v1 file (the Internet Archive's pre-WARC format) holding `pages` as HTTP 200 responses.

    Each record is a header line `URL IP DATE MIME LENGTH`, LENGTH bytes of HTTP response, and a
    newline; the first record is the filedesc:// version block. Compressed ARCs gzip each record.
    """
    date = "20080430204825"
    version_block = b"1 0 InternetArchive\nURL IP-address Archive-date Content-type Archive-length\n"
    parts = [f"filedesc://{name} 0.0.0.0 {date} text/plain {len(version_block)}\n".encode() + version_block + b"\n"]
    for url, body, charset in pages:
        content_type = "text/html" + (f"; charset={charset}" if charset else "")
        http = (f"HTTP/1.1 200 OK\r\nContent-Type: {content_type}\r\nContent-Length: {len(body)}\r\n\r\n").encode() + body
        parts.append(f"{url} 192.0.2.1 {date} text/html {len(http)}\n".encode() + http + b"\n")
    if not compress:
        return b"".join(parts)
    return b"".join(gzip.compress(part) for part in parts)


@lru_cache(maxsize=None)
def record_blocks(name: str) -> tuple[tuple[str, bytes], ...]:
    """(kind, uncompressed bytes) of every record of a bundled real WARC file, in order."""
    plain = gzip.decompress((WARCS / name).read_bytes())
    starts, kinds = [], []
    for record in FastArchiveIterator(io.BytesIO(plain), record_types=WarcRecordType.any_type, parse_http=False):
        starts.append(record.stream_pos)
        kinds.append(str(record.record_type).rsplit(".", 1)[-1])
    ends = starts[1:] + [len(plain)]
    return tuple((kind, plain[a:b]) for kind, a, b in zip(kinds, starts, ends))


def real_warc(name: str, picks: tuple[int, ...] | None = None) -> bytes:
    """Uncompressed bytes of a real WARC file, or of the records `picks` of it (real bytes, unchanged)."""
    blocks = record_blocks(name)
    chosen = blocks if picks is None else [blocks[i] for i in picks]
    return b"".join(block for _, block in chosen)


def gzip_per_record(name: str, picks: tuple[int, ...] | None = None) -> bytes:
    blocks = record_blocks(name)
    chosen = blocks if picks is None else [blocks[i] for i in picks]
    return b"".join(gzip.compress(block, compresslevel=6) for _, block in chosen)


def real_pages(name: str, count: int) -> list[tuple[str, bytes]]:
    """(url, HTML bytes) of the first `count` HTML 200 responses of a bundled real WARC."""
    pages = []
    with (WARCS / name).open("rb") as stream:
        for record in FastArchiveIterator(stream, record_types=WarcRecordType.response, parse_http=True):
            if record.http_headers is not None and record.http_headers.status_code == 200 \
                    and (record.http_content_type or "").startswith("text/html"):
                pages.append((record.headers.get("WARC-Target-URI"), record.reader.read()))
                if len(pages) == count:
                    break
    return pages


# ------------------------------------------------------------------- records written byte by byte
# warcio's writer cannot write a malformed record (it parses and re-serialises the HTTP head), so the
# crafted defect records (support/defects.py) are written here from their exact bytes.

def http_block(status_line: str | bytes, headers: list[tuple[str, str | bytes]], body: bytes, *,
               eol: bytes = b"\r\n", status_eol: bytes | None = None, blank: bytes | None = None,
               prefix: bytes = b"") -> bytes:
    """An HTTP response block: `eol` ends header lines, `status_eol` the status line (default eol),
    `blank` is the empty line after the head (default eol, b"" for none), `prefix` goes before the
    status line. A header with an empty name is written as its value alone (a line without colon)."""
    line = status_line.encode("latin-1") if isinstance(status_line, str) else status_line
    out = prefix + line + (status_eol if status_eol is not None else eol)
    for name, value in headers:
        value = value.encode("utf-8") if isinstance(value, str) else value
        out += (name.encode("latin-1") + b": " + value if name else value) + eol
    return out + (blank if blank is not None else eol) + body


def raw_record(block: bytes, *, record_id: str, uri: str | None, warc_type: str = "response",
               content_type: str | None = "application/http; msgtype=response", version: str = "WARC/1.1",
               date: str = DATE, eol: bytes = b"\r\n", extra: tuple[tuple[str, str], ...] = ()) -> bytes:
    """One WARC record with exactly these bytes as its block, as a gzip member (mtime 0: deterministic).
    uri/content_type None leave the header out."""
    lines = [version, f"WARC-Type: {warc_type}", f"WARC-Record-ID: {record_id}", f"WARC-Date: {date}"]
    if uri is not None:
        lines.append(f"WARC-Target-URI: {uri}")
    if content_type is not None:
        lines.append(f"Content-Type: {content_type}")
    lines += [f"{name}: {value}" for name, value in extra] + [f"Content-Length: {len(block)}"]
    head = eol.join(line.encode("utf-8") for line in lines) + eol + eol
    return gzip.compress(head + block + b"\r\n\r\n", compresslevel=6, mtime=0)


def record_member(name: str, index: int) -> bytes:
    """The gzip member of record `index` of a bundled real WARC, byte for byte."""
    data = (WARCS / name).read_bytes()
    iterator = ArchiveIterator(io.BytesIO(data))
    for i, record in enumerate(iterator):
        record.content_stream().read()
        if i == index:
            return data[iterator.get_record_offset():iterator.get_record_offset() + iterator.get_record_length()]
    raise IndexError(f"{name} has no record {index}")


def page_at(path: str | Path, index: int) -> tuple[str, bytes, str | None]:
    """(url, HTML bytes as the crawler got them — de-chunked and decompressed by warcio, charset) of
    record `index` of a WARC."""
    for i, record in enumerate(ArchiveIterator(open_warc(path))):
        if i == index:
            value = record.http_headers.get_header("Content-Type") or ""
            charset = None
            for part in value.split(";")[1:]:
                key, _, val = part.partition("=")
                if key.strip().lower() == "charset":
                    charset = val.strip()
            return record.rec_headers.get_header("WARC-Target-URI"), record.content_stream().read(), charset
    raise IndexError(f"{path} has no record {index}")
