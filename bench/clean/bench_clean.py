"""Clean stage benchmark: rule throughput vs DataTrove in the same run, and keep rates on real pages.

1. Format: the real pages of ../shared/data/warc/built (article, news and forum pages with gold main
   text) and the real crawl captures of ../shared/data/warc/real go through `corpusforge format`, each
   set apart (bench/common.py format_output: skipped when --work already holds a finished output).
2. Throughput, documents/s per core, on the same texts (every Format document of both): corpusforge's
   Clean rules (udfs/cleaning.py: normalisation + all rules, every rule evaluated on every document,
   as the stage does to record failed_rules and scores) in this process, against DataTrove's
   GopherQuality + GopherRepetition + C4Quality + FineWebQuality filters (published defaults, English
   tokenizer, early exit as in a DataTrove pipeline) in a subprocess of its own virtualenv
   (bench/clean/datatrove_filters.py). Both are single-threaded; per core = documents / CPU seconds.
3. The Clean stage itself (`corpusforge clean`, Spark local mode) on both Format outputs: keep rates
   for Chinese and non-Chinese pages, per source file and page type, and the top removal reasons
   per language. As a check that CJK text is measured right, the rules also run on the gold main text
   of the magic-html pages: Chinese and non-Chinese gold articles should keep alike.

Usage: .venv/bin/python bench/clean/bench_clean.py [--work DIR] [--repeat 3] [--cores 2]
"""
from __future__ import annotations

import argparse
import collections
import json
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # bench/, for common.py

import pyarrow.parquet as pq  # noqa: E402

from common import DATATROVE_PYTHON, ROOT, SHARED, format_output  # noqa: E402

from corpusforge.conf import load_config  # noqa: E402
from corpusforge.udfs.cleaning import Cleaner, settings_from_conf  # noqa: E402
from corpusforge.udfs.language import detect_language  # noqa: E402

WARCS = SHARED / "warc"
DATATROVE_FILTERS = Path(__file__).resolve().parent / "datatrove_filters.py"
CHINESE = ("zh", "zh-Hant")


def corpusforge(*args: str, cores: int) -> None:
    cmd = [sys.executable, "-m", "corpusforge", *args, "--set", f"spark.master=local[{cores}]"]
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(args[:1])} failed:\n{done.stderr[-3000:]}")


def throughput(texts_file: Path, rows: list[dict], repeat: int) -> dict:
    cleaner = Cleaner(settings_from_conf(load_config(None, []).clean.model_dump()))
    for row in rows[:20]:  # warm-up: character table, jieba dictionary, pattern caches
        cleaner.clean(row["text"], row["language"], row["host"], row["url"])
    started = time.process_time()
    for _ in range(repeat):
        kept = sum(cleaner.clean(r["text"], r["language"], r["host"], r["url"]).keep for r in rows)
    ours_cpu = time.process_time() - started
    ours = {"documents": len(rows) * repeat, "kept": kept, "cpu_seconds": ours_cpu}
    if not DATATROVE_PYTHON.exists():
        print(f"DataTrove baseline skipped: {DATATROVE_PYTHON} missing (see bench/clean/datatrove_filters.py)")
        return {"corpusforge": ours}
    done = subprocess.run([str(DATATROVE_PYTHON), str(DATATROVE_FILTERS), str(texts_file),
                           "--repeat", str(repeat)], capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"DataTrove baseline failed:\n{done.stderr[-3000:]}")
    theirs = json.loads(done.stdout.strip().splitlines()[-1])
    return {"corpusforge": ours, "datatrove": theirs}


def stage_keep_rates(format_dir: Path, work: Path, name: str, cores: int) -> tuple[dict, list[dict], list[dict]]:
    out = work / f"clean_{name}"
    started = time.monotonic()
    corpusforge("clean", "--input", str(format_dir), "--output", str(out), cores=cores)
    wall = time.monotonic() - started
    stats = json.loads((out / "_stats.json").read_text())
    stats["wall_seconds_with_startup"] = round(wall, 1)
    cols = ["id", "language", "warc_file", "warc_record_id", "reason"]
    kept = pq.read_table(out / "kept", columns=cols[:4]).to_pylist()
    removed = pq.read_table(out / "removed", columns=cols).to_pylist()
    return stats, kept, removed


def group_of(language: str | None) -> str:
    return "Chinese" if language in CHINESE else "non-Chinese"


def print_keep_rates(title: str, kept: list[dict], removed: list[dict], page_types: dict[str, str]) -> None:
    print(f"\n{title}")
    table: dict[tuple, list[int]] = collections.defaultdict(lambda: [0, 0])
    for rows, is_kept in ((kept, 1), (removed, 0)):
        for r in rows:
            source = Path(r["warc_file"]).name.replace(".warc.gz", "")
            ptype = page_types.get(r["warc_record_id"], "")
            for key in ((group_of(r["language"]), "all files", ""), (group_of(r["language"]), source, ptype)):
                table[key][0] += is_kept
                table[key][1] += 1
    print(f"  {'pages':<12} {'source':<46} {'type':<8} {'kept':>6} {'of':>5} {'rate':>7}")
    for (group, source, ptype), (k, n) in sorted(table.items(), key=lambda kv: (kv[0][1] != "all files", kv[0])):
        print(f"  {group:<12} {source:<46} {ptype:<8} {k:>6} {n:>5} {k / n:>7.1%}")
    by_language: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    totals = collections.Counter(r["language"] for r in kept + removed)
    for r in removed:
        by_language[r["language"]][r["reason"]] += 1
    print("  top removal reasons per language (first failing rule):")
    for language, total in totals.most_common(8):
        reasons = ", ".join(f"{reason} {n}" for reason, n in by_language[language].most_common(4)) or "-"
        removed_n = sum(by_language[language].values())
        print(f"    {language:<8} {removed_n:>4}/{total:<4} removed: {reasons}")


def gold_check(cleaner: Cleaner) -> None:
    """The rules on the gold main text of magic-html: Chinese vs non-Chinese articles and forums."""
    path = WARCS / "built" / "magic-html-benchmark.groundtruth.jsonl"
    table: dict[tuple, list[int]] = collections.defaultdict(lambda: [0, 0])
    reasons: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    for line in path.open(encoding="utf-8"):
        gold = json.loads(line)
        language = detect_language(gold["gold_main_content"])[0]
        verdict = cleaner.clean(gold["gold_main_content"], language, None, gold["url"])
        key = (group_of(language), gold["page_type"])
        table[key][0] += verdict.keep
        table[key][1] += 1
        if not verdict.keep:
            reasons[key[0]][verdict.reason] += 1
    print("\nrules on the GOLD main text of magic-html (extraction noise removed):")
    for (group, ptype), (k, n) in sorted(table.items()):
        print(f"  {group:<12} {ptype:<8} {k:>4}/{n:<4} {k / n:>6.1%} kept")
    for group, counter in sorted(reasons.items()):
        print(f"  {group}: {', '.join(f'{r} {n}' for r, n in counter.most_common(5))}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--work", default="/tmp/corpusforge-bench-clean")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--cores", type=int, default=2)
    args = parser.parse_args()
    if not WARCS.is_dir():
        raise SystemExit(f"{WARCS} is not present")
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    formats = {name: format_output(work, (name,), args.cores) for name in ("built", "real")}

    rows = []
    for name, path in formats.items():
        rows += pq.read_table(path / "kept", columns=["id", "text", "language", "host", "url"]).to_pylist()
    texts_file = work / "texts.jsonl"
    with texts_file.open("w", encoding="utf-8") as handle:
        for r in rows:
            handle.write(json.dumps({"id": r["id"], "text": r["text"]}, ensure_ascii=False) + "\n")
    chars = sum(len(r["text"]) for r in rows)
    zh = sum(r["language"] in CHINESE for r in rows)
    print(f"\nthroughput on {len(rows)} Format documents ({zh} Chinese, {chars / len(rows):,.0f} chars mean), "
          f"×{args.repeat}, one process each, CPU time (os load {os.getloadavg()[0]:.1f}):")
    result = throughput(texts_file, rows, args.repeat)
    ours = result["corpusforge"]
    ours_rate = ours["documents"] / ours["cpu_seconds"]
    print(f"  corpusforge Clean rules (normalise + 46 rules, all evaluated): {ours_rate:8.1f} docs/s per core "
          f"({ours['cpu_seconds']:.2f} CPU s, kept {ours['kept']}/{len(rows)} per pass)")
    if "datatrove" in result:
        theirs = result["datatrove"]
        theirs_rate = theirs["documents"] / theirs["cpu_seconds"]
        print(f"  DataTrove Gopher quality + repetition + C4 + FineWeb (early exit): {theirs_rate:8.1f} docs/s per core "
              f"({theirs['cpu_seconds']:.2f} CPU s, kept {theirs['kept']}/{len(rows)} per pass)")
        print(f"  ratio corpusforge / DataTrove: {ours_rate / theirs_rate:.1f}x (goal ≥ 2x)")

    magic = WARCS / "built" / "magic-html-benchmark.groundtruth.jsonl"
    page_types = {json.loads(line)["warc_record_id"]: json.loads(line)["page_type"] for line in magic.open()}
    for name, path in formats.items():
        stats, kept, removed = stage_keep_rates(path, work, name, args.cores)
        docs_per_s = stats["input_docs"] / stats["seconds"] if stats["seconds"] else 0
        print(f"\nClean stage on warc/{name}: {stats['input_docs']} in, {stats['kept_docs']} kept, "
              f"{stats['removed_docs']} removed; stage {stats['seconds']:.1f}s ({docs_per_s:.1f} docs/s on "
              f"local[{args.cores}], Spark overhead included); normalised: "
              f"{json.dumps(stats['normalised_by_reason'])}")
        print_keep_rates(f"keep rates, warc/{name}:", kept, removed, page_types)
    gold_check(Cleaner(settings_from_conf(load_config(None, []).clean.model_dump())))


if __name__ == "__main__":
    main()
