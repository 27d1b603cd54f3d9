"""Domain of a long document, for the long-text stage's thresholds per domain × language.

The InternLM2 report sets the long-context filters' thresholds per domain and per language: a
conjunction statistic means nothing for code, and textbooks, papers, novels and patents each have
their own character. The domain is named, with its evidence, from two cheap sources, both in conf
(longtext.domains):

1. the URL: shell-style patterns per domain (`url_patterns`), domains tried in conf order; a pattern
   without "/" matches the host, one with "/" host + path (+ query), as the override table's sites;
2. the text: a handful of counted markers (code syntax, dialogue, article numbers, claims language,
   citations, exercises, …; `text_features`, defined here) against thresholds (`text_rules`): the
   first domain whose required signals and quorum of optional signals fire wins; else `other`.

Measured against the labels of ../shared/data/long: 90.7% on the half the rules were not written on,
text only (bench/longtext/README.md).
"""
from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass
from typing import Any, Mapping, Sequence
from urllib.parse import urlsplit

from corpusforge.udfs.longtext.statistics import sample_windows

OTHER = "other"
# Text-rule thresholds are given per language group: "en" (space-delimited) and "zh" (CJK).
GROUPS = ("en", "zh")


def language_group(language: str | None) -> str:
    return "zh" if (language or "").startswith(("zh", "ja")) else "en"


# --- 1. URL rules -------------------------------------------------------------------------------

@dataclass(frozen=True)
class UrlRules:
    """(pattern, domain) in conf order, compiled once."""
    rules: tuple[tuple[str, str, bool, re.Pattern], ...]

    @classmethod
    def from_conf(cls, url_patterns: Mapping[str, Sequence[str]]) -> "UrlRules":
        return cls(tuple((p, domain, "/" in p, re.compile(fnmatch.translate(p.lower())))
                         for domain, patterns in url_patterns.items() for p in patterns))

    def match(self, url: str | None) -> tuple[str, str] | None:
        """(domain, "url:<pattern>") of the first matching pattern, or None (no URL or no match)."""
        if not url:
            return None
        host, path = _host_and_path(url)
        if not host:
            return None
        for pattern, domain, with_path, rx in self.rules:
            if rx.match(host + path if with_path else host):
                return domain, f"url:{pattern}"
        return None


def _host_and_path(url: str) -> tuple[str, str]:
    try:
        parts = urlsplit(url.strip())
        host = (parts.hostname or "").lower().rstrip(".")
    except ValueError:
        return "", ""
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return host, path.lower()


# --- 2. text markers ----------------------------------------------------------------------------
_CODE_LINE = re.compile(
    r"""(?:[;{}]|\)\s*:|\b(?:else|try|finally)\s*:)\s*(?://.*|/\*.*|\#.*)?$      # ends as a statement or block
      |^(?://|/\*|\*/|\#include\b|\#define\b|\#!|@\w+|[}\])]+[;,)]*$)             # comment, directive, decorator, closer
      |^(?:def|class|import|from\s+\S+\s+import|return|func|fn|package|public|private|protected|static
           |const|let|var|function|pub|impl|use|struct|enum|interface|namespace|template|elif|except
           |if|for|while|switch|case|raise|throw|yield|with|assert|break|continue|pass)\b.*[:;{(,)\]]$
      |^[A-Za-z_][\w.\[\]'"]*\s*(?:[-+*/%|&^]|<<|>>)?=(?!=)\s*\S                    # assignment
    """, re.X)
_IDENTIFIER = re.compile(r"\b[a-z]+(?:_[a-z0-9]+)+\b|\b[a-z]+[A-Z]\w*\b|\w\.\w+\(|->|::|\+\+|&&|\|\||!=|==")
_OPEN_QUOTES = re.compile(r"[“「『‘]|(?:^|(?<=\s))\"")
_SPEECH = {"en": re.compile(r"\b(?:said|asked|replied|cried|exclaimed|answered|whispered|shouted)\b"),
           "zh": re.compile(r"(?:道|说|問|问|曰|叫|喊|笑)[：:]\s*[“「『\"]")}
_CHAPTER = re.compile(r"^\s*(?:#+\s*)?(?:CHAPTER|Chapter|BOOK|Book|STAVE|Stave)\s+(?:[IVXLC]+|\d+|[A-Z][a-z]+)\b"
                      r"|^\s*(?:#+\s*)?第[一二三四五六七八九十百千零〇两\d]+[回章卷]", re.M)
_PRONOUN = {"en": re.compile(r"\b(?:he|she|him|her|his|I|me|my)\b"), "zh": re.compile(r"[他她我]")}
_LEGAL_LINE = {"en": re.compile(r"^\s*(?:§+\s*\d|Sec\.\s*\d|SEC\.\s*\d|SECTION\s+\d|Section\s+\d+\.|Article\s+\d|ARTICLE\s+[\dIVX])", re.M),
               "zh": re.compile(r"^\s*第[一二三四五六七八九十百千零〇\d]+条[\s　]", re.M)}
_LEGAL_WORDS = {"en": re.compile(r"\bshall\b|\bU\.S\.C\.|\bsubsection\b|\bparagraph \(\d+\)|\bPublic Law\b|\bpursuant to\b"),
                "zh": re.compile(r"本法|本条例|本规定|依照|违反|处罚|当事人")}
_PATENT = {"en": re.compile(r"\bwherein\b|\bembodiments?\b|\bthe present (?:invention|disclosure)\b|\bclaim \d+\b"
                            r"|\bcomprising\b|\bsaid (?:first|second|device|method|apparatus|member|layer)\b"),
           "zh": re.compile(r"权利要求|实施例|本发明|本实用新型|技术领域|背景技术|具体实施方式")}
_PAPER = {"en": re.compile(r"\bet al\.|\[\d+(?:[,–-]\s*\d+)*\]|\b(?:Fig\.|Figure|Table)\s+\d|\bdoi\b|\bp\s*[<=]\s*0?\.\d"),
          "zh": re.compile(r"等人|参考文献|摘\s*要|关键词|\[\d+(?:[,，–-]\s*\d+)*\]|(?:图|表)\s*\d")}
_PAPER_HEADINGS = re.compile(r"^\s*(?:\d+(?:\.\d+)*\.?\s+)?(?:Abstract|Introduction|Background|Related Work|Methods?|Materials and Methods"
                             r"|Results|Discussion|Conclusions?|References|Acknowledg(?:e)?ments|Supporting Information)\s*$"
                             r"|^\s*(?:\d+(?:\.\d+)*\.?\s*)?(?:摘\s*要|引\s*言|参考文献|结\s*论|讨\s*论|致\s*谢|研究方法|实验结果)\s*$", re.M)
_DEFINES = {"en": re.compile(r"\b(?:is|are|was|were) (?:called|known as|referred to as|defined as)\b"),
            "zh": re.compile(r"称为|叫做|称作|被称|定义为")}
_SECTION_REF = {"en": re.compile(r"\b(?:this|the next|the previous|earlier|later|each) (?:chapter|section|module|unit|lesson)\b"
                                 r"|\b(?:Exercises?|Example \d+|Review Questions|Key Terms|Learning Objectives|Check Your Understanding)\b"),
                "zh": re.compile(r"本[章节]|上一[章节]|下一[章节]|例题|习题|练习|小结")}
_FENCE = re.compile(r"^\s*(?:```|~~~)", re.M)
_YEARS = {"en": re.compile(r"\b(?:1[5-9]|20)\d\d\b"), "zh": re.compile(r"\d{3,4}年")}
_ENCYCLOPEDIA = {"en": re.compile(r"^\s*(?:See also|References|External links|Further reading|Notes|Bibliography)\s*$"
                                  r"|\(\s*(?:born|c\.)?\s*\d{3,4}\s*[–-]\s*\d{3,4}\s*\)|^CATEGORIES:|^Category:", re.M),
                 "zh": re.compile(r"^\s*(?:参见|参考文献|外部链接|注释|延伸阅读|相关条目)\s*$|\[编辑\]|\[編輯\]|^\d+(?:\.\d+)*\s+\S{1,16}$", re.M)}
_FORUM = {"en": re.compile(r"^\s*\|?\s*Re:|\b(?:Reply|Replies|Posted by|Quote|Joined|Posts:|Thread|Moderator|Views)\b", re.M),
          "zh": re.compile(r"回复|楼主|发表于|沙发|板凳|\d+楼|帖子|跟帖")}
_NEWS = {"en": re.compile(r"\((?:Reuters|AP|AFP|Bloomberg|CNN)\)|\bAssociated Press\b|\bsaid in a statement\b|\btold reporters\b"
                          r"|\baccording to\b|\bsaid (?:on )?(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)\b"
                          r"|\b(?:spokesman|spokeswoman|spokesperson)\b"),
         "zh": re.compile(r"记者|新华社|日电|据.{1,12}报道|责任编辑|编辑：|来源：|通讯员|本报讯|报道")}
_DIGITS = re.compile(r"\d")

FEATURES = ("code_lines", "identifiers", "fences", "quotes", "speech", "chapters", "pronouns", "digits",
            "legal_lines", "legal_words", "patent", "paper", "paper_headings", "defines", "section_refs", "years",
            "encyclopedia", "forum", "news")


def text_features(text: str, language: str | None, sample_chars: int = 100_000) -> dict[str, float]:
    """The markers the text rules read: shares of lines, or counts per 10,000 characters, measured on
    8 evenly spaced windows of `sample_chars` characters in all (0: the whole text), so a licence at
    the end weighs no more than any other stretch; chapter headings and paper section titles are
    counted on the whole text (they are sparse, and cheap to find)."""
    lang = language_group(language)
    whole = text
    text = sample_windows(whole, sample_chars, 8)
    lines = [line.strip() for line in text.split("\n") if line.strip()]
    n_lines = max(len(lines), 1)
    per10k = 10_000 / max(len(text), 1)

    def rate(pattern: re.Pattern) -> float:
        return len(pattern.findall(text)) * per10k

    return {
        "code_lines": sum(1 for line in lines if _CODE_LINE.search(line)) / n_lines,
        "identifiers": rate(_IDENTIFIER),
        "fences": rate(_FENCE),
        "quotes": rate(_OPEN_QUOTES),
        "speech": rate(_SPEECH[lang]),
        "chapters": float(len(_CHAPTER.findall(whole))),
        "pronouns": rate(_PRONOUN[lang]),
        "digits": rate(_DIGITS),
        "legal_lines": rate(_LEGAL_LINE[lang]),
        "legal_words": rate(_LEGAL_WORDS[lang]),
        "patent": rate(_PATENT[lang]),
        "paper": rate(_PAPER[lang]),
        "paper_headings": float(len(set(re.sub(r"[\d.\s]", "", h).lower() for h in _PAPER_HEADINGS.findall(whole)))),
        "defines": rate(_DEFINES[lang]),
        "section_refs": rate(_SECTION_REF[lang]),
        "years": rate(_YEARS[lang]),
        "encyclopedia": rate(_ENCYCLOPEDIA[lang]),
        "forum": rate(_FORUM[lang]),
        "news": rate(_NEWS[lang]),
    }


@dataclass(frozen=True)
class Signal:
    """feature >= at_least (or <= at_most), per language group; a group without a value never fires."""
    feature: str
    at_least: Mapping[str, float] | None = None
    at_most: Mapping[str, float] | None = None

    def fires(self, features: Mapping[str, float], group: str) -> bool:
        value = features[self.feature]
        if self.at_least is not None and (group not in self.at_least or value < self.at_least[group]):
            return False
        if self.at_most is not None and (group not in self.at_most or value > self.at_most[group]):
            return False
        return True

    def describe(self, features: Mapping[str, float], group: str) -> str:
        bound = f">={self.at_least[group]:g}" if self.at_least is not None else f"<={self.at_most[group]:g}"
        return f"{self.feature}={features[self.feature]:.3g}{bound}"


@dataclass(frozen=True)
class TextRule:
    """A domain fires when every `required` signal and at least `quorum` of the `any_of` signals fire."""
    domain: str
    required: tuple[Signal, ...] = ()
    any_of: tuple[Signal, ...] = ()
    quorum: int = 0

    def fired(self, features: Mapping[str, float], group: str) -> list[Signal] | None:
        if not all(s.fires(features, group) for s in self.required):
            return None
        optional = [s for s in self.any_of if s.fires(features, group)]
        return [*self.required, *optional] if len(optional) >= self.quorum else None


def _per_group(value: Any) -> Mapping[str, float] | None:
    if value is None:
        return None
    if isinstance(value, Mapping):
        return {k: float(v) for k, v in value.items()}
    return {g: float(value) for g in GROUPS}


def text_rules_from_conf(rules: Mapping[str, Mapping[str, Any]]) -> tuple[TextRule, ...]:
    """conf longtext.domains.text_rules ({domain: {required: {feature: {at_least|at_most: number or
    {en, zh}}}, any_of: {…}, quorum}}) as TextRules, in conf order."""
    def signals(entries: Mapping[str, Mapping[str, Any]] | None) -> tuple[Signal, ...]:
        return tuple(Signal(feature, _per_group(bounds.get("at_least")), _per_group(bounds.get("at_most")))
                     for feature, bounds in (entries or {}).items())
    return tuple(TextRule(domain, signals(rule.get("required")), signals(rule.get("any_of")), int(rule.get("quorum") or 0))
                 for domain, rule in rules.items())


def domain_from_text(text: str, language: str | None, rules: Sequence[TextRule],
                     sample_chars: int = 100_000) -> tuple[str, str]:
    """(domain, evidence) from the text alone: the first rule whose signals fire."""
    group = language_group(language)
    features = text_features(text, language, sample_chars)
    for rule in rules:
        fired = rule.fired(features, group)
        if fired is not None:
            return rule.domain, "text:" + ",".join(s.describe(features, group) for s in fired)
    return OTHER, "text:no domain quorum"


class DomainRules:
    """The conf's URL and text rules, compiled once per worker."""

    def __init__(self, settings: Mapping[str, Any]):
        self.use_url = bool(settings["use_url"])
        self.url = UrlRules.from_conf(settings["url_patterns"])
        self.text = text_rules_from_conf(settings["text_rules"])
        self.sample_chars = int(settings["sample_chars"])

    def detect(self, text: str, language: str | None, url: str | None = None) -> tuple[str, str]:
        """(domain, evidence): the first URL pattern that matches, else the text rules."""
        if self.use_url:
            found = self.url.match(url)
            if found is not None:
                return found
        return domain_from_text(text, language, self.text, self.sample_chars)
