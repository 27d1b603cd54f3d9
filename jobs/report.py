"""The run report: DIR/report.html, one self-contained file a person opens in a browser, and the same
numbers under "report" in DIR/stats.json.

The figures come from each stage's _stats.json plus a few Spark aggregations over the stage outputs
(top domains, score histograms, samples), so `corpusforge report DIR` can rebuild it at any time.
Charts are matplotlib PNGs inlined as base64: no external file, script or font is needed to view it.
"""
from __future__ import annotations

import base64
import html
import io
import json
from typing import Any

from pyspark.sql import DataFrame, SparkSession, Window
from pyspark.sql import functions as F

from corpusforge.conf import Config
from corpusforge.jobs.stage import read_success
from corpusforge.jobs.storage import Storage, join, spark_path

HISTOGRAM_BINS = 30
TOP_DOMAINS = 15
SAMPLES_PER_REASON = 3
SAMPLE_CHARS = 600
TOP_REASONS = 3


def stage_dirs(cfg: Config, run_dir: str, stages: tuple[str, ...]) -> dict[str, str]:
    """The finished stages of a run directory, in pipeline order."""
    return {s: join(run_dir, s) for s in stages if read_success(cfg, join(run_dir, s)) is not None}


def gather(spark: SparkSession, cfg: Config, run_dir: str, stages: tuple[str, ...]) -> dict[str, Any]:
    """Every number the report shows, as plain JSON-able data."""
    dirs = stage_dirs(cfg, run_dir, stages)
    stats = {s: json.loads(Storage.of(cfg).read_text(join(d, "_stats.json")) or "{}") for s, d in dirs.items()}
    data: dict[str, Any] = {"stages": list(dirs), "funnel": [], "removed_by_reason": {}, "timings": {},
                            "languages": {}, "keep_by_language": {}, "domains": {}, "histograms": {},
                            "samples": {}, "clusters": None}
    chars_in = None
    for stage, s in stats.items():
        if not data["funnel"]:
            data["funnel"].append({"state": "input", "docs": s.get("input_docs", 0), "chars": chars_in})
        data["funnel"].append({"state": stage, "docs": s.get("kept_docs", 0), "chars": s.get("kept_chars")})
        data["removed_by_reason"][stage] = s.get("removed_by_reason", {})
        data["timings"][stage] = s.get("seconds")
        if "removed_by_language_reason" in s:
            data["keep_by_language"][stage] = keep_by_language(s)
    if stats:
        first, last = next(iter(stats)), list(stats)[-1]
        data["languages"] = {"before": stats[first].get("kept_by_language", {}),
                             "after": stats[last].get("kept_by_language", {})}
    if not dirs:
        return data
    kept_final = spark.read.parquet(spark_path(join(list(dirs.values())[-1], "kept")))
    removed = {s: spark.read.parquet(spark_path(join(d, "removed"))) for s, d in dirs.items()}
    data["domains"] = {"kept": top_domains(kept_final), "removed": top_domains(
        _union([df.select("domain") for df in removed.values()]))}
    seen_keys: set[str] = set()
    for stage, d in dirs.items():
        evaluated = spark.read.parquet(spark_path(join(d, "kept"))).select("scores").unionByName(
            removed[stage].select("scores"))
        hists = score_histograms(evaluated, exclude=seen_keys)
        thresholds = stats[stage].get("thresholds", {})
        for key, hist in hists.items():
            hist["threshold"] = thresholds.get(key)
        data["histograms"][stage] = hists
        seen_keys |= set(hists)
        data["samples"][stage] = sample_removed(removed[stage])
        if "component_size" in removed[stage].columns:
            data["clusters"] = cluster_sizes(removed[stage])
    data["samples"]["kept"] = [_sample_row(r) for r in kept_final.orderBy(F.xxhash64("id")).limit(5).collect()]
    return data


def keep_by_language(stats: dict) -> list[dict]:
    """Per language, from a stage's _stats.json: documents in, kept, the keep rate and the top removal
    reasons — so that a language losing more than the others shows at a glance."""
    kept = stats.get("kept_by_language", {})
    removed = stats.get("removed_by_language_reason", {})
    rows = []
    for language in set(kept) | set(removed):
        reasons = removed.get(language, {})
        total = kept.get(language, 0) + sum(reasons.values())
        rows.append({"language": language, "input": total, "kept": kept.get(language, 0),
                     "keep_rate": kept.get(language, 0) / total if total else None,
                     "top_reasons": sorted(reasons.items(), key=lambda kv: (-kv[1], kv[0]))[:TOP_REASONS]})
    return sorted(rows, key=lambda r: (-r["input"], r["language"]))


def top_domains(df: DataFrame) -> list[list]:
    rows = (df.where(F.col("domain").isNotNull()).groupBy("domain").count()
            .orderBy(F.desc("count"), "domain").limit(TOP_DOMAINS).collect())
    return [[r["domain"], r["count"]] for r in rows]


def score_histograms(df: DataFrame, exclude: set[str]) -> dict[str, dict]:
    """Histogram of every score key (a rule statistic or classifier score) in HISTOGRAM_BINS bins."""
    values = df.select(F.explode("scores").alias("key", "value")).where(
        ~F.col("key").isin(list(exclude)) if exclude else F.lit(True)).where(~F.isnan("value"))
    ranges = {r["key"]: (r["lo"], r["hi"], r["n"]) for r in
              values.groupBy("key").agg(F.min("value").alias("lo"), F.max("value").alias("hi"),
                                        F.count("*").alias("n")).collect()}
    if not ranges:
        return {}
    bounds = F.create_map(*[x for k, (lo, hi, _) in ranges.items() for x in (F.lit(k), F.array(F.lit(lo), F.lit(hi)))])
    lo, hi = bounds[F.col("key")][0], bounds[F.col("key")][1]
    bin_index = F.when(hi > lo, F.least(F.floor((F.col("value") - lo) / (hi - lo) * HISTOGRAM_BINS),
                                        F.lit(HISTOGRAM_BINS - 1))).otherwise(F.lit(0)).cast("int")
    counts: dict[str, list[int]] = {k: [0] * HISTOGRAM_BINS for k in ranges}
    for r in values.groupBy("key", bin_index.alias("bin")).count().collect():
        counts[r["key"]][r["bin"]] = r["count"]
    return {k: {"lo": ranges[k][0], "hi": ranges[k][1], "n": ranges[k][2], "counts": counts[k]} for k in sorted(ranges)}


def sample_removed(removed: DataFrame) -> dict[str, list[dict]]:
    """A few removed documents per reason, chosen by a hash of the id (stable across rebuilds)."""
    ranked = removed.withColumn("_rank", F.row_number().over(
        Window.partitionBy("reason").orderBy(F.xxhash64("id"))))
    out: dict[str, list[dict]] = {}
    for r in ranked.where(F.col("_rank") <= SAMPLES_PER_REASON).collect():
        out.setdefault(r["reason"], []).append(_sample_row(r))
    return out


def cluster_sizes(removed: DataFrame) -> dict[str, int]:
    rows = removed.groupBy("component_id").agg(F.first("component_size").alias("size")) \
        .groupBy("size").count().orderBy("size").collect()
    return {str(r["size"]): r["count"] for r in rows}


def _sample_row(row) -> dict:
    d = row.asDict()
    return {"id": d.get("id"), "url": d.get("url"), "language": d.get("language"),
            "reason": d.get("reason"), "detail": d.get("detail"),
            "text": (d.get("text") or "")[:SAMPLE_CHARS]}


def _union(frames: list[DataFrame]) -> DataFrame:
    out = frames[0]
    for df in frames[1:]:
        out = out.unionByName(df)
    return out


# ----------------------------------------------------------------------------------- rendering

def _png(fig) -> str:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=90, bbox_inches="tight")
    import matplotlib.pyplot as plt
    plt.close(fig)
    return f'<img alt="" src="data:image/png;base64,{base64.b64encode(buffer.getvalue()).decode()}">'


def _bar(labels: list[str], values: list[float], title: str, horizontal: bool = True) -> str:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(7, max(2.0, 0.3 * len(labels) + 1)) if horizontal else (7, 3.5))
    if horizontal:
        ax.barh(labels[::-1], values[::-1], color="#4c72b0")
    else:
        ax.bar(labels, values, color="#4c72b0")
    ax.set_title(title)
    return _png(fig)


def _histogram(key: str, hist: dict) -> str:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    lo, hi, counts = hist["lo"], hist["hi"], hist["counts"]
    width = (hi - lo) / len(counts) if hi > lo else 1.0
    fig, ax = plt.subplots(figsize=(4.2, 2.6))
    ax.bar([lo + i * width for i in range(len(counts))], counts, width=width, align="edge", color="#55a868")
    if hist.get("threshold") is not None:
        for t in (hist["threshold"] if isinstance(hist["threshold"], list) else [hist["threshold"]]):
            ax.axvline(t, color="#c44e52", linestyle="--", label=f"threshold {t:g}")
        ax.legend(fontsize=7)
    ax.set_title(key, fontsize=9)
    ax.tick_params(labelsize=7)
    return _png(fig)


def render(data: dict[str, Any]) -> str:
    e = html.escape
    parts = ["<!doctype html><html><head><meta charset='utf-8'><title>corpusforge run report</title>",
             "<style>body{font-family:sans-serif;max-width:1100px;margin:auto;padding:1em}"
             "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:3px 8px;font-size:13px}"
             ".grid{display:flex;flex-wrap:wrap;gap:6px}.doc{white-space:pre-wrap;font-size:12px;"
             "background:#f6f6f6;padding:6px;margin:4px 0}</style></head><body>",
             "<h1>corpusforge run report</h1>", "<h2>Funnel</h2><table><tr><th>state</th><th>documents</th><th>characters</th></tr>"]
    for row in data["funnel"]:
        parts.append(f"<tr><td>{e(row['state'])}</td><td>{row['docs']:,}</td><td>{'' if row['chars'] is None else format(row['chars'], ',')}</td></tr>")
    parts.append("</table>")
    if data["funnel"]:
        parts.append(_bar([r["state"] for r in data["funnel"]], [r["docs"] for r in data["funnel"]],
                          "documents after each stage", horizontal=False))
    parts.append("<h2>Timings</h2><table>" + "".join(
        f"<tr><td>{e(s)}</td><td>{t if t is not None else ''} s</td></tr>" for s, t in data["timings"].items()) + "</table>")
    parts.append("<h2>Removal reasons</h2>")
    for stage, reasons in data["removed_by_reason"].items():
        if reasons:
            parts.append(_bar(list(reasons), list(reasons.values()), f"{stage}: removed documents by reason"))
    for stage, rows in data.get("keep_by_language", {}).items():
        parts.append(f"<h2>{e(stage)}: keep rate by language</h2><table><tr><th>language</th><th>documents</th>"
                     "<th>kept</th><th>keep rate</th><th>top removal reasons</th></tr>")
        for row in rows:
            reasons = ", ".join(f"{e(reason)} {n:,}" for reason, n in row["top_reasons"]) or "-"
            rate = "" if row["keep_rate"] is None else f"{row['keep_rate']:.1%}"
            parts.append(f"<tr><td>{e(row['language'])}</td><td>{row['input']:,}</td><td>{row['kept']:,}</td>"
                         f"<td>{rate}</td><td>{reasons}</td></tr>")
        parts.append("</table>")
    parts.append("<h2>Languages</h2><div class='grid'>")
    for when, langs in data["languages"].items():
        top = list(langs.items())[:15]
        if top:
            parts.append(_bar([k for k, _ in top], [v for _, v in top], f"languages {when}"))
    parts.append("</div><h2>Top domains</h2><div class='grid'>")
    for which, rows in data["domains"].items():
        if rows:
            parts.append(_bar([r[0] for r in rows], [r[1] for r in rows], f"top domains {which}"))
    parts.append("</div>")
    for stage, hists in data["histograms"].items():
        if hists:
            parts.append(f"<h2>{e(stage)}: statistics and scores</h2><div class='grid'>")
            parts.extend(_histogram(k, h) for k, h in hists.items())
            parts.append("</div>")
    if data.get("clusters"):
        sizes = data["clusters"]
        parts.append("<h2>Duplicate clusters</h2>" + _bar(list(sizes), list(sizes.values()),
                                                           "components by size (members)", horizontal=False))
    parts.append("<h2>Samples</h2>")
    for stage, by_reason in data["samples"].items():
        if stage == "kept":
            continue
        for reason, docs in by_reason.items():
            parts.append(f"<h3>{e(stage)} — removed: {e(str(reason))}</h3>")
            parts.extend(_doc_html(d) for d in docs)
    parts.append("<h3>kept (final)</h3>")
    parts.extend(_doc_html(d) for d in data["samples"].get("kept", []))
    parts.append("</body></html>")
    return "\n".join(parts)


def _doc_html(doc: dict) -> str:
    e = html.escape
    head = f"{e(doc.get('url') or '')} [{e(doc.get('language') or '')}] {e(doc.get('detail') or '')}"
    return f"<div class='doc'><b>{head}</b>\n{e(doc.get('text') or '')}</div>"


def build_report(spark: SparkSession, cfg: Config, run_dir: str, stages: tuple[str, ...]) -> dict[str, Any]:
    """Write DIR/report.html and put the same numbers under "report" in DIR/stats.json."""
    data = gather(spark, cfg, run_dir, stages)
    Storage.of(cfg).write_text(join(run_dir, "report.html"), render(data))
    stats = json.loads(Storage.of(cfg).read_text(join(run_dir, "stats.json")) or "{}")
    stats["report"] = data
    Storage.of(cfg).write_text(join(run_dir, "stats.json"), json.dumps(stats, indent=2, sort_keys=True, ensure_ascii=False))
    return data
