"""Safety + Quality classifiers together, documents per CPU-second: today's models and code against the
multilingual e5 models with one shared encoder pass and bf16, in the same run, on the same corpus.

The corpus: real documents (the gold main texts of ../shared/data/warc/built, English and Chinese pages,
and the Chinese Skywork documents), scored at the stages' window (inference.max_tokens, 256; documents
cut to their head), on one torch thread, by:
- today: `main`'s code and models (--baseline-root, default /work/main, its models or --baseline-models,
  run by its own virtualenv in a child process that stays up between rounds): the Safety stage's Scorer (toxicity + pornography on
  all-MiniLM-L6-v2), then the Quality stage's Scorer (ad + fluency on the same encoder): two encoder
  passes per document, float32;
- new: this checkout's bundled models on the converted multilingual-e5-small: Safety's Scorer keeps the
  pooled vectors, Quality's Scorer scores from them (one encoder pass per document), in the dtype of
  --dtype (auto: bf16 where the CPU has it natively);
- new, fp32, two passes: the same e5 models without either saving, to show what each saving brings
  (--no-fp32-path leaves it out: it costs more CPU than the other two together).
--max-tokens is the window of both sides; --new-max-tokens gives the new paths a smaller one (a
smaller inference.max_tokens) while today stays at --max-tokens.
Each path is timed as CPU seconds of its own process (one thread: one core's work, whatever else the
machine runs), in alternating rounds; the best round counts. Printed per language (zh: documents with
CJK characters; en: the others) and overall: documents per CPU-second and the ratio to today. The load
average before and after is printed beside the figures.

Usage: nice -n 10 .venv/bin/python bench/quality/bench_safety_quality_speed.py [--docs 240] [--rounds 3]
           [--max-tokens 256] [--new-max-tokens N] [--no-fp32-path]
Results: stdout and bench/results/safety_quality_speed.json.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import os
import subprocess
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # bench/, for common.py

from common import ROOT, real_texts, write_result  # noqa: E402

SAFETY, QUALITY = ["toxicity", "pornography"], ["ad", "fluency"]

# Run by the baseline's own interpreter: reads a JSON line (texts) per round, answers CPU seconds.
BASELINE_WORKER = r'''
import json, sys, time
import torch
torch.set_num_threads(1)
from corpusforge.udfs.classifiers import ClassifierCard, Scorer, WindowPolicy
models, max_tokens = sys.argv[1], int(sys.argv[2])
policy = WindowPolicy(max_tokens, "head", 3, "max", 32)
safety = Scorer([ClassifierCard.load(f"{models}/{m}") for m in ("toxicity", "pornography")], policy, "cpu")
quality = Scorer([ClassifierCard.load(f"{models}/{m}") for m in ("ad", "fluency")], policy, "cpu")
safety.score(["warm up"]); quality.score(["warm up"])
print(json.dumps({"ready": True}), flush=True)
for line in sys.stdin:
    texts = json.loads(line)
    cpu, wall = time.process_time(), time.perf_counter()
    a = safety.score(texts); b = quality.score(texts)
    print(json.dumps({"cpu": time.process_time() - cpu, "wall": time.perf_counter() - wall,
                      "toxicity": a["toxicity"][:, 0].tolist()}), flush=True)
'''


def loadavg() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def is_chinese(text: str) -> bool:
    return sum("\u4e00" <= c <= "\u9fff" for c in text[:2000]) > 20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--docs", type=int, default=240)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--max-tokens", type=int, default=256)
    parser.add_argument("--new-max-tokens", type=int, default=None,
                        help="the new paths' window (default: --max-tokens); today keeps --max-tokens")
    parser.add_argument("--dtype", default="auto", choices=["auto", "fp32", "bf16"])
    parser.add_argument("--no-fp32-path", action="store_true", help="leave out the 'new fp32, two passes' path")
    parser.add_argument("--baseline-root", default="/work/main")
    parser.add_argument("--baseline-models", default=None,
                        help="today's model directories (default: BASELINE_ROOT/resources/models), e.g. an "
                             "export of main's: git archive main resources/models | tar -x -C DIR")
    args = parser.parse_args()

    import torch

    from corpusforge.udfs.classifiers import ClassifierCard, Scorer, WindowPolicy, encoder_identity, pick_dtype

    torch.set_num_threads(1)
    texts = real_texts(args.docs)
    subsets = {"zh": [t for t in texts if is_chinese(t)], "en": [t for t in texts if not is_chinese(t)],
               "all": texts}
    new_max_tokens = args.new_max_tokens or args.max_tokens
    policy = WindowPolicy(new_max_tokens, "head", 3, "max", 32)
    cards = {m: ClassifierCard.load(ROOT / "resources" / "models" / m) for m in SAFETY + QUALITY}
    ids = {m: encoder_identity(c.encoder_path()) for m, c in cards.items()}
    dtype = pick_dtype(args.dtype, "cpu")

    def scorers(kind: str, read: WindowPolicy = policy):
        d = dtype if kind == "new" else "fp32"
        return (Scorer([cards[m] for m in SAFETY], read, "cpu", d, [ids[m] for m in SAFETY]),
                Scorer([cards[m] for m in QUALITY], read, "cpu", d, [ids[m] for m in QUALITY]))

    paths = {"new": scorers("new")}
    if any(c.second_look for c in cards.values()):  # what the second look costs: the same path without it
        paths["new, heads only"] = scorers("new", dataclasses.replace(policy, second_look=False))
    if not args.no_fp32_path:
        paths["new fp32, two passes"] = scorers("fp32")
    for safety, quality in paths.values():
        safety.run(["warm up"])
        quality.run(["warm up"])

    def run_new(name: str, docs: list[str]):
        safety, quality = paths[name]
        cpu, wall = time.process_time(), time.perf_counter()
        if name.startswith("new") and "fp32" not in name:  # Safety keeps the vectors, Quality scores from them
            _, vectors = safety.run(docs)
            (key, kept), = vectors.items()
            quality.run(docs, stored=[{key: v} for v in kept])
        else:
            safety.run(docs)
            quality.run(docs)
        return time.process_time() - cpu, time.perf_counter() - wall

    baseline_models = args.baseline_models or f"{args.baseline_root}/resources/models"
    baseline = subprocess.Popen([f"{args.baseline_root}/.venv/bin/python", "-c", BASELINE_WORKER, baseline_models,
                                 str(args.max_tokens)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                                cwd=args.baseline_root, env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert json.loads(baseline.stdout.readline())["ready"]

    def run_today(docs: list[str]):
        baseline.stdin.write(json.dumps(docs) + "\n")
        baseline.stdin.flush()
        answer = json.loads(baseline.stdout.readline())
        return answer["cpu"], answer["wall"]

    before = loadavg()
    timings = {lang: {k: [] for k in ("today", *paths)} for lang in subsets}
    for _ in range(args.rounds):
        for lang in ("zh", "en"):  # "all" is their sum in the same round: every document once
            timings[lang]["today"].append(run_today(subsets[lang]))
            for name in paths:
                timings[lang][name].append(run_new(name, subsets[lang]))
        for name in timings["all"]:
            timings["all"][name].append(tuple(a + b for a, b in zip(timings["zh"][name][-1], timings["en"][name][-1])))
    baseline.stdin.close()
    baseline.wait()
    after = loadavg()

    counts = dict(paths["new"][0].counts), dict(paths["new"][1].counts)
    result = {"docs": {k: len(v) for k, v in subsets.items()}, "max_tokens": args.max_tokens,
              "new_max_tokens": new_max_tokens, "dtype": dtype,
              "rounds": args.rounds, "load_before": before, "load_after": after, "by_language": {},
              "new_pass_counts": {"safety": counts[0], "quality": counts[1]}}
    window = (f"{args.max_tokens}" if new_max_tokens == args.max_tokens
              else f"{args.max_tokens} (today), {new_max_tokens} (new)")
    print(f"{len(texts)} real documents ({len(subsets['zh'])} zh, {len(subsets['en'])} en), head window "
          f"{window} tokens, 1 torch thread, best of {args.rounds} alternating rounds; new dtype {dtype}; "
          f"load {before} -> {after}")
    print(f"{'language':<8} {'path':<22} {'CPU s':>8} {'wall s':>8} {'docs/CPU-s':>11} {'vs today':>9}")
    for lang, by_path in timings.items():
        best = {k: min(c for c, _ in v) for k, v in by_path.items()}
        wall = {k: min(w for _, w in v) for k, v in by_path.items()}
        rate = {k: len(subsets[lang]) / v for k, v in best.items()}
        result["by_language"][lang] = {"cpu_seconds": best, "wall_seconds": wall, "docs_per_cpu_second": rate,
                                       "ratio_to_today": {k: rate[k] / rate["today"] for k in rate}}
        for k in by_path:
            print(f"{lang:<8} {k:<22} {best[k]:8.2f} {wall[k]:8.2f} {rate[k]:11.2f} {rate[k] / rate['today']:8.2f}x")
    print(f"new path forward passes: Safety encoded {counts[0].get('documents_encoded', 0)} documents, Quality "
          f"encoded {counts[1].get('documents_encoded', 0)} and reused {counts[1].get('documents_reused', 0)}; "
          f"Safety's second look read {counts[0].get('second_look_documents', 0)} documents again")
    print(json.dumps(result))
    write_result("safety_quality_speed", result)


if __name__ == "__main__":
    main()
