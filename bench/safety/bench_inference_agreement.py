"""Do the fast inference settings keep the classifiers' decisions? Agreement with full precision.

Reference: the bundled models (toxicity, pornography, ad, fluency) in float32, pooled vectors kept in
float32, at the stages' window (256 tokens, head of the document). Variants, each through the Scorer
every Spark worker runs (pooled vectors float16 between encoder and heads, as the Safety stage stores
them for Quality):
- fp32: float32 model (isolates the float16 vectors);
- bf16: bfloat16 model (inference.dtype bf16, what `auto` picks on a CPU with native bf16);
- bf16 with a smaller token budget per document (inference.max_tokens 192 and 128).
A decision is the stage's: toxicity, pornography and ad remove above their threshold, fluency (the
geometric mean of its four aspects) below, with the thresholds of conf/default.yaml (the models' own,
and the language overrides, e.g. fluency 0.30 for Chinese). Printed per classifier and language: the
share of documents whose decision is identical to the reference, the largest score difference, and the
share of documents whose every decision is identical.

Corpora: "pages" — real web documents as the Safety stage sees them (the Format stage's output over
../shared/data/warc, English and Chinese; cached under --work), plus the Chinese Skywork documents;
"labelled" — the held-out labelled sets many documents of which sit near a threshold: COLD dev
(toxicity), mudou's test SMS and UCI SMS (ad), the erotica passages (pornography).

Usage: nice -n 10 .venv/bin/python bench/safety/bench_inference_agreement.py [--work /tmp/agreement-bench]
           [--budgets 192 128] [--no-fp32] [--threads 1]
Results: stdout and bench/results/inference_agreement.json.
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # bench/, for common.py

import numpy as np  # noqa: E402

from common import ROOT, SHARED, format_output, write_result  # noqa: E402

MODELS = ["toxicity", "pornography", "ad", "fluency"]


def loadavg() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def pages(work: Path) -> list[tuple[str, str]]:
    import pyarrow.parquet as pq

    out = format_output(work)
    table = pq.read_table(str(out / "kept"), columns=["text", "language"]).to_pylist()
    docs = [(r["text"], r["language"].split("-")[0]) for r in table if r["language"] and
            r["language"].split("-")[0] in ("en", "zh") and r["text"]]
    docs += [(json.loads(line)["text"], "zh") for line in (SHARED / "text" / "skywork-zh-general.jsonl").open()]
    return docs


def labelled() -> list[tuple[str, str]]:
    docs = [(r["TEXT"], "zh") for r in csv.DictReader((SHARED / "labeled/cold/dev.csv").open(encoding="utf-8-sig"))]
    docs += [(line.split("\t")[1], "zh") for line in (SHARED / "labeled/mudou-spam-zh/mudou_spam.test").open(
        encoding="utf-8") if line.count("\t") >= 2]
    docs += [(line.split("\t", 1)[1].strip(), "en") for line in (SHARED / "labeled/sms-spam/SMSSpamCollection").open(
        encoding="utf-8") if "\t" in line][1:]
    docs += [(json.loads(line)["text"], json.loads(line)["language"])
             for line in (SHARED / "labeled/erotica/passages.jsonl").open(encoding="utf-8")]
    return docs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--work", default="/tmp/agreement-bench")
    parser.add_argument("--budgets", type=int, nargs="*", default=[192, 128])
    parser.add_argument("--no-fp32", action="store_true",
                        help="skip the fp32 variant (float16 vectors only): the bf16 variant has them too")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (agreement does not depend on it)")
    args = parser.parse_args()

    import torch

    from corpusforge.conf import load_config
    from corpusforge.udfs import classifiers
    from corpusforge.udfs.classifiers import ClassifierCard, Scorer, WindowPolicy
    from corpusforge.udfs.decisions import combine
    from corpusforge.udfs.overrides import OverrideTable, Overrides

    torch.set_num_threads(args.threads)
    cfg = load_config(None, [])
    cards = [ClassifierCard.load(ROOT / "resources" / "models" / m) for m in MODELS]
    combine_rule = cfg.quality.classifiers["fluency"].combine

    def thresholds(language: str) -> dict[str, float]:
        out = {}
        for section in (cfg.safety, cfg.quality):
            table = OverrideTable(default={k: v for k, v in section.thresholds.default.items()},
                                  languages={k: dict(v or {}) for k, v in section.thresholds.languages.items()})
            out.update(Overrides(table).resolve(language, None, None).values)
        return {m: (out.get(m) if out.get(m) is not None else c.threshold) for m, c in zip(MODELS, cards)}

    def own_scores(scores: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        own = {m: scores[m][:, 0] for m in ("toxicity", "pornography", "ad")}
        own["fluency"] = combine(scores["fluency"], cards[3].outputs, combine_rule.method, dict(combine_rule.weights))
        return own

    def decisions(own: dict[str, np.ndarray], languages: list[str]) -> dict[str, np.ndarray]:
        limits = {lang: thresholds(lang) for lang in set(languages)}
        out = {}
        for m in MODELS:
            t = np.array([limits[lang][m] for lang in languages])
            out[m] = own[m] < t if m == "fluency" else own[m] > t
        return out

    def reference(texts: list[str]) -> dict[str, np.ndarray]:
        """float32 model, float32 vectors: the full-precision scores."""
        policy = WindowPolicy(256, "head", 3, "max", 32)
        encoder = classifiers.load_encoder(cards[0].encoder_path(), "mean", True, "cpu", "fp32")
        windows, owners = encoder.windows(texts, policy, cards[0].text_prefix)
        vectors = encoder.embed(windows, 32)
        out = {}
        for card in cards:
            head = classifiers.load_head(card, encoder.dim, "cpu")
            out[card.name] = classifiers.aggregate(head.scores(vectors), owners, len(texts), "max")
        return out

    variants = {"fp32": ("fp32", 256), "bf16": ("bf16", 256), **{f"bf16, {b} tokens": ("bf16", b) for b in args.budgets}}
    if args.no_fp32:
        del variants["fp32"]
    assert all(c.encoder == cards[0].encoder and c.text_prefix == cards[0].text_prefix for c in cards)
    result = {"load_before": loadavg(), "corpora": {}}
    print(f"load {result['load_before']}; variants {list(variants)}", flush=True)
    for corpus, docs in (("pages", pages(Path(args.work))), ("labelled", labelled())):
        texts, languages = [t for t, _ in docs], [lang for _, lang in docs]
        tick = time.process_time()
        ref = own_scores(reference(texts))
        ref_decisions = decisions(ref, languages)
        entry = {"documents": len(texts), "by_language": {lang: languages.count(lang) for lang in set(languages)},
                 "reference_cpu_seconds": round(time.process_time() - tick, 1), "variants": {}}
        for name, (dtype, budget) in variants.items():
            tick = time.process_time()
            scorer = Scorer(cards, WindowPolicy(budget, "head", 3, "max", 32), "cpu", dtype)
            own = own_scores(scorer.score(texts))
            cpu = time.process_time() - tick
            got = decisions(own, languages)
            lang_array = np.array(languages)
            figures = {"cpu_seconds": round(cpu, 1), "speed_vs_reference": round(entry["reference_cpu_seconds"] / cpu, 2),
                       "all_decisions_identical": round(float(np.mean(np.logical_and.reduce(
                           [got[m] == ref_decisions[m] for m in MODELS]))), 5), "classifiers": {}}
            for m in MODELS:
                same = got[m] == ref_decisions[m]
                figures["classifiers"][m] = {
                    "identical": round(float(same.mean()), 5),
                    "by_language": {lang: round(float(same[lang_array == lang].mean()), 5) for lang in ("en", "zh")
                                    if (lang_array == lang).any()},
                    "changed": int((~same).sum()), "removed_by_reference": int(ref_decisions[m].sum()),
                    "max_abs_score_diff": round(float(np.nanmax(np.abs(own[m] - ref[m]))), 5)}
            entry["variants"][name] = figures
            print(f"\n{corpus} ({len(texts)} documents) — {name}: {figures['cpu_seconds']} CPU s "
                  f"({figures['speed_vs_reference']}x the reference), every decision identical on "
                  f"{figures['all_decisions_identical']:.2%}", flush=True)
            for m, f in figures["classifiers"].items():
                langs = ", ".join(f"{k} {v:.2%}" for k, v in f["by_language"].items())
                print(f"  {m:<12} identical {f['identical']:.2%} ({langs}); {f['changed']} changed of "
                      f"{f['removed_by_reference']} removed by the reference; max |score diff| {f['max_abs_score_diff']}")
        result["corpora"][corpus] = entry
    result["load_after"] = loadavg()
    print(f"\nload {result['load_before']} -> {result['load_after']}")
    write_result("inference_agreement", result)


if __name__ == "__main__":
    main()
