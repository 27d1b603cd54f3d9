"""The DataTrove side of bench/format/bench_reader_defects.py: what DataTrove's WarcReader and Trafilatura
extractor make of each single-record WARC file in a directory.

Runs only in the benchmarks' DataTrove virtualenv (DataTrove is not a corpusforge dependency):
  python -m venv bench/.venv-datatrove
  bench/.venv-datatrove/bin/pip install 'datatrove[processing]==0.10.1' orjson lxml_html_clean \
      warcio faust-cchardet python-magic
(WarcReader imports warcio, cchardet and magic, which `[processing]` does not pull in.)

The extractor runs with deduplicate=False: DataTrove's default keeps trafilatura's per-process cache
of seen paragraphs, so a second record built from the same page would lose its text for a reason
that has nothing to do with reading it. Prints one JSON object: file name → {docs, error, text, url, date}.

Usage: bench/.venv-datatrove/bin/python bench/format/datatrove_warc_reader.py DIR
"""
from __future__ import annotations

import json
import logging
import sys
from pathlib import Path


def main() -> None:
    from datatrove.pipeline.extractors import Trafilatura
    from datatrove.pipeline.readers import WarcReader
    from loguru import logger

    logger.remove()
    logging.disable(logging.CRITICAL)
    folder = Path(sys.argv[1]).resolve()
    reader = WarcReader(str(folder), glob_pattern="*.warc.gz")
    results, docs = {}, []
    for path in sorted(folder.glob("*.warc.gz")):
        entry = {"docs": 0, "error": None}
        try:
            for doc in reader.read_file(path.name):
                entry["docs"] += 1
                doc.metadata["file"] = path.name
                docs.append(doc)
        except Exception as err:  # noqa: BLE001 — the reader's failure is the measurement
            entry["error"] = f"{type(err).__name__}: {err}"[:200]
        results[path.name] = entry
    extracted = {doc.metadata["file"]: doc for doc in
                 Trafilatura(favour_precision=True, timeout=30, deduplicate=False).run(iter(docs))}
    for name, entry in results.items():
        doc = extracted.get(name)
        entry.update(text=" ".join((doc.text if doc else "").split()), url=doc.metadata.get("url") if doc else None,
                     date=doc.metadata.get("date") if doc else None)
    json.dump(results, sys.stdout, ensure_ascii=False)


if __name__ == "__main__":
    main()
