"""Shared by the hardening tests: real WARC records to mutate, a WARC writer for hostile pages, the
Format options of the default configuration, and the fuzz budget.

The fuzz tests run a bounded number of examples in CI (seconds); set CORPUSFORGE_FUZZ_EXAMPLES to run
a longer session by hand, e.g. `CORPUSFORGE_FUZZ_EXAMPLES=5000 .venv/bin/pytest -q
tests/test_hardening_fuzz.py --hypothesis-show-statistics` (the statistics say how many inputs ran).
"""
from __future__ import annotations

import gzip
import io
import json
import os
from functools import lru_cache
from pathlib import Path

from fastwarc.warc import ArchiveIterator, WarcRecordType
from hypothesis import HealthCheck, settings
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

DATA = Path(__file__).resolve().parent / "data" / "warc"
FUZZ_EXAMPLES = int(os.environ.get("CORPUSFORGE_FUZZ_EXAMPLES", "0") or 0)


def fuzz_settings(ci_examples: int) -> settings:
    """ci_examples in CI; CORPUSFORGE_FUZZ_EXAMPLES when set. No deadline: a slow example is not a bug
    here (the time bounds are checked by the pathological-input tests), an exception is."""
    return settings(max_examples=FUZZ_EXAMPLES or ci_examples, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                           HealthCheck.large_base_example])


@lru_cache(maxsize=None)
def record_blocks(name: str) -> tuple[tuple[str, bytes], ...]:
    """(kind, uncompressed bytes) of every record of a bundled real WARC file, in order."""
    plain = gzip.decompress((DATA / name).read_bytes())
    starts, kinds = [], []
    for record in ArchiveIterator(io.BytesIO(plain), record_types=WarcRecordType.any_type, parse_http=False):
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
    with (DATA / name).open("rb") as stream:
        for record in ArchiveIterator(stream, record_types=WarcRecordType.response, parse_http=True):
            if record.http_headers is not None and record.http_headers.status_code == 200 \
                    and (record.http_content_type or "").startswith("text/html"):
                pages.append((record.headers.get("WARC-Target-URI"), record.reader.read()))
                if len(pages) == count:
                    break
    return pages


def write_warc(pages: list[tuple[str, list[tuple[str, str]], bytes]], gzip_records: bool = True,
               first_id: int = 0) -> bytes:
    """A WARC file (warcio's writer) of HTTP 200 responses: (url, extra HTTP headers, body)."""
    out = io.BytesIO()
    writer = WARCWriter(out, gzip=gzip_records)
    for n, (url, headers, body) in enumerate(pages, start=first_id):
        http = StatusAndHeaders("200 OK", [("Content-Type", "text/html"), *headers], protocol="HTTP/1.1")
        writer.write_record(writer.create_warc_record(
            url, "response", payload=io.BytesIO(body), length=len(body), http_headers=http,
            warc_headers_dict={"WARC-Record-ID": f"<urn:uuid:00000000-0000-0000-0000-{n:012d}>",
                               "WARC-Date": "2024-05-20T10:00:00Z"}))
    return out.getvalue()


@lru_cache(maxsize=1)
def format_options():
    """The Format options of the bundled configuration (conf/default.yaml + conf/local.yaml)."""
    from corpusforge.conf import load_config
    from corpusforge.jobs.format import format_options as from_conf
    return from_conf(load_config(None, []))


def convert(data: bytes, options=None, name: str = "fuzz.warc.gz") -> tuple[list[dict], dict]:
    """Every row ArchiveToDocuments yields for one file: (document rows, the file's summary)."""
    from corpusforge.udfs.documents import ArchiveToDocuments
    rows = list(ArchiveToDocuments(options or format_options()).rows(io.BytesIO(data), f"/fuzz/{name}"))
    assert rows and rows[-1]["file_summary"] is not None, "the last row of a file is always its summary"
    assert all(r["file_summary"] is None for r in rows[:-1])
    return rows[:-1], json.loads(rows[-1]["file_summary"])


def assert_accounted(rows: list[dict], summary: dict) -> None:
    """Every record is a kept document, a removed one with a reason, or a counted skip."""
    removed = sum(summary["removed_by_reason"].values())
    assert summary["html_records"] == len(rows) == summary["kept"] + removed
    assert sum(r["reason"] is None for r in rows) == summary["kept"]
    assert all(r["reason"] for r in rows if r["reason"] is not None)
    broken = summary["skipped_by_reason"].get("corrupt_stream", 0)
    assert broken == (summary["error"] is not None)
    assert summary["records"] == summary["html_records"] + sum(summary["skipped_by_reason"].values()) - broken
