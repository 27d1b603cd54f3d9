"""Stable document ids: the same record of the same WARC file gets the same id on every run.

The id hashes the file's base name (not its full path, so moving data between buckets keeps ids),
the record's byte offset and its WARC-Record-ID; none depends on partitioning or task order.
"""
from __future__ import annotations

import hashlib


def document_id(warc_name: str, offset: int, record_id: str | None) -> str:
    key = f"{warc_name}\x00{offset}\x00{record_id or ''}".encode("utf-8", "surrogatepass")
    return hashlib.blake2b(key, digest_size=16).hexdigest()
