"""The advertisement and fluency classifiers: their validation figures, and how much of real pages
they keep — real article pages (../shared/data/warc/built: news, blog and forum pages whose gold
main text is known) vs real crawl pages (../shared/data/warc/real: Common Crawl, Internet Archive,
British Library and wget captures, boilerplate-heavy home, index and list pages included).

Both sets go through Format → Clean → Quality with the bundled conf (local[2]), so the classifiers
see what the pipeline would give them (Format — bench/common.py format_output — and Clean outputs are
reused from --work when there; Quality always reruns). Built pages whose documents were in the fluency classifier's
TRAINING split (by the same hash of the document id) are reported apart from the held-out ones: the
classifier saw their gold main texts as clean passages. The ad classifier never saw any page.

Printed: validation/test figures from the models' metrics.json; per set and language, documents
scored, kept share, removed by ad and by fluency, median scores; and a few removed real pages.

Usage: .venv/bin/python bench/quality/bench_quality_models.py [--work /tmp/cf-quality-bench] [--skip-pages]
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # bench/, for common.py

from common import ROOT, format_output  # noqa: E402

MODELS = ROOT / "resources" / "models"


def validation_figures() -> None:
    ad = json.loads((MODELS / "ad" / "metrics.json").read_text())
    print(f"== ad classifier (threshold {ad['threshold']}, target precision {ad['target_precision']}, "
          f"reached: {ad['target_precision_reached']}); split sizes "
          f"{ {k: v['examples'] for k, v in ad['split'].items()} }")
    print(f"{'part':<11} {'slice':<28} {'n':>6} {'pos':>5} {'P':>6} {'R':>6} {'F1':>6} {'AUC':>6}")
    for part in ("validation", "test"):
        figures = ad[part]
        rows = [("all", figures["all"])] + [(f"lang {k}", v) for k, v in figures["by_language"].items()] \
            + [(f"src {k}", v) for k, v in figures["by_source"].items()]
        for name, m in rows:
            print(f"{part:<11} {name:<28} {m['examples']:>6} {m['positives']:>5} {m['precision']:>6.3f} "
                  f"{m['recall']:>6.3f} {m['f1']:>6.3f} {m['roc_auc'] if m['roc_auc'] is not None else '-':>6}")
    fl = json.loads((MODELS / "fluency" / "metrics.json").read_text())
    print(f"\n== fluency classifier (threshold {fl['threshold']}: {fl['threshold_rule']}; combine "
          f"{fl['combine']['method']}); examples per split { {k: v['examples'] for k, v in fl['split'].items()} }")
    print(f"{'part':<11} {'aspect':<12} {'AUC':>6} {'AP':>6} {'P@.5':>6} {'R@.5':>6}  "
          f"{'AUC en':>6} {'AUC zh':>6}  mean on clean / other corruptions; AUC per corruption")
    for part in ("validation", "test"):
        for aspect, e in fl[part]["aspects"].items():
            m, langs = e["vs_clean"], e["by_language"]
            per = ", ".join(f"{k} {v['roc_auc']}" for k, v in e["by_corruption"].items())
            print(f"{part:<11} {aspect:<12} {m['roc_auc']:>6} {m['average_precision']:>6} {m['precision']:>6} "
                  f"{m['recall']:>6}  {langs.get('en', {}).get('roc_auc', '-'):>6} "
                  f"{langs.get('zh', {}).get('roc_auc', '-'):>6}  {e['mean_score_on_clean']} / "
                  f"{e['mean_score_on_other_corruptions']}; {per}")
        c = fl[part]["combined"]
        for name, m in [("all", c["all"])] + list(c["by_language"].items()):
            print(f"{part:<11} combined {name:<4} AUC {m['roc_auc']}  clean kept {m['clean_kept']}  removed: "
                  + ", ".join(f"{k} {v}" for k, v in m["removed_by_corruption"].items()))


def stage(spark, cfg, name: str, inputs, out: Path):
    from corpusforge.jobs.registry import stage as registered
    from corpusforge.jobs.stage import run_stage

    if (out / "_SUCCESS").is_file():
        return json.loads((out / "_stats.json").read_text())
    return run_stage(spark, cfg, registered(name), inputs, str(out))


def keep_rates(work: Path) -> None:
    from pyspark.sql import functions as F

    from corpusforge.jobs import quality
    from corpusforge.conf import load_config
    from corpusforge.jobs.session import build_session
    from corpusforge.udfs.classifier_training import split_of

    cfg = load_config(None, ["spark.master=local[2]", "output.jsonl=false"])
    fl = json.loads((MODELS / "fluency" / "metrics.json").read_text())["options"]
    names = {"magic-html-benchmark.warc.gz": "magic-html-benchmark.groundtruth.jsonl",
             "article-extraction-benchmark.warc.gz": "article-extraction-benchmark.groundtruth.jsonl"}
    formatted = {name: format_output(work, (name,)) for name in ("built", "real")}  # before our own JVM starts
    spark = build_session(cfg)
    try:
        print(f"\n== keep rates (Format → Clean → Quality, bundled conf; thresholds "
              f"{json.dumps(quality.check_models(cfg)[1].default)})")
        print("set: built pages by source (magic = magic-html, gne = GeneralNewsExtractor, aeb* =\n"
              "article-extraction-benchmark, whose gold texts were ad-training negatives) and by the fluency\n"
              "split of their gold text (fl-train: seen as clean fluency passages; held: not); real crawl pages")
        print(f"{'set':<22} {'lang':<5} {'docs':>5} {'scored':>6} {'kept':>7} {'-ad':>6} {'-fluency':>8} "
              f"{'med ad':>7} {'med flu':>8}")
        for name in ("built", "real"):
            base = work / name
            stage(spark, cfg, "clean", str(formatted[name]), base / "clean")
            (base / "quality" / "_SUCCESS").unlink(missing_ok=True)  # always rerun: models change
            stats = stage(spark, cfg, "quality", str(base / "clean"), base / "quality")
            kept = spark.read.parquet(str(base / "quality" / "kept")).withColumn("reason", F.lit(None).cast("string"))
            removed = spark.read.parquet(str(base / "quality" / "removed"))
            cols = ["id", "url", "warc_file", "warc_record_id", "language", "text", "scores", "reason"]
            rows = kept.select(*cols).unionByName(removed.select(*cols)).toPandas()
            rows["ad"] = rows["scores"].map(lambda s: dict(s or {}).get("ad"))
            rows["fluency"] = rows["scores"].map(lambda s: dict(s or {}).get("fluency"))
            if name == "built":
                def part(r):
                    warc = Path(r["warc_file"] or "").name
                    short = {"magic-html-benchmark.warc.gz": "magic", "gne-chinese-news.warc.gz": "gne",
                             "article-extraction-benchmark.warc.gz": "aeb*"}.get(warc, warc)
                    source = names.get(warc)
                    if source is None:
                        return f"built {short}"
                    split = split_of(f"{source}:{r['warc_record_id']}", fl["seed"], fl["validation_fraction"],
                                     fl["test_fraction"])
                    return f"built {short} {'fl-train' if split == 'train' else 'held'}"
                rows["set"] = rows.apply(part, axis=1)
            else:
                rows["set"] = "real"
            for (group, language), g in rows.groupby(["set", rows["language"].where(
                    rows["language"].isin(["en", "zh"]), "other")]):
                scored = g["fluency"].notna() | g["ad"].notna()
                n = int(scored.sum())
                if not n:
                    print(f"{group:<22} {language:<5} {len(g):>5} {0:>6}")
                    continue
                s = g[scored]
                print(f"{group:<22} {language:<5} {len(g):>5} {n:>6} {(s['reason'].isna()).mean():>7.1%} "
                      f"{(s['reason'] == 'ad').mean():>6.1%} {(s['reason'] == 'fluency').mean():>8.1%} "
                      f"{s['ad'].median():>7.3f} {s['fluency'].median():>8.3f}")
            print(f"{'':<22} {'all':<5} stage stats: {stats['input_docs']} in, {stats['kept_docs']} kept, "
                  f"removed {stats['removed_by_reason']}, unscored {stats['unscored_docs']}, {stats['seconds']} s")
            if name == "real":
                shown = rows[rows["reason"].notna()].sort_values("id").head(12)
                print("   removed real pages (reason, score, url, start of text):")
                for _, r in shown.iterrows():
                    score = r["ad"] if r["reason"] == "ad" else r["fluency"]
                    text = " ".join((r["text"] or "").split())[:90]
                    print(f"   {r['reason']:<8} {score:.3f} {(r['url'] or '')[:60]:<60} | {text}")
                top = rows[rows["ad"].notna()].sort_values("ad", ascending=False).head(6)
                print("   highest ad scores on real pages:")
                for _, r in top.iterrows():
                    print(f"   ad {r['ad']:.3f} {(r['url'] or '')[:60]:<60} | {' '.join((r['text'] or '').split())[:90]}")
    finally:
        spark.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--work", default="/tmp/cf-quality-bench")
    parser.add_argument("--skip-pages", action="store_true")
    args = parser.parse_args()
    validation_figures()
    if not args.skip_pages:
        keep_rates(Path(args.work))


if __name__ == "__main__":
    main()
