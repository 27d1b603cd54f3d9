"""The units the cleaning rules count in: character classes, scripts, lines and words, CJK-aware.

Words. Space-delimited languages split on whitespace, as Gopher does. Chinese has no spaces, so
a whitespace "word" is a whole sentence and every word-based rule (word count, mean word length,
stop words, n-gram repetition) would misfire; Chinese (and Japanese) text is therefore segmented
with jieba, through rjieba, the Rust port of jieba with the same dictionary and algorithm (and the
same output) at about 20x the speed of the Python package. Segmentation is chosen over character
units because jieba words span about as much meaning as English words, so the published Gopher
n-gram sizes and fractions keep their meaning; with one unit per character a 5-gram would be half
a phrase and ordinary Chinese prose would look repetitive. Kana, which jieba's dictionary does not
cover, come out as one unit per character: for Japanese that is the character-unit fallback, and
its thresholds are tuned in conf accordingly.

Character classes are counted with one lookup table over all code points (built once per
process from unicodedata and the regex module's script properties) so that one vectorised pass
replaces a dozen regex scans per document.
"""
from __future__ import annotations

import itertools
import re
import sys
from functools import lru_cache

import numpy as np
import regex

# Character classes (one byte each in the lookup table).
OTHER, SPACE, NEWLINE, DIGIT, PUNCT, SYMBOL, CONTROL, PRIVATE, REPLACEMENT = range(9)
LETTER_SCRIPTS = ("Latin", "Han", "Hiragana", "Katakana", "Hangul", "Bopomofo", "Cyrillic", "Greek",
                  "Arabic", "Hebrew", "Devanagari", "Bengali", "Tamil", "Thai", "Georgian", "Armenian")
FIRST_LETTER = 9
OTHER_LETTER = FIRST_LETTER + len(LETTER_SCRIPTS)
N_CLASSES = OTHER_LETTER + 1
SCRIPT_CLASS = {name: FIRST_LETTER + i for i, name in enumerate(LETTER_SCRIPTS)}
# Scripts written without spaces between words share one "CJK" writing system for script shares:
# a Japanese page mixes Han and kana, a Korean one Hangul and Han, and none of that is noise.
CJK_SCRIPTS = ("Han", "Hiragana", "Katakana", "Hangul", "Bopomofo")

WORD_UNITS = ("whitespace", "jieba")


@lru_cache(maxsize=1)
def class_table() -> np.ndarray:
    """uint8 class of every code point: Unicode general category, then the script of letters."""
    every_char = "".join(chr(c) if not 0xD800 <= c <= 0xDFFF else " " for c in range(sys.maxunicode + 1))
    table = np.zeros(len(every_char), dtype=np.uint8)

    def assign(pattern: str, cls: int, only=None) -> None:
        mask = np.zeros(len(every_char), dtype=bool)
        for match in regex.finditer(pattern + "+", every_char):
            mask[match.start():match.end()] = True
        if only is not None:
            mask &= table == only
        table[mask] = cls

    for pattern, cls in ((r"\p{Zs}", SPACE), (r"\p{Cc}", CONTROL), (r"\p{Co}", PRIVATE), (r"\p{Nd}", DIGIT),
                         (r"\p{P}", PUNCT), (r"\p{S}", SYMBOL), (r"\p{L}", OTHER_LETTER)):
        assign(pattern, cls)
    for name, cls in SCRIPT_CLASS.items():
        assign(rf"\p{{Script={name}}}", cls, only=OTHER_LETTER)
    # Han ideographic numbers and iteration marks (〇, 々) read as letters of the text.
    assign(r"\p{Script=Han}", SCRIPT_CLASS["Han"], only=OTHER)
    for ch in "\t\r\x0b\x0c\x1c\x1d\x1e\x1f\x85\u2028\u2029":
        table[ord(ch)] = SPACE
    table[ord("\n")] = NEWLINE
    # "|" is how extraction writes table cells: a separator, counted with punctuation, not a symbol.
    table[ord("|")] = PUNCT
    table[0xFFFD] = REPLACEMENT
    table[0xD800:0xE000] = REPLACEMENT  # lone surrogates: undecodable debris, as U+FFFD (text_normalise)
    return table


def class_codes(text: str) -> np.ndarray:
    """The class of every character of text."""
    codepoints = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype="<u4")
    return class_table()[codepoints]


def char_classes(text: str) -> np.ndarray:
    """Counts of every character class in text (index with the class constants)."""
    if not text:
        return np.zeros(N_CLASSES, dtype=np.int64)
    return np.bincount(class_codes(text), minlength=N_CLASSES)


def class_runs(text: str) -> np.ndarray:
    """Runs of each class in text (for a script of letters: its words)."""
    if not text:
        return np.zeros(N_CLASSES, dtype=np.int64)
    codes = class_codes(text)
    starts = np.flatnonzero(np.concatenate(([True], codes[1:] != codes[:-1])))
    return np.bincount(codes[starts], minlength=N_CLASSES)


def letter_count(counts: np.ndarray) -> int:
    return int(counts[FIRST_LETTER:].sum())


def cjk_letter_count(counts: np.ndarray) -> int:
    return int(sum(counts[SCRIPT_CLASS[s]] for s in CJK_SCRIPTS))


# The writing system a language is written in (CLD2 codes). A page's letters outside it are foreign;
# for a language not listed here the page's own dominant system is taken as its script.
_LATIN_LANGUAGES = ("en de fr es pt it nl pl id tr sv da no nb nn fi cs sk ro hu vi ms tl ca hr sl lt lv et sq eu "
                    "gl af sw is cy ga az uz ha yo ig so zu xh mt lb fy oc br co eo la jw su ceb haw mg sm st "
                    "sn ny rw").split()
LANGUAGE_SCRIPT = {
    **{code: "Latin" for code in _LATIN_LANGUAGES},
    **{code: "CJK" for code in ("zh", "zh-Hant", "ja", "ko")},
    **{code: "Cyrillic" for code in ("ru", "uk", "bg", "sr", "mk", "be", "kk", "ky", "mn", "tg", "tt", "ba")},
    "el": "Greek", "he": "Hebrew", "iw": "Hebrew", "yi": "Hebrew", "th": "Thai", "ka": "Georgian", "hy": "Armenian",
    **{code: "Arabic" for code in ("ar", "fa", "ur", "ps", "ug", "ku", "sd")},
    **{code: "Devanagari" for code in ("hi", "mr", "ne", "sa")},
    "bn": "Bengali", "as": "Bengali", "ta": "Tamil",
}


def foreign_script_fraction(counts: np.ndarray, runs: np.ndarray, language: str | None) -> float:
    """Share of the letters outside the language's writing system (or the page's dominant one).

    Letters are counted in comparable units: a CJK character is one, a word (run of letters) of an
    alphabetic script is one, so "Python" in a Chinese page weighs like one Chinese word, not six.
    """
    units = runs.copy()
    for script in CJK_SCRIPTS:
        units[SCRIPT_CLASS[script]] = counts[SCRIPT_CLASS[script]]
    shares = script_shares(units)
    if not shares:
        return 0.0
    expected = LANGUAGE_SCRIPT.get(language or "")
    main = shares.get(expected, 0.0) if expected else max(shares.values())
    return 1.0 - main


def script_shares(counts: np.ndarray) -> dict[str, float]:
    """Share of each writing system among the letters (CJK scripts counted together)."""
    letters = letter_count(counts)
    if letters == 0:
        return {}
    shares = {"CJK": cjk_letter_count(counts) / letters}
    for name, cls in SCRIPT_CLASS.items():
        if name not in CJK_SCRIPTS and counts[cls]:
            shares[name] = int(counts[cls]) / letters
    if counts[OTHER_LETTER]:
        shares["other"] = int(counts[OTHER_LETTER]) / letters
    return shares


# Punctuation stripped from the ends of whitespace tokens before they count as words (ASCII,
# general and CJK punctuation, quotes and brackets).
WORD_EDGE_PUNCTUATION = ("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~¡§«»¿‐‑‒–—―‘’‚“”„†‡•…‰′″‹›※"
                         "、。〈〉《》「」『』【】〔〕〖〗〘〙〜〝〞・！＂＃＄％＆＇（）＊＋，－．／：；＜＝＞？＠［＼］＾＿｀｛｜｝～｡､")
_HAS_LETTER = re.compile(r"[^\W\d_]")


def tokens(text: str, units: str) -> list[str]:
    """Whitespace tokens, or jieba tokens (whitespace dropped); punctuation-only tokens included."""
    if units == "whitespace":
        return text.split()
    if units == "jieba":
        return [t for t in _rjieba().cut(text) if not t.isspace()]
    raise ValueError(f"unknown word units {units!r}; expected one of {WORD_UNITS}")


def words(token_list: list[str]) -> list[str]:
    """Tokens with edge punctuation stripped; tokens that were only punctuation are not words."""
    return list(filter(None, map(str.strip, token_list, itertools.repeat(WORD_EDGE_PUNCTUATION))))


def has_letter(token: str) -> bool:
    return _HAS_LETTER.search(token) is not None


@lru_cache(maxsize=1)
def _rjieba():
    import rjieba  # imported on first use: its dictionary loads once per worker process
    return rjieba
