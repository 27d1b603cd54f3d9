"""The real coherence model (Gemma 3 270M from the pinned packages; converted into the conf's cache on
first use) on short texts from tests/data/long: a passage scored after its own preceding text gains,
the same passage after an unrelated text does not. Skipped when the model packages are not installed
and no converted copy exists (a clone installed without them)."""
from __future__ import annotations

import json
import time

import numpy as np
import pytest
from support.paths import DATA

from corpusforge.udfs.longtext import coherence as C
from corpusforge.udfs.longtext import model as M

pytestmark = pytest.mark.slow

LONG = {d["id"]: d for d in map(json.loads, (DATA / "long" / "documents.jsonl").read_text(encoding="utf-8").splitlines())}
PAIRS = [("textbook-en-openstax-us-history-m50162", "textbook-en-openstax-psychology-m82256"),
         ("textbook-en-openstax-psychology-m82256", "textbook-en-openstax-us-history-m50162"),
         ("ency-zh-306", "ency-zh-83"), ("ency-zh-83", "ency-zh-306")]


@pytest.fixture(scope="module")
def gemma(cfg_factory):
    from corpusforge.resources import resolve

    coherence = cfg_factory().longtext.coherence
    try:
        M.check_available(coherence.model, coherence.cache_dir, coherence.dtype)
    except M.ModelError as err:          # the model packages are not installed and nothing is converted
        pytest.skip(f"the real coherence model is not available: {err}")
    started = time.monotonic()
    directory, converted = M.prepare(coherence.model, coherence.cache_dir, coherence.dtype)
    print(f"coherence model ready in {time.monotonic() - started:.1f}s ({converted or 'converted earlier'})")
    return M.load(directory, "cpu", coherence.dtype, M.read_head_vocab(resolve(coherence.head_vocab)))


def line_start(text: str, share: float) -> int:
    return text.index("\n", int(len(text) * share)) + 1


def test_a_passage_gains_from_its_own_context_and_not_from_an_unrelated_one(gemma):
    """The same 128 tokens of A, scored after the 256 tokens before them in A, and after 256 tokens of B."""
    s = C.CoherenceSettings(features=C.FEATURES, segment_tokens=128, context_tokens=256, skip_first=16)
    own, unrelated = [], []
    for a_id, b_id in PAIRS:
        a, b = LONG[a_id]["text"], LONG[b_id]["text"]
        for share in (0.3, 0.5, 0.7):
            join, b_end = line_start(a, share), line_start(b, share)
            passage = a[join:join + 3000]
            own.append(C.anchored_gain(gemma, a[join - 3000:join] + passage, 3000, s))
            unrelated.append(C.anchored_gain(gemma, b[b_end - 3000:b_end] + passage, 3000, s))
    own, unrelated = np.array(own), np.array(unrelated)
    print("gains after its own text", own.round(3), "after an unrelated text", unrelated.round(3))
    assert (own > unrelated).mean() >= 0.9 and np.median(own - unrelated) > 0.1
    assert np.median(own) > 0.1 and np.median(unrelated) < 0.05


def test_the_stage_features_of_a_spliced_text_fall_below_the_coherent_one(gemma):
    s = C.CoherenceSettings(features=("cross_dip", "cross_v", "anchor_gain"))
    a, b = LONG["textbook-en-openstax-us-history-m50162"]["text"], LONG["textbook-en-openstax-psychology-m82256"]["text"]
    coherent = a
    cut = line_start(a, 0.5)
    spliced = a[:cut] + b[line_start(b, 0.5):][:len(a) - cut]
    f_coherent, f_spliced = C.features(coherent, "en", s, gemma), C.features(spliced, "en", s, gemma)
    print("coherent", f_coherent, "spliced", f_spliced)
    assert f_spliced["cross_dip"] < f_coherent["cross_dip"] and f_spliced["cross_v"] < f_coherent["cross_v"]
    assert abs(f_spliced["cross_argmin"] - cut) < 0.05 * len(spliced)        # the weakest boundary is the join
    assert f_spliced["anchor_gain"] < f_coherent["anchor_gain"]          # no help from the text before the join
