"""Classifier inference speed per core at the model's full window, against a plain transformers pipeline.

Both sides score the same real pages (the gold main texts of ../shared/data/warc/built, English and
Chinese, plus the Chinese Skywork documents) with the same encoder (all-MiniLM-L6-v2) and the same
trained heads (toxicity and pornography), on one torch thread (one core), at the model's full
window (512 tokens, longer documents cut to their head):
- corpusforge: udfs/classifiers.Scorer — the code every Spark worker runs: documents tokenised in a
  batch, windows length-sorted into batches of at most 32 windows and 8192 tokens (conf
  inference.batch_size / batch_tokens), one encoder pass shared by both heads;
- baseline: transformers.pipeline("feature-extraction") called one document at a time (truncation
  at 512), mean-pooled and normalised as the model card says, then each head — and, as a plain
  pipeline user would, the encoder run once per classifier.
Printed: documents/s per core of each (documents per CPU-second of the single-threaded process, so
other work on a shared machine does not distort it; wall seconds alongside), the ratio, and the
largest score difference between them.

Usage: .venv/bin/python bench/safety/bench_classifier_inference.py [--docs 300]
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # bench/, for common.py

from common import ROOT, real_texts  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--docs", type=int, default=300)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--batch-tokens", type=int, default=8192)
    parser.add_argument("--models", nargs="+", default=["resources/models/toxicity", "resources/models/pornography"])
    args = parser.parse_args()

    import torch
    from safetensors.torch import load_file
    from transformers import pipeline

    from corpusforge.udfs import classifiers
    from corpusforge.udfs.classifiers import ClassifierCard, Scorer, WindowPolicy

    torch.set_num_threads(1)
    texts = real_texts(args.docs)
    cards = [ClassifierCard.load(ROOT / m) for m in args.models]
    encoder_dir = cards[0].encoder_path()
    window = classifiers.load_encoder(encoder_dir, "mean", True, "cpu").window(None)
    print(f"{len(texts)} real pages, {sum(map(len, texts)) / len(texts):,.0f} characters on average; "
          f"window {window} tokens; 1 torch thread; heads: {', '.join(c.name for c in cards)}", flush=True)

    batch_size, batch_tokens = args.batch_size, args.batch_tokens
    scorer = Scorer(cards, WindowPolicy(None, "head", 1, "max", batch_size, batch_tokens), "cpu")
    scorer.score(texts[:4])  # load and warm up
    started, cpu = time.perf_counter(), time.process_time()
    ours = scorer.score(texts)
    ours_seconds, ours_cpu = time.perf_counter() - started, time.process_time() - cpu

    extractor = pipeline("feature-extraction", model=str(encoder_dir), tokenizer=str(encoder_dir), device=-1)
    heads = []
    for card in cards:
        head = classifiers.build_head(extractor.model.config.hidden_size, card.hidden, len(card.outputs))
        head.load_state_dict(load_file(str(card.directory / classifiers.HEAD_FILE)))
        heads.append(head.eval())

    def plain(text: str, head) -> float:
        tokens = extractor(text, truncation=True, max_length=window, return_tensors=True)[0]  # [seq, dim]
        pooled = torch.nn.functional.normalize(tokens.mean(0, keepdim=True), p=2, dim=1)
        with torch.inference_mode():
            return float(torch.sigmoid(head(pooled))[0, 0])

    plain(texts[0], heads[0])
    started, cpu = time.perf_counter(), time.process_time()
    theirs = {card.name: np.array([plain(t, head) for t in texts]) for card, head in zip(cards, heads)}
    theirs_seconds, theirs_cpu = time.perf_counter() - started, time.process_time() - cpu

    diff = max(float(np.abs(ours[c.name][:, 0] - theirs[c.name]).max()) for c in cards)
    # per core = per CPU-second of this single-threaded process (robust when other work shares the cores)
    ours_rate, theirs_rate = len(texts) / ours_cpu, len(texts) / theirs_cpu
    print(f"\n{'path':<52}{'wall s':>8}{'CPU s':>8}{'docs/s/core':>13}")
    print(f"{'corpusforge Scorer (batched, length-sorted, shared)':<52}{ours_seconds:>8.1f}{ours_cpu:>8.1f}{ours_rate:>13.2f}")
    print(f"{'transformers pipeline, one document at a time':<52}{theirs_seconds:>8.1f}{theirs_cpu:>8.1f}{theirs_rate:>13.2f}")
    print(f"speed-up {ours_rate / theirs_rate:.2f}x ({ours_rate / theirs_rate / len(cards):.2f}x per encoder pass, "
          f"i.e. without the shared-encoder saving); largest score difference {diff:.2e} "
          f"over {len(texts)} documents x {len(cards)} classifiers")


if __name__ == "__main__":
    main()
