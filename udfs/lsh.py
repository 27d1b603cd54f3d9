"""LSH banding arithmetic: the S-curve that says how likely a pair of Jaccard s becomes a candidate.

With b bands of r rows, two documents share at least one band with probability
1 − (1 − s^r)^b. datasketch's MinHashLSH picks (b, r) minimising the *area* of false positives plus
false negatives; for threshold 0.7 and 128 permutations that is (14, 9), which makes a pair at exactly
0.7 a candidate only 44% of the time. We verify every candidate afterwards, so false positives of
the banding only cost work, and we pick (b, r) for recall at the threshold instead.
"""
from __future__ import annotations

import numpy as np


def candidate_probability(s, bands: int, rows: int):
    """P(a pair with Jaccard s shares at least one of `bands` bands of `rows` rows)."""
    s = np.asarray(s, dtype=float)
    return 1.0 - (1.0 - s ** rows) ** bands


def false_negative_area(threshold: float, bands: int, rows: int, points: int = 2001) -> float:
    """∫ over [threshold, 1] of P(not a candidate): datasketch's false-negative weight."""
    s = np.linspace(threshold, 1.0, points)
    return float(np.trapezoid(1.0 - candidate_probability(s, bands, rows), s))


def false_positive_area(threshold: float, bands: int, rows: int, points: int = 2001) -> float:
    """∫ over [0, threshold] of P(candidate): datasketch's false-positive weight."""
    s = np.linspace(0.0, threshold, points)
    return float(np.trapezoid(candidate_probability(s, bands, rows), s))


def datasketch_optimum(threshold: float, num_perm: int) -> tuple[int, int]:
    """(b, r) that datasketch.MinHashLSH would choose with equal weights (its defaults)."""
    best, best_error = (1, 1), float("inf")
    for bands in range(1, num_perm + 1):
        for rows in range(1, num_perm // bands + 1):
            error = false_positive_area(threshold, bands, rows, 201) + false_negative_area(threshold, bands, rows, 201)
            if error < best_error:
                best, best_error = (bands, rows), error
    return best


def s_curve_table(settings: list[tuple[int, int]], similarities=(0.3, 0.5, 0.6, 0.65, 0.7, 0.75, 0.8, 0.9)) -> str:
    """A plain-text table of candidate probabilities, one row per (b, r)."""
    header = "  b ×  r | " + " ".join(f"J={s:<5}" for s in similarities)
    lines = [header, "-" * len(header)]
    for bands, rows in settings:
        probs = candidate_probability(np.array(similarities), bands, rows)
        lines.append(f"{bands:3d} × {rows:2d} | " + " ".join(f"{p:7.4f}" for p in probs))
    return "\n".join(lines)


if __name__ == "__main__":  # python -m corpusforge.udfs.lsh: the S-curve numbers behind the default (b, r)
    print(s_curve_table([(14, 9), (16, 8), (20, 6), (25, 5), (32, 4), (42, 3)]))
    print("datasketch optimum for 0.7 / 128:", datasketch_optimum(0.7, 128))
