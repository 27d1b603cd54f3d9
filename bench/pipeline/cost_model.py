"""Core-hours for one full Common Crawl dump, from the per-core throughput bench_end_to_end.py measured.

Reads the JSON that bench/pipeline/bench_end_to_end.py writes (default bench/results/end_to_end.json)
and prints the table the README's "Cost of a full Common Crawl dump" section quotes. Nothing here is
measured: it is arithmetic on one run's figures, so that the README's table can be re-derived from a
new run. What it rests on, and says in its output:

- Per-core throughput is documents per CPU-second of the whole process tree of each stage (JVM and
  Python workers, or DataTrove's pools), on the built corpus (bench/pipeline/build_corpus.py: real pages
  replicated with mutations and planted duplicates). Per-page cost follows the page mix, and the
  built corpus's pages are larger than a dump's average (compared below by compressed bytes).
- Later stages see fewer documents. Each stage's input share is the run's measured survival
  (stage input / Format input) applied to the dump's pages, so the core-hours of a stage are
  pages x (the stage's CPU-seconds per Format input document). A dump's real survival differs: the
  built corpus plants 21% duplicates and has no spam farms or non-HTML payloads.
- Linear extrapolation: fixed costs of a run (JVM start-up, the final export, the report) are left
  out, and per-stage Spark overheads (task scheduling, shuffles) are spread over the corpus's few
  thousand documents, which overstates their per-document share; Dedup's band join and connected
  components are not strictly linear either.

Usage: .venv/bin/python bench/pipeline/cost_model.py [bench/results/end_to_end.json] [--pages 3e9]
                                                     [--warc-files 90000] [--dump-tb 75] [--markdown]
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # bench/, for common.py

from common import RESULTS  # noqa: E402

DEFAULT_RESULTS = RESULTS / "end_to_end.json"
CF_STAGES = ("format", "clean", "dedup", "safety", "quality")
DT_MINHASH = ("signatures", "buckets", "cluster", "dedup_filter")
# corpusforge's stages DataTrove has an equivalent for: its filter step extracts and applies the
# Gopher/C4/FineWeb rules (Format + Clean), its 4-stage MinHash is Dedup; no Safety or Quality models.
DT_EQUIVALENT = {"format+clean": "extract + Gopher/C4/FineWeb filters", "dedup": "4-stage MinHash"}


def load(path: Path) -> dict:
    results = json.loads(path.read_text())
    stages = {**results["corpusforge"]["stages"], **((results.get("classifiers") or {}).get("stages") or {})}
    missing = [s for s in CF_STAGES if s not in stages]
    if missing:
        raise SystemExit(f"{path}: no figures for stage(s) {', '.join(missing)}. Fix: rerun bench_end_to_end.py "
                         f"without --skip-classifiers, with --json {path}.")
    results["stages"] = stages
    return results


def model(results: dict, pages: float) -> dict:
    """Per stage: measured docs in/kept/CPU, survival share, docs/CPU-s, and dump core-hours."""
    stages = results["stages"]
    base = stages["format"]["input_docs"]
    rows = {}
    for name in CF_STAGES:
        s = stages[name]
        rows[name] = {"docs_in": s["input_docs"], "kept": s["kept_docs"], "cpu": s["cpu"],
                      "share_in": s["input_docs"] / base, "rate": s["input_docs"] / max(s["cpu"], 1e-9),
                      "core_hours": pages * s["cpu"] / base / 3600}
    out = {"base_docs": base, "cf": rows, "dt": None}
    dt = results.get("datatrove")
    if dt:
        kept = results["datatrove_kept"]
        docs, filtered = kept["input"], kept["filtered"]
        minhash_cpu = sum(dt["stages"][k]["cpu"] for k in DT_MINHASH)
        out["dt"] = {
            "format+clean": {"docs_in": docs, "kept": filtered, "cpu": dt["stages"]["filter"]["cpu"],
                             "share_in": 1.0, "rate": docs / dt["stages"]["filter"]["cpu"],
                             "core_hours": pages * dt["stages"]["filter"]["cpu"] / docs / 3600},
            "dedup": {"docs_in": filtered, "kept": kept["deduplicated"], "cpu": minhash_cpu,
                      "share_in": filtered / docs, "rate": filtered / minhash_cpu,
                      "core_hours": pages * minhash_cpu / docs / 3600},
        }
    return out


def table(results: dict, m: dict, pages: float, warc_files: int, dump_tb: float, markdown: bool) -> str:
    corpus = results["corpus"]
    cf, dt = m["cf"], m["dt"]
    total = sum(r["core_hours"] for r in cf.values())
    cols = ["stage", "docs in (run)", "kept (run)", "share of pages in", "docs/s per core", "dump docs in",
            "core-hours", "share of total"]
    rows = []
    for name, r in cf.items():
        rows.append([f"corpusforge {name}", f"{r['docs_in']:,}", f"{r['kept']:,}", f"{r['share_in']:.3f}",
                     f"{r['rate']:.2f}", f"{pages * r['share_in'] / 1e9:.2f} B", f"{r['core_hours']:,.0f}",
                     f"{100 * r['core_hours'] / total:.1f}%"])
    rows.append(["corpusforge total", "", "", "", f"{m['base_docs'] / sum(r['cpu'] for r in cf.values()):.2f}",
                 "", f"{total:,.0f}", "100%"])
    if dt:
        for name, r in dt.items():
            rows.append([f"DataTrove {DT_EQUIVALENT[name]}", f"{r['docs_in']:,}", f"{r['kept']:,}",
                         f"{r['share_in']:.3f}", f"{r['rate']:.2f}", f"{pages * r['share_in'] / 1e9:.2f} B",
                         f"{r['core_hours']:,.0f}", ""])
        cf_pair = {"format+clean": cf["format"]["core_hours"] + cf["clean"]["core_hours"],
                   "dedup": cf["dedup"]["core_hours"]}
        dt_total = sum(r["core_hours"] for r in dt.values())
        rows.append(["DataTrove total (no Safety/Quality)", "", "", "", "", "", f"{dt_total:,.0f}", ""])
    lines = []
    if markdown:
        lines.append("| " + " | ".join(cols) + " |")
        lines.append("|" + "|".join(["---"] + ["---:"] * (len(cols) - 1)) + "|")
        lines.extend("| " + " | ".join(r) + " |" for r in rows)
    else:
        widths = [max(len(str(x[i])) for x in [cols, *rows]) for i in range(len(cols))]
        fmt = lambda r: "  ".join(str(v).ljust(w) if i == 0 else str(v).rjust(w)  # noqa: E731
                                  for i, (v, w) in enumerate(zip(r, widths)))
        lines.append(fmt(cols))
        lines.extend(fmt(r) for r in rows)

    top = max(cf, key=lambda n: cf[n]["core_hours"])
    classifiers = cf["safety"]["core_hours"] + cf["quality"]["core_hours"]
    per_page_kb = corpus["warc_bytes"] / corpus["documents"] / 1e3
    dump_kb = dump_tb * 1e12 / pages / 1e3
    notes = [
        "",
        f"One dump: {pages / 1e9:.1f} B pages in {warc_files:,} WARC files ({pages / warc_files:,.0f} pages per file); "
        f"run: {m['base_docs']:,} HTML documents of the built corpus ({corpus['real_pages']} real pages replicated), "
        f"{results['cores']} cores, CPU time of each stage's whole process tree.",
        f"Dominant stage: {top} ({100 * cf[top]['core_hours'] / total:.0f}% of {total:,.0f} core-hours); "
        f"the two classifier stages together {100 * classifiers / total:.0f}% although they see "
        f"{cf['safety']['share_in']:.0%} and {cf['quality']['share_in']:.0%} of the pages.",
        f"Per WARC file: {total / warc_files:.2f} core-hours for all five stages.",
    ]
    if dt:
        notes.append("Stages DataTrove has: corpusforge / DataTrove core-hours = "
                     + ", ".join(f"{k} {cf_pair[k]:,.0f} / {dt[k]['core_hours']:,.0f} "
                                 f"({cf_pair[k] / dt[k]['core_hours']:.2f}x)" for k in dt)
                     + "; DataTrove's dedup sees its own (smaller) filtered share "
                     f"{dt['dedup']['share_in']:.3f} against corpusforge's {cf['dedup']['share_in']:.3f}.")
        cf_fc_rate = m["base_docs"] / (cf["format"]["cpu"] + cf["clean"]["cpu"])
        notes.append(f"Per document entering the step (docs/s per core, corpusforge / DataTrove): format+clean "
                     f"{cf_fc_rate:.2f} / {dt['format+clean']['rate']:.2f} ({cf_fc_rate / dt['format+clean']['rate']:.2f}x), "
                     f"dedup {cf['dedup']['rate']:.2f} / {dt['dedup']['rate']:.2f} "
                     f"({cf['dedup']['rate'] / dt['dedup']['rate']:.2f}x).")
    notes.append(f"Page size: the built corpus holds {per_page_kb:.1f} kB of gzip WARC per page, a dump of ~{dump_tb:g} TB "
                 f"over {pages / 1e9:.1f} B pages ~{dump_kb:.1f} kB; Format and Clean scale with bytes, so by bytes "
                 f"they would be {dump_kb / per_page_kb:.2f}x the figures above "
                 f"({(cf['format']['core_hours'] + cf['clean']['core_hours']) * dump_kb / per_page_kb:,.0f} "
                 f"instead of {cf['format']['core_hours'] + cf['clean']['core_hours']:,.0f} core-hours).")
    notes.append("Survival shares are this run's (built corpus: planted duplicates, no spam farms); fixed run "
                 "costs are left out; the per-document Spark overhead of a small run is spread over few documents.")
    return "\n".join(lines + notes)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("results", nargs="?", default=str(DEFAULT_RESULTS))
    parser.add_argument("--pages", type=float, default=3e9, help="pages in one dump (default 3e9)")
    parser.add_argument("--warc-files", type=int, default=90_000, help="WARC files in one dump (default 90,000)")
    parser.add_argument("--dump-tb", type=float, default=75.0,
                        help="compressed WARC terabytes of one dump, for the page-size comparison (default 75)")
    parser.add_argument("--markdown", action="store_true", help="print the table as Markdown (for the README)")
    args = parser.parse_args()
    results = load(Path(args.results))
    m = model(results, args.pages)
    print(table(results, m, args.pages, args.warc_files, args.dump_tb, args.markdown))


if __name__ == "__main__":
    main()
