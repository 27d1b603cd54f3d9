"""Signature speed: udfs/minhash.py vs datasketch.MinHash.bulk, same shingle sets, same hash function,
bit-identical output (checked on every document), one core, timed in process CPU seconds.

Documents: the real pages of ../shared/data/warc (Format output, see bench/dedup/dedup_corpus.py),
tokenised by udfs.shingles.tokens. Three comparisons, each timed on the same input for both:
  A. permutations only: both get the same uint32 shingle hashes; datasketch with an identity
     hashfunc (the most favourable setting for it);
  B. shingle hashing + MinHash: datasketch gets each shingle as its 20-byte key with
     hashfunc = mmh3.hash (C, the same MurmurHash3 our numpy code computes); ours starts from the
     token hashes of the same documents;
  C. text → signature: ours is the stage's batch function (the compiled tokeniser and shingler of
     udfs.shingles.shingle_features, which also computes content hashes and shingle sets); datasketch
     gets the same tokens from the reference udfs.shingles.tokens, builds keys and hashes them.

Usage: .venv/bin/python bench/dedup/bench_dedup_signatures.py [--repeat 3] [--workdir /tmp/dedup-bench]
"""
from __future__ import annotations

import argparse
import functools
import sys
import time
from pathlib import Path

import mmh3
import numpy as np
from datasketch import MinHash

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # bench/, for common.py

from dedup_corpus import real_pages  # noqa: E402

from corpusforge.udfs.minhash import dedup_features, signatures  # noqa: E402
from corpusforge.udfs.shingles import SHINGLE_SEED, TokenBatch, shingle_hashes, shingle_keys, tokens  # noqa: E402

NUM_PERM, SEED = 128, 1


def best_of(repeat: int, fn):
    times, result = [], None
    for _ in range(repeat):
        t0 = time.process_time()  # CPU time of this process: per-core cost, robust on a shared machine
        result = fn()
        times.append(time.process_time() - t0)
    return min(times), result


def same(ours: np.ndarray, theirs: list[MinHash]) -> bool:
    return all(np.array_equal(o, m.hashvalues) for o, m in zip(ours, theirs)) and len(ours) == len(theirs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--copies", type=int, default=2, help="times the page set is repeated per timing")
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/dedup-bench"))
    args = parser.parse_args()
    texts = [p["text"] for p in real_pages(args.workdir)] * args.copies
    token_lists = [tokens(t) for t in texts]
    token_lists = [t for t in token_lists if len(t) >= 5]
    batch = TokenBatch.from_token_lists(token_lists)
    values, offsets = shingle_hashes(batch)
    docs, shingles = len(token_lists), len(values)
    sets_as_ints = [values[offsets[i]:offsets[i + 1]].tolist() for i in range(docs)]
    sets_as_keys = [shingle_keys(t) for t in token_lists]
    mmh = functools.partial(mmh3.hash, seed=SHINGLE_SEED, signed=False)
    print(f"{docs:,} documents, {shingles:,} shingles ({shingles / docs:.0f} per document), "
          f"{NUM_PERM} permutations, affine32, one core, best of {args.repeat}\n")
    print(f"{'':46s} {'ours docs/s':>12s} {'datasketch':>12s} {'ratio':>7s}  identical")

    def row(name, ours_fn, theirs_fn, check):
        t_ours, ours = best_of(args.repeat, ours_fn)
        t_theirs, theirs = best_of(max(1, args.repeat - 1), theirs_fn)
        print(f"{name:46s} {docs / t_ours:12,.0f} {docs / t_theirs:12,.0f} {t_theirs / t_ours:6.1f}×  {check(ours, theirs)}")

    row("A. permutations (same uint32 shingle hashes)",
        lambda: signatures(values, offsets, NUM_PERM, SEED),
        lambda: MinHash.bulk(sets_as_ints, num_perm=NUM_PERM, seed=SEED, hashfunc=int, scheme="affine32"),
        same)
    row("B. shingle hashing + permutations",
        lambda: signatures(*shingle_hashes(batch), NUM_PERM, SEED),
        lambda: MinHash.bulk(sets_as_keys, num_perm=NUM_PERM, seed=SEED, hashfunc=mmh, scheme="affine32"),
        same)
    row("C. text → signature (incl. tokenising)",
        lambda: dedup_features(texts, NUM_PERM, SEED, 5, True).signatures,
        lambda: MinHash.bulk((shingle_keys(tokens(t)) for t in texts), num_perm=NUM_PERM, seed=SEED,
                             hashfunc=mmh, scheme="affine32"),
        lambda o, t: same(o[[len(tokens(x)) >= 5 for x in texts]],
                          [m for m, x in zip(t, texts) if len(tokens(x)) >= 5]))


if __name__ == "__main__":
    main()
