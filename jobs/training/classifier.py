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

import json
import sys
from pathlib import Path

import numpy as np

from corpusforge.conf import Config
from corpusforge.jobs.training.data import source_examples
from corpusforge.jobs.training.recipes import ClassifierRecipe, RecipeError, check_splits, training_options
from corpusforge.udfs.classifier_training import Examples, train_classifier


def run(cfg: Config, recipe: ClassifierRecipe, data_root: str | Path, output: str | Path) -> dict:
    """Read every source, then train, evaluate and write the classifier directory."""
    check_splits(cfg)
    parts = [source_examples(s, Path(data_root), cfg.training.seed, cfg.training.max_examples_per_source)
             for s in recipe.sources]
    data = Examples(texts=[t for p in parts for t in p.texts],
                    labels=np.concatenate([p.labels for p in parts]) if parts else np.zeros((0, 1)),
                    language=[x for p in parts for x in p.language], source=[x for p in parts for x in p.source],
                    role=[x for p in parts for x in p.role], group=[x for p in parts for x in p.group],
                    weight=[x for p in parts for x in p.weight], windows=[x for p in parts for x in p.windows])
    if not len(data) or data.labels.sum() == 0 or data.labels.sum() == len(data):
        raise RecipeError("the training data needs both positive and negative examples.")
    options = training_options(cfg, recipe.name, (recipe.output,), recipe.direction, max_tokens=recipe.window_tokens,
                               second_look=recipe.second_look, target_precision=recipe.target_precision)
    metrics = train_classifier(data, options, output,
                               log=lambda m: print(f"train-classifier: {m}", file=sys.stderr))
    metrics["options"]["max_examples_per_source"] = cfg.training.max_examples_per_source  # to rebuild the splits
    (Path(output) / "metrics.json").write_text(json.dumps(metrics, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    (Path(output) / "recipe.json").write_text(json.dumps(recipe.model_dump(), indent=2, ensure_ascii=False) + "\n",
                                              encoding="utf-8")
    return metrics
