"""One encoder pass per document for Safety and Quality: Safety keeps the pooled vectors of the documents
it scored, Quality scores its heads from them (documents_encoded 0, documents_reused = every scored
document, in _stats.json) and its scores equal a Quality run that encodes itself; a stage run alone still
works; the fingerprint covers the models' content. Four tiny random heads on one tiny BERT."""
from __future__ import annotations

import json
import shutil

import pytest

from support.models import make_head, make_tiny_bert
from corpusforge.udfs.quality_data import ASPECTS

pytestmark = pytest.mark.spark


@pytest.fixture(scope="module")
def tiny_models(tmp_path_factory):
    root = tmp_path_factory.mktemp("shared-pass")
    encoder = make_tiny_bert(root / "encoder")
    return root, {"toxicity": make_head(root / "toxicity", str(encoder), "toxicity", ("toxic",), threshold=0.9, seed=1),
                  "pornography": make_head(root / "pornography", str(encoder), "pornography", ("porn",), threshold=0.9,
                                           seed=2),
                  "ad": make_head(root / "ad", str(encoder), "ad", ("ad",), threshold=0.9, seed=3),
                  "fluency": make_head(root / "fluency", str(encoder), "fluency", ASPECTS, threshold=0.1, seed=4)}


def models_cfg(cfg_factory, dirs, *sets):
    entry = "{{enabled: true, path: {}, languages: [en, zh], direction: null, combine: {}}}"
    combine = "{method: geometric_mean, weights: {consistency: 1, noise: 1, information: 1, grammar: 1}}"
    return cfg_factory(
        f"safety.classifiers={{toxicity: {entry.format(dirs['toxicity'], 'null')}, "
        f"pornography: {entry.format(dirs['pornography'], 'null')}}}",
        f"quality.classifiers={{ad: {entry.format(dirs['ad'], 'null')}, "
        f"fluency: {entry.format(dirs['fluency'], combine)}}}",
        "inference.dtype=fp32", *sets)  # fp32: scores compared across differently batched runs


def scores_by_id(spark, path):
    return {r["id"]: dict(r["scores"] or {}) for r in spark.read.parquet(str(path / "kept")).collect()}


def test_quality_scores_from_safetys_vectors_and_equals_encoding_itself(spark, cfg_factory, format_output,
                                                                         tiny_models, tmp_path):
    from corpusforge.jobs.quality import QualityStage
    from corpusforge.jobs.safety import SafetyStage
    from corpusforge.jobs.stage import DOCUMENT_COLUMNS, run_stage

    format_dir, _ = format_output
    _, dirs = tiny_models
    cfg = models_cfg(cfg_factory, dirs)
    safety = run_stage(spark, cfg, SafetyStage(), str(format_dir), str(tmp_path / "safety"))
    assert safety["documents_encoded"] == safety["classifiers"]["toxicity"]["scored_docs"] > 0
    assert safety["documents_reused"] == 0
    kept = spark.read.parquet(str(tmp_path / "safety" / "kept"))
    assert kept.columns == DOCUMENT_COLUMNS + ["encoder_vectors"]
    jsonl = spark.read.json(str(tmp_path / "safety" / "kept_jsonl"))
    assert "encoder_vectors" not in jsonl.columns  # the JSONL holds the documents only

    reused = run_stage(spark, cfg, QualityStage(), str(tmp_path / "safety"), str(tmp_path / "quality"))
    scored = reused["classifiers"]["fluency"]["scored_docs"]
    assert scored > 0 and reused["documents_encoded"] == 0 and reused["windows_encoded"] == 0
    assert reused["documents_reused"] == scored  # every scored document read Safety's vectors: one pass
    assert spark.read.parquet(str(tmp_path / "quality" / "kept")).columns == DOCUMENT_COLUMNS

    alone = run_stage(spark, models_cfg(cfg_factory, dirs, "inference.share_encoder_pass=false"), SafetyStage(),
                      str(format_dir), str(tmp_path / "safety-alone"))
    assert alone["documents_encoded"] == safety["documents_encoded"]
    assert "encoder_vectors" not in spark.read.parquet(str(tmp_path / "safety-alone" / "kept")).columns
    encoded = run_stage(spark, cfg, QualityStage(), str(tmp_path / "safety-alone"), str(tmp_path / "quality-alone"))
    assert encoded["documents_encoded"] == scored and encoded["documents_reused"] == 0
    first, second = scores_by_id(spark, tmp_path / "quality"), scores_by_id(spark, tmp_path / "quality-alone")
    assert first.keys() == second.keys() and first
    keys = ["ad", "fluency", *[f"fluency.{a}" for a in ASPECTS]]
    for doc_id, values in first.items():
        assert {k: values.get(k) for k in keys} == pytest.approx({k: second[doc_id].get(k) for k in keys}, abs=1e-4)


def test_quality_alone_on_format_output_encodes_its_documents(spark, cfg_factory, format_output, tiny_models, tmp_path):
    from corpusforge.jobs.quality import QualityStage
    from corpusforge.jobs.stage import run_stage

    format_dir, _ = format_output
    _, dirs = tiny_models
    stats = run_stage(spark, models_cfg(cfg_factory, dirs), QualityStage(), str(format_dir), str(tmp_path / "q"))
    assert stats["documents_encoded"] == stats["classifiers"]["ad"]["scored_docs"] > 0
    assert stats["documents_reused"] == 0 and stats["windows_encoded"] >= stats["documents_encoded"]


def test_the_fingerprint_covers_the_models_content_not_their_paths(cfg_factory, tiny_models, tmp_path):
    from corpusforge.jobs.quality import QualityStage
    from corpusforge.jobs.safety import SafetyStage

    root, dirs = tiny_models
    copies = {name: tmp_path / name for name in dirs}
    for name, path in dirs.items():
        shutil.copytree(path, copies[name])
    same = SafetyStage().fingerprint(models_cfg(cfg_factory, dirs), "input")
    moved = SafetyStage().fingerprint(models_cfg(cfg_factory, copies), "input")
    assert same["models"] == moved["models"] and same["config"] != moved["config"]  # the paths are conf
    card = json.loads((copies["toxicity"] / "classifier.json").read_text())
    (copies["toxicity"] / "classifier.json").write_text(json.dumps({**card, "threshold": 0.5}))
    assert SafetyStage().fingerprint(models_cfg(cfg_factory, copies), "input")["models"] != moved["models"]
    quality = QualityStage().fingerprint(models_cfg(cfg_factory, copies), "input")["models"]
    head = copies["ad"] / "head.safetensors"
    head.write_bytes(head.read_bytes()[:-4] + b"\0\0\0\0")  # retrained weights, same size
    assert QualityStage().fingerprint(models_cfg(cfg_factory, copies), "input")["models"] != quality
    encoder_weights = root / "encoder" / "model.safetensors"  # another encoder under the same path
    backup = encoder_weights.read_bytes()
    try:
        encoder_weights.write_bytes(backup[:-4] + b"\1\1\1\1")
        assert SafetyStage().fingerprint(models_cfg(cfg_factory, dirs), "input")["models"] != same["models"]
    finally:
        encoder_weights.write_bytes(backup)
