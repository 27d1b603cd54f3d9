"""The encoder pass on the tiny random BERT: text prefixes, bf16, and scoring from stored vectors."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from support.models import make_head, make_tiny_bert
from corpusforge.udfs import classifiers
from corpusforge.udfs.classifiers import ClassifierCard, Scorer, WindowPolicy

TEXTS = ["you are an idiot", "the water is nice today", "你是傻子", "good " * 40 + "bad " * 40 + "war " * 40,
         "", "what a great day, I love it"]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    classifiers.set_threads(1)
    root = tmp_path_factory.mktemp("pass")
    encoder = make_tiny_bert(root / "encoder")
    heads = {"plain": make_head(root / "plain", str(encoder), "plain", seed=1),
             "other": make_head(root / "other", str(encoder), "other", ("a", "b"), seed=2),
             "prefixed": make_head(root / "prefixed", str(encoder), "prefixed", seed=3, text_prefix="good: ")}
    return encoder, {k: ClassifierCard.load(v) for k, v in heads.items()}


def policy(**changes):
    return WindowPolicy(**{**dict(max_tokens=16, long_documents="chunks", chunks=3, aggregate="max", batch_size=4),
                           **changes})


def test_a_text_prefix_leads_every_window_and_counts_in_its_size(tiny):
    encoder_dir, _ = tiny
    encoder = classifiers.load_encoder(encoder_dir, "mean", False, "cpu")
    plain, _ = encoder.windows(TEXTS, policy())
    prefixed, owners = encoder.windows(TEXTS, policy(), "good: ")
    lead = encoder.prefix + encoder.prefix_ids("good: ")
    assert encoder.prefix_ids("good: ") == encoder.backend.encode("good:", add_special_tokens=False).ids
    assert all(w[:len(lead)] == lead and len(w) <= 16 for w in prefixed)
    assert owners.tolist().count(3) == 3  # the long text: three chunks, each led by the prefix
    whole = encoder.backend.encode("good: " + TEXTS[0], add_special_tokens=True).ids
    assert prefixed[0] == whole  # tokens(prefix) + tokens(text) == tokens(prefix + text)
    assert plain[0] != prefixed[0]


def test_heads_with_another_prefix_are_another_pass(tiny):
    _, cards = tiny
    scorer = Scorer(list(cards.values()), policy(), "cpu")
    assert sorted(len(g.cards) for g in scorer.groups) == [1, 2]
    assert len({g.key for g in scorer.groups}) == 2


def test_stored_vectors_of_the_same_pass_are_reused_and_score_the_same(tiny):
    _, cards = tiny
    first = Scorer([cards["plain"]], policy(), "cpu")
    scores, vectors = first.run(TEXTS)
    (key,), = [list(vectors)]
    assert first.counts["documents_encoded"] == len(TEXTS) and first.counts["windows_encoded"] == len(TEXTS) + 2
    assert [len(v) for v in vectors[key]] == [2 * 32 * (3 if i == 3 else 1) for i in range(len(TEXTS))]

    later = Scorer([cards["plain"], cards["other"]], policy(), "cpu")  # another stage, same encoder pass
    stored = [{key: v} if i % 2 == 0 else None for i, v in enumerate(vectors[key])]
    again, _ = later.run(TEXTS, stored=stored)
    assert later.counts["documents_reused"] == 3 and later.counts["documents_encoded"] == 3
    assert np.array_equal(again["plain"], scores["plain"])  # float16 vectors either way: identical scores
    fresh = Scorer([cards["other"]], policy(), "cpu").score(TEXTS)["other"]
    assert np.abs(again["other"] - fresh).max() < 1e-6

    elsewhere = Scorer([cards["plain"]], policy(max_tokens=12), "cpu")  # another window policy: another key
    elsewhere.run(TEXTS, stored=[{key: v} for v in vectors[key]])
    assert elsewhere.counts["documents_reused"] == 0 and elsewhere.counts["documents_encoded"] == len(TEXTS)


def test_unwanted_documents_are_neither_encoded_nor_kept(tiny):
    _, cards = tiny
    scorer = Scorer([cards["plain"]], policy(), "cpu")
    wanted = {"plain": [True, False, True, False, False, False]}
    scores, vectors = scorer.run(TEXTS, wanted)
    assert scorer.counts["documents_encoded"] == 2
    assert [v is not None for v in next(iter(vectors.values()))] == wanted["plain"]
    assert np.isnan(scores["plain"][1, 0]) and not np.isnan(scores["plain"][0, 0])


def test_bf16_runs_the_model_in_bfloat16_and_stays_close(tiny):
    import torch

    _, cards = tiny
    fp32 = Scorer([cards["other"]], policy(), "cpu", "fp32").score(TEXTS)["other"]
    bf16_scorer = Scorer([cards["other"]], policy(), "cpu", "bf16")
    bf16 = bf16_scorer.score(TEXTS)["other"]
    encoder = classifiers.load_encoder(Path(bf16_scorer.groups[0].path), "mean", False, "cpu", "bf16")
    assert next(encoder.model.parameters()).dtype == torch.bfloat16
    assert np.abs(bf16 - fp32).max() < 0.05 and not np.array_equal(bf16, fp32)
    assert bf16_scorer.groups[0].key != Scorer([cards["other"]], policy(), "cpu", "fp32").groups[0].key


def test_auto_dtype_is_bf16_only_where_native(monkeypatch):
    from corpusforge.udfs.classifiers import runtime

    assert runtime.pick_dtype("fp32", "cpu") == "fp32" and runtime.pick_dtype("bf16", "cpu") == "bf16"
    monkeypatch.setattr(runtime, "native_bf16", lambda device: False)
    assert runtime.pick_dtype("auto", "cpu") == "fp32"
    monkeypatch.setattr(runtime, "native_bf16", lambda device: True)
    assert runtime.pick_dtype("auto", "cpu") == "bf16"


def test_native_bf16_reads_the_cpu_flags():
    from corpusforge.udfs.classifiers import runtime

    flags = open("/proc/cpuinfo").read() if __import__("os").path.exists("/proc/cpuinfo") else ""
    assert runtime.native_bf16("cpu") == ("avx512_bf16" in flags or "amx_bf16" in flags)
