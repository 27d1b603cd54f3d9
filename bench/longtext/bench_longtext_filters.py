"""The long-text stage's length selection, domain detection and statistical filters on the real long
documents of ../shared/data/long (all coherent, all > 32 KB), with the stage's own code and the shipped
conf: each filter's keep rate per labelled domain × language (the domain that chose the thresholds is
the detected one, as in the stage), the detector's accuracy against the labels, and CPU seconds per
document of each step (one process, one thread). With bench/results/longtext_coherence.json present
(bench_longtext_coherence.py), it adds the coherence step's cost and the cost of the whole stage on a
full dump, from the share of long documents measured on the real WARCs.

    nice -n 10 env OMP_NUM_THREADS=1 .venv/bin/python bench/longtext/bench_longtext_filters.py
Writes bench/results/longtext_filters.json.

The thresholds were derived from these same 153 documents (the research run behind conf/default.yaml
derived them on one half and judged the other: 149/153 kept held out), so the keep rates here are
in-sample: they show what each filter does per domain, not a held-out figure.
"""
from __future__ import annotations

import json
import os
import sys
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import RESULTS, SHARED  # noqa: E402

import spliced  # noqa: E402

LABEL_TO_DOMAIN = {"novels": "novel", "papers": "paper", "textbooks": "textbook", "patents": "patent",
                   "legal": "legal", "code": "code", "encyclopedia": "encyclopedia"}
# Share of Format's kept documents over 32 KiB of UTF-8 on every real WARC of ../shared/data (766
# documents, 12 long: en 8/501, zh 3/150, ru 1/7), and their mean size; measured by the research run
# behind this stage (/work/scratch/longstats/length_share.md), to be re-measured on a full CC WARC.
LONG_SHARE = 12 / 766
PAGES_PER_WARC = 35_000          # a Common Crawl WARC holds 30-40k HTML responses


def main() -> None:
    from corpusforge.conf import load_config
    from corpusforge.jobs.longtext import threshold_table
    from corpusforge.udfs.longtext.domain import DomainRules
    from corpusforge.udfs.longtext.statistics import first_failure, is_long, judge
    from corpusforge.udfs.overrides import Overrides

    cfg = load_config(None, [])
    settings = cfg.longtext
    rules, overrides = DomainRules(settings.domains.model_dump()), Overrides(threshold_table(cfg))
    statistics = settings.statistics.model_dump()
    docs = spliced.load_docs(SHARED / "long", strip_gutenberg=False)
    print(f"{len(docs)} documents; load average {os.getloadavg()}", flush=True)
    per_rule: dict[str, dict[str, list[bool]]] = defaultdict(lambda: defaultdict(list))
    kept_all: dict[str, list[bool]] = defaultdict(list)
    confusion: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    removed_by = []
    cpu = {"length": 0.0, "domain": 0.0, "statistics": 0.0}
    for d in docs:
        text, language, url = d["text"], d["language"], d.get("url")
        host = url.split("/")[2] if url and "://" in url else None
        c0 = time.process_time()
        long_enough = is_long(text, settings.min_bytes)
        c1 = time.process_time()
        domain, _ = rules.detect(text, language, url)
        c2 = time.process_time()
        resolved = overrides.resolve(language, host, url, domain)
        verdicts = judge(text, language, resolved.values, **statistics)
        c3 = time.process_time()
        cpu["length"] += c1 - c0
        cpu["domain"] += c2 - c1
        cpu["statistics"] += c3 - c2
        group = f"{LABEL_TO_DOMAIN[d['domain']]}/{language}"
        confusion[LABEL_TO_DOMAIN[d["domain"]]][domain] += 1
        for v in verdicts:
            per_rule[v.rule][group].append(v.keep)
        failed = first_failure(verdicts)
        kept_all[group].append(long_enough and failed is None)
        if failed is not None:
            removed_by.append({"id": d["id"], "detected": domain, "rule": failed.rule, "detail": failed.detail()})
    groups = sorted(kept_all)
    n = len(docs)
    results = {
        "documents": n, "in_sample": True,
        "keep_rate_per_rule": {rule: {g: {"kept": sum(v), "n": len(v)} for g, v in sorted(by_group.items())}
                               for rule, by_group in per_rule.items()},
        "kept_by_all_filters": {g: {"kept": sum(kept_all[g]), "n": len(kept_all[g])} for g in groups},
        "removed": removed_by,
        "domain_confusion": {k: dict(v) for k, v in confusion.items()},
        "domain_accuracy": sum(confusion[k][k] for k in confusion) / n,
        "cpu_seconds_per_document": {k: v / n for k, v in cpu.items()},
        "load_average": os.getloadavg(),
    }
    filters_cpu = sum(cpu.values()) / n
    coherence_file = RESULTS / "longtext_coherence.json"
    if coherence_file.exists():
        coherence = json.loads(coherence_file.read_text())
        c = coherence["cpu_seconds_per_document"]
        coherence_cpu = c["lexical"] + c["anchor"]
        per_doc = filters_cpu + coherence_cpu
        long_docs = LONG_SHARE * PAGES_PER_WARC
        results["stage"] = {
            "cpu_seconds_per_long_document": {"length+domain+statistics": filters_cpu, "coherence": coherence_cpu,
                                              "total": per_doc},
            "documents_per_cpu_second": 1 / per_doc,
            "long_share_of_format_documents": LONG_SHARE,
            "long_documents_per_warc": long_docs,
            "cpu_seconds_per_warc": long_docs * per_doc,
            "note": "every document pays the length check only; long ones pay domain, statistics and (when "
                    "the statistics keep them) coherence; this counts coherence for every long document"}
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "longtext_filters.json").write_text(json.dumps(results, indent=1))
    rule_names = list(per_rule)
    print("keep rate per filter (kept/n) per labelled domain/language, thresholds of the detected domain")
    print(f"{'group':16s} " + " ".join(f"{r[:14]:>14s}" for r in rule_names) + "   all filters")
    for g in groups:
        cells = []
        for r in rule_names:
            v = per_rule[r].get(g, [])
            cells.append(f"{sum(v):>6d}/{len(v):<7d}")
        print(f"{g:16s} " + " ".join(f"{c:>14s}" for c in cells) + f"   {sum(kept_all[g])}/{len(kept_all[g])}")
    print("removed:", removed_by)
    print(f"domain accuracy {results['domain_accuracy']:.3f}; CPU s/doc", {k: round(v, 4) for k, v in
                                                                       results["cpu_seconds_per_document"].items()})
    if "stage" in results:
        print("stage:", json.dumps(results["stage"], indent=1))
    print("load average", os.getloadavg())


if __name__ == "__main__":
    main()
