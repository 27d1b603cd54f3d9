"""The coherence path on a tiny random causal LM: NLL, head subset, chain and anchored gains, the
score and verdict, and model loading (once per process; refused inputs named)."""
from __future__ import annotations

import math

import numpy as np
import pytest
from support.models import make_tiny_causal_lm

from corpusforge.udfs.longtext import coherence as C
from corpusforge.udfs.longtext import model as M

TEXT = "\n".join(f"line {i}: the quick brown fox {i % 7} jumps over the lazy dog." for i in range(400))


@pytest.fixture(scope="module")
def lm_dir(tmp_path_factory):
    return make_tiny_causal_lm(tmp_path_factory.mktemp("tiny-lm") / "lm", (TEXT,))


@pytest.fixture(scope="module")
def lm(lm_dir):
    return M.load(lm_dir, "cpu", "float32")


def settings(**kw):
    base = dict(features=("cross_dip", "cross_v", "chain_min", "chain_mean", "anchor_gain"), segment_tokens=40,
                probes=5, context_tokens=30, skip_first=4, batch_size=3)
    return C.CoherenceSettings(**{**base, **kw})


def plain_nll(lm, row):
    import torch
    ids = torch.tensor([row])
    logits = lm.model(input_ids=ids).logits[0, :-1].float()
    return torch.nn.functional.cross_entropy(logits, ids[0, 1:], reduction="none").detach().numpy()


def test_token_nll_equals_the_plain_logits_per_row_and_ignores_padding(lm):
    rows = [list(range(5, 40)), list(range(10, 22))]
    got = C.token_nll(lm, rows, head_chunk=7)
    for row, values in zip(rows, got):
        assert len(values) == len(row) - 1
        assert np.allclose(values, plain_nll(lm, row), atol=1e-4)


def test_a_head_subset_of_every_id_is_exact_and_a_partial_one_never_raises_the_nll(lm):
    row = list(range(4, 60))
    full = C.token_nll(lm, [row])[0]
    vocab = lm.model.get_output_embeddings().weight.shape[0]
    every = M.LanguageModel(lm.model, lm.tokenizer, "cpu", M.HeadSubset(lm.model.get_output_embeddings(), range(vocab)))
    assert np.allclose(C.token_nll(every, [row])[0], full, atol=1e-5)
    part = M.LanguageModel(lm.model, lm.tokenizer, "cpu", M.HeadSubset(lm.model.get_output_embeddings(), range(30)))
    partial = C.token_nll(part, [row])[0]          # targets outside the subset are appended per call
    assert np.isfinite(partial).all() and (partial <= full + 1e-5).all()


def test_the_chain_scores_each_segment_after_all_earlier_ones(lm):
    s = settings()
    segments = [list(range(5, 25)), list(range(30, 42)), list(range(50, 70))]
    alone = C.score_alone(lm, segments, s)
    chain = C.score_chain(lm, segments, s)
    assert [len(c) for c in chain] == [len(x) for x in segments] == [len(a) for a in alone]
    assert np.allclose(chain[0], alone[0], atol=1e-5)
    direct = plain_nll(lm, [lm.bos_id] + segments[0] + segments[1])[len(segments[0]):]
    assert np.allclose(chain[1], direct, atol=1e-4)
    windowed = C.score_chain(lm, segments * 3, settings(max_chain_tokens=50))
    assert [len(c) for c in windowed] == [len(x) for x in segments * 3]


def test_the_anchored_gain_compares_the_same_tokens_alone_and_after_the_text_before(lm):
    s = settings()
    offset = TEXT.index("line 200:") + 3
    boundary = C.line_start_near(TEXT, offset)
    assert boundary == TEXT.index("line 200:")
    after = C.tokens_at(TEXT, boundary, s.segment_tokens, lm.tokenizer)
    before = C.tokens_before(TEXT, boundary, s.context_tokens, lm.tokenizer)
    assert len(after) == s.segment_tokens and len(before) == s.context_tokens
    alone = plain_nll(lm, [lm.bos_id] + after)
    with_context = plain_nll(lm, [lm.bos_id] + before + after)[len(before):]
    expected = np.mean(alone[s.skip_first:]) - np.mean(with_context[s.skip_first:])
    assert C.anchored_gain(lm, TEXT, offset, s) == pytest.approx(expected, abs=1e-4)


def test_anchored_gains_batch_every_offset_and_the_feature_is_their_minimum(lm):
    s = settings(features=("anchor_gain",))
    offsets = [TEXT.index("line 100:"), TEXT.index("line 300:")]
    gains = C.anchored_gains(lm, TEXT, offsets, s)
    assert gains == pytest.approx([C.anchored_gain(lm, TEXT, o, s) for o in offsets], abs=1e-4)
    candidates = C.weakest_boundaries(TEXT, "en", s.anchor_candidates, s.anchor_points, s.lexical_edge)
    assert len(candidates) == 2
    expected = min(C.anchored_gain(lm, TEXT, c, s) for c in candidates)
    assert C.features(TEXT, "en", s, lm)["anchor_gain"] == pytest.approx(expected, abs=1e-4)


def test_features_read_the_model_only_for_the_features_chosen(lm):
    lexical = C.features(TEXT, "en", settings(features=("cross_dip", "cross_v")), None)
    assert set(lexical) == {"cross_dip", "cross_v", "cross_argmin"}
    every = C.features(TEXT, "en", settings(), lm)
    assert set(every) >= set(C.FEATURES) and all(math.isfinite(every[f]) for f in C.FEATURES)
    assert not C.needs_model(("cross_dip", "cross_v")) and C.needs_model(("cross_v", "anchor_gain"))


def test_the_score_sums_z_scores_and_a_missing_feature_never_removes():
    scales = {"cross_dip": (-5.0, 2.0), "chain_mean": (0.5, 0.25)}
    value = C.score({"cross_dip": -9.0, "chain_mean": 0.25}, ("cross_dip", "chain_mean"), scales)
    assert value == pytest.approx(-2.0 - 1.0)
    assert C.verdict(value, -2.5) == ("min_coherence", "coherence -3.000 < -2.5")
    assert C.verdict(value, -3.5) == (None, None) and C.verdict(value, None) == (None, None)
    missing = C.score({"cross_dip": -9.0, "chain_mean": float("nan")}, ("cross_dip", "chain_mean"), scales)
    assert math.isnan(missing) and C.verdict(missing, 0.0) == (None, None)


def test_a_model_is_loaded_once_per_process(lm_dir):
    before = M.loads()
    first = M.load(lm_dir, "cpu", "float32", head_ids=range(20))
    again = M.load(lm_dir, "cpu", "float32", head_ids=range(20))
    assert first is again and M.loads() == before + 1


def test_model_inputs_that_cannot_be_used_are_refused_with_the_fix(lm_dir, tmp_path):
    with pytest.raises(M.ModelError, match="longtext.coherence.model.*no config.json"):
        M.check_available(str(tmp_path), str(tmp_path / "cache"), "bfloat16")
    with pytest.raises(M.ModelError, match="converts only"):
        M.check_available("package:some-other-model", str(tmp_path / "cache"), "bfloat16")
    pickled = tmp_path / "pickled"
    pickled.mkdir()
    (pickled / "config.json").write_text("{}")
    (pickled / "pytorch_model.bin").write_bytes(b"not loaded")
    with pytest.raises(M.ModelError, match="pickle"):
        M.check_available(str(pickled), str(tmp_path / "cache"), "bfloat16")
    with pytest.raises(M.ModelError, match="head_vocab"):
        M.load(lm_dir, "cpu", "float32", head_ids=[10 ** 6])
    assert M.check_available(str(lm_dir), str(tmp_path), "bfloat16") == str(lm_dir)


def test_the_bundled_head_vocabulary_reads_as_token_ids():
    from corpusforge.resources import resolve

    ids = M.read_head_vocab(resolve("resources/models/longtext/gemma3-head-vocab.txt.gz"))
    assert len(ids) > 50_000 and ids == sorted(set(ids)) and ids[0] == 0 and ids[-1] < 262_144
