"""Are two `corpusforge run` outputs the same? Stage by stage: the kept ids and texts, every removed
id with its reason, and the counts of _stats.json — exactly; classifier and rule scores to a tolerance
(float32 inference is not bitwise reproducible across batch neighbours).

The check behind "behaviour unchanged" claims (a refactor, a faster path): run the same command with
the old and the new code into two directories, then

    .venv/bin/python bench/pipeline/compare_runs.py OLD_RUN NEW_RUN [--stages format clean …] [--tolerance 1e-5]

It prints one line per stage and exits 1 at the first difference it cannot accept.
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("old", type=Path)
    parser.add_argument("new", type=Path)
    parser.add_argument("--stages", nargs="*", default=None, help="default: every stage folder both runs hold")
    parser.add_argument("--tolerance", type=float, default=1e-5, help="largest accepted score difference")
    args = parser.parse_args(argv)
    stages = args.stages or sorted((p.name for p in args.old.iterdir() if (p / "_stats.json").is_file()
                                    and (args.new / p.name / "_stats.json").is_file()),
                                   key=lambda s: (args.old / s / "_SUCCESS").stat().st_mtime)
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
