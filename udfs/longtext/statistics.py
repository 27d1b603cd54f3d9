"""Length selection and the statistical filters of the long-text stage (InternLM2 report §3.1.3).

The report builds its long-context subset from the pretraining corpus in three steps: length
selection (samples over 32K bytes), statistical filters ("lexical and linguistic features ... samples
that do not conform are excluded") and a perplexity filter (udfs/longtext/coherence.py); thresholds are
set per domain and per language, never one universal threshold.

Layout, as udfs/clean_rules.py:
- `LongMeasures` holds what the statistics read (lines, character classes, words of a bounded
  sample), each computed on first use;
- one small pure function per statistic, `statistic(m) -> float`;
- one rule per (statistic, bound) comparing the statistic with its threshold and returning a
  `Verdict` (keep, reason = the rule's name = its key in conf longtext.thresholds, statistic, value,
  threshold); a threshold of None turns the rule off (its statistic is still reported).

Word statistics read a sample (evenly spaced windows, `sample_chars` characters in all) so that a
1.8 MB novel costs about what a 200 KB one does; line and character statistics read the whole text.
Chosen on the 153 real long documents of ../shared/data/long against junk built from real text
(bench/longtext/README.md): each separates at least one junk kind from every real genre.
"""
from __future__ import annotations

import math
import re
import zlib
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Callable, Mapping

import numpy as np

from corpusforge.udfs import text_units as units
from corpusforge.udfs.clean_rules import duplicates, ratio  # the same statistics as Clean's repetition rules

Thresholds = Mapping[str, Any]


# === length selection ============================================================================

def utf8_bytes(text: str) -> int:
    """Length in UTF-8 bytes (a Chinese character is 3 bytes, an ASCII one 1): the report's unit."""
    return len(text.encode("utf-8", "surrogatepass"))


def is_long(text: str | None, min_bytes: int) -> bool:
    """The report's length selection: more than `min_bytes` bytes of UTF-8 text. A text whose length
    in characters already decides it is never encoded (a character is 1 to 4 bytes)."""
    if not text or len(text) * 4 <= min_bytes:
        return False
    if len(text) > min_bytes:
        return True
    return utf8_bytes(text) > min_bytes


# === word lists (lower-case; jieba words for Chinese) ============================================
# Conjunctions and discourse markers: the words that tie one clause or sentence to the next.
# "and"/"or" are left out on purpose: they join words as often as clauses and would swamp the count.
CONJUNCTIONS: dict[str, frozenset[str]] = {
    "en": frozenset("""but because although though however therefore thus hence moreover furthermore
        consequently nevertheless nonetheless whereas while since unless if so yet otherwise meanwhile
        instead indeed accordingly besides then also still until before after when whether""".split()),
    "zh": frozenset("""但是 但 可是 然而 不过 却 因为 由于 所以 因此 因而 从而 于是 而且 并且 而 并 且
        虽然 虽 尽管 即使 如果 假如 倘若 若 只要 只有 除非 既然 此外 另外 同时 然后 接着 或者 还是
        以及 甚至 否则 不然 总之 例如 比如 便 就 又 也 还 因 故 遂 乃 则""".split()),
}
# Languages written without spaces: words come from jieba (udfs.text_units), as Clean measures them.
JIEBA_LANGUAGES = ("zh", "zh-Hant", "ja")
TERMINAL = ".!?…。！？"


def word_list_language(language: str | None) -> str:
    """The word list a language reads: its base (zh-Hant → zh)."""
    return (language or "").split("-", 1)[0]


def sample_windows(text: str, sample_chars: int, windows: int) -> str:
    """The text itself if short enough, else `windows` windows of sample_chars // windows characters,
    one centred in each of `windows` equal stretches of the text (so the very head and tail, where
    licence headers and footers sit, weigh no more than any other stretch), each moved to start at a
    line start, joined by blank lines."""
    if sample_chars <= 0 or len(text) <= sample_chars:
        return text
    size = sample_chars // windows
    stretch = len(text) / windows
    parts = []
    for k in range(windows):
        start = max(int((k + 0.5) * stretch - size / 2), 0)
        newline = text.find("\n", start, start + size // 2)
        start = newline + 1 if newline >= 0 else start
        parts.append(text[start:start + size])
    return "\n\n".join(parts)


class LongMeasures:
    """What the statistics read, computed once per document on first use."""

    def __init__(self, text: str, language: str | None, sample_chars: int = 200_000, sample_windows: int = 8,
                 ttr_window_words: int = 1000):
        self.text = text
        self.language = language or ""
        self.list_language = word_list_language(language)
        self.units = "jieba" if self.language in JIEBA_LANGUAGES or self.list_language in JIEBA_LANGUAGES \
            else "whitespace"
        self.sample_chars = sample_chars
        self.sample_windows = sample_windows
        self.ttr_window_words = ttr_window_words

    @cached_property
    def classes(self) -> np.ndarray:
        return units.char_classes(self.text)

    @cached_property
    def visible_chars(self) -> int:
        return int(len(self.text) - self.classes[units.SPACE] - self.classes[units.NEWLINE])

    @cached_property
    def lines(self) -> list[str]:
        """Non-empty lines, stripped."""
        return [s for s in (line.strip() for line in self.text.split("\n")) if s]

    @cached_property
    def line_chars(self) -> int:
        return sum(map(len, self.lines))

    @cached_property
    def sample(self) -> str:
        return sample_windows(self.text, self.sample_chars, self.sample_windows)

    @cached_property
    def words(self) -> list[str]:
        """Lower-cased words of the sample (tokens with edge punctuation stripped, letters required)."""
        return [w.lower() for w in units.words(units.tokens(self.sample, self.units)) if units.has_letter(w)]


# === statistics: one small pure function each ====================================================

def dup_line_char_fraction(m: LongMeasures) -> float:
    """Characters in lines that repeat an earlier line, over all line characters."""
    return ratio(duplicates(m.lines)[1], m.line_chars)


def compression_ratio(m: LongMeasures) -> float:
    """zlib-compressed size over UTF-8 size: repetition within zlib's 32 KB window compresses away."""
    raw = m.text.encode("utf-8", "surrogatepass")
    return ratio(len(zlib.compress(raw, 1)), len(raw))


def table_line_fraction(m: LongMeasures) -> float:
    """Lines that are table rows: two or more '|' cell bars, or a tab between cells."""
    return ratio(sum(1 for line in m.lines if line.count("|") >= 2 or "\t" in line), len(m.lines))


def digit_fraction(m: LongMeasures) -> float:
    """Digits among visible characters: tables of numbers, statistics dumps, logs."""
    return ratio(m.classes[units.DIGIT], m.visible_chars)


def sentence_line_char_fraction(m: LongMeasures) -> float:
    """Share of line characters in lines that hold at least one sentence end (.!?… 。！？): hard-wrapped
    prose (lines cut mid-sentence) still scores high, lines of fragments do not."""
    return ratio(sum(len(line) for line in m.lines if any(c in line for c in TERMINAL)), m.line_chars)


def mean_line_chars(m: LongMeasures) -> float:
    """Mean characters per non-empty line."""
    return ratio(m.line_chars, len(m.lines))


def conjunction_rate(m: LongMeasures) -> float:
    """Conjunctions and discourse markers per word: prose links its clauses; lists, tables and
    keyword pages do not. NaN for a language without a list."""
    words = CONJUNCTIONS.get(m.list_language)
    if words is None:
        return math.nan
    return ratio(sum(1 for w in m.words if w in words), len(m.words))


def window_ttr(m: LongMeasures) -> float:
    """Type/token ratio of windows of `ttr_window_words` words, averaged (MSTTR): the TTR of a whole
    text falls with its length, on fixed windows it does not. Low: the same words again and again;
    high: keyword lists and word salad without the function words prose repeats."""
    w, n = m.words, m.ttr_window_words
    if not w:
        return 0.0
    if len(w) < n:
        return len(set(w)) / len(w)
    return float(np.mean([len(set(w[i:i + n])) / n for i in range(0, len(w) - n + 1, n)]))


STATISTICS: dict[str, Callable[[LongMeasures], float]] = {f.__name__: f for f in (
    dup_line_char_fraction, compression_ratio, table_line_fraction, digit_fraction, sentence_line_char_fraction,
    mean_line_chars, conjunction_rate, window_ttr)}


# === rules: one statistic against one threshold each =============================================

@dataclass(frozen=True)
class Verdict:
    rule: str
    statistic: str
    value: float
    bound: str                 # "min": keep when value >= threshold; "max": keep when value <= threshold
    threshold: float | None    # None: the rule is off
    keep: bool

    @property
    def reason(self) -> str | None:
        return None if self.keep else self.rule

    def detail(self) -> str:
        sign = "<" if self.bound == "min" else ">"
        return f"{self.statistic} {self.value:.4g} {sign} {self.threshold:g}"


def at_least(rule: str, statistic: str, value: float, t: Thresholds) -> Verdict:
    limit = t.get(rule)
    keep = limit is None or (value == value and value >= limit)  # NaN (no word list) never passes an active rule
    return Verdict(rule, statistic, float(value), "min", limit, bool(keep))


def at_most(rule: str, statistic: str, value: float, t: Thresholds) -> Verdict:
    limit = t.get(rule)
    keep = limit is None or (value == value and value <= limit)
    return Verdict(rule, statistic, float(value), "max", limit, bool(keep))


def max_dup_line_char_fraction(m: LongMeasures, t: Thresholds) -> Verdict:
    """A page glued to itself, a crawl trap, a template filled again: the same lines over and over."""
    return at_most("max_dup_line_char_fraction", "dup_line_char_fraction", dup_line_char_fraction(m), t)


def min_compression_ratio(m: LongMeasures, t: Thresholds) -> Verdict:
    """Near-repetition that line equality misses (a template whose numbers change each copy) compresses away."""
    return at_least("min_compression_ratio", "compression_ratio", compression_ratio(m), t)


def max_table_line_fraction(m: LongMeasures, t: Thresholds) -> Verdict:
    """Listings, registries and spreadsheets flattened to text are rows of cells, not discourse."""
    return at_most("max_table_line_fraction", "table_line_fraction", table_line_fraction(m), t)


def max_digit_fraction(m: LongMeasures, t: Thresholds) -> Verdict:
    """Tables of numbers, statistics dumps and logs."""
    return at_most("max_digit_fraction", "digit_fraction", digit_fraction(m), t)


def min_sentence_line_char_fraction(m: LongMeasures, t: Thresholds) -> Verdict:
    """Prose lines hold sentence ends; navigation, keyword lines and table cells do not."""
    return at_least("min_sentence_line_char_fraction", "sentence_line_char_fraction", sentence_line_char_fraction(m), t)


def min_mean_line_chars(m: LongMeasures, t: Thresholds) -> Verdict:
    """Navigation, menus and tag clouds are short lines; every kind of prose line is longer on average."""
    return at_least("min_mean_line_chars", "mean_line_chars", mean_line_chars(m), t)


def min_conjunction_rate(m: LongMeasures, t: Thresholds) -> Verdict:
    """Connected text links its clauses (however, because / 但是, 因为); lists and garbled text do not."""
    return at_least("min_conjunction_rate", "conjunction_rate", conjunction_rate(m), t)


def min_window_ttr(m: LongMeasures, t: Thresholds) -> Verdict:
    """Too few distinct words per 1,000: the same phrases recycled."""
    return at_least("min_window_ttr", "window_ttr", window_ttr(m), t)


def max_window_ttr(m: LongMeasures, t: Thresholds) -> Verdict:
    """Too many distinct words per 1,000: keyword lists, menus, word salad without prose's function words."""
    return at_most("max_window_ttr", "window_ttr", window_ttr(m), t)


RULES: tuple[Callable[[LongMeasures, Thresholds], Verdict], ...] = (
    max_dup_line_char_fraction, min_compression_ratio, max_table_line_fraction, max_digit_fraction,
    min_sentence_line_char_fraction, min_mean_line_chars, min_conjunction_rate, min_window_ttr, max_window_ttr)
RULE_NAMES = tuple(rule.__name__ for rule in RULES)
# The statistic each rule reads, for the run report's histograms (a threshold drawn on its statistic).
RULE_STATISTIC = {"max_dup_line_char_fraction": "dup_line_char_fraction", "min_compression_ratio": "compression_ratio",
                  "max_table_line_fraction": "table_line_fraction", "max_digit_fraction": "digit_fraction",
                  "min_sentence_line_char_fraction": "sentence_line_char_fraction",
                  "min_mean_line_chars": "mean_line_chars", "min_conjunction_rate": "conjunction_rate",
                  "min_window_ttr": "window_ttr", "max_window_ttr": "window_ttr"}


def judge(text: str, language: str | None, thresholds: Thresholds, sample_chars: int = 200_000,
          sample_windows: int = 8, ttr_window_words: int = 1000) -> list[Verdict]:
    """Every rule's verdict for one long document, in RULES order (a rule that is off keeps and still
    reports its statistic; NaN where the statistic needs a word list the language lacks)."""
    m = LongMeasures(text, language, sample_chars, sample_windows, ttr_window_words)
    return [rule(m, thresholds) for rule in RULES]


def first_failure(verdicts: list[Verdict]) -> Verdict | None:
    """The verdict that removes the document (the first failing rule), or None when it is kept."""
    return next((v for v in verdicts if not v.keep), None)
