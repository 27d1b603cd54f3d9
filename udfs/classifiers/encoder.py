"""The encoder pass: texts → token windows (head, or head/middle/tail chunks) → pooled vectors, in
length-sorted batches capped in windows and in padded tokens."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import numpy as np

from corpusforge.udfs.classifiers.card import (ClassifierError, check_safetensors, refuse_pickle_weights,
                                               refuse_remote_code)

# inference.dtype / Encoder(dtype=…) → the torch dtype of the model's weights and activations.
DTYPES = {"fp32": lambda torch: torch.float32, "bf16": lambda torch: torch.bfloat16}

# A head-window document is cut to this many characters per window token before tokenising, so a
# 1 MB page is not tokenised whole to keep its first 256 tokens. Real text runs 1 (Chinese) to ~5
# (English) characters per token, so the cut never reaches into the window.
CHARS_PER_TOKEN_CAP = 16

# On a CPU a forward pass holds at most this many (padded) tokens, whatever batch_tokens allows: the
# activations then stay in cache (the feed-forward layer's 1024 × 1536 intermediate is 3 MB in bf16,
# 8192 tokens make it 25 MB). Measured on one thread, 240 real documents at 256 tokens, against
# 8192: the Safety+Quality pass (e5-small, bf16) 4.6% fewer CPU seconds (19.00 against 19.87, best
# of 3 alternating rounds, every round faster), the encoder pass alone 8-16%, MiniLM in fp32 14%;
# 512 and 2048 were slower than 1024. Batching moves bf16 scores by < 0.01 (kernel blocking depends
# on the batch; bf16 itself moves them by up to 0.04), fp32 vectors by 1e-7; the decisions'
# agreement with fp32 is unchanged (bench_inference_agreement: 99.66% pages, 99.42% labelled).
CPU_BATCH_TOKENS = 1024


@dataclass(frozen=True)
class WindowPolicy:
    """How documents meet the encoder: window size, what happens to longer documents, batching."""
    max_tokens: int | None   # tokens per window, special tokens included; None: the model's own window
    long_documents: str      # head: the first window only; chunks: evenly spaced windows, scores aggregated
    chunks: int              # windows per long document under `chunks` (3: head, middle, tail)
    aggregate: str           # max | mean of a document's window scores
    batch_size: int          # windows per forward pass at most (length-sorted, so padding stays small)
    batch_tokens: int = 8192  # and at most this many tokens (windows × width) per pass
    second_look: bool = True  # classifiers whose card has a second_look read suspicious long documents whole


class Encoder:
    """A tokenizer and a transformer encoder, turned into one pooled vector per text window."""

    def __init__(self, path: Path, pooling: str, normalize: bool, device: str, dtype: str = "fp32"):
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
        if getattr(self.model, "pooler", None) is not None:
            # BERT's pooler: absent from sentence encoders' weights, so transformers fills it with random
            # values; pooling here never reads it, and a fine-tuned encoder must not save it.
            self.model.pooler = None
        if dtype not in DTYPES:
            raise ClassifierError(f"dtype {dtype!r} is not one of {sorted(DTYPES)}.")
        self.model.eval().to(device=device, dtype=DTYPES[dtype](torch))
        self.device, self.pooling, self.normalize, self.dtype = device, pooling, normalize, dtype
        self.backend = self.tokenizer.backend_tokenizer.__class__.from_str(self.tokenizer.backend_tokenizer.to_str())
        self.backend.no_truncation()
        self.backend.no_padding()
        self.prefix, self.suffix = special_tokens(self.backend)
        self.specials = len(self.prefix) + len(self.suffix)
        self.pad_id = self.tokenizer.pad_token_id if self.tokenizer.pad_token_id is not None else 0
        self.dim = int(self.model.config.hidden_size)
        self._torch = torch
        self._prefixes: dict[str, list[int]] = {}

    def prefix_ids(self, text_prefix: str) -> list[int]:
        """The token ids of a text prefix ("query: " for e5), put before every window's tokens. The
        prefix is tokenised without its trailing space: for e5's XLM-R tokenizer tokens("query:") +
        tokens(text) equals tokens("query: " + text) on every non-empty text (6,245 COLD, Davidson and
        Skywork texts checked), and the prefix then begins each chunk of a long document too."""
        if text_prefix not in self._prefixes:
            ids = self.backend.encode(text_prefix.rstrip(), add_special_tokens=False).ids if text_prefix else []
            self._prefixes[text_prefix] = list(ids)
        return self._prefixes[text_prefix]

    def window(self, max_tokens: int | None) -> int:
        """Tokens per window: the policy's, capped by the model's position embeddings."""
        limits = [getattr(self.model.config, "max_position_embeddings", None), self.tokenizer.model_max_length]
        model_window = min(int(v) for v in limits if v and v < 1_000_000)
        return model_window if max_tokens is None else min(max_tokens, model_window)

    def windows(self, texts: Sequence[str], policy: WindowPolicy,
                text_prefix: str = "") -> tuple[list[list[int]], np.ndarray]:
        """Token windows of every text (special tokens and the text prefix included) and, for each, the
        index of its text."""
        lead = self.prefix + self.prefix_ids(text_prefix)  # [CLS] / <s>, then the text prefix's tokens
        size = self.window(policy.max_tokens) - len(lead) - len(self.suffix)
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
                windows.append(lead + ids[start:start + size] + self.suffix)
                owners.append(index)
        return windows, np.asarray(owners, dtype=np.int64)

    def embed(self, windows: list[list[int]], batch_size: int, batch_tokens: int = 8192):  # noqa: F821 (torch is imported lazily)
        """Pooled vectors (a float32 tensor) of the windows, in their order; batches are length-sorted
        to cut padding, and on a CPU hold at most CPU_BATCH_TOKENS tokens."""
        torch = self._torch
        if self.device == "cpu":
            batch_tokens = min(batch_tokens, CPU_BATCH_TOKENS)
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
                out[chosen] = self.pool(hidden.float(), mask.to(self.device)).cpu()  # pooled in float32
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
