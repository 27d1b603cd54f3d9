"""The Chinese ad threshold (quality.thresholds.languages.zh.ad) on judged pages: how many judged-keep
and judged-remove Chinese pages (resources/labels/clean-pages, issue 12's labels, joined on WARC file and
record id) the ad classifier removes at a few thresholds, on the calibration half and the held-out half
of `corpusforge calibrate`'s split (the same seed), after Format → Clean, as the Quality stage scores them.

Reads the Quality outputs bench/quality/bench_quality_models.py writes under --work (run it first). The
threshold is chosen on the calibration half with Clean calibration's per-rule cap (conf
calibration.max_false_removal_per_rule, at least cap_floor_pages), and reported on the held-out half.

Usage: .venv/bin/python bench/quality/bench_ad_threshold_zh.py [--work /tmp/cf-quality-bench]
Results: stdout and bench/results/ad_threshold_zh.json.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # bench/, for common.py

from common import ROOT, write_result  # noqa: E402

THRESHOLDS = (0.668, 0.8, 0.9, 0.95, 0.97, 0.99)


def main() -> None:
    import pyarrow.dataset as ds

    from corpusforge.conf import load_config
    from corpusforge.udfs.calibration import CALIBRATE, HELD_OUT, LabelledPage, page_key, split_halves

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--work", default="/tmp/cf-quality-bench")
    args = parser.parse_args()
    cfg = load_config()
    labels = [json.loads(line) for line in (ROOT / "resources" / "labels" / "clean-pages" / "labels.jsonl")
              .read_text(encoding="utf-8").splitlines() if line.strip()]
    pages = {page_key(r["warc_file"], r["warc_record_id"]): r for r in labels}
    split = split_halves([LabelledPage(key=k, label=r["label"], language=r["language"], host=None, url=r["url"],
                                       values={}) for k, r in pages.items()], cfg.calibration.split_seed)
    scores = {}
    for path in sorted(Path(args.work).glob("*/quality/*/**/*.parquet")):
        for row in ds.dataset(str(path), format="parquet").to_table(
                columns=["warc_file", "warc_record_id", "language", "scores"]).to_pylist():
            key = page_key(row["warc_file"], row["warc_record_id"])
            ad = dict(row["scores"] or []).get("ad")
            if key in pages and (row["language"] or "").startswith("zh") and ad is not None:
                scores[key] = ad
    if not scores:
        raise SystemExit(f"no scored Chinese judged pages under {args.work}: run bench_quality_models.py first")
    cap = cfg.calibration.max_false_removal_per_rule
    result = {}
    for half in (CALIBRATE, HELD_OUT):
        keep = [v for k, v in scores.items() if split[k] == half and pages[k]["label"] == "keep"]
        remove = [v for k, v in scores.items() if split[k] == half and pages[k]["label"] == "remove"]
        result[half] = {"keep_pages": len(keep), "remove_pages": len(remove),
                        "keep_removed": {t: sum(v > t for v in keep) for t in THRESHOLDS},
                        "remove_removed": {t: sum(v > t for v in remove) for t in THRESHOLDS}}
        print(f"{half:<10} keep pages {len(keep):>3}, removed by ad at " +
              ", ".join(f"{t}: {n}" for t, n in result[half]["keep_removed"].items()) +
              f" | remove pages {len(remove)}, removed at " +
              ", ".join(f"{t}: {n}" for t, n in result[half]["remove_removed"].items()))
    allowed = int(max(cfg.calibration.cap_floor_pages, int(cap * result[CALIBRATE]["keep_pages"])))
    chosen = min(t for t in THRESHOLDS if result[CALIBRATE]["keep_removed"][t] <= allowed)
    result["chosen"] = chosen
    print(f"lowest threshold removing <= {allowed} judged-keep pages of the calibration half: {chosen}; "
          f"held-out half: {result[HELD_OUT]['keep_removed'][chosen]} of {result[HELD_OUT]['keep_pages']} keep pages "
          f"removed, {result[HELD_OUT]['remove_removed'][chosen]} of {result[HELD_OUT]['remove_pages']} remove pages")
    write_result("ad_threshold_zh", result)


if __name__ == "__main__":
    main()
