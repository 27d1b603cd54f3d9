"""The filtering half of the report's Clean rules: one small pure function per rule.

A rule reads one statistic of the document (from `Measures`, computed once and shared) and compares
it with one threshold; it returns a `Verdict`: keep or not, the reason (the rule's name, which is
also its threshold's key in conf clean.thresholds), the statistic and the threshold. A threshold of
null turns the rule off: its statistic is still measured and reported.

Families, in the order they are applied (the first failing rule is the document's reason):
- lines: the report's anomalies in separators and line breaks;
- characters: the report's frequency of abnormal characters;
- punctuation: the report's distribution of punctuation;
- gopher_quality, gopher_repetition: Gopher (Rae et al. 2021, Table A1), published defaults;
- c4: C4 (Raffel et al. 2020): lorem ipsum, curly brackets, sentence count;
- fineweb: FineWeb (Penedo et al. 2024): line punctuation, short lines, duplicated lines, lists.
"""
from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Callable, Mapping

import numpy as np

from corpusforge.udfs import text_units as units
from corpusforge.udfs.text_normalise import Normalised, mojibake_count

Thresholds = Mapping[str, Any]

# Closing quotes and brackets (and table-cell bars) that may follow the end of a sentence.
CLOSERS = "\"'”’」』）)]】》〉| \t"
BULLETS = ("•", "-", "●", "▪", "◦", "‣", "*", "·")
ELLIPSES = ("...", "…")
_REPEATED_PUNCT = re.compile(r"([!?！？,，;；。])\1{2,}")
_LOREM = re.compile(r"lorem ipsum", re.IGNORECASE)
_NGRAM_BASE = np.uint64(0x9E3779B97F4A7C15)
_NGRAM_MULTIPLIER = np.uint64(0xC2B2AE3D27D4EB4F)


@dataclass(frozen=True)
class Verdict:
    rule: str
    family: str
    statistic: str
    value: float
    bound: str                 # "min": keep when value >= threshold; "max": keep when value <= threshold
    threshold: float | None    # None: the rule is off
    keep: bool

    @property
    def reason(self) -> str | None:
        return None if self.keep else self.rule


def at_least(rule: str, family: str, statistic: str, value: float, t: Thresholds) -> Verdict:
    limit = t[rule]
    return Verdict(rule, family, statistic, float(value), "min", limit, bool(limit is None or value >= limit))


def at_most(rule: str, family: str, statistic: str, value: float, t: Thresholds) -> Verdict:
    limit = t[rule]
    return Verdict(rule, family, statistic, float(value), "max", limit, bool(limit is None or value <= limit))


def ratio(part: float, whole: float) -> float:
    return part / whole if whole else 0.0


class Measures:
    """Every statistic the rules read, each computed on first use from the normalised text."""

    def __init__(self, normalised: Normalised, original: str, t: Thresholds, language: str | None = None):
        self.normalised = normalised
        self.language = language
        self.text = normalised.text
        self.original = original
        self.units: str = t["word_units"]
        self.stop_words = frozenset(w.lower() for w in t["stop_words"])
        self.terminal = tuple(t["terminal_punctuation"])
        self.very_short_line_chars: int = t["very_short_line_chars"]
        self.short_line_chars: int = t["fineweb_short_line_chars"]
        self._duplicate_chars: dict[int, int] = {}

    # --- characters -------------------------------------------------------------------------
    @cached_property
    def classes(self) -> np.ndarray:
        return units.char_classes(self.text)

    @cached_property
    def original_classes(self) -> np.ndarray:
        return units.char_classes(self.original)

    @cached_property
    def chars(self) -> int:
        return len(self.text)

    @cached_property
    def visible_chars(self) -> int:
        return int(self.chars - self.classes[units.SPACE] - self.classes[units.NEWLINE])

    # --- lines and paragraphs ---------------------------------------------------------------
    @cached_property
    def lines(self) -> list[str]:
        """Non-empty lines (normalisation already stripped them)."""
        return [line for line in self.text.split("\n") if line]

    @cached_property
    def line_lengths(self) -> list[int]:
        return [len(line) for line in self.lines]

    @cached_property
    def paragraphs(self) -> list[str]:
        return [p for p in self.text.split("\n\n") if p.strip()]

    def ends_with_terminal(self, line: str) -> bool:
        return line.rstrip(CLOSERS).endswith(self.terminal)

    # --- words ----------------------------------------------------------------------------
    @cached_property
    def tokens(self) -> list[str]:
        return units.tokens(self.text, self.units)

    @cached_property
    def words(self) -> list[str]:
        return units.words(self.tokens)

    @cached_property
    def word_ids(self) -> np.ndarray:
        """A 64-bit id per word (Python's string hash, mixed); equal words get equal ids."""
        ids = np.fromiter(map(hash, self.words), dtype=np.int64, count=len(self.words)).view(np.uint64)
        with np.errstate(over="ignore"):
            return (ids ^ (ids >> np.uint64(29))) * _NGRAM_BASE

    @cached_property
    def word_lengths(self) -> np.ndarray:
        return np.fromiter(map(len, self.words), dtype=np.int64, count=len(self.words))

    @cached_property
    def ngram_hashes(self) -> dict[int, np.ndarray]:
        """Hash of the n-gram starting at each word, n = 2..10 (64-bit polynomial, wrapping)."""
        hashes, current = {}, self.word_ids
        with np.errstate(over="ignore"):
            for n in range(2, 11):
                if len(current) <= 1:
                    break
                current = current[:-1] * _NGRAM_MULTIPLIER + self.word_ids[n - 1:]
                hashes[n] = current
        return hashes

    def top_ngram_chars(self, n: int) -> int:
        """Characters covered by the most frequent n-gram: its length times its count."""
        hashes = self.ngram_hashes.get(n)
        if hashes is None or len(hashes) == 0:
            return 0
        _, first, counts = np.unique(hashes, return_index=True, return_counts=True)
        best = counts.max()
        if best < 2:
            return 0
        joiner = 1 if self.units == "whitespace" else 0
        window = np.convolve(self.word_lengths, np.ones(n, dtype=np.int64), mode="valid") + joiner * (n - 1)
        return int((window[first[counts == best]]).max() * best)

    def duplicate_ngram_chars(self, n: int) -> int:
        """Characters of the words inside any repeated occurrence of an n-gram (each word counted once)."""
        if n not in self._duplicate_chars:
            self._duplicate_chars[n] = self._count_duplicate_ngram_chars(n)
        return self._duplicate_chars[n]

    def _count_duplicate_ngram_chars(self, n: int) -> int:
        hashes = self.ngram_hashes.get(n)
        if hashes is None or len(hashes) == 0:
            return 0
        if n - 1 in self._duplicate_chars and self._duplicate_chars[n - 1] == 0:
            return 0  # an n-gram can only repeat where its (n-1)-gram prefix repeats
        repeated = np.ones(len(hashes), dtype=np.int64)
        repeated[np.unique(hashes, return_index=True)[1]] = 0
        if not repeated.any():
            return 0
        starts = np.concatenate(([0], np.cumsum(repeated)))
        j = np.arange(len(self.words))
        covered = starts[np.minimum(j + 1, len(hashes))] - starts[np.maximum(j - n + 1, 0)] > 0
        return int(self.word_lengths[covered].sum())

    @cached_property
    def sentences(self) -> int:
        return len(_sentence_ends(self.terminal).findall(self.text))


def duplicates(items: list[str]) -> tuple[int, int]:
    """(repeated elements, their characters): every occurrence after the first counts."""
    seen: set[str] = set()
    elements = chars = 0
    for item in items:
        if item in seen:
            elements += 1
            chars += len(item)
        else:
            seen.add(item)
    return elements, chars


_SENTENCE_PATTERNS: dict[tuple[str, ...], re.Pattern] = {}


def _sentence_ends(terminal: tuple[str, ...]) -> re.Pattern:
    """Sentence ends: Latin terminators before a space or the end; CJK full-width ones anywhere."""
    pattern = _SENTENCE_PATTERNS.get(terminal)
    if pattern is None:
        wide = "".join(c for c in terminal if ord(c) >= 0x3000)
        narrow = "".join(c for c in terminal if ord(c) < 0x3000)
        parts = []
        if narrow:
            # (?<!…): a match only starts where a run of terminators starts; retrying from inside a run
            # that is not followed by a space ("!!!…!x") made the search quadratic in the run's length.
            parts.append(f"(?<![{re.escape(narrow)}])[{re.escape(narrow)}]+[{re.escape(CLOSERS)}]*(?=\\s|$)")
        if wide:
            parts.append(f"[{re.escape(wide)}]+")
        pattern = re.compile("|".join(parts) or "(?!)")
        _SENTENCE_PATTERNS[terminal] = pattern
    return pattern


# === the report: anomalies in separators and line breaks =========================================
LINES = "lines"


def max_newline_ratio(m: Measures, t: Thresholds) -> Verdict:
    """A page cut into one-word lines (menus, tag clouds, tables) has a line break every few characters."""
    return at_most("max_newline_ratio", LINES, "newline_ratio", ratio(m.text.count("\n"), m.chars), t)


def min_mean_line_chars(m: Measures, t: Thresholds) -> Verdict:
    """Prose lines are long; navigation and lists are short."""
    return at_least("min_mean_line_chars", LINES, "mean_line_chars", ratio(sum(m.line_lengths), len(m.lines)), t)


def max_line_chars(m: Measures, t: Thresholds) -> Verdict:
    """The longest run without a line break: minified code, base64 or a page flattened by a parse error."""
    return at_most("max_line_chars", LINES, "longest_line_chars", max(m.line_lengths, default=0), t)


def max_very_short_line_fraction(m: Measures, t: Thresholds) -> Verdict:
    """Lines of a handful of characters are fragments of layout, not sentences."""
    short = sum(1 for n in m.line_lengths if n <= m.very_short_line_chars)
    return at_most("max_very_short_line_fraction", LINES, "very_short_line_fraction", ratio(short, len(m.lines)), t)


def max_separator_run_fraction(m: Measures, t: Thresholds) -> Verdict:
    """Runs of ----- or ===== per line before normalisation: ASCII-art layout and tables."""
    value = ratio(m.normalised.separator_runs, m.normalised.original_lines)
    return at_most("max_separator_run_fraction", LINES, "separator_runs_per_line", value, t)


def max_normalised_removed_fraction(m: Measures, t: Thresholds) -> Verdict:
    """When normalisation had to drop most of a page, what is left is rarely a document."""
    value = ratio(m.normalised.removed_chars, m.normalised.original_chars)
    return at_most("max_normalised_removed_fraction", LINES, "normalised_removed_fraction", value, t)


# === the report: frequency of abnormal characters ================================================
CHARACTERS = "characters"


def max_replacement_char_fraction(m: Measures, t: Thresholds) -> Verdict:
    """U+FFFD marks bytes that could not be decoded: a wrong charset or a binary payload."""
    value = ratio(m.original_classes[units.REPLACEMENT], len(m.original))
    return at_most("max_replacement_char_fraction", CHARACTERS, "replacement_char_fraction", value, t)


def max_control_char_fraction(m: Measures, t: Thresholds) -> Verdict:
    """Control and private-use characters (icon fonts, binary debris) as found in the extracted text."""
    value = ratio(m.original_classes[units.CONTROL] + m.original_classes[units.PRIVATE], len(m.original))
    return at_most("max_control_char_fraction", CHARACTERS, "control_char_fraction", value, t)


def max_mojibake_fraction(m: Measures, t: Thresholds) -> Verdict:
    """UTF-8 read as Windows-1252 (Ã©, â€™) that even repair left behind."""
    value = ratio(mojibake_count(m.text), m.chars)
    return at_most("max_mojibake_fraction", CHARACTERS, "mojibake_fraction", value, t)


def max_symbol_fraction(m: Measures, t: Thresholds) -> Verdict:
    """Symbols and emoji among the visible characters: decoration, spam and keyboard noise."""
    value = ratio(m.classes[units.SYMBOL], m.visible_chars)
    return at_most("max_symbol_fraction", CHARACTERS, "symbol_fraction", value, t)


def max_digit_fraction(m: Measures, t: Thresholds) -> Verdict:
    """Digits among the visible characters: price lists, timetables, score tables."""
    return at_most("max_digit_fraction", CHARACTERS, "digit_fraction", ratio(m.classes[units.DIGIT], m.visible_chars), t)


def max_foreign_script_fraction(m: Measures, t: Thresholds) -> Verdict:
    """Letters outside the language's writing system (CJK characters and alphabetic words as units), e.g.
    Latin noise in a Chinese page."""
    value = units.foreign_script_fraction(m.classes, units.class_runs(m.text), m.language)
    return at_most("max_foreign_script_fraction", CHARACTERS, "foreign_script_fraction", value, t)


# === the report: distribution of punctuation =====================================================
PUNCTUATION = "punctuation"


def min_punctuation_fraction(m: Measures, t: Thresholds) -> Verdict:
    """Text without punctuation is a keyword list, not prose."""
    value = ratio(m.classes[units.PUNCT], m.visible_chars)
    return at_least("min_punctuation_fraction", PUNCTUATION, "punctuation_fraction", value, t)


def max_punctuation_fraction(m: Measures, t: Thresholds) -> Verdict:
    """Text that is mostly punctuation is markup, code or ASCII art."""
    value = ratio(m.classes[units.PUNCT], m.visible_chars)
    return at_most("max_punctuation_fraction", PUNCTUATION, "punctuation_fraction", value, t)


def min_terminal_punct_char_fraction(m: Measures, t: Thresholds) -> Verdict:
    """Share of the text that lies in finished sentences (up to each line's last .!? or 。！？…): prose ends
    its sentences, menus and headline lists do not. Counting up to the last terminator rather than
    whole lines that end with one keeps table-layout pages (a whole article in one cell) and lines
    with a trailing credit ("…。（新华社）") on the side of prose."""
    finished = sum(max(map(line.rfind, m.terminal)) + 1 for line in m.lines)
    value = ratio(finished, sum(m.line_lengths))
    return at_least("min_terminal_punct_char_fraction", PUNCTUATION, "terminal_punct_char_fraction", value, t)


def max_repeated_punct_fraction(m: Measures, t: Thresholds) -> Verdict:
    """Punctuation in runs like !!!! or ？？？ or ，，，: spam and comment noise."""
    in_runs = sum(len(match.group(0)) for match in _REPEATED_PUNCT.finditer(m.text))
    value = ratio(in_runs, m.classes[units.PUNCT])
    return at_most("max_repeated_punct_fraction", PUNCTUATION, "repeated_punct_fraction", value, t)


# === Gopher quality filter ========================================================================
GOPHER_QUALITY = "gopher_quality"


def gopher_min_words(m: Measures, t: Thresholds) -> Verdict:
    """Gopher: fewer than 50 words is not a document."""
    return at_least("gopher_min_words", GOPHER_QUALITY, "word_count", len(m.words), t)


def gopher_max_words(m: Measures, t: Thresholds) -> Verdict:
    """Gopher: more than 100,000 words is a dump, not a document."""
    return at_most("gopher_max_words", GOPHER_QUALITY, "word_count", len(m.words), t)


def gopher_min_mean_word_length(m: Measures, t: Thresholds) -> Verdict:
    """Gopher: mean word length under 3 characters (English) is fragments."""
    value = ratio(int(m.word_lengths.sum()), len(m.words))
    return at_least("gopher_min_mean_word_length", GOPHER_QUALITY, "mean_word_length", value, t)


def gopher_max_mean_word_length(m: Measures, t: Thresholds) -> Verdict:
    """Gopher: mean word length over 10 characters is URLs, hashes and glued words."""
    value = ratio(int(m.word_lengths.sum()), len(m.words))
    return at_most("gopher_max_mean_word_length", GOPHER_QUALITY, "mean_word_length", value, t)


def gopher_max_hash_word_ratio(m: Measures, t: Thresholds) -> Verdict:
    """Gopher: more than one # per ten words is a hashtag list."""
    return at_most("gopher_max_hash_word_ratio", GOPHER_QUALITY, "hash_word_ratio", ratio(m.text.count("#"), len(m.words)), t)


def gopher_max_ellipsis_word_ratio(m: Measures, t: Thresholds) -> Verdict:
    """Gopher: more than one ellipsis per ten words is a list of teasers."""
    value = ratio(sum(m.text.count(e) for e in ELLIPSES), len(m.words))
    return at_most("gopher_max_ellipsis_word_ratio", GOPHER_QUALITY, "ellipsis_word_ratio", value, t)


def gopher_max_bullet_line_fraction(m: Measures, t: Thresholds) -> Verdict:
    """Gopher: more than 90% of lines starting with a bullet is a list."""
    value = ratio(sum(1 for line in m.lines if line.startswith(BULLETS)), len(m.lines))
    return at_most("gopher_max_bullet_line_fraction", GOPHER_QUALITY, "bullet_line_fraction", value, t)


def gopher_max_ellipsis_line_fraction(m: Measures, t: Thresholds) -> Verdict:
    """Gopher: more than 30% of lines ending with an ellipsis is truncated teasers."""
    value = ratio(sum(1 for line in m.lines if line.endswith(ELLIPSES)), len(m.lines))
    return at_most("gopher_max_ellipsis_line_fraction", GOPHER_QUALITY, "ellipsis_line_fraction", value, t)


def gopher_min_alpha_word_fraction(m: Measures, t: Thresholds) -> Verdict:
    """Gopher: at least 80% of words contain a letter (CJK characters are letters)."""
    not_alphabetic = list(itertools.filterfalse(str.isalpha, m.words))
    with_letter = len(m.words) - len(not_alphabetic) + sum(1 for w in not_alphabetic if units.has_letter(w))
    value = ratio(with_letter, len(m.words))
    return at_least("gopher_min_alpha_word_fraction", GOPHER_QUALITY, "alpha_word_fraction", value, t)


def gopher_min_stop_words(m: Measures, t: Thresholds) -> Verdict:
    """Gopher: natural language uses at least two of the language's stop words."""
    present = m.stop_words.intersection(map(str.lower, m.words))
    verdict = at_least("gopher_min_stop_words", GOPHER_QUALITY, "stop_words", len(present), t)
    if not m.stop_words:  # a language without a stop-word list in conf is not judged by this rule
        return Verdict(verdict.rule, verdict.family, verdict.statistic, verdict.value, "min", None, True)
    return verdict


# === Gopher repetition filter =====================================================================
GOPHER_REPETITION = "gopher_repetition"


def gopher_max_dup_line_fraction(m: Measures, t: Thresholds) -> Verdict:
    """Gopher: more than 30% of lines repeated."""
    value = ratio(duplicates(m.lines)[0], len(m.lines))
    return at_most("gopher_max_dup_line_fraction", GOPHER_REPETITION, "dup_line_fraction", value, t)


def gopher_max_dup_para_fraction(m: Measures, t: Thresholds) -> Verdict:
    """Gopher: more than 30% of paragraphs repeated."""
    value = ratio(duplicates(m.paragraphs)[0], len(m.paragraphs))
    return at_most("gopher_max_dup_para_fraction", GOPHER_REPETITION, "dup_para_fraction", value, t)


def gopher_max_dup_line_char_fraction(m: Measures, t: Thresholds) -> Verdict:
    """Gopher: more than 20% of the characters in repeated lines."""
    value = ratio(duplicates(m.lines)[1], m.chars)
    return at_most("gopher_max_dup_line_char_fraction", GOPHER_REPETITION, "dup_line_char_fraction", value, t)


def gopher_max_dup_para_char_fraction(m: Measures, t: Thresholds) -> Verdict:
    """Gopher: more than 20% of the characters in repeated paragraphs."""
    value = ratio(duplicates(m.paragraphs)[1], m.chars)
    return at_most("gopher_max_dup_para_char_fraction", GOPHER_REPETITION, "dup_para_char_fraction", value, t)


def _top_ngram_rule(n: int) -> Callable[[Measures, Thresholds], Verdict]:
    def rule(m: Measures, t: Thresholds) -> Verdict:
        return at_most(f"gopher_max_top_{n}gram_char_fraction", GOPHER_REPETITION, f"top_{n}gram_char_fraction",
                       ratio(m.top_ngram_chars(n), m.chars), t)
    rule.__name__ = f"gopher_max_top_{n}gram_char_fraction"
    rule.__doc__ = f"Gopher: the most frequent {n}-gram covers too much of the text."
    return rule


def _dup_ngram_rule(n: int) -> Callable[[Measures, Thresholds], Verdict]:
    def rule(m: Measures, t: Thresholds) -> Verdict:
        return at_most(f"gopher_max_dup_{n}gram_char_fraction", GOPHER_REPETITION, f"dup_{n}gram_char_fraction",
                       ratio(m.duplicate_ngram_chars(n), m.chars), t)
    rule.__name__ = f"gopher_max_dup_{n}gram_char_fraction"
    rule.__doc__ = f"Gopher: repeated {n}-grams cover too much of the text."
    return rule


# === C4 ===========================================================================================
C4 = "c4"


def c4_max_lorem_ipsum(m: Measures, t: Thresholds) -> Verdict:
    """C4: a page with "lorem ipsum" is a template."""
    return at_most("c4_max_lorem_ipsum", C4, "lorem_ipsum", len(_LOREM.findall(m.text)), t)


def c4_max_curly_brackets(m: Measures, t: Thresholds) -> Verdict:
    """C4: a curly bracket means code (override per site where code is wanted)."""
    return at_most("c4_max_curly_brackets", C4, "curly_brackets", m.text.count("{"), t)


def c4_min_sentences(m: Measures, t: Thresholds) -> Verdict:
    """C4: fewer than 5 sentences (counted by terminal punctuation, CJK included) is not a document."""
    return at_least("c4_min_sentences", C4, "sentences", m.sentences, t)


# === FineWeb ======================================================================================
FINEWEB = "fineweb"


def fineweb_min_line_punct_fraction(m: Measures, t: Thresholds) -> Verdict:
    """FineWeb: fewer than 12% of lines ending with terminal punctuation."""
    value = ratio(sum(1 for line in m.lines if m.ends_with_terminal(line)), len(m.lines))
    return at_least("fineweb_min_line_punct_fraction", FINEWEB, "line_punct_fraction", value, t)


def fineweb_max_short_line_fraction(m: Measures, t: Thresholds) -> Verdict:
    """FineWeb: more than 67% of lines of at most 30 characters."""
    value = ratio(sum(1 for n in m.line_lengths if n <= m.short_line_chars), len(m.lines))
    return at_most("fineweb_max_short_line_fraction", FINEWEB, "short_line_fraction", value, t)


def fineweb_max_dup_line_char_fraction(m: Measures, t: Thresholds) -> Verdict:
    """FineWeb: more than 1% of the characters (newlines aside) in repeated lines."""
    value = ratio(duplicates(m.lines)[1], m.chars - m.classes[units.NEWLINE])
    return at_most("fineweb_max_dup_line_char_fraction", FINEWEB, "dup_line_char_fraction_fineweb", value, t)


def fineweb_max_newline_word_ratio(m: Measures, t: Thresholds) -> Verdict:
    """FineWeb: more than 0.3 line breaks per word is a list."""
    value = ratio(m.classes[units.NEWLINE], len(m.words))
    return at_most("fineweb_max_newline_word_ratio", FINEWEB, "newline_word_ratio", value, t)


RULES: tuple[Callable[[Measures, Thresholds], Verdict], ...] = (
    max_newline_ratio, min_mean_line_chars, max_line_chars, max_very_short_line_fraction,
    max_separator_run_fraction, max_normalised_removed_fraction,
    max_replacement_char_fraction, max_control_char_fraction, max_mojibake_fraction, max_symbol_fraction,
    max_digit_fraction, max_foreign_script_fraction,
    min_punctuation_fraction, max_punctuation_fraction, min_terminal_punct_char_fraction,
    max_repeated_punct_fraction,
    gopher_min_words, gopher_max_words, gopher_min_mean_word_length, gopher_max_mean_word_length,
    gopher_max_hash_word_ratio, gopher_max_ellipsis_word_ratio, gopher_max_bullet_line_fraction,
    gopher_max_ellipsis_line_fraction, gopher_min_alpha_word_fraction, gopher_min_stop_words,
    gopher_max_dup_line_fraction, gopher_max_dup_para_fraction, gopher_max_dup_line_char_fraction,
    gopher_max_dup_para_char_fraction,
    *(_top_ngram_rule(n) for n in (2, 3, 4)),
    *(_dup_ngram_rule(n) for n in range(5, 11)),
    c4_max_lorem_ipsum, c4_max_curly_brackets, c4_min_sentences,
    fineweb_min_line_punct_fraction, fineweb_max_short_line_fraction, fineweb_max_dup_line_char_fraction,
    fineweb_max_newline_word_ratio,
)
RULE_NAMES = tuple(rule.__name__ for rule in RULES)
# Thresholds that are not rules but parameters of the statistics.
PARAMETERS = ("word_units", "stop_words", "terminal_punctuation", "very_short_line_chars", "fineweb_short_line_chars")
THRESHOLD_KEYS = (*PARAMETERS, *RULE_NAMES)
