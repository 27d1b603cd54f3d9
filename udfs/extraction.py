"""Main-text extraction with trafilatura, deterministic by construction.

trafilatura's `deduplicate` keeps a per-process LRU cache of seen paragraphs, which would make a
document's text depend on what its worker saw before; it is always off, and metadata extraction
(date heuristics with their own caches) is skipped: the title is read from the parsed tree.
"""
from __future__ import annotations

import logging
import re
from dataclasses import dataclass

import trafilatura
from trafilatura.utils import load_html

logging.getLogger("trafilatura").setLevel(logging.CRITICAL)
logging.getLogger("htmldate").setLevel(logging.CRITICAL)

_SPACES = re.compile(r"\s+")


@dataclass(frozen=True)
class ExtractionOptions:
    favor: str  # precision | recall | balanced
    include_comments: bool
    include_tables: bool
    max_tree_size: int | None


class TreeTooLarge(Exception):
    pass


def extract_main_text(html: str, url: str | None, options: ExtractionOptions) -> tuple[str | None, str]:
    """(title, main text); the text is '' when trafilatura finds no main content."""
    tree = load_html(html)
    if tree is None:
        return None, ""
    if options.max_tree_size is not None:
        size = sum(1 for _ in tree.iter())
        if size > options.max_tree_size:
            raise TreeTooLarge(f"{size} elements")
    title = _title_of(tree)
    text = trafilatura.extract(
        tree, url=url, output_format="txt", with_metadata=False, deduplicate=False,
        favor_precision=options.favor == "precision", favor_recall=options.favor == "recall",
        include_comments=options.include_comments, include_tables=options.include_tables,
        include_images=False, include_links=False,
    )
    return title, (text or "").strip()


def _title_of(tree) -> str | None:
    node = tree.find(".//title")
    if node is None:
        return None
    title = _SPACES.sub(" ", node.text_content() if hasattr(node, "text_content") else (node.text or "")).strip()
    return title or None
