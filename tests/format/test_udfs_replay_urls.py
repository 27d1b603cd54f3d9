"""Web-archive replay URLs unwrapped to the original URL and capture time; other URLs left alone."""
import pytest

from corpusforge.udfs.replay_urls import ARCHIVES, unwrap_replay_url

REPLAYS = [
    ("https://web.archive.org/web/20220812230739id_/https://www.bing.com/search?q=a+b",
     "https://www.bing.com/search?q=a+b", "2022-08-12T23:07:39Z", "wayback"),
    ("http://web.archive.org/web/20220812230739if_/http://example.com/", "http://example.com/", "2022-08-12T23:07:39Z", "wayback"),
    ("https://web.archive.org/web/20220812230739js_/https://example.com/a.js", "https://example.com/a.js",
     "2022-08-12T23:07:39Z", "wayback"),
    ("https://web.archive.org/web/20150101000000/http:/example.com/page", "http://example.com/page", "2015-01-01T00:00:00Z",
     "wayback"),
    ("https://web.archive.org/web/20150101/example.com/page", "http://example.com/page", "2015-01-01T00:00:00Z", "wayback"),
    ("https://web.archive.org/web/2015/https://example.com/", "https://example.com/", None, "wayback"),  # a year: no date
    ("https://web.archive.org/web/20220812230739/https%3A%2F%2Fexample.com%2Fa", "https://example.com/a",
     "2022-08-12T23:07:39Z", "wayback"),
    ("https://wayback.archive.org/web/20220812230739oe_/https://example.com/", "https://example.com/",
     "2022-08-12T23:07:39Z", "wayback"),
    ("https://archive.ph/20220812230739/https://example.com/x", "https://example.com/x", "2022-08-12T23:07:39Z",
     "archive.today"),
    ("https://archive.today/2021.03.04-050607/https://01spb.ru/company/", "https://01spb.ru/company/",
     "2021-03-04T05:06:07Z", "archive.today"),
    ("https://arquivo.pt/wayback/20190101120000/https://www.publico.pt/", "https://www.publico.pt/",
     "2019-01-01T12:00:00Z", "arquivo.pt"),
    ("https://arquivo.pt/noFrame/replay/20190101120000im_/https://www.publico.pt/a.jpg", "https://www.publico.pt/a.jpg",
     "2019-01-01T12:00:00Z", "arquivo.pt"),
    ("https://www.webarchive.org.uk/wayback/archive/20200101120000mp_/https://www.gov.uk/", "https://www.gov.uk/",
     "2020-01-01T12:00:00Z", "ukwa"),
    ("https://www.webarchive.org.uk/wayback/en/archive/20200101120000/https://www.bl.uk/", "https://www.bl.uk/",
     "2020-01-01T12:00:00Z", "ukwa"),
    ("https://webarchive.nationalarchives.gov.uk/ukgwa/20200101120000/https://www.gov.uk/", "https://www.gov.uk/",
     "2020-01-01T12:00:00Z", "ukgwa"),
    ("https://webarchive.loc.gov/all/20200101120000/https://www.loc.gov/", "https://www.loc.gov/", "2020-01-01T12:00:00Z",
     "loc"),
    ("https://wayback.archive-it.org/1234/20200101120000/https://example.edu/", "https://example.edu/",
     "2020-01-01T12:00:00Z", "archive-it"),
    ("https://vefsafn.is/is/20200101120000/https://www.ruv.is/", "https://www.ruv.is/", "2020-01-01T12:00:00Z",
     "vefsafn.is"),
    ("https://webrecorder.example.org/my-coll/20220812230739mp_/https://kyleclo.com/", "https://kyleclo.com/",
     "2022-08-12T23:07:39Z", "pywb"),
    ("http://localhost:8080/pywb/coll/20220812230739/http://example.com/?a=b", "http://example.com/?a=b",
     "2022-08-12T23:07:39Z", "pywb"),
    ("https://web.archive.org/web/20230101000000/https://archive.ph/20220812230739/https://example.com/",
     "https://example.com/", "2023-01-01T00:00:00Z", "wayback"),  # a replay of a replay
    ("https://web.archive.org/web/20220812230739id_/http://例子.中国/a b", "http://xn--fsqu00a.xn--fiqs8s/a%20b",
     "2022-08-12T23:07:39Z", "wayback"),
]


@pytest.mark.parametrize("uri, original, when, archive", REPLAYS)
def test_replay_urls_are_unwrapped(uri, original, when, archive):
    replay = unwrap_replay_url(uri)
    assert (replay.original_url, replay.capture_time, replay.archive, replay.replay_url) == (original, when, archive, uri)
    assert replay.repairs[0] == "replay_url_unwrapped"


@pytest.mark.parametrize("uri", [
    "https://www.bing.com/search?q=web.archive.org/web/2022/x",
    "https://web.archive.org/web/2022*/https://example.com/",   # a calendar page, not a capture
    "https://web.archive.org/web/20220812230739/",
    "https://archive.ph/AbCdE",                                 # a short id: the original is not in the URL
    "https://example.com/news/2022/08/12/story.html",
    "https://example.com/a/20220812230739/not-a-url",
    "", None,
])
def test_other_urls_are_left_alone(uri):
    assert unwrap_replay_url(uri) is None


def test_the_archives_can_be_chosen():
    wayback = "https://web.archive.org/web/20220812230739id_/https://example.com/"
    assert unwrap_replay_url(wayback, archives=()) is None
    assert unwrap_replay_url(wayback, archives=("archive.today",)) is None
    assert unwrap_replay_url(wayback, archives=("wayback",)).original_url == "https://example.com/"
    pywb = "https://webrecorder.example.org/my-coll/20220812230739mp_/https://kyleclo.com/"
    assert unwrap_replay_url(pywb, archives=tuple(a for a in ARCHIVES if a != "pywb")) is None


def test_memento_headers():
    links = ('<https://example.com/x>; rel="original", <https://a.org/timemap>; rel="timemap"',)
    replay = unwrap_replay_url("https://archive.example.net/replay?id=42", memento_datetime="Fri, 12 Aug 2022 23:07:39 GMT",
                               links=links)
    assert (replay.original_url, replay.capture_time, replay.archive) == ("https://example.com/x", "2022-08-12T23:07:39Z",
                                                                          "memento")
    wayback = unwrap_replay_url("https://web.archive.org/web/20220101000000id_/https://example.com/x",
                                memento_datetime="Fri, 12 Aug 2022 23:07:39 GMT", links=links)
    assert wayback.capture_time == "2022-08-12T23:07:39Z" and "capture_time_from_memento_datetime" in wayback.repairs
    bad_date = unwrap_replay_url("https://web.archive.org/web/20220101000000id_/https://e.com/", memento_datetime="yesterday")
    assert bad_date.capture_time == "2022-01-01T00:00:00Z" and "capture_time_from_replay_timestamp" in bad_date.repairs
    # a Link rel=original without Memento-Datetime does not make an ordinary page a capture
    assert unwrap_replay_url("https://example.org/page", links=('<https://e.com/>; rel="original"',)) is None
    assert unwrap_replay_url("https://example.org/page", memento_datetime="Fri, 12 Aug 2022 23:07:39 GMT", links=links,
                             archives=("wayback",)) is None
