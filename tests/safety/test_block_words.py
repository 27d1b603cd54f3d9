"""Block-word matching: whole words in English, substrings in Chinese, the cautious policy."""
from __future__ import annotations

import pytest

from corpusforge.udfs.block_words import WordList, WordPolicy, automaton_builds, find_words, judge, list_for_language

EN = WordList.from_lines(["ass", "2 girls 1 cup", "Fuck", "# a comment", "", "shit"], substrings=False)
ZH = WordList.from_lines(["色情", "淫秽", "13.", "av女优"], substrings=True)
POLICY = WordPolicy(min_distinct_words=2, max_density=0.05, audit_words=3)


def words(text: str, word_list: WordList = EN) -> dict:
    return dict(find_words(text, word_list)[0])


def test_english_matches_whole_words_only():
    assert words("What an ass.") == {"ass": 1}
    assert words("A class on assessment, passed by Cassandra") == {}
    assert words("ASS! ass, (ass)") == {"ass": 3}
    assert words("fuck-ups and Fucking") == {"fuck": 1}


def test_english_phrases_match_across_any_whitespace():
    assert words("watch 2 girls\n  1 CUP now") == {"2 girls 1 cup": 1}
    assert words("12 girls 1 cup") == {}


def test_comments_and_blank_lines_are_not_words():
    assert "# a comment" not in EN.words and "" not in EN.words
    assert EN.words == tuple(sorted(EN.words))


def test_chinese_matches_substrings():
    assert words("这个网站有色情内容和淫秽图片", ZH) == {"色情": 1, "淫秽": 1}
    assert words("某AV女优的新闻", ZH) == {"av女优": 1}


def test_latin_edges_of_chinese_entries_still_need_a_boundary():
    assert words("2013.年的报告", ZH) == {}
    assert words("第13.章", ZH) == {"13.": 1}


def test_policy_needs_several_distinct_words_or_a_high_density():
    long_text = "A long clean article about gardening. " * 20
    one_word = judge(long_text + " what an ass", EN, POLICY)
    assert not one_word.blocked and one_word.distinct == 1
    two_words = judge(long_text + " ass and shit", EN, POLICY)
    assert two_words.blocked and set(two_words.words) == {"ass", "shit"}
    dense = judge("ass ass ass", EN, POLICY)
    assert dense.blocked and dense.distinct == 1 and dense.density == pytest.approx(9 / 9)
    assert "density" in dense.detail()


def test_nothing_matched_and_no_list():
    clean = judge("Nothing to see here", EN, POLICY)
    assert (clean.blocked, clean.distinct, clean.occurrences, clean.density) == (False, 0, 0, 0.0)
    assert not judge("ass shit", None, POLICY).blocked


def test_audit_words_are_the_most_frequent_and_bounded():
    verdict = judge("shit shit shit ass fuck fuck", EN, WordPolicy(2, 1.0, 2))
    assert verdict.words == ("shit", "fuck") and verdict.occurrences == 6


def test_automaton_is_built_once_per_process_and_list():
    fresh = WordList.from_lines(["unique-word-for-cache-test"], substrings=False)
    for _ in range(3):
        find_words("a unique-word-for-cache-test here", fresh)
    assert automaton_builds(fresh) == 1


def test_language_variants_fall_back_to_their_base():
    lists = {"zh": ZH, "en": EN}
    assert list_for_language(lists, "zh-Hant") is ZH
    assert list_for_language(lists, "en") is EN
    assert list_for_language(lists, "fr") is None and list_for_language(lists, None) is None
