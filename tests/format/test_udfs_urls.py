"""Host normalisation and registered domains, offline; WARC-Target-URI made a usable URL."""
import importlib
import socket

import pytest

from corpusforge.udfs import urls
from corpusforge.udfs.urls import clean_target_uri, host_of, normalise_host, registered_domain, url_from_page


@pytest.mark.parametrize("raw, host", [
    ("Example.COM", "example.com"),
    ("example.com:8080", "example.com"),
    ("example.com.", "example.com"),
    ("Example.COM.:8080", "example.com"),            # trailing dot behind a port
    ("user:secret@Host.example.org:443", "host.example.org"),
    ("Bücher.DE", "xn--bcher-kva.de"),               # IDN → punycode, as block lists spell it
    ("münchen.de.:443", "xn--mnchen-3ya.de"),
    ("xn--bcher-kva.de", "xn--bcher-kva.de"),
    ("例え.テスト", "xn--r8jz45g.xn--zckzah"),
    ("127.0.0.1:8000", "127.0.0.1"),
    ("[2001:DB8::1]:8443", "2001:db8::1"),
    ("[::1]", "::1"),
    ("", None), ("   ", None), (".", None), (":80", None), (None, None),
])
def test_normalise_host(raw, host):
    assert normalise_host(raw) == host


@pytest.mark.parametrize("url, host, domain", [
    ("http://www.bbc.co.uk/news", "www.bbc.co.uk", "bbc.co.uk"),
    ("https://a.b.Example.co.uk:8443/x?y", "a.b.example.co.uk", "example.co.uk"),
    ("http://news.sina.com.cn/c/2020.shtml", "news.sina.com.cn", "sina.com.cn"),
    ("http://www.example.com./", "www.example.com", "example.com"),
    ("http://192.168.0.1/x", "192.168.0.1", "192.168.0.1"),
    ("http://[::1]:80/", "::1", "::1"),
    ("http://localhost:8080/", "localhost", None),      # no public suffix: no registered domain
    ("http://Bücher.de/katalog", "xn--bcher-kva.de", "xn--bcher-kva.de"),
    ("not a url", None, None),
    ("http://[broken/", None, None),
    (None, None, None),
])
def test_host_and_registered_domain(url, host, domain):
    assert host_of(url) == host
    assert registered_domain(host) == domain


def test_public_suffix_list_is_the_bundled_snapshot(monkeypatch):
    """A fresh extractor loads its suffix list with every socket refused: it never reaches the network."""
    def refuse(*args, **kwargs):
        raise AssertionError("udfs.urls tried to open a network connection")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    fresh = importlib.reload(urls)
    try:
        assert fresh.registered_domain("a.b.example.co.uk") == "example.co.uk"
        assert fresh.registered_domain("www.city.kawasaki.jp") == "city.kawasaki.jp"
    finally:
        monkeypatch.undo()
        importlib.reload(urls)


@pytest.mark.parametrize("uri, url, repairs", [
    ("<http://example.com/>", "http://example.com/", ()),  # WARC/1.0's grammar: no repair
    ("  http://example.com/a  ", "http://example.com/a", ()),
    ("http://example.com/a b?q=c d", "http://example.com/a%20b?q=c%20d", ("target_uri_spaces_escaped",)),
    ("http://例子.中国/文章?q=中文", "http://xn--fsqu00a.xn--fiqs8s/%E6%96%87%E7%AB%A0?q=%E4%B8%AD%E6%96%87",
     ("target_uri_non_ascii_escaped",)),
    ("http://user@bücher.de:8080/ä", "http://user@xn--bcher-kva.de:8080/%C3%A4", ("target_uri_non_ascii_escaped",)),
    ("<>", None, ()),
    (None, None, ()),
])
def test_clean_target_uri(uri, url, repairs):
    assert clean_target_uri(uri) == (url, repairs)


def test_url_from_page():
    page = b'<html><head><link rel="canonical" href="https://kyleclo.github.io/"></head>'
    assert url_from_page(None, page) == ("https://kyleclo.github.io/", "target_uri_from_canonical")
    og = b'<meta property="og:url" content="https://example.org/a">'
    assert url_from_page(None, og) == ("https://example.org/a", "target_uri_from_canonical")
    assert url_from_page(None, b'<meta property="og:url" content="/company/">') == (None, None)  # relative
    assert url_from_page("https://example.net/x", b"<html>") == ("https://example.net/x", "target_uri_from_content_location")
    assert url_from_page("/x", b"<html>") == (None, None)
