"""Per-process model runtime: torch threads, the device and the dtype, and the caches that load every
encoder and head once per Python worker (loads() counts them, so "loaded once" can be proven)."""
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


def native_bf16(device: str) -> bool:
    """Whether bfloat16 runs natively where the model runs: CUDA with bf16 support, or an x86 CPU with
    AVX512-BF16 or AMX-BF16 (read from /proc/cpuinfo's flags). Without it, bf16 is emulated and slower
    than float32, so `auto` keeps float32 there."""
    import torch

    if device.startswith("cuda"):
        return bool(torch.cuda.is_available() and torch.cuda.is_bf16_supported())
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as handle:
            for line in handle:
                if line.startswith("flags"):
                    flags = set(line.split(":", 1)[1].split())
                    return bool(flags & {"avx512_bf16", "amx_bf16"})
    except OSError:
        pass
    return False


def pick_dtype(dtype: str, device: str) -> str:
    """conf inference.dtype → the dtype the encoder runs in: fp32, bf16, or auto (bf16 where native)."""
    if dtype == "auto":
        return "bf16" if native_bf16(device) else "fp32"
    return dtype


def load_encoder(path: Path, pooling: str, normalize: bool, device: str, dtype: str = "fp32") -> Encoder:
    key = (str(path.resolve()), pooling, normalize, device, dtype)
    if key not in _ENCODERS:
        _ENCODERS[key] = Encoder(path, pooling, normalize, device, dtype)
        _LOADS[("encoder", key)] += 1
    return _ENCODERS[key]


def load_head(card: ClassifierCard, input_dim: int, device: str) -> Head:
    key = (str(card.directory.resolve()), input_dim, device)
    if key not in _HEADS:
        _HEADS[key] = Head(card, input_dim, device)
        _LOADS[("head", key)] += 1
    return _HEADS[key]
