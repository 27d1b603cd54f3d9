"""The one override table (udfs/overrides.py): default → language (variants fall back to their base)
→ site patterns in conf order, as Clean, Safety and Quality resolve their thresholds."""
from __future__ import annotations

import pytest

from corpusforge.udfs.overrides import OverrideTable, Overrides, language_key

TABLE = OverrideTable(
    default={"ad": 0.9, "fluency": 0.5},
    languages={"zh": {"ad": 0.95}, "en": {"fluency": 0.4}},
    sites=(("*.example.com", {"ad": 0.99}),
             ("shop.example.com/deals/*", {"ad": 1.0, "fluency": 0.2}),
             ("news.org", {"fluency": 0.6})),
)


@pytest.mark.parametrize("language, host, url, expected, rule", [
    ("fr", "other.net", "https://other.net/a", {"ad": 0.9, "fluency": 0.5}, "default"),
    ("zh", "other.net", None, {"ad": 0.95, "fluency": 0.5}, "default+language:zh"),
    ("zh-Hant", None, "http://other.net/", {"ad": 0.95, "fluency": 0.5}, "default+language:zh"),
    ("en", "www.example.com", None, {"ad": 0.99, "fluency": 0.4}, "default+language:en+site:*.example.com"),
    ("en", "WWW.Example.COM.", None, {"ad": 0.99, "fluency": 0.4}, "default+language:en+site:*.example.com"),
    ("zh", None, "https://shop.example.com/deals/today?x=1",  # host taken from the URL; both sites, conf order
     {"ad": 1.0, "fluency": 0.2}, "default+language:zh+site:*.example.com+site:shop.example.com/deals/*"),
    ("zh", "shop.example.com", "https://shop.example.com/about", {"ad": 0.99, "fluency": 0.5},
     "default+language:zh+site:*.example.com"),
    (None, "example.com", None, {"ad": 0.9, "fluency": 0.5}, "default"),        # *.example.com needs a subdomain
    (None, "news.org", None, {"ad": 0.9, "fluency": 0.6}, "default+site:news.org"),
    (None, "fakenews.org", None, {"ad": 0.9, "fluency": 0.5}, "default"),       # no suffix tricks
    (None, None, None, {"ad": 0.9, "fluency": 0.5}, "default"),
])
def test_thresholds_by_language_then_sites_in_conf_order(language, host, url, expected, rule):
    resolved = Overrides(TABLE).resolve(language, host, url)
    assert resolved.values == expected and resolved.rule == rule


def test_resolution_is_cached_per_language_and_sites_but_keeps_documents_apart():
    overrides = Overrides(TABLE)
    first = overrides.resolve("zh", "a.example.com", None)
    second = overrides.resolve("zh", "b.example.com", None)
    third = overrides.resolve("zh", "news.org", None)
    assert first is second and first.values["ad"] == 0.99 and third.values["ad"] == 0.95


@pytest.mark.parametrize("language, expected", [
    ("zh", "zh"), ("zh-Hant", "zh"), ("pt-BR", "pt"), ("sr-ME", None), ("fr", None), (None, None), ("", None)])
def test_language_key_falls_back_from_a_variant_to_its_base(language, expected):
    assert language_key(language, {"zh": 1, "pt": 2, "en": 3}) == expected


def test_a_variant_with_its_own_entry_keeps_it():
    table = OverrideTable(default={"x": 1}, languages={"zh": {"x": 2}, "zh-Hant": {"x": 3}})
    assert Overrides(table).resolve("zh-Hant").values == {"x": 3}
    assert Overrides(table).resolve("zh-Hans").values == {"x": 2}


def test_from_conf_keeps_site_order_and_null_entries_override_nothing():
    table = OverrideTable.from_conf({"default": {"x": 1}, "languages": {"en": None},
                                     "sites": {"b.org": {"x": 2}, "*.org": {"x": 3}}})
    assert [p for p, _ in table.sites] == ["b.org", "*.org"]
    assert Overrides(table).resolve("en", "b.org").values == {"x": 3}  # later patterns win
    assert Overrides(table).resolve("en", "b.org").rule == "default+language:en+site:b.org+site:*.org"
    assert table.keys() == {"x"}


def test_domains_sit_between_languages_and_sites_with_their_own_languages():
    table = OverrideTable.from_conf({
        "default": {"a": 1, "b": 1, "c": 1},
        "languages": {"zh": {"a": 2}},
        "domains": {"code": {"b": 3, "languages": {"zh": {"c": 4}}}, "novel": {"a": 5}},
        "sites": {"*.example.org": {"c": 6}}})
    overrides = Overrides(table)
    assert overrides.resolve("zh-Hant", None, None, "code").values == {"a": 2, "b": 3, "c": 4}
    assert overrides.resolve("zh", None, None, "code").rule == "default+language:zh+domain:code+domain:code/zh"
    assert overrides.resolve("zh", None, None, "novel").values == {"a": 5, "b": 1, "c": 1}  # domain after language
    assert overrides.resolve("en", "w.example.org", None, "code").values == {"a": 1, "b": 3, "c": 6}
    assert overrides.resolve("en", None, None, "paper").rule == "default"  # a domain without entry: nothing
    assert table.keys() == {"a", "b", "c"}


def test_a_pattern_may_list_alternatives_for_one_kind_of_site():
    table = OverrideTable(default={"x": 1}, sites=(("github.com|*.github.io|*/forum/*", {"x": 2}),))
    overrides = Overrides(table)
    assert overrides.resolve(None, "github.com").values == {"x": 2}
    assert overrides.resolve(None, "pages.github.io").values == {"x": 2}
    assert overrides.resolve(None, None, "https://example.org/forum/topic/1").values == {"x": 2}
    assert overrides.resolve(None, None, "https://example.org/forums").values == {"x": 1}
    assert overrides.resolve(None, "github.community").rule == "default"


def test_set_reaches_a_whole_site_entry_whose_pattern_holds_dots():
    from corpusforge.conf import load_config

    pattern = next(p for p in load_config(None, []).clean.thresholds.sites if p.startswith("*.wikipedia.org|"))
    cfg = load_config(None, [f"clean.thresholds.sites.{pattern}={{c4_min_sentences: 1}}",
                             "clean.thresholds.sites.*.example.com.c4_min_sentences=2"])
    assert cfg.clean.thresholds.sites[pattern] == {"c4_min_sentences": 1}
    assert cfg.clean.thresholds.sites["*.example.com"] == {"c4_min_sentences": 2}
