"""The calibration search (udfs/calibration.py) on small synthetic label sets: pure, milliseconds."""
from __future__ import annotations

import collections
import dataclasses
import math

import pytest
import yaml

from corpusforge.conf import load_config
from corpusforge.udfs import calibration as cal
from corpusforge.udfs.overrides import OverrideTable, Overrides

# Two rules of each bound: sentences (min), digit share (max).
BOUNDS = {"c4_min_sentences": "min", "max_digit_fraction": "max"}
LIMITS = {"c4_min_sentences": None, "max_digit_fraction": 1.0}
TABLE = OverrideTable(default={"c4_min_sentences": 5, "max_digit_fraction": 0.3},
                      languages={"zh": {}, "zh-Hant": {}}, sites=())
# the shipped caps, with group sizes for a few dozen synthetic pages and no rule held fixed
LOOSE = cal.CalibrationSettings(
    max_false_removal_per_rule=0.02, max_false_removal=0.05, cap_floor_pages=1, min_group_pages=4, min_site_pages=4,
    site_dominance=0.3, max_pages_per_site=1000, min_catches=2, min_catch_hosts=1, min_catches_per_false_removal=2,
    split_seed="test", fixed_rules=())


def with_(settings: cal.CalibrationSettings, **changes) -> cal.CalibrationSettings:
    return dataclasses.replace(settings, **changes)


def page(n: int, label: str, sentences: float, digits: float = 0.05, language: str = "en",
         host: str | None = None) -> cal.LabelledPage:
    host = host or f"site{n}.example"
    return cal.LabelledPage(f"w#{language}-{n}", label, language, host, f"https://{host}/{n}",
                            {"c4_min_sentences": sentences, "max_digit_fraction": digits})


def everything_calibrated(pages):
    return {p.key: cal.CALIBRATE for p in pages}


def rules_failing(pages, table):
    return cal.evaluate(pages, table, BOUNDS)


def en(table: OverrideTable) -> dict:
    """The thresholds an English page gets."""
    return dict(Overrides(table).resolve("en").values)


# --- numbers and splits ----------------------------------------------------------------------------
@pytest.mark.parametrize("lo, hi, lo_open, hi_open, expected", [
    (0.0833, 0.1, False, True, 0.09),     # fewest digits inside [lo, hi)
    (4, 5, True, False, 5),               # counts stay whole numbers
    (2, 5, True, False, 3),               # closest to the middle, ties to the smaller
    (0.3, 0.375, True, False, 0.34),      # an open end is never chosen
    (120, 180, False, False, 150),
    (0.1234, 0.1234, False, False, 0.1234),
])
def test_simple_number_has_the_fewest_digits_inside_the_gap(lo, hi, lo_open, hi_open, expected):
    assert cal.simple_number(lo, hi, lo_open, hi_open) == expected


def test_simple_number_refuses_an_empty_gap():
    with pytest.raises(ValueError):
        cal.simple_number(1, 1, True, False)


def test_split_halves_is_stratified_deterministic_and_order_free():
    pages = [page(i, "keep" if i % 3 else "remove", 5, language=("en", "zh", "ja")[i % 4 % 3]) for i in range(301)]
    split = cal.split_halves(pages, "seed")
    assert split == cal.split_halves(list(reversed(pages)), "seed")
    assert split != cal.split_halves(pages, "another seed")
    strata = collections.defaultdict(collections.Counter)
    for p in pages:
        strata[cal.language_base(p.language), p.label][split[p.key]] += 1
    for counts in strata.values():
        assert abs(counts[cal.CALIBRATE] - counts[cal.HELD_OUT]) <= 1


# --- the search -----------------------------------------------------------------------------------------
def test_a_rule_removing_good_short_pages_is_loosened_to_the_gap_before_the_junk():
    """Keep pages have 2-9 sentences, remove pages 0-1: C4's 5 removes good pages; the calibrated
    threshold lets every keep page through and still removes the junk."""
    pages = [page(i, "keep", 2 + i % 8) for i in range(40)] + [page(100 + i, "remove", i % 2) for i in range(10)]
    result = cal.calibrate(pages, TABLE, BOUNDS, LOOSE, LIMITS, everything_calibrated(pages))
    assert en(result.after)["c4_min_sentences"] == 2    # (1, 2]: the whole number closest to the middle
    failing = rules_failing(pages, result.after)
    assert not any(failing[p.key] for p in pages if p.label == "keep")
    assert all(failing[p.key] for p in pages if p.label == "remove")
    assert [m.step for m in result.groups[0].moves] == ["per_rule_cap"]


def test_the_per_rule_cap_leaves_a_rule_its_share_of_keep_pages():
    # 100 keep pages, 3 of which have 1 sentence like the junk: under a 3% cap the rule stays where it
    # catches the junk (and those 3), under a 2% cap it must let them through, and the junk with them.
    pages = [page(i, "keep", 1 if i < 3 else 8) for i in range(100)] + [page(200 + i, "remove", 1) for i in range(10)]
    for cap, expected in ((0.03, 4), (0.02, None)):
        settings = with_(LOOSE, max_false_removal_per_rule=cap,
                                              max_false_removal=0.5)
        result = cal.calibrate(pages, TABLE, BOUNDS, settings, LIMITS, everything_calibrated(pages))
        assert en(result.after)["c4_min_sentences"] == expected, cap


def test_the_overall_cap_rescues_the_keep_pages_that_cost_the_fewest_catches():
    # Each rule alone stays under its 10% cap, together they remove 12 of 60 keep pages (20%): the
    # search releases pages until at most 10% (6) are removed, giving up the rule whose junk is rare.
    keep = ([page(i, "keep", 3, 0.05) for i in range(6)] +            # fail sentences (threshold 5)
            [page(10 + i, "keep", 8, 0.35) for i in range(6)] +       # fail digits (threshold 0.3)
            [page(20 + i, "keep", 8, 0.05) for i in range(48)])
    remove = [page(100 + i, "remove", 3, 0.05) for i in range(8)] + [page(200, "remove", 8, 0.35)]
    pages = keep + remove
    settings = with_(LOOSE, max_false_removal_per_rule=0.1,
                                          max_false_removal=0.1)
    result = cal.calibrate(pages, TABLE, BOUNDS, settings, LIMITS, everything_calibrated(pages))
    failing = rules_failing(pages, result.after)
    assert sum(bool(failing[p.key]) for p in keep) == 6
    assert en(result.after)["c4_min_sentences"] == 5            # its 8 catches are worth its 6 pages
    assert en(result.after)["max_digit_fraction"] >= 0.35       # one catch was not
    assert "overall_cap" in [m.step for m in result.groups[0].moves]


def test_a_rule_is_tightened_when_that_catches_junk_from_several_hosts_at_no_cost():
    pages = ([page(i, "keep", 8, 0.05 + i / 1000) for i in range(40)] +
             [page(100 + i, "remove", 8, 0.2 + i / 100) for i in range(6)])
    result = cal.calibrate(pages, TABLE, BOUNDS, LOOSE, LIMITS, everything_calibrated(pages))
    assert 0.09 <= en(result.after)["max_digit_fraction"] < 0.2
    assert all(rules_failing(pages, result.after)[p.key] for p in pages if p.label == "remove")
    assert result.groups[0].moves[0].step == "tighten"
    # the same junk from one host is not evidence enough
    one_host = [p if p.label == "keep" else cal.LabelledPage(p.key, p.label, p.language, "spam.example", p.url, p.values)
                for p in pages]
    result = cal.calibrate(one_host, TABLE, BOUNDS, with_(LOOSE, min_catch_hosts=2),
                           LIMITS, everything_calibrated(pages))
    assert en(result.after)["max_digit_fraction"] == 0.3


def test_rules_that_are_off_or_fixed_stay_as_they_are():
    pages = [page(i, "keep", 2, 0.5) for i in range(30)] + [page(100 + i, "remove", 0, 0.9) for i in range(5)]
    table = OverrideTable(default={"c4_min_sentences": None, "max_digit_fraction": 0.3})
    settings = with_(LOOSE, fixed_rules=("max_digit_fraction",))
    result = cal.calibrate(pages, table, BOUNDS, settings, LIMITS, everything_calibrated(pages))
    assert en(result.after) == table.default and result.groups[0].moves == []


def test_a_statistic_the_rule_does_not_judge_never_fails():
    """NaN: e.g. stop words in a language without a list (the rule is off for that page)."""
    pages = [page(i, "keep", math.nan) for i in range(30)] + [page(100 + i, "remove", 0) for i in range(5)]
    assert not any(rules_failing(pages, TABLE)[p.key] for p in pages if p.label == "keep")
    result = cal.calibrate(pages, TABLE, BOUNDS, LOOSE, LIMITS, everything_calibrated(pages))
    assert en(result.after)["c4_min_sentences"] == 5


def test_a_language_owns_its_thresholds_and_its_variant_moves_with_it():
    """zh pages (and zh-Hant ones) get a zh entry; the default is calibrated on the other languages
    and does not move zh's values."""
    zh = [page(i, "keep", 2, language="zh" if i % 5 else "zh-Hant") for i in range(30)] + \
         [page(50 + i, "remove", 0, language="zh") for i in range(5)]
    other = [page(100 + i, "keep", 8, 0.35, language=("de", "fr")[i % 2]) for i in range(30)] + \
            [page(150 + i, "remove", 8, 0.9, language="de") for i in range(5)]   # 20 German, 15 French pages
    pages = zh + other
    settings = with_(LOOSE, min_group_pages=21)
    result = cal.calibrate(pages, TABLE, BOUNDS, settings, LIMITS, everything_calibrated(pages))
    after = result.after
    assert after.languages["zh"]["c4_min_sentences"] == after.languages["zh-Hant"]["c4_min_sentences"] == 1
    assert after.default["max_digit_fraction"] > 0.35                       # loosened for the German pages
    assert after.languages["zh"]["max_digit_fraction"] == 0.3               # … not for Chinese (pinned)
    assert after.default["c4_min_sentences"] == 5
    assert [g.group.name for g in result.groups] == ["default", "language:zh"]


def test_a_dominant_host_is_weighed_down_and_gets_its_own_proposal():
    """A shop site holding most keep pages, whose pages need a loose digit share, cannot loosen the
    language; its own site entry gets the loose value."""
    shop = [page(i, "keep", 8, 0.4 + i / 1000, host="shop.example") for i in range(60)]
    others = [page(100 + i, "keep", 8, 0.05) for i in range(40)]
    junk = [page(200 + i, "remove", 8, 0.35 + i / 100) for i in range(5)]
    pages = shop + others + junk
    settings = with_(LOOSE, max_pages_per_site=2, site_dominance=0.3,
                                          max_false_removal=0.1, max_false_removal_per_rule=0.1)
    result = cal.calibrate(pages, TABLE, BOUNDS, settings, LIMITS, everything_calibrated(pages))
    sites = dict(result.after.sites)
    assert "shop.example" in sites and sites["shop.example"]["max_digit_fraction"] >= 0.46
    assert en(result.after)["max_digit_fraction"] < 0.4
    failing = rules_failing(pages, result.after)
    assert not any(failing[p.key] for p in shop)


def test_a_site_pattern_of_conf_is_calibrated_on_its_pages_whatever_their_language():
    table = OverrideTable(default=TABLE.default, languages={}, sites=(("forum.*|*/thread/*", {}),))
    forum = [page(i, "keep", 1, host=f"forum.site{i}.example") for i in range(10)] + \
            [page(50 + i, "remove", 0, host=f"forum.spam{i}.example") for i in range(2)]
    rest = [page(100 + i, "keep", 8, language=("en", "de")[i % 2]) for i in range(40)] + \
           [page(200 + i, "remove", 0) for i in range(8)]
    pages = forum + rest
    result = cal.calibrate(pages, table, BOUNDS, LOOSE, LIMITS, everything_calibrated(pages))
    assert dict(result.after.sites)["forum.*|*/thread/*"]["c4_min_sentences"] == 1
    assert result.after.languages["en"]["c4_min_sentences"] == 4     # the middle of its own gap, (0, 8]
    failing = rules_failing(pages, result.after)
    assert not any(failing[p.key] for p in forum if p.label == "keep")
    assert all(failing[p.key] for p in forum if p.label == "remove")


def test_a_site_pattern_leaves_alone_a_rule_a_language_of_its_pages_turned_off():
    table = OverrideTable(default=TABLE.default, languages={"zh": {"c4_min_sentences": None}},
                          sites=(("forum.*", {}),))
    forum = [page(i, "keep", 1 if i % 2 else 8, host=f"forum.site{i}.example", language=("en", "zh")[i % 2])
             for i in range(12)] + [page(50 + i, "remove", 0, host=f"forum.spam{i}.example") for i in range(3)]
    result = cal.calibrate(forum, table, BOUNDS, LOOSE, LIMITS, everything_calibrated(forum))
    assert "c4_min_sentences" not in dict(result.after.sites).get("forum.*", {})
    assert Overrides(result.after).resolve("zh", "forum.a.example").values["c4_min_sentences"] is None


def test_groups_too_small_are_left_out_and_said_so():
    pages = [page(i, "keep", 2, language="ja") for i in range(3)] + [page(9, "remove", 0, language="ja")]
    result = cal.calibrate(pages, TABLE, BOUNDS, with_(LOOSE, min_group_pages=20), LIMITS,
                           everything_calibrated(pages))
    assert result.groups == [] and "language:ja" in result.skipped_groups and "default" in result.skipped_groups
    assert result.after == result.before


def test_only_the_calibration_half_is_fitted():
    pages = [page(i, "keep", 2 + i % 8) for i in range(40)] + [page(100 + i, "remove", i % 2) for i in range(10)]
    split = {p.key: cal.HELD_OUT for p in pages}
    result = cal.calibrate(pages, TABLE, BOUNDS, LOOSE, LIMITS, split)
    assert result.after == result.before


# --- the overlay ----------------------------------------------------------------------------------------
def test_the_overlay_is_conf_yaml_holding_only_what_changed_with_the_reasons():
    zh = [page(i, "keep", 2, language="zh") for i in range(30)] + [page(50 + i, "remove", 0, language="zh") for i in range(5)]
    result = cal.calibrate(zh, TABLE, BOUNDS, LOOSE, LIMITS, everything_calibrated(zh))
    text = cal.render_overlay(result, ["proposed by a test"])
    loaded = yaml.safe_load(text)
    assert loaded == {"clean": {"thresholds": {"languages": {"zh": {"c4_min_sentences": 1},
                                                             "zh-Hant": {"c4_min_sentences": 1}}}}}
    assert "# proposed by a test" in text and "# was 5; per_rule_cap" in text
    figures = cal.report(result, zh, BOUNDS)
    assert figures[cal.CALIBRATE]["zh"]["before"]["keep_rate"] == 0.0
    assert figures[cal.CALIBRATE]["zh"]["after"]["keep_rate"] == 1.0
    assert figures[cal.CALIBRATE]["zh"]["rules_before"]["c4_min_sentences"] == {"false_removals": 30, "catches": 5}


def test_settings_come_from_conf():
    settings = cal.settings_from_conf(load_config(None, []).calibration.model_dump())
    assert settings.max_false_removal_per_rule == 0.02 and settings.max_false_removal == 0.05
    assert "max_replacement_char_fraction" in settings.fixed_rules and isinstance(settings.fixed_rules, tuple)
