"""Text → normalised tokens → 5-gram shingle hashes, the input of exact and fuzzy deduplication.

Normalisation: NFKC, lowercase, every run of digits (with inner . , : / - separators, so dates,
prices and versions count as one number) folded to "0" by default, punctuation and symbols turned
into separators, whitespace collapsed. Digits are folded because web copies of one page differ
mostly in counters, dates, prices and timestamps; pages that differ *only* in their numbers are
templated pages whose text adds nothing new for pretraining. `fold_digits` in conf turns it off.

Tokens: words for space-delimited scripts; one token per character for Han, Hiragana, Katakana,
Hangul and Thai, which write no spaces between words (a character 5-gram is the usual shingle for
Chinese/Japanese; Thai and Korean follow the same rule so mixed-script pages shingle uniformly).

Shingle hash (32 bits, the MinHash input): each token is hashed with xxh32, and a shingle is the
MurmurHash3_x86_32 (seed `SHINGLE_SEED`) of its five token hashes packed as 20 little-endian bytes.
That is a standard function of a byte string (see `shingle_key` / `shingle_hash32`, usable as
datasketch's `hashfunc`), and it is computed here vectorised with numpy over whole batches of
documents; hand-written only because no library hashes sliding windows of an array in bulk.
"""
from __future__ import annotations

import hashlib
import unicodedata
from dataclasses import dataclass

import mmh3
import numpy as np
import regex
import xxhash

NGRAM = 5
SHINGLE_SEED = 0x5EED_C0DE
# Scripts written without spaces between words: one token per character.
_CHAR_SCRIPT = regex.compile(r"[\p{Han}\p{Hiragana}\p{Katakana}\p{Hangul}\p{Thai}]")
_NUMBER = regex.compile(r"\p{Nd}+(?:[.,:/\-]\p{Nd}+)*")


class _TokenFold(dict):
    """str.translate table, filled lazily per code point: separators (whitespace, punctuation,
    symbols, control / unassigned / private-use) become a space, CJK/Thai characters are padded with
    spaces, anything else stays. Format characters (zero-width joiners, soft hyphens) stay inside
    words, where Indic and Persian use them. translate + split is ~3× faster than a regex findall."""

    def __missing__(self, code_point: int) -> str:
        char = chr(code_point)
        category = unicodedata.category(char)
        if _CHAR_SCRIPT.match(char):
            value = f" {char} "
        elif category[0] in "PSZ" or category in ("Cc", "Cs", "Co", "Cn"):
            value = " "
        else:
            value = char
        self[code_point] = value
        return value


_FOLD = _TokenFold()

_C1, _C2 = np.uint32(0xCC9E2D51), np.uint32(0x1B873593)
_M5, _N = np.uint32(5), np.uint32(0xE6546B64)


def tokens(text: str | None, fold_digits: bool = True) -> list[str]:
    """The normalised tokens of a text: words, or single characters of CJK/Thai scripts."""
    if not text:
        return []
    text = unicodedata.normalize("NFKC", text).lower()
    if fold_digits:
        text = _NUMBER.sub("0", text)
    return text.translate(_FOLD).split()


def content_hash(toks: list[str], raw_text: str | None) -> str:
    """128-bit hex hash of the normalised text; exact duplicates share it.

    A text with no token at all (only punctuation, symbols or nothing) is hashed from its raw form
    under another prefix, so such documents are duplicates only when byte-identical and never all
    fall into one group.
    """
    if toks:
        data = b"t\x00" + " ".join(toks).encode("utf-8", "surrogatepass")
    else:
        data = b"r\x00" + (raw_text or "").encode("utf-8", "surrogatepass")
    return hashlib.blake2b(data, digest_size=16).hexdigest()


def token_hash32(token: str) -> int:
    return xxhash.xxh32_intdigest(token.encode("utf-8", "surrogatepass"))


def shingle_key(shingle: tuple[str, ...] | list[str]) -> bytes:
    """The byte form of one shingle: its token hashes as little-endian uint32 (20 bytes for 5-grams)."""
    return np.array([token_hash32(t) for t in shingle], dtype="<u4").tobytes()


def shingle_hash32(key: bytes) -> int:
    """The 32-bit hash of a shingle key: MurmurHash3_x86_32. Pass as datasketch's `hashfunc`."""
    return mmh3.hash(key, SHINGLE_SEED, signed=False)


def shingle_keys(toks: list[str], n: int = NGRAM) -> list[bytes]:
    """The shingles of one token list as byte keys (reference path, for datasketch and tests)."""
    return [shingle_key(toks[i:i + n]) for i in range(len(toks) - n + 1)]


@dataclass
class TokenBatch:
    """Token hashes of many documents, flat, with offsets[i]:offsets[i+1] the tokens of document i."""
    hashes: np.ndarray  # uint32
    offsets: np.ndarray  # int64, len = documents + 1

    @classmethod
    def from_token_lists(cls, token_lists: list[list[str]]) -> "TokenBatch":
        """Hash each distinct token of the batch once (web text repeats most tokens)."""
        cache: dict[str, int] = {}
        flat: list[int] = []
        for toks in token_lists:
            for tok in toks:
                value = cache.get(tok)
                if value is None:
                    value = cache[tok] = token_hash32(tok)
                flat.append(value)
        lengths = np.fromiter((len(t) for t in token_lists), dtype=np.int64, count=len(token_lists))
        offsets = np.zeros(len(token_lists) + 1, dtype=np.int64)
        np.cumsum(lengths, out=offsets[1:])
        return cls(np.array(flat, dtype=np.uint32), offsets)


def _rotl(x: np.ndarray, r: int) -> np.ndarray:
    return (x << np.uint32(r)) | (x >> np.uint32(32 - r))


def fmix32(h: np.ndarray) -> np.ndarray:
    """MurmurHash3's 32-bit finaliser (also datasketch's affine32 pre-mix)."""
    h = h ^ (h >> np.uint32(16))
    h = h * np.uint32(0x85EBCA6B)
    h = h ^ (h >> np.uint32(13))
    h = h * np.uint32(0xC2B2AE35)
    return h ^ (h >> np.uint32(16))


def shingle_hashes(batch: TokenBatch, n: int = NGRAM) -> tuple[np.ndarray, np.ndarray]:
    """(uint32 shingle hashes, offsets): all n-grams of every document with at least n tokens.

    Equal, element for element, to `shingle_hash32(shingle_key(window))` over each document's windows.
    """
    lengths = np.diff(batch.offsets)
    counts = np.maximum(lengths - (n - 1), 0)
    out_offsets = np.zeros(len(counts) + 1, dtype=np.int64)
    np.cumsum(counts, out=out_offsets[1:])
    total = int(out_offsets[-1])
    if total == 0:
        return np.zeros(0, dtype=np.uint32), out_offsets
    # window start of every shingle: document start + position within the document
    doc_of = np.repeat(np.arange(len(counts)), counts)
    starts = batch.offsets[:-1][doc_of] + (np.arange(total) - out_offsets[:-1][doc_of])
    with np.errstate(over="ignore"):
        h = np.full(total, SHINGLE_SEED, dtype=np.uint32)
        for j in range(n):  # n = 5 blocks of MurmurHash3_x86_32, each over the whole batch
            k = batch.hashes[starts + j] * _C1
            k = _rotl(k, 15) * _C2
            h ^= k
            h = _rotl(h, 13) * _M5 + _N
        h ^= np.uint32(4 * n)
        return fmix32(h), out_offsets


def unique_per_document(values: np.ndarray, offsets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each document's values sorted and deduplicated (its shingle *set*), still flat with offsets."""
    doc_of = np.repeat(np.arange(len(offsets) - 1), np.diff(offsets))
    order = np.lexsort((values, doc_of))
    v, d = values[order], doc_of[order]
    keep = np.ones(len(v), dtype=bool)
    keep[1:] = (v[1:] != v[:-1]) | (d[1:] != d[:-1])
    v, d = v[keep], d[keep]
    new_offsets = np.zeros(len(offsets), dtype=np.int64)
    np.cumsum(np.bincount(d, minlength=len(offsets) - 1), out=new_offsets[1:])
    return v, new_offsets
