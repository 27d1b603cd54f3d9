"""The one override table of corpusforge: per-language and per-site settings for every stage.

The report tailors thresholds per language and per domain. Every such setting — Clean's rule
thresholds, Safety's block-word policy and classifier thresholds, Quality's classifier thresholds,
the long-text filters — has the same conf layout and is resolved here, the same way:

    <section>:
      default:   {key: value, …}          every key, the published / trained defaults
      languages: {zh: {key: value}, …}    a CLD2 code; a variant falls back to its base (zh-Hant → zh)
      domains:   {novel: {key: value,     optional: a document category (the long-text stage's
                          languages: {zh: {…}}}}   domain of a document), with its own languages
      sites:     {"*.gov": {key: value}}  shell-style patterns, in conf order; without "/" the host
                                          (`*.example.com`), with "/" host + path (`example.com/docs/*`);
                                          "a|b" lists alternatives, one kind of site (`github.com|*.github.io`)

A document's values are the default, overlaid by its language's entry, then its domain's, then its
domain's entry for its language, then every site pattern its URL matches, in conf order (later
patterns win). The rules that applied are reported as "default+language:zh+domain:novel+site:*.gov",
which stages record in a removed document's detail.
"""
from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping
from urllib.parse import urlsplit


def language_key(language: str | None, available: Iterable[str]) -> str | None:
    """The entry of `available` that applies to a CLD2 language code: the code itself, else its base
    ("zh-Hant" → "zh", "pt-BR" → "pt"); None when neither is there."""
    if not language:
        return None
    keys = available if isinstance(available, (set, frozenset, dict)) else set(available)
    if language in keys:
        return language
    base = language.split("-", 1)[0]
    return base if base in keys else None


DOMAIN_LANGUAGES = "languages"  # the key of a domain entry holding that domain's per-language entries


@dataclass(frozen=True)
class OverrideTable:
    """A conf override section as plain values (site patterns keep their conf order). A domain entry
    may hold per-language entries under "languages"."""
    default: Mapping[str, Any]
    languages: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    sites: tuple[tuple[str, Mapping[str, Any]], ...] = ()
    domains: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    @classmethod
    def from_conf(cls, section: Mapping[str, Any]) -> "OverrideTable":
        """From {default, languages, [domains,] sites} as conf holds it (a null entry overrides nothing)."""
        return cls(default=dict(section["default"] or {}),
                   languages={k: dict(v or {}) for k, v in (section.get("languages") or {}).items()},
                   sites=tuple((p, dict(v or {})) for p, v in (section.get("sites") or {}).items()),
                   domains={k: dict(v or {}) for k, v in (section.get("domains") or {}).items()})

    def keys(self) -> set[str]:
        """Every key the table sets anywhere."""
        entries = [self.default, *self.languages.values(), *(v for _, v in self.sites)]
        for domain in self.domains.values():
            entries.append({k: v for k, v in domain.items() if k != DOMAIN_LANGUAGES})
            entries.extend((domain.get(DOMAIN_LANGUAGES) or {}).values())
        return {k for entry in entries for k in entry}


@dataclass(frozen=True)
class Resolved:
    values: Mapping[str, Any]
    rule: str                       # "default+language:zh+site:*.gov"
    language: str | None            # the language entry that applied
    sites: tuple[str, ...]          # the site patterns that applied, in conf order


class Overrides:
    """Resolves an OverrideTable for documents; caches per host/path and per (language, sites), so a
    batch of pages from a few sites costs a few dictionary look-ups per document."""

    def __init__(self, table: OverrideTable):
        self.table = table
        # a pattern may list alternatives, "github.com|*.github.io": one kind of site, one entry
        self._patterns = [(p, [("/" in alt, _compile(alt)) for alt in p.split("|")]) for p, _ in table.sites]
        self._needs_path = any(with_path for _, alternatives in self._patterns for with_path, _ in alternatives)
        self._site_values = dict(table.sites)
        self._sites: dict[tuple[str, str], tuple[str, ...]] = {}
        self._resolved: dict[tuple, Resolved] = {}

    def sites_for(self, host: str | None, url: str | None) -> tuple[str, ...]:
        """The site patterns a document matches, in conf order."""
        if not self.table.sites:
            return ()
        host = (host or (urlsplit(url).hostname if url else None) or "").lower().rstrip(".")
        path = (urlsplit(url).path or "/") if (url and self._needs_path) else "/"
        key = (host, path)
        found = self._sites.get(key)
        if found is None:
            found = self._sites[key] = tuple(
                p for p, alternatives in self._patterns
                if any(rx.match(f"{host}{path}" if with_path else host) for with_path, rx in alternatives))
        return found

    def resolve(self, language: str | None, host: str | None = None, url: str | None = None,
                domain: str | None = None) -> Resolved:
        entry = language_key(language, self.table.languages)
        domain = domain if domain in self.table.domains else None
        sites = self.sites_for(host, url)
        key = (entry, domain, language, sites)
        resolved = self._resolved.get(key)
        if resolved is None:
            values = dict(self.table.default)
            rules = ["default"]
            if entry is not None:
                values.update(self.table.languages[entry])
                rules.append(f"language:{entry}")
            if domain is not None:
                own = self.table.domains[domain]
                values.update({k: v for k, v in own.items() if k != DOMAIN_LANGUAGES})
                rules.append(f"domain:{domain}")
                by_language = own.get(DOMAIN_LANGUAGES) or {}
                domain_entry = language_key(language, by_language)
                if domain_entry is not None:
                    values.update(by_language[domain_entry] or {})
                    rules.append(f"domain:{domain}/{domain_entry}")
            for site in sites:
                values.update(self._site_values[site])
                rules.append(f"site:{site}")
            resolved = self._resolved[key] = Resolved(values, "+".join(rules), entry, sites)
        return resolved


def _compile(pattern: str) -> re.Pattern:
    return re.compile(fnmatch.translate(pattern.lower()))
