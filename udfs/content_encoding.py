"""Undo an HTTP Content-Encoding (gzip, deflate) that a crawler stored as it came over the wire.

Common Crawl stores payloads decoded, but other crawlers (wget, Heritrix) keep them encoded. The
decompressor stops at a byte limit, so a gzip bomb (kilobytes that expand to gigabytes) costs no
more memory than a page at the size cap and ends up removed as too_large.
"""
from __future__ import annotations

import zlib

_GZIP_MAGIC = b"\x1f\x8b"


def is_encoded(payload: bytes, content_encoding: str | None) -> bool:
    encoding = (content_encoding or "").strip().lower()
    return payload[:2] == _GZIP_MAGIC or encoding in ("gzip", "x-gzip", "deflate")


def decode_content(payload: bytes, content_encoding: str | None, limit: int) -> bytes:
    """At most limit + 1 decoded bytes (one more than the cap tells the caller it was exceeded);
    the payload unchanged when it is not actually encoded the way it claims."""
    if not is_encoded(payload, content_encoding):
        return payload
    for wbits in (zlib.MAX_WBITS | 32, zlib.MAX_WBITS, -zlib.MAX_WBITS):  # gzip/zlib auto, zlib, raw deflate
        try:
            inflater = zlib.decompressobj(wbits)
            out = inflater.decompress(payload, limit + 1)
            return out
        except zlib.error:
            continue
    return payload
