"""Property-based fuzzing of the lenient HTTP reading: the head parser, body decoding, URL cleaning and
replay unwrapping, and the whole reader on records built from them.

Inputs are the HTTP blocks of the bundled real WARCs mutated the ways archives damage them — status
line tokens shuffled or replaced by bytes, header bytes edited and line endings changed, chunk framing
with random sizes, cuts and corruption, gzip/deflate/raw deflate/br/zstd bodies cut or bit-flipped,
random declarations — plus random bytes and text. The properties: nothing raises; a head has a
status exactly when it is not refused, and its body offset lies in the block; every repair and
refusal is a catalogued name; no decoder hands out more than limit + 1 bytes; every record of a file
built from such blocks is accounted for.

Budget: a few seconds in CI; CORPUSFORGE_FUZZ_EXAMPLES=N runs N examples per test (tests/support/fuzz.py).
"""
from __future__ import annotations

import gzip
import io
import zlib
from functools import lru_cache

import brotli
import zstandard
from fastwarc.warc import ArchiveIterator as FastIterator
from hypothesis import given
from hypothesis import strategies as st
from support.fuzz import assert_accounted, convert, fuzz_settings
from support.warcs import raw_record, record_blocks

from corpusforge.udfs.http_body import decode_body
from corpusforge.udfs.http_head import Head, content_type_of, parse_head
from corpusforge.udfs.replay_urls import unwrap_replay_url
from corpusforge.udfs.repairs import BODY_REMOVAL_REASONS, DECODING_STEPS, READ_SKIP_REASONS, REPAIR_KINDS
from corpusforge.udfs.urls import clean_target_uri, url_from_page

STATUS_TOKENS = ["HTTP/1.1", "HTTP/1.0", "http/1.1", "HTTP/2", "HTTP", "ICY", "200", "404", "301", "2OO", "999",
                 "OK", "Not Found", "", " ", "  ", "\t", "\xef\xbb\xbf", "HTTP/1.1 200", "\x00"]
CODINGS = ["gzip", "deflate", "raw_deflate", "br", "zstd", None]
ENCODERS = {"gzip": lambda b: gzip.compress(b, mtime=0), "deflate": zlib.compress, "br": brotli.compress,
            "zstd": lambda b: zstandard.ZstdCompressor().compress(b),
            "raw_deflate": lambda b: (lambda c: c.compress(b) + c.flush())(zlib.compressobj(6, zlib.DEFLATED, -15))}
SEEDS = ("CC-MAIN-2020-34-sample.warc.gz", "clueweb09-ja-quirks.warc.gz", "sample-0000.warc.gz",
         "ccbot-2019-12-single.warc.gz")


@lru_cache(maxsize=1)
def seed_blocks() -> list[bytes]:
    """Real HTTP blocks (every third response of the bundled WARCs), bodies cut to 20 KB for speed."""
    blocks = []
    for name in SEEDS:
        for kind, record in record_blocks(name):
            if kind != "response":
                continue
            rec = next(iter(FastIterator(io.BytesIO(record), parse_http=False, quirks_mode=True)))
            if "application/http" in (rec.headers.get("Content-Type") or ""):
                block = rec.reader.read()
                head = parse_head(block)
                if head.status is not None:
                    blocks.append(block[:head.body_offset + 20_000])
    return blocks[::3]


@st.composite
def mutated_block(draw) -> bytes:
    block = draw(st.sampled_from(seed_blocks()), label="seed")
    offset = parse_head(block).body_offset
    head, body = block[:offset], block[offset:]
    kind = draw(st.sampled_from(["status", "header_bytes", "chunks", "compression", "all"]), label="kind")
    if kind in ("status", "all"):
        tokens = draw(st.lists(st.sampled_from(STATUS_TOKENS), max_size=6))
        line = " ".join(tokens).encode("latin-1") if draw(st.booleans()) else draw(st.binary(max_size=40))
        head = line + b"\r\n" + (head.split(b"\n", 1)[1] if b"\n" in head else b"")
    if kind in ("header_bytes", "all"):
        edits = draw(st.lists(st.tuples(st.integers(0, max(len(head) - 1, 0)), st.binary(max_size=4),
                                        st.integers(0, 3)), max_size=6))
        buffer = bytearray(head)
        for at, insert, delete in edits:
            buffer[at:at + delete] = insert
        head = bytes(buffer).replace(b"\r\n", b"\n") if draw(st.booleans()) else bytes(buffer)
    declared = b""
    if kind in ("compression", "all"):
        coding = draw(st.sampled_from(CODINGS))
        if coding:
            body = ENCODERS[coding](body)
            if draw(st.booleans()):
                body = body[:draw(st.integers(0, len(body)))]
            if draw(st.booleans()) and body:
                at = draw(st.integers(0, len(body) - 1))
                body = body[:at] + bytes([body[at] ^ draw(st.integers(1, 255))]) + body[at + 1:]
        claim = draw(st.sampled_from(CODINGS + ["br, gzip", "compress", "identity"]))
        if claim:
            declared += b"Content-Encoding: " + claim.replace("raw_deflate", "deflate").encode() + b"\r\n"
    if kind in ("chunks", "all"):
        size = draw(st.integers(1, 5000))
        framed = b"".join(b"%x\r\n" % len(body[i:i + size]) + body[i:i + size] + b"\r\n"
                          for i in range(0, len(body), size)) + b"0\r\n\r\n"
        if draw(st.booleans()):
            framed = framed[:draw(st.integers(0, len(framed)))]
        if draw(st.booleans()) and framed:
            at = draw(st.integers(0, len(framed) - 1))
            framed = framed[:at] + draw(st.binary(min_size=1, max_size=3)) + framed[at + 1:]
        body = framed
        if draw(st.booleans()):
            declared += b"Transfer-Encoding: chunked\r\n"
    if declared and b"\r\n" in head:
        first, rest = head.split(b"\r\n", 1)
        head = first + b"\r\n" + declared + rest
    return head + body


def check_head(head: Head, block: bytes) -> None:
    assert 0 <= head.body_offset <= len(block)
    assert (head.status is None) == (head.refused is not None)
    assert head.status is None or 100 <= head.status <= 599
    assert set(head.repairs) <= set(REPAIR_KINDS)
    assert head.refused is None or head.refused in READ_SKIP_REASONS


@fuzz_settings(ci_examples=200)
@given(block=mutated_block(), limit=st.sampled_from([100, 5_000, 1_000_000]), at_eof=st.booleans())
def test_mutated_real_blocks_never_raise_and_stay_bounded(block, limit, at_eof):
    head = parse_head(block, at_eof=at_eof)
    check_head(head, block)
    content_type_of(head)
    body = decode_body(block[head.body_offset:], head, limit)
    assert len(body.data) <= limit + 1
    assert body.too_large or body.refused or len(body.data) <= limit
    assert set(body.repairs) <= set(REPAIR_KINDS) and set(body.decodings) <= set(DECODING_STEPS)
    assert body.refused is None or body.refused in BODY_REMOVAL_REASONS


@fuzz_settings(ci_examples=25)
@given(block=mutated_block(), uri=st.sampled_from([
    "http://example.com/", "<http://例子.中国/a b>", None,
    "https://web.archive.org/web/20220812230739id_/http:/x.com/"]),
    content_type=st.sampled_from(["application/http; msgtype=response", "application/http", None, "text/html"]),
    warc_type=st.sampled_from(["response", "resource", "revisit"]))
def test_records_built_from_mutated_blocks_are_always_accounted_for(block, uri, content_type, warc_type):
    data = raw_record(block, record_id="<urn:uuid:fuzz>", uri=uri, content_type=content_type, warc_type=warc_type)
    rows, summary = convert(data + data)  # twice: the second record is read after whatever the first did
    assert_accounted(rows, summary)
    assert summary["error"] is None and summary["records"] == 2
    assert set(summary["repaired_by_kind"]) <= set(REPAIR_KINDS)
    for row in rows:
        assert row["url"] is None or (row["url"].isascii() and " " not in row["url"])
        assert all(key[len("repair_"):] in REPAIR_KINDS for key in row["scores"] if key.startswith("repair_"))


@fuzz_settings(ci_examples=150)
@given(st.text(max_size=200), st.sampled_from(["", "https://web.archive.org/web/20220812230739id_/", "https://archive.ph/",
                                               "http://h/c/20220812230739/", "https://arquivo.pt/wayback/2019"]))
def test_url_functions_never_raise(text, prefix):
    replay = unwrap_replay_url(prefix + text, memento_datetime=text[:40], links=(text,))
    url, repairs = clean_target_uri(prefix + text)
    assert set(repairs) <= set(REPAIR_KINDS)
    for value in (url, replay.original_url if replay else None):
        assert value is None or (value.isascii() and " " not in value)
    url_from_page(text, text.encode("utf-8", "surrogatepass"))


@fuzz_settings(ci_examples=150)
@given(st.binary(max_size=3000), st.sampled_from(CODINGS + ["chunked"]), st.booleans())
def test_random_bytes_never_raise(data, coding, at_eof):
    head = parse_head(data, at_eof=at_eof)
    check_head(head, data)
    declared = Head(200, (("Transfer-Encoding", "chunked"),) if coding == "chunked" else
                    (("Content-Encoding", (coding or "br").replace("raw_deflate", "deflate")),))
    for candidate in (head, declared, None):
        assert len(decode_body(data[head.body_offset:], candidate, 1000).data) <= 1001
