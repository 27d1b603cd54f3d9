"""The coherence filter on documents spliced from ../shared/data/long, measured with the stage's own code.

Documents (bench/longtext/spliced.py, seed 0): the real long documents (coherent), and built from
them within one half — spliced (a prefix of A + a later part of B, same domain and language, another
work, joined at line starts, about A's length) and multi (3-4 pieces of different works). The halves
are split by WORK (chapters of one novel, sections of one book, files of one repository stay on one
side). Every feature is computed for every document with corpusforge.udfs.longtext.coherence (the
real Gemma 3 270M, bf16, the bundled head subset, one torch thread), CPU seconds per step recorded;
features are cached in --work (resumable).

Then, for each configuration (the features a score sums): the centre and spread of each feature per
language and the threshold per language (the score keeping KEPT_ON_DEV = 92% of the dev half's
coherent documents) come from the DEV half only; the TEST half is judged with them: spliced removed, multi
removed, coherent kept, per language and per domain. Baselines in the same run: the LM's perplexity
gains alone (anchored; with --chain also the chain of probes, the report's method as first built)
and lexical cohesion alone.

    nice -n 10 env OMP_NUM_THREADS=1 .venv/bin/python bench/longtext/bench_longtext_coherence.py \\
        [--work /tmp/longtext-bench] [--fp32-check 40]
Writes bench/results/longtext_coherence.json (figures, and the shipped configuration's scales and
thresholds as conf/default.yaml holds them).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import RESULTS, SHARED  # noqa: E402

import spliced  # noqa: E402

SHIPPED = ("cross_dip", "cross_v", "anchor_gain")
CONFIGURATIONS = {
    "shipped: cross_dip + cross_v + anchor_gain": SHIPPED,
    "lexical only: cross_dip + cross_v": ("cross_dip", "cross_v"),
    "LM only, anchored perplexity gain: anchor_gain": ("anchor_gain",),
    "lexical only: cross_dip": ("cross_dip",),
}
CHAIN_CONFIGURATIONS = {
    "baseline, LM only: chain_min": ("chain_min",),
    "lexical + chain: cross_dip + cross_v + chain_mean": ("cross_dip", "cross_v", "chain_mean"),
}
# The shipped combination and this target were chosen on the development half only (the research
# run's features, /work/scratch/l13lab): at 92% of dev coherent documents kept it removed the most
# spliced dev documents in the weaker language. 92 rather than 90 leaves a margin for the 90% goal.
KEPT_ON_DEV = 0.92


def compute(docs: list, work: Path, dtype: str = "bfloat16", limit: int | None = None,
            chain: bool = False) -> dict[str, dict]:
    """Every feature of every document (the chain's only with chain=True), cached in
    work/features_<anchor|chain>_<dtype>.jsonl (one JSON object a line)."""
    import torch

    from corpusforge.conf import load_config
    from corpusforge.resources import resolve
    from corpusforge.udfs.longtext import coherence as C
    from corpusforge.udfs.longtext import model as M

    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "1")))
    cfg = load_config(None, []).longtext.coherence
    settings = C.CoherenceSettings(features=C.FEATURES, **{k: v for k, v in cfg.model_dump().items()
                                                           if k in C.CoherenceSettings.__dataclass_fields__
                                                           and k != "features"})
    cache = work / f"features_{'chain' if chain else 'anchor'}_{dtype}.jsonl"
    done = {}
    if cache.exists():
        for line in cache.read_text().splitlines():
            row = json.loads(line)
            done[row["id"]] = row
    todo = [t for t in docs if t.id not in done][:limit] if limit else [t for t in docs if t.id not in done]
    if not todo:
        return done
    directory, converted = M.prepare(cfg.model, cfg.cache_dir, dtype)
    started = time.process_time()
    lm = M.load(directory, "cpu", dtype, M.read_head_vocab(resolve(cfg.head_vocab)))
    print(f"model {directory} loaded in {time.process_time() - started:.1f} CPU-s {converted or ''}; "
          f"{len(todo)} documents to score", flush=True)
    with cache.open("a") as out:
        for n, t in enumerate(todo):
            c0 = time.process_time()
            row = C.cohesion_features(t.text, t.language, settings.lexical_points, settings.lexical_edge)
            c1 = time.process_time()
            if chain:
                row.update(C.chain_features(lm, t.text, settings))
            c2 = time.process_time()
            candidates = C.weakest_boundaries(t.text, t.language, settings.anchor_candidates,
                                              settings.anchor_points, settings.lexical_edge)
            gains = [g for g in C.anchored_gains(lm, t.text, candidates, settings) if g == g]
            row["anchor_gain"] = min(gains) if gains else float("nan")
            row["anchor_candidates"] = candidates
            c3 = time.process_time()
            row.update(id=t.id, kind=t.kind, domain=t.domain, language=t.language, split=t.split,
                       bytes=len(t.text.encode("utf-8")), joins=t.joins,
                       cpu={"lexical": c1 - c0, "chain": c2 - c1, "anchor": c3 - c2},
                       load=os.getloadavg()[0])
            out.write(json.dumps(row) + "\n")
            out.flush()
            done[t.id] = row
            if n % 10 == 9:
                print(f"{n + 1}/{len(todo)} cpu {row['cpu']} load {row['load']:.1f}", flush=True)
    return done


def fit(rows: list[dict], features: tuple[str, ...]) -> dict:
    """Per language, from the dev half's coherent documents: each feature's median and IQR, and the
    score threshold keeping KEPT_ON_DEV of them."""
    out = {}
    for language in ("en", "zh"):
        coherent = [r for r in rows if r["split"] == "dev" and r["kind"] == "coherent" and r["language"] == language]
        scales = {}
        for f in features:
            v = np.array([r[f] for r in coherent if r[f] == r[f]])
            scales[f] = (float(np.median(v)), float(np.percentile(v, 75) - np.percentile(v, 25)) or 1.0)
        scores = np.array([score(r, features, scales) for r in coherent])
        scores = scores[np.isfinite(scores)]
        out[language] = {"scales": scales, "threshold": float(np.quantile(scores, 1 - KEPT_ON_DEV, method="lower"))}
    return out


def score(row: dict, features: tuple[str, ...], scales: dict) -> float:
    from corpusforge.udfs.longtext.coherence import score as stage_score
    return stage_score(row, features, scales)


def judge(rows: list[dict], features: tuple[str, ...], fitted: dict, split: str) -> dict:
    """Removed/kept shares on one half, per language and per (domain, language)."""
    table: dict[str, dict[str, list[bool]]] = defaultdict(lambda: defaultdict(list))
    for r in rows:
        if r["split"] != split:
            continue
        f = fitted[r["language"]]
        value = score(r, features, f["scales"])
        removed = value == value and value < f["threshold"]
        for group in (r["language"], f"{r['domain']}/{r['language']}"):
            table[group][r["kind"]].append(removed)
    out = {}
    for group, kinds in sorted(table.items()):
        out[group] = {"coherent_kept": _share([not x for x in kinds["coherent"]]),
                      "spliced_removed": _share(kinds["spliced"]), "multi_removed": _share(kinds["multi"])}
    return out


def _share(values: list[bool]) -> dict:
    return {"n": len(values), "share": round(float(np.mean(values)), 4) if values else None}


def auc(rows: list[dict], features: tuple[str, ...], fitted: dict, split: str, language: str, kind: str) -> float:
    good = [score(r, features, fitted[language]["scales"]) for r in rows
            if r["split"] == split and r["language"] == language and r["kind"] == "coherent"]
    bad = [score(r, features, fitted[language]["scales"]) for r in rows
           if r["split"] == split and r["language"] == language and r["kind"] == kind]
    g, b = np.array(good)[:, None], np.array(bad)[None, :]
    return round(float((g > b).mean() + 0.5 * (g == b).mean()), 4)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--work", default="/tmp/longtext-bench", help="feature cache (resumable)")
    parser.add_argument("--fp32-check", type=int, default=0, help="also score the first N test documents in float32")
    parser.add_argument("--chain", action="store_true", help="also the chain of probes (2·K·S tokens a document)")
    args = parser.parse_args()
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    originals = spliced.load_docs(SHARED / "long")
    docs = spliced.build(originals, spliced.split_by_work(originals, 0), 0)
    print(f"{len(docs)} documents; load average {os.getloadavg()}", flush=True)
    features = compute(docs, work, chain=args.chain)
    rows = [features[t.id] for t in docs]
    results = {"documents": {s: {k: sum(1 for r in rows if r["split"] == s and r["kind"] == k)
                                 for k in ("coherent", "spliced", "multi")} for s in ("dev", "test")},
               "kept_on_dev": KEPT_ON_DEV, "configurations": {}}
    for name, chosen in {**CONFIGURATIONS, **(CHAIN_CONFIGURATIONS if args.chain else {})}.items():
        fitted = fit(rows, chosen)
        results["configurations"][name] = {
            "features": list(chosen), "fitted_on_dev": fitted,
            "auc_test": {lang: {kind: auc(rows, chosen, fitted, "test", lang, kind) for kind in ("spliced", "multi")}
                         for lang in ("en", "zh")},
            "dev": judge(rows, chosen, fitted, "dev"), "test": judge(rows, chosen, fitted, "test")}
    cpu = {step: float(np.mean([r["cpu"][step] for r in rows])) for step in ("lexical", "chain", "anchor")}
    results["cpu_seconds_per_document"] = cpu
    results["documents_per_cpu_second"] = {
        "shipped (lexical + anchored)": 1 / (cpu["lexical"] + cpu["anchor"]), "lexical only": 1 / cpu["lexical"]}
    if args.chain:
        results["documents_per_cpu_second"]["lexical + chain"] = 1 / (cpu["lexical"] + cpu["chain"])
    results["load_average_while_scoring"] = [round(min(r["load"] for r in rows), 1), round(max(r["load"] for r in rows), 1)]
    hits = [abs(r["anchor_candidates"][0] - r["joins"][0]) if r["anchor_candidates"] else 10**9
            for r in rows if r["kind"] == "spliced"]
    results["weakest_boundary_at_the_join"] = {"exact": round(float(np.mean([h <= 1 for h in hits])), 4),
                                               "within_200_chars": round(float(np.mean([h <= 200 for h in hits])), 4),
                                               "n": len(hits)}
    if args.fp32_check:
        test = [t for t in docs if t.split == "test"][:args.fp32_check]
        fp32 = compute(test, work, "float32")
        fitted = fit(rows, SHIPPED)
        same = sum((score(features[t.id], SHIPPED, fitted[t.language]["scales"]) < fitted[t.language]["threshold"])
                   == (score(fp32[t.id], SHIPPED, fitted[t.language]["scales"]) < fitted[t.language]["threshold"])
                   for t in test)
        diff = [abs(features[t.id]["anchor_gain"] - fp32[t.id]["anchor_gain"]) for t in test]
        results["bf16_vs_fp32"] = {"documents": len(test), "same_decision": same,
                                   "max_abs_anchor_gain_difference": float(np.nanmax(diff)),
                                   "cpu_anchor_bf16": float(np.mean([features[t.id]["cpu"]["anchor"] for t in test])),
                                   "cpu_anchor_fp32": float(np.mean([fp32[t.id]["cpu"]["anchor"] for t in test]))}
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "longtext_coherence.json").write_text(json.dumps(results, indent=1))
    for name, r in results["configurations"].items():
        print(f"\n{name}  (test AUC en {r['auc_test']['en']}, zh {r['auc_test']['zh']})")
        for group in ("en", "zh"):
            for split in ("dev", "test"):
                g = r[split][group]
                print(f"  {split:4s} {group}: coherent kept {g['coherent_kept']['share']:.2f} ({g['coherent_kept']['n']}), "
                      f"spliced removed {g['spliced_removed']['share']:.2f} ({g['spliced_removed']['n']}), "
                      f"multi removed {g['multi_removed']['share']:.2f} ({g['multi_removed']['n']})")
    print("\nCPU s per document:", {k: round(v, 3) for k, v in cpu.items()},
          "documents per CPU-second:", {k: round(v, 3) for k, v in results["documents_per_cpu_second"].items()})
    print("bf16 vs fp32:", results.get("bf16_vs_fp32"), "load average", os.getloadavg())


if __name__ == "__main__":
    main()
