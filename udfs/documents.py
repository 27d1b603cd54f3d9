"""Format data: one archive file in, documents out — the report's "decompress, parse, extract, detect
the language, assign an id" applied record by record.

Every record ends in exactly one place: a kept document, a removed document with its reason (an
HTML page that yielded no text), or a counted skip (a record that is not an HTML page). The file's
summary row carries the counts, so the driver can prove nothing was lost.
"""
from __future__ import annotations

import json
import posixpath
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import BinaryIO, Iterator

from corpusforge.udfs.content_encoding import decode_content, is_encoded
from corpusforge.udfs.dumps import dump_from_text, dump_order
from corpusforge.udfs.extraction import ExtractionOptions, TreeTooLarge, extract_main_text
from corpusforge.udfs.html_decoding import decode_html, looks_binary, looks_like_html
from corpusforge.udfs.ids import document_id
from corpusforge.udfs.language import detect_language
from corpusforge.udfs.time_limit import TimeLimitExceeded, time_limit
from corpusforge.udfs.urls import host_of, registered_domain
from corpusforge.udfs.warc_records import ArchiveRecord, CorruptArchive, iter_records, read_warcinfo_fields

DOCUMENT_FIELDS = ("id", "url", "host", "domain", "dump", "dump_order", "warc_file", "warc_record_id",
                   "warc_date", "language", "language_score", "title", "text", "scores")


@dataclass(frozen=True)
class FormatOptions:
    max_html_bytes: int
    extraction_timeout_seconds: float
    skip_truncated: bool
    quirks_mode: bool
    accept_status: tuple[int, ...]
    html_content_types: tuple[str, ...]
    max_binary_ratio: float
    extraction: ExtractionOptions


@dataclass
class FileSummary:
    """What became of every record of one archive file."""
    warc_file: str
    dump: str | None = None
    records: int = 0
    html_records: int = 0
    kept: int = 0
    removed_by_reason: Counter = field(default_factory=Counter)
    skipped_by_reason: Counter = field(default_factory=Counter)
    error: str | None = None
    seconds: float = 0.0

    def to_json(self) -> str:
        return json.dumps({
            "warc_file": self.warc_file, "dump": self.dump, "records": self.records,
            "html_records": self.html_records, "kept": self.kept,
            "removed_by_reason": dict(self.removed_by_reason),
            "skipped_by_reason": dict(self.skipped_by_reason),
            "error": self.error, "seconds": round(self.seconds, 3),
        }, sort_keys=True)


class ArchiveToDocuments:
    """Turns one archive file into rows: documents (kept or removed with a reason), then a summary row.

    Rows are plain dicts with the DOCUMENT_FIELDS plus `reason` (None when kept), `detail` (what a
    removal's reason does not say) and `file_summary` (JSON, only on the last row).
    """

    def __init__(self, options: FormatOptions):
        self.options = options

    def rows(self, stream: BinaryIO, warc_file: str) -> Iterator[dict]:
        started = time.monotonic()
        name = posixpath.basename(warc_file.rstrip("/"))
        summary = FileSummary(warc_file=warc_file, dump=dump_from_text(warc_file))
        try:
            for record in iter_records(stream, name, quirks_mode=self.options.quirks_mode):
                summary.records += 1
                if record.kind == "warcinfo" and summary.dump is None:
                    summary.dump = dump_from_text(read_warcinfo_fields(record).get("isPartOf"))
                skip = self.skip_reason(record)
                if skip is not None:
                    summary.skipped_by_reason[skip] += 1
                    continue
                summary.html_records += 1
                row = self.document(record, name, summary.dump)
                if row["reason"] is None:
                    summary.kept += 1
                else:
                    summary.removed_by_reason[row["reason"]] += 1
                yield row
        except CorruptArchive as err:
            summary.skipped_by_reason["corrupt_stream"] += 1
            summary.error = f"corrupt archive after {summary.records} records: {err}"
        summary.seconds = time.monotonic() - started
        yield summary_row(summary)

    def skip_reason(self, record: ArchiveRecord) -> str | None:
        """Why a record is not an HTML page to extract, or None when it is one."""
        if record.kind == "revisit":
            return "revisit"
        if record.kind != "response":
            return f"{record.kind}_record"
        if record.status is None:
            return "non_http"
        if record.status not in self.options.accept_status:
            return "non_200"
        if record.content_type is not None and record.content_type not in self.options.html_content_types:
            return "non_html"
        return None

    def document(self, record: ArchiveRecord, warc_name: str, dump: str | None) -> dict:
        """The document of one HTML response record; `reason` says why it carries no text, if so."""
        url = record.url
        host = host_of(url)
        row = {
            "id": document_id(warc_name, record.offset, record.record_id),
            "url": url, "host": host, "domain": registered_domain(host),
            "dump": dump, "dump_order": dump_order(dump, record.date),
            "warc_file": warc_name, "warc_record_id": record.record_id, "warc_date": record.date,
            "language": None, "language_score": None, "title": None, "text": "",
            "scores": {}, "reason": None, "detail": None, "file_summary": None,
        }
        try:
            row["reason"] = self._fill_text(record, row)
        except Exception as err:  # noqa: BLE001 — a record never kills its file; the cause is kept
            row["reason"] = "processing_error"
            row["detail"] = f"{type(err).__name__}: {err}"[:500]
        return row

    def _fill_text(self, record: ArchiveRecord, row: dict) -> str | None:
        options = self.options
        payload = record.read_payload(options.max_html_bytes + 1)
        if len(payload) > options.max_html_bytes:
            row["scores"]["html_bytes"] = float(len(payload))
            return "too_large"
        if is_encoded(payload, record.content_encoding):
            payload = decode_content(payload, record.content_encoding, options.max_html_bytes)
        row["scores"]["html_bytes"] = float(len(payload))
        if len(payload) > options.max_html_bytes:
            row["detail"] = "Content-Encoding expands past format.max_html_bytes"
            return "too_large"
        if not payload.strip():
            return "empty_payload"
        if _is_truncated(record, payload):
            row["scores"]["truncated"] = 1.0
            if options.skip_truncated:
                return "truncated"
        if record.content_type is None and not looks_like_html(payload):
            return "non_html_payload"
        if looks_binary(payload, options.max_binary_ratio):
            return "undecodable"
        html, _codec = decode_html(payload, record.charset)
        try:
            with time_limit(options.extraction_timeout_seconds):
                title, text = extract_main_text(html, row["url"], options.extraction)
        except TimeLimitExceeded:
            return "extraction_timeout"
        except TreeTooLarge as err:
            row["detail"] = f"HTML tree of {err}"
            return "too_large"
        row["title"] = title
        if not text:
            return "extraction_empty"
        row["text"] = text
        language, share, reliable = detect_language(text)
        row["language"], row["language_score"] = language, share
        row["scores"]["language_reliable"] = 1.0 if reliable else 0.0
        return None


def summary_row(summary: FileSummary) -> dict:
    row = dict.fromkeys(DOCUMENT_FIELDS)
    row.update(warc_file=summary.warc_file, scores={}, reason=None, detail=None, file_summary=summary.to_json())
    return row


def unreadable_file_row(warc_file: str, error: Exception) -> dict:
    """The summary of a file that could not even be opened: counted, never fatal."""
    summary = FileSummary(warc_file=warc_file, dump=dump_from_text(warc_file))
    summary.skipped_by_reason["unreadable_file"] += 1
    summary.error = f"{type(error).__name__}: {error}"[:1000]
    return summary_row(summary)


def _is_truncated(record: ArchiveRecord, payload: bytes) -> bool:
    if record.truncated:
        return True
    declared = record.http_content_length
    return declared is not None and not record.content_encoding and len(payload) < declared
