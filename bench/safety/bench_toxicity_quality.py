"""Held-out quality of the bundled toxicity classifier, Chinese and English separately, next to the
block-word lexicon as a classifier (the baseline, same rows, same run).

The held-out rows are rebuilt exactly as training chose them (same recipe, caps, seed and hash split
from the model's recipe.json and metrics.json): the test split — never used for training nor for the
threshold — which for Chinese is COLD's official dev split. They are scored through the inference
path with the Safety stage's window (conf inference.*), at the model's stored threshold. The
baseline flags a text when it holds any word of the Safety stage's block-word list for its language
(the C4 rule: one word is enough), and, second line, with the stage's cautious policy.

Usage: .venv/bin/python bench/safety/bench_toxicity_quality.py [--model resources/models/toxicity] [--data-root ../shared/data]
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # bench/, for common.py

from common import ROOT, SHARED  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", default=str(ROOT / "resources" / "models" / "toxicity"))
    parser.add_argument("--data-root", default=str(SHARED))
    args = parser.parse_args()

    from corpusforge.jobs.blocklists import word_lists
    from corpusforge.conf import load_config
    from corpusforge.jobs.training.data import source_examples
    from corpusforge.jobs.training.recipes import ClassifierRecipe
    from corpusforge.udfs.block_words import WordPolicy, judge, list_for_language
    from corpusforge.udfs.classifier_training import Examples, binary_metrics, split_examples
    from corpusforge.udfs.classifiers import ClassifierCard, Scorer, WindowPolicy

    model = Path(args.model)
    metrics = json.loads((model / "metrics.json").read_text())
    recipe = ClassifierRecipe.model_validate(json.loads((model / "recipe.json").read_text()))
    options = metrics["options"]
    cfg = load_config(None, [])
    cap = options.get("max_examples_per_source")  # the conf cap used at training, when recorded
    parts = [source_examples(s, Path(args.data_root), options["seed"], cap) for s in recipe.sources]
    data = Examples([t for p in parts for t in p.texts], np.concatenate([p.labels for p in parts]),
                    [x for p in parts for x in p.language], [x for p in parts for x in p.source],
                    [x for p in parts for x in p.role])

    class Split:  # what split_examples reads
        seed, validation_fraction, test_fraction = options["seed"], options["validation_fraction"], options["test_fraction"]
    test = split_examples(data, Split)["test"]
    assert len(test) == metrics["split"]["test"]["examples"], "the held-out rows differ from training's"

    card = ClassifierCard.load(model)
    inf = cfg.inference
    scorer = Scorer([card], WindowPolicy(inf.max_tokens, inf.long_documents, inf.chunks, inf.chunk_aggregate,
                                         inf.batch_size, inf.batch_tokens), "cpu")
    scores = scorer.score(test.texts)[card.name][:, 0]
    lists = word_lists(cfg)
    any_word = np.array([judge(t, list_for_language(lists, lang), WordPolicy(1, 1.0, 0)).blocked
                         for t, lang in zip(test.texts, test.language)], dtype=float)
    block = cfg.safety.block_words
    cautious = np.array([judge(t, list_for_language(lists, lang),
                               WordPolicy(audit_words=0, **block.policy.default.model_dump())).blocked
                         for t, lang in zip(test.texts, test.language)], dtype=float)

    print(f"toxicity classifier {model} (threshold {card.threshold:.4f}, window {inf.max_tokens}) "
          f"on {len(test)} held-out rows")
    print(f"{'lang':<5}{'method':<34}{'rows':>6}{'pos':>6}{'prec':>7}{'recall':>7}{'F1':>7}{'ROC-AUC':>9}")
    languages = np.asarray(test.language)
    for lang in sorted(set(test.language)):
        rows = languages == lang
        y = test.labels[rows, 0]
        for name, values, threshold in (("classifier", scores[rows], card.threshold),
                                        ("lexicon, any word (C4 rule)", any_word[rows], 0.5),
                                        ("lexicon, stage's cautious policy", cautious[rows], 0.5)):
            m = binary_metrics(y, values, threshold)
            auc = f"{m['roc_auc']:.4f}" if name == "classifier" and m["roc_auc"] is not None else "-"
            print(f"{lang:<5}{name:<34}{m['examples']:>6}{m['positives']:>6}{m['precision']:>7.3f}"
                  f"{m['recall']:>7.3f}{m['f1']:>7.3f}{auc:>9}")
    sources = np.asarray(test.source)
    print("\nclassifier by held-out source:")
    for source in sorted(set(test.source)):
        rows = sources == source
        m = binary_metrics(test.labels[rows, 0], scores[rows], card.threshold)
        print(f"  {source:<48}{m['examples']:>6}{m['positives']:>6}  P {m['precision']:.3f}  R {m['recall']:.3f}"
              f"  F1 {m['f1']:.3f}  AUC {m['roc_auc']}")


if __name__ == "__main__":
    main()
