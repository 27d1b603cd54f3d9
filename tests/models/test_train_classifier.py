"""`corpusforge train-classifier` in fast mode: a head on a frozen encoder, a threshold for the target
precision, metrics, and a directory the inference path loads."""
from __future__ import annotations

import json
import random

import numpy as np
import pytest

from support.paths import shared_data
from corpusforge.jobs.cli import main
from support.models import WORDS, make_tiny_bert
from corpusforge.udfs import classifiers
from corpusforge.udfs.classifier_training import split_of, threshold_for_precision

BAD = {"hate", "kill"}


def run_cli(*args: str) -> None:
    with pytest.raises(SystemExit) as done:
        main(list(args))
    assert done.value.code in (0, None)


def labelled_sentences(n: int, seed: int = 3) -> list[dict]:
    """Sentences of the tiny vocabulary; toxic when they hold one of BAD (a rule the head must learn)."""
    rng = random.Random(seed)
    clean = [w for w in WORDS if w not in BAD]
    rows = []
    for i in range(n):
        words = rng.sample(clean, 4)
        if i % 2:
            words[rng.randrange(4)] = rng.choice(sorted(BAD))
        rows.append({"text": " ".join(words), "label": "toxic" if i % 2 else "ok"})
    return rows


def test_fast_mode_learns_and_writes_a_loadable_classifier(tmp_path):
    encoder = make_tiny_bert(tmp_path / "encoder")
    data = tmp_path / "train.jsonl"
    data.write_text("\n".join(json.dumps(r) for r in labelled_sentences(1200)) + "\n", encoding="utf-8")
    out = tmp_path / "model"
    run_cli("train-classifier", "--data", str(data), "--positive", "toxic", "--name", "toy", "--language", "en",
            "--output", str(out), "--set", f"training.base_model={encoder}", "--set", "training.normalize=false",
            "--set", "training.embedding_cache_dir=null", "--set", "training.epochs=80",
            "--set", "training.target_precision=0.8")
    metrics = json.loads((out / "metrics.json").read_text())
    card = classifiers.ClassifierCard.load(out)
    assert card.encoder == str(encoder) and card.outputs == ("toy",) and card.threshold == metrics["threshold"]
    assert metrics["split"]["train"]["examples"] + metrics["split"]["validation"]["examples"] \
        + metrics["split"]["test"]["examples"] == 1200
    for part in ("validation", "test"):
        figures = metrics[part]["all"]
        assert figures["roc_auc"] > 0.85, figures
        assert set(figures) >= {"precision", "recall", "f1", "roc_auc"}
    assert metrics["validation"]["all"]["precision"] >= 0.8 and metrics["target_precision_reached"]
    # the written directory scores like training did: the test split through the inference path
    rows = labelled_sentences(1200)
    test = [r for r in rows if split_of(r["text"], 13, 0.15, 0.15) == "test"]
    scorer = classifiers.Scorer([card], classifiers.WindowPolicy(128, "head", 1, "max", 16), "cpu")
    scores = scorer.score([r["text"] for r in test])["toy"][:, 0]
    predicted = scores >= card.threshold
    truth = np.array([r["label"] == "toxic" for r in test])
    tp = int((predicted & truth).sum())
    assert tp / max(1, predicted.sum()) == pytest.approx(metrics["test"]["all"]["precision"], abs=1e-3)


def test_threshold_is_the_lowest_reaching_the_target_precision():
    y = np.array([0, 0, 1, 0, 1, 1, 1])
    scores = np.array([0.1, 0.2, 0.3, 0.4, 0.6, 0.7, 0.9])
    threshold, reached = threshold_for_precision(y, scores, 1.0)
    assert reached and threshold == pytest.approx(0.6)
    threshold, reached = threshold_for_precision(y, scores, 0.75)
    assert reached and threshold == pytest.approx(0.3)  # 4 of the 5 at or above 0.3 are positive (0.8)


def test_the_split_is_stable_and_by_text():
    assert split_of("some text", 1, 0.2, 0.2) == split_of("some text", 1, 0.2, 0.2)
    parts = [split_of(f"text {i}", 1, 0.2, 0.1) for i in range(5000)]
    assert abs(parts.count("test") / 5000 - 0.1) < 0.02 and abs(parts.count("validation") / 5000 - 0.2) < 0.02


def test_real_toxicity_sample_with_the_default_encoder(tmp_path):
    """English toxicity from the real Surge + ToxiGen data, 200 rows each, the default frozen encoder (e5,
    converted into its cache on first use)."""
    data = shared_data() / "labeled"
    recipe = tmp_path / "recipe.yaml"
    recipe.write_text(f"""
name: toxicity
output: toxic
sources:
  - {{path: {data}/surge/toxicity_en.csv, text: text, label: is_toxic, positive: [Toxic], language: en, max_examples: 200}}
  - {{path: {data}/toxigen/toxigen_demonstrations.csv, text: text, label: label, positive: [hate], language: en, max_examples: 200}}
""")
    out = tmp_path / "model"
    run_cli("train-classifier", "--recipe", str(recipe), "--output", str(out),
            "--set", "training.embedding_cache_dir=null", "--set", "training.test_fraction=0.2")
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["test"]["all"]["roc_auc"] > 0.7, metrics["test"]["all"]
    assert (out / "recipe.json").is_file() and (out / "head.safetensors").is_file()


def test_full_mode_fine_tunes_the_encoder_and_writes_it_without_a_pooler(tmp_path):
    """Encoder and head trained together (training.mode full): the tuned encoder is written inside the
    classifier directory (safetensors, no random BERT pooler), the card points at it, and the figures
    are computed through the inference path from the written directory."""
    from safetensors import safe_open

    encoder = make_tiny_bert(tmp_path / "encoder")
    data = tmp_path / "train.jsonl"
    data.write_text("\n".join(json.dumps(r) for r in labelled_sentences(600)) + "\n", encoding="utf-8")
    out = tmp_path / "model"
    run_cli("train-classifier", "--data", str(data), "--positive", "toxic", "--name", "toy", "--language", "en",
            "--output", str(out), "--set", "training.mode=full", "--set", f"training.base_model={encoder}",
            "--set", "training.normalize=false", "--set", "training.fine_tune_epochs=4",
            "--set", "training.fine_tune_learning_rate=0.001", "--set", "training.hidden_units=[]",
            "--set", "training.batch_size=16", "--set", "training.target_precision=0.8")
    metrics = json.loads((out / "metrics.json").read_text())
    card = classifiers.ClassifierCard.load(out)
    assert metrics["mode"] == "full" and card.encoder == "encoder" and card.text_prefix == "query: "
    assert card.encoder_path() == out / "encoder" and (out / "encoder" / "tokenizer.json").is_file()
    with safe_open(str(out / "encoder" / "model.safetensors"), framework="np") as tuned, \
            safe_open(str(encoder / "model.safetensors"), framework="np") as base:
        assert not [k for k in tuned.keys() if k.startswith("pooler")]
        name = "encoder.layer.0.attention.self.query.weight"
        assert not np.array_equal(tuned.get_tensor(name), base.get_tensor(name))  # the encoder itself moved
    assert len(metrics["history"]) == 4 and metrics["history"][-1] < metrics["history"][0]  # training loss falls
    assert metrics["test"]["all"]["roc_auc"] > 0.8, metrics["test"]["all"]
    scores = classifiers.Scorer([card], classifiers.WindowPolicy(128, "head", 1, "max", 16), "cpu").score(
        ["kill the water", "the water is nice"])["toy"][:, 0]
    assert scores[0] > scores[1]
