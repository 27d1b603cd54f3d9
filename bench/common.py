"""What the benchmarks share: where things are, the reference Jaccard, the Format output of the shared
WARCs (run once, cached), real document texts, and where results are written.

Benchmarks live in bench/<area>/ and are run as `python bench/<area>/<script>.py`; they import this
module after putting bench/ on sys.path. Measuring processes (CPU and memory of a process tree, read
from /proc) is bench/proc_stats.py.
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent                               # the repository (the installed package's sources)
SHARED = ROOT.parent / "shared" / "data"          # ../shared/data, read in place (never copied)
RESULTS = BENCH / "results"                       # bench/results/<name>.json
DATATROVE_PYTHON = BENCH / ".venv-datatrove" / "bin" / "python"  # the baselines' own virtualenv


# --- the reference Jaccard ------------------------------------------------------------------------------
def jaccard(a: set, b: set) -> float:
    """|a ∩ b| / |a ∪ b|; two empty sets are identical (1.0)."""
    union = a | b
    return len(a & b) / len(union) if union else 1.0


def shingle_set(tokens: list[str], n: int = 5) -> set[tuple[str, ...]]:
    """Every n-gram of a token list as a tuple; a list shorter than n is one shingle of all its tokens."""
    return {tuple(tokens[i:i + n]) for i in range(max(1, len(tokens) - n + 1))}


def stage_shingles(text: str | None, n: int = 5) -> set[tuple[str, ...]]:
    """The exact (unhashed) n-gram shingle set of a text, tokenised as the Dedup stage tokenises
    (corpusforge.udfs.shingles.tokens: NFKC, lower case, numbers folded, CJK/Thai characters one by one)."""
    from corpusforge.udfs.shingles import tokens

    return shingle_set(tokens(text), n)


def shingle_jaccard(a: str | None, b: str | None, n: int = 5) -> float:
    """Exact n-gram Jaccard of two texts with the Dedup stage's tokens: the ground truth the stage's
    MinHash estimate and verification are measured against."""
    return jaccard(stage_shingles(a, n), stage_shingles(b, n))


# --- the Format stage's output over the shared WARCs, run once -----------------------------------------
def shared_warcs(*folders: str) -> list[str]:
    """Every *.warc.gz under ../shared/data/warc/<folder> (recursively; WET files are not WARC)."""
    return [str(p) for folder in folders for p in sorted((SHARED / "warc" / folder).rglob("*.warc.gz"))]


def format_output(workdir: Path, folders: tuple[str, ...] = ("built", "real"), cores: int = 2) -> Path:
    """`corpusforge format` over the shared WARCs of `folders`, once: WORKDIR/format_<folders>, reused
    while its _SUCCESS is there (delete the folder to redo it after a change to the Format stage)."""
    out = Path(workdir) / f"format_{'_'.join(folders)}"
    if not (out / "_SUCCESS").exists():
        print(f"format ../shared/data/warc/{{{','.join(folders)}}} → {out}", flush=True)
        cmd = [sys.executable, "-m", "corpusforge", "format", "--input", *shared_warcs(*folders), "--output", str(out),
               "--set", f"spark.master=local[{cores}]", "--set", "output.jsonl=false"]
        done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
        if done.returncode != 0:
            raise SystemExit(f"corpusforge format failed:\n{done.stderr[-3000:]}")
    return out


# --- real texts -----------------------------------------------------------------------------------------
def real_texts(limit: int) -> list[str]:
    """At most `limit` real documents, every k-th of: the gold main texts of ../shared/data/warc/built
    (English and Chinese article and forum pages) and the Chinese general-web documents of
    ../shared/data/text/skywork-zh-general.jsonl."""
    texts = []
    for path in sorted((SHARED / "warc" / "built").glob("*.groundtruth.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            text = row.get("gold_main_content") or row.get("gold_article_body")
            if text and text.strip():
                texts.append(text)
    for line in (SHARED / "text" / "skywork-zh-general.jsonl").read_text(encoding="utf-8").splitlines():
        texts.append(json.loads(line)["text"])
    step = max(1, len(texts) // limit)
    return texts[::step][:limit]


# --- results --------------------------------------------------------------------------------------------
def write_result(name: str, data, *also: str | Path | None) -> Path:
    """Write `data` as indented JSON to bench/results/<name>.json (and to every path of `also` that is
    not None); sets are written as sorted lists, other non-JSON values as str. Returns bench/results/<name>.json."""
    text = json.dumps(data, indent=2, default=lambda o: sorted(o) if isinstance(o, (set, frozenset)) else str(o))
    path = RESULTS / f"{name}.json"
    for target in (path, *(Path(p) for p in also if p is not None)):
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
    return path
