"""The payload of an HTTP body as a WARC record stores it: chunked framing and content codings undone
by what the bytes ARE, not only by what the headers claim.

Crawlers keep bodies as they came over the wire (chunked, gzip, br, zstd), while web archives'
`id_` captures hand out bodies already decoded under the original headers, and some servers send
compressed bytes they never declare. fastwarc's auto-decoding raises mid-read when a declared coding
was already undone (killing the rest of the file) and warcio cannot read brotli with Google's
`brotli` installed, so decoding is done here: chunk-size lines, gzip/zlib/zstd magic, and brotli or
raw deflate tried only when declared or when the bytes are not text. Every decoder stops at
limit + 1 output bytes, so a bomb costs no more memory than a page at the size cap.
"""
from __future__ import annotations

import io
import re
import zlib
from dataclasses import dataclass

import brotli
import zstandard

from corpusforge.udfs.http_head import Head, header_values

MAX_CODING_LAYERS = 3  # gzip inside gzip happens; more is an attack, not a server

_BOM = b"\xef\xbb\xbf"
_CHUNK_LINE = re.compile(rb"([0-9A-Fa-f]{1,8})[ \t]*(?:;[^\r\n]{0,1024})?\r?\n")
_CONTROL = bytes(b for b in range(32) if b not in (9, 10, 12, 13, 27))
_KNOWN_CODINGS = {"gzip": "gzip", "x-gzip": "gzip", "deflate": "deflate", "x-deflate": "deflate", "br": "br",
                  "zstd": "zstd"}
_NO_HEAD = Head(None)


@dataclass(frozen=True)
class Body:
    """A decoded body. `data` holds at most limit + 1 bytes: one more than the cap means too large."""
    data: bytes
    repairs: tuple[str, ...] = ()
    decodings: tuple[str, ...] = ()
    refused: str | None = None
    too_large: bool = False
    truncated: bool = False  # the bytes end early (chunk or compressed stream cut, or Content-Length)


def looks_textual(data: bytes) -> bool:
    """Text or markup, not compressed bytes: starts like markup, or few C0 control bytes up front."""
    head = data[:1024]
    if not head or head.startswith((_BOM, b"\xff\xfe", b"\xfe\xff")) or head.lstrip()[:1] == b"<":
        return True
    return len(head) - len(head.translate(None, _CONTROL)) <= len(head) // 100


def decode_body(body: bytes, head: Head | None, limit: int) -> Body:
    """The payload of a message body (`head`: its HTTP head, None when there is none to go by).
    Never raises; `data` never holds more than limit + 1 bytes."""
    head = head or _NO_HEAD
    if len(body) > limit:
        return Body(body[:limit + 1], too_large=True)
    repairs: list[str] = []
    decodings: list[str] = []
    transfer = _tokens(header_values(head, "Transfer-Encoding")[0])
    content = _tokens(header_values(head, "Content-Encoding")[0])

    data, state = _undo_chunking(body, "chunked" in transfer, limit, repairs, decodings)
    if state == "too_large":
        return Body(data[:limit + 1], tuple(repairs), tuple(decodings), too_large=True)
    truncated = state == "truncated"

    declared = [c for c in transfer if c != "chunked"] + content  # gzip in Transfer-Encoding is rare but legal
    data, state, refused = _undo_codings(data, declared, limit, repairs, decodings)
    if refused or state == "too_large":
        return Body(data[:limit + 1], tuple(repairs), tuple(decodings), refused=refused, too_large=state == "too_large")
    truncated = truncated or state == "truncated"

    if "chunked" not in transfer and _check_content_length(head, len(body), repairs):
        truncated = True
    if len(data) > limit:
        return Body(data[:limit + 1], tuple(repairs), tuple(decodings), too_large=True, truncated=truncated)
    return Body(data, tuple(repairs), tuple(decodings), truncated=truncated)


def _tokens(values: list[str]) -> list[str]:
    tokens = [t.strip().lower() for value in values for t in value.split(",")]
    return [t for t in tokens if t and t != "identity"]


def _undo_chunking(data: bytes, declared: bool, limit: int, repairs: list[str],
                   decodings: list[str]) -> tuple[bytes, str]:
    """Chunk framing removed when present. Undeclared framing must be complete or span several chunks:
    a plain body that merely starts with a hex word and a newline ("cafe\\n…") is one truncated chunk."""
    dechunked, state, chunks = _dechunk(data, limit)
    accept = state != "not_chunked" if declared else \
        state in ("ok", "too_large") or (state == "truncated" and chunks >= 2)
    if not accept:
        if declared:
            repairs.append("transfer_encoding_already_decoded")
        return data, "ok"
    decodings.append("dechunked")
    if not declared:
        repairs.append("chunked_undeclared")
    if state == "truncated":
        repairs.append("chunked_truncated")
    elif state == "broken":
        repairs.append("chunked_framing_broken")
    return dechunked, state


def _dechunk(data: bytes, limit: int) -> tuple[bytes, str, int]:
    """(payload, state, chunks read): state is ok | truncated | broken | too_large | not_chunked."""
    out = bytearray()
    pos = chunks = 0
    while True:
        line = _CHUNK_LINE.match(data, pos)
        if line is None:
            if chunks == 0:
                return b"", "not_chunked", 0
            if pos >= len(data):
                return bytes(out), "truncated", chunks
            return bytes(out) + data[pos:], "broken", chunks
        size = int(line.group(1), 16)
        if size == 0:
            if chunks == 0 and data[line.end():].strip():
                return b"", "not_chunked", 0  # "0" then text: a plain body that starts with a zero
            return bytes(out), "ok", chunks
        pos = line.end()
        piece = data[pos:pos + size]
        out += piece
        pos += size
        chunks += 1
        if len(out) > limit:
            return bytes(out[:limit + 1]), "too_large", chunks
        if len(piece) < size:
            return bytes(out), "truncated", chunks
        if data.startswith(b"\r\n", pos):
            pos += 2
        elif data.startswith(b"\n", pos):
            pos += 1
        elif pos >= len(data):
            return bytes(out), "truncated", chunks
        elif chunks == 1:
            return b"", "not_chunked", 0
        else:
            return bytes(out) + data[pos:], "broken", chunks


def _undo_codings(data: bytes, declared: list[str], limit: int, repairs: list[str],
                  decodings: list[str]) -> tuple[bytes, str, str | None]:
    """(data, state, refusal): up to MAX_CODING_LAYERS codings undone, outermost first, by magic
    bytes, then by the declaration, then by trial. A declared coding on text bytes was already undone
    by the archiver; on bytes that are not text and do not decode it is refused."""
    pending = list(reversed(declared))
    state = "ok"
    for _ in range(MAX_CODING_LAYERS):
        claim = pending.pop(0) if pending else None
        result = _decode_one(data, claim, limit, repairs, decodings)
        if result is None:
            if claim is not None and not looks_textual(data):
                return data, state, ("content_encoding_undecodable" if claim in _KNOWN_CODINGS
                                     else "content_encoding_unsupported")
            if claim is not None:
                _note(repairs, "content_encoding_already_decoded")
            break
        data, layer_state = result
        if layer_state == "too_large":
            return data, "too_large", None
        if layer_state in ("truncated", "corrupt"):
            _note(repairs, "encoded_body_truncated" if layer_state == "truncated" else "encoded_body_corrupt")
            state = "truncated"
        if looks_textual(data) and not pending:
            break
    return data, state, None


def _sniff_coding(data: bytes) -> str | None:
    if data[:3] == b"\x1f\x8b\x08":
        return "gzip"
    if len(data) >= 2 and data[0] & 0x0F == 8 and data[0] >> 4 <= 7 and (data[0] << 8 | data[1]) % 31 == 0:
        return "deflate"
    if data[:4] == b"\x28\xb5\x2f\xfd":
        return "zstd"
    return None


def _decode_one(data: bytes, claim: str | None, limit: int, repairs: list[str],
                decodings: list[str]) -> tuple[bytes, str] | None:
    """(decoded, state) of one coding layer, or None when no decoder applies."""
    if not data:
        return None
    claimed = _KNOWN_CODINGS.get(claim) if claim else None
    sniffed = _sniff_coding(data)
    candidates = [sniffed] if sniffed else []
    if claimed == "br":
        candidates.append("br")
    elif claimed == "deflate":
        candidates.append("raw_deflate")
    elif claim is None and not looks_textual(data):  # brotli and raw deflate have no magic bytes
        candidates += ["br", "raw_deflate"]
    for name in candidates:
        out, state = _DECODERS[name](data, limit)
        # Garbage that merely starts like a zlib header must not replace a page: a layer counts when
        # it decodes to text, or when magic bytes announced it and it decoded cleanly.
        if state != "fail" and out and (looks_textual(out) or (name == sniffed and state in ("ok", "too_large"))):
            _note(decodings, f"decoded_{name}")
            if claim is None:
                _note(repairs, "content_encoding_undeclared")
            elif claimed != ("deflate" if name == "raw_deflate" else name):
                _note(repairs, "content_encoding_mislabelled")
            return out, state
    return None


def _inflate(data: bytes, limit: int, wbits: int, step: int = 65536) -> tuple[bytes, str]:
    """Bounded zlib/gzip/raw inflate fed in slices, every gzip member in turn. A corrupt stream is
    decoded again in 64-byte slices so that what decoded before the damage is kept (zlib drops a
    slice's output when it raises)."""
    out = bytearray()
    inflater = zlib.decompressobj(wbits)
    pos = 0
    try:
        while True:
            if inflater.unconsumed_tail:
                piece = inflater.unconsumed_tail
            else:
                piece, pos = data[pos:pos + step], pos + step
                if not piece:
                    return bytes(out), ("truncated" if out else "fail")
            out += inflater.decompress(piece, limit + 1 - len(out))
            if len(out) > limit:
                return bytes(out[:limit + 1]), "too_large"
            if inflater.eof:
                rest = inflater.unused_data + data[pos:]
                if not (wbits & 16 and rest[:2] == b"\x1f\x8b"):
                    return bytes(out), "ok"
                data, pos, inflater = rest, 0, zlib.decompressobj(wbits)  # another gzip member follows
    except zlib.error:
        if step > 64:  # rare path: salvage what precedes the damage
            return _inflate(data, limit, wbits, 64)
        return bytes(out), ("corrupt" if out else "fail")


def _unbrotli(data: bytes, limit: int) -> tuple[bytes, str]:
    out = bytearray()
    decoder = brotli.Decompressor()
    try:
        out += decoder.process(data, output_buffer_limit=limit + 1)
        while len(out) <= limit and not decoder.is_finished() and not decoder.can_accept_more_data():
            out += decoder.process(b"", output_buffer_limit=limit + 1 - len(out))
    except brotli.error:
        return bytes(out[:limit + 1]), ("corrupt" if out else "fail")
    if len(out) > limit:
        return bytes(out[:limit + 1]), "too_large"
    return bytes(out), ("ok" if decoder.is_finished() else ("truncated" if out else "fail"))


def _unzstd(data: bytes, limit: int) -> tuple[bytes, str]:
    try:
        with zstandard.ZstdDecompressor().stream_reader(io.BytesIO(data)) as reader:
            out = reader.read(limit + 1)
    except zstandard.ZstdError:
        return b"", "fail"
    return out, ("too_large" if len(out) > limit else "ok")


_DECODERS = {
    "gzip": lambda data, limit: _inflate(data, limit, zlib.MAX_WBITS | 16),
    "deflate": lambda data, limit: _inflate(data, limit, zlib.MAX_WBITS),
    "raw_deflate": lambda data, limit: _inflate(data, limit, -zlib.MAX_WBITS),
    "br": _unbrotli,
    "zstd": _unzstd,
}


def _check_content_length(head: Head, body_bytes: int, repairs: list[str]) -> bool:
    """Content-Length checked against the bytes present, never obeyed (the WARC record's length frames
    the body). True when fewer bytes than declared mean a cut body — not when the archiver decoded
    the body and left the length stale."""
    lengths, _ = header_values(head, "Content-Length", archive_fallback=False)
    values = {v.strip() for v in lengths}
    parsed = {int(v) for v in values if v.isdigit()}
    if any(not v.isdigit() for v in values):
        repairs.append("content_length_invalid")
    if len(parsed) > 1:
        repairs.append("content_length_conflict")
        return False
    if not parsed:
        return False
    declared = parsed.pop()
    if declared > body_bytes:
        repairs.append("content_length_exceeds_body")
        return not {"content_encoding_already_decoded", "transfer_encoding_already_decoded"} & set(repairs)
    if declared < body_bytes:
        repairs.append("content_length_below_body")
    return False


def _note(names: list[str], name: str) -> None:
    if name not in names:
        names.append(name)
