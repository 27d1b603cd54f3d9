"""Classifier decisions, as plain Python: a multi-output classifier's combined score and the verdict
of one document against its thresholds (Safety and Quality alike).

The report removes documents whose classifier score is past a threshold, tuned per domain: the
thresholds of a document come from the override table (udfs/overrides.py), a default per score key
overlaid by the document's language, then by every site pattern its URL matches.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np

COMBINE_METHODS = ("weighted_mean", "geometric_mean", "min")


def combine(scores: np.ndarray, outputs: Sequence[str], method: str, weights: Mapping[str, float]) -> np.ndarray:
    """One score per row from a multi-output classifier's [rows, outputs] scores (fluency from its
    four aspects). Outputs with weight 0 are ignored; a NaN row (not scored) stays NaN."""
    w = np.array([float(weights.get(o, 0.0)) for o in outputs])
    if w.sum() <= 0:
        raise ValueError(f"combine weights {dict(weights)} give no output of {list(outputs)} a positive weight")
    scores = np.asarray(scores, dtype=float).reshape(-1, len(outputs))
    if method == "weighted_mean":
        return scores @ w / w.sum()
    if method == "geometric_mean":
        return np.exp(np.log(np.clip(scores, 1e-12, 1.0)) @ w / w.sum())
    if method == "min":
        return scores[:, w > 0].min(axis=1)
    raise ValueError(f"unknown combine method {method!r}; use one of {', '.join(COMBINE_METHODS)}")


@dataclass(frozen=True)
class Check:
    """One thresholded score: its key in `scores`, the classifier it belongs to (the removal reason),
    its direction, and the keys shown next to it in a removed document's detail."""
    key: str
    classifier: str
    direction: str                # above: a score above the threshold removes; below: under it
    context: tuple[str, ...] = ()


def past(value: float, threshold: float, direction: str) -> bool:
    return value > threshold if direction == "above" else value < threshold


def verdict(scores: Mapping[str, float | None], thresholds: Mapping[str, float],
            checks: Sequence[Check]) -> tuple[str | None, str | None]:
    """(reason, detail) of the first check whose score is past its threshold, else (None, None).
    A score that is missing (the classifier does not cover the language) never removes."""
    for check in checks:
        value, threshold = scores.get(check.key), thresholds.get(check.key)
        if value is None or threshold is None or (isinstance(value, float) and math.isnan(value)):
            continue
        if past(value, threshold, check.direction):
            sign = ">" if check.direction == "above" else "<"
            shown = [f"{k.rsplit('.', 1)[-1]} {scores[k]:.3f}" for k in check.context if scores.get(k) is not None]
            extra = f" ({', '.join(shown)})" if shown else ""
            return check.classifier, f"{check.key} {value:.4f} {sign} {threshold:.4f}{extra}"
    return None, None

