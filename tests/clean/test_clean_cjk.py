"""Chinese pages are not removed by rules written for space-delimited text (real pages of ../shared/data).

gne-chinese-news: Chinese news pages through Format's record logic (no Spark), then the rules.
magic-html: the gold main text of its Chinese and non-Chinese pages, so that extraction noise is out
of the picture and only the rules are compared.
"""
from __future__ import annotations

import collections
import json

import pytest

from support.paths import shared_data
from corpusforge.conf import load_config
from corpusforge.udfs.cleaning import Cleaner, settings_from_conf
from corpusforge.udfs.language import detect_language

CONF = load_config(None, [])
# Rules that count words, and so misfire when a Chinese sentence is taken for one word.
WORD_RULES = ("gopher_min_words", "gopher_min_mean_word_length", "gopher_max_mean_word_length",
              "gopher_min_stop_words", "gopher_max_hash_word_ratio", "gopher_max_ellipsis_word_ratio",
              "fineweb_max_newline_word_ratio", "gopher_min_alpha_word_fraction")


def cleaner(**thresholds) -> Cleaner:
    section = CONF.clean.model_dump()
    if thresholds:
        table = section["thresholds"]
        table["languages"] = {k: {**(v or {}), **thresholds} for k, v in table["languages"].items()}
    return Cleaner(settings_from_conf(section))


@pytest.fixture(scope="module")
def gne_documents() -> list[dict]:
    from corpusforge.jobs.format import format_options
    from corpusforge.udfs.documents import ArchiveToDocuments

    path = shared_data() / "warc" / "built" / "gne-chinese-news.warc.gz"
    with open(path, "rb") as handle:
        rows = list(ArchiveToDocuments(format_options(CONF)).rows(handle, str(path)))
    docs = [r for r in rows if r.get("file_summary") is None and r["reason"] is None]
    return [d for d in docs if d["language"] in ("zh", "zh-Hant")]


def word_rule_failures(documents: list[dict], judge: Cleaner) -> tuple[int, collections.Counter]:
    kept, failures = 0, collections.Counter()
    for d in documents:
        verdict = judge.clean(d["text"], d["language"], d["host"], d["url"])
        kept += verdict.keep
        failures.update(rule for rule in verdict.failed_rules if rule in WORD_RULES)
    return kept, failures


def test_gne_chinese_news_pass_the_word_rules_in_jieba_words(gne_documents):
    assert len(gne_documents) >= 50
    kept, failures = word_rule_failures(gne_documents, cleaner())
    assert kept / len(gne_documents) > 0.6, "most of these news pages are good content"
    assert max(failures.values(), default=0) <= 0.1 * len(gne_documents), failures


def test_the_same_pages_in_whitespace_words_would_be_removed(gne_documents):
    """The control: measured as space-delimited text, most Chinese pages fail the word rules."""
    kept, failures = word_rule_failures(gne_documents, cleaner(word_units="whitespace", gopher_min_mean_word_length=3,
                                                               gopher_max_mean_word_length=10))
    assert failures["gopher_min_words"] + failures["gopher_max_mean_word_length"] > 0.5 * len(gne_documents)
    assert kept < 0.3 * len(gne_documents)


def test_magic_html_gold_chinese_articles_keep_like_the_others():
    path = shared_data() / "warc" / "built" / "magic-html-benchmark.groundtruth.jsonl"
    judge = cleaner()
    table: dict[tuple[bool, str], list[int]] = collections.defaultdict(lambda: [0, 0])
    word_failures = collections.Counter()
    for line in path.open(encoding="utf-8"):
        gold = json.loads(line)
        language = detect_language(gold["gold_main_content"])[0]
        verdict = judge.clean(gold["gold_main_content"], language, None, gold["url"])
        chinese = language in ("zh", "zh-Hant")
        table[chinese, gold["page_type"]][0] += verdict.keep
        table[chinese, gold["page_type"]][1] += 1
        if chinese:
            word_failures.update(rule for rule in verdict.failed_rules if rule in WORD_RULES)
    rate = {key: kept / total for key, (kept, total) in table.items()}
    assert table[True, "article"][1] >= 40
    assert rate[True, "article"] > 0.5
    assert abs(rate[True, "article"] - rate[False, "article"]) < 0.15, rate
    assert max(word_failures.values(), default=0) <= 0.1 * sum(n for (zh, _), (_, n) in table.items() if zh)
