"""Real document texts for the classifier benchmarks: gold main texts of ../shared/data/warc/built
(English article and forum pages) and the Chinese general-web documents of ../shared/data/text."""
from __future__ import annotations

import json
from pathlib import Path

SHARED = Path(__file__).resolve().parent.parent.parent / "shared" / "data"


def real_pages(limit: int) -> list[str]:
    """Every k-th real document, English and Chinese alike, at most `limit` of them."""
    texts = []
    for path in sorted((SHARED / "warc" / "built").glob("*.groundtruth.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            text = row.get("gold_main_content") or row.get("gold_article_body")
            if text and text.strip():
                texts.append(text)
    for line in (SHARED / "text" / "skywork-zh-general.jsonl").read_text(encoding="utf-8").splitlines():
        texts.append(json.loads(line)["text"])
    step = max(1, len(texts) // limit)
    return texts[::step][:limit]
