"""Deterministic builder of coherent / spliced / multi-piece documents from the real long documents of
../shared/data/long (read in place), for the coherence filter's benchmark. Written by the research
helper that measured the first coherence features (split and construction unchanged, so its figures
and ours read the same documents).

- coherent : the original text (Project Gutenberg header and licence footer cut by default).
- spliced  : a prefix of doc A + a later part of doc B (same domain and language, a different work),
             joined at a random (seeded) line boundary of A, B's part starting at a random line of
             B; total length ~= len(A), so length says nothing about the label.
- multi    : 3-4 pieces of different works (same domain and language where possible), random
             lengths and random start lines, total ~= len(A).

Split: by *work* (chapters of one novel, sections of one textbook, files of one repository share a
work), stratified by (domain, language), seeded; negatives are built inside a split only.
"""
from __future__ import annotations

import hashlib
import json
import random
import re
from dataclasses import dataclass, asdict
from pathlib import Path

DOMAINS = ("novels", "papers", "textbooks", "patents", "legal", "code", "encyclopedia")


def load_docs(data_dir: str | Path, strip_gutenberg: bool = True) -> list[dict]:
    docs = []
    for dom in DOMAINS:
        p = Path(data_dir) / f"{dom}.jsonl"
        if not p.exists():
            continue
        for line in p.open(encoding="utf-8"):
            d = json.loads(line)
            if strip_gutenberg:
                d["text"] = strip_gutenberg_boilerplate(d["text"])
            docs.append(d)
    return docs


_PG_START = re.compile(r"^\*\*\* ?START OF (THE|THIS) PROJECT GUTENBERG.*$", re.M | re.I)
_PG_END = re.compile(r"^\*\*\* ?END OF (THE|THIS) PROJECT GUTENBERG.*$", re.M | re.I)


def strip_gutenberg_boilerplate(text: str) -> str:
    """Cut at the '*** START OF' / '*** END OF' lines when both exist; else return text unchanged."""
    s, e = _PG_START.search(text), _PG_END.search(text)
    if s and e and s.end() < e.start():
        return text[s.end():e.start()].strip("\n")
    return text


def work_of(doc: dict) -> str:
    """Grouping key: documents of one work never sit on both sides of the split and are never
    spliced together."""
    dom, repo, title = doc["domain"], doc.get("source_repo", ""), doc.get("title", "")
    if dom == "novels" and repo == "tennessine/corpus":
        m = re.match(r"《([^》]+)》", title)
        return "novel:" + (m.group(1) if m else doc["id"])
    if dom in ("novels", "textbooks", "code"):
        return f"{dom}:{repo}"
    if dom == "legal" and "民法典" in title:
        return "legal:民法典"
    return f"{dom}:{doc['id']}"


def split_by_work(docs: list[dict], seed: int = 0) -> dict[str, str]:
    """id -> 'dev' | 'test'. Per (domain, language): works shuffled (seeded), then assigned greedily
    to the side with fewer documents so far (ties -> dev)."""
    rng = random.Random(seed)
    strata: dict[tuple, dict[str, list[str]]] = {}
    for d in docs:
        strata.setdefault((d["domain"], d["language"]), {}).setdefault(work_of(d), []).append(d["id"])
    out = {}
    for key in sorted(strata):
        works = sorted(strata[key])
        rng.shuffle(works)
        works.sort(key=lambda w: -len(strata[key][w]))  # big works first, stable within size
        n = {"dev": 0, "test": 0}
        for w in works:
            side = "dev" if n["dev"] <= n["test"] else "test"
            for i in strata[key][w]:
                out[i] = side
            n[side] += len(strata[key][w])
    return out


def _line_start_at_or_after(text: str, pos: int) -> int:
    if pos <= 0:
        return 0
    nl = text.find("\n", pos)
    return len(text) if nl == -1 else nl + 1


@dataclass
class TestDoc:
    id: str
    kind: str            # coherent | spliced | multi
    domain: str
    language: str
    split: str
    text: str
    sources: list        # [{id, start, end}] char ranges of the source documents
    joins: list          # char offsets of the joins in text


def _seed_for(*parts) -> int:
    return int(hashlib.sha256("|".join(map(str, parts)).encode()).hexdigest()[:12], 16)


def _partners(a: dict, pool: list[dict], fallback_any_domain: bool) -> list[dict]:
    wa = work_of(a)
    same = [d for d in pool if d["domain"] == a["domain"] and d["language"] == a["language"]
            and work_of(d) != wa]
    if same or not fallback_any_domain:
        return same
    return [d for d in pool if d["language"] == a["language"] and work_of(d) != wa]


def build(docs: list[dict], split: dict[str, str], seed: int = 0, multi_every: int = 2,
          min_frac: float = 0.2, max_frac: float = 0.8) -> list[TestDoc]:
    """All test documents, deterministic for a seed. One spliced doc per source doc that has a
    partner in its split; one multi-piece doc per `multi_every` source docs."""
    out: list[TestDoc] = []
    by_split: dict[str, list[dict]] = {}
    for d in docs:
        by_split.setdefault(split[d["id"]], []).append(d)
    for d in sorted(docs, key=lambda x: x["id"]):
        sp = split[d["id"]]
        out.append(TestDoc(d["id"], "coherent", d["domain"], d["language"], sp, d["text"],
                           [{"id": d["id"], "start": 0, "end": len(d["text"])}], []))
    for idx, a in enumerate(sorted(docs, key=lambda x: x["id"])):
        sp = split[a["id"]]
        pool = sorted(by_split[sp], key=lambda x: x["id"])
        rng = random.Random(_seed_for(seed, "splice", a["id"]))
        partners = _partners(a, pool, fallback_any_domain=True)
        A = a["text"]
        if partners:
            b = rng.choice(partners)
            B = b["text"]
            cut = _line_start_at_or_after(A, int(len(A) * rng.uniform(min_frac, max_frac)))
            bs = _line_start_at_or_after(B, int(len(B) * rng.uniform(min_frac, max_frac)))
            want = max(len(A) - cut, 1)
            be = min(len(B), _line_start_at_or_after(B, bs + want))
            if cut < len(A) and bs < len(B):
                text = A[:cut] + B[bs:be]
                out.append(TestDoc(f"{a['id']}+{b['id']}", "spliced", a["domain"], a["language"],
                                   sp, text,
                                   [{"id": a["id"], "start": 0, "end": cut},
                                    {"id": b["id"], "start": bs, "end": be}], [cut]))
        if idx % multi_every == 0:
            rng = random.Random(_seed_for(seed, "multi", a["id"]))
            cands = _partners(a, pool, fallback_any_domain=True)
            # distinct works among the partners
            seen, others = set(), []
            for d in rng.sample(cands, len(cands)):
                if work_of(d) not in seen:
                    seen.add(work_of(d))
                    others.append(d)
            n = rng.choice((3, 4))
            others = others[:n - 1]
            if len(others) < 2:
                continue
            pieces = [a] + others
            weights = [rng.uniform(1.0, 3.0) for _ in pieces]
            total = len(A)
            parts, srcs, joins, pos = [], [], [], 0
            for j, (d, w) in enumerate(zip(pieces, weights)):
                T = d["text"]
                want = max(2000, int(total * w / sum(weights)))
                st = 0 if j == 0 else _line_start_at_or_after(
                    T, int(max(0, len(T) - want) * rng.uniform(0.0, 1.0)))
                en = min(len(T), _line_start_at_or_after(T, st + want))
                if en <= st:
                    continue
                if parts:
                    joins.append(pos)
                parts.append(T[st:en])
                srcs.append({"id": d["id"], "start": st, "end": en})
                pos += en - st
            if len(parts) >= 3:
                out.append(TestDoc("multi:" + "+".join(s["id"] for s in srcs), "multi",
                                   a["domain"], a["language"], sp, "".join(parts), srcs, joins))
    return out


def save(tdocs: list[TestDoc], path: str | Path) -> None:
    with open(path, "w", encoding="utf-8") as f:
        for t in tdocs:
            f.write(json.dumps(asdict(t), ensure_ascii=False) + "\n")


def load(path: str | Path) -> list[TestDoc]:
    return [TestDoc(**json.loads(l)) for l in open(path, encoding="utf-8")]


if __name__ == "__main__":  # python bench/longtext/spliced.py DATA_DIR OUT.jsonl [seed]
    import sys
    from collections import Counter

    data, outp = sys.argv[1], sys.argv[2]
    seed = int(sys.argv[3]) if len(sys.argv) > 3 else 0
    docs = load_docs(data)
    sp = split_by_work(docs, seed)
    td = build(docs, sp, seed)
    save(td, outp)
    c = Counter((t.split, t.kind, t.domain, t.language) for t in td)
    for k in sorted(c):
        print(*k, c[k], sep="\t")
    print("total", len(td))
