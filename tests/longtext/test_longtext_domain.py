"""Domain rules from conf: URL patterns first, then text markers; `other` when nothing fires."""
from __future__ import annotations

import pytest

from corpusforge.udfs.longtext.domain import DomainRules, text_features, text_rules_from_conf


@pytest.fixture(scope="module")
def rules(cfg_factory):
    return DomainRules(cfg_factory().longtext.domains.model_dump())


@pytest.mark.parametrize("url, domain", [
    ("https://arxiv.org/abs/2403.17297", "paper"),
    ("https://en.wikipedia.org/wiki/Alchemy", "encyclopedia"),
    ("https://zh.m.wikipedia.org/wiki/%E5%93%B2%E5%AD%A6", "encyclopedia"),
    ("https://raw.githubusercontent.com/lua/lua/master/lvm.c", "code"),
    ("https://github.com/pallets/click/blob/main/src/click/core.py", "code"),
    ("https://flk.npc.gov.cn/detail2.html?ZmY4MDgx", "legal"),
    ("https://www.law.cornell.edu/uscode/text/15/2601", "legal"),
    ("https://patents.google.com/patent/US9204581B2/en", "patent"),
    ("https://www.gutenberg.org/files/11/11-0.txt", "novel"),
    ("https://news.example.com/a", "news"),
    ("https://example.com/2024/05/05/story.html", "news"),
    ("http://www.archive.org/iathreads/forum-display.php?poster=x", "forum"),
    ("https://bbs.example.cn/t/1", "forum"),
])
def test_url_rules(rules, url, domain):
    found = rules.url.match(url)
    assert found is not None and found[0] == domain and found[1].startswith("url:")


@pytest.mark.parametrize("url", [None, "", "not a url", "https://example.com/about.php", "https://github.com/pallets/click"])
def test_url_without_a_rule(rules, url):
    assert rules.url.match(url) is None


PYTHON = """import os
from typing import Any


def read(path: str) -> Any:
    with open(path) as handle:
        data = handle.read()
    if not data:
        return None
    result = parse_value(data)
    return result


class Reader:
    def __init__(self, name):
        self.name = name
        self.cache_size = 10

    def get_item(self, key):
        return self.store.get_value(key)
""" * 5

LAW_ZH = "\n\n".join(f"第{n}条 当事人违反本法规定的，依照本法处罚；构成犯罪的，依法追究刑事责任。" for n in "一二三四五六七八九十")

PATENT = ("In one embodiment, the device comprising a housing, wherein the housing includes a lid. "
          "The present invention relates to containers. In another embodiment, wherein the lid is hinged, "
          "the device comprising a latch according to claim 1. ") * 5

NOVEL = ("“Where are you going?” she asked him, and he replied that he did not know. "
         "“Then I shall go with you,” she said, and took his hand; he smiled at her. "
         "I never saw my sister again, he thought.\n\n") * 6

PAPER = """Introduction

Prior work (Smith et al., 2010) showed the effect [1], [2]. As shown in Figure 1 and Table 2, the
effect is significant (p < 0.05) [3].

Methods

Samples were collected as described by Jones et al. [4]; see Figure 2.

Results

The results (Fig. 3) agree with earlier reports [5-7] (Lee et al.).

Discussion
"""

FORUM = "\n".join(f"| Re: what a show | user{i} | GratefulDead | {i % 3} | 81 | Replies | Views |" for i in range(30))


@pytest.mark.parametrize("text, language, domain", [
    (PYTHON, "en", "code"), (LAW_ZH, "zh", "legal"), (PATENT, "en", "patent"), (NOVEL, "en", "novel"),
    (PAPER, "en", "paper"), (FORUM, "en", "forum"),
    ("The weather was mild and the market was quiet on most days of the season.\n" * 20, "en", "other"),
])
def test_text_rules(rules, text, language, domain):
    found, evidence = rules.detect(text, language, None)
    assert found == domain, evidence
    assert evidence.startswith("text:")


def test_a_novel_needs_few_digits(rules):
    with_numbers = NOVEL + " ".join(str(1900 + i) for i in range(200))
    assert rules.detect(with_numbers, "en")[0] != "novel"


def test_fenced_markdown_is_not_code(rules):
    tutorial = "本节我们介绍张量。例如，下面的代码称为广播。\n\n```python\n" + PYTHON + "```\n\n本章小结：练习见习题。\n"
    assert rules.detect(tutorial, "zh")[0] != "code"


def test_the_url_wins_over_the_text_unless_it_is_off(rules, cfg_factory):
    assert rules.detect(NOVEL, "en", "https://arxiv.org/abs/1")[0] == "paper"
    assert rules.detect(NOVEL, "en", "https://example.org/x")[0] == "novel"
    text_only = DomainRules(cfg_factory("longtext.domains.use_url=false").longtext.domains.model_dump())
    assert text_only.detect(NOVEL, "en", "https://arxiv.org/abs/1")[0] == "novel"


def test_a_rule_fires_with_its_quorum_only():
    features = text_features(NOVEL, "en")
    two = text_rules_from_conf({"novel": {"any_of": {"pronouns": {"at_least": 1}, "quotes": {"at_least": 1e9}},
                                          "quorum": 2}})
    one = text_rules_from_conf({"novel": {"any_of": {"pronouns": {"at_least": 1}, "quotes": {"at_least": 1e9}},
                                          "quorum": 1}})
    assert two[0].fired(features, "en") is None and one[0].fired(features, "en") is not None
    per_group = text_rules_from_conf({"x": {"required": {"pronouns": {"at_least": {"zh": 1}}}}})
    assert per_group[0].fired(features, "en") is None                # no value for the group: never fires


def test_features_are_rates():
    f = text_features(PATENT, "en")
    assert f["patent"] > 6 and 0.0 <= f["code_lines"] <= 1.0
