"""A classifier before and after: two classifier directories scored on the same held-out examples.

The recipe's sources are read and split exactly as `corpusforge train-classifier` splits them (the same
conf: seed, fractions, caps; held-out rows whole in the test split), and the TEST split — never trained
or tuned on by the recipe's model — is scored by each classifier directory the way the stage scores a
document: its own encoder (e.g. all-MiniLM-L6-v2 before, the converted multilingual-e5-small after),
its text prefix, float32, a head window of --max-tokens (default: the recipe's training window, so the
"after" vectors come from the training's embedding cache), at its own stored threshold. Printed side by side: precision, recall, F1 and ROC-AUC overall, per language, per source and
per reporting group (e.g. the held-out erotic works, web-like text).

Usage: nice -n 10 .venv/bin/python bench/safety/bench_classifier_before_after.py \
           --recipe resources/models/recipes/toxicity.yaml --before /work/main/resources/models/toxicity \
           --after resources/models/toxicity [--data-root ../shared/data]
Results: stdout and bench/results/before_after_<name>.json.
"""
from __future__ import annotations

import argparse
import os
from dataclasses import replace
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # bench/, for common.py

import numpy as np  # noqa: E402

from common import SHARED, write_result  # noqa: E402


def loadavg() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--recipe", required=True)
    parser.add_argument("--before", required=True)
    parser.add_argument("--after", required=True)
    parser.add_argument("--data-root", default=str(SHARED))
    parser.add_argument("--max-tokens", type=int, default=None, help="default: the recipe's training window")
    args = parser.parse_args()

    import torch

    from corpusforge.conf import load_config
    from corpusforge.jobs.training.data import source_examples
    from corpusforge.jobs.training.recipes import ClassifierRecipe, load_recipe, training_options
    from corpusforge.udfs import classifiers
    from corpusforge.udfs.classifier_training import Examples, embed_texts, report, split_examples
    from corpusforge.udfs.classifiers import ClassifierCard

    torch.set_num_threads(1)
    cfg = load_config(None, [])
    recipe = load_recipe(args.recipe, ClassifierRecipe)
    parts = [source_examples(s, Path(args.data_root), cfg.training.seed, cfg.training.max_examples_per_source)
             for s in recipe.sources]
    data = Examples([t for p in parts for t in p.texts], np.concatenate([p.labels for p in parts]),
                    [x for p in parts for x in p.language], [x for p in parts for x in p.source],
                    [x for p in parts for x in p.role], [x for p in parts for x in p.group])
    test = split_examples(data, training_options(cfg, recipe.name, (recipe.output,), recipe.direction))["test"]
    print(f"{recipe.name}: {len(test)} test examples ({int(test.labels.sum())} positive); load {loadavg()}", flush=True)

    results = {"recipe": args.recipe, "test_examples": len(test), "load_before": loadavg(), "models": {}}
    for label, directory in (("before", args.before), ("after", args.after)):
        card = ClassifierCard.load(directory)
        tick = time.process_time()
        encoder_dir = card.encoder_path(cfg.inference.encoder_cache_dir)
        options = replace(training_options(cfg, recipe.name, (recipe.output,), recipe.direction,
                                           max_tokens=args.max_tokens or recipe.window_tokens),
                          base_model=str(encoder_dir), pooling=card.pooling, normalize=card.normalize,
                          text_prefix=card.text_prefix)
        vectors = embed_texts(test.texts, options, 32)  # float32; cached under training.embedding_cache_dir
        head = classifiers.load_head(card, vectors.shape[1], "cpu")
        scores = head.scores(torch.from_numpy(vectors))[:, 0]
        results["models"][label] = {"directory": str(directory), "encoder": card.encoder, "threshold": card.threshold,
                                    "cpu_seconds": round(time.process_time() - tick, 1),
                                    "test": report(test, scores, card.threshold)}
        print(f"{label}: {directory} ({card.encoder}), threshold {card.threshold}", flush=True)

    def rows(entry: dict, prefix: str = ""):
        yield prefix + "all", entry["all"]
        for key in ("by_language", "by_source"):
            for name, figures in entry.get(key, {}).items():
                yield f"{prefix}{key[3:]} {name}", figures
        for group, figures in entry.get("by_group", {}).items():
            yield from rows({"all": figures["all"], "by_language": figures["by_language"]}, f"{prefix}[{group}] ")

    before, after = results["models"]["before"]["test"], results["models"]["after"]["test"]
    print(f"\n{'test split':<58} {'n':>6} {'pos':>5} | {'P':>6} {'R':>6} {'F1':>6} {'AUC':>6} | "
          f"{'P':>6} {'R':>6} {'F1':>6} {'AUC':>6}")
    print(f"{'':<58} {'':>6} {'':>5} | {'before':^27} | {'after':^27}")
    for (name, b), (_, a) in zip(rows(before), rows(after)):
        fmt = lambda m: " ".join(f"{m[k]:6.3f}" if m[k] is not None else f"{'-':>6}"
                                 for k in ("precision", "recall", "f1", "roc_auc"))
        print(f"{name[:58]:<58} {b['examples']:6d} {b['positives']:5d} | {fmt(b)} | {fmt(a)}")
    results["load_after"] = loadavg()
    print(f"\nload {results['load_before']} -> {results['load_after']}")
    write_result(f"before_after_{recipe.name}", results)


if __name__ == "__main__":
    main()
