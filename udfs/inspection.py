"""`corpusforge inspect`: what an archive holds and what Format makes of each record, without Spark.

The first tool to run on an archive that "loses pages": per file and in total, the record types,
HTTP statuses and content types, and the outcome of every record — a page read as is, a page read
with repairs (by kind), a removed page or a skipped record (by reason), with the first bytes of the
records that could not be read. The outcomes come from the Format stage's own code
(ArchiveToDocuments), so they are what `corpusforge format` does; without `extract` the pages are
decoded and checked but not run through trafilatura (fast, and enough to see every reading problem).
"""
from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from typing import BinaryIO

from corpusforge.udfs.documents import ArchiveToDocuments, FormatOptions
from corpusforge.udfs.warc_records import ArchiveRecord


@dataclass
class Inspection:
    """What one archive file (or several, for the total) holds and what became of its records."""
    file: str
    files: int = 1
    records: int = 0
    record_types: Counter = field(default_factory=Counter)
    http_statuses: Counter = field(default_factory=Counter)   # status, or "unreadable" (refused head)
    content_types: Counter = field(default_factory=Counter)   # of records with an HTTP status
    outcomes: Counter = field(default_factory=Counter)        # page_as_is, page_repaired, removed:…, skipped:…
    repaired_by_kind: Counter = field(default_factory=Counter)
    decoded_by_kind: Counter = field(default_factory=Counter)
    skip_samples: dict = field(default_factory=dict)
    errors: list = field(default_factory=list)
    seconds: float = 0.0

    def observe(self, record: ArchiveRecord, row: dict | None, skip: str | None) -> None:
        self.record_types[record.kind] += 1
        if record.status is not None:
            self.http_statuses[str(record.status)] += 1
            self.content_types[record.content_type or "(none)"] += 1
        elif record.refused is not None or (record.kind == "response" and skip == "non_http"):
            self.http_statuses["(unreadable)"] += 1
        if skip is not None:
            self.outcomes[f"skipped:{skip}"] += 1
        elif row["reason"] is not None:
            self.outcomes[f"removed:{row['reason']}"] += 1
        else:
            repaired = any(key.startswith("repair_") for key in row["scores"])
            self.outcomes["page_repaired" if repaired else "page_as_is"] += 1

    def add(self, other: "Inspection") -> None:
        self.files += other.files
        self.records += other.records
        for name in ("record_types", "http_statuses", "content_types", "outcomes", "repaired_by_kind",
                     "decoded_by_kind"):
            getattr(self, name).update(getattr(other, name))
        for reason, samples in other.skip_samples.items():
            kept = self.skip_samples.setdefault(reason, [])
            kept.extend({"file": other.file, **s} for s in samples[:max(0, 3 - len(kept))])
        self.errors.extend(other.errors)
        self.seconds += other.seconds

    def to_dict(self) -> dict:
        return {"file": self.file, "files": self.files, "records": self.records,
                **{name: dict(getattr(self, name).most_common()) for name in (
                    "record_types", "http_statuses", "content_types", "outcomes", "repaired_by_kind",
                    "decoded_by_kind")},
                "skip_samples": self.skip_samples, "errors": self.errors, "seconds": round(self.seconds, 3)}


def inspect_archive(stream: BinaryIO, path: str, options: FormatOptions, extract: bool = False) -> Inspection:
    """Every record of one archive through the Format stage's record logic; nothing kept but counts."""
    found = Inspection(file=path)
    summary = None
    for row in ArchiveToDocuments(options, extract=extract).rows(stream, path, observe=found.observe):
        if row["file_summary"] is not None:
            summary = json.loads(row["file_summary"])
    found.records = summary["records"]
    found.repaired_by_kind.update(summary["repaired_by_kind"])
    found.decoded_by_kind.update(summary["decoded_by_kind"])
    found.skip_samples = summary["skip_samples"]
    if summary["error"]:
        found.errors.append(f"{path}: {summary['error']}")
        found.outcomes["skipped:corrupt_stream"] += summary["skipped_by_reason"].get("corrupt_stream", 0)
    found.seconds = summary["seconds"]
    return found


def unreadable(path: str, error: Exception) -> Inspection:
    """A file that could not be opened, counted like Format counts it."""
    found = Inspection(file=path)
    found.outcomes["skipped:unreadable_file"] += 1
    found.errors.append(f"{path}: {type(error).__name__}: {error}"[:1000])
    return found


def render(inspection: Inspection, extract: bool) -> str:
    """A few lines a person reads: each count from most to least frequent, wrapped."""
    def line(label: str, counts: Counter) -> str:
        rows, current = [], f"  {label:<15}"
        for n, (key, count) in enumerate(counts.most_common()):
            item = f"{key} {count}" + (" ·" if n < len(counts) - 1 else "")
            if len(current) + len(item) > 110 and current.strip() != label:
                rows.append(current.rstrip())
                current = " " * 17
            current += item + " "
        return "\n".join([*rows, current.rstrip() if counts else current + "-"])

    lines = [f"{inspection.file}: {inspection.records} records"
             + (f" in {inspection.files} files" if inspection.files != 1 else "") + f", {inspection.seconds:.2f} s",
             line("record types", inspection.record_types),
             line("HTTP statuses", inspection.http_statuses),
             line("content types", inspection.content_types),
             line("outcomes", inspection.outcomes),
             line("repairs", inspection.repaired_by_kind),
             line("decoding", inspection.decoded_by_kind)]
    if not extract:
        lines.append(f"  {'':<15}(pages decoded and checked, not extracted: --extract adds the extraction's removals)")
    for reason, samples in inspection.skip_samples.items():
        for sample in samples:
            where = f"{sample['file']} " if "file" in sample else ""
            lines.append(f"  {'unreadable':<15}{reason} at {where}offset {sample['offset']}: {sample['first_bytes']}")
    lines.extend(f"  {'error':<15}{error}" for error in inspection.errors)
    return "\n".join(lines)
