"""Normalisation (the modifying rules): before/after examples, each edit counted under its reason."""
from __future__ import annotations

import dataclasses

import pytest

from corpusforge.conf import load_config
from corpusforge.udfs.cleaning import settings_from_conf
from corpusforge.udfs.text_normalise import normalise

OPTIONS = settings_from_conf(load_config(None, []).clean.model_dump()).normalise


@pytest.mark.parametrize("before, after, edits", [
    # whitespace: NBSP, tabs, ideographic spaces and runs collapse; lines are stripped
    ("Hello\u00a0\u00a0 world\t again  ", "Hello world again", {}),
    ("\u3000\u3000第一段正文。", "第一段正文。", {}),
    # CRLF line ends and runs of blank lines (one blank line kept as a paragraph break)
    ("First line.\r\n\r\n\r\n\r\nSecond line.\r\n", "First line.\n\nSecond line.", {"blank_lines": 2}),
    # separator bars dropped, long separator runs shortened
    ("Title\n-----------\nBody text ====== more", "Title\nBody text === more",
     {"separator_line": 1, "separator_run": 1}),
    ("Name ||||| Value\n***********\n___", "Name ||| Value", {"separator_run": 1, "separator_line": 2}),
    # lines with no letter: only symbols, only a number
    ("Story starts here.\n★ ★ ★\n→\n42\n2019-09-09 19:28\nStory ends.", "Story starts here.\nStory ends.",
     {"symbol_line": 2, "number_line": 2}),
    # cookie / privacy / JavaScript notices, English and Chinese
    ("Real text.\nThis site uses cookies to improve your experience.\nPlease enable JavaScript to view comments.",
     "Real text.", {"policy_line": 1, "javascript_line": 1}),
    ("正文内容。\n请阅读我们的隐私政策\n您的浏览器不支持JavaScript", "正文内容。", {"policy_line": 1, "javascript_line": 1}),
    # C4-style citation and edit markers
    ("Paris is the capital of France.[1][23] History[edit]", "Paris is the capital of France. History",
     {"citation_marker": 3}),
    ("北京是中国的首都。[1] 历史[编辑]", "北京是中国的首都。 历史", {"citation_marker": 2}),
    # full-width letters and digits become ASCII; CJK full-width punctuation stays
    ("ＧＤＰ增长１０％，好！", "GDP增长10％，好！", {"unicode_normalised": 1}),
    # control and invisible characters
    ("Zero\u200bwidth\u00adsoft\x07bell\ufeff.", "Zerowidthsoftbell.", {"invisible_chars": 4}),
    # mojibake (UTF-8 read as Windows-1252) repaired with ftfy
    ("It\u00e2\u20ac\u2122s a caf\u00c3\u00a9.", "It’s a café.", {"mojibake_fixed": 2}),
    # NFC: a decomposed é is composed
    ("Cafe\u0301 ouvert.", "Café ouvert.", {"unicode_normalised": 1}),
])
def test_normalise_before_after(before, after, edits):
    result = normalise(before, OPTIONS)
    assert result.text == after
    assert result.edits == edits


def test_a_paragraph_that_mentions_a_privacy_policy_stays():
    long_line = ("The court ruled that the company's privacy policy misled users about how their data was sold, "
                 "and ordered it to rewrite the notice, pay a fine and report to the regulator every year.") * 2
    assert len(long_line) > OPTIONS.boilerplate_max_line_chars
    assert normalise(long_line, OPTIONS).text == long_line


def test_an_article_about_javascript_stays():
    text = "JavaScript is a programming language used on the web."
    assert normalise(text, OPTIONS).text == text


def test_removed_chars_and_separator_runs_are_measured_on_the_input():
    result = normalise("Text here.\n==========\n12345\nMore ------ text.", OPTIONS)
    assert result.separator_runs == 2
    assert result.original_lines == 4
    assert result.removed_chars == len("==========") + len("12345") + len("---")


def test_switches_turn_edits_off():
    keep_all = dataclasses.replace(OPTIONS, drop_number_lines=False, drop_symbol_lines=False,
                                   drop_separator_lines=False, citation_pattern=None, policy_phrases=(),
                                   javascript_phrases=(), fix_mojibake=False, halfwidth_alphanumerics=False)
    text = "Ｎｏ\n42\n★\n-----\nSee [1].\nThis site uses cookies.\ncaf\u00c3\u00a9"
    result = normalise(text, keep_all)
    assert result.text == "Ｎｏ\n42\n★\n---\nSee [1].\nThis site uses cookies.\ncaf\u00c3\u00a9"
    assert result.edits == {"separator_run": 1}
