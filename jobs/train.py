"""`corpusforge train-classifier`: labelled JSONL/CSV/TSV → a classifier directory + metrics.json.

The report fine-tunes BERT classifiers on labelled data (toxicity on public toxic-comment data,
pornography on documents labelled by an automatic service). Training runs on one machine with torch,
not on Spark: labelled sets are small, and the frozen-encoder vectors it needs are computed once and
cached. What to train on is a recipe (YAML, several sources, each with its columns, which label
values are positive, its language for reporting, an optional cap, and optional weak labels from a
lexicon) or, for one file, the command-line flags. Hyper-parameters come from the `training`
section of the conf.
"""
from __future__ import annotations

import csv
import json
import sys
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from corpusforge.conf import Config, ConfigError
from corpusforge.resources import resolve
from corpusforge.udfs.block_words import WordList, find_words
from corpusforge.udfs.classifier_training import Examples, TrainingOptions, stratified_sample, train_classifier


class RecipeError(ValueError):
    """A recipe or data file that cannot be used; the message names it and the fix."""


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class WeakLabels(Strict):
    """Labels from a lexicon instead of annotators: ≥ positive_min_distinct different listed words is
    positive, ≤ negative_max_distinct is negative, anything between is left out as ambiguous."""
    files: list[str]
    substrings: bool
    exclude: list[str] = []
    positive_min_distinct: int = Field(gt=0)
    negative_max_distinct: int = Field(ge=0)


class Source(Strict):
    path: str
    format: Literal["csv", "tsv", "jsonl"] | None = None  # None: from the file name
    text: str                                  # text column
    label: str | None = None                   # label column (None with weak_labels)
    positive: list[str] = []                   # label values that mean positive
    negative: list[str] | None = None          # label values that mean negative; None: every other value
    columns: list[str] | None = None           # column names of a file without a header line
    language: str                              # for per-language figures
    role: Literal["train", "test"] = "train"   # test: held out whole (e.g. an official dev split)
    max_examples: int | None = Field(default=None, gt=0)
    passages: int | None = Field(default=None, gt=0)  # cut long texts into passages of ~this many chars
    keep_positives: bool = False               # under a cap, keep every positive and sample the negatives
    weak_labels: WeakLabels | None = None


class Recipe(Strict):
    name: str
    output: str
    direction: Literal["above", "below"] = "above"
    sources: list[Source]


def load_recipe(path: str | Path) -> Recipe:
    try:
        return Recipe.model_validate(yaml.safe_load(Path(path).read_text(encoding="utf-8")))
    except FileNotFoundError:
        raise RecipeError(f"recipe {path} does not exist.") from None
    except (yaml.YAMLError, ValidationError) as err:
        raise RecipeError(f"recipe {path} is not valid: {err}") from None


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
        texts = [p for t in texts for p in (passages(t, source.passages) if source.passages else [t])]
        labels = weak_labels(texts, source.weak_labels)
    keep = np.asarray([bool(t) for t in texts]) & (labels >= 0)
    texts = [t for t, k in zip(texts, keep) if k]
    labels = labels[keep].reshape(-1, 1)
    limit = min(v for v in (source.max_examples, cap, len(texts)) if v is not None)
    if source.keep_positives:
        positives, negatives = np.flatnonzero(labels[:, 0] == 1), np.flatnonzero(labels[:, 0] == 0)
        room = max(0, limit - len(positives))
        chosen = np.sort(np.concatenate([positives, negatives[stratified_sample(labels[negatives], room, seed)]]))
    else:
        chosen = stratified_sample(labels, limit, seed)
    print(f"train-classifier: {path.name} ({source.language}, {source.role}): {len(texts)} labelled rows, "
          f"{int(labels.sum())} positive; using {len(chosen)}", file=sys.stderr)
    return Examples([texts[i] for i in chosen], labels[chosen], [source.language] * len(chosen),
                    [path.name] * len(chosen), [source.role] * len(chosen))


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
    """1, 0 or -1 (ambiguous, left out) from the number of distinct lexicon words in each text."""
    lines = [line for f in rule.files for line in Path(resolve(f)).read_text(encoding="utf-8").splitlines()]
    excluded = set(rule.exclude)
    word_list = WordList.from_lines([w for w in lines if w.strip().lower() not in excluded], rule.substrings)
    distinct = np.asarray([len(find_words(t, word_list)[0]) for t in texts])
    return np.where(distinct >= rule.positive_min_distinct, 1, np.where(distinct <= rule.negative_max_distinct, 0, -1))


def training_options(cfg: Config, recipe: Recipe) -> TrainingOptions:
    t = cfg.training
    return TrainingOptions(
        name=recipe.name, outputs=(recipe.output,), mode=t.mode, base_model=t.base_model, pooling=t.pooling,
        normalize=t.normalize, max_tokens=t.max_tokens, validation_fraction=t.validation_fraction,
        test_fraction=t.test_fraction, target_precision=t.target_precision, seed=t.seed,
        hidden=tuple(t.hidden_units), epochs=t.epochs, learning_rate=t.learning_rate,
        weight_decay=t.weight_decay, batch_size=t.batch_size, patience=t.patience,
        fine_tune_epochs=t.fine_tune_epochs, fine_tune_learning_rate=t.fine_tune_learning_rate,
        embedding_cache_dir=t.embedding_cache_dir, direction=recipe.direction)


def run(cfg: Config, recipe: Recipe, data_root: str | Path, output: str | Path) -> dict:
    """Read every source, then train, evaluate and write the classifier directory."""
    if cfg.training.validation_fraction + cfg.training.test_fraction >= 1:
        raise ConfigError("conf keys 'training.validation_fraction' + 'training.test_fraction' must be < 1.")
    parts = [source_examples(s, Path(data_root), cfg.training.seed, cfg.training.max_examples_per_source)
             for s in recipe.sources]
    data = Examples(texts=[t for p in parts for t in p.texts],
                    labels=np.concatenate([p.labels for p in parts]) if parts else np.zeros((0, 1)),
                    language=[x for p in parts for x in p.language], source=[x for p in parts for x in p.source],
                    role=[x for p in parts for x in p.role])
    if not len(data) or data.labels.sum() == 0 or data.labels.sum() == len(data):
        raise RecipeError("the training data needs both positive and negative examples.")
    metrics = train_classifier(data, training_options(cfg, recipe), output,
                               log=lambda m: print(f"train-classifier: {m}", file=sys.stderr))
    metrics["options"]["max_examples_per_source"] = cfg.training.max_examples_per_source  # to rebuild the splits
    (Path(output) / "metrics.json").write_text(json.dumps(metrics, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    (Path(output) / "recipe.json").write_text(json.dumps(recipe.model_dump(), indent=2, ensure_ascii=False) + "\n",
                                              encoding="utf-8")
    return metrics
