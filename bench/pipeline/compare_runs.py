"""Are two `corpusforge run` outputs the same? Stage by stage: the kept ids and texts, every removed
id with its reason, and the counts of _stats.json — exactly; classifier and rule scores to a tolerance
(float32 inference is not bitwise reproducible across batch neighbours).

The check behind "behaviour unchanged" claims (a refactor, a faster path): run the same command with
the old and the new code into two directories, then

    .venv/bin/python bench/pipeline/compare_runs.py OLD_RUN NEW_RUN [--stages format clean …] [--tolerance 1e-5]

It prints one line per stage and exits 1 at the first difference it cannot accept.

When the extraction itself changed (another trafilatura setting), the stages after Format differ
where their input text did: then every document of each stage is counted by its decision (kept, or
removed with which reason) before and after, and the changed decisions are split by whether the
document's Format text changed (explained by the extraction) or not (a real behaviour change):

    .venv/bin/python bench/pipeline/compare_runs.py OLD_RUN NEW_RUN --count-decisions
"""
from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

import pyarrow.parquet as pq

COUNTS = ("input_docs", "kept_docs", "removed_docs", "removed_by_reason", "kept_by_language")


def table(path: Path, columns: list[str]) -> dict[str, dict]:
    """id → row of a Spark Parquet output folder (its _SUCCESS and .crc files are skipped by Arrow)."""
    dataset = pq.ParquetDataset(path)
    chosen = [c for c in columns if c in dataset.schema.names]
    return {row["id"]: row for row in dataset.read(columns=chosen).to_pylist()}


def score_differences(old: dict, new: dict, tolerance: float) -> list[str]:
    problems = []
    a, b = dict(old.get("scores") or []), dict(new.get("scores") or [])
    if set(a) != set(b):
        problems.append(f"score keys differ: {sorted(set(a) ^ set(b))}")
    for key in set(a) & set(b):
        x, y = a[key], b[key]
        if not ((math.isnan(x) and math.isnan(y)) or abs(x - y) <= tolerance):
            problems.append(f"score {key}: {x} vs {y}")
    return problems


def compare_stage(old: Path, new: Path, tolerance: float) -> list[str]:
    problems = []
    old_stats = json.loads((old / "_stats.json").read_text())
    new_stats = json.loads((new / "_stats.json").read_text())
    for key in COUNTS:
        if old_stats.get(key) != new_stats.get(key):
            problems.append(f"_stats.json {key}: {old_stats.get(key)} vs {new_stats.get(key)}")
    for part, columns in (("kept", ["id", "text", "scores"]), ("removed", ["id", "text", "reason", "scores"])):
        a, b = table(old / part, columns), table(new / part, columns)
        if set(a) != set(b):
            only_old, only_new = sorted(set(a) - set(b)), sorted(set(b) - set(a))
            problems.append(f"{part}/ ids differ: {len(only_old)} only before {only_old[:3]}, "
                            f"{len(only_new)} only after {only_new[:3]}")
            continue
        for doc_id in a:
            for column in columns[1:]:
                if column == "scores":
                    problems += [f"{part}/{doc_id}: {p}" for p in score_differences(a[doc_id], b[doc_id], tolerance)]
                elif a[doc_id].get(column) != b[doc_id].get(column):
                    problems.append(f"{part}/{doc_id}: {column} differs")
    return problems


def decisions(stage_dir: Path) -> dict[str, str]:
    """id → 'kept' or the removal reason, for every document a stage judged."""
    out = {doc_id: "kept" for doc_id in table(stage_dir / "kept", ["id"])}
    out.update({doc_id: f"removed:{row.get('reason')}" for doc_id, row in table(stage_dir / "removed", ["id", "reason"]).items()})
    return out


def count_decisions(old: Path, new: Path, stages: list[str]) -> dict:
    """Per stage: documents judged on both sides, decisions changed, and of those how many had a
    different Format text (or exist on one side only); the Format stage itself: texts changed."""
    old_text = {k: v.get("text") for k, v in table(old / "format" / "kept", ["id", "text"]).items()}
    new_text = {k: v.get("text") for k, v in table(new / "format" / "kept", ["id", "text"]).items()}
    text_changed = {k for k in set(old_text) | set(new_text) if old_text.get(k) != new_text.get(k)}
    summary = {"format_texts_changed": len(text_changed), "format_docs": len(set(old_text) | set(new_text)),
               "stages": {}}
    for stage in stages:
        a, b = decisions(old / stage), decisions(new / stage)
        changed = {k for k in set(a) | set(b) if a.get(k) != b.get(k)}
        kept_a = {k for k, v in a.items() if v == "kept"}
        kept_b = {k for k, v in b.items() if v == "kept"}
        summary["stages"][stage] = {
            "judged_before": len(a), "judged_after": len(b), "decisions_changed": len(changed),
            "changed_with_text_changed": len(changed & text_changed),
            "changed_with_same_text": len(changed - text_changed),
            "kept_before": len(kept_a), "kept_after": len(kept_b),
            "kept_jaccard": len(kept_a & kept_b) / max(1, len(kept_a | kept_b)),
            "same_text_examples": sorted(changed - text_changed)[:5]}
    return summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("old", type=Path)
    parser.add_argument("new", type=Path)
    parser.add_argument("--stages", nargs="*", default=None, help="default: every stage folder both runs hold")
    parser.add_argument("--tolerance", type=float, default=1e-5, help="largest accepted score difference")
    parser.add_argument("--count-decisions", action="store_true",
                        help="count changed decisions per stage, split by whether the Format text changed")
    parser.add_argument("--json", type=Path, help="with --count-decisions: write the counts here")
    args = parser.parse_args(argv)
    stages = args.stages or sorted((p.name for p in args.old.iterdir() if (p / "_stats.json").is_file()
                                    and (args.new / p.name / "_stats.json").is_file()),
                                   key=lambda s: (args.old / s / "_SUCCESS").stat().st_mtime)
    if args.count_decisions:
        summary = count_decisions(args.old, args.new, stages)
        print(f"format: {summary['format_texts_changed']} of {summary['format_docs']} kept texts changed")
        for stage, row in summary["stages"].items():
            print(f"{stage:<9} judged {row['judged_before']:>6} → {row['judged_after']:>6}  kept {row['kept_before']:>6} → "
                  f"{row['kept_after']:>6} (Jaccard {row['kept_jaccard']:.4f})  decisions changed {row['decisions_changed']}: "
                  f"{row['changed_with_text_changed']} where the extracted text changed, "
                  f"{row['changed_with_same_text']} with the same text {row['same_text_examples']}")
        if args.json:
            args.json.write_text(json.dumps(summary, indent=1))
        return 1 if any(row["changed_with_same_text"] for row in summary["stages"].values()) else 0
    failed = False
    for stage in stages:
        problems = compare_stage(args.old / stage, args.new / stage, args.tolerance)
        stats = json.loads((args.new / stage / "_stats.json").read_text())
        verdict = "identical" if not problems else f"{len(problems)} differences"
        print(f"{stage:<9} {stats['input_docs']:>6} in {stats['kept_docs']:>6} kept {stats['removed_docs']:>6} removed"
              f"  {verdict}")
        for line in problems[:10]:
            print(f"    {line}")
        failed |= bool(problems)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
