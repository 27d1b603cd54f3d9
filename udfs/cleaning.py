"""One document through the Clean stage: normalise it, pick its thresholds, apply every rule.

Thresholds are tailored per language and per site, as the report asks: the base thresholds (the
published English defaults) are overlaid with the document language's overrides, then with those of
every site pattern its URL matches, in conf order — the override table every stage uses
(udfs/overrides.py).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from corpusforge.udfs.clean_rules import RULES, Measures, Verdict
from corpusforge.udfs.overrides import OverrideTable, Overrides
from corpusforge.udfs.text_normalise import Normalised, NormaliseOptions, normalise

EDIT_SCORE_PREFIX = "norm_"


@dataclass(frozen=True)
class CleanSettings:
    """conf clean, as plain values."""
    normalise: NormaliseOptions
    thresholds: OverrideTable


@dataclass(frozen=True)
class Cleaned:
    text: str
    verdicts: tuple[Verdict, ...]
    normalised: Normalised
    thresholds: Mapping[str, Any]
    matched_sites: tuple[str, ...]
    rule: str  # the threshold rules that applied: "default+language:zh+site:github.com"

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
    return CleanSettings(normalise=NormaliseOptions(**normalise),
                         thresholds=OverrideTable.from_conf(section["thresholds"]))


def describe(v: Verdict) -> str:
    sign = "<" if v.bound == "min" else ">"
    return f"{v.statistic}={v.value:.4g} {sign} {v.threshold:g}"


class Cleaner:
    """Applies conf clean to documents; the thresholds of a language and site are resolved once."""

    def __init__(self, settings: CleanSettings):
        self.settings = settings
        self.overrides = Overrides(settings.thresholds)

    def clean(self, text: str | None, language: str | None = None, host: str | None = None,
              url: str | None = None) -> Cleaned:
        original = text or ""
        resolved = self.overrides.resolve(language, host, url)
        normalised = normalise(original, self.settings.normalise)
        measures = Measures(normalised, original, resolved.values, language)
        verdicts = tuple(rule(measures, resolved.values) for rule in RULES)
        return Cleaned(normalised.text, verdicts, normalised, resolved.values, resolved.sites, resolved.rule)


def explain(cleaned: Cleaned, language: str | None, host: str | None) -> str:
    """Every rule's statistic against its threshold, and the verdict: the tool for tuning thresholds."""
    lines = [f"language: {language or 'unknown'}   host: {host or '-'}   word units: {cleaned.thresholds['word_units']}"
             f"   site overrides: {', '.join(cleaned.matched_sites) or 'none'}   thresholds: {cleaned.rule}"]
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
