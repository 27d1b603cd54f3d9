"""Reading archive files: every compression, ARC, files cut short, and what kind of block a record holds."""
import gzip
import io

import pytest
from support.paths import WARCS
from support.warcs import html_responses, write_arc
from warcio.archiveiterator import ArchiveIterator

from corpusforge.udfs.warc_records import CorruptArchive, archive_format, block_kind, iter_records

SAMPLE = WARCS / "ccbot-2019-12-single.warc.gz"
WHOLE_FILE_GZIP = WARCS / "edge" / "CC-MAIN-2015-11-whole-file-gzip.warc.gz"


def records(data: bytes, name: str = "x"):
    out = []
    for record in iter_records(io.BytesIO(data), name):
        out.append((record.kind, record.record_id, record.url, record.read_payload(10_000_000)))
    return out


def warcio_records(data: bytes):
    return [(r.rec_headers.get_header("WARC-Record-ID"), r.rec_headers.get_header("WARC-Target-URI"))
            for r in ArchiveIterator(io.BytesIO(data))]


def test_whole_file_gzip_and_uncompressed_read_like_per_record_gzip():
    whole = WHOLE_FILE_GZIP.read_bytes()
    plain = gzip.decompress(whole)
    per_record = b"".join(gzip.compress(block) for block in split_warc_records(plain))
    expected = warcio_records(plain)
    assert len(expected) == 14
    for data in (whole, plain, per_record):
        got = records(data)
        assert [(r[1], r[2]) for r in got] == expected
        assert got == records(plain)


def split_warc_records(plain: bytes) -> list[bytes]:
    """The byte range of each record of an uncompressed WARC, from warcio's offsets."""
    iterator = ArchiveIterator(io.BytesIO(plain))
    offsets = []
    for _ in iterator:
        offsets.append(iterator.get_record_offset())
    return [plain[a:b] for a, b in zip(offsets, offsets[1:] + [len(plain)])]


@pytest.mark.parametrize("compress", [True, False])
def test_arc_files_are_read(compress):
    pages = html_responses(WARCS / "sample-0000.warc.gz", 3)
    data = write_arc(pages, compress=compress)
    assert archive_format(io.BytesIO(data)) == "arc"
    got = list(iter_records(io.BytesIO(data), "t.arc.gz"))
    assert [r.kind for r in got] == ["warcinfo", "response", "response", "response"]
    assert [r.url for r in got[1:]] == [url for url, _, _ in pages]
    assert all(r.status == 200 and r.content_type == "text/html" and r.charset == "utf-8" for r in got[1:])
    assert got[1].date == "2008-04-30T20:48:25Z"
    assert got[1].record_id == f"<urn:arc:t.arc.gz:{got[1].offset}>"  # stable, not warcio's random UUID
    assert records(data)[1][3] == pages[0][1]


def test_format_sniffing():
    assert archive_format(io.BytesIO(SAMPLE.read_bytes())) == "warc"
    assert archive_format(io.BytesIO(gzip.decompress(SAMPLE.read_bytes()))) == "warc"
    assert archive_format(io.BytesIO(b"")) == "warc"


def test_a_gzip_warc_cut_anywhere_is_reported():
    """fastwarc alone ends silently at a cut; every cut inside a member must raise CorruptArchive."""
    data = SAMPLE.read_bytes()
    for cut in range(2, len(data), 37):
        with pytest.raises(CorruptArchive):
            records(data[:cut])
    assert len(records(data)) == 1


def test_an_uncompressed_warc_cut_inside_a_payload_is_reported():
    plain = gzip.decompress(SAMPLE.read_bytes())
    for cut in range(400, len(plain) - 4, 211):
        with pytest.raises(CorruptArchive, match="truncated"):
            records(plain[:cut])


def test_a_cut_at_a_record_boundary_is_a_shorter_file_not_an_error():
    whole = gzip.decompress(WHOLE_FILE_GZIP.read_bytes())
    blocks = split_warc_records(whole)
    per_record = [gzip.compress(b) for b in blocks]
    assert len(records(b"".join(per_record[:5]))) == 5
    assert len(records(b"".join(blocks[:5]))) == 5


def test_garbage_between_members_is_reported():
    whole = gzip.decompress(WHOLE_FILE_GZIP.read_bytes())
    per_record = [gzip.compress(b) for b in split_warc_records(whole)]
    with pytest.raises(CorruptArchive):
        records(b"".join(per_record[:3]) + b"this is not gzip" * 10 + b"".join(per_record[3:]))



@pytest.mark.parametrize("warc_type, content_type, window, kind, repairs", [
    ("response", "application/http; msgtype=response", b"HTTP/1.1 200 OK\r\n", "http", ()),
    ("response", "application/http", b"HTTP/1.1 200 OK\r\n", "http", ("warc_content_type_no_msgtype",)),
    ("response", None, b"HTTP/1.1 200 OK\r\n", "http", ("warc_content_type_missing",)),
    ("response", "text/html", b"HTTP/1.1 200 OK\r\n", "http", ("warc_content_type_mislabelled",)),
    ("response", "text/html", b"<!doctype html><p>the page itself</p>", "http", ("warc_content_type_mislabelled",)),
    ("response", "text/dns", b"20240520100000\nexample.com. 300 IN A 1.2.3.4", "other", ()),
    ("resource", "text/html; charset=utf-8", b"<html>", "document", ("resource_record_as_document",)),
    ("resource", "text/plain", b"wget log: fetching http://example.com/", "other", ()),
    ("resource", "image/png", b"\x89PNG", "other", ()),
    ("resource", None, b"<!doctype html><html>", "document", ("warc_content_type_missing", "resource_record_as_document")),
    ("resource", "application/http; msgtype=request", b"GET / HTTP/1.1", "other", ()),
    ("revisit", "application/http; msgtype=response", b"HTTP/1.1 200 OK\r\n\r\n", "http", ()),
])
def test_block_kind(warc_type, content_type, window, kind, repairs):
    assert block_kind(warc_type, content_type, window) == (kind, repairs)
