"""`corpusforge calibrate`: Clean's thresholds fitted to pages people judged (udfs/calibration.py).

Reads a label file (JSONL: warc_file, warc_record_id, label keep|remove, reason) and a Format output,
joins them on (WARC file base name, WARC-Record-ID) — not on `id`, which hashes the record's offset —
measures every labelled page with Clean's rules under the current conf, calibrates on one half and
reports both, and writes the proposed thresholds as a conf overlay to review and pass with --conf.

No Spark: a labelled set is what people can read (thousands of pages, not millions), so the pages
are read with Arrow, filtered on their record ids, and measured in this process.
"""
from __future__ import annotations

import hashlib
import json
import math
import time
from collections import Counter
from typing import Any, get_args

from corpusforge.conf import Config
from corpusforge.conf.schema import CleanThresholds, Share
from corpusforge.jobs.stage import InputError
from corpusforge.jobs.storage import Storage, fs_path, join
from corpusforge.udfs import calibration as cal
from corpusforge.udfs.clean_rules import RULE_NAMES
from corpusforge.udfs.cleaning import Cleaner, settings_from_conf
from corpusforge.udfs.overrides import OverrideTable
from corpusforge.udfs.urls import host_of

LABEL_FIELDS = ("warc_file", "warc_record_id", "label")
PAGE_COLUMNS = ["warc_file", "warc_record_id", "language", "host", "url", "text"]


def read_labels(path: str, storage: Storage) -> tuple[dict[str, dict], Counter]:
    """page key → label row; duplicates of the same judgement are counted, conflicting ones refused."""
    text = storage.read_text(path)
    if text is None:
        raise InputError(f"label file {path} does not exist. Fix: pass --labels FILE (JSONL: warc_file, "
                         f"warc_record_id, label keep|remove, reason).")
    labels: dict[str, dict] = {}
    counts: Counter = Counter()
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as err:
            raise InputError(f"{path} line {number} is not JSON ({err}). Fix: one JSON object per line.") from None
        missing = [f for f in LABEL_FIELDS if not isinstance(row.get(f), str) or not row.get(f)]
        if missing:
            raise InputError(f"{path} line {number} lacks {', '.join(missing)}. Fix: every line needs "
                             f"warc_file, warc_record_id and label.")
        if row["label"] not in (cal.KEEP, cal.REMOVE):
            raise InputError(f"{path} line {number}: label {row['label']!r} is neither keep nor remove.")
        key = cal.page_key(row["warc_file"], row["warc_record_id"])
        if key in labels:
            if labels[key]["label"] != row["label"]:
                raise InputError(f"{path} line {number}: {key} is labelled both keep and remove. Fix: settle it.")
            counts["duplicate_label"] += 1
            continue
        labels[key] = row
    return labels, counts


def read_pages(format_dir: str, labels: dict[str, dict], storage: Storage) -> tuple[dict[str, dict], Counter]:
    """The labelled documents of a Format output (kept/), read with Arrow filtered on record ids;
    labels whose page is not there are counted by why (in Format's removed/, or absent)."""
    import pyarrow.dataset as ds
    from pyarrow.fs import FSSpecHandler, PyFileSystem

    record_ids = sorted({row["warc_record_id"] for row in labels.values()})

    def rows(part: str, columns: list[str]) -> list[dict]:
        path = join(format_dir, part)
        fs = storage.filesystem(path)
        if not fs.exists(fs_path(path)):
            return []
        local = fs_path(path).split("://", 1)[-1]
        dataset = ds.dataset(local, format="parquet", filesystem=PyFileSystem(FSSpecHandler(fs)),
                             exclude_invalid_files=True)
        return dataset.to_table(filter=ds.field("warc_record_id").isin(record_ids), columns=columns).to_pylist()

    if not storage.exists(join(format_dir, "_SUCCESS")):
        raise InputError(f"{format_dir} is not a finished Format output (no _SUCCESS). "
                         f"Fix: run `corpusforge format --input … --output {format_dir}` first.")
    found: dict[str, dict] = {}
    for row in rows("kept", PAGE_COLUMNS):
        key = cal.page_key(row["warc_file"], row["warc_record_id"])
        if key in labels:
            found.setdefault(key, row)
    skipped: Counter = Counter()
    removed = {cal.page_key(r["warc_file"], r["warc_record_id"]) for r in rows("removed", ["warc_file", "warc_record_id"])}
    for key in labels.keys() - found.keys():
        skipped["removed_by_format" if key in removed else "not_in_format_output"] += 1
    return found, skipped


def measure(cfg: Config, labels: dict[str, dict], documents: dict[str, dict]) -> tuple[list[cal.LabelledPage], dict[str, str]]:
    """Every labelled page measured by Clean's rules under cfg; the rules' bounds (min or max)."""
    cleaner = Cleaner(settings_from_conf(cfg.clean.model_dump()))
    pages, bounds = [], {}
    for key in sorted(documents):
        doc, row = documents[key], labels[key]
        host = doc.get("host") or (host_of(doc["url"]) if doc.get("url") else None)
        cleaned = cleaner.clean(doc["text"], doc["language"], host, doc.get("url"))
        for verdict in cleaned.verdicts:
            bounds.setdefault(verdict.rule, verdict.bound)
        # a rule that is off although its threshold is set does not judge this page (stop words of a
        # language without a list): NaN, so that no threshold makes it fail
        values = {v.rule: (math.nan if v.threshold is None and cleaned.thresholds[v.rule] is not None else v.value)
                  for v in cleaned.verdicts}
        pages.append(cal.LabelledPage(key, row["label"], doc["language"], host, doc.get("url"), values,
                                      row.get("reason")))
    return pages, {rule: bounds[rule] for rule in RULE_NAMES if rule in bounds}


def rule_limits() -> dict[str, float | None]:
    """The largest value conf accepts per rule: 1 for shares, none for counts and ratios."""
    return {rule: 1.0 if Share in get_args(CleanThresholds.model_fields[rule].annotation) else None
            for rule in RULE_NAMES}


def settings(cfg: Config) -> cal.CalibrationSettings:
    return cal.settings_from_conf(cfg.calibration.model_dump())


def run(cfg: Config, labels_path: str, format_dir: str, output: str, report_path: str | None = None) -> dict[str, Any]:
    """Calibrate, write the overlay (and the JSON report); returns the report."""
    started = time.monotonic()
    storage = Storage.of(cfg)
    labels, label_counts = read_labels(labels_path, storage)
    documents, skipped = read_pages(format_dir, labels, storage)
    if not documents:
        raise InputError(f"none of the {len(labels)} labelled pages is in {format_dir}/kept. Fix: run Format on "
                         f"the WARC files the labels name (warc_file), or pass their Format output.")
    pages, bounds = measure(cfg, labels, documents)
    chosen = settings(cfg)
    table = OverrideTable.from_conf(cfg.clean.thresholds.model_dump())
    result = cal.calibrate(pages, table, bounds, chosen, rule_limits())
    figures = cal.report(result, pages, bounds)
    digest = hashlib.sha256((storage.read_text(labels_path) or "").encode()).hexdigest()[:16]
    train = sum(1 for v in result.split.values() if v == cal.CALIBRATE)
    header = [
        "Clean thresholds proposed by `corpusforge calibrate`: review them, then apply with --conf THIS_FILE",
        "(merged over conf/default.yaml key by key).",
        f"labels: {labels_path} ({len(labels)} pages, sha256 {digest}…); Format output: {format_dir}",
        f"split: halves by a hash of each page (seed {chosen.split_seed!r}), stratified by language and label: "
        f"calibrated on {train} pages, {len(pages) - train} held out",
        f"caps: one rule removes at most {chosen.max_false_removal_per_rule:.1%} of a group's keep pages, all rules "
        f"together at most {chosen.max_false_removal:.1%}; a host counts for at most {chosen.max_pages_per_site} pages",
        "",
        "held-out half, keep pages kept / remove pages removed, before → after:",
        *[f"  {name:<8} {_pair(f, 'keep')}   {_pair(f, 'remove')}" for name, f in list(figures[cal.HELD_OUT].items())[:8]],
        "",
    ]
    overlay = cal.render_overlay(result, header)
    storage.write_text(output, overlay)
    out = {
        "labels": len(labels), "pages": len(pages), "skipped_labels": dict(skipped + label_counts),
        "split": {part: sum(1 for v in result.split.values() if v == part) for part in (cal.CALIBRATE, cal.HELD_OUT)},
        "settings": cfg.calibration.model_dump(), "overlay": output,
        "proposal": cal.overlay_entries(result),
        "groups": [{"group": g.group.name, "pages": g.pages, "keep_pages": g.keep_pages,
                    "remove_pages": g.remove_pages,
                    "moves": [{"rule": m.rule, "old": m.old, "new": m.new, "step": m.step, "note": m.note}
                              for m in g.moves]} for g in result.groups],
        "not_calibrated": result.skipped_groups, "figures": figures,
        "seconds": round(time.monotonic() - started, 1),
    }
    if report_path:
        storage.write_text(report_path, json.dumps(out, indent=2, ensure_ascii=False))
    return out


def _pair(figure: dict, label: str) -> str:
    before, after = figure["before"], figure["after"]
    if label == "keep":
        if not before["keep_pages"]:
            return f"{'keep -':<30}"
        return f"keep {before['keep_kept']:>3}/{before['keep_pages']:<3} {before['keep_rate']:6.1%} → {after['keep_rate']:6.1%}"
    if not before["remove_pages"]:
        return "remove -"
    return (f"remove {before['remove_removed']:>3}/{before['remove_pages']:<3} {before['remove_rate']:6.1%} → "
            f"{after['remove_rate']:6.1%}")


def summary(out: dict[str, Any], top_languages: int = 4) -> str:
    """The report as text: keep and catch rates per language and half, then per rule and language the
    false removals and catches on the held-out half, then the moves."""
    lines = [f"{out['pages']} labelled pages measured ({out['labels']} labels; skipped: "
             f"{json.dumps(out['skipped_labels']) if out['skipped_labels'] else 'none'}); "
             f"calibrated on {out['split'][cal.CALIBRATE]}, held out {out['split'][cal.HELD_OUT]}", ""]
    for part in (cal.CALIBRATE, cal.HELD_OUT):
        lines.append(f"{part} half: keep pages kept, remove pages removed (before → after)")
        for name, f in out["figures"][part].items():
            lines.append(f"  {name:<8} {_pair(f, 'keep')}   {_pair(f, 'remove')}")
        lines.append("")
    held = out["figures"][cal.HELD_OUT]
    names = [n for n in held if n != "all"][:top_languages] + ["all"]
    lines.append("held-out half, per rule: false removals (keep pages it removes) / catches (remove pages), "
                 "before → after, each rule alone")
    lines.append(f"  {'rule':<38}" + "".join(f"{n:>22}" for n in names))
    rules = sorted({r for n in names for key in ("rules_before", "rules_after") for r in held[n][key]},
                   key=RULE_NAMES.index)
    for rule in rules:
        cells = []
        for n in names:
            b = held[n]["rules_before"].get(rule, {"false_removals": 0, "catches": 0})
            a = held[n]["rules_after"].get(rule, {"false_removals": 0, "catches": 0})
            cells.append(f"{b['false_removals']}→{a['false_removals']} / {b['catches']}→{a['catches']}")
        lines.append(f"  {rule:<38}" + "".join(f"{c:>22}" for c in cells))
    lines.append("")
    for g in out["groups"]:
        lines.append(f"{g['group']}: {g['pages']} pages ({g['keep_pages']} keep, {g['remove_pages']} remove), "
                     f"{len(g['moves'])} changes")
        for m in g["moves"]:
            lines.append(f"  {m['rule']:<38} {json.dumps(m['old']):>8} → {json.dumps(m['new']):<8} {m['step']}: {m['note']}")
    for name, why in sorted(out["not_calibrated"].items()):
        lines.append(f"not calibrated: {name}: {why}")
    lines.append(f"overlay written to {out['overlay']} ({out['seconds']} s)")
    return "\n".join(lines)

