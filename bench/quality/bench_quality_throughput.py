"""Safety + Quality classifiers together: one shared encoder pass vs separate models, same run.

The four report classifiers — toxicity and pornography (Safety), advertisement and fluency
(Quality) — are all heads on the frozen all-MiniLM-L6-v2. Scored on real pages (the gold main texts
of ../shared/data/warc/built, English and Chinese, plus the Chinese Skywork documents), on one torch
thread (one core), at the stage's window (inference.max_tokens, 256), documents cut to their head:
- separate: each classifier its own udfs.classifiers.Scorer, so each encodes every document (what
  four independently fine-tuned BERTs, or four stages, would cost);
- shared: one Scorer holding the four heads: each document encoded once, every head reads the one
  pooled vector (what the Quality stage does for ad + fluency);
- encoder only: the forward pass alone, the floor the shared path is compared with.
The three are timed in alternating rounds so drift on a shared machine hits them alike; the figure
is the process's CPU time (one thread = one core's work), wall time shown beside it. Printed:
documents/s per core of each, the ratios, and the largest score difference shared vs separate.

Usage: .venv/bin/python bench/quality/bench_quality_throughput.py [--docs 64] [--rounds 2]

Results: also as JSON, the last line printed and bench/results/quality_throughput.json.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # bench/, for common.py

from common import ROOT, real_texts, write_result  # noqa: E402

MODELS = ["toxicity", "pornography", "ad", "fluency"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--docs", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--max-tokens", type=int, default=256)
    args = parser.parse_args()

    import torch

    from corpusforge.udfs import classifiers
    from corpusforge.udfs.classifiers import ClassifierCard, Scorer, WindowPolicy

    torch.set_num_threads(1)
    texts = real_texts(args.docs)
    cards = [ClassifierCard.load(ROOT / "resources" / "models" / m) for m in MODELS]
    encoders = {str(c.encoder_path().resolve()) for c in cards}
    policy = WindowPolicy(args.max_tokens, "head", 3, "max", 32)
    shared = Scorer(cards, policy, "cpu")
    separate = [Scorer([c], policy, "cpu") for c in cards]
    encoder = classifiers.load_encoder(cards[0].encoder_path(), cards[0].pooling, cards[0].normalize, "cpu")
    shared.score(texts[:4])  # load the encoder and every head before timing
    for s in separate:
        s.score(texts[:4])
    windows, _ = encoder.windows(texts, policy)
    tokens = sum(len(w) for w in windows)

    def encoder_only():
        w, _ = encoder.windows(texts, policy)
        return encoder.embed(w, policy.batch_size)

    paths = {"separate": lambda: {c.name: s.score(texts)[c.name] for c, s in zip(cards, separate)},
             "shared": lambda: shared.score(texts), "encoder only": encoder_only}
    timings = {k: [] for k in paths}  # (CPU seconds of this process, wall seconds)
    results = {}
    for _ in range(args.rounds):
        for name, run in paths.items():
            cpu, wall = time.process_time(), time.perf_counter()
            results[name] = run()
            timings[name].append((time.process_time() - cpu, time.perf_counter() - wall))

    # One torch thread: the process's CPU time is the one core's work, whatever else the machine runs
    # (wall time is printed too; on a busy shared machine it also counts waiting for a core).
    best = {k: min(c for c, _ in v) for k, v in timings.items()}
    wall = {k: min(w for _, w in v) for k, v in timings.items()}
    rate = {k: len(texts) / v for k, v in best.items()}
    diff = max(float(np.nanmax(np.abs(results["shared"][n] - results["separate"][n]))) for n in results["shared"])
    print(f"{len(texts)} real documents, {len(windows)} windows of <= {args.max_tokens} tokens "
          f"({tokens} tokens), classifiers {MODELS} on {len(encoders)} encoder; 1 torch thread; "
          f"best of {args.rounds} alternating rounds")
    print(f"{'path':<14} {'CPU s':>8} {'wall s':>8} {'docs/s/core':>12} {'vs separate':>12}")
    for k in ("separate", "shared", "encoder only"):
        print(f"{k:<14} {best[k]:8.2f} {wall[k]:8.2f} {rate[k]:12.2f} {rate[k] / rate['separate']:11.2f}x")
    print(f"shared path cost = {best['shared'] / best['encoder only']:.3f} forward passes "
          f"(separate: {best['separate'] / best['encoder only']:.3f})")
    print(f"largest score difference shared vs separate: {diff:.2e}")
    result = {"docs": len(texts), "windows": len(windows), "tokens": tokens, "cpu_seconds": best, "wall_seconds": wall,
              "docs_per_s_per_core": rate, "max_abs_diff": diff}
    print(json.dumps(result))
    write_result("quality_throughput", result)


if __name__ == "__main__":
    main()
