"""Common Crawl dump names and their order: the key of "keep the newest copy"."""
import pytest

from corpusforge.udfs.dumps import dump_from_text, dump_order


@pytest.mark.parametrize("text, dump", [
    ("s3://commoncrawl/crawl-data/CC-MAIN-2020-34/segments/1596439735792.85/warc/"
     "CC-MAIN-20200803083123-20200803113123-00000.warc.gz", "CC-MAIN-2020-34"),
    ("CC-MAIN-2020-34-sample.warc.gz", "CC-MAIN-2020-34"),
    ("CC-MAIN-2024-22", "CC-MAIN-2024-22"),                       # a warcinfo isPartOf value
    ("crawl-data/CC-MAIN-2008-2009/segments/x.arc.gz", "CC-MAIN-2008-2009"),   # the early forms
    ("crawl-data/CC-MAIN-2012/segments/1346823387264/x.arc.gz", "CC-MAIN-2012"),
    # a bare file name holds a timestamp, not a dump: it must not be read as one
    ("CC-MAIN-20200803083123-20200803113123-00000.warc.gz", None),
    ("IAH-20080430204825-00000-blackbook.warc.gz", None),
    ("constructed:magic-html-benchmark", None), ("", None), (None, None),
])
def test_dump_from_text(text, dump):
    assert dump_from_text(text) == dump


def test_dump_order_is_sortable_newest_largest():
    names = ["CC-MAIN-2008-2009", "CC-MAIN-2009-2010", "CC-MAIN-2012", "CC-MAIN-2013-20",
             "CC-MAIN-2013-48", "CC-MAIN-2020-05", "CC-MAIN-2020-34", "CC-MAIN-2024-22"]
    orders = [dump_order(n) for n in names]
    assert orders == sorted(orders) and len(set(orders)) == len(orders)
    assert dump_order("CC-MAIN-2020-34") == 202034


@pytest.mark.parametrize("date, order", [
    ("2020-08-03T08:31:23Z", 202032),     # ISO week 32 of 2020
    ("2021-01-01T00:00:00Z", 202053),     # ISO year 2020, week 53
    ("2008-04-30T20:48:25Z", 200818),
    ("2008-04-30", 200818),
    ("2020-02-30T00:00:00Z", None),       # not a date
    ("yesterday", None), (None, None),
])
def test_dump_order_falls_back_to_the_capture_week(date, order):
    assert dump_order(None, date) == order


def test_dump_name_wins_over_capture_date():
    assert dump_order("CC-MAIN-2015-11", "2024-05-20T10:00:00Z") == 201511
