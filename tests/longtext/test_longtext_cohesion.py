"""Lexical cohesion across boundaries (no model): terms, the crossing profile, Cramér's V."""
from __future__ import annotations

import random

import numpy as np
import pytest

from corpusforge.udfs.longtext import cohesion as L


def test_terms_are_lowercased_words_or_cjk_character_pairs():
    assert L.terms("The cat's 12 cats", "en")[0] == ["the", "cat's", "12", "cats"]
    tokens, offsets = L.terms("辽宁省 Shenyang 沈阳", "zh")
    assert tokens == ["辽宁", "宁省", "shenyang", "沈阳"] and offsets == [0, 1, 4, 13]


def _words(vocabulary: list[str], n: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    return [rng.choice(vocabulary) for _ in range(n)]


COMMON = [f"c{i}" for i in range(30)]
PART_A = [f"a{i}" for i in range(300)]
PART_B = [f"b{i}" for i in range(300)]


def _text(words: list[str]) -> str:
    return "\n".join(" ".join(words[i:i + 12]) for i in range(0, len(words), 12))


def test_a_join_of_two_vocabularies_is_the_weakest_boundary_and_scores_lower():
    coherent = _text(_words(COMMON + PART_A, 6000, 0))
    first = _words(COMMON + PART_A, 3000, 1)                 # 250 whole lines: the join is a line start
    spliced = _text(first + _words(COMMON + PART_B, 3000, 2))
    join = len(_text(first)) + 1
    a, b = L.cohesion_features(coherent, "en"), L.cohesion_features(spliced, "en")
    assert b["cross_dip"] < a["cross_dip"] - 5 and b["cross_v"] < a["cross_v"]
    assert abs(b["cross_argmin"] - join) < 0.01 * len(spliced)


def test_the_weakest_boundaries_are_line_starts_the_first_at_the_join():
    first = _words(COMMON + PART_A, 3000, 1)
    spliced = _text(first + _words(COMMON + PART_B, 3000, 2))
    join = len(_text(first)) + 1
    found = L.weakest_boundaries(spliced, "en", count=2)
    assert found[0] == join
    assert len(found) == 2 and all(spliced[b - 1] == "\n" for b in found)
    assert abs(found[1] - found[0]) > 0.05 * len(spliced)          # candidates are kept apart
    assert L.weakest_boundaries("two words", "en") == []


def test_crossing_z_counts_types_on_both_sides():
    ids = np.array([0, 1, 0, 2, 2, 1])  # boundary 3: type 0 (0, 2) before only, 1 (1, 5) crosses, 2 after only
    z = L.crossing_z(ids, np.array([3]))
    q = 0.5
    expected = sum(1 - q ** c - (1 - q) ** c for c in (2, 2, 2))
    variance = sum((1 - q ** c - (1 - q) ** c) * (q ** c + (1 - q) ** c) for c in (2, 2, 2))
    assert z[0] == pytest.approx((1 - expected) / np.sqrt(variance), rel=1e-6)


def test_cramers_v_equals_the_contingency_table_formula():
    rng = np.random.default_rng(0)
    ids = np.concatenate([rng.integers(0, 8, 400), rng.integers(4, 12, 400)])
    boundaries = np.array([100, 400, 650])
    got = L.cramers_v(ids, boundaries, min_count=5)
    counts = np.bincount(ids)
    kept = ids[counts[ids] >= 5]
    before_kept = np.cumsum(counts[ids] >= 5)
    for p, v in zip(boundaries, got):
        nb = before_kept[p - 1]
        table = np.stack([np.bincount(kept[:nb], minlength=12), np.bincount(kept[nb:], minlength=12)])
        table = table[:, table.sum(0) > 0].astype(float)
        n = table.sum()
        expected = table.sum(1, keepdims=True) * table.sum(0, keepdims=True) / n
        chi2 = ((table - expected) ** 2 / expected).sum()
        assert v == pytest.approx(np.sqrt(chi2 / n), rel=1e-9)


def test_a_text_too_short_for_a_profile_gives_nan():
    assert np.isnan(L.cohesion_features("one two", "en")["cross_dip"])
