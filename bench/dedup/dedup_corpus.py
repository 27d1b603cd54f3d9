"""Corpora for the dedup benchmarks, built from the real pages of ../shared/data (no full-size crawl
is available here, see its README): the Format stage's output over every WARC in
../shared/data/warc (real + built), run once and cached under the work directory (bench/common.py
format_output).

- `real_pages()`: the extracted texts of those pages (about 750).
- `write_stage_input()`: a directory that looks like a finished stage output (kept/ + _SUCCESS).
- `scale_corpus()`: N documents made from the real pages by controlled mutation: each document is a
  window of up to 400 words of a real page, with a share of words replaced (unique documents), or a
  light edit / exact copy of an earlier document (planted duplicates), spread over three dumps.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from common import format_output  # bench/ is on sys.path: every script that imports this module puts it there

DUMPS = [("CC-MAIN-2019-04", 201904), ("CC-MAIN-2020-10", 202010), ("CC-MAIN-2021-04", 202104)]


def real_pages(workdir: Path) -> list[dict]:
    """The Format stage's kept documents of every shared WARC (built + real) with at least 20 words."""
    table = pq.read_table(format_output(workdir) / "kept", columns=["id", "url", "text", "language"])
    return [r for r in table.to_pylist() if r["text"] and len(r["text"].split()) >= 20]


def document_row(id_: str, text: str, dump: tuple[str, int], language: str = "en") -> dict:
    return {"id": id_, "url": f"https://bench.invalid/{id_}", "host": "bench.invalid", "domain": "bench.invalid",
            "dump": dump[0], "dump_order": dump[1], "warc_file": "bench.warc.gz", "warc_record_id": f"<urn:{id_}>",
            "warc_date": f"{str(dump[1])[:4]}-02-01T00:00:00Z", "language": language, "language_score": 0.99,
            "title": None, "text": text, "scores": {}}


def write_stage_input(path: Path, batches, rows_per_file: int = 50_000) -> Path:
    """kept/ Parquet files (DOCUMENT_SCHEMA) + _SUCCESS; `batches` yields lists of row dicts."""
    from pyspark.sql.pandas.types import to_arrow_schema

    from corpusforge.jobs.stage import DOCUMENT_SCHEMA
    schema = to_arrow_schema(DOCUMENT_SCHEMA)
    (path / "kept").mkdir(parents=True, exist_ok=True)
    for n, rows in enumerate(batches):
        pq.write_table(pa.Table.from_pylist(rows, schema=schema), path / "kept" / f"part-{n:05d}.parquet",
                       compression="zstd")
    (path / "_SUCCESS").write_text(json.dumps({"stage": "bench"}))
    return path


def scale_corpus(workdir: Path, n: int, seed: int = 0, near_share: float = 0.15, exact_share: float = 0.05,
                 batch: int = 50_000) -> Path:
    """N mutated real pages (cached per N): ~80% unique, 15% near copies (5% of words edited), 5% exact."""
    path = workdir / f"scale_{n}"
    if (path / "_SUCCESS").exists():
        return path
    pages = real_pages(workdir)
    page_words = [np.array(p["text"].split()) for p in pages]
    vocab = np.unique(np.concatenate(page_words))
    rng = np.random.default_rng(seed)
    recent: list[np.ndarray] = []

    def batches():
        made = 0
        while made < n:
            rows = []
            for i in range(made, min(n, made + batch)):
                kind = rng.random()
                if recent and kind < exact_share:
                    ws = recent[rng.integers(len(recent))]
                elif recent and kind < exact_share + near_share:
                    ws = recent[rng.integers(len(recent))].copy()
                    pos = rng.choice(len(ws), max(1, len(ws) // 20), replace=False)
                    ws[pos] = vocab[rng.integers(len(vocab), size=len(pos))]
                else:
                    src = page_words[rng.integers(len(page_words))]
                    start = rng.integers(max(1, len(src) - 400))
                    ws = src[start:start + 400].copy()
                    pos = rng.random(len(ws)) < 0.3  # unique: 30% of words replaced
                    ws[pos] = vocab[rng.integers(len(vocab), size=int(pos.sum()))]
                    if len(recent) < 5000:
                        recent.append(ws)
                    else:
                        recent[rng.integers(5000)] = ws
                rows.append(document_row(f"d{i:08d}", " ".join(ws), DUMPS[rng.integers(3)]))
            made += len(rows)
            yield rows

    return write_stage_input(path, batches())
