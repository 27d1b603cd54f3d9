"""MinHash signatures, bit-identical to datasketch 2.x's `affine32` scheme, computed over batches.

datasketch 2.x offers three permutation schemes (datasketch/minhash.py): `legacy`
((a·h + b) mod (2^61 − 1), truncated to 32 bits; kept only for old sketches, biased on large sets
and slower), `affine32` (the 2.x default: pre-mix h with MurmurHash3's fmix32, then a·h + b mod 2^32
with a odd, a bijection) and `affine64` (the same over 64-bit hashes). We pin `affine32`: our shingle
hashes are 32-bit, and it is the scheme datasketch recommends for new data. For a shingle set S and
the same hashfunc, `signatures(...)[i] == datasketch.MinHash(num_perm, seed, hashfunc=…,
scheme="affine32").update_batch(S).hashvalues`, bit for bit (tests/dedup/test_dedup_minhash.py).

The permutation step is one fused, compiled loop (numba) over a whole batch: per shingle, a·h + b
for all permutations folded into a running minimum that stays in cache, which the compiler turns
into SIMD. Hand-written because numpy needs three passes over a (num_perm × shingles) block
(multiply, add, segmented minimum) and is 3–4× slower; datasketch loops over documents in Python.
"""
from __future__ import annotations

import os
from dataclasses import dataclass

import numba
import numpy as np

from corpusforge.udfs.shingles import fmix32, shingle_features

SCHEME = "affine32"
EMPTY = np.uint32(0xFFFFFFFF)  # datasketch's initial value (and the signature of an empty set)


def permutations(num_perm: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(a, b) exactly as datasketch.MinHash._init_permutations draws them for affine32."""
    gen = np.random.RandomState(seed)
    a = gen.randint(0, 1 << 31, num_perm, dtype=np.uint32) * np.uint32(2) + np.uint32(1)
    b = gen.randint(0, 1 << 32, num_perm, dtype=np.uint32)
    return a, b


def signatures(hashes: np.ndarray, offsets: np.ndarray, num_perm: int, seed: int) -> np.ndarray:
    """(documents × num_perm) uint32 MinHash values of the shingle hashes hashes[offsets[i]:offsets[i+1]].

    A document without shingles gets the all-0xFFFFFFFF signature, as datasketch does.
    """
    a, b = permutations(num_perm, seed)
    with np.errstate(over="ignore"):
        mixed = fmix32(np.ascontiguousarray(hashes, dtype=np.uint32))
    return _min_affine(mixed, np.ascontiguousarray(offsets, dtype=np.int64), a, b)


# Cache the compiled kernel next to the source when it is a real file; from a zip on --py-files
# (executors) numba has nowhere to cache and compiles once per worker process (about a second).
@numba.njit(nogil=True, boundscheck=False, cache=os.path.isfile(__file__))
def _min_affine(mixed, offsets, a, b):  # pragma: no cover - compiled
    docs, perms = offsets.shape[0] - 1, a.shape[0]
    out = np.empty((docs, perms), dtype=np.uint32)
    running = np.empty(perms, dtype=np.uint32)
    for d in range(docs):
        running[:] = EMPTY
        for k in range(offsets[d], offsets[d + 1]):
            h = mixed[k]
            for p in range(perms):  # a·h + b wraps mod 2^32, as datasketch's affine32 does
                running[p] = min(running[p], np.uint32(a[p] * h + b[p]))
        out[d, :] = running
    return out


def estimated_jaccard(sig_a: np.ndarray, sig_b: np.ndarray) -> float:
    """Share of equal positions: datasketch's MinHash.jaccard."""
    return float(np.count_nonzero(sig_a == sig_b)) / len(sig_a)


@dataclass
class DedupFeatures:
    """What deduplication needs of a batch of documents, as flat numpy arrays."""
    content_hashes: list[str]
    token_counts: np.ndarray  # int32
    has_signature: np.ndarray  # bool: at least `ngram` tokens
    signatures: np.ndarray  # (documents × num_perm) uint32; all-EMPTY where has_signature is False
    shingle_sets: np.ndarray  # uint32, sorted unique shingle hashes of each document, flat
    shingle_offsets: np.ndarray  # int64, documents + 1


def dedup_features(texts: list[str | None], num_perm: int, seed: int, ngram: int,
                   fold_digits: bool) -> DedupFeatures:
    """Content hash, MinHash signature and shingle set of every text of a batch.

    Documents with fewer than `ngram` tokens have no shingle: they get no signature and are
    deduplicated by their content hash only (exact duplicates of the normalised text). Tokens and
    shingles come from the compiled path (udfs.shingles.shingle_features), bit-identical to the
    reference functions there.
    """
    shingled = shingle_features(texts, ngram, fold_digits)
    counts = shingled.token_counts
    return DedupFeatures(
        content_hashes=shingled.content_hashes,
        token_counts=counts,
        has_signature=counts >= ngram,
        signatures=signatures(shingled.shingle_sets, shingled.shingle_offsets, num_perm, seed),
        shingle_sets=shingled.shingle_sets,
        shingle_offsets=shingled.shingle_offsets,
    )
