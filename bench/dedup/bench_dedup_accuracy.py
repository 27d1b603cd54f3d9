"""Accuracy of the Dedup stage against exact 5-gram Jaccard, on real pages with planted near-duplicates.

Corpus (all text is real; only the mutations are ours):
  - the real pages of ../shared/data/warc (Format output),
  - for each of them 1–3 planted variants of varied strength: word edits, inserted passages taken from
    other pages, a shared site boilerplate block added, paragraphs reordered, or the end cut off —
    strengths drawn so that similarities spread on both sides of 0.7,
  - ../shared/data/neardup: cs336 fuzzy-duplicate documents, the Clough & Stevenson answers and
    originals, 1,000 MSRP sentence pairs and 1,000 PAWS-X Chinese pairs (high overlap, often not
    duplicates).
Ground truth: exact Jaccard of the documents' 5-gram shingle sets (udfs.shingles, the same
normalisation as the stage), every pair, through a sparse matrix product of the shingle hashes;
removals are checked with the unhashed shingle sets (bench/common.py shingle_jaccard).

Metrics:
  - pair recall at J ≥ 0.7: share of true pairs whose two documents end up in one component,
  - removal precision: share of removed documents whose exact Jaccard with some member of their
    component is ≥ 0.7.
Side by side in the same run: the stage with the default settings (25 bands × 5 rows, exact
verification), with estimated verification, with datasketch's optimum banding (14 × 9), and the
plain datasketch MinHashLSH(threshold=0.7) in one process (candidates unverified, union-find).

Usage: .venv/bin/python bench/dedup/bench_dedup_accuracy.py [--workdir /tmp/dedup-bench] [--variants 3]
"""
from __future__ import annotations

import argparse
import csv
import random
import shutil
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
from scipy import sparse

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # bench/, for common.py

from common import SHARED, jaccard, stage_shingles  # noqa: E402
from dedup_corpus import DUMPS, document_row, real_pages, write_stage_input  # noqa: E402

from corpusforge.udfs.shingles import TokenBatch, shingle_hashes, shingle_keys, shingle_hash32, tokens, unique_per_document  # noqa: E402

MUTATIONS = ["edit", "insert", "boilerplate", "reorder", "truncate"]


def mutate(text: str, kind: str, rng: random.Random, donors: list[str], boilerplate: str) -> str:
    words = text.split()
    if kind == "edit":  # replace a share of words
        share = rng.uniform(0.01, 0.12)
        for pos in rng.sample(range(len(words)), max(1, int(len(words) * share))):
            words[pos] = rng.choice(donors[rng.randrange(len(donors))].split() or ["x"])
        return " ".join(words)
    if kind == "insert":  # passages of another page inserted
        extra = rng.choice(donors).split()
        size = max(5, int(len(words) * rng.uniform(0.05, 0.6)))
        start = rng.randrange(max(1, len(extra) - size))
        pos = rng.randrange(len(words) + 1)
        return " ".join(words[:pos] + extra[start:start + size] + words[pos:])
    if kind == "boilerplate":  # the same site chrome around the page
        return f"{boilerplate} {text} {boilerplate[: rng.randrange(len(boilerplate))]}"
    if kind == "reorder":  # paragraphs (or 40-word chunks) in another order
        chunks = [words[i:i + 40] for i in range(0, len(words), 40)]
        for _ in range(rng.randint(1, 3)):
            i, j = rng.randrange(len(chunks)), rng.randrange(len(chunks))
            chunks[i], chunks[j] = chunks[j], chunks[i]
        return " ".join(w for c in chunks for w in c)
    keep = rng.uniform(0.5, 0.98)  # truncate
    return " ".join(words[: max(5, int(len(words) * keep))])


def neardup_documents() -> list[tuple[str, str, str]]:
    """(id, text, language) from ../shared/data/neardup."""
    base, docs = SHARED / "neardup", []
    for f in sorted((base / "cs336-fixtures" / "documents_with_fuzzy_duplicates").glob("*")):
        docs.append((f"cs336-{f.stem}", f.read_text(errors="replace"), "en"))
    for f in sorted((base / "clough-stevenson" / "corpus-20090418").glob("*.txt")):
        docs.append((f"clough-{f.stem}", f.read_text(encoding="latin-1"), "en"))
    with open(base / "msrp" / "msr_paraphrase_test.txt", encoding="utf-8-sig") as handle:
        for n, row in enumerate(csv.reader(handle, delimiter="\t", quoting=csv.QUOTE_NONE)):
            if n == 0 or len(row) < 5:
                continue
            if n > 1000:
                break
            docs += [(f"msrp-{n}-1", row[3], "en"), (f"msrp-{n}-2", row[4], "en")]
    with open(base / "zh-sentence-pairs" / "paws-x-zh_dev.tsv", encoding="utf-8") as handle:
        for n, row in enumerate(csv.reader(handle, delimiter="\t", quoting=csv.QUOTE_NONE)):
            if n >= 1000:
                break
            docs += [(f"paws-{n}-1", row[0], "zh"), (f"paws-{n}-2", row[1], "zh")]
    return docs


def build_corpus(workdir: Path, variants: int, seed: int) -> tuple[Path, list[dict]]:
    rng = random.Random(seed)
    pages = real_pages(workdir)
    texts = [p["text"] for p in pages]
    boilerplate = " ".join(rng.choice(texts[0].split()) for _ in range(120))
    rows = []
    for n, page in enumerate(pages):
        rows.append(document_row(f"page{n:04d}", page["text"], DUMPS[rng.randrange(3)], page["language"]))
        for v in range(rng.randint(1, variants)):
            kind = rng.choice(MUTATIONS)
            text = mutate(page["text"], kind, rng, texts, boilerplate)
            rows.append(document_row(f"page{n:04d}-{kind}{v}", text, DUMPS[rng.randrange(3)], page["language"]))
    for id_, text, language in neardup_documents():
        rows.append(document_row(id_, text, DUMPS[rng.randrange(3)], language))
    path = workdir / "accuracy_corpus"
    shutil.rmtree(path, ignore_errors=True)
    return write_stage_input(path, [rows[i::4] for i in range(4)]), rows


def true_pairs(rows: list[dict], threshold: float) -> dict[tuple[str, str], float]:
    """Every pair with exact 5-gram Jaccard ≥ threshold (sparse product of shingle incidence)."""
    ids = [r["id"] for r in rows]
    toks = [tokens(r["text"]) for r in rows]
    values, offsets = unique_per_document(*shingle_hashes(TokenBatch.from_token_lists(toks)))
    doc_of = np.repeat(np.arange(len(rows)), np.diff(offsets))
    _, columns = np.unique(values, return_inverse=True)
    x = sparse.csr_matrix((np.ones(len(values), dtype=np.int32), (doc_of, columns)))
    inter = (x @ x.T).tocoo()
    sizes = np.diff(offsets)
    mask = inter.row < inter.col
    a, b, common = inter.row[mask], inter.col[mask], inter.data[mask]
    jac = common / (sizes[a] + sizes[b] - common)
    keep = jac >= threshold
    return {(ids[i], ids[j]): float(s) for i, j, s in zip(a[keep], b[keep], jac[keep])}


def exact_jaccard_lookup(rows):
    """id, id → exact 5-gram Jaccard of the two documents (shingle sets cached per id)."""
    texts = {r["id"]: r["text"] for r in rows}
    cache = {}

    def sh(i):
        if i not in cache:
            cache[i] = stage_shingles(texts[i])
        return cache[i]

    return lambda i, j: jaccard(sh(i), sh(j))


def score(components: dict[str, str], removed: set[str], pairs: dict, exact_jaccard) -> dict:
    """Pair recall (same component) and removal precision (J ≥ 0.7 with some component member)."""
    found = sum(1 for (i, j) in pairs if components.get(i, i) == components.get(j, j))
    by_bucket = defaultdict(lambda: [0, 0])
    for (i, j), s in pairs.items():
        bucket = min(0.95, 0.7 + 0.05 * int((s - 0.7) / 0.05 + 1e-9))
        by_bucket[bucket][1] += 1
        by_bucket[bucket][0] += components.get(i, i) == components.get(j, j)
    members = defaultdict(list)
    for doc, comp in components.items():
        members[comp].append(doc)
    good = sum(1 for d in removed if any(m != d and exact_jaccard(d, m) >= 0.7 for m in members[components[d]]))
    return {"pairs": len(pairs), "recall": found / max(1, len(pairs)), "removed": len(removed),
            "precision": good / max(1, len(removed)),
            "recall_by_j": {f"{k:.2f}": f"{v[0]}/{v[1]}" for k, v in sorted(by_bucket.items())}}


def stage_components(spark, cfg, source: Path, out: Path) -> tuple[dict, set, float]:
    from corpusforge.jobs.dedup import DedupStage
    from corpusforge.jobs.stage import run_stage
    shutil.rmtree(out, ignore_errors=True)
    t0 = time.monotonic()
    run_stage(spark, cfg, DedupStage(), str(source), str(out))
    seconds = time.monotonic() - t0
    removed = pq.read_table(out / "removed", columns=["id", "duplicate_of", "component_id"]).to_pylist()
    components = {}
    for r in removed:
        components[r["id"]] = r["component_id"]
        components[r["duplicate_of"]] = r["component_id"]
    return components, {r["id"] for r in removed}, seconds


def datasketch_components(rows, threshold: float) -> tuple[dict, set, float]:
    """The single-process tool: MinHashLSH(threshold) candidates, unverified, union-find, keep newest."""
    from datasketch import MinHash, MinHashLSH
    t0 = time.monotonic()
    lsh = MinHashLSH(threshold=threshold, num_perm=128)
    hashes = {}
    for r in rows:
        keys = shingle_keys(tokens(r["text"]))
        m = MinHash(num_perm=128, seed=1, hashfunc=shingle_hash32)
        m.update_batch(keys or [r["text"].encode()])
        hashes[r["id"]] = m
        lsh.insert(r["id"], m)
    parent = {r["id"]: r["id"] for r in rows}

    def find(x):
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x
    for id_, m in hashes.items():
        for other in lsh.query(m):
            a, b = find(id_), find(other)
            if a != b:
                parent[max(a, b)] = min(a, b)
    order = {r["id"]: (-r["dump_order"], r["id"]) for r in rows}
    groups = defaultdict(list)
    for r in rows:
        groups[find(r["id"])].append(r["id"])
    components, removed = {}, set()
    for root, docs in groups.items():
        if len(docs) > 1:
            winner = min(docs, key=order.get)
            for d in docs:
                components[d] = root
            removed.update(d for d in docs if d != winner)
    return components, removed, time.monotonic() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/dedup-bench"))
    parser.add_argument("--variants", type=int, default=3)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    source, rows = build_corpus(args.workdir, args.variants, args.seed)
    pairs = true_pairs(rows, 0.7)
    exact_jaccard = exact_jaccard_lookup(rows)
    print(f"corpus: {len(rows):,} documents, {len(pairs):,} pairs with exact 5-gram Jaccard ≥ 0.7\n")

    from corpusforge.conf import load_config
    from corpusforge.jobs.session import build_session
    base = ["spark.master=local[2]", "spark.shuffle_partitions=8", "output.jsonl=false"]
    spark = build_session(load_config(None, base))
    settings = [("corpusforge default: 25×5, exact verify", []),
                ("corpusforge 25×5, estimated verify", ["dedup.verify=estimated"]),
                ("corpusforge 14×9 (datasketch optimum), exact", ["dedup.bands=14", "dedup.rows=9"])]
    print(f"{'':46s} {'recall@0.7':>10s} {'precision':>9s} {'removed':>8s} {'seconds':>8s}  recall by exact J")
    for name, sets in settings:
        comps, removed, seconds = stage_components(spark, load_config(None, base + sets), source,
                                                   args.workdir / "accuracy_out")
        s = score(comps, removed, pairs, exact_jaccard)
        print(f"{name:46s} {s['recall']:10.4f} {s['precision']:9.4f} {s['removed']:8,} {seconds:8.1f}  {s['recall_by_j']}",
              flush=True)
    spark.stop()
    comps, removed, seconds = datasketch_components(rows, 0.7)
    s = score(comps, removed, pairs, exact_jaccard)
    print(f"{'datasketch MinHashLSH(0.7), unverified':46s} {s['recall']:10.4f} {s['precision']:9.4f} "
          f"{s['removed']:8,} {seconds:8.1f}  {s['recall_by_j']}")


if __name__ == "__main__":
    main()
