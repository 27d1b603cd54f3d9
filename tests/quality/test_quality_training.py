"""`corpusforge train-fluency`: per-aspect heads stacked into one four-output head, trained on a small
real sample with the tiny BERT, written as a classifier the inference path scores the same way."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from support.paths import DATA, shared_data
from support.models import make_tiny_bert
from corpusforge.udfs import classifiers
from corpusforge.udfs.decisions import combine
from corpusforge.udfs.quality_data import ASPECTS


@pytest.mark.parametrize("hidden", [(8,), ()])
def test_stacked_head_equals_the_separate_heads(hidden):
    import torch

    from corpusforge.jobs.training.fluency import stack_heads

    torch.manual_seed(0)
    heads = [classifiers.build_head(32, hidden, 1) for _ in ASPECTS]
    stacked = stack_heads(heads, 32, hidden)
    assert stacked[-1].out_features == len(ASPECTS)
    x = torch.randn(50, 32)
    with torch.no_grad():
        separate = torch.cat([h(x) for h in heads], dim=1)
        assert torch.allclose(stacked(x), separate, atol=1e-6)


def test_train_fluency_on_a_small_real_sample(tmp_path):
    from corpusforge.jobs.training import fluency as train_fluency
    from corpusforge.jobs.cli import main
    from corpusforge.udfs.classifier_training import split_of

    data = shared_data()
    encoder = make_tiny_bert(tmp_path / "encoder")
    recipe_file = tmp_path / "fluency.yaml"
    recipe_file.write_text(f"""
name: fluency
languages: [en, zh]
window_tokens: 64
passage_chars: {{en: 300, zh: 80}}
passages_per_document: 2
max_passages_per_language: 60
clean_keep_rate: 0.9
combine: {{method: geometric_mean, weights: {{consistency: 1, noise: 1, information: 1, grammar: 1}}}}
documents:
  - {{path: {data}/text/skywork-zh-general.jsonl, text: text, id: url, title: title, language: zh, max_documents: 40}}
  - {{path: {data}/warc/built/article-extraction-benchmark.groundtruth.jsonl, text: gold_article_body,
      id: warc_record_id, language: detect, max_documents: 40}}
pages:
  - {{warc: {DATA}/warc/sample-0000.warc.gz}}
""")
    out = tmp_path / "model"
    sets = [f"training.base_model={encoder}", "training.normalize=false", "training.embedding_cache_dir=null",
            "training.epochs=20", "training.hidden_units=[8]", "training.validation_fraction=0.3",
            "training.test_fraction=0.2"]
    with pytest.raises(SystemExit) as done:
        main(["train-fluency", "--recipe", str(recipe_file), "--output", str(out),
              *[x for s in sets for x in ("--set", s)]])
    assert done.value.code in (0, None)

    metrics = json.loads((out / "metrics.json").read_text())
    card = classifiers.ClassifierCard.load(out)
    assert card.outputs == ASPECTS and card.hidden == (8 * len(ASPECTS),) and card.direction == "below"
    assert card.threshold == metrics["threshold"]
    for part in ("validation", "test"):
        assert set(metrics[part]["aspects"]) == set(ASPECTS)
        for figures in metrics[part]["aspects"].values():
            assert figures["vs_clean"]["examples"] > figures["vs_clean"]["positives"] > 0
    assert metrics["materials"]["boilerplate_lines"]["en"] > 10  # real boilerplate from the sample WARC

    # the clean validation passages through the inference path keep the share training reported
    from corpusforge.conf import load_config

    cfg = load_config(None, sets)
    recipe = train_fluency.load_fluency_recipe(recipe_file)
    docs, _ = train_fluency.read_documents(recipe, Path("."))
    passages = [p for p in train_fluency.make_passages(docs, recipe, cfg.training.seed)
                if split_of(p.document, cfg.training.seed, 0.3, 0.2) == "validation"]
    scorer = classifiers.Scorer([card], classifiers.WindowPolicy(64, "head", 1, "max", 16), "cpu")
    scores = scorer.score([p.text for p in passages])["fluency"]
    fluency = combine(scores, ASPECTS, "geometric_mean", {a: 1 for a in ASPECTS})
    kept = float((fluency >= card.threshold).mean())
    assert kept == pytest.approx(metrics["validation"]["combined"]["all"]["clean_kept"], abs=1e-3)
    assert kept >= 0.85
