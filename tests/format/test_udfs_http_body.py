"""HTTP bodies decoded by what the bytes are: chunk framing and codings declared, undeclared, already
undone by the archiver, truncated, corrupt, mislabelled — and every decoder bounded."""
import gzip
import zlib

import brotli
import pytest
import zstandard

from corpusforge.udfs.http_body import MAX_CODING_LAYERS, decode_body
from corpusforge.udfs.http_head import Head

HTML = (b"<!DOCTYPE html><html><head><title>T</title></head><body><article>"
        + b"<p>The archive keeps every page of the crawl so that researchers can read the web as it was.</p>" * 20
        + b"</article></body></html>")
ENCODERS = {"gzip": lambda b: gzip.compress(b, mtime=0), "deflate": zlib.compress, "br": brotli.compress,
            "zstd": lambda b: zstandard.ZstdCompressor().compress(b)}


def head(*headers: tuple[str, str]) -> Head:
    return Head(200, tuple(headers))


def chunk(body: bytes, size: int = 100) -> bytes:
    return b"".join(b"%x\r\n" % len(body[i:i + size]) + body[i:i + size] + b"\r\n"
                    for i in range(0, len(body), size)) + b"0\r\n\r\n"


def raw_deflate(body: bytes) -> bytes:
    compressor = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS)
    return compressor.compress(body) + compressor.flush()


@pytest.mark.parametrize("coding", sorted(ENCODERS))
def test_codings_declared_undeclared_and_already_decoded(coding):
    encoded = ENCODERS[coding](HTML)
    declared = decode_body(encoded, head(("Content-Encoding", coding)), 10**6)
    assert (declared.data, declared.repairs, declared.decodings) == (HTML, (), (f"decoded_{coding}",))
    undeclared = decode_body(encoded, head(), 10**6)
    assert (undeclared.data, undeclared.repairs) == (HTML, ("content_encoding_undeclared",))
    plain = decode_body(HTML, head(("Content-Encoding", coding)), 10**6)
    assert (plain.data, plain.repairs, plain.decodings) == (HTML, ("content_encoding_already_decoded",), ())


def test_raw_deflate_and_mislabelled_codings():
    raw = decode_body(raw_deflate(HTML), head(("Content-Encoding", "deflate")), 10**6)
    assert (raw.data, raw.repairs, raw.decodings) == (HTML, (), ("decoded_raw_deflate",))
    mislabelled = decode_body(gzip.compress(HTML), head(("Content-Encoding", "deflate")), 10**6)
    assert mislabelled.data == HTML and mislabelled.repairs == ("content_encoding_mislabelled",)


def test_chunked_variants():
    declared = decode_body(chunk(HTML), head(("Transfer-Encoding", "chunked")), 10**6)
    assert (declared.data, declared.repairs, declared.decodings) == (HTML, (), ("dechunked",))
    undeclared = decode_body(chunk(HTML), head(), 10**6)
    assert (undeclared.data, undeclared.repairs) == (HTML, ("chunked_undeclared",))
    plain = decode_body(HTML, head(("Transfer-Encoding", "chunked")), 10**6)
    assert (plain.data, plain.repairs) == (HTML, ("transfer_encoding_already_decoded",))
    both = decode_body(chunk(gzip.compress(HTML)), head(("Transfer-Encoding", "chunked"), ("Content-Encoding", "gzip")),
                       10**6)
    assert (both.data, both.decodings) == (HTML, ("dechunked", "decoded_gzip"))
    lf = chunk(HTML).replace(b"\r\n", b"\n")  # bare-LF framing
    assert decode_body(lf, head(("Transfer-Encoding", "chunked")), 10**6).data == HTML.replace(b"\r\n", b"\n")


def test_chunked_truncated_and_broken():
    framed = chunk(HTML)
    cut = decode_body(framed[:len(framed) // 2], head(("Transfer-Encoding", "chunked")), 10**6)
    assert cut.truncated and "chunked_truncated" in cut.repairs and HTML.startswith(cut.data)
    broken = decode_body(framed[:230] + b"zz\r\n" + framed[230:], head(("Transfer-Encoding", "chunked")), 10**6)
    assert "chunked_framing_broken" in broken.repairs and HTML[:100] in broken.data


@pytest.mark.parametrize("body", [b"cafe\r\n<html><p>a page that starts with a hex word</p></html>",
                                  b"0\r\n<html>zero</html>", b"a\n<p>x</p>" + b"y" * 100, b"<html>",
                                  b"x^ a text that starts like a zlib header " * 10])
def test_plain_bodies_are_not_mistaken_for_chunks_or_codings(body):
    found = decode_body(body, head(), 10**6)
    assert (found.data, found.repairs, found.decodings) == (body, (), ())


def test_an_empty_chunked_body():
    assert decode_body(b"0\r\n\r\n", head(("Transfer-Encoding", "chunked")), 100).data == b""


def test_truncated_and_corrupt_compressed_streams_keep_what_decoded():
    big = HTML * 50
    encoded = gzip.compress(big, mtime=0)
    cut = decode_body(encoded[:len(encoded) // 2], head(("Content-Encoding", "gzip")), 10**7)
    assert cut.truncated and "encoded_body_truncated" in cut.repairs and cut.data and big.startswith(cut.data)
    corrupt = bytearray(encoded)
    corrupt[len(corrupt) // 2] ^= 0xFF
    found = decode_body(bytes(corrupt), head(("Content-Encoding", "gzip")), 10**7)
    # deflate notices the damage some bytes late: right up to the flipped byte, then garbled
    assert found.data[:1000] == big[:1000] and "encoded_body_corrupt" in found.repairs and found.truncated


def test_several_gzip_members_are_all_decoded():
    members = gzip.compress(HTML[:500], mtime=0) + gzip.compress(HTML[500:], mtime=0)
    assert decode_body(members, head(("Content-Encoding", "gzip")), 10**6).data == HTML
    many = b"".join(gzip.compress(b"<p>x</p>", mtime=0) for _ in range(5000))  # no recursion per member
    assert decode_body(many, head(("Content-Encoding", "gzip")), 10**6).data == b"<p>x</p>" * 5000


@pytest.mark.parametrize("coding", sorted(ENCODERS) + ["raw_deflate", "chunked"])
def test_bombs_are_bounded(coding):
    bomb = b"<html>" + b" " * 20_000_000
    encoded = raw_deflate(bomb) if coding == "raw_deflate" else chunk(bomb, 1 << 20) if coding == "chunked" \
        else ENCODERS[coding](bomb)
    declared = {"raw_deflate": ("Content-Encoding", "deflate"), "chunked": ("Transfer-Encoding", "chunked")}.get(
        coding, ("Content-Encoding", coding))
    for found in (decode_body(encoded, head(declared), 100_000), decode_body(encoded, head(), 100_000)):
        assert found.too_large and len(found.data) == 100_001


def test_a_body_past_the_limit_is_not_decoded():
    found = decode_body(gzip.compress(HTML), head(("Content-Encoding", "gzip")), 10)
    assert found.too_large and found.decodings == () and len(found.data) == 11


def test_double_gzip_is_undone_but_layers_are_capped():
    twice = gzip.compress(gzip.compress(HTML))
    assert decode_body(twice, head(("Content-Encoding", "gzip")), 10**6).data == HTML
    layers = HTML
    for _ in range(MAX_CODING_LAYERS + 2):
        layers = gzip.compress(layers)
    assert decode_body(layers, head(("Content-Encoding", "gzip")), 10**6).data != HTML


def test_undecodable_and_unsupported_codings_are_refused():
    noise = bytes((i * 131 + 7) % 256 for i in range(3000))
    assert decode_body(noise, head(("Content-Encoding", "br")), 10**6).refused == "content_encoding_undecodable"
    assert decode_body(noise, head(("Content-Encoding", "gzip")), 10**6).refused == "content_encoding_undecodable"
    assert decode_body(noise, head(("Content-Encoding", "compress")), 10**6).refused == "content_encoding_unsupported"
    assert decode_body(HTML, head(("Content-Encoding", "compress")), 10**6).repairs == ("content_encoding_already_decoded",)
    undeclared = decode_body(noise, head(), 10**6)  # undeclared binary: left to the stage's binary check
    assert (undeclared.data, undeclared.refused) == (noise, None)


@pytest.mark.parametrize("lengths, repairs, truncated", [
    (["5"], ("content_length_below_body",), False),
    ([str(len(HTML) + 10)], ("content_length_exceeds_body",), True),
    ([str(len(HTML))], (), False),
    (["12abc"], ("content_length_invalid",), False),
    (["3", str(len(HTML))], ("content_length_conflict",), False),
])
def test_content_length_is_checked_never_obeyed(lengths, repairs, truncated):
    found = decode_body(HTML, head(*[("Content-Length", v) for v in lengths]), 10**6)
    assert (found.data, found.repairs, found.truncated) == (HTML, repairs, truncated)


def test_a_stale_length_after_the_archiver_decoded_is_no_truncation():
    found = decode_body(HTML, head(("Content-Encoding", "gzip"), ("Content-Length", str(len(HTML) * 2))), 10**6)
    assert "content_length_exceeds_body" in found.repairs and not found.truncated
