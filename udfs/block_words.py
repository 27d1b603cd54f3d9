"""Block-word lists: find listed words in a document and decide, cautiously, whether to block it.

The report blocks with a list of 36,289 unsafe words "compiled cautiously, since word blocking can
remove much good data"; here one stray word never removes a page: a page goes when it holds at
least `min_distinct_words` different listed words or when listed words cover more than
`max_density` of its characters. Matching is an Aho-Corasick automaton (pyahocorasick), built once
per Python process and list, so a worker pays for it once however many batches it handles.
Space-delimited languages match whole words; Chinese (and other unspaced scripts) match substrings,
except that Latin letters and digits at an entry's edge still need a boundary there ("13." in the
Chinese list must not fire inside "2013.").
"""
from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass
from typing import Iterable

import ahocorasick

from corpusforge.udfs.overrides import language_key


@dataclass(frozen=True)
class WordList:
    """The listed words of one language and how they are matched."""
    words: tuple[str, ...]
    substrings: bool  # True: anywhere in the text (Chinese); False: whole words only
    fingerprint: str

    @classmethod
    def from_lines(cls, lines: Iterable[str], substrings: bool) -> "WordList":
        words = tuple(sorted({w for w in (normalise_text(line) for line in lines
                                          if not line.lstrip().startswith("#")) if w}))
        digest = hashlib.sha256(("substrings" if substrings else "words").encode())
        digest.update("\n".join(words).encode("utf-8"))
        return cls(words=words, substrings=substrings, fingerprint=digest.hexdigest()[:16])


@dataclass(frozen=True)
class WordPolicy:
    """When listed words block a document (the report's "cautious" compilation, made tunable)."""
    min_distinct_words: int
    max_density: float
    audit_words: int


@dataclass(frozen=True)
class WordVerdict:
    blocked: bool
    distinct: int       # different listed words found
    occurrences: int    # matches in total
    density: float      # share of the text's non-space characters inside matches
    words: tuple[str, ...]  # the most frequent matched words, for audit

    def detail(self) -> str:
        return f"{self.distinct} words, density {self.density:.4f}: {', '.join(self.words)}"


def normalise_text(text: str) -> str:
    """Lower case, runs of whitespace as one space: the form both lists and documents are matched in."""
    return " ".join(text.lower().split())


_AUTOMATA: dict[str, ahocorasick.Automaton] = {}
_BUILDS = Counter()


def automaton_for(word_list: WordList) -> ahocorasick.Automaton:
    """The automaton of a list, built on first use in this process and kept (keyed by fingerprint)."""
    automaton = _AUTOMATA.get(word_list.fingerprint)
    if automaton is None:
        automaton = ahocorasick.Automaton()
        for word in word_list.words:
            automaton.add_word(word, word)
        automaton.make_automaton()
        _AUTOMATA[word_list.fingerprint] = automaton
        _BUILDS[word_list.fingerprint] += 1
    return automaton


def automaton_builds(word_list: WordList) -> int:
    """How many times this process built the automaton of a list (1 once used: the cache works)."""
    return _BUILDS[word_list.fingerprint]


def find_words(text: str, word_list: WordList) -> tuple[Counter, int, int]:
    """(count of each listed word found, characters inside matches, non-space characters of the text)."""
    if not text or not word_list.words:
        return Counter(), 0, 0
    normal = normalise_text(text)
    found: Counter = Counter()
    matched_chars = 0
    edge = _ascii_word_char if word_list.substrings else _word_char
    for end, word in automaton_for(word_list).iter(normal):
        start = end - len(word) + 1
        if edge(word[0]) and start > 0 and edge(normal[start - 1]):
            continue
        if edge(word[-1]) and end + 1 < len(normal) and edge(normal[end + 1]):
            continue
        found[word] += 1
        matched_chars += len(word) - word.count(" ")
    return found, matched_chars, len(normal) - normal.count(" ")


def judge(text: str, word_list: WordList | None, policy: WordPolicy) -> WordVerdict:
    """The block-word decision for one document, with what it matched."""
    if word_list is None:
        return WordVerdict(False, 0, 0, 0.0, ())
    found, matched_chars, chars = find_words(text, word_list)
    density = min(1.0, matched_chars / chars) if chars else 0.0
    blocked = bool(found) and (len(found) >= policy.min_distinct_words or density > policy.max_density)
    words = tuple(w for w, _ in found.most_common(policy.audit_words))
    return WordVerdict(blocked, len(found), sum(found.values()), density, words)


def list_for_language(lists: dict[str, WordList], language: str | None) -> WordList | None:
    """The list of a CLD2 language code, falling back from a variant to its base ("zh-Hant" → "zh")."""
    key = language_key(language, lists)
    return None if key is None else lists[key]


def _word_char(ch: str) -> bool:
    return ch.isalnum() or ch == "_"


def _ascii_word_char(ch: str) -> bool:
    return ch.isascii() and (ch.isalnum() or ch == "_")
