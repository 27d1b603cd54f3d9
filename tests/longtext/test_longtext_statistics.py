"""Length selection and the long-text statistics, each on small texts; every rule on both of its sides."""
from __future__ import annotations

import math
import random

import pytest

from corpusforge.udfs.longtext import statistics as S

ALICE = """Alice was beginning to get very tired of sitting by her sister on the
bank, and of having nothing to do: once or twice she had peeped into the
book her sister was reading, but it had no pictures or conversations in
it, 'and what is the use of a book,' thought Alice 'without pictures or
conversations?'

So she was considering in her own mind (as well as she could, for the
hot day made her feel very sleepy and stupid), whether the pleasure of
making a daisy-chain would be worth the trouble of getting up and picking
the daisies, when suddenly a White Rabbit with pink eyes ran close by her."""

HONGLOU = "此开卷第一回也。作者自云：因曾历过一番梦幻之后，故将真事隐去，而借通灵之说，撰此《石头记》一书也。" \
          "故曰甄士隐云云。但书中所记何事何人？自又云：今风尘碌碌，一事无成，忽念及当日所有之女子，一一细考较去，" \
          "觉其行止见识，皆出于我之上。"

OFF = {name: None for name in S.RULE_NAMES}


def m(text, language="en", **kw):
    return S.LongMeasures(text, language, **kw)


# --- length selection: bytes, not characters ------------------------------------------------------

def test_length_is_counted_in_utf8_bytes_at_the_boundary():
    assert not S.is_long("a" * 32768, 32768)          # exactly 32 KiB is not more than 32 KiB
    assert S.is_long("a" * 32769, 32768)
    assert S.utf8_bytes("中") == 3
    assert S.is_long("中" * 10923, 32768)              # 32,769 bytes in 10,923 characters
    assert not S.is_long("中" * 10922, 32768)          # 32,766 bytes
    assert S.is_long("😀" * 8193, 32768) and not S.is_long("😀" * 8192, 32768)
    assert S.is_long("a" * 10000 + "中" * 7590, 32768)  # 32,770 bytes, 17,590 characters
    assert not S.is_long(None, 0) and not S.is_long("", 0) and S.is_long("x", 0)


# --- sampling -------------------------------------------------------------------------------------

def test_sample_is_the_text_when_short_and_bounded_windows_at_line_starts_otherwise():
    assert S.sample_windows("abc\ndef", 100, 8) == "abc\ndef"
    assert S.sample_windows("abc", 0, 8) == "abc"
    lines = [f"line {i:06d} " + "x" * 40 for i in range(20000)]
    text = "\n".join(lines[:-1] + ["FOOTER " * 10])
    sample = S.sample_windows(text, 80_000, 8)
    parts = sample.split("\n\n")
    assert len(parts) == 8 and all(p.startswith("line ") for p in parts)
    assert len(sample) <= 80_000 + 7 * 2 and "FOOTER" not in sample


# --- statistics -----------------------------------------------------------------------------------

def test_dup_line_char_fraction_counts_repeats_after_the_first():
    assert S.dup_line_char_fraction(m("aaaa\nbb\naaaa\n\n  aaaa  ")) == pytest.approx(8 / 14)
    assert S.dup_line_char_fraction(m("one\ntwo\nthree")) == 0.0


def test_compression_ratio_is_low_for_repetition():
    rng = random.Random(0)
    varied = " ".join("".join(rng.choice("abcdefghij") for _ in range(6)) for _ in range(3000))
    assert S.compression_ratio(m(ALICE * 40)) < 0.1 < S.compression_ratio(m(varied))


def test_table_lines_are_cell_rows_or_tabbed():
    assert S.table_line_fraction(m("| a | b |\n| 1 | 2 |\nplain prose line\ncol1\tcol2\na | b")) == pytest.approx(3 / 5)


def test_digit_fraction_counts_visible_characters():
    assert S.digit_fraction(m("ab 12\n€%")) == pytest.approx(2 / 6)


def test_sentence_line_fraction_and_line_length():
    text = "Home\nAbout us\nThis is a sentence. And this.\nContact"
    assert S.sentence_line_char_fraction(m(text)) == pytest.approx(29 / (4 + 8 + 29 + 7))
    assert S.mean_line_chars(m(text)) == pytest.approx((4 + 8 + 29 + 7) / 4)
    assert S.sentence_line_char_fraction(m(HONGLOU, "zh")) == 1.0


def test_conjunctions_english_and_chinese():
    assert S.conjunction_rate(m("We stayed because it rained, but however you look at it the day was fine.")) \
        == pytest.approx(3 / 15)                                  # because, but, however
    zh = m("因为下雨，所以我们没有出门，但是心情很好。", "zh")
    assert {"因为", "所以", "但是"} <= set(zh.words)
    assert S.conjunction_rate(zh) == pytest.approx(sum(w in S.CONJUNCTIONS["zh"] for w in zh.words) / len(zh.words))
    assert S.conjunction_rate(m(HONGLOU, "zh-Hant")) > 0          # zh-Hant reads the zh list


def test_a_language_without_a_word_list_gives_nan_which_an_active_rule_fails():
    ru = m("Это простой текст, но без списка союзов.", "ru")
    assert math.isnan(S.conjunction_rate(ru))
    assert S.min_conjunction_rate(ru, {"min_conjunction_rate": None}).keep
    assert not S.min_conjunction_rate(ru, {"min_conjunction_rate": 0.01}).keep


def test_window_ttr_is_per_window():
    assert S.window_ttr(m(" ".join(["word"] * 3000))) == pytest.approx(1 / 1000)
    assert S.window_ttr(m(" ".join(f"w{i}x" for i in range(2500)))) == 1.0
    assert S.window_ttr(m("a b a b", ttr_window_words=1000)) == 0.5   # shorter than a window: the whole text


# --- rules: each on both sides --------------------------------------------------------------------

@pytest.mark.parametrize("rule, text, passing, failing", [
    (S.max_dup_line_char_fraction, "x line\n" * 10, 0.95, 0.5),
    (S.min_compression_ratio, ALICE, 0.3, 0.9),
    (S.max_table_line_fraction, "| a | b |\nprose", 0.5, 0.4),
    (S.max_digit_fraction, "abc 12", 0.5, 0.3),
    (S.min_sentence_line_char_fraction, "A sentence.\nmenu", 0.5, 0.9),
    (S.min_mean_line_chars, "abcd\nef", 3, 4),
    (S.min_conjunction_rate, "but the cat", 0.3, 0.5),
    (S.min_window_ttr, "a a b b", 0.5, 0.6),
    (S.max_window_ttr, "a a b b", 0.5, 0.4),
])
def test_every_rule_keeps_on_one_side_of_its_threshold_and_removes_on_the_other(rule, text, passing, failing):
    name = rule.__name__
    kept, removed = rule(m(text), {name: passing}), rule(m(text), {name: failing})
    assert kept.keep and kept.reason is None
    assert not removed.keep and removed.reason == name and removed.threshold == failing
    assert removed.statistic in S.STATISTICS and S.RULE_STATISTIC[name] == removed.statistic
    assert rule(m(text), {name: None}).keep                      # null turns the rule off


def test_judge_reports_every_rule_in_order_and_the_first_failure():
    verdicts = S.judge(ALICE, "en", OFF)
    assert [v.rule for v in verdicts] == list(S.RULE_NAMES) and S.first_failure(verdicts) is None
    strict = dict(OFF, max_digit_fraction=0.0, min_mean_line_chars=1000)
    verdicts = S.judge(ALICE + " 1999", "en", strict)
    assert S.first_failure(verdicts).rule == "max_digit_fraction"
    assert [v.reason for v in verdicts if not v.keep] == ["max_digit_fraction", "min_mean_line_chars"]
    assert S.first_failure(verdicts).detail().startswith("digit_fraction 0.00")


def test_a_repeated_page_and_a_table_dump_are_removed_under_the_default_english_thresholds(cfg_factory):
    from corpusforge.udfs.overrides import OverrideTable, Overrides

    overrides = Overrides(OverrideTable.from_conf(cfg_factory().longtext.thresholds.model_dump()))
    thresholds = overrides.resolve("en", None, None, "other").values
    repeated = "\n\n".join([ALICE + "\n"] * 60)
    assert S.first_failure(S.judge(repeated, "en", thresholds)).rule in ("max_dup_line_char_fraction",
                                                                         "min_compression_ratio")
    rows = "\n".join(f"| Re: topic {i} | user{i % 7} | Forum | {i % 3} | {100 + i} | May {i % 28 + 1}, 2007 |"
                     for i in range(800))
    assert "max_table_line_fraction" in [v.rule for v in S.judge(rows, "en", thresholds) if not v.keep]
