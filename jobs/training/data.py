"""Reading labelled data for training: JSONL/CSV/TSV files, passages of long texts, and weak labels
from a lexicon. Bad lines are counted and reported, never silently dropped."""
from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from corpusforge.jobs.training.recipes import RecipeError, Source, WeakLabels
from corpusforge.resources import resolve
from corpusforge.udfs.block_words import WordList, find_words
from corpusforge.udfs.classifier_training import Examples, stratified_sample

def read_jsonl(path: Path, command: str) -> list[dict]:
    """The JSON objects of a JSONL file; lines that are not JSON are counted and reported, never silently dropped."""
    rows, bad = [], 0
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            if line.strip():
                try:
                    rows.append(json.loads(line))
                except json.JSONDecodeError:
                    bad += 1
    if bad:
        print(f"{command}: {path}: {bad} lines are not JSON and were skipped", file=sys.stderr, flush=True)
    return rows


def read_table(path: Path, source: Source) -> pd.DataFrame:
    """A data file as strings; bad lines are counted and reported, never silently dropped."""
    fmt = source.format or {".csv": "csv", ".tsv": "tsv", ".jsonl": "jsonl", ".json": "jsonl"}.get(path.suffix)
    if fmt is None:
        raise RecipeError(f"{path}: cannot tell the format from the name; set format: csv|tsv|jsonl.")
    if not path.is_file():
        raise RecipeError(f"data file {path} does not exist (relative paths are under --data-root).")
    if fmt == "jsonl":
        return pd.DataFrame(read_jsonl(path, "train-classifier"))
    options = dict(dtype=str, keep_default_na=False, encoding="utf-8-sig", on_bad_lines="warn")
    if source.columns:
        options.update(header=None, names=source.columns)
    if fmt == "tsv":
        options.update(sep="\t", quoting=csv.QUOTE_NONE)
    return pd.read_csv(path, **options)


def source_examples(source: Source, data_root: Path, seed: int, cap: int | None) -> Examples:
    path = Path(source.path) if Path(source.path).is_absolute() else data_root / source.path
    table = read_table(path, source)
    missing = [c for c in (source.text, source.label) if c and c not in table.columns]
    if missing:
        raise RecipeError(f"{path}: no column {missing}; columns are {list(table.columns)}.")
    if source.where:
        for column, values in source.where.items():
            if column not in table.columns:
                raise RecipeError(f"{path}: no column {column!r} for `where`; columns are {list(table.columns)}.")
            table = table[table[column].astype(str).isin(values)]
    held_out = np.zeros(len(table), dtype=bool)
    if source.holdout:
        if source.holdout.column not in table.columns:
            raise RecipeError(f"{path}: no column {source.holdout.column!r} for `holdout`.")
        held_out = table[source.holdout.column].astype(str).isin(source.holdout.values).to_numpy()
    texts = table[source.text].astype(str).str.strip()
    if source.weak_labels is None:
        if source.label is None:
            raise RecipeError(f"{path}: a source needs a label column or weak_labels.")
        values = table[source.label].astype(str).str.strip()
        labels = pd.Series(np.where(values.isin(source.positive), 1,
                                    np.where(values.isin(source.negative) if source.negative is not None
                                             else True, 0, -1)))
        texts, labels = texts.tolist(), labels.to_numpy()
    else:
        pieces = [passages(t, source.passages) if source.passages else [t] for t in texts]
        held_out = np.repeat(held_out, [len(p) for p in pieces])
        texts = [p for piece in pieces for p in piece]
        labels = weak_labels(texts, source.weak_labels)
    keep = np.asarray([bool(t) for t in texts], dtype=bool) & (labels >= 0)
    texts = [t for t, k in zip(texts, keep) if k]
    labels, held_out = labels[keep].reshape(-1, 1), held_out[keep]
    # held-out rows are all kept; a cap applies to the others
    rest = np.flatnonzero(~held_out)
    limit = min(v for v in (source.max_examples, cap, len(rest)) if v is not None)
    if source.keep_positives:
        positives, negatives = rest[labels[rest, 0] == 1], rest[labels[rest, 0] == 0]
        room = max(0, limit - len(positives))
        chosen = np.concatenate([positives, negatives[stratified_sample(labels[negatives], room, seed)]])
    else:
        chosen = rest[stratified_sample(labels[rest], limit, seed)]
    chosen = np.sort(np.concatenate([chosen, np.flatnonzero(held_out)]))
    name = source.name or path.name
    roles = ["test" if held_out[i] else source.role for i in chosen]
    groups = [f"{source.group or name}, held out" if held_out[i] else (source.group or "") for i in chosen]
    print(f"train-classifier: {name} ({source.language}, {source.role}): {len(texts)} labelled rows, "
          f"{int(labels.sum())} positive, {int(held_out.sum())} held out; using {len(chosen)}", file=sys.stderr)
    return Examples([texts[i] for i in chosen], labels[chosen], [source.language] * len(chosen),
                    [name] * len(chosen), roles, groups, weight=[source.weight] * len(chosen),
                    windows=[source.windows or 0] * len(chosen))


def passages(text: str, max_chars: int) -> list[str]:
    """Consecutive lines packed into passages of about max_chars, so a label describes what the
    model's window sees rather than a whole long document."""
    out, current = [], ""
    for line in text.splitlines():
        line = line.strip()
        if not line:
            continue
        if current and len(current) + len(line) > max_chars:
            out.append(current)
            current = ""
        current = f"{current}\n{line}" if current else line
        while len(current) > 2 * max_chars:
            out.append(current[:max_chars])
            current = current[max_chars:]
    if current:
        out.append(current)
    return out


def weak_labels(texts: list[str], rule: WeakLabels) -> np.ndarray:
    """1, 0 or -1 (ambiguous, left out) from the number of distinct lexicon words in each text and the
    share of its characters they cover."""
    lines = [line for f in rule.files for line in Path(resolve(f)).read_text(encoding="utf-8").splitlines()]
    excluded = set(rule.exclude)
    word_list = WordList.from_lines([w for w in lines if w.strip().lower() not in excluded], rule.substrings)
    found = [find_words(t, word_list) for t in texts]
    distinct = np.asarray([len(words) for words, _, _ in found])
    density = np.asarray([matched / total if total else 0.0 for _, matched, total in found])
    positive = (distinct >= rule.positive_min_distinct) & (density >= rule.positive_min_density)
    return np.where(positive, 1, np.where(distinct <= rule.negative_max_distinct, 0, -1))
