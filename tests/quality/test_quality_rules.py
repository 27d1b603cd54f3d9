"""Classifier decisions without Spark: combined scores, the verdict, and the fluency corruptions
(thresholds per language and site: tests/conf/test_overrides.py)."""
from __future__ import annotations

import math
import random

import numpy as np
import pytest

from corpusforge.udfs.decisions import Check, combine, verdict
from corpusforge.udfs.quality_data import (ASPECTS, FAMILIES, Materials, Passage, labelled_examples, sentences,
                               vocabulary_of)

def test_combine_methods_weights_and_unscored_rows():
    outputs = ("consistency", "noise", "information", "grammar")
    scores = np.array([[0.9, 0.5, 0.8, 1.0], [np.nan] * 4])
    mean = combine(scores, outputs, "weighted_mean", {o: 1.0 for o in outputs})
    assert mean[0] == pytest.approx(0.8) and math.isnan(mean[1])
    weighted = combine(scores, outputs, "weighted_mean", {"noise": 3.0, "grammar": 1.0})
    assert weighted[0] == pytest.approx((0.5 * 3 + 1.0) / 4)
    assert combine(scores, outputs, "min", {"consistency": 1, "information": 1, "noise": 0})[0] == pytest.approx(0.8)
    geometric = combine(scores, outputs, "geometric_mean", {o: 1.0 for o in outputs})[0]
    assert geometric == pytest.approx((0.9 * 0.5 * 0.8 * 1.0) ** 0.25)
    with pytest.raises(ValueError, match="positive weight"):
        combine(scores, outputs, "min", {"noise": 0})


CHECKS = [Check("ad", "ad", "above"),
          Check("fluency", "fluency", "below", ("fluency.noise", "fluency.grammar")),
          Check("fluency.noise", "fluency", "below")]


def test_verdict_names_the_classifier_score_and_threshold():
    thresholds = {"ad": 0.9, "fluency": 0.5}
    assert verdict({"ad": 0.5, "fluency": 0.7, "fluency.noise": 0.1}, thresholds, CHECKS) == (None, None)
    reason, detail = verdict({"ad": 0.95, "fluency": 0.3}, thresholds, CHECKS)
    assert reason == "ad" and detail == "ad 0.9500 > 0.9000"  # the first check past its threshold wins
    reason, detail = verdict({"ad": 0.2, "fluency": 0.3, "fluency.noise": 0.1, "fluency.grammar": 0.6},
                             thresholds, CHECKS)
    assert reason == "fluency" and detail == "fluency 0.3000 < 0.5000 (noise 0.100, grammar 0.600)"
    # an aspect thresholded only where conf says so
    reason, _ = verdict({"ad": 0.2, "fluency": 0.7, "fluency.noise": 0.1}, {**thresholds, "fluency.noise": 0.2}, CHECKS)
    assert reason == "fluency"
    # equal to the threshold is kept; a missing or NaN score never removes
    assert verdict({"ad": 0.9, "fluency": 0.5}, thresholds, CHECKS) == (None, None)
    assert verdict({"ad": None, "fluency": float("nan")}, thresholds, CHECKS) == (None, None)


# --- fluency training data --------------------------------------------------------------------

ZH = [Passage("近期，又有三家上市公司因各类问题被监管点名。具体来看，保力新控股股东违反业绩补偿承诺。"
              "标准股份的年报财务数据不准确。\n监管部门表示将依法严肃处理。市场人士认为此举释放了强监管信号。", "zh", "z1"),
      Passage("今年夏天南方多地出现持续降雨。气象部门发布了暴雨预警。多条河流水位上涨。\n"
              "当地政府组织群众转移。救援队伍已经抵达灾区。", "zh", "z2")]
EN = [Passage("The golden nanmu trees grew tall in the valley. Villagers planted them centuries ago. "
              "Today the grove draws tourists from far away.\nThe county plans a new park around it. "
              "Officials say it will open next year.", "en", "e1"),
      Passage("Stocks fell sharply on Monday. Investors worried about rising interest rates. "
              "Oil prices rose for a third day.\nAnalysts expect more swings this week.", "en", "e2")]


def materials() -> Materials:
    return Materials(boilerplate={"en": ["• HOME", "Share on Facebook", "Cookie settings", "Sign in"],
                                  "zh": ["首页", "登录 | 注册", "• 网易新闻", "返回顶部"]},
                     titles={"en": [f"Local team wins match number {i}" for i in range(20)],
                             "zh": [f"第{i}届文化节在京开幕" for i in range(20)]},
                     passages={"en": EN, "zh": ZH},
                     vocabulary={"en": vocabulary_of(EN, "en"), "zh": vocabulary_of(ZH, "zh")})


def test_sentences_split_cjk_and_latin():
    assert sentences("他说：“好的。”然后走了！真的吗？是", "zh") == ["他说：“好的。”", "然后走了！", "真的吗？", "是"]
    assert sentences("It rained. Then it stopped! Really? Yes", "en") == ["It rained.", "Then it stopped!", "Really?", "Yes"]


@pytest.mark.parametrize("aspect", ASPECTS)
@pytest.mark.parametrize("passage", [ZH[0], EN[0]], ids=["zh", "en"])
def test_every_corruption_damages_the_passage_deterministically(aspect, passage):
    m = materials()
    for corruption in FAMILIES[aspect]:
        first = corruption(passage, m, random.Random(7))
        assert first is not None and first != passage.text and first.strip(), corruption.__name__
        assert corruption(passage, m, random.Random(7)) == first, corruption.__name__


def test_corruptions_keep_or_replace_the_right_content():
    m = materials()
    shuffled = FAMILIES["consistency"][0](EN[0], m, random.Random(1))
    assert sorted(sentences(shuffled.replace("\n", " "), "en")) == sorted(sentences(EN[0].text.replace("\n", " "), "en"))
    noisy = FAMILIES["noise"][0](ZH[0], m, random.Random(1))
    assert all(line in noisy for line in ZH[0].text.splitlines())           # the content is all still there
    assert any(b in noisy for b in m.boilerplate["zh"])
    scrambled = FAMILIES["grammar"][0](EN[0], m, random.Random(1))
    assert scrambled != EN[0].text
    assert sorted("".join(scrambled.split())) == sorted("".join(EN[0].text.split()))  # same characters, new order


def test_labelled_examples_one_clean_and_one_per_aspect():
    examples = labelled_examples(ZH + EN, materials(), seed=3)
    assert len(examples) == 5 * len(ZH + EN)
    for e in examples:
        if e.family == "clean":
            assert e.labels == (1, 1, 1, 1)
        else:
            damaged = [a for a, v in zip(ASPECTS, e.labels) if v == 0]
            assert len(damaged) == 1 and e.family in {f.__name__ for f in FAMILIES[damaged[0]]}
    assert [e.text for e in labelled_examples(ZH + EN, materials(), seed=3)] == [e.text for e in examples]
    assert [e.text for e in labelled_examples(ZH + EN, materials(), seed=4)] != [e.text for e in examples]
