"""Lexical cohesion across a document's boundaries: the language-model-free half of the coherence
filter.

A coherent long text keeps talking about the same things: its names, terms and rarer words recur
from one end to the other. Two unrelated texts joined together do not share theirs: at the join,
the words of the first part stop and those of the second start. Two statistics of that, each
computed at every boundary of a grid over the document (one pass over its terms, no model):

- `crossing`: the number of repeated term types that occur on both sides of the boundary, as a
  z-score against what a random placement of the same occurrences would give; the feature
  `cross_dip` is the lowest z of the document minus its median z — a join is an outlier against the
  document's own boundaries, whatever the document's length and genre;
- `cross_v`: Cramér's V of the 2 × terms table (term counts before vs after the boundary; terms seen
  at least 5 times), its largest value negated (low: the two sides use different words).

Terms are lower-cased words; in Chinese and Japanese, pairs of adjacent CJK characters (a cheap
stand-in for words that needs no segmenter). Measured on documents spliced from ../shared/data/long
(bench/longtext/README.md): each alone separates spliced from coherent documents better than the
language model's perplexity gains, and the stage combines them (udfs/longtext/coherence.py).
"""
from __future__ import annotations

import re

import numpy as np

_LETTERS = r"[^\W\d_]+(?:['\-][^\W\d_]+)*"
_WORD = re.compile(_LETTERS + r"|\d+")
_CJK_OR_WORD = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+|" + _LETTERS)
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
CJK_LANGUAGES = ("zh", "ja")


def terms(text: str, language: str | None) -> tuple[list[str], list[int]]:
    """The document's terms and their character offsets: words of letters (lower-cased) and numbers;
    for Chinese and Japanese every pair of adjacent CJK characters within a run, and words of letters."""
    out: list[str] = []
    offsets: list[int] = []
    if (language or "").split("-", 1)[0] in CJK_LANGUAGES:
        for m in _CJK_OR_WORD.finditer(text):
            s = m.group(0)
            if _CJK.match(s):
                start = m.start()
                out.extend(s[i:i + 2] for i in range(len(s) - 1))
                offsets.extend(range(start, start + len(s) - 1))
            else:
                out.append(s.lower())
                offsets.append(m.start())
        return out, offsets
    for m in _WORD.finditer(text):
        out.append(m.group(0).lower())
        offsets.append(m.start())
    return out, offsets


def type_ids(tokens: list[str]) -> np.ndarray:
    """Each term as the index of its type (first-seen order)."""
    ids: dict[str, int] = {}
    return np.fromiter((ids.setdefault(t, len(ids)) for t in tokens), dtype=np.int64, count=len(tokens))


def boundary_grid(n: int, points: int, edge: float) -> np.ndarray:
    """Boundaries (term positions) every n // points terms, leaving out the first and last `edge` share."""
    step = max(1, n // points)
    grid = np.arange(step, n, step)
    return grid[(grid >= edge * n) & (grid <= (1 - edge) * n)]


def crossing_z(ids: np.ndarray, boundaries: np.ndarray) -> np.ndarray:
    """At each boundary p: (types with count ≥ 2 occurring both before and after p − expected) / sd,
    where a type of count c is expected to cross with probability 1 − q^c − (1 − q)^c, q = p / n."""
    n = len(ids)
    counts = np.bincount(ids)
    first = np.full(len(counts), n, dtype=np.int64)
    last = np.full(len(counts), -1, dtype=np.int64)
    positions = np.arange(n)
    np.minimum.at(first, ids, positions)
    np.maximum.at(last, ids, positions)
    repeated = counts >= 2
    f, l, c = first[repeated], last[repeated], counts[repeated]
    steps = np.zeros(n + 2, dtype=np.int64)
    np.add.at(steps, f + 1, 1)
    np.add.at(steps, l + 1, -1)
    crossing = np.cumsum(steps)[boundaries]          # types with first < p <= last
    q = boundaries / n
    sizes, how_many = np.unique(c, return_counts=True)
    p_cross = 1 - q[:, None] ** sizes[None, :] - (1 - q[:, None]) ** sizes[None, :]
    expected = (p_cross * how_many[None, :]).sum(1)
    variance = (p_cross * (1 - p_cross) * how_many[None, :]).sum(1)
    return (crossing - expected) / np.sqrt(variance + 1e-9)


def cramers_v(ids: np.ndarray, boundaries: np.ndarray, min_count: int = 5) -> np.ndarray:
    """At each boundary p: Cramér's V of the 2 × types table of counts before and after p, over the
    types seen at least `min_count` times. chi² = n²/(nb·na) · (Σ_v A_v²/T_v − nb²/n), with A_v the
    count of v before p: Σ_v A_v²/T_v grows by (2k + 1)/T_v at the k-th occurrence of v, so the whole
    profile is one cumulative sum, without a boundaries × types matrix."""
    counts = np.bincount(ids)
    kept = counts[ids] >= min_count
    sub = ids[kept]
    n = len(sub)
    if n == 0 or len(boundaries) == 0:
        return np.zeros(len(boundaries))
    order = np.argsort(sub, kind="stable")
    sorted_types = sub[order]
    group_start = np.r_[0, np.flatnonzero(np.diff(sorted_types)) + 1]
    rank_sorted = np.arange(n) - np.repeat(group_start, np.diff(np.r_[group_start, n]))
    rank = np.empty(n, dtype=np.int64)
    rank[order] = rank_sorted
    increments = (2 * rank + 1) / counts[sub]
    s2 = np.r_[0.0, np.cumsum(increments)]
    before = np.cumsum(kept)                          # kept terms before each original position
    nb = np.r_[0, before][boundaries].astype(float)   # boundary p: terms 0..p-1
    na = n - nb
    with np.errstate(divide="ignore", invalid="ignore"):
        chi2 = n * n / (nb * na) * (s2[nb.astype(np.int64)] - nb * nb / n)
    chi2 = np.where((nb > 0) & (na > 0), chi2, 0.0)
    return np.sqrt(np.maximum(chi2, 0.0) / n)


_LINE_START = re.compile(r"(?:^|\n)(?=[^\n])")


def weakest_boundaries(text: str, language: str | None, count: int = 2, points: int = 2000, edge: float = 0.05,
                       separation: float = 0.1) -> list[int]:
    """Character offsets of the document's `count` weakest lexical boundaries, each a line start: the
    lowest crossing z on a fine grid (boundaries at least `separation` of the terms apart), then, within
    ±max(200, n/100) terms of each, the line start with the lowest z. Where the language model looks
    (coherence `anchor_gain`): on the spliced documents of the benchmark's development half the first
    lands exactly on the join in 73% of them. Empty when the document has too few terms."""
    tokens, offsets = terms(text, language)
    ids = type_ids(tokens)
    n = len(ids)
    grid = boundary_grid(n, points, edge)
    if len(grid) < 3:
        return []
    z = crossing_z(ids, grid)
    chosen: list[int] = []
    for i in np.argsort(z, kind="stable"):
        if all(abs(int(grid[i]) - c) > separation * n for c in chosen):
            chosen.append(int(grid[i]))
        if len(chosen) == count:
            break
    term_offsets = np.asarray(offsets)
    out = []
    for p in chosen:
        width = max(200, n // 100)
        low, high = int(term_offsets[max(0, p - width)]), int(term_offsets[min(n - 1, p + width)])
        starts = np.array([m.end() for m in _LINE_START.finditer(text, low, high) if low < m.end() < high])
        if len(starts) == 0:
            before = text.rfind("\n", 0, int(term_offsets[p]))
            out.append(before + 1 if before != -1 else int(term_offsets[p]))
            continue
        at_terms = np.clip(np.searchsorted(term_offsets, starts), 1, n - 1)
        out.append(int(starts[int(np.argmin(crossing_z(ids, at_terms)))]))
    return out


def cohesion_features(text: str, language: str | None, points: int = 400, edge: float = 0.05,
                      v_min_count: int = 5) -> dict[str, float]:
    """{cross_dip, cross_v, cross_argmin}: lower cross_dip and cross_v mean less cohesion at the
    weakest boundary; cross_argmin is that boundary's character offset (where the coherence filter's
    language model looks). NaN when the document has too few terms."""
    tokens, offsets = terms(text, language)
    ids = type_ids(tokens)
    grid = boundary_grid(len(ids), points, edge)
    if len(grid) < 3:
        return {"cross_dip": float("nan"), "cross_v": float("nan"), "cross_argmin": float("nan")}
    z = crossing_z(ids, grid)
    weakest = int(np.argmin(z))
    v = cramers_v(ids, grid, v_min_count)
    return {"cross_dip": float(z[weakest] - np.median(z)), "cross_v": float(-v.max()),
            "cross_argmin": float(offsets[grid[weakest]])}
