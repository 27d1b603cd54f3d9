"""Extraction quality of the Format stage vs the gold main text of ../shared/data/warc/built.

Token-level precision / recall / F1 of the extracted text against `*.groundtruth.jsonl` (keyed by
WARC-Record-ID), per language of the page: Chinese (the groundtruth's script guess `zh`), English
(the other pages whose gold text pycld2 reads as English) and other (Japanese and the rest). Tokens
are characters for CJK scripts (Chinese has no word boundaries; the few Japanese pages are treated
alike) and lower-cased words otherwise; overlap is counted as a bag of tokens.

Side by side in the same run, on the same decoded HTML:
  - ours:        udfs.documents with conf/default.yaml's Format settings (what the stage writes), and
                 with every trafilatura setting of --settings (favor precision / balanced / recall,
                 each with and without fast mode, i.e. without the readability and jusText fallbacks),
                 with the CPU each costs per page (the whole Format record work, extraction included);
  - all-text:    every visible text node of the page (resiliparse, main_content=False): the recall
                 ceiling and precision floor of "no extraction at all",
  - resiliparse: resiliparse's own main-content heuristic, another well-kept extractor.

Choosing a default among settings is tuning on these pages, so pages are split in two by a hash of
their record id: `tune` (choose there) and `held-out` (confirm there); both are printed, and all.

Usage: .venv/bin/python bench/format/bench_extraction_quality.py [--built ../shared/data/warc/built]
           [--settings default balanced balanced+fast precision precision+fast recall recall+fast]
           [--set KEY=VALUE ...] [--json PATH]
A setting is FAVOR[+fast] (or `default`: conf as it is, with --set applied).
"""
from __future__ import annotations

import argparse
import hashlib
import json
import re
import statistics
import sys
import time
from collections import Counter, defaultdict
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # bench/, for common.py

import pycld2  # noqa: E402
from fastwarc.warc import ArchiveIterator, WarcRecordType  # noqa: E402
from resiliparse.extract.html2text import extract_plain_text  # noqa: E402
from resiliparse.parse.html import HTMLTree  # noqa: E402

from common import SHARED, write_result  # noqa: E402

from corpusforge.conf import load_config  # noqa: E402
from corpusforge.jobs.format import format_options  # noqa: E402
from corpusforge.udfs.documents import ArchiveToDocuments  # noqa: E402
from corpusforge.udfs.html_decoding import decode_html  # noqa: E402

CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff66-\uff9f"
TOKEN = re.compile(rf"[{CJK}]|[^\W_{CJK}]+")
BASELINES = ("all-text", "resiliparse")
GROUPS = ("Chinese", "English", "other", "non-Chinese", "all")
SPLITS = ("tune", "held-out", "all")


def tokens(text: str | None) -> Counter:
    return Counter(TOKEN.findall((text or "").lower()))


def prf(predicted: Counter, gold: Counter) -> tuple[int, int, int]:
    """(overlap, predicted, gold) token counts; micro and macro scores are built from these."""
    return sum((predicted & gold).values()), sum(predicted.values()), sum(gold.values())


def scores(overlap: int, predicted: int, gold: int) -> tuple[float, float, float]:
    p = overlap / predicted if predicted else 0.0
    r = overlap / gold if gold else 0.0
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def language_group(row: dict, text: str) -> str:
    if row.get("script_lang_guess") == "zh":
        return "Chinese"
    try:
        _, _, details = pycld2.detect(text.encode("utf-8", "replace"), isPlainText=True)
        return "English" if details[0][1] == "en" else "other"
    except pycld2.error:
        return "other"


def split_of(record_id: str) -> str:
    return "tune" if hashlib.blake2b(record_id.encode(), digest_size=1).digest()[0] % 2 == 0 else "held-out"


def setting_options(base, setting: str):
    """FormatOptions for a setting name: `default`, or FAVOR[+fast]."""
    if setting == "default":
        return base
    favor, _, fast = setting.partition("+")
    return replace(base, extraction=replace(base.extraction, favor=favor, fast=fast == "fast"))


def baselines(warc: Path) -> dict[str, dict[str, str]]:
    """record id → text, for the two baselines, from the same bytes and the same charset decoding."""
    out = {"all-text": {}, "resiliparse": {}}
    with warc.open("rb") as stream:
        for record in ArchiveIterator(stream, parse_http=True, record_types=WarcRecordType.response):
            html, _ = decode_html(record.reader.read(), record.http_charset)
            tree = HTMLTree.parse(html)
            record_id = record.headers.get("WARC-Record-ID")
            out["all-text"][record_id] = extract_plain_text(tree, main_content=False)
            out["resiliparse"][record_id] = extract_plain_text(tree, main_content=True)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--built", default=str(SHARED / "warc" / "built"))
    parser.add_argument("--settings", nargs="+", default=["default"],
                        help="trafilatura settings to compare: default, or FAVOR[+fast] (e.g. precision+fast)")
    parser.add_argument("--set", dest="sets", action="append", default=[], help="conf override KEY=VALUE")
    parser.add_argument("--json")
    args = parser.parse_args()
    built = Path(args.built)
    base = format_options(load_config(None, args.sets))
    systems = [f"ours {s}" for s in args.settings] + list(BASELINES)
    # totals[(file, group, split, system)] = [overlap, predicted, gold]; f1s[...] = per-document F1
    totals: dict = defaultdict(lambda: [0, 0, 0])
    f1s: dict = defaultdict(list)
    cpu: dict[str, float] = defaultdict(float)
    pages: Counter = Counter()
    notes = []
    started = time.perf_counter()
    for truth_file in sorted(built.glob("*.groundtruth.jsonl")):
        name = truth_file.name.replace(".groundtruth.jsonl", "")
        warc = built / f"{name}.warc.gz"
        truth = [json.loads(line) for line in truth_file.open(encoding="utf-8")]
        gold = {}
        for row in truth:
            text = next((row[k] for k in row if k.startswith("gold")), None)
            if text:
                gold[row["warc_record_id"]] = (text, language_group(row, text), split_of(row["warc_record_id"]))
        if not gold:
            notes.append(f"{name}: its groundtruth has no gold text field ({len(truth)} rows, keys "
                         f"{sorted(truth[0])}), so it cannot be scored")
            continue
        outputs = baselines(warc)
        for setting in args.settings:
            converter, ours = ArchiveToDocuments(setting_options(base, setting)), {}
            clock = time.process_time()
            with warc.open("rb") as stream:
                for row in converter.rows(stream, str(warc)):
                    if row["file_summary"] is None:
                        ours[row["warc_record_id"]] = row["text"] if row["reason"] is None else ""
                        pages[setting] += 1
            cpu[setting] += time.process_time() - clock
            outputs[f"ours {setting}"] = ours
        for record_id, (text, group, split) in gold.items():
            gold_tokens = tokens(text)
            groups = (group, "all") + (("non-Chinese",) if group != "Chinese" else ())
            for system in systems:
                counts = prf(tokens(outputs[system].get(record_id)), gold_tokens)
                for key in ((f, g, s, system) for f in (name, "ALL FILES") for g in groups for s in (split, "all")):
                    totals[key] = [a + b for a, b in zip(totals[key], counts)]
                    f1s[key].append(scores(*counts)[2])
    seconds = time.perf_counter() - started

    print(f"Extraction quality vs gold main text ({built}); token-level, bag of tokens; "
          f"CJK tokens = characters, others = lower-cased words.")
    print("micro = summed token counts over documents; macro F1 = mean of per-document F1; split: pages by a hash "
          "of their record id (tune / held-out).\n")
    header = f"{'file':30} {'group':12} {'split':9} {'docs':>5}  " + "  ".join(f"{s:>28}" for s in systems)
    print(header)
    print(f"{'':30} {'':12} {'':9} {'':5}  " + "  ".join(f"{'P/R/F1 (micro) macroF1':>28}" for _ in systems))
    print("-" * len(header))
    files = sorted({k[0] for k in totals if k[0] != "ALL FILES"}) + ["ALL FILES"]
    results = {"settings": args.settings, "sets": args.sets, "scores": {}, "cpu_ms_per_page": {}}
    for name in files:
        for group in GROUPS:
            for split in SPLITS if name == "ALL FILES" else ("all",):
                if (name, group, split, systems[0]) not in totals:
                    continue
                docs = len(f1s[(name, group, split, systems[0])])
                cells = []
                for system in systems:
                    p, r, f = scores(*totals[(name, group, split, system)])
                    macro = statistics.fmean(f1s[(name, group, split, system)])
                    cells.append(f"{p:.3f} {r:.3f} {f:.3f}  {macro:.3f}")
                    results["scores"][f"{name}|{group}|{split}|{system}"] = {"p": p, "r": r, "f1": f, "macro_f1": macro,
                                                                              "docs": docs}
                print(f"{name:30} {group:12} {split:9} {docs:5d}  " + "  ".join(f"{c:>28}" for c in cells))
    print()
    print(f"{'setting':24} {'CPU ms per page (Format record work)':>38} " + " ".join(f"{'F1 ' + g:>14}" for g in GROUPS))
    for setting in args.settings:
        ms = 1000 * cpu[setting] / max(pages[setting], 1)
        results["cpu_ms_per_page"][setting] = ms
        f1 = [scores(*totals[("ALL FILES", g, "all", f"ours {setting}")])[2] for g in GROUPS]
        print(f"{setting:24} {ms:38.1f} " + " ".join(f"{x:14.3f}" for x in f1))
    print()
    for system in BASELINES:
        ours_f = scores(*totals[("ALL FILES", "all", "all", systems[0])])[2]
        other_f = scores(*totals[("ALL FILES", "all", "all", system)])[2]
        print(f"micro F1 {systems[0]} / {system}: {ours_f:.3f} / {other_f:.3f} = {ours_f / other_f:.2f}x")
    for note in notes:
        print("note:", note)
    print(f"({len(f1s[('ALL FILES', 'all', 'all', systems[0])])} scored documents, {seconds:.1f} s)")
    path = write_result("extraction_quality", results, args.json)
    print(f"results: {path}")


if __name__ == "__main__":
    main()
