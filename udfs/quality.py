"""The Quality stage's decisions, as plain Python: combined scores, thresholds per language and site,
and the verdict of one document.

The report removes documents whose advertisement or fluency score is past a threshold, and tunes
thresholds per domain. Thresholds here are a table from conf: a default per score key, overlaid by
the document language's entries, then by those of every site pattern its URL matches, in conf order
(the same pattern rules as the Clean stage: a pattern without "/" matches the host, `*.example.com`;
one with "/" matches host + path, `example.com/forum/*`; shell-style, case-insensitive).
"""
from __future__ import annotations

import fnmatch
import math
import re
from dataclasses import dataclass
from typing import Mapping, Sequence
from urllib.parse import urlsplit

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
class ThresholdTable:
    """conf quality.thresholds as plain values, model thresholds already filled in for nulls."""
    default: Mapping[str, float]
    languages: Mapping[str, Mapping[str, float]]
    domains: tuple[tuple[str, Mapping[str, float]], ...]


class ThresholdPicker:
    """The thresholds of a document from its language, host and URL; cached per (language, sites)."""

    def __init__(self, table: ThresholdTable):
        self.table = table
        self._host = [(p, _compile(p)) for p, _ in table.domains if "/" not in p]
        self._path = [(p, _compile(p)) for p, _ in table.domains if "/" in p]
        self._overrides = dict(table.domains)
        self._sites: dict[tuple[str, str], tuple[str, ...]] = {}
        self._resolved: dict[tuple[str | None, tuple[str, ...]], tuple[dict[str, float], str]] = {}

    def sites_for(self, host: str | None, url: str | None) -> tuple[str, ...]:
        """The site patterns the document matches, in conf order."""
        if not self.table.domains:
            return ()
        host = (host or (urlsplit(url).hostname if url else None) or "").lower().rstrip(".")
        path = (urlsplit(url).path or "/") if (url and self._path) else "/"
        key = (host, path)
        if key not in self._sites:
            matched = {p for p, rx in self._host if rx.match(host)}
            matched |= {p for p, rx in self._path if rx.match(f"{host}{path}")}
            self._sites[key] = tuple(p for p, _ in self.table.domains if p in matched)
        return self._sites[key]

    def language_entry(self, language: str | None) -> str | None:
        """The language key that applies: the code itself, else its base (zh-Hant → zh)."""
        if not language:
            return None
        if language in self.table.languages:
            return language
        base = language.split("-", 1)[0]
        return base if base in self.table.languages else None

    def for_document(self, language: str | None, host: str | None, url: str | None) -> tuple[dict[str, float], str]:
        """(score key → threshold, the rules applied: "default", "default+language:zh+site:*.gov.cn")."""
        entry, sites = self.language_entry(language), self.sites_for(host, url)
        key = (entry, sites)
        if key not in self._resolved:
            resolved = dict(self.table.default)
            rules = ["default"]
            if entry is not None:
                resolved.update(self.table.languages[entry])
                rules.append(f"language:{entry}")
            for site in sites:
                resolved.update(self._overrides[site])
                rules.append(f"site:{site}")
            self._resolved[key] = (resolved, "+".join(rules))
        return self._resolved[key]


def _compile(pattern: str) -> re.Pattern:
    return re.compile(fnmatch.translate(pattern.lower()))


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

