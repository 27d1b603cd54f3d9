"""Turn an HTML payload's bytes into text: BOM, HTTP charset, meta charset, then detection.

Labels are mapped to WHATWG names by resiliparse (what browsers do), then widened to the superset
codecs browsers actually decode with (Shift_JIS → cp932, GBK → gb18030, …); otherwise pages that
use the vendor extensions of their declared charset come out with holes.
"""
from __future__ import annotations

import codecs
import re

from resiliparse.parse.encoding import detect_encoding, map_encoding_to_html5

_BOMS = ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"))
_SUPERSETS = {"shift_jis": "cp932", "euc_kr": "cp949", "gbk": "gb18030", "gb2312": "gb18030",
              "big5": "big5hkscs", "iso-8859-1": "cp1252", "ascii": "cp1252", "latin-1": "cp1252"}
_META_CHARSET = re.compile(
    rb"""<meta[^>]+?charset\s*=\s*["']?\s*([A-Za-z0-9_.:\-]+)""", re.IGNORECASE)
_SNIFF_BYTES = 4096


_CONTROL_BYTES = bytes(b for b in range(32) if b not in (9, 10, 12, 13, 27))


def looks_binary(payload: bytes, max_control_ratio: float) -> bool:
    """Images, archives and PDFs mislabelled as text/html are full of C0 control bytes (NUL and
    friends) that no text encoding but UTF-16/32 produces; those announce themselves with a BOM."""
    head = payload[:8192]
    if not head or head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return False
    controls = len(head) - len(head.translate(None, _CONTROL_BYTES))
    return controls / len(head) > max_control_ratio


def looks_like_html(payload: bytes) -> bool:
    """For records without a Content-Type: does the payload start like an HTML document?"""
    head = payload[:1024].lstrip().lower()
    return head.startswith((b"<!doctype html", b"<html", b"<head", b"<body", b"<?xml", b"<!--"))


def decode_html(payload: bytes, http_charset: str | None) -> tuple[str, str]:
    """(text, codec used). Never raises: a last resort decodes UTF-8 with replacement characters."""
    for bom, codec in _BOMS:
        if payload.startswith(bom):
            return payload[len(bom):].decode(codec, "replace"), codec
    for label in (http_charset, _meta_charset(payload)):
        codec = _codec_for(label)
        if codec is None:
            continue
        try:
            return payload.decode(codec), codec
        except UnicodeDecodeError:
            continue  # the declaration lies; fall through to the next source
    codec = _codec_for(detect_encoding(payload)) or "utf-8"
    try:
        return payload.decode(codec), codec
    except UnicodeDecodeError:
        return payload.decode("utf-8", "replace"), "utf-8"


def _meta_charset(payload: bytes) -> str | None:
    match = _META_CHARSET.search(payload[:_SNIFF_BYTES])
    return match.group(1).decode("ascii", "ignore") if match else None


def _codec_for(label: str | None) -> str | None:
    """Python codec for a web charset label, or None when the label is unknown or unusable."""
    if not label:
        return None
    label = label.strip().strip("'\"").lower()
    if not label:
        return None
    try:
        codecs.lookup(label)
    except (LookupError, ValueError):  # ValueError: a label with a NUL byte (a garbled HTTP header)
        mapped = map_encoding_to_html5(label)  # knows WHATWG aliases Python lacks (e.g. x-sjis)
        if not mapped or (mapped == "utf-8" and "utf" not in label):
            return None  # resiliparse maps unknown labels to utf-8; treat them as undeclared
        label = mapped
    name = codecs.lookup(map_encoding_to_html5(label) or label).name
    if name.startswith("utf-16") or name.startswith("utf-32"):
        return "utf-8"  # a UTF-16 declaration in an 8-bit stream is a lie (WHATWG rule); BOMs handled above
    return _SUPERSETS.get(name, name)
