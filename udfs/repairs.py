"""What the Format reader may do to a record that does not read strictly, by name.

Every repair of a malformed record is a short kind name: counted per file in `_stats.json`
(`repaired_by_kind`) and carried by the document as `scores["repair_<kind>"] = 1.0`. Decoding steps
that a well-formed record needs too (chunked framing, a declared compression) are counted apart
(`decoded_by_kind`): they say how a body was read, not that something was wrong with it. A record
that cannot be read is skipped (or, when its body alone fails, removed) with one of the reasons
below, and a short escaped sample of its first bytes is kept for diagnosis. docs/format-recovery.md
shows each defect with what other readers do with it.
"""
from __future__ import annotations

REPAIR_KINDS = {
    # the HTTP head
    "leading_bom": "a UTF-8 BOM before the status line",
    "leading_blank_lines": "blank lines or spaces before the status line",
    "bare_lf": "head lines end in LF instead of CRLF (all or some)",
    "status_line_doubled_protocol": "the protocol token repeated: `HTTP/1.1 HTTP/1.1 200 OK`",
    "status_line_missing_protocol": "no protocol token: `200 OK`",
    "status_line_protocol_case": "protocol not upper-case: `http/1.1`",
    "status_line_protocol_no_version": "protocol without version: `HTTP 200 OK`",
    "status_line_odd_protocol": "another protocol's token: `ICY 200 OK`",
    "status_line_extra_whitespace": "several spaces or tabs, or trailing space, in the status line",
    "status_line_repeated": "the whole status repeated with the same code",
    "status_line_missing": "headers but no status line",
    "no_http_head": "an HTML body stored without any HTTP head",
    "status_implied": "no status in the record: format.http.implied_status assumed for an HTML body",
    "head_missing_blank_line": "the head runs straight into the HTML without the empty line",
    "head_unterminated": "the block ends inside the head (no body)",
    "header_folded": "obsolete line folding (continuation lines) joined",
    "header_line_without_colon": "a head line that is no header, dropped",
    "header_name_whitespace": "spaces between a header name and its colon",
    "content_type_conflict": "several different Content-Types: left to payload sniffing",
    "charset_conflict": "several different charsets: left to the meta tag / detection",
    "archive_orig_headers": "only archive-prefixed headers (x-archive-orig-*) name the type/charset",
    # the HTTP body
    "chunked_undeclared": "chunk-size framing present but not declared: removed",
    "transfer_encoding_already_decoded": "chunked declared, but the archiver already removed the framing",
    "chunked_truncated": "the chunked body ends inside a chunk or without the last chunk",
    "chunked_framing_broken": "chunk framing breaks midway: decoded chunks kept, the rest appended",
    "content_encoding_undeclared": "compressed body without a Content-Encoding header",
    "content_encoding_already_decoded": "Content-Encoding declared, but the body is already plain",
    "content_encoding_mislabelled": "declared one coding, the bytes are another",
    "encoded_body_truncated": "the compressed stream ends early: what decoded is kept",
    "encoded_body_corrupt": "the compressed stream breaks midway: what decoded is kept",
    "content_length_conflict": "several different Content-Length values: ignored",
    "content_length_invalid": "a Content-Length that is not a number: ignored",
    "content_length_exceeds_body": "fewer bytes than Content-Length (truncated, or a stale header)",
    "content_length_below_body": "more bytes than Content-Length: all bytes of the record kept",
    # the WARC record
    "target_uri_spaces_escaped": "spaces in WARC-Target-URI percent-encoded",
    "target_uri_non_ascii_escaped": "non-ASCII in WARC-Target-URI percent-encoded (host to IDNA)",
    "target_uri_from_content_location": "no WARC-Target-URI: taken from an absolute Content-Location",
    "target_uri_from_canonical": "no WARC-Target-URI: taken from <link rel=canonical> / og:url",
    "warc_content_type_missing": "no WARC Content-Type: the block was sniffed",
    "warc_content_type_no_msgtype": "`application/http` without msgtype: read as a response",
    "warc_content_type_mislabelled": "a response record labelled with its payload's type, holding HTTP",
    "resource_record_as_document": "a resource record holding HTML: read as a document",
    # web-archive replays
    "replay_url_unwrapped": "the target is a web-archive replay URL: the original URL is used",
    "replay_url_from_link_header": "the original URL comes from the Memento `Link: <...>; rel=original`",
    "replay_inner_url_fixed": "the embedded URL had a collapsed `http:/`, was percent-encoded or schemeless",
    "capture_time_from_memento_datetime": "warc_date from the Memento-Datetime header",
    "capture_time_from_replay_timestamp": "warc_date from the replay URL's timestamp",
}

DECODING_STEPS = {
    "dechunked": "Transfer-Encoding: chunked framing removed",
    "decoded_gzip": "gzip body decoded",
    "decoded_deflate": "zlib-wrapped deflate body decoded",
    "decoded_raw_deflate": "raw deflate body decoded (what old IIS sends as `deflate`)",
    "decoded_br": "brotli body decoded",
    "decoded_zstd": "zstd body decoded",
}

# Records skipped because they cannot be read (besides `non_http`: a response that holds no HTTP).
READ_SKIP_REASONS = {
    "status_line_unparseable": "a status line is there but holds no readable 3-digit code",
    "status_line_ambiguous": "two different status codes in the status line",
    "no_http_head": "no HTTP head and the body is not HTML (or format.http.implied_status is null)",
    "head_too_long": "no end of head within format.http.max_head_bytes and the block is not HTML",
    "missing_target_uri": "a response without WARC-Target-URI and no URL in the page",
    "unreadable_record": "the reader failed on this record in a way no rule foresaw (see skip_samples)",
}
# HTML responses whose body cannot be decoded: removed documents (removed/ keeps them with the reason).
BODY_REMOVAL_REASONS = {
    "content_encoding_undecodable": "declared (or evident) compression that does not decode, body not text",
    "content_encoding_unsupported": "a coding this reader cannot undo (e.g. `compress`), body not text",
}
# Skips that keep a sample of the record's first bytes in _stats.json (skip_samples).
SAMPLED_SKIP_REASONS = frozenset(READ_SKIP_REASONS) | {"non_http"}


def escaped_sample(data: bytes, limit: int) -> str:
    """The first `limit` bytes as printable ASCII: \\r, \\n, \\t, \\\\ and \\xNN escapes (at most 4 chars a byte),
    so a sample in _stats.json shows exactly what the bytes were and never breaks a terminal."""
    out = []
    for byte in data[:limit]:
        if byte == 0x5C:
            out.append("\\\\")
        elif 0x20 <= byte < 0x7F:
            out.append(chr(byte))
        else:
            out.append({0x0D: "\\r", 0x0A: "\\n", 0x09: "\\t"}.get(byte) or f"\\x{byte:02x}")
    return "".join(out)
