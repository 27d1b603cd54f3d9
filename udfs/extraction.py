"""Main-text extraction with trafilatura, deterministic by construction.

trafilatura's `deduplicate` keeps a per-process LRU cache of seen paragraphs, which would make a
document's text depend on what its worker saw before; it is always off, and metadata extraction
(date heuristics with their own caches) is skipped: the title is read from the parsed tree.

Two costs are cut without changing any output (tests/format/test_udfs_extraction.py compares):
- lxml.html's parser finds each element's Python class through a Python callback
  (HtmlElementClassLookup), run for every element proxy trafilatura touches, hundreds of thousands per
  page; trafilatura's parser gets lxml's C lookup with the same classes instead (all but the form
  controls' subclasses, which neither trafilatura nor its fallbacks use): about 4% of its CPU.
- The tree-size cap counts nodes with one XPath count() in libxml2 rather than a Python loop.
"""
from __future__ import annotations

import logging
import re
from dataclasses import dataclass

import trafilatura
import trafilatura.utils
from lxml import etree
from lxml import html as lxml_html
from trafilatura.utils import load_html

logging.getLogger("trafilatura").setLevel(logging.CRITICAL)
logging.getLogger("htmldate").setLevel(logging.CRITICAL)

_SPACES = re.compile(r"\s+")
# What tree.iter() walks: the element itself, every element, comment and processing instruction below it.
_COUNT_NODES = etree.XPath("count(descendant-or-self::*|descendant::comment()|descendant::processing-instruction())")
C_CLASS_LOOKUP = etree.ElementDefaultClassLookup(
    element=lxml_html.HtmlElement, comment=lxml_html.HtmlComment, pi=lxml_html.HtmlProcessingInstruction,
    entity=lxml_html.HtmlEntity)
trafilatura.utils.HTML_PARSER.set_element_class_lookup(C_CLASS_LOOKUP)


@dataclass(frozen=True)
class ExtractionOptions:
    favor: str  # precision | recall | balanced
    include_comments: bool
    include_tables: bool
    max_tree_size: int | None
    fast: bool = False  # trafilatura's fast mode: no readability / jusText fallbacks


class TreeTooLarge(Exception):
    pass


def extract_main_text(html: str, url: str | None, options: ExtractionOptions) -> tuple[str | None, str]:
    """(title, main text); the text is '' when trafilatura finds no main content."""
    tree = load_html(html)
    if tree is None:
        return None, ""
    if options.max_tree_size is not None:
        size = int(_COUNT_NODES(tree))
        if size > options.max_tree_size:
            raise TreeTooLarge(f"{size} elements")
    title = _title_of(tree)
    text = trafilatura.extract(
        tree, url=url, output_format="txt", with_metadata=False, deduplicate=False,
        favor_precision=options.favor == "precision", favor_recall=options.favor == "recall",
        include_comments=options.include_comments, include_tables=options.include_tables,
        include_images=False, include_links=False, fast=options.fast,
    )
    return title, (text or "").strip()


def _title_of(tree) -> str | None:
    node = tree.find(".//title")
    if node is None:
        return None
    title = _SPACES.sub(" ", node.text_content() if hasattr(node, "text_content") else (node.text or "")).strip()
    return title or None
