"""The modifying half of the report's Clean rules: a line-level normalisation pass run before any filter.

It repairs what extraction left behind (mojibake, stray control and invisible characters,
full-width Latin letters and digits, ragged whitespace, runs of separator characters and blank
lines) and drops lines that carry no text of the page (separator bars, lines of only symbols or
only a number, cookie and privacy notices, "enable JavaScript", C4-style [1]/[edit] markers).
CJK full-width punctuation (，。！？：；「」) is kept as it is: it is the page's punctuation, and the
punctuation rules read it. Every edit is counted per reason, so the stage reports what it changed.
"""
from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache

# Reasons under which edits are counted (units in brackets).
MOJIBAKE = "mojibake_fixed"             # signatures repaired by ftfy [sequences]
UNICODE = "unicode_normalised"          # lines changed by NFC or full-width → ASCII alphanumerics [lines]
INVISIBLE = "invisible_chars"           # control, zero-width, BOM, soft hyphen removed [characters]
SEPARATOR_RUN = "separator_run"         # runs like ------ or ====== shortened [runs]
SEPARATOR_LINE = "separator_line"       # lines made only of separators dropped [lines]
SYMBOL_LINE = "symbol_line"             # lines with no letter and no digit dropped [lines]
NUMBER_LINE = "number_line"             # lines that are only a number dropped [lines]
POLICY_LINE = "policy_line"             # cookie / privacy / terms notices dropped [lines]
JAVASCRIPT_LINE = "javascript_line"     # "enable JavaScript" notices dropped [lines]
CITATION = "citation_marker"            # [1], [edit], [citation needed] removed [markers]
BLANK_LINES = "blank_lines"             # surplus blank lines dropped [lines]
REASONS = (MOJIBAKE, UNICODE, INVISIBLE, SEPARATOR_RUN, SEPARATOR_LINE, SYMBOL_LINE, NUMBER_LINE,
           POLICY_LINE, JAVASCRIPT_LINE, CITATION, BLANK_LINES)

# UTF-8 bytes read as Windows-1252/Latin-1: a lead byte (Â..ô) then continuation-byte characters.
# It is the mojibake signature; ftfy, the library made for the repair, runs only where it appears.
MOJIBAKE_SIGNATURE = re.compile(
    "[\u00c2-\u00df][\u0080-\u00bf\u0152\u0153\u0160\u0161\u0178\u017d\u017e\u0192\u02c6\u02dc"
    "\u2013\u2014\u2018-\u201e\u2020-\u2022\u2026\u2030\u2039\u203a\u20ac\u2122]"
    "|[\u00e0-\u00ef][\u0080-\u00bf\u0152\u0153\u0160\u0161\u0178\u017d\u017e\u0192\u02c6\u02dc"
    "\u2013\u2014\u2018-\u201e\u2020-\u2022\u2026\u2030\u2039\u203a\u20ac\u2122]{2}")
# Lone surrogates cannot be encoded as UTF-8 (rjieba and Parquet refuse them); only text that never went
# through a UTF-8 decoder has them (`corpusforge explain --text` of undecodable argv bytes). They become
# U+FFFD, which max_replacement_char_fraction counts.
_SURROGATE = re.compile("[\ud800-\udfff]")
_INVISIBLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u00ad\u200b\u2060\ufeff\ufffe]")
_FULLWIDTH_ALNUM = {cp: cp - 0xFEE0 for cp in (*range(0xFF10, 0xFF1A), *range(0xFF21, 0xFF3B), *range(0xFF41, 0xFF5B))}
_HAS_FULLWIDTH_ALNUM = re.compile("[\uff10-\uff19\uff21-\uff3a\uff41-\uff5a]")
_MOJIBAKE_LEAD = re.compile("[\u00c2-\u00ef]")
_HAS_LETTER = re.compile(r"[^\W\d_]")
_HAS_DIGIT = re.compile(r"\d")


@dataclass(frozen=True)
class NormaliseOptions:
    """conf clean.normalise, as plain values."""
    unicode_form: str
    fix_mojibake: bool
    halfwidth_alphanumerics: bool
    separator_chars: str
    separator_run_keep: int
    max_blank_lines: int
    drop_separator_lines: bool
    drop_symbol_lines: bool
    drop_number_lines: bool
    boilerplate_max_line_chars: int
    policy_phrases: tuple[str, ...]
    javascript_phrases: tuple[str, ...]
    citation_pattern: str | None


@dataclass(frozen=True)
class Normalised:
    """The normalised text, its edits per reason, and what the rules read from the text before it."""
    text: str
    edits: dict[str, int]
    removed_chars: int        # characters in dropped lines, markers and shortened runs
    original_chars: int
    separator_runs: int       # runs of separators longer than separator_run_keep, before normalising
    original_lines: int       # non-empty lines before normalising


def normalise(text: str, options: NormaliseOptions) -> Normalised:
    """Repair characters, then walk the lines: drop boilerplate lines, shorten runs, collapse blanks."""
    edits: Counter = Counter()
    original_chars = len(text)
    text = _SURROGATE.sub("\ufffd", text.replace("\r\n", "\n").replace("\r", "\n"))
    patterns = _patterns(options)
    separator_runs = sum(1 for _ in patterns.separator_run.finditer(text))
    original_lines = sum(1 for line in text.split("\n") if line.strip())
    text = _repair_characters(text, options, edits)
    notices = patterns.notices is not None and _found(patterns.notices, text) is not None
    kept: list[str] = []
    removed_chars = 0
    blank_run = 0
    for line in text.split("\n"):
        line = " ".join(line.split())  # every Unicode space (NBSP, U+3000, tabs) → one space
        if patterns.citation is not None and "[" in line:
            line, markers = patterns.citation.subn("", line)
            if markers:
                edits[CITATION] += markers
                before = len(line)
                line = " ".join(line.split())
                removed_chars += before - len(line)
        if not line:
            blank_run += 1
            if blank_run > options.max_blank_lines or not kept:
                edits[BLANK_LINES] += 1 if kept else 0
                continue
            kept.append(line)
            continue
        reason = _drop_reason(line, options, patterns, notices)
        if reason is not None:
            edits[reason] += 1
            removed_chars += len(line)
            continue
        if patterns.separator_run is not None:
            shortened, runs = patterns.separator_run.subn(patterns.separator_replacement, line)
            if runs:
                edits[SEPARATOR_RUN] += runs
                removed_chars += len(line) - len(shortened)
                line = shortened
        blank_run = 0
        kept.append(line)
    while kept and not kept[-1]:
        kept.pop()
    return Normalised("\n".join(kept), dict(edits), removed_chars, original_chars, separator_runs, original_lines)


def has_mojibake(text: str) -> bool:
    return _MOJIBAKE_LEAD.search(text) is not None and MOJIBAKE_SIGNATURE.search(text) is not None


def mojibake_count(text: str) -> int:
    return len(MOJIBAKE_SIGNATURE.findall(text)) if _MOJIBAKE_LEAD.search(text) else 0


def _repair_characters(text: str, options: NormaliseOptions, edits: Counter) -> str:
    if options.fix_mojibake and has_mojibake(text):
        before = mojibake_count(text)
        text = _ftfy_fix(text)
        fixed = before - mojibake_count(text)
        if fixed > 0:
            edits[MOJIBAKE] += fixed
    text, invisible = _INVISIBLE.subn("", text)
    if invisible:
        edits[INVISIBLE] += invisible
    changed_lines = 0
    if options.unicode_form != "none" and not unicodedata.is_normalized(options.unicode_form, text):
        lines = text.split("\n")
        fixed_lines = [unicodedata.normalize(options.unicode_form, line) for line in lines]
        changed_lines += sum(a != b for a, b in zip(lines, fixed_lines))
        text = "\n".join(fixed_lines)
    if options.halfwidth_alphanumerics and _HAS_FULLWIDTH_ALNUM.search(text):
        changed_lines += sum(1 for line in text.split("\n") if _HAS_FULLWIDTH_ALNUM.search(line))
        text = text.translate(_FULLWIDTH_ALNUM)
    if changed_lines:
        edits[UNICODE] += changed_lines
    return text


def _drop_reason(line: str, options: NormaliseOptions, patterns: "_Patterns", notices: bool) -> str | None:
    if not _HAS_LETTER.search(line):
        if _HAS_DIGIT.search(line):
            return NUMBER_LINE if options.drop_number_lines else None
        if patterns.separator_only is not None and patterns.separator_only.fullmatch(line):
            return SEPARATOR_LINE if options.drop_separator_lines else None
        return SYMBOL_LINE if options.drop_symbol_lines else None
    if notices and len(line) <= options.boilerplate_max_line_chars:
        return _found(patterns.notices, line)
    return None


def _found(automaton, text: str) -> str | None:
    """The reason of the first notice phrase in text (case-insensitive), if any."""
    for _end, reason in automaton.iter(text.lower()):
        return reason
    return None


@dataclass(frozen=True)
class _Patterns:
    separator_run: re.Pattern | None
    separator_replacement: str
    separator_only: re.Pattern | None
    notices: object | None    # Aho-Corasick automaton: lowercased phrase → POLICY_LINE / JAVASCRIPT_LINE
    citation: re.Pattern | None


@lru_cache(maxsize=16)
def _patterns(options: NormaliseOptions) -> _Patterns:
    chars = re.escape(options.separator_chars) if options.separator_chars else ""
    keep = options.separator_run_keep

    notices = None
    if options.policy_phrases or options.javascript_phrases:
        # Aho-Corasick: one scan of the page for every phrase (a regex alternation rescans per phrase).
        import ahocorasick
        notices = ahocorasick.Automaton()
        for reason, phrases in ((JAVASCRIPT_LINE, options.javascript_phrases), (POLICY_LINE, options.policy_phrases)):
            for phrase in phrases:
                notices.add_word(phrase.lower(), reason)
        notices.make_automaton()

    return _Patterns(
        separator_run=re.compile(f"([{chars}])\\1{{{keep},}}") if chars else None,
        separator_replacement="\\1" * keep,
        separator_only=re.compile(f"[{chars}\\s]+") if chars else None,
        notices=notices,
        citation=re.compile(options.citation_pattern, re.IGNORECASE) if options.citation_pattern else None,
    )


@lru_cache(maxsize=1)
def _ftfy_config():
    import ftfy
    # Encoding repair only: width, quotes, HTML entities and line breaks are this module's own business.
    return ftfy.TextFixerConfig(unescape_html=False, remove_terminal_escapes=True, fix_character_width=False,
                                uncurl_quotes=False, fix_line_breaks=False, fix_latin_ligatures=False,
                                normalization=None, explain=False)


def _ftfy_fix(text: str) -> str:
    import ftfy
    return ftfy.fix_text(text, _ftfy_config())
