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
  bench/.venv-datatrove/bin/pip install 'datatrove[processing]==0.10.1' spacy warcio faust-cchardet python-magic

Usage: bench/.venv-datatrove/bin/python bench/pipeline/datatrove_end_to_end.py STAGE --input WARC_DIR --work DIR
                                                                                [--workers 2] [--timeout 20]
"""
from __future__ import annotations

import argparse
import glob
import os


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("stage", choices=["filter", "signatures", "buckets", "cluster", "dedup_filter"])
    parser.add_argument("--input", required=True)
    parser.add_argument("--work", required=True)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--timeout", type=float, default=20.0)
    args = parser.parse_args()

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
