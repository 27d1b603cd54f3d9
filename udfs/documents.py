"""Format data: one archive file in, documents out — the report's "decompress, parse, extract, detect
the language, assign an id" applied record by record.

Every record ends in exactly one place: a kept document, a removed document with its reason (an
HTML page that yielded no text), or a counted skip (a record that is not an HTML page, or cannot be
read). The file's summary row carries the counts — and what the reader had to repair, by kind, with
a sample of the first bytes of records it could not read — so the driver can prove nothing was lost
and a user can see why.
"""
from __future__ import annotations

import json
import posixpath
import time
from collections import Counter
from dataclasses import dataclass, field, replace
from typing import BinaryIO, Callable, Iterator

from corpusforge.udfs.dumps import dump_from_text, dump_order
from corpusforge.udfs.extraction import ExtractionOptions, TreeTooLarge, extract_main_text
from corpusforge.udfs.html_decoding import decode_html, looks_binary, looks_like_html
from corpusforge.udfs.ids import document_id
from corpusforge.udfs.language import detect_language
from corpusforge.udfs.repairs import SAMPLED_SKIP_REASONS, escaped_sample
from corpusforge.udfs.time_limit import TimeLimitExceeded, time_limit
from corpusforge.udfs.urls import host_of, registered_domain
from corpusforge.udfs.warc_records import (ArchiveRecord, CorruptArchive, HttpReading, iter_records,
                                           read_warcinfo_fields)

DOCUMENT_FIELDS = ("id", "url", "host", "domain", "dump", "dump_order", "warc_file", "warc_record_id",
                   "warc_date", "archive_url", "language", "language_score", "title", "text", "scores")


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
    reading: HttpReading = HttpReading()  # its max_body_bytes is max_html_bytes, whatever it says
    sample_bytes: int = 64         # first bytes kept per unreadable record in skip_samples
    samples_per_reason: int = 3    # samples kept per skip reason and file


@dataclass
class FileSummary:
    """What became of every record of one archive file, and what the reader repaired on the way."""
    warc_file: str
    dump: str | None = None
    records: int = 0
    html_records: int = 0
    kept: int = 0
    removed_by_reason: Counter = field(default_factory=Counter)
    skipped_by_reason: Counter = field(default_factory=Counter)
    repaired_records: int = 0
    repaired_by_kind: Counter = field(default_factory=Counter)
    decoded_by_kind: Counter = field(default_factory=Counter)
    skip_samples: dict = field(default_factory=dict)
    error: str | None = None
    seconds: float = 0.0

    def count_reading(self, repairs: tuple[str, ...], decodings: tuple[str, ...] = ()) -> None:
        if repairs:
            self.repaired_records += 1
            self.repaired_by_kind.update(set(repairs))
        self.decoded_by_kind.update(set(decodings))

    def sample_skip(self, reason: str, record: ArchiveRecord, sample_bytes: int, per_reason: int) -> None:
        """Keep a bounded sample of the first bytes of a record that could not be read."""
        samples = self.skip_samples.setdefault(reason, [])
        if len(samples) < per_reason:
            samples.append({"offset": record.offset, "record_id": record.record_id,
                            "first_bytes": escaped_sample(record.block_start, sample_bytes)})

    def to_json(self) -> str:
        return json.dumps({
            "warc_file": self.warc_file, "dump": self.dump, "records": self.records,
            "html_records": self.html_records, "kept": self.kept,
            "removed_by_reason": dict(self.removed_by_reason),
            "skipped_by_reason": dict(self.skipped_by_reason),
            "repaired_records": self.repaired_records,
            "repaired_by_kind": dict(self.repaired_by_kind),
            "decoded_by_kind": dict(self.decoded_by_kind),
            "skip_samples": self.skip_samples,
            "error": self.error, "seconds": round(self.seconds, 3),
        }, sort_keys=True)


class ArchiveToDocuments:
    """Turns one archive file into rows: documents (kept or removed with a reason), then a summary row.

    Rows are plain dicts with the DOCUMENT_FIELDS plus `reason` (None when kept), `detail` (what a
    removal's reason does not say) and `file_summary` (JSON, only on the last row). Each repair the
    reader made is in the document's scores as `repair_<kind>` = 1.0 (udfs/repairs.py names them).
    With extract=False the HTML is decoded and checked but not extracted (`corpusforge inspect`):
    a document that would go to trafilatura is kept with no text.
    """

    def __init__(self, options: FormatOptions, extract: bool = True):
        self.options = options
        self.extract = extract

    def rows(self, stream: BinaryIO, warc_file: str,
             observe: Callable[[ArchiveRecord, dict | None, str | None], None] | None = None) -> Iterator[dict]:
        """`observe(record, row, skip)`, when given, sees every record with its document row or skip reason."""
        started = time.monotonic()
        name = posixpath.basename(warc_file.rstrip("/"))
        summary = FileSummary(warc_file=warc_file, dump=dump_from_text(warc_file))
        options = self.options
        reading = replace(options.reading, max_body_bytes=options.max_html_bytes)
        try:
            for record in iter_records(stream, name, quirks_mode=options.quirks_mode, reading=reading):
                summary.records += 1
                if record.kind == "warcinfo" and summary.dump is None:
                    summary.dump = dump_from_text(read_warcinfo_fields(record).get("isPartOf"))
                skip = self.skip_reason(record)
                if skip is not None:
                    summary.skipped_by_reason[skip] += 1
                    summary.count_reading(record.repairs)
                    if skip in SAMPLED_SKIP_REASONS:
                        summary.sample_skip(skip, record, options.sample_bytes, options.samples_per_reason)
                    if observe is not None:
                        observe(record, None, skip)
                    continue
                summary.html_records += 1
                row = self.document(record, name, summary.dump)
                if row["reason"] is None:
                    summary.kept += 1
                else:
                    summary.removed_by_reason[row["reason"]] += 1
                body = record.body  # None when reading the body failed (a processing_error)
                summary.count_reading(record.repairs + (body.repairs if body else ()), body.decodings if body else ())
                if observe is not None:
                    observe(record, row, None)
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
        if record.refused is not None:
            return record.refused
        if not record.is_document:
            return "non_http" if record.kind == "response" else f"{record.kind}_record"
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
        # A page captured through a web archive is dated by its capture, not by the dump of the re-crawl.
        captured = any(kind.startswith("capture_time_from_") for kind in record.repairs)
        order_dump = None if captured else dump
        row = {
            "id": document_id(warc_name, record.offset, record.record_id),
            "url": url, "host": host, "domain": registered_domain(host),
            "dump": dump, "dump_order": dump_order(order_dump, record.date),
            "warc_file": warc_name, "warc_record_id": record.record_id, "warc_date": record.date,
            "archive_url": record.archive_url,
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
        body = record.read_body()  # chunking and codings undone, at most max_html_bytes + 1 bytes
        for kind in record.repairs + body.repairs:
            row["scores"][f"repair_{kind}"] = 1.0
        payload = body.data
        row["scores"]["html_bytes"] = float(len(payload))
        if body.too_large:
            if body.decodings:
                row["detail"] = "Content-Encoding expands past format.max_html_bytes"
            return "too_large"
        if body.refused is not None:
            row["detail"] = f"first bytes of the body: {escaped_sample(payload, options.sample_bytes)}"
            return body.refused
        if not payload.strip():
            return "empty_payload"
        if record.truncated or body.truncated:
            row["scores"]["truncated"] = 1.0
            if options.skip_truncated:
                return "truncated"
        if record.content_type is None and not looks_like_html(payload):
            return "non_html_payload"
        if looks_binary(payload, options.max_binary_ratio):
            return "undecodable"
        if not self.extract:
            return None
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
