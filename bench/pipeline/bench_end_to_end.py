"""End to end against DataTrove: the same WARC corpus, the same run, documents/s per core side by side.

1. Corpus: bench/pipeline/build_corpus.py makes --records HTML documents from the ~750 real pages of
   ../shared/data/warc (mutated copies, planted near and exact duplicates, four CC dumps), cached in
   --work. It says how many real pages it was built from.
2. corpusforge: `corpusforge run --to dedup` (Format → Clean → Dedup, classifiers off) on
   local[--cores], the whole command timed (JVM start-up, the final JSONL export and the run report
   included), each stage's CPU read from the process tree as the run logs its stage boundaries.
3. DataTrove 0.10.1 in its own virtualenv (bench/pipeline/datatrove_end_to_end.py): WarcReader → Trafilatura
   → GopherQuality → GopherRepetition → C4Quality → FineWebQuality, then the 4-stage MinHash dedup,
   each stage one command with --cores workers. No language filter on either side.
4. Agreement: documents each side keeps after extraction, after the quality rules and after dedup;
   Jaccard of the URL sets at each point, agreement of the keep/remove decisions on documents both
   sides judged (Cohen's kappa), and dedup against the planted ground truth (manifest.jsonl.gz):
   removals with a surviving copy of the same page (precision) and planted duplicates removed (recall).
   The two dedups keep different copies (corpusforge the newest dump, DataTrove the first file), so
   kept sets are also compared by duplicate family.
5. corpusforge alone with the classifiers on: the Safety and Quality stages on the Dedup output
   (`corpusforge run --to quality` resumes after dedup), per stage.

CPU time is the steadier measure on a shared machine: the benchmark process makes itself the
child subreaper of everything it starts (prctl), reaps every process when a command ends, and reads
their user+system time with getrusage(RUSAGE_CHILDREN). documents/s per core = input documents / CPU
seconds. Wall-clock documents/s per core (wall / --cores) is printed too; it assumes free cores.

Usage: .venv/bin/python bench/pipeline/bench_end_to_end.py [--records 2000] [--cores 2] [--work DIR]
                                                           [--skip-datatrove] [--skip-classifiers] [--json PATH]
                                                           [--before OTHER_CHECKOUT_VENV/bin/python]

--before runs another checkout's corpusforge (say main's, before a change) on the same corpus in the same
run: its throughput beside this one's and DataTrove's, and its decisions against this one's per stage
(bench/pipeline/compare_runs.py --count-decisions).

The results (corpus mix, per-stage CPU and document counts of both sides, agreement) are written as
JSON to bench/results/end_to_end.json (committed: the figures docs/cost.md cites; rerun with --records 2000
before committing it) and also to --json PATH when given; bench/pipeline/cost_model.py turns them into
core-hours for a full Common Crawl dump.
"""
from __future__ import annotations

import argparse
import gzip
import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # bench/, for common.py and proc_stats.py

import orjson  # noqa: E402
import pyarrow.dataset as ds  # noqa: E402

from common import DATATROVE_PYTHON, ROOT, jaccard, write_result  # noqa: E402
from proc_stats import TreeCPU, become_subreaper, children_cpu, reap_all  # noqa: E402

HERE = Path(__file__).resolve().parent  # bench/pipeline: build_corpus.py, datatrove_end_to_end.py
DATATROVE_STAGES = ("filter", "signatures", "buckets", "cluster", "dedup_filter")
STAGE_LINE = re.compile(r"\] (\w+): (running|\d+ in|finished earlier)")
FIXED_LINE = re.compile(r"\] (final|report): ")  # the export's and the report's last lines


# --- measuring a command and every process below it --------------------------------------------------
def run_command(cmd: list[str], *, cwd: Path, log: Path, on_line=None) -> dict:
    """Run a command to its end: wall seconds and CPU seconds of its whole process tree.

    Two lower bounds of the tree's CPU, the larger is taken: getrusage(RUSAGE_CHILDREN) after reaping
    everything (misses processes their parent reaps by ignoring SIGCHLD, as PySpark's worker daemon
    does), and /proc sampled every 0.2 s (misses the last instants of each process). Both are kept."""
    reap_all(0)
    cpu0, wall0 = children_cpu(), time.perf_counter()
    with log.open("w") as sink:
        process = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                   env={**os.environ, "PYTHONUNBUFFERED": "1"})
        sampler = TreeCPU(process.pid, jvm_threads=True)
        for line in process.stdout:
            sink.write(line)
            if on_line is not None:
                on_line(line, sampler)
        process.wait()
        sampler.stop()
    wall = time.perf_counter() - wall0
    sampled = sampler.sample()
    reap_all()
    rusage = children_cpu() - cpu0
    if process.returncode != 0:
        raise SystemExit(f"{' '.join(cmd[:4])} … failed ({process.returncode}); see {log}\n{log.read_text()[-3000:]}")
    return {"wall": wall, "cpu": max(sampled, rusage), "cpu_sampled": sampled, "cpu_rusage": rusage,
            "by_process": sampler.by_kind()}


# --- corpusforge ---------------------------------------------------------------------------------------
def corpusforge_stages_available() -> tuple[str, ...]:
    from corpusforge.jobs.registry import NAMES
    return NAMES


def run_corpusforge(corpus: Path, out: Path, last: str, cores: int, logs: Path, label: str,
                    python: str | None = None, cwd: Path | None = None) -> dict:
    """`corpusforge run --to LAST`, resuming whatever already finished in OUT. A stage the runner does not
    chain yet runs as its own command after it (its CPU then includes that command's JVM start-up).
    `python` (another checkout's interpreter, --before) runs that checkout's corpusforge, from `cwd`."""
    stages = corpusforge_stages_available()
    python = python or sys.executable
    sets = ["--set", f"spark.master=local[{cores}]", "--set", "spark.progress_seconds=0", "--set", "output.jsonl=false"]
    commands = [([python, "-m", "corpusforge", "run", "--input", str(corpus), "--output", str(out),
                  "--to", last if last in stages else stages[-1], *sets], None)]
    if last not in stages:
        order = ("format", "clean", "dedup", "safety", "quality")
        previous = stages[-1]
        for stage in order[order.index(previous) + 1: order.index(last) + 1]:
            if not (out / stage / "_SUCCESS").exists():  # a stage command does not resume by itself
                commands.append(([python, "-m", "corpusforge", stage, "--input", str(out / previous),
                                  "--output", str(out / stage), *sets], stage))
            previous = stage
    total = {"wall": 0.0, "cpu": 0.0, "cpu_sampled": 0.0, "cpu_rusage": 0.0, "commands": [], "stages": {},
             "by_process": {}}
    for n, (cmd, single) in enumerate(commands):
        marks: list[tuple[str, str, float, float, dict]] = []

        def on_line(line: str, sampler: TreeCPU) -> None:
            match = STAGE_LINE.search(line) or FIXED_LINE.search(line)
            if match:
                what = match.group(2) if match.re is STAGE_LINE else "done"
                marks.append((match.group(1), what, sampler.sample(), time.perf_counter(), sampler.by_kind()))

        result = run_command(cmd, cwd=cwd or ROOT, log=logs / f"{label}-{n}.log", on_line=on_line)
        for key in ("wall", "cpu", "cpu_sampled", "cpu_rusage"):
            total[key] += result[key]
        for kind, seconds in result["by_process"].items():
            total["by_process"][kind] = total["by_process"].get(kind, 0.0) + seconds
        total["commands"].append(" ".join(cmd[3:4] + (["--to", cmd[cmd.index("--to") + 1]] if "--to" in cmd else [])))
        if single is not None:
            total["stages"][single] = stage_entry(out, single, result["cpu"], result["wall"])
        else:
            total["stages"].update(stage_split(marks, out))
            total.setdefault("fixed", []).append(fixed_split(marks, result))
    return total


def stage_entry(out: Path, stage: str, cpu: float, wall: float) -> dict:
    stats = json.loads((out / stage / "_stats.json").read_text())
    return {"cpu": cpu, "wall": wall, "input_docs": stats["input_docs"], "kept_docs": stats["kept_docs"],
            "removed_by_reason": stats.get("removed_by_reason", {}), "stage_seconds": stats.get("seconds")}


def stage_split(marks, out: Path) -> dict:
    """CPU and wall seconds of each stage between its 'running' and 'N in' log lines (stages skipped as
    finished earlier are left out), with the CPU split by process kind (driver, JVM and its thread
    groups, Python workers)."""
    split, starts = {}, {}
    for stage, what, cpu, wall, kinds in marks:
        if what == "running":
            starts[stage] = (cpu, wall, kinds)
        elif stage in starts and what != "finished earlier":
            split[stage] = stage_entry(out, stage, cpu - starts[stage][0], wall - starts[stage][1])
            before = starts[stage][2]
            split[stage]["by_process"] = {k: v - before.get(k, 0.0) for k, v in kinds.items()}
    return split


def fixed_split(marks, result: dict) -> dict:
    """What a `corpusforge run` command pays outside its stages, by process kind: start-up (imports, JVM,
    Spark session; up to the first stage), the final export, the report, and the shut-down after it."""
    def at(label: str, what: str | None = None):
        found = [m for m in marks if m[0] == label and (what is None or m[1] == what)]
        return found[-1] if found else None
    first = next((m for m in marks if m[1] in ("running", "finished earlier")), None)
    last_stage = [m for m in marks if m[0] not in ("final", "report")]
    points = [("start-up", first), ("export", at("final")), ("report", at("report"))]
    out, previous = {}, {}
    if last_stage and points[1][1] is not None:
        previous_end = last_stage[-1]
    else:
        previous_end = None
    for name, mark in points:
        if mark is None:
            continue
        begin = {} if name == "start-up" else (previous_end[4] if name == "export" and previous_end else previous)
        out[name] = {k: v - begin.get(k, 0.0) for k, v in mark[4].items()}
        previous = mark[4]
    if previous:
        out["shut-down"] = {k: v - previous.get(k, 0.0) for k, v in result["by_process"].items()}
    return out


def read_parquet(path: Path, columns: list[str]) -> list[dict]:
    if not path.exists():
        return []
    dataset = ds.dataset(str(path), format="parquet", exclude_invalid_files=True)
    wanted = [c for c in columns if c in dataset.schema.names]
    return dataset.to_table(columns=wanted).to_pylist()


def corpusforge_outcome(out: Path) -> dict:
    """URL sets after each stage, and removals per stage with their reason."""
    result = {}
    for stage in ("format", "clean", "dedup", "safety", "quality"):
        if not (out / stage / "_SUCCESS").exists():
            continue
        kept = read_parquet(out / stage / "kept", ["url", "language"])
        removed = read_parquet(out / stage / "removed", ["url", "reason", "duplicate_of"])
        result[stage] = {"kept": {r["url"] for r in kept}, "removed": {r["url"]: r["reason"] for r in removed}}
        if stage == "format":
            result["language"] = {r["url"]: r.get("language") or "un" for r in kept}
    return result


# --- DataTrove -----------------------------------------------------------------------------------------
def check_datatrove(corpus: Path, work: Path) -> None:
    """DataTrove's `check` in its virtualenv (uncounted): every step's code on a few documents in one
    process, so a missing dependency stops the benchmark with the fix instead of leaving DataTrove's
    sandboxed extractor dying and restarting on every document."""
    done = subprocess.run([str(DATATROVE_PYTHON), str(HERE / "datatrove_end_to_end.py"), "check", "--input", str(corpus),
                           "--work", str(work)], cwd=ROOT, capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        raise SystemExit(f"DataTrove's pipeline fails in {DATATROVE_PYTHON.parent.parent}:\n"
                         + "\n".join(line for line in done.stderr.splitlines() if "| INFO" not in line)[-3000:])
    print(f"  {done.stdout.strip().splitlines()[-1]}", flush=True)


def run_datatrove(corpus: Path, work: Path, cores: int, logs: Path, timeout: float) -> dict:
    check_datatrove(corpus, work)
    if work.exists():
        shutil.rmtree(work)
    stages, total = {}, {"wall": 0.0, "cpu": 0.0, "cpu_sampled": 0.0, "cpu_rusage": 0.0}
    for stage in DATATROVE_STAGES:
        result = run_command([str(DATATROVE_PYTHON), str(HERE / "datatrove_end_to_end.py"), stage, "--input",
                              str(corpus), "--work", str(work), "--workers", str(cores), "--timeout", str(timeout)],
                             cwd=ROOT, log=logs / f"datatrove-{stage}.log")
        stages[stage] = result
        for key in ("wall", "cpu", "cpu_sampled", "cpu_rusage"):
            total[key] += result[key]
        print(f"  DataTrove {stage}: {result['wall']:.1f} s wall, {result['cpu']:.1f} s CPU "
              f"(sampled {result['cpu_sampled']:.1f}, rusage {result['cpu_rusage']:.1f})", flush=True)
    total["stages"] = stages
    return total


def jsonl_urls(folder: Path) -> dict[str, str | None]:
    """url → DataTrove's filter_reason of every document written under folder."""
    urls = {}
    for path in sorted(folder.glob("*.jsonl.gz")):
        with gzip.open(path, "rb") as handle:
            for line in handle:
                metadata = orjson.loads(line)["metadata"]
                urls[metadata["url"]] = metadata.get("filter_reason")
    return urls


def datatrove_outcome(work: Path) -> dict:
    reasons = {name: jsonl_urls(work / "removed" / name)
               for name in ("gopher_quality", "gopher_repetition", "c4", "fineweb", "minhash")}
    removed = {name: set(urls) for name, urls in reasons.items()}
    filtered = set(jsonl_urls(work / "filtered"))
    return {"extracted": filtered | removed["gopher_quality"] | removed["gopher_repetition"] | removed["c4"]
            | removed["fineweb"], "filtered": filtered, "removed": removed,
            "reasons": {u: f"{name}: {r}" for name, urls in reasons.items() for u, r in urls.items()},
            "deduplicated": set(jsonl_urls(work / "deduplicated"))}


# --- agreement -----------------------------------------------------------------------------------------
def kappa(both_keep: int, only_a: int, only_b: int, both_remove: int) -> float:
    n = both_keep + only_a + only_b + both_remove
    if n == 0:
        return float("nan")
    observed = (both_keep + both_remove) / n
    a_keep, b_keep = (both_keep + only_a) / n, (both_keep + only_b) / n
    expected = a_keep * b_keep + (1 - a_keep) * (1 - b_keep)
    return (observed - expected) / (1 - expected) if expected < 1 else 1.0


def decisions(judged: set, a_keep: set, b_keep: set) -> dict:
    both = len(judged & a_keep & b_keep)
    only_a = len((judged & a_keep) - b_keep)
    only_b = len((judged & b_keep) - a_keep)
    neither = len(judged - a_keep - b_keep)
    n = max(1, len(judged))
    return {"judged_by_both": len(judged), "both_keep": both, "only_corpusforge_keeps": only_a,
            "only_datatrove_keeps": only_b, "both_remove": neither, "agreement": (both + neither) / n,
            "kappa": kappa(both, only_a, only_b, neither)}


def dedup_quality(dedup_input: set, kept: set, family: dict) -> dict:
    """Against the planted ground truth: a removal is right when a copy of its page family was kept."""
    removed = dedup_input - kept
    kept_families = {family[u] for u in kept}
    right = sum(1 for u in removed if family[u] in kept_families)
    members = Counter(family[u] for u in dedup_input)
    expected = sum(k - 1 for k in members.values())
    return {"input": len(dedup_input), "removed": len(removed), "removed_with_a_kept_copy": right,
            "precision": right / len(removed) if removed else 1.0,
            "planted_duplicates_in_input": expected, "recall": min(right, expected) / expected if expected else 1.0}


def agreement(cf: dict, dt: dict, manifest: dict) -> dict:
    family = {url: row["family"] for url, row in manifest.items()}
    universe = set(manifest)
    cf_extracted = cf["format"]["kept"]
    cf_clean = cf["clean"]["kept"]
    cf_final = cf["dedup"]["kept"]
    out = {
        "extraction": {"corpusforge": len(cf_extracted), "datatrove": len(dt["extracted"]),
                       "jaccard": jaccard(cf_extracted, dt["extracted"]), "of": len(universe)},
        "quality_rules": {"corpusforge": len(cf_clean), "datatrove": len(dt["filtered"]),
                          "jaccard": jaccard(cf_clean, dt["filtered"]),
                          **decisions(cf_extracted & dt["extracted"], cf_clean, dt["filtered"])},
        "dedup": {"corpusforge": dedup_quality(cf_clean, cf_final, family),
                  "datatrove": dedup_quality(dt["filtered"], dt["deduplicated"], family),
                  **decisions(cf_clean & dt["filtered"], cf_final, dt["deduplicated"])},
        "final": {"corpusforge": len(cf_final), "datatrove": len(dt["deduplicated"]),
                  "jaccard_urls": jaccard(cf_final, dt["deduplicated"]),
                  "jaccard_families": jaccard({family[u] for u in cf_final}, {family[u] for u in dt["deduplicated"]})},
    }
    # which rule families explain the disagreements on quality
    only_cf = (cf_extracted & dt["extracted"] & cf_clean) - dt["filtered"]
    only_dt = (cf_extracted & dt["extracted"] & dt["filtered"]) - cf_clean
    out["quality_rules"]["datatrove_filter_when_only_corpusforge_keeps"] = dict(Counter(
        next((name for name, urls in dt["removed"].items() if u in urls), "?") for u in only_cf).most_common())
    out["quality_rules"]["corpusforge_reason_when_only_datatrove_keeps"] = dict(Counter(
        cf["clean"]["removed"].get(u, "?") for u in only_dt).most_common(8))
    language = cf["language"]
    out["quality_rules"]["languages_when_only_corpusforge_keeps"] = dict(Counter(language.get(u, "un") for u in only_cf).most_common(6))
    english = {u for u in cf_extracted & dt["extracted"] if language.get(u) == "en"}
    out["quality_rules"]["english_only"] = decisions(english, cf_clean, dt["filtered"])
    out["quality_rules"]["datatrove_reason_when_only_corpusforge_keeps_english"] = dict(Counter(
        dt["reasons"].get(u, "?") for u in only_cf if language.get(u) == "en").most_common(6))
    # dedup per page family: both sides keep the same number of copies of it (whichever copies)
    both_input = cf_clean & dt["filtered"]
    families = defaultdict(list)
    for u in both_input:
        families[family[u]].append(u)
    repeated = {f: us for f, us in families.items() if len(us) > 1}
    same = sum(1 for us in repeated.values()
               if sum(u in cf_final for u in us) == sum(u in dt["deduplicated"] for u in us))
    out["dedup"]["families_with_copies_in_both_inputs"] = len(repeated)
    out["dedup"]["families_same_kept_count"] = same
    return out


# --- printing ------------------------------------------------------------------------------------------
def throughput_table(docs: int, cores: int, cf: dict, dt: dict | None, before: dict | None = None) -> list[str]:
    lines = [f"{'pipeline':44} {'docs in':>8} {'wall s':>8} {'CPU s':>8} {'docs/s':>8} "
             f"{'docs/s/core (CPU)':>18} {'docs/s/core (wall)':>19}"]

    def row(label, d, r):
        lines.append(f"{label:44} {d:8d} {r['wall']:8.1f} {r['cpu']:8.1f} {d / r['wall']:8.2f} "
                     f"{d / r['cpu']:18.2f} {d / r['wall'] / cores:19.2f}")
    row("corpusforge Format→Clean→Dedup (whole run)", docs, cf)
    if before:
        row("corpusforge --before checkout (whole run)", docs, before)
    if dt:
        row("DataTrove extract+filters+4-stage MinHash", docs, dt)
        lines.append(f"{'ratio corpusforge / DataTrove':44} {'':8} {'':8} {'':8} {'':8} "
                     f"{(docs / cf['cpu']) / (docs / dt['cpu']):18.2f} {dt['wall'] / cf['wall']:19.2f}")
        if before:
            lines.append(f"{'ratio --before checkout / DataTrove':44} {'':8} {'':8} {'':8} {'':8} "
                         f"{(docs / before['cpu']) / (docs / dt['cpu']):18.2f} {dt['wall'] / before['wall']:19.2f}")
    if before:
        lines.append(f"{'ratio corpusforge / --before checkout':44} {'':8} {'':8} {'':8} {'':8} "
                     f"{before['cpu'] / cf['cpu']:18.2f} {before['wall'] / cf['wall']:19.2f}")
    return lines


def stage_table(cf: dict, dt: dict | None, docs: int, dt_result: dict | None) -> list[str]:
    lines = [f"{'stage':44} {'docs in':>8} {'kept':>8} {'wall s':>8} {'CPU s':>8} {'docs/CPU-s':>11}"]
    for stage, s in cf["stages"].items():
        lines.append(f"{'corpusforge ' + stage:44} {s['input_docs']:8d} {s['kept_docs']:8d} {s['wall']:8.1f} "
                     f"{s['cpu']:8.1f} {s['input_docs'] / max(s['cpu'], 1e-9):11.2f}")
    rest = cf["cpu"] - sum(s["cpu"] for s in cf["stages"].values())
    lines.append(f"{'corpusforge JVM start-up, export, report':44} {'':8} {'':8} {'':8} {rest:8.1f}")
    if dt:
        filtered = len(dt_result["filtered"]) if dt_result else 0
        kept = len(dt_result["deduplicated"]) if dt_result else 0
        for stage, s in dt["stages"].items():
            ins, outs = {"filter": (docs, filtered), "signatures": (filtered, filtered),
                         "dedup_filter": (filtered, kept)}.get(stage, (None, None))
            rate = f"{ins / max(s['cpu'], 1e-9):11.2f}" if ins else f"{'':11}"
            lines.append(f"{'DataTrove ' + stage:44} {ins if ins is not None else '':>8} {outs if outs is not None else '':>8} "
                         f"{s['wall']:8.1f} {s['cpu']:8.1f} {rate}")
        minhash = [dt["stages"][k] for k in ("signatures", "buckets", "cluster", "dedup_filter")]
        cpu, wall = sum(m["cpu"] for m in minhash), sum(m["wall"] for m in minhash)
        lines.append(f"{'DataTrove MinHash, 4 stages together':44} {filtered:8d} {kept:8d} {wall:8.1f} {cpu:8.1f} "
                     f"{filtered / max(cpu, 1e-9):11.2f}")
    return lines


def process_table(cf: dict) -> list[str]:
    """corpusforge's CPU per stage by process: Spark's driver (Python), the JVM by thread group, the Python
    workers; the rest of the run (JVM start-up before the first stage, export and report after the last)."""
    kinds = ["driver", "jvm: JIT compiler", "jvm: GC", "jvm: Spark tasks", "jvm: JVM other", "python workers", "other"]
    lines = [f"{'CPU s':28} " + " ".join(f"{k.replace('jvm: ', 'JVM ').replace('JVM JVM', 'JVM'):>16}" for k in kinds)]
    whole = cf.get("by_process") or {}
    staged = {k: 0.0 for k in kinds}
    for stage, s in cf["stages"].items():
        split = s.get("by_process") or {}
        lines.append(f"{'corpusforge ' + stage:28} " + " ".join(f"{split.get(k, 0.0):16.1f}" for k in kinds))
        for k in kinds:
            staged[k] += split.get(k, 0.0)
    for fixed in cf.get("fixed", []):
        for name, split in fixed.items():
            lines.append(f"{'  ' + name:28} " + " ".join(f"{split.get(k, 0.0):16.1f}" for k in kinds))
    lines.append(f"{'start-up, export, report':28} " + " ".join(f"{whole.get(k, 0.0) - staged[k]:16.1f}" for k in kinds))
    lines.append(f"{'whole run':28} " + " ".join(f"{whole.get(k, 0.0):16.1f}" for k in kinds))
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--records", type=int, default=2000, help="HTML documents in the corpus (default 2000)")
    parser.add_argument("--records-per-file", type=int, default=250)
    parser.add_argument("--cores", type=int, default=2)
    parser.add_argument("--work", default=str(Path("/tmp") / "corpusforge-e2e"))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--timeout", type=float, default=20.0, help="DataTrove's per-document extraction timeout")
    parser.add_argument("--skip-datatrove", action="store_true")
    parser.add_argument("--before", metavar="PYTHON",
                        help="also run another checkout's corpusforge on the same corpus in the same run: the python "
                             "of a virtualenv where that checkout is installed (e.g. /work/main/.venv/bin/python); its "
                             "output stays in WORK/corpusforge-before for compare_runs.py")
    parser.add_argument("--skip-classifiers", action="store_true")
    parser.add_argument("--json", help="also write the results as JSON here (besides bench/results/end_to_end.json, "
                                       "which bench/pipeline/cost_model.py reads)")
    args = parser.parse_args()

    become_subreaper()
    work = Path(args.work)
    logs = work / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    corpus = work / f"corpus-{args.records}-{args.records_per_file}-{args.seed}"
    if not (corpus / "BUILD.json").exists():
        subprocess.run([sys.executable, str(HERE / "build_corpus.py"), str(corpus), "--records", str(args.records),
                        "--records-per-file", str(args.records_per_file), "--seed", str(args.seed)], check=True)
    else:
        from build_corpus import describe
        print(describe(json.loads((corpus / "BUILD.json").read_text()), corpus))
    build = json.loads((corpus / "BUILD.json").read_text())
    with gzip.open(corpus / "manifest.jsonl.gz", "rt", encoding="utf-8") as handle:
        manifest = {row["url"]: row for row in map(json.loads, handle)}
    docs = build["documents"]
    load_start = os.getloadavg()[0]
    print(f"\nmachine: {os.cpu_count()} CPUs, load average {load_start:.1f} at start; "
          f"both pipelines on {args.cores} cores", flush=True)

    cf_out = work / "corpusforge"
    if cf_out.exists():
        shutil.rmtree(cf_out)
    print("corpusforge run --to dedup …", flush=True)
    cf = run_corpusforge(corpus, cf_out, "dedup", args.cores, logs, "corpusforge")
    print(f"  corpusforge: {cf['wall']:.1f} s wall, {cf['cpu']:.1f} s CPU (sampled {cf['cpu_sampled']:.1f}, "
          f"rusage {cf['cpu_rusage']:.1f}; {'; '.join(cf['commands'])})", flush=True)

    before = None
    if args.before:
        before_out, before_cwd = work / "corpusforge-before", work / "before-cwd"
        shutil.rmtree(before_out, ignore_errors=True)
        before_cwd.mkdir(exist_ok=True)  # Spark's scratch files land in the command's folder, not the checkout
        print(f"corpusforge run --to dedup with {args.before} …", flush=True)
        before = run_corpusforge(corpus, before_out, "dedup", args.cores, logs, "before", python=args.before,
                                 cwd=before_cwd)
        print(f"  before: {before['wall']:.1f} s wall, {before['cpu']:.1f} s CPU", flush=True)

    dt = None
    if args.skip_datatrove:
        print("DataTrove skipped (--skip-datatrove)")
    elif not DATATROVE_PYTHON.exists():
        print(f"DataTrove skipped: {DATATROVE_PYTHON} is missing (see bench/pipeline/datatrove_end_to_end.py for its set-up)")
    else:
        print("DataTrove …", flush=True)
        dt = run_datatrove(corpus, work / "datatrove", args.cores, logs, args.timeout)
    print(f"load average {os.getloadavg()[0]:.1f} after the side-by-side runs\n")

    results = {"corpus": build, "cores": args.cores, "records": docs, "corpusforge": cf, "datatrove": dt,
               "before": before, "before_python": args.before,
               "load_average_start": load_start, "load_average_after_side_by_side": os.getloadavg()[0]}
    print("=== throughput, same corpus, same run ===")
    print("\n".join(throughput_table(docs, args.cores, cf, dt, before)))
    cf_result = corpusforge_outcome(cf_out)
    dt_result = datatrove_outcome(work / "datatrove") if dt else None
    results["corpusforge_kept"] = {stage: len(v["kept"]) for stage, v in cf_result.items() if stage != "language"}
    if dt_result:
        results["datatrove_kept"] = {"input": docs, "extracted": len(dt_result["extracted"]),
                                     "filtered": len(dt_result["filtered"]), "deduplicated": len(dt_result["deduplicated"])}
    print("\n=== per stage ===")
    print("\n".join(stage_table(cf, dt, docs, dt_result)))

    if before:
        print("\n=== per stage, --before checkout ===")
        print("\n".join(stage_table(before, None, docs, None)))
    print("\n=== corpusforge CPU by process (JVM threads by group) ===")
    print("\n".join(process_table(cf)))
    if before:
        print("\n=== --before checkout CPU by process ===")
        print("\n".join(process_table(before)))
        from compare_runs import count_decisions
        try:
            summary = count_decisions(work / "corpusforge-before", cf_out, ["format", "clean", "dedup"])
        except Exception as err:  # noqa: BLE001 — the throughput figures stand without this comparison
            summary = None
            print(f"\n(decisions not compared: {type(err).__name__}: {err})")
        if summary is not None:
            results["before_vs_after_decisions"] = summary
            print(f"\n=== decisions, --before checkout → this one ===\nformat: {summary['format_texts_changed']} of "
                  f"{summary['format_docs']} kept texts changed")
            for stage, row in summary["stages"].items():
                print(f"{stage:<9} kept {row['kept_before']} → {row['kept_after']} (Jaccard {row['kept_jaccard']:.4f}); "
                      f"decisions changed {row['decisions_changed']}: {row['changed_with_text_changed']} where the "
                      f"extracted text changed, {row['changed_with_same_text']} with the same text")

    print("\n=== documents kept ===")
    print(f"corpusforge: {docs} HTML → format {len(cf_result['format']['kept'])} → clean {len(cf_result['clean']['kept'])}"
          f" → dedup {len(cf_result['dedup']['kept'])}")
    if dt:
        print(f"DataTrove:   {docs} HTML → extracted {len(dt_result['extracted'])} → filters "
              f"{len(dt_result['filtered'])} → minhash {len(dt_result['deduplicated'])}")
        agree = agreement(cf_result, dt_result, manifest)
        results["agreement"] = agree
        print("\n=== agreement ===")
        e, q, d, f = agree["extraction"], agree["quality_rules"], agree["dedup"], agree["final"]
        print(f"extraction (non-empty text): Jaccard of URL sets {e['jaccard']:.3f}")
        print(f"quality rules: kept-set Jaccard {q['jaccard']:.3f}; on the {q['judged_by_both']} documents both judged: "
              f"agreement {q['agreement']:.3f}, kappa {q['kappa']:.3f} (both keep {q['both_keep']}, only corpusforge "
              f"{q['only_corpusforge_keeps']}, only DataTrove {q['only_datatrove_keeps']}, both remove {q['both_remove']})")
        print(f"  where only corpusforge keeps, DataTrove's filter: {q['datatrove_filter_when_only_corpusforge_keeps']}")
        print(f"  where only DataTrove keeps, corpusforge's reason: {q['corpusforge_reason_when_only_datatrove_keeps']}")
        print(f"  languages where only corpusforge keeps: {q['languages_when_only_corpusforge_keeps']}")
        en = q["english_only"]
        print(f"  English pages only ({en['judged_by_both']}): agreement {en['agreement']:.3f}, kappa {en['kappa']:.3f} "
              f"(both keep {en['both_keep']}, only corpusforge {en['only_corpusforge_keeps']}, only DataTrove "
              f"{en['only_datatrove_keeps']}, both remove {en['both_remove']})")
        print(f"  English pages only corpusforge keeps, DataTrove's reason: "
              f"{q['datatrove_reason_when_only_corpusforge_keeps_english']}")
        for name in ("corpusforge", "datatrove"):
            x = d[name]
            print(f"dedup {name:11}: {x['input']} in, {x['removed']} removed, precision {x['precision']:.3f} "
                  f"(removals with a kept copy of the page), recall {x['recall']:.3f} of {x['planted_duplicates_in_input']} "
                  f"planted duplicates")
        print(f"dedup decisions on the {d['judged_by_both']} documents both deduplicated: agreement {d['agreement']:.3f}, "
              f"kappa {d['kappa']:.3f} per document; per page family, {d['families_same_kept_count']} of "
              f"{d['families_with_copies_in_both_inputs']} families with several copies keep as many copies on both sides")
        print(f"final: corpusforge keeps {f['corpusforge']}, DataTrove keeps {f['datatrove']}; Jaccard of kept URLs "
              f"{f['jaccard_urls']:.3f}, of kept page families {f['jaccard_families']:.3f} (the dedups keep different copies)")

    if not args.skip_classifiers:
        stages = corpusforge_stages_available()
        last = "quality" if ("quality" in stages or (ROOT / "jobs" / "quality.py").exists()) else "safety"
        print(f"\n=== corpusforge with classifiers on: run --to {last} (format, clean, dedup resumed) ===", flush=True)
        cls = run_corpusforge(corpus, cf_out, last, args.cores, logs, "classifiers")
        results["classifiers"] = cls
        lines = [f"{'stage':24} {'docs in':>8} {'kept':>8} {'wall s':>8} {'CPU s':>8} {'docs/CPU-s':>11} {'docs/s/core (wall)':>19}"]
        for stage, s in {**cf["stages"], **cls["stages"]}.items():
            lines.append(f"{stage:24} {s['input_docs']:8d} {s['kept_docs']:8d} {s['wall']:8.1f} {s['cpu']:8.1f} "
                         f"{s['input_docs'] / max(s['cpu'], 1e-9):11.2f} {s['input_docs'] / s['wall'] / args.cores:19.2f}")
        print("\n".join(lines))
        for stage, s in cls["stages"].items():
            print(f"  {stage} removed: {s['removed_by_reason']}")
        print(f"  whole command: {cls['wall']:.1f} s wall, {cls['cpu']:.1f} s CPU ({'; '.join(cls['commands'])})")

    path = write_result("end_to_end", results, args.json)
    print(f"\nresults: {path}{'; ' + args.json if args.json else ''}; logs: {logs}")


if __name__ == "__main__":
    main()
