"""Extraction quality of the Format stage vs the gold main text of ../shared/data/warc/built.

Token-level precision / recall / F1 of the extracted text against `*.groundtruth.jsonl` (keyed by
WARC-Record-ID), per file, Chinese and non-Chinese pages separately. Tokens are characters for
CJK scripts (Chinese has no word boundaries; the few Japanese pages are treated alike) and
lower-cased words otherwise; overlap is counted as a bag of tokens.

Side by side in the same run, on the same decoded HTML:
  - ours:        udfs.documents with conf/default.yaml's Format settings (what the stage writes),
  - all-text:    every visible text node of the page (resiliparse, main_content=False): the recall
                 ceiling and precision floor of "no extraction at all",
  - resiliparse: resiliparse's own main-content heuristic, another well-kept extractor.

Usage: .venv/bin/python bench/format/bench_extraction_quality.py [--built ../shared/data/warc/built]
"""
from __future__ import annotations

import argparse
import json
import re
import statistics
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # bench/, for common.py

from fastwarc.warc import ArchiveIterator, WarcRecordType  # noqa: E402
from resiliparse.extract.html2text import extract_plain_text  # noqa: E402
from resiliparse.parse.html import HTMLTree  # noqa: E402

from common import SHARED  # noqa: E402

from corpusforge.conf import load_config  # noqa: E402
from corpusforge.udfs.documents import ArchiveToDocuments, FormatOptions  # noqa: E402
from corpusforge.udfs.extraction import ExtractionOptions  # noqa: E402
from corpusforge.udfs.html_decoding import decode_html  # noqa: E402

CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff66-\uff9f"
TOKEN = re.compile(rf"[{CJK}]|[^\W_{CJK}]+")
SYSTEMS = ("ours", "all-text", "resiliparse")


def tokens(text: str | None) -> Counter:
    return Counter(TOKEN.findall((text or "").lower()))


def prf(predicted: Counter, gold: Counter) -> tuple[int, int, int]:
    """(overlap, predicted, gold) token counts; micro and macro scores are built from these."""
    return sum((predicted & gold).values()), sum(predicted.values()), sum(gold.values())


def scores(overlap: int, predicted: int, gold: int) -> tuple[float, float, float]:
    p = overlap / predicted if predicted else 0.0
    r = overlap / gold if gold else 0.0
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def format_options() -> FormatOptions:
    fmt = load_config(None).format
    return FormatOptions(
        max_html_bytes=fmt.max_html_bytes, extraction_timeout_seconds=fmt.extraction_timeout_seconds,
        skip_truncated=fmt.skip_truncated, quirks_mode=fmt.quirks_mode, accept_status=tuple(fmt.accept_status),
        html_content_types=tuple(fmt.html_content_types), max_binary_ratio=fmt.max_binary_ratio,
        extraction=ExtractionOptions(**fmt.trafilatura.model_dump()))


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
    args = parser.parse_args()
    built = Path(args.built)
    converter = ArchiveToDocuments(format_options())
    # totals[(file, group, system)] = [overlap, predicted, gold]; f1s[...] = per-document F1
    totals: dict = defaultdict(lambda: [0, 0, 0])
    f1s: dict = defaultdict(list)
    documents: Counter = Counter()
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
                gold[row["warc_record_id"]] = (text, "Chinese" if row.get("script_lang_guess") == "zh" else "non-Chinese")
        if not gold:
            notes.append(f"{name}: its groundtruth has no gold text field ({len(truth)} rows, keys "
                         f"{sorted(truth[0])}), so it cannot be scored")
            continue
        ours = {}
        with warc.open("rb") as stream:
            for row in converter.rows(stream, str(warc)):
                if row["file_summary"] is None:
                    ours[row["warc_record_id"]] = row["text"] if row["reason"] is None else ""
        systems = {"ours": ours, **baselines(warc)}
        for record_id, (text, group) in gold.items():
            gold_tokens = tokens(text)
            documents[(name, group)] += 1
            for system in SYSTEMS:
                counts = prf(tokens(systems[system].get(record_id)), gold_tokens)
                for key in ((name, group, system), (name, "all", system), ("ALL FILES", group, system),
                            ("ALL FILES", "all", system)):
                    totals[key] = [a + b for a, b in zip(totals[key], counts)]
                    f1s[key].append(scores(*counts)[2])
    seconds = time.perf_counter() - started

    print(f"Extraction quality vs gold main text ({built}); token-level, bag of tokens; "
          f"CJK tokens = characters, others = lower-cased words.")
    print("micro = summed token counts over documents; macro F1 = mean of per-document F1.\n")
    header = f"{'file':32} {'group':12} {'docs':>5}  " + "  ".join(f"{s + ' P/R/F1 (micro) macroF1':>38}" for s in SYSTEMS)
    print(header)
    print("-" * len(header))
    files = sorted({k[0] for k in totals if k[0] != "ALL FILES"}) + ["ALL FILES"]
    for name in files:
        for group in ("Chinese", "non-Chinese", "all"):
            if (name, group, "ours") not in totals:
                continue
            docs = len(f1s[(name, group, "ours")])
            cells = []
            for system in SYSTEMS:
                p, r, f = scores(*totals[(name, group, system)])
                cells.append(f"{p:8.3f} {r:6.3f} {f:6.3f}   {statistics.fmean(f1s[(name, group, system)]):6.3f}       ")
            print(f"{name:32} {group:12} {docs:5d}  " + "  ".join(f"{c:>38}" for c in cells))
    print()
    for system in SYSTEMS[1:]:
        ours_f = scores(*totals[("ALL FILES", "all", "ours")])[2]
        other_f = scores(*totals[("ALL FILES", "all", system)])[2]
        print(f"micro F1 ours / {system}: {ours_f:.3f} / {other_f:.3f} = {ours_f / other_f:.2f}x")
    for note in notes:
        print("note:", note)
    print(f"({sum(documents.values())} scored documents, {seconds:.1f} s)")


if __name__ == "__main__":
    main()
