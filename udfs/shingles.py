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
datasketch's `hashfunc`).

Two implementations, bit-identical: the reference (`tokens`, `TokenBatch`, `shingle_hashes`,
`unique_per_document`: Python and numpy, what tests and benchmarks compare against) and the stage's
(`shingle_features`): NFKC, lower case and number folding stay in Python (C-implemented), then one
compiled pass (numba) over the UTF-8 bytes of a whole batch splits tokens with a per-code-point class
table filled from the same rule as `tokens` (`_TokenFold`), hashes each token with xxh32, writes the
normalised text the content hash reads, and a second builds each document's sorted shingle set.
Hand-written because no library tokenises, hashes and shingles a batch of texts in one pass; the
Python tokens cost about as much as everything after them together.
"""
from __future__ import annotations

import hashlib
import os
import unicodedata
from dataclasses import dataclass

import mmh3
import numba
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


def folded(text: str, fold_digits: bool = True) -> str:
    """NFKC, lower case and (by default) every number folded to "0": the text tokens are split from."""
    text = unicodedata.normalize("NFKC", text).lower()
    return _NUMBER.sub("0", text) if fold_digits else text


def tokens(text: str | None, fold_digits: bool = True) -> list[str]:
    """The normalised tokens of a text: words, or single characters of CJK/Thai scripts."""
    if not text:
        return []
    return folded(text, fold_digits).translate(_FOLD).split()


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


# --- the compiled path: tokens, token hashes, normalised text and shingle sets of a whole batch ---------
SEPARATOR, WORD, SINGLE, UNKNOWN = 0, 1, 2, 255
_CLASSES = np.full(0x110000, UNKNOWN, dtype=np.uint8)  # filled lazily from _FOLD, per process
_CACHE = os.path.isfile(__file__)  # numba caches next to a real source file, not inside a zip


def _fill_classes(code_points: np.ndarray) -> None:
    """The class of each code point not seen before, from the very rule `tokens` applies (_FOLD)."""
    for cp in code_points.tolist():
        value = _FOLD[cp]
        _CLASSES[cp] = SEPARATOR if value == " " else WORD if len(value) == 1 else SINGLE


@numba.njit(nogil=True, cache=_CACHE)
def _decode(data, i):  # pragma: no cover - compiled
    """(code point, its byte length) of the UTF-8 sequence at data[i] (surrogates included: surrogatepass)."""
    b = np.uint32(data[i])
    if b < 0x80:
        return b, 1
    if b < 0xE0:
        return ((b & np.uint32(0x1F)) << np.uint32(6)) | (np.uint32(data[i + 1]) & np.uint32(0x3F)), 2
    if b < 0xF0:
        return ((b & np.uint32(0x0F)) << np.uint32(12)) | ((np.uint32(data[i + 1]) & np.uint32(0x3F)) << np.uint32(6)) \
            | (np.uint32(data[i + 2]) & np.uint32(0x3F)), 3
    return ((b & np.uint32(0x07)) << np.uint32(18)) | ((np.uint32(data[i + 1]) & np.uint32(0x3F)) << np.uint32(12)) \
        | ((np.uint32(data[i + 2]) & np.uint32(0x3F)) << np.uint32(6)) | (np.uint32(data[i + 3]) & np.uint32(0x3F)), 4


@numba.njit(nogil=True, cache=_CACHE)
def _unknown_code_points(data, classes):  # pragma: no cover - compiled
    """Code points of data whose class is not known yet (each once; marked so in `classes`)."""
    found = np.empty(0, dtype=np.uint32)
    out = []
    i, n = 0, data.shape[0]
    while i < n:
        cp, width = _decode(data, i)
        if classes[cp] == 255:
            classes[cp] = 254  # pending: reported once, filled by the caller
            out.append(cp)
        i += width
    if len(out) == 0:
        return found
    found = np.empty(len(out), dtype=np.uint32)
    for k in range(len(out)):
        found[k] = out[k]
    return found


_P1, _P2, _P3, _P4, _P5 = (np.uint64(x) for x in (0x9E3779B1, 0x85EBCA77, 0xC2B2AE3D, 0x27D4EB2F, 0x165667B1))
_M32 = np.uint64(0xFFFFFFFF)


@numba.njit(inline="always")
def _rotl32(x, r):  # pragma: no cover - compiled
    return ((x << np.uint64(r)) | (x >> np.uint64(32 - r))) & _M32


@numba.njit(nogil=True, cache=_CACHE)
def _xxh32(data, start, end):  # pragma: no cover - compiled
    """xxHash32 (seed 0) of data[start:end], as xxhash.xxh32_intdigest."""
    length = end - start
    i = start
    if length >= 16:
        v1 = (_P1 + _P2) & _M32
        v2 = _P2
        v3 = np.uint64(0)
        v4 = (np.uint64(0x100000000) - _P1) & _M32
        limit = end - 16
        while i <= limit:
            v1 = (_rotl32((v1 + _lane(data, i) * _P2) & _M32, 13) * _P1) & _M32
            v2 = (_rotl32((v2 + _lane(data, i + 4) * _P2) & _M32, 13) * _P1) & _M32
            v3 = (_rotl32((v3 + _lane(data, i + 8) * _P2) & _M32, 13) * _P1) & _M32
            v4 = (_rotl32((v4 + _lane(data, i + 12) * _P2) & _M32, 13) * _P1) & _M32
            i += 16
        h = (_rotl32(v1, 1) + _rotl32(v2, 7) + _rotl32(v3, 12) + _rotl32(v4, 18)) & _M32
    else:
        h = _P5
    h = (h + np.uint64(length)) & _M32
    while i + 4 <= end:
        h = (h + _lane(data, i) * _P3) & _M32
        h = (_rotl32(h, 17) * _P4) & _M32
        i += 4
    while i < end:
        h = (h + np.uint64(data[i]) * _P5) & _M32
        h = (_rotl32(h, 11) * _P1) & _M32
        i += 1
    h ^= h >> np.uint64(15)
    h = (h * _P2) & _M32
    h ^= h >> np.uint64(13)
    h = (h * _P3) & _M32
    h ^= h >> np.uint64(16)
    return h


@numba.njit(inline="always")
def _lane(data, i):  # pragma: no cover - compiled
    return np.uint64(data[i]) | (np.uint64(data[i + 1]) << np.uint64(8)) | (np.uint64(data[i + 2]) << np.uint64(16)) \
        | (np.uint64(data[i + 3]) << np.uint64(24))


@numba.njit(nogil=True, cache=_CACHE)
def _tokenise(data, offsets, classes):  # pragma: no cover - compiled
    """Tokens of every document of a batch (the UTF-8 bytes of folded texts, data[offsets[d]:offsets[d+1]]):
    (xxh32 of each token, token offsets per document, the tokens joined by single spaces, its offsets)."""
    docs = offsets.shape[0] - 1
    n = data.shape[0]
    hashes = np.empty(n, dtype=np.uint32)  # at most one token per byte
    token_offsets = np.zeros(docs + 1, dtype=np.int64)
    joined = np.empty(2 * n, dtype=np.uint8)  # a CJK character (3+ bytes) gains at most two spaces
    joined_offsets = np.zeros(docs + 1, dtype=np.int64)
    t = 0
    j = 0
    for d in range(docs):
        i, end = offsets[d], offsets[d + 1]
        start = -1  # start of the word being read
        while i <= end:
            if i < end:
                cp, width = _decode(data, i)
                cls = classes[cp]
            else:
                width, cls = 1, 0  # the end closes the last word
            if cls == 1:
                if start < 0:
                    start = i
            else:
                if start >= 0:  # a word ends
                    if j > joined_offsets[d]:
                        joined[j] = 32
                        j += 1
                    for k in range(start, i):
                        joined[j] = data[k]
                        j += 1
                    hashes[t] = np.uint32(_xxh32(data, start, i))
                    t += 1
                    start = -1
                if cls == 2:  # a character of its own
                    if j > joined_offsets[d]:
                        joined[j] = 32
                        j += 1
                    for k in range(i, i + width):
                        joined[j] = data[k]
                        j += 1
                    hashes[t] = np.uint32(_xxh32(data, i, i + width))
                    t += 1
            i += width
        token_offsets[d + 1] = t
        joined_offsets[d + 1] = j
    return hashes[:t], token_offsets, joined[:j], joined_offsets


@numba.njit(nogil=True, cache=_CACHE)
def _shingle_sets(hashes, offsets, n, seed):  # pragma: no cover - compiled
    """Each document's sorted distinct shingle hashes (MurmurHash3_x86_32 of n token hashes), flat."""
    docs = offsets.shape[0] - 1
    total = 0
    for d in range(docs):
        total += max(offsets[d + 1] - offsets[d] - (n - 1), 0)
    out = np.empty(total, dtype=np.uint32)
    out_offsets = np.zeros(docs + 1, dtype=np.int64)
    c1, c2, m5, nn = np.uint64(0xCC9E2D51), np.uint64(0x1B873593), np.uint64(5), np.uint64(0xE6546B64)
    w = 0
    for d in range(docs):
        first = w
        for s in range(offsets[d], offsets[d + 1] - (n - 1)):
            h = np.uint64(seed)
            for k in range(n):
                x = (np.uint64(hashes[s + k]) * c1) & _M32
                x = (_rotl32(x, 15) * c2) & _M32
                h ^= x
                h = (_rotl32(h, 13) * m5 + nn) & _M32
            h ^= np.uint64(4 * n)
            h ^= h >> np.uint64(16)
            h = (h * np.uint64(0x85EBCA6B)) & _M32
            h ^= h >> np.uint64(13)
            h = (h * np.uint64(0xC2B2AE35)) & _M32
            h ^= h >> np.uint64(16)
            out[w] = np.uint32(h)
            w += 1
        if w > first:  # sort, then keep the first of each run of equal values
            out[first:w] = np.sort(out[first:w])
            kept = first + 1
            for k in range(first + 1, w):
                if out[k] != out[kept - 1]:
                    out[kept] = out[k]
                    kept += 1
            w = kept
        out_offsets[d + 1] = w
    return out[:w].copy(), out_offsets


@dataclass
class ShingleFeatures:
    """What the compiled path gives for a batch: per document, its token count, content hash and shingle set."""
    token_counts: np.ndarray  # int32
    content_hashes: list[str]
    shingle_sets: np.ndarray  # uint32, sorted distinct shingle hashes of each document, flat
    shingle_offsets: np.ndarray  # int64, documents + 1


def shingle_features(texts: list[str | None], n: int = NGRAM, fold_digits: bool = True) -> ShingleFeatures:
    """Token counts, content hashes and shingle sets of a batch; equal, document by document, to
    len(tokens(t)), content_hash(tokens(t), t) and unique_per_document(shingle_hashes(...)) of the reference."""
    encoded = [folded(t, fold_digits).encode("utf-8", "surrogatepass") if t else b"" for t in texts]
    lengths = np.fromiter(map(len, encoded), dtype=np.int64, count=len(encoded))
    offsets = np.zeros(len(encoded) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    data = np.frombuffer(b"".join(encoded), dtype=np.uint8)
    unknown = _unknown_code_points(data, _CLASSES)
    if len(unknown):
        _fill_classes(unknown)
    hashes, token_offsets, joined, joined_offsets = _tokenise(data, offsets, _CLASSES)
    counts = np.diff(token_offsets)
    content = []
    for d, text in enumerate(texts):
        if counts[d]:
            digest = hashlib.blake2b(b"t\x00" + joined[joined_offsets[d]:joined_offsets[d + 1]].tobytes(), digest_size=16)
        else:
            digest = hashlib.blake2b(b"r\x00" + (text or "").encode("utf-8", "surrogatepass"), digest_size=16)
        content.append(digest.hexdigest())
    sets, set_offsets = _shingle_sets(hashes, token_offsets, n, SHINGLE_SEED)
    return ShingleFeatures(counts.astype(np.int32), content, sets, set_offsets)
