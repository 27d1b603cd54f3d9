"""One document through the Clean stage: normalise it, pick its thresholds, apply every rule.

Thresholds are tailored per language and per site, as the report asks for long texts: the base
thresholds (the published English defaults) are overlaid with the document language's overrides,
then with those of every site pattern its URL matches, in conf order. A pattern without "/" is
matched against the host (`*.wikipedia.org`, `github.com`); one with "/" against host + path
(`example.com/docs/*`). Patterns are shell-style (fnmatch), matched case-insensitively.
"""
from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass
from typing import Any, Mapping
from urllib.parse import urlsplit

from corpusforge.udfs.clean_rules import RULES, Measures, Verdict
from corpusforge.udfs.text_normalise import Normalised, NormaliseOptions, normalise

EDIT_SCORE_PREFIX = "norm_"


@dataclass(frozen=True)
class CleanSettings:
    """conf clean, as plain values."""
    normalise: NormaliseOptions
    thresholds: Mapping[str, Any]
    languages: Mapping[str, Mapping[str, Any]]
    domains: tuple[tuple[str, Mapping[str, Any]], ...]


@dataclass(frozen=True)
class Cleaned:
    text: str
    verdicts: tuple[Verdict, ...]
    normalised: Normalised
    thresholds: Mapping[str, Any]
    matched_sites: tuple[str, ...]

    @property
    def failed_rules(self) -> list[str]:
        return [v.rule for v in self.verdicts if not v.keep]

    @property
    def keep(self) -> bool:
        return all(v.keep for v in self.verdicts)

    @property
    def reason(self) -> str | None:
        """The first failing rule, in RULES order."""
        return next((v.rule for v in self.verdicts if not v.keep), None)

    @property
    def detail(self) -> str | None:
        first = next((v for v in self.verdicts if not v.keep), None)
        return None if first is None else describe(first)

    @property
    def scores(self) -> dict[str, float]:
        """Every rule statistic, and the normalisation edits per reason, for the document's scores map."""
        scores = {v.statistic: v.value for v in self.verdicts}
        scores.update({EDIT_SCORE_PREFIX + reason: float(n) for reason, n in self.normalised.edits.items()})
        return scores


def settings_from_conf(section: Mapping[str, Any]) -> CleanSettings:
    """CleanSettings from conf clean as plain data (Config.clean.model_dump())."""
    normalise = dict(section["normalise"])
    normalise["policy_phrases"] = tuple(normalise["policy_phrases"])
    normalise["javascript_phrases"] = tuple(normalise["javascript_phrases"])
    return CleanSettings(normalise=NormaliseOptions(**normalise), thresholds=dict(section["thresholds"]),
                         languages={k: dict(v or {}) for k, v in section["languages"].items()},
                         domains=tuple((k, dict(v or {})) for k, v in section["domains"].items()))


def describe(v: Verdict) -> str:
    sign = "<" if v.bound == "min" else ">"
    return f"{v.statistic}={v.value:.4g} {sign} {v.threshold:g}"


class Cleaner:
    """Applies conf clean to documents; caches the resolved thresholds per language and site."""

    def __init__(self, settings: CleanSettings):
        self.settings = settings
        self._host_patterns = [(p, _compile(p)) for p, _ in settings.domains if "/" not in p]
        self._path_patterns = [(p, _compile(p)) for p, _ in settings.domains if "/" in p]
        self._overrides = dict(settings.domains)
        self._by_host: dict[str, tuple[str, ...]] = {}
        self._resolved: dict[tuple[str | None, tuple[str, ...]], dict[str, Any]] = {}

    def sites_for(self, host: str | None, url: str | None) -> tuple[str, ...]:
        """The site patterns a document matches, in conf order."""
        if not self.settings.domains:
            return ()
        host = (host or (urlsplit(url).hostname if url else None) or "").lower()
        on_host = self._by_host.get(host)
        if on_host is None:
            on_host = tuple(p for p, rx in self._host_patterns if rx.match(host))
            self._by_host[host] = on_host
        if not self._path_patterns or not url:
            return on_host
        parts = urlsplit(url)
        site_path = f"{host}{parts.path or '/'}"
        on_path = tuple(p for p, rx in self._path_patterns if rx.match(site_path))
        matched = set(on_host + on_path)
        return tuple(p for p, _ in self.settings.domains if p in matched)

    def thresholds_for(self, language: str | None, sites: tuple[str, ...]) -> dict[str, Any]:
        key = (language, sites)
        resolved = self._resolved.get(key)
        if resolved is None:
            resolved = dict(self.settings.thresholds)
            resolved.update(self.settings.languages.get(language or "", {}))
            for site in sites:
                resolved.update(self._overrides[site])
            self._resolved[key] = resolved
        return resolved

    def clean(self, text: str | None, language: str | None = None, host: str | None = None,
              url: str | None = None) -> Cleaned:
        original = text or ""
        sites = self.sites_for(host, url)
        thresholds = self.thresholds_for(language, sites)
        normalised = normalise(original, self.settings.normalise)
        measures = Measures(normalised, original, thresholds, language)
        verdicts = tuple(rule(measures, thresholds) for rule in RULES)
        return Cleaned(normalised.text, verdicts, normalised, thresholds, sites)


def _compile(pattern: str) -> re.Pattern:
    return re.compile(fnmatch.translate(pattern.lower()))


def explain(cleaned: Cleaned, language: str | None, host: str | None) -> str:
    """Every rule's statistic against its threshold, and the verdict: the tool for tuning thresholds."""
    lines = [f"language: {language or 'unknown'}   host: {host or '-'}   word units: {cleaned.thresholds['word_units']}"
             f"   site overrides: {', '.join(cleaned.matched_sites) or 'none'}"]
    edits = ", ".join(f"{k}={v}" for k, v in sorted(cleaned.normalised.edits.items())) or "none"
    lines.append(f"normalisation: {cleaned.normalised.original_chars} → {len(cleaned.text)} chars; edits: {edits}")
    lines.append("")
    header = f"{'family':<18} {'rule':<38} {'statistic':<30} {'value':>12} {'threshold':>13}  verdict"
    lines += [header, "-" * len(header)]
    for v in cleaned.verdicts:
        if v.threshold is None:
            limit, verdict = "off", "off"
        else:
            limit = f"{'≥' if v.bound == 'min' else '≤'} {v.threshold:g}"
            verdict = "pass" if v.keep else "FAIL"
        lines.append(f"{v.family:<18} {v.rule:<38} {v.statistic:<30} {v.value:>12.4g} {limit:>13}  {verdict}")
    lines.append("")
    if cleaned.keep:
        lines.append("verdict: KEEP")
    else:
        lines.append(f"verdict: REMOVE — reason {cleaned.reason} ({cleaned.detail}); "
                     f"all failing rules: {', '.join(cleaned.failed_rules)}")
    return "\n".join(lines)
