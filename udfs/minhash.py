"""MinHash signatures, bit-identical to datasketch 2.x's `affine32` scheme, computed over batches.

datasketch 2.x offers three permutation schemes (datasketch/minhash.py): `legacy`
((a·h + b) mod (2^61 − 1), truncated to 32 bits; kept only for old sketches, biased on large sets
and slower), `affine32` (the 2.x default: pre-mix h with MurmurHash3's fmix32, then a·h + b mod 2^32
with a odd, a bijection) and `affine64` (the same over 64-bit hashes). We pin `affine32`: our shingle
hashes are 32-bit, and it is the scheme datasketch recommends for new data. For a shingle set S and
the same hashfunc, `signatures(...)[i] == datasketch.MinHash(num_perm, seed, hashfunc=…,
scheme="affine32").update_batch(S).hashvalues`, bit for bit (tests/test_dedup_minhash.py).

The permutation step is vectorised over a whole batch of documents: a (num_perm × chunk) block of
a·h + b per chunk of shingles, then a segmented minimum per document (`np.minimum.reduceat`); the
Python loop runs over chunks of data, never over permutations or documents.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from udfs.shingles import TokenBatch, content_hash, fmix32, shingle_hashes, tokens, unique_per_document

SCHEME = "affine32"
EMPTY = np.uint32(0xFFFFFFFF)  # datasketch's initial value (and the signature of an empty set)
_CHUNK = 8192  # shingles per block: 128 × 8192 × 4 B = 4 MiB, cache-friendly on common CPUs


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
    docs = len(offsets) - 1
    out = np.full((num_perm, docs), EMPTY, dtype=np.uint32)
    if len(hashes) == 0:
        return out.T.copy()
    with np.errstate(over="ignore"):
        mixed = fmix32(hashes.astype(np.uint32, copy=False))
    doc_of = np.repeat(np.arange(docs), np.diff(offsets))
    col_a, col_b = a[:, None], b[:, None]
    block = np.empty((num_perm, _CHUNK), dtype=np.uint32)
    for lo in range(0, len(mixed), _CHUNK):
        hi = min(len(mixed), lo + _CHUNK)
        view = block[:, :hi - lo]
        np.multiply(col_a, mixed[None, lo:hi], out=view)  # wraps mod 2^32, as intended
        np.add(view, col_b, out=view)
        owner = doc_of[lo:hi]
        starts = np.flatnonzero(np.r_[True, owner[1:] != owner[:-1]])
        partial = np.minimum.reduceat(view, starts, axis=1)
        ids = owner[starts]  # each document at most once per block
        out[:, ids] = np.minimum(out[:, ids], partial)
    return np.ascontiguousarray(out.T)


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
    deduplicated by their content hash only (exact duplicates of the normalised text).
    """
    token_lists = [tokens(t, fold_digits) for t in texts]
    hashes = [content_hash(toks, text) for toks, text in zip(token_lists, texts)]
    batch = TokenBatch.from_token_lists(token_lists)
    values, offsets = shingle_hashes(batch, ngram)
    sets, set_offsets = unique_per_document(values, offsets)
    counts = np.diff(batch.offsets).astype(np.int32)
    return DedupFeatures(
        content_hashes=hashes,
        token_counts=counts,
        has_signature=counts >= ngram,
        signatures=signatures(sets, set_offsets, num_perm, seed),
        shingle_sets=sets,
        shingle_offsets=set_offsets,
    )
