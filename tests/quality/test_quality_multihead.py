"""One encoder pass for many classifiers: the four report classifiers (toxicity, pornography, ad,
fluency) on one tiny random BERT score exactly as four separate classifiers do, for a quarter of the
forward passes; and the Quality stage's conf checks on real classifier directories."""
from __future__ import annotations

import numpy as np
import pytest

from corpusforge.conf import ConfigError
from support.models import make_head, make_tiny_bert
from corpusforge.udfs import classifiers
from corpusforge.udfs.classifiers import ClassifierCard, Scorer, WindowPolicy
from corpusforge.udfs.decisions import combine
from corpusforge.udfs.quality_data import ASPECTS

TEXTS = ["you are an idiot", "the water is nice today", "你是傻子", "good " * 40 + "bad " * 40,
         "", "what a great day, I love it", "buy now, great price, call me", "他是坏人", "war and peace " * 30]


@pytest.fixture(scope="module")
def four(tmp_path_factory):
    classifiers.set_threads(1)  # tiny matrices: one thread is fastest, and the machine is shared
    root = tmp_path_factory.mktemp("four")
    encoder = make_tiny_bert(root / "encoder")
    dirs = {"toxicity": make_head(root / "toxicity", str(encoder), "toxicity", ("toxic",), seed=1),
            "pornography": make_head(root / "pornography", str(encoder), "pornography", ("porn",), seed=2),
            "ad": make_head(root / "ad", str(encoder), "ad", ("ad",), threshold=0.6, seed=3),
            "fluency": make_head(root / "fluency", str(encoder), "fluency", ASPECTS, hidden=(16,), threshold=0.45,
                                 seed=4)}
    return encoder, dirs


def count_forward_passes(encoder_dir):
    encoder = classifiers.load_encoder(encoder_dir, "mean", False, "cpu")
    calls = []
    handle = encoder.model.register_forward_hook(lambda module, args, output: calls.append(1))
    return calls, handle


@pytest.mark.parametrize("long_documents", ["head", "chunks"])
def test_four_heads_share_one_pass_and_equal_separate_classifiers(four, long_documents):
    encoder_dir, dirs = four
    cards = [ClassifierCard.load(d) for d in dirs.values()]
    policy = WindowPolicy(max_tokens=24, long_documents=long_documents, chunks=3, aggregate="max", batch_size=4)
    shared = Scorer(cards, policy, "cpu")
    assert len(shared.groups) == 1
    calls, handle = count_forward_passes(encoder_dir)
    try:
        together = shared.score(TEXTS)
        shared_passes = len(calls)
        separate = {c.name: Scorer([c], policy, "cpu").score(TEXTS)[c.name] for c in cards}
        separate_passes = len(calls) - shared_passes
    finally:
        handle.remove()
    assert shared_passes > 0 and separate_passes == 4 * shared_passes
    for name, scores in separate.items():
        assert together[name].shape == scores.shape == (len(TEXTS), len(ClassifierCard.load(dirs[name]).outputs))
        assert np.abs(together[name] - scores).max() < 1e-6, name
    assert len({round(float(v), 5) for v in together["fluency"][:, 1]}) > 4  # real, text-dependent scores
    weights = {a: 1.0 for a in ASPECTS}
    assert np.abs(combine(together["fluency"], ASPECTS, "weighted_mean", weights)
                  - combine(separate["fluency"], ASPECTS, "weighted_mean", weights)).max() < 1e-6


def quality_cfg(cfg_factory, dirs, *sets, combine_weights="{consistency: 1, noise: 1, information: 1, grammar: 1}"):
    return cfg_factory(
        f"quality.classifiers={{ad: {{enabled: true, path: {dirs['ad']}, languages: null, direction: null, "
        f"combine: null}}, fluency: {{enabled: true, path: {dirs['fluency']}, languages: [en, zh], direction: null, "
        f"combine: {{method: weighted_mean, weights: {combine_weights}}}}}}}", *sets)


def test_stage_thresholds_resolve_model_defaults_and_overrides(four, cfg_factory):
    from corpusforge.jobs.quality import check_models

    _, dirs = four
    cfg = quality_cfg(cfg_factory, dirs, "quality.thresholds.languages.zh.fluency=0.25",
                      "quality.thresholds.sites.*.shop.com.ad=0.99")
    chosen, table, checks = check_models(cfg)
    assert [c.name for c in chosen] == ["ad", "fluency"]
    assert table.default == {"ad": 0.6, "fluency": 0.45}  # null → the thresholds stored with the models
    # the --set replaces zh's fluency and keeps the bundled conf's zh ad override
    assert table.languages["zh"] == {"fluency": 0.25, "ad": 0.95} and table.sites[-1] == ("*.shop.com", {"ad": 0.99})
    assert [(c.key, c.classifier, c.direction) for c in checks] == [("ad", "ad", "above"), ("fluency", "fluency", "above")]
    assert checks[1].context == tuple(f"fluency.{a}" for a in ASPECTS)


def test_stage_conf_errors_name_the_key(four, cfg_factory, tmp_path):
    from corpusforge.jobs.quality import check_models

    _, dirs = four
    with pytest.raises(ConfigError, match="quality.thresholds.default.adverts"):
        check_models(quality_cfg(cfg_factory, dirs, "quality.thresholds.default={ad: null, adverts: 0.5}"))
    with pytest.raises(ConfigError, match="combine.weights"):
        check_models(quality_cfg(cfg_factory, dirs, combine_weights="{fluent: 1}"))
    with pytest.raises(ConfigError, match="stores no threshold"):  # an aspect has no model threshold
        check_models(quality_cfg(cfg_factory, dirs, "quality.thresholds.default={ad: null, fluency.noise: null}"))
    _, _, checks = check_models(quality_cfg(cfg_factory, dirs, "quality.thresholds.default={ad: null, fluency.noise: 0.2}",
                                            "quality.thresholds.languages={}"))
    assert [c.key for c in checks] == ["ad", "fluency.noise"]  # only thresholded keys are checked
    with pytest.raises(ConfigError, match="not a corpusforge classifier"):
        check_models(cfg_factory(f"quality.classifiers.ad.path={tmp_path}"))


def test_quality_command_reports_a_bad_model_path_before_spark(tmp_path, capsys):
    from corpusforge.jobs.cli import main

    (tmp_path / "_SUCCESS").write_text("{}")  # a finished stage output, so the model path is what fails
    with pytest.raises(SystemExit) as done:
        main(["quality", "--input", str(tmp_path), "--output", str(tmp_path / "out"),
              "--set", f"quality.classifiers.fluency.path={tmp_path / 'missing'}"])
    assert done.value.code == 2
    assert "quality classifier 'fluency'" in capsys.readouterr().err
