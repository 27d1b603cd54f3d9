"""How the long-text stage's statistical thresholds (conf/default.yaml longtext.thresholds) are derived
from labelled long documents, and what each filter keeps when its thresholds come from the OTHER half.

Statistics: the stage's own (udfs/longtext/statistics.py) on the 153 real long documents of
../shared/data/long. Halves: per labelled domain × language, sorted by id, alternating (dev, test).
Rule: a "min" rule's threshold is the group's minimum minus a margin, a "max" rule's its maximum plus
a margin; margin = max(½ × the group's range, a floor per statistic) (mean line length: the same on a
log scale, floor a factor 1.25), rounded outwards; a widened minimum at or below 0 turns the rule off.
A group of fewer than 4 documents pools its domain's languages for the statistics that read no words.
Code has the word and sentence rules off by design. `other` (no domain found; also news, forum, and
domain × language groups without documents) takes the extreme over all prose documents of the
language widened by the floor only, so it keeps every prose genre.
Ported from the research run that set the shipped values (same rule; it read its own copy of the
statistics, so a rounding step may differ here and there).

    nice -n 10 env OMP_NUM_THREADS=1 .venv/bin/python bench/longtext/derive_thresholds.py [--print-all]
Writes bench/results/longtext_thresholds.json: the thresholds from all documents (what conf ships),
and held-out keep rates per filter and domain (fold A: dev → test, fold B: test → dev).
"""
from __future__ import annotations

import argparse
import json
import math
import os
import sys
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import RESULTS, SHARED  # noqa: E402

import spliced  # noqa: E402
from bench_longtext_filters import LABEL_TO_DOMAIN  # noqa: E402

RULES = [  # rule, statistic, bound, floor of the margin, rounding step
    ("max_dup_line_char_fraction", "dup_line_char_fraction", "max", 0.10, 0.05),
    ("min_compression_ratio", "compression_ratio", "min", 0.05, 0.01),
    ("max_table_line_fraction", "table_line_fraction", "max", 0.05, 0.05),
    ("max_digit_fraction", "digit_fraction", "max", 0.02, 0.01),
    ("min_sentence_line_char_fraction", "sentence_line_char_fraction", "min", 0.10, 0.05),
    ("min_conjunction_rate", "conjunction_rate", "min", 0.003, 0.001),
    ("min_window_ttr", "window_ttr", "min", 0.05, 0.01),
    ("max_window_ttr", "window_ttr", "max", 0.05, 0.01),
    ("min_mean_line_chars", "mean_line_chars", "min", "log1.25", 1.0),
]
LANGUAGE_FREE = {"max_dup_line_char_fraction", "min_compression_ratio", "max_table_line_fraction", "max_digit_fraction"}
OFF = {"code": {"min_conjunction_rate", "min_sentence_line_char_fraction", "min_window_ttr", "max_window_ttr"}}
PROSE = ("novel", "paper", "textbook", "patent", "legal", "encyclopedia")
MARGIN_SHARE = 0.5


def threshold(values: list[float], bound: str, floor, step: float, share: float = MARGIN_SHARE) -> float | None:
    lo, hi = min(values), max(values)
    if isinstance(floor, str):                      # a margin as a factor (line lengths)
        factor = max(math.exp(share * (math.log(hi) - math.log(lo))), float(floor[3:]))
        t = math.floor(lo / factor / step) * step if bound == "min" else math.ceil(hi * factor / step) * step
        return None if t <= 0 else round(t, 6)
    margin = max(share * (hi - lo), floor)
    if bound == "min":
        t = math.floor((lo - margin) / step) * step
        return None if t <= 0 else round(t, 6)
    return round(math.ceil((hi + margin) / step) * step, 6)


def derive(rows: list[dict]) -> dict[str, dict[str, dict[str, float | None]]]:
    groups = defaultdict(list)
    for r in rows:
        groups[(r["domain"], r["language"])].append(r)
    table: dict = defaultdict(dict)
    for (domain, language), members in sorted(groups.items()):
        pooled = [r for r in rows if r["domain"] == domain]
        table[domain][language] = {
            rule: None if rule in OFF.get(domain, ()) else threshold(
                [r[stat] for r in (pooled if len(members) < 4 and rule in LANGUAGE_FREE else members)], bound, floor, step)
            for rule, stat, bound, floor, step in RULES}
    for language in ("en", "zh"):
        prose = [r for r in rows if r["domain"] in PROSE and r["language"] == language]
        table["other"][language] = {rule: threshold([r[stat] for r in prose], bound, floor, step, share=0.0)
                                    for rule, stat, bound, floor, step in RULES}
    return dict(table)


def keeps(row: dict, thresholds: dict) -> dict[str, bool]:
    out = {}
    for rule, stat, bound, _, _ in RULES:
        limit, value = thresholds.get(rule), row[stat]
        out[rule] = limit is None or (value == value and (value >= limit if bound == "min" else value <= limit))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--print-all", action="store_true", help="print the thresholds derived from all documents")
    args = parser.parse_args()
    from corpusforge.conf import load_config
    from corpusforge.udfs.longtext.domain import DomainRules
    from corpusforge.udfs.longtext.statistics import judge

    cfg = load_config(None, [])
    rules = DomainRules(cfg.longtext.domains.model_dump())
    statistics = cfg.longtext.statistics.model_dump()
    docs = spliced.load_docs(SHARED / "long", strip_gutenberg=False)
    rows = []
    for d in docs:
        verdicts = judge(d["text"], d["language"], {}, **statistics)
        row = {"id": d["id"], "domain": LABEL_TO_DOMAIN[d["domain"]], "language": d["language"],
               "detected": rules.detect(d["text"], d["language"], d.get("url"))[0]}
        row.update({v.statistic: v.value for v in verdicts})
        rows.append(row)
    by_group = defaultdict(list)
    for r in sorted(rows, key=lambda r: r["id"]):
        by_group[(r["domain"], r["language"])].append(r)
    for members in by_group.values():
        for i, r in enumerate(members):
            r["split"] = "dev" if i % 2 == 0 else "test"
    folds = {"A: dev -> test": ("dev", "test"), "B: test -> dev": ("test", "dev")}
    held = defaultdict(lambda: defaultdict(list))    # rule -> group -> [kept]
    all_kept = defaultdict(list)
    removed = []
    for fold, (fit_on, judge_on) in folds.items():
        table = derive([r for r in rows if r["split"] == fit_on])
        for r in rows:
            if r["split"] != judge_on:
                continue
            domain = r["detected"] if r["detected"] in table and r["language"] in table[r["detected"]] else "other"
            verdict = keeps(r, table[domain][r["language"]])
            group = f"{r['domain']}/{r['language']}"
            for rule, kept in verdict.items():
                held[rule][group].append(kept)
            all_kept[group].append(all(verdict.values()))
            if not all(verdict.values()):
                removed.append({"id": r["id"], "fold": fold, "thresholds_of": domain,
                                "rules": [k for k, v in verdict.items() if not v]})
    shipped = derive(rows)
    results = {"documents": len(rows), "load_average": os.getloadavg(), "thresholds_from_all": shipped,
               "held_out_keep_per_rule": {rule: {g: {"kept": sum(v), "n": len(v)} for g, v in sorted(gs.items())}
                                          for rule, gs in held.items()},
               "held_out_kept_by_all_rules": {g: {"kept": sum(v), "n": len(v)} for g, v in sorted(all_kept.items())},
               "held_out_removed": removed}
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "longtext_thresholds.json").write_text(json.dumps(results, indent=1))
    names = [r[0] for r in RULES]
    print("held-out keep rate per filter (thresholds from the other half, detected domain), kept/n")
    print("| group | " + " | ".join(n.replace("_fraction", "").replace("_char", "") for n in names) + " | all |")
    print("|---|" + "---:|" * (len(names) + 1))
    for g in sorted(all_kept):
        cells = [f"{sum(held[n][g])}/{len(held[n][g])}" for n in names]
        print(f"| {g} | " + " | ".join(cells) + f" | {sum(all_kept[g])}/{len(all_kept[g])} |")
    total = sum(sum(v) for v in all_kept.values())
    print(f"all: {total}/{len(rows)} kept held out; removed: {removed}")
    if args.print_all:
        for domain, by_language in shipped.items():
            for language, t in by_language.items():
                print(domain, language, {k: v for k, v in t.items()})
    print("load average", os.getloadavg())


if __name__ == "__main__":
    main()
