"""The baseline of bench/clean/bench_clean.py: DataTrove's GopherQuality + GopherRepetition + C4Quality + FineWebQuality
filters, with their published defaults, over the texts of a JSONL file, in one process.

Runs only in the benchmark's own virtualenv (DataTrove is not a corpusforge dependency):
  python -m venv bench/.venv-datatrove
  bench/.venv-datatrove/bin/pip install 'datatrove[processing]==0.10.1' spacy orjson lxml_html_clean warcio \
      faust-cchardet python-magic    (the one virtualenv of every DataTrove baseline, bench/README.md)
(spaCy provides DataTrove's default English word tokenizer; nothing is downloaded at run time.)

The filters run as in a DataTrove pipeline: in that order, a document leaving at the first filter
that rejects it. Prints one JSON object: documents, kept, CPU seconds (process time), repeat.

Usage: bench/.venv-datatrove/bin/python bench/clean/datatrove_filters.py TEXTS.jsonl [--repeat N] [--language en]
"""
from __future__ import annotations

import argparse
import collections
import json
import time


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("texts")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--language", default="en")
    args = parser.parse_args()

    from datatrove.data import Document
    from datatrove.pipeline.filters import (C4QualityFilter, FineWebQualityFilter, GopherQualityFilter,
                                            GopherRepetitionFilter)

    rows = [json.loads(line) for line in open(args.texts, encoding="utf-8")]
    filters = [GopherQualityFilter(language=args.language), GopherRepetitionFilter(language=args.language),
               C4QualityFilter(language=args.language), FineWebQualityFilter(language=args.language)]

    def one_pass() -> tuple[int, collections.Counter]:
        kept, reasons = 0, collections.Counter()
        for row in rows:
            doc = Document(text=row["text"], id=row["id"])
            for f in filters:
                verdict = f.filter(doc)
                if verdict is not True and (verdict is False or verdict[0] is False):
                    reasons[f"{f.name}: {verdict[1] if isinstance(verdict, tuple) else 'rejected'}"] += 1
                    break
            else:
                kept += 1
        return kept, reasons

    one_pass()  # warm-up: tokenizer and regex set-up, as a long-running worker would have done
    started = time.process_time()
    for _ in range(args.repeat):
        kept, reasons = one_pass()
    cpu = time.process_time() - started
    print(json.dumps({"documents": len(rows) * args.repeat, "kept": kept, "cpu_seconds": cpu,
                      "repeat": args.repeat, "top_reasons": reasons.most_common(5)}))


if __name__ == "__main__":
    main()
