"""The baseline of bench/pipeline/bench_end_to_end.py: DataTrove 0.10.1's FineWeb-style pipeline on a WARC corpus, one
stage per invocation (so the benchmark can time each), in DataTrove's own virtualenv.

  filter:        WarcReader → Trafilatura → GopherQuality → GopherRepetition → C4Quality → FineWebQuality
                 → JsonlWriter (every filter with an exclusion writer, so each removal is recorded)
  signatures:    JsonlReader → MinhashDedupSignature          (MinHash stage 1)
  buckets:       MinhashDedupBuckets                          (stage 2, one task per bucket)
  cluster:       MinhashDedupCluster                          (stage 3, one task)
  dedup_filter:  JsonlReader → MinhashDedupFilter → JsonlWriter  (stage 4)

Settings are DataTrove's defaults (those of its FineWeb example: Trafilatura(favour_precision=True),
MinhashConfig(): 5-grams, 14 buckets × 8 hashes) except the extraction timeout, raised from 1 s to
corpusforge's format.extraction_timeout_seconds so a busy machine does not turn into dropped pages. No
language filter: DataTrove's downloads a fastText model at run time, and corpusforge does not filter
by language either.

Set-up (nothing is downloaded at run time):
  python -m venv bench/.venv-datatrove
  bench/.venv-datatrove/bin/pip install 'datatrove[processing]==0.10.1' spacy orjson lxml_html_clean warcio \
      faust-cchardet python-magic
(datatrove[processing] leaves out what its steps import when they run: spacy for the English word
tokenizer of the Gopher filters, orjson for JsonlWriter, lxml_html_clean, which lxml 5.2 split out and
trafilatura imports, and warcio, faust-cchardet and python-magic for WarcReader.)

`check` runs every step's own code once in this process: a dependency missing in a worker would
otherwise surface as a sandboxed extractor that dies at start and is restarted for every document.
bench_end_to_end.py runs it first and stops with its message.

Usage: bench/.venv-datatrove/bin/python bench/pipeline/datatrove_end_to_end.py STAGE --input WARC_DIR --work DIR
                                                                                [--workers 2] [--timeout 20]
       STAGE: check | filter | signatures | buckets | cluster | dedup_filter
"""
from __future__ import annotations

import argparse
import glob
import os
import sys
import tempfile

SETUP = ("bench/.venv-datatrove/bin/pip install 'datatrove[processing]==0.10.1' spacy orjson lxml_html_clean "
         "warcio faust-cchardet python-magic")


def check(input_dir: str, records: int = 20) -> int:
    """Run each step of the pipeline on a few documents of the corpus in this process; print what fails
    (the import or the error, and the set-up line that fixes it) and return the exit status."""
    problems: list[str] = []

    def attempt(what: str, fn):
        try:
            return fn()
        except BaseException as err:  # noqa: BLE001 — ImportError, a missing model, anything: report it
            problems.append(f"{what}: {type(err).__name__}: {err}")
            return None

    from datatrove.data import Document
    from datatrove.pipeline.dedup import MinhashDedupSignature
    from datatrove.pipeline.extractors import Trafilatura
    from datatrove.pipeline.filters import (C4QualityFilter, FineWebQualityFilter, GopherQualityFilter,
                                            GopherRepetitionFilter)
    from datatrove.pipeline.readers import WarcReader
    from datatrove.pipeline.writers.jsonl import JsonlWriter

    docs = attempt("WarcReader (warcio, faust-cchardet, python-magic)", lambda: list(
        WarcReader(input_dir, glob_pattern="*/*.warc.gz", limit=records).run(None, 0, 1))) or []
    if not docs and not problems:
        problems.append(f"WarcReader: no document under {input_dir}/*/*.warc.gz")
    extractor = Trafilatura(favour_precision=True)
    texts = [attempt("Trafilatura (trafilatura and its fallbacks: lxml_html_clean)", lambda d=d: extractor.extract(d.text))
             for d in docs]
    extracted = [Document(text=t, id=d.id, metadata=d.metadata) for d, t in zip(docs, texts) if t]
    if docs and not extracted and not problems:
        problems.append(f"Trafilatura: no text from any of {len(docs)} documents")
    for step in (GopherQualityFilter(), GopherRepetitionFilter(), C4QualityFilter(), FineWebQualityFilter()):
        for doc in extracted[:5]:
            if attempt(f"{step.name} (spacy: the English word tokenizer)", lambda s=step, d=doc: s.filter(d)) is None \
                    and problems:
                break
    with tempfile.TemporaryDirectory() as tmp:
        def write():
            with JsonlWriter(os.path.join(tmp, "jsonl")) as writer:
                for doc in extracted[:5]:
                    writer.write(doc, rank=0)
        attempt("JsonlWriter (orjson)", write)
        attempt("MinhashDedupSignature", lambda: MinhashDedupSignature(
            output_folder=os.path.join(tmp, "signatures")).run(iter(extracted[:5]), 0, 1))
    if problems:
        print("DataTrove cannot run its pipeline in this environment:", file=sys.stderr)
        for problem in dict.fromkeys(problems):
            print(f"  {problem}", file=sys.stderr)
        print(f"Fix: {SETUP}", file=sys.stderr)
        return 1
    print(f"DataTrove check: {len(docs)} documents read, {len(extracted)} extracted, filters, writer and MinHash ran")
    return 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("stage", choices=["check", "filter", "signatures", "buckets", "cluster", "dedup_filter"])
    parser.add_argument("--input", required=True)
    parser.add_argument("--work", required=True)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--timeout", type=float, default=20.0)
    args = parser.parse_args()
    if args.stage == "check":
        raise SystemExit(check(args.input))

    from datatrove.executor import LocalPipelineExecutor
    from datatrove.pipeline.dedup import (MinhashDedupBuckets, MinhashDedupCluster, MinhashDedupFilter,
                                          MinhashDedupSignature)
    from datatrove.pipeline.dedup.minhash import MinhashConfig
    from datatrove.pipeline.extractors import Trafilatura
    from datatrove.pipeline.filters import (C4QualityFilter, FineWebQualityFilter, GopherQualityFilter,
                                            GopherRepetitionFilter)
    from datatrove.pipeline.readers import JsonlReader, WarcReader
    from datatrove.pipeline.writers.jsonl import JsonlWriter

    work = args.work
    warc_files = sorted(glob.glob(os.path.join(args.input, "*", "*.warc.gz")))
    files = max(1, len(warc_files))
    config = MinhashConfig()
    removed = lambda name: JsonlWriter(f"{work}/removed/{name}")  # noqa: E731

    if args.stage == "filter":
        pipeline = [
            WarcReader(args.input, glob_pattern="*/*.warc.gz"),
            Trafilatura(favour_precision=True, timeout=args.timeout),
            GopherQualityFilter(exclusion_writer=removed("gopher_quality")),
            GopherRepetitionFilter(exclusion_writer=removed("gopher_repetition")),
            C4QualityFilter(exclusion_writer=removed("c4")),
            FineWebQualityFilter(exclusion_writer=removed("fineweb")),
            JsonlWriter(f"{work}/filtered"),
        ]
        tasks = files
    elif args.stage == "signatures":
        pipeline = [JsonlReader(f"{work}/filtered"), MinhashDedupSignature(output_folder=f"{work}/signatures", config=config)]
        tasks = files
    elif args.stage == "buckets":
        pipeline = [MinhashDedupBuckets(input_folder=f"{work}/signatures", output_folder=f"{work}/buckets", config=config)]
        tasks = config.num_buckets
    elif args.stage == "cluster":
        pipeline = [MinhashDedupCluster(input_folder=f"{work}/buckets", output_folder=f"{work}/remove_ids", config=config)]
        tasks = 1
    else:
        pipeline = [JsonlReader(f"{work}/filtered"),
                    MinhashDedupFilter(input_folder=f"{work}/remove_ids", exclusion_writer=removed("minhash")),
                    JsonlWriter(f"{work}/deduplicated")]
        tasks = files
    LocalPipelineExecutor(pipeline=pipeline, tasks=tasks, workers=min(args.workers, tasks),
                          logging_dir=f"{work}/logs/{args.stage}", skip_completed=False).run()


if __name__ == "__main__":
    main()
