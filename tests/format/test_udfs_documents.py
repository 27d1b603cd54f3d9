"""One archive file in, documents out: every record ends kept, removed with a reason, or counted as skipped."""
import io
import json
import random
import string
from dataclasses import replace

from support.paths import WARCS
from support.warcs import Response, write_warc
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from corpusforge.udfs.documents import ArchiveToDocuments, FormatOptions, unreadable_file_row
from corpusforge.udfs.extraction import ExtractionOptions
from corpusforge.udfs.ids import document_id

OPTIONS = FormatOptions(
    max_html_bytes=100_000, extraction_timeout_seconds=20, skip_truncated=False, quirks_mode=True,
    accept_status=(200,), html_content_types=("text/html", "application/xhtml+xml"), max_binary_ratio=0.01,
    extraction=ExtractionOptions(favor="balanced", include_comments=False, include_tables=True, max_tree_size=100_000),
)
ARTICLE = "".join(f"<p>Sentence {i}: the archive keeps every page of the crawl so that researchers can read "
                  f"the web as it was, long after the sites themselves have gone.</p>" for i in range(6))


def html(title: str = "A page", body: str = ARTICLE) -> bytes:
    return f"<!DOCTYPE html><html><head><title>{title}</title></head><body><article>{body}</article></body></html>".encode()


def convert(data: bytes, options: FormatOptions = OPTIONS, name: str = "test.warc.gz"):
    rows = list(ArchiveToDocuments(options).rows(io.BytesIO(data), f"/data/{name}"))
    summary = json.loads(rows[-1]["file_summary"])
    assert all(r["file_summary"] is None for r in rows[:-1])
    return rows[:-1], summary


def reasons(rows):
    return {r["url"]: r["reason"] for r in rows}


def test_every_kind_of_record_is_accounted_for():
    data = write_warc([
        Response("http://www.Example.co.uk:80/kept", html("Kept page")),
        ("request", "http://www.example.co.uk/kept"),
        ("metadata", "http://www.example.co.uk/kept"),
        ("revisit", "http://www.example.co.uk/old"),
        ("dns", "dns:www.example.co.uk"),
        Response("http://example.com/missing", html(), status="404 Not Found"),
        Response("http://example.com/logo.png", b"\x89PNG\r\n\x1a\n" + bytes(100), content_type="image/png"),
        Response("http://example.com/no-type-html", html("Sniffed"), content_type=None),
        Response("http://example.com/no-type-pdf", b"%PDF-1.4 not a page at all", content_type=None),
        Response("http://example.com/empty", b"  \r\n "),
        Response("http://example.com/binary", b"<html>" + bytes(5000)),
        Response("http://example.com/nav-only", b"<html><head><title>x</title></head><body></body></html>"),
        Response("http://example.com/xhtml", html("XHTML"), content_type="application/xhtml+xml"),
    ], is_part_of="CC-MAIN-2021-04")
    rows, summary = convert(data)

    assert summary["dump"] == "CC-MAIN-2021-04"
    assert summary["records"] == 14
    assert summary["skipped_by_reason"] == {"warcinfo_record": 1, "request_record": 1, "metadata_record": 1,
                                            "revisit": 1, "non_http": 1, "non_200": 1, "non_html": 1}
    assert reasons(rows) == {
        "http://www.Example.co.uk:80/kept": None, "http://example.com/no-type-html": None,
        "http://example.com/xhtml": None, "http://example.com/no-type-pdf": "non_html_payload",
        "http://example.com/empty": "empty_payload", "http://example.com/binary": "undecodable",
        "http://example.com/nav-only": "extraction_empty"}
    assert summary["html_records"] == len(rows) == 7
    assert summary["kept"] == 3 and sum(summary["removed_by_reason"].values()) == 4
    assert summary["error"] is None


def test_a_kept_document_carries_the_schema():
    data = write_warc([("request", "http://x/"), Response("http://www.Example.co.uk:80/kept", html("Kept page"))],
                      is_part_of="CC-MAIN-2021-04")
    (doc,), _ = convert(data, name="CC-MAIN-20210115-00001.warc.gz")
    assert doc["id"] == document_id("CC-MAIN-20210115-00001.warc.gz", doc_offset(data, 2), doc["warc_record_id"])
    assert doc["warc_record_id"] == "<urn:uuid:00000000-0000-0000-0000-000000000001>"
    assert (doc["url"], doc["host"], doc["domain"]) == ("http://www.Example.co.uk:80/kept", "www.example.co.uk", "example.co.uk")
    assert (doc["dump"], doc["dump_order"]) == ("CC-MAIN-2021-04", 202104)
    assert doc["warc_file"] == "CC-MAIN-20210115-00001.warc.gz" and doc["warc_date"] == "2024-05-20T10:00:00Z"
    assert (doc["language"], doc["title"]) == ("en", "Kept page")
    assert 0.9 <= doc["language_score"] <= 1 and doc["scores"]["language_reliable"] == 1.0
    assert doc["text"].startswith("Sentence 0: the archive keeps every page")
    assert doc["scores"]["html_bytes"] == len(html("Kept page")) and "truncated" not in doc["scores"]


def doc_offset(data: bytes, index: int) -> int:
    """Byte offset of the index-th gzip member (record) of a per-record gzip WARC, found with zlib."""
    import zlib
    offset = 0
    for _ in range(index):
        inflater = zlib.decompressobj(zlib.MAX_WBITS | 16)
        inflater.decompress(data[offset:])
        offset = len(data) - len(inflater.unused_data)
    return offset


def test_without_warcinfo_the_dump_comes_from_the_path_and_the_order_from_the_capture_week():
    (doc,), summary = convert(write_warc([Response("http://a.example/", html())]), name="x.warc.gz")
    assert summary["dump"] is None and doc["dump"] is None and doc["dump_order"] == 202421  # 2024-05-20
    rows = list(ArchiveToDocuments(OPTIONS).rows(io.BytesIO(write_warc([Response("http://a.example/", html())])),
                                                 "s3://commoncrawl/crawl-data/CC-MAIN-2020-34/segments/1/warc/x.warc.gz"))
    assert rows[0]["dump"] == "CC-MAIN-2020-34" and rows[0]["dump_order"] == 202034


def test_too_large_payload_is_never_read_whole():
    big = html(body="<p>" + "x" * 3_000_000 + "</p>")
    (doc,), summary = convert(write_warc([Response("http://big.example/", big)]), replace(OPTIONS, max_html_bytes=1000))
    assert doc["reason"] == "too_large" and summary["removed_by_reason"] == {"too_large": 1}
    assert doc["scores"]["html_bytes"] == 1001  # one byte past the cap is all that was read


def test_html_tree_too_large():
    page = html(body="<div>" + "<span>a</span>" * 500 + "</div>")
    small_tree = replace(OPTIONS, extraction=replace(OPTIONS.extraction, max_tree_size=100))
    (doc,), _ = convert(write_warc([Response("http://tree.example/", page)]), small_tree)
    assert doc["reason"] == "too_large" and "elements" in doc["detail"]


def test_extraction_timeout_is_a_removal_not_a_failure():
    (doc,), summary = convert(write_warc([Response("http://slow.example/", html())]),
                              replace(OPTIONS, extraction_timeout_seconds=1e-6))
    assert doc["reason"] == "extraction_timeout" and summary["error"] is None


def test_truncated_payload_is_kept_and_flagged_by_default_or_removed_when_asked():
    data = write_warc([Response("http://cut.example/", html(), content_length=len(html()) + 5000)])
    (doc,), _ = convert(data)
    assert doc["reason"] is None and doc["scores"]["truncated"] == 1.0
    (doc,), summary = convert(data, replace(OPTIONS, skip_truncated=True))
    assert doc["reason"] == "truncated" and summary["removed_by_reason"] == {"truncated": 1}


def test_a_stream_cut_mid_record_keeps_what_came_before_and_counts_the_break():
    data = write_warc([Response(f"http://p{i}.example/", html(f"Page {i}")) for i in range(5)])
    cut = data[:doc_offset(data, 3) + 40]  # inside the fourth record's gzip member
    rows, summary = convert(cut)
    assert [r["url"] for r in rows if r["reason"] is None] == [f"http://p{i}.example/" for i in range(3)]
    assert summary["skipped_by_reason"] == {"corrupt_stream": 1}
    assert "truncated" in summary["error"]


def test_a_payload_that_fails_to_decompress_is_a_processing_error_then_a_corrupt_stream():
    rng = random.Random(7)  # incompressible text, so the damaged byte lies deep inside the payload
    words = "".join("<p>" + " ".join("".join(rng.choice(string.ascii_lowercase) for _ in range(rng.randint(2, 9)))
                                     for _ in range(40)) + ".</p>" for _ in range(600))
    data = bytearray(write_warc([Response("http://ok.example/", html("ok")),
                                 Response("http://bad.example/", html("bad", body=words))]))
    data[doc_offset(bytes(data), 1) + 50_000] ^= 0xFF
    rows, summary = convert(bytes(data), replace(OPTIONS, max_html_bytes=10_000_000))
    assert [r["reason"] for r in rows] == [None, "processing_error"]
    assert rows[1]["detail"].startswith("CorruptArchive") and rows[1]["text"] == ""
    assert summary["skipped_by_reason"] == {"corrupt_stream": 1} and summary["removed_by_reason"] == {"processing_error": 1}


def test_unreadable_file_summary():
    row = unreadable_file_row("/nowhere/x.warc.gz", FileNotFoundError("No such file"))
    summary = json.loads(row["file_summary"])
    assert summary["skipped_by_reason"] == {"unreadable_file": 1} and "FileNotFoundError" in summary["error"]
    assert summary["records"] == 0 and summary["html_records"] == 0


SAMPLE = (WARCS / "ccbot-2019-12-single.warc.gz").read_bytes()
SYNTHETIC = write_warc([Response("http://a.example/", html()), ("request", "http://a.example/"),
                        Response("http://b.example/", html("B"), content_type=None)], is_part_of="CC-MAIN-2021-04")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from([SAMPLE, SYNTHETIC]), st.data())
def test_processing_never_raises_and_always_accounts(original, draw):
    """Any cut or corruption of a real file: the file's rows end with a summary whose counts add up."""
    data = bytearray(original)
    if draw.draw(st.booleans(), label="cut"):
        data = data[:draw.draw(st.integers(0, len(data)), label="length")]
    for position in draw.draw(st.lists(st.integers(0, max(len(data) - 1, 0)), max_size=4), label="flips"):
        if data:
            data[position] ^= draw.draw(st.integers(1, 255), label="mask")
    rows, summary = convert(bytes(data))
    removed = sum(summary["removed_by_reason"].values())
    assert summary["html_records"] == len(rows) == summary["kept"] + removed
    assert summary["records"] == summary["html_records"] + sum(summary["skipped_by_reason"].values()) \
        - summary["skipped_by_reason"].get("corrupt_stream", 0)
