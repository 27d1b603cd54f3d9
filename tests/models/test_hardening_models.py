"""Untrusted model directories: only safetensors weights load, and no code that ships with a model runs.

The hostile files here are real attacks, not placeholders: a pickle whose unpickling creates a marker
file (what a malicious pytorch_model.bin does with os.system), and a config whose auto_map points at a
Python module that creates the marker when imported (what trust_remote_code would run). Every test
asserts the marker was never created, whatever else happens. The loader is Safety's
(udfs/classifiers.py, jobs/classify.py) and the command line's start-up check (`corpusforge safety`).
"""
from __future__ import annotations

import json
import pickle
import shutil
from pathlib import Path

import pytest
from support.models import make_head, make_tiny_bert
from typer.testing import CliRunner

from corpusforge.jobs.classify import load_classifiers
from corpusforge.jobs.cli import app
from corpusforge.conf import ConfigError, load_config
from corpusforge.udfs import classifiers
from corpusforge.udfs.classifiers import ClassifierCard, ClassifierError

class _Payload:
    """Unpickling this creates the marker file: the proof that a pickle was loaded."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


@pytest.fixture(scope="module")
def encoder(tmp_path_factory) -> Path:
    return make_tiny_bert(tmp_path_factory.mktemp("models") / "encoder")


@pytest.fixture
def marker(tmp_path) -> Path:
    path = tmp_path / "CODE_RAN"
    yield path
    assert not path.exists(), "code shipped with a model was executed"


def copy_encoder(encoder: Path, where: Path) -> Path:
    shutil.copytree(encoder, where)
    return where


def pickle_weights(marker: Path) -> bytes:
    return pickle.dumps({"embeddings.word_embeddings.weight": _Payload(marker)})


def test_the_hostile_payloads_are_live(encoder, tmp_path):
    """The attacks below would work: unpickling runs the payload, importing the module runs its code."""
    ran = tmp_path / "ran"
    pickle.loads(pickle_weights(ran))
    assert ran.exists()
    ran.unlink()
    hostile = with_remote_code(encoder, tmp_path / "remote", ran)
    namespace: dict = {}
    exec((hostile / "modeling_hostile.py").read_text(), namespace)
    assert ran.exists()


def test_a_pickle_checkpoint_alone_is_refused_and_never_unpickled(encoder, tmp_path, marker):
    hostile = copy_encoder(encoder, tmp_path / "pickled")
    (hostile / "model.safetensors").unlink()
    (hostile / "pytorch_model.bin").write_bytes(pickle_weights(marker))
    with pytest.raises(ClassifierError, match=r"pickle weights \(pytorch_model.bin\).*safetensors only"):
        classifiers.Encoder(hostile, "mean", False, "cpu")


@pytest.mark.parametrize("name", ["head.pt", "head.bin", "head.ckpt", "pytorch_model.bin"])
def test_a_pickle_head_is_refused_on_the_driver_and_never_unpickled(encoder, tmp_path, marker, name):
    head = make_head(tmp_path / "head", str(encoder), "toxicity")
    (head / "head.safetensors").unlink()
    (head / name).write_bytes(pickle_weights(marker))
    with pytest.raises(ClassifierError, match="safetensors only"):
        ClassifierCard.load(head)
    cfg = load_config(None, [f"safety.classifiers.toxicity.path={head}", "safety.classifiers.pornography.enabled=false"])
    with pytest.raises(ConfigError, match=rf"classifier 'toxicity': {head}.*pickle"):
        load_classifiers(cfg.safety.classifiers, "safety", cfg.inference)


def test_a_pickle_beside_safetensors_is_never_read(encoder, tmp_path, marker):
    """Both files present: the safetensors weights are loaded, the pickle is ignored (not unpickled)."""
    both = copy_encoder(encoder, tmp_path / "both")
    (both / "pytorch_model.bin").write_bytes(pickle_weights(marker))
    loaded = classifiers.Encoder(both, "mean", False, "cpu")
    assert loaded.dim == 32


def test_a_pickle_disguised_as_safetensors_is_never_unpickled(encoder, tmp_path, marker):
    disguised = copy_encoder(encoder, tmp_path / "disguised")
    (disguised / "model.safetensors").write_bytes(pickle_weights(marker))
    with pytest.raises(Exception):  # the safetensors parser rejects it; nothing is unpickled
        classifiers.Encoder(disguised, "mean", False, "cpu")


def test_a_pickle_disguised_as_safetensors_is_a_clear_error(encoder, tmp_path, marker):
    disguised = copy_encoder(encoder, tmp_path / "disguised")
    (disguised / "model.safetensors").write_bytes(pickle_weights(marker))
    with pytest.raises(ClassifierError, match="model.safetensors"):
        classifiers.Encoder(disguised, "mean", False, "cpu")


def with_remote_code(encoder: Path, where: Path, marker: Path, *, model_type: str | None = None,
                     tokenizer: bool = False) -> Path:
    """A copy of the encoder whose config (or tokenizer config) asks for code shipped in the directory."""
    hostile = copy_encoder(encoder, where)
    module = "import pathlib\npathlib.Path({!r}).touch()\nfrom transformers import {} as Hostile\n"
    if tokenizer:
        config = json.loads((hostile / "tokenizer_config.json").read_text())
        config["auto_map"] = {"AutoTokenizer": ["tokenization_hostile.Hostile", "tokenization_hostile.Hostile"]}
        (hostile / "tokenizer_config.json").write_text(json.dumps(config))
        (hostile / "tokenization_hostile.py").write_text(module.format(str(marker), "BertTokenizerFast"))
    else:
        config = json.loads((hostile / "config.json").read_text())
        config["auto_map"] = {"AutoConfig": "modeling_hostile.Hostile", "AutoModel": "modeling_hostile.Hostile"}
        if model_type is not None:
            config["model_type"] = model_type
        (hostile / "config.json").write_text(json.dumps(config))
        (hostile / "modeling_hostile.py").write_text(module.format(str(marker), "BertModel"))
    return hostile


REMOTE_CODE_CASES = {
    "config auto_map, known model_type": dict(),
    "config auto_map, custom model_type": dict(model_type="hostile-bert"),
    "tokenizer_config auto_map": dict(tokenizer=True),
}


@pytest.mark.parametrize("case", sorted(REMOTE_CODE_CASES))
def test_code_shipped_with_a_model_never_runs(encoder, tmp_path, marker, case):
    """Loading the model is refused before transformers could import the module shipped with it."""
    hostile = with_remote_code(encoder, tmp_path / "remote", marker, **REMOTE_CODE_CASES[case])
    with pytest.raises(ClassifierError):
        classifiers.Encoder(hostile, "mean", False, "cpu")
    assert not marker.exists(), "the module shipped with the model was imported"


@pytest.mark.parametrize("case", sorted(REMOTE_CODE_CASES))
def test_a_model_asking_for_remote_code_is_refused_with_a_clear_error(encoder, tmp_path, marker, case):
    hostile = with_remote_code(encoder, tmp_path / "remote", marker, **REMOTE_CODE_CASES[case])
    with pytest.raises(ClassifierError, match="auto_map"):
        classifiers.Encoder(hostile, "mean", False, "cpu")




def test_the_safety_command_refuses_a_pickle_model_at_start_up(no_spark, encoder, tmp_path, marker):
    head = make_head(tmp_path / "head", str(encoder), "toxicity")
    (head / "head.safetensors").unlink()
    (head / "pytorch_model.bin").write_bytes(pickle_weights(marker))
    result = CliRunner().invoke(app, ["safety", "--input", str(tmp_path / "in"), "--output", str(tmp_path / "out"),
                                      "--set", f"safety.classifiers.toxicity.path={head}"])
    assert result.exit_code == 2, result.output
    assert str(head) in result.stderr and "pickle" in result.stderr
