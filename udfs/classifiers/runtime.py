"""Per-process model runtime: torch threads, the device, and the caches that load every encoder and
head once per Python worker (loads() counts them, so "loaded once" can be proven)."""
from __future__ import annotations

from collections import Counter
from pathlib import Path

from corpusforge.udfs.classifiers.card import ClassifierCard
from corpusforge.udfs.classifiers.encoder import Encoder
from corpusforge.udfs.classifiers.heads import Head

_LOADS: Counter = Counter()
_ENCODERS: dict[tuple, Encoder] = {}
_HEADS: dict[tuple, Head] = {}


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
