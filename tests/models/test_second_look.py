"""The second look: a long document whose head window is suspicious is read whole by that classifier
(max over evenly spaced windows), at inference and when training evaluates a recipe."""
from __future__ import annotations

import json

import numpy as np
import pytest

from support.models import WORDS, make_head, make_tiny_bert
from corpusforge.jobs.training.recipes import ClassifierRecipe, RecipeError, load_recipe
from corpusforge.udfs import classifiers
from corpusforge.udfs.classifier_training import Examples, threshold_for_precision, training_rows
from corpusforge.udfs.classifiers import ClassifierCard, ClassifierError, Scorer, WindowPolicy
from corpusforge.udfs.classifiers.scorer import later_windows, merge_second_look, second_look_rows

LONG = " ".join(WORDS[i % 40] for i in range(150)) + " sex porn nude " * 12  # the end differs from the head
TEXTS = ["you are nice", LONG, "the water is nice today", "", LONG.replace("sex porn nude", "war peace love")]


def head_policy() -> WindowPolicy:
    return WindowPolicy(max_tokens=16, long_documents="head", chunks=1, aggregate="max", batch_size=4)


@pytest.fixture(scope="module")
def encoder(tmp_path_factory):
    classifiers.set_threads(1)
    return make_tiny_bert(tmp_path_factory.mktemp("look") / "encoder")


def card(tmp_path, encoder, above: float, windows: int = 4, threshold: float = 0.9) -> ClassifierCard:
    return ClassifierCard.load(make_head(tmp_path / f"look-{above}-{windows}", str(encoder), "porn", seed=5,
                                         threshold=threshold, second_look={"above": above, "windows": windows}))


def test_a_second_look_scores_as_the_whole_document_read_in_windows(tmp_path, encoder):
    everyone = Scorer([card(tmp_path, encoder, 0.0)], head_policy(), "cpu")
    scores, vectors = everyone.run(TEXTS)
    plain = ClassifierCard.load(make_head(tmp_path / "plain", str(encoder), "porn", seed=5, threshold=0.9))
    chunks = WindowPolicy(max_tokens=16, long_documents="chunks", chunks=4, aggregate="max", batch_size=4)
    whole = Scorer([plain], chunks, "cpu").score(TEXTS)["porn"]
    head = Scorer([plain], head_policy(), "cpu").score(TEXTS)["porn"]
    # every document was looked at again; the long ones got three more windows each, the short ones none
    assert everyone.counts["second_look_documents"] == 2
    assert everyone.counts["windows_encoded"] == len(TEXTS) + 2 * 3
    assert np.allclose(scores["porn"], whole, atol=1e-6)  # float16 vectors on both sides
    assert not np.allclose(head[1], whole[1])  # the windows past the head changed the long document's score
    # what Safety keeps for Quality is the head pass alone: one window per document
    assert [len(v) for v in next(iter(vectors.values()))] == [2 * 32] * len(TEXTS)


def test_a_head_below_the_gate_is_not_read_again(tmp_path, encoder):
    nobody = Scorer([card(tmp_path, encoder, 0.9, threshold=0.95)], head_policy(), "cpu")
    plain = ClassifierCard.load(make_head(tmp_path / "plain", str(encoder), "porn", seed=5, threshold=0.9))
    head = Scorer([plain], head_policy(), "cpu").score(TEXTS)["porn"]
    assert (head[:, 0] < 0.9).all()  # the tiny random head scores near 0.5
    scores = nobody.score(TEXTS)["porn"]
    assert nobody.counts["second_look_documents"] == 0 and nobody.counts["windows_encoded"] == len(TEXTS)
    assert np.array_equal(scores, head)


def test_the_conf_switch_turns_the_second_look_off(tmp_path, encoder):
    import dataclasses

    off = Scorer([card(tmp_path, encoder, 0.0)], dataclasses.replace(head_policy(), second_look=False), "cpu")
    off.score(TEXTS)
    assert off.counts["second_look_documents"] == 0 and off.counts["windows_encoded"] == len(TEXTS)


def test_unwanted_documents_get_no_second_look(tmp_path, encoder):
    scorer = Scorer([card(tmp_path, encoder, 0.0)], head_policy(), "cpu")
    scores = scorer.score(TEXTS, {"porn": [True, False, True, True, True]})["porn"]
    assert np.isnan(scores[1, 0]) and scorer.counts["second_look_documents"] == 1


@pytest.mark.parametrize("look, direction, why", [({"above": 0.95, "windows": 4}, "above", "above the threshold"),
                                                  ({"above": 0.2, "windows": 1}, "above", "one window"),
                                                  ({"above": 0.2, "windows": 4}, "below", "direction below")])
def test_a_card_refuses_a_second_look_that_cannot_work(tmp_path, encoder, look, direction, why):
    directory = make_head(tmp_path / "bad", str(encoder), "porn", threshold=0.9, second_look=look)
    data = json.loads((directory / "classifier.json").read_text())
    (directory / "classifier.json").write_text(json.dumps({**data, "direction": direction}))
    with pytest.raises(ClassifierError, match="second_look"):
        ClassifierCard.load(directory)


def test_merge_keeps_the_worst_window_and_leaves_the_rest():
    head = np.array([[0.1], [0.3], [np.nan], [0.5]])
    picked, owners = np.array([1, 3]), np.array([0, 0, 1])
    merged = merge_second_look(head, picked, owners, np.array([[0.2], [0.8], [0.4]]))
    assert merged[0, 0] == 0.1 and merged[1, 0] == 0.8 and np.isnan(merged[2, 0]) and merged[3, 0] == 0.5
    assert later_windows(np.array([0, 0, 0, 1, 2, 2])).tolist() == [False, True, True, False, False, True]
    look = classifiers.card.SecondLook(above=0.3, windows=3)
    assert second_look_rows(head, np.array([True, True, True, False]), look).tolist() == [1]


def test_training_reads_a_windowed_source_as_all_its_windows_with_its_label_and_weight(tmp_path, encoder):
    from corpusforge.udfs.classifier_training import TrainingOptions

    options = TrainingOptions(name="porn", outputs=("porn",), mode="fast", base_model=str(encoder), pooling="mean",
                              normalize=False, max_tokens=16, validation_fraction=0.2, test_fraction=0.2,
                              target_precision=0.9, seed=1, hidden=(8,), epochs=1, learning_rate=1e-3,
                              weight_decay=0.0, batch_size=4, patience=1, fine_tune_epochs=1,
                              fine_tune_learning_rate=1e-5, embedding_cache_dir=None)
    part = Examples(texts=["you are nice", LONG, "war"], labels=np.array([[0], [1], [0]]), language=["en"] * 3,
                    source=["s"] * 3, role=["train"] * 3, group=[""] * 3, weight=[1.0, 3.0, 1.0], windows=[0, 4, 0])
    head_vectors = np.zeros((3, 32), np.float32)
    x, y, w = training_rows(part, head_vectors, options)
    assert len(x) == 2 + 4 and y[:, 0].tolist() == [0, 0, 1, 1, 1, 1] and w.tolist() == [1, 1, 3, 3, 3, 3]
    assert not np.allclose(x[2], x[5])  # four different windows of the long text


def test_weights_move_the_threshold():
    y = np.array([0, 1, 0, 1])
    scores = np.array([0.2, 0.3, 0.6, 0.9])
    assert threshold_for_precision(y, scores, 0.6)[0] == pytest.approx(0.3)  # 2 of 3 at or above 0.3
    # the negative at 0.6 counting 3 times: 0.3 gives 2 of 5, so only 0.9 reaches the target
    assert threshold_for_precision(y, scores, 0.6, np.array([1, 1, 3, 1]))[0] == pytest.approx(0.9)


def test_a_recipe_refuses_a_one_window_source(tmp_path):
    recipe = tmp_path / "r.yaml"
    recipe.write_text("name: p\noutput: p\nsecond_look: {above: 0.2, windows: 4}\nsources:\n"
                      "  - {path: a.jsonl, text: t, label: l, language: en, windows: 1}\n")
    with pytest.raises(RecipeError, match="windows"):
        load_recipe(recipe, ClassifierRecipe)
