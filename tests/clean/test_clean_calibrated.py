"""The shipped per-language thresholds on real labelled pages bundled with the project.

The records of tests/data/warc (and tests/data/warc/labelled: pages copied byte for byte from
../shared/data/warc/built) are labelled in resources/labels/clean-pages by people who read them.
Their keep pages — English pages of a 2024 crawl, short complete Chinese news items, a Chinese novel
chapter, Japanese blog posts — must pass Clean with conf/default.yaml, and most remove pages (Chinese
lottery doorways and listings, a Japanese shop's product rankings) must still go.
"""
from __future__ import annotations

import collections
import json
from pathlib import Path

import pytest

from corpusforge.conf import load_config
from corpusforge.jobs.format import format_options
from corpusforge.udfs import calibration as cal
from corpusforge.udfs.clean_rules import RULE_NAMES
from corpusforge.udfs.cleaning import Cleaner, settings_from_conf
from corpusforge.udfs.documents import ArchiveToDocuments
from corpusforge.udfs.overrides import OverrideTable

ROOT = Path(__file__).resolve().parents[2]
WARCS = ROOT / "tests" / "data" / "warc"
LABELS = ROOT / "resources" / "labels" / "clean-pages" / "labels.jsonl"
CONF = load_config(None, [])


@pytest.fixture(scope="module")
def labelled_pages() -> list[tuple[dict, dict]]:
    """(document, label) of every labelled record of the bundled WARCs, through Format's record logic."""
    labels = {}
    for line in LABELS.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        labels[row["warc_record_id"]] = row
    out = []
    for path in sorted(WARCS.glob("*.warc.gz")) + sorted((WARCS / "labelled").glob("*.warc.gz")):
        with open(path, "rb") as handle:
            for row in ArchiveToDocuments(format_options(CONF)).rows(handle, str(path)):
                if row.get("file_summary") is None and row["reason"] is None and row["warc_record_id"] in labels:
                    out.append((row, labels[row["warc_record_id"]]))
    return out


def language(doc: dict) -> str:
    return cal.language_base(doc["language"])


def verdicts(pages, conf) -> list[tuple[dict, dict, object]]:
    judge = Cleaner(settings_from_conf(conf.clean.model_dump()))
    return [(doc, label, judge.clean(doc["text"], doc["language"], doc["host"], doc["url"])) for doc, label in pages]


def test_keep_pages_in_chinese_english_and_japanese_pass_the_shipped_thresholds(labelled_pages):
    judged = verdicts(labelled_pages, CONF)
    keep = [(doc, cleaned) for doc, label, cleaned in judged if label["label"] == "keep"]
    by_language = collections.Counter(language(doc) for doc, _ in keep)
    assert by_language["en"] >= 15 and by_language["zh"] >= 5 and by_language["ja"] >= 2, by_language
    removed = [(doc["url"], cleaned.reason, cleaned.detail) for doc, cleaned in keep if not cleaned.keep]
    assert removed == []


def test_remove_pages_are_still_removed(labelled_pages):
    judged = verdicts(labelled_pages, CONF)
    remove = collections.defaultdict(list)
    for doc, label, cleaned in judged:
        if label["label"] == "remove":
            remove[language(doc)].append(not cleaned.keep)
    assert len(remove["ja"]) >= 25 and sum(remove["ja"]) / len(remove["ja"]) >= 0.9    # the shop's rankings
    assert len(remove["zh"]) >= 10 and sum(remove["zh"]) / len(remove["zh"]) >= 0.6    # doorways, listings


@pytest.mark.parametrize("url, key, published", [
    ("https://gne-fixture.invalid/gzggw/1.html", "c4_min_sentences", 5),              # a complete 2-sentence brief
    ("https://gne-fixture.invalid/readhub/readhub.html", "c4_min_sentences", 5),
    ("https://www.qidian.com/chapter/1034360760/720619827/", "fineweb_min_line_punct_fraction", 0.12),  # comment counts
    ("https://ameblo.jp/atsushi188/entry-12852816087.html?adxarea=thoex", "c4_min_sentences", 5),
])
def test_the_cjk_decisions_are_what_keeps_these_pages(labelled_pages, url, key, published):
    """Each page is removed when its language gets the published value of the rule back."""
    doc = next(doc for doc, _ in labelled_pages if doc["url"] == url)
    code = "zh" if language(doc) == "zh" else "ja"
    assert CONF.clean.thresholds.languages[code][key] is None
    published_conf = load_config(None, [f"clean.thresholds.languages.{code}.{key}={published}"])
    cleaned = Cleaner(settings_from_conf(published_conf.clean.model_dump())).clean(
        doc["text"], doc["language"], doc["host"], doc["url"])
    assert key in cleaned.failed_rules


def test_the_calibration_search_judges_a_page_as_clean_does(labelled_pages):
    """calibrate measures once and compares thresholds itself: its verdicts must be Clean's, rule by
    rule, under the shipped table (site patterns and language entries included)."""
    from corpusforge.jobs.calibrate import measure

    labels = {cal.page_key(doc["warc_file"], doc["warc_record_id"]): label for doc, label in labelled_pages}
    documents = {cal.page_key(doc["warc_file"], doc["warc_record_id"]): doc for doc, _ in labelled_pages}
    pages, bounds = measure(CONF, labels, documents)
    assert list(bounds) == list(RULE_NAMES)
    table = OverrideTable.from_conf(CONF.clean.thresholds.model_dump())
    ours = cal.evaluate(pages, table, bounds)
    judge = Cleaner(settings_from_conf(CONF.clean.model_dump()))
    for key, doc in documents.items():
        assert ours[key] == judge.clean(doc["text"], doc["language"], doc["host"], doc["url"]).failed_rules, doc["url"]
