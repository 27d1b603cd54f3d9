"""Host and registered domain of a URL, offline; a WARC-Target-URI made a usable URL.

tldextract is built with no suffix-list URLs and no cache directory, so it uses the Public Suffix
List snapshot bundled in its wheel and never touches the network.
"""
from __future__ import annotations

import ipaddress
import re
from functools import lru_cache
from urllib.parse import quote, urlsplit

import tldextract

# Private suffixes count (github.io, blogspot.com): each user's site there is its own registered domain.
_SUFFIXES = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None, include_psl_private_domains=True)


def normalise_host(host: str | None) -> str | None:
    """Lower-case, no port, no trailing dot, IDN as punycode: the form block lists use."""
    if not host:
        return None
    host = host.strip().lower()
    if "@" in host:
        host = host.rsplit("@", 1)[1]
    if host.startswith("["):
        return host.split("]")[0].strip("[]") or None
    host = host.split(":", 1)[0].rstrip(".")  # the port goes first: "example.com.:8080"
    if not host:
        return None
    if not host.isascii():
        try:
            host = host.encode("idna").decode("ascii")
        except UnicodeError:
            return host
    return host


def host_of(url: str | None) -> str | None:
    if not url:
        return None
    try:
        return normalise_host(urlsplit(url.strip()).netloc)
    except ValueError:
        return None


@lru_cache(maxsize=65536)
def registered_domain(host: str | None) -> str | None:
    """example.co.uk for a.b.example.co.uk; the address itself for an IP; None without a public suffix."""
    if not host:
        return None
    try:
        ipaddress.ip_address(host)
        return host
    except ValueError:
        pass
    return _SUFFIXES(host).top_domain_under_public_suffix or None


_UNSAFE = re.compile(r"[^\x21-\x7e]")
_CANONICAL = re.compile(
    rb"""<link\b[^>]*\brel\s*=\s*["']?canonical["']?[^>]*>|<meta\b[^>]*\b(?:property|name)\s*=\s*["']?og:url["']?[^>]*>""",
    re.IGNORECASE)
_HREF = re.compile(rb"""\b(?:href|content)\s*=\s*["']?([^"'\s>]+)""", re.IGNORECASE)


def clean_target_uri(uri: str | None) -> tuple[str | None, tuple[str, ...]]:
    """(URL, repairs) of a WARC-Target-URI: the <...> of WARC/1.0's grammar removed (no repair), spaces
    and non-ASCII percent-encoded and the host IDNA-encoded, as Common Crawl writes IRIs."""
    if uri is None:
        return None, ()
    value = uri.strip()
    if value.startswith("<") and value.endswith(">"):
        value = value[1:-1].strip()
    if not value:
        return None, ()
    repairs: tuple[str, ...] = ()
    if " " in value or "\t" in value:
        repairs += ("target_uri_spaces_escaped",)
    if not value.isascii():
        repairs += ("target_uri_non_ascii_escaped",)
        value = _idna_host(value)
    if _UNSAFE.search(value):
        value = _UNSAFE.sub(lambda m: quote(m.group(0), safe=""), value)
    return value, repairs


def _idna_host(url: str) -> str:
    try:
        parts = urlsplit(url)
        host = parts.hostname
    except ValueError:
        return url
    if not host or host.isascii():
        return url
    try:
        ascii_host = host.encode("idna").decode("ascii")
    except UnicodeError:
        return url
    index = parts.netloc.lower().rfind(host)
    if index < 0:
        return url
    return parts._replace(netloc=parts.netloc[:index] + ascii_host + parts.netloc[index + len(host):]).geturl()


def url_from_page(content_location: str | None, payload: bytes) -> tuple[str | None, str | None]:
    """(absolute http(s) URL, repair kind) for a response without WARC-Target-URI: an absolute
    Content-Location, else the page's <link rel=canonical> or og:url; (None, None) when neither."""
    if content_location and content_location.strip().lower().startswith(("http://", "https://")):
        return clean_target_uri(content_location)[0], "target_uri_from_content_location"
    for tag in _CANONICAL.finditer(payload[:65536]):
        href = _HREF.search(tag.group(0))
        if href:
            url = href.group(1).decode("utf-8", "replace").strip()
            if url.lower().startswith(("http://", "https://")):
                return clean_target_uri(url)[0], "target_uri_from_canonical"
    return None, None
