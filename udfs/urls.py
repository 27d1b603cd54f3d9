"""Host and registered domain of a URL, offline.

tldextract is built with no suffix-list URLs and no cache directory, so it uses the Public Suffix
List snapshot bundled in its wheel and never touches the network.
"""
from __future__ import annotations

import ipaddress
from functools import lru_cache
from urllib.parse import urlsplit

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
