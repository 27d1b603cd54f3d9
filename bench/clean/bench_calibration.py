"""Clean's calibrated thresholds against the published ones, on pages people judged (the issue-12 table).

1. Format (`corpusforge format`, cached in --work) over every WARC of ../shared/data/warc and the
   Skywork WARC rebuilt by bench/clean/build_skywork_warc.py (its bytes are checked).
2. The labels of resources/labels/clean-pages joined on (WARC file base name, WARC-Record-ID), split
   into the calibration and held-out halves exactly as `corpusforge calibrate` splits them.
3. Clean's decision (udfs/cleaning.Cleaner: what the stage runs) on every labelled page under the
   thresholds before calibration (bench/clean/thresholds_before_calibration.yaml) and under the shipped
   conf/default.yaml, in the same run: keep pages kept and remove pages removed, per language and
   half; the host that dominates the Chinese keep pages apart; the pages of warc/built (article and
   forum pages with a gold text), Chinese and non-Chinese.
4. Optionally (--long) the real long documents of ../shared/data/long, which are all coherent:
   how many each conf keeps, per domain, and the rules that remove them.

Usage: nice .venv/bin/python bench/clean/bench_calibration.py [--work DIR] [--long]
"""
from __future__ import annotations

import argparse
import collections
import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # bench/, for common.py

from common import ROOT, SHARED  # noqa: E402

from corpusforge.conf import load_config  # noqa: E402
from corpusforge.jobs import calibrate as calibrate_job  # noqa: E402
from corpusforge.jobs.storage import Storage  # noqa: E402
from corpusforge.udfs import calibration as cal  # noqa: E402
from corpusforge.udfs.cleaning import Cleaner, settings_from_conf  # noqa: E402
from corpusforge.udfs.language import detect_language  # noqa: E402

HERE = Path(__file__).resolve().parent
LABELS = ROOT / "resources" / "labels" / "clean-pages" / "labels.jsonl"
BEFORE = HERE / "thresholds_before_calibration.yaml"
SKYWORK_MD5 = "acc5d801b6399b4ff9e80f13b16a4965"
CHINESE = ("zh", "zh-Hant")
BUILT = ("magic-html-benchmark.warc.gz", "gne-chinese-news.warc.gz", "article-extraction-benchmark.warc.gz")
DOMINANT_ZH_HOST = "m.jiemian.com"   # 240 of the 356 Chinese keep pages (the Skywork documents)


def format_output(work: Path) -> Path:
    """Format over every shared WARC plus the Skywork WARC, once (reused while _SUCCESS is there)."""
    skywork = work / "skywork-zh-general.warc.gz"
    if not skywork.exists():
        subprocess.run([sys.executable, str(HERE / "build_skywork_warc.py"),
                        str(SHARED / "text" / "skywork-zh-general.jsonl"), str(skywork)], check=True)
    digest = hashlib.md5(skywork.read_bytes()).hexdigest()
    if digest != SKYWORK_MD5:
        raise SystemExit(f"{skywork}: md5 {digest}, expected {SKYWORK_MD5} (the labelled bytes)")
    out = work / "format_labelled"
    if not (out / "_SUCCESS").exists():
        warcs = sorted(str(p) for p in (SHARED / "warc").rglob("*") if p.is_file() and ".warc" in p.name
                       or p.name.endswith(".arc.gz"))
        warcs = [w for w in warcs if not w.endswith((".jsonl", ".wet.gz"))]
        print(f"format {len(warcs)} shared archives + Skywork → {out}", flush=True)
        done = subprocess.run([sys.executable, "-m", "corpusforge", "format", "--input", *warcs, str(skywork),
                               "--output", str(out), "--set", "spark.master=local[2]", "--set", "output.jsonl=false"],
                              cwd=ROOT, capture_output=True, text=True)
        if done.returncode != 0:
            raise SystemExit(f"corpusforge format failed:\n{done.stderr[-3000:]}")
    return out


def cleaners() -> dict[str, Cleaner]:
    shipped = load_config(None, [])
    section = shipped.clean.model_dump()
    before = dict(section, thresholds=yaml.safe_load(BEFORE.read_text(encoding="utf-8"))["clean"]["thresholds"])
    return {"before": Cleaner(settings_from_conf(before)), "after": Cleaner(settings_from_conf(section))}


def rate(kept: int, total: int) -> str:
    return f"{kept:>4}/{total:<4} {kept / total:6.1%}" if total else f"{'-':>16}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--work", default="/tmp/corpusforge-bench-calibration")
    parser.add_argument("--long", action="store_true", help="also the long documents of ../shared/data/long")
    args = parser.parse_args()
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    cfg = load_config(None, [])
    storage = Storage.of(cfg)
    labels, _ = calibrate_job.read_labels(str(LABELS), storage)
    documents, skipped = calibrate_job.read_pages(str(format_output(work)), labels, storage)
    pages, _ = calibrate_job.measure(cfg, labels, documents)
    split = cal.split_halves(pages, cfg.calibration.split_seed)
    judges = cleaners()
    verdicts = {name: {k: judge.clean(d["text"], d["language"], d.get("host"), d.get("url")).failed_rules
                       for k, d in documents.items()} for name, judge in judges.items()}
    print(f"{len(documents)} labelled pages ({dict(skipped) or 'none skipped'}); load {os.getloadavg()[0]:.1f}")

    def table(title: str, groups: dict[str, list[str]]) -> None:
        print(f"\n{title}")
        print(f"  {'pages':<34} {'keep kept before':>17} {'after':>17}   {'remove removed before':>22} {'after':>17}")
        for name, keys in groups.items():
            keep = [k for k in keys if labels[k]["label"] == cal.KEEP]
            remove = [k for k in keys if labels[k]["label"] == cal.REMOVE]
            cells = [rate(sum(not verdicts[w][k] for k in keep), len(keep)) for w in ("before", "after")]
            cells += [rate(sum(bool(verdicts[w][k]) for k in remove), len(remove)) for w in ("before", "after")]
            print(f"  {name:<34} {cells[0]:>17} {cells[1]:>17}   {cells[2]:>22} {cells[3]:>17}")

    def language_of(key: str) -> str:
        base = cal.language_base(documents[key]["language"])
        return base if base in ("zh", "en", "ja") else "other"

    for part in (cal.HELD_OUT, cal.CALIBRATE):
        keys = sorted(k for k in documents if split[k] == part)
        groups: dict[str, list[str]] = {}
        for language in ("zh", "en", "ja", "other"):
            groups[language] = [k for k in keys if language_of(k) == language]
        groups[f"zh without {DOMINANT_ZH_HOST}"] = [k for k in groups["zh"] if documents[k]["host"] != DOMINANT_ZH_HOST]
        groups[f"zh {DOMINANT_ZH_HOST}"] = [k for k in groups["zh"] if documents[k]["host"] == DOMINANT_ZH_HOST]
        groups["all"] = keys
        table(f"{part} half: Clean alone on labelled pages", groups)

    built = {k for k in documents if k.split("#", 1)[0] in BUILT}
    for part, chosen in (("held-out half", {k for k in built if split[k] == cal.HELD_OUT}), ("both halves", built)):
        groups = {}
        for zh in (True, False):
            name = "Chinese" if zh else "non-Chinese"
            members = sorted(k for k in chosen if (documents[k]["language"] in CHINESE) == zh)
            groups[name] = members
        table(f"warc/built pages (magic-html, gne, article-extraction-benchmark), {part}; "
              f"'keep kept' = the article pages (those labelled keep)", groups)
        for zh in (True, False):
            name = "Chinese" if zh else "non-Chinese"
            members = [k for k in chosen if (documents[k]["language"] in CHINESE) == zh]
            line = "  ".join(f"{w} {rate(sum(not verdicts[w][k] for k in members), len(members))}" for w in ("before", "after"))
            print(f"  {name:<12} all pages kept (the issue's 'today' figure): {line}")

    if args.long:
        long_documents(judges)


def long_documents(judges: dict[str, Cleaner]) -> None:
    """The real long documents: all coherent, so every removal is a false one."""
    print("\nlong documents of ../shared/data/long (all coherent): kept before → after, and the removing rules")
    totals = collections.Counter()
    for path in sorted((SHARED / "long").glob("*.jsonl")):
        kept, reasons, n = collections.Counter(), {w: collections.Counter() for w in judges}, 0
        for line in path.open(encoding="utf-8"):
            doc = json.loads(line)
            language = detect_language(doc["text"])[0]
            n += 1
            for name, judge in judges.items():
                cleaned = judge.clean(doc["text"], language, None, None)
                kept[name] += cleaned.keep
                if not cleaned.keep:
                    reasons[name][cleaned.reason] += 1
        totals["n"] += n
        for name in judges:
            totals[name] += kept[name]
        print(f"  {path.stem:<13} {n:>4} docs: kept {kept['before']:>3} → {kept['after']:>3}   "
              f"before: {dict(reasons['before'].most_common(3))}   after: {dict(reasons['after'].most_common(3))}", flush=True)
    print(f"  all           {totals['n']:>4} docs: kept {totals['before']:>3} → {totals['after']:>3}")


if __name__ == "__main__":
    main()
