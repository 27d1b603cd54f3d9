"""Every classifier of a stage over a batch of texts: heads that read the same encoder share one
forward pass, and a classifier's window scores become one score per document.

The pooled window vectors between the encoder and the heads are float16 — always, so a head scores the
same whether the vectors were computed here or stored by an earlier stage: the Safety stage keeps each
document's vectors (a few hundred bytes) under a key naming what made them (the encoder's content, its
pooling and text prefix, the window policy and the dtype), and the Quality stage scores its heads from
them when its encoder pass would have the same key, instead of encoding the document again. float16
keeps 11 significant bits: on L2-normalised vectors a head's score moves by ~1e-4 at most, far below
what bf16 inference itself moves it (docs/stages.md gives the measured decision agreement).
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np

from corpusforge.udfs.classifiers.card import ClassifierCard, SecondLook
from corpusforge.udfs.classifiers.encoder import WindowPolicy
from corpusforge.udfs.classifiers.runtime import load_encoder, load_head, pick_device, pick_dtype

VECTOR_DTYPE = np.float16


@dataclass(frozen=True)
class Group:
    """Classifiers reading one encoder the same way: one forward pass serves them all."""
    path: str
    pooling: str
    normalize: bool
    text_prefix: str
    key: str            # what an encoder pass of this group is, for reusing stored vectors
    cards: tuple[ClassifierCard, ...]


def pass_key(identity: str, pooling: str, normalize: bool, text_prefix: str, policy: WindowPolicy, dtype: str) -> str:
    """The identity of an encoder pass: equal keys give equal vectors, so stored ones can be reused."""
    data = [identity, pooling, normalize, text_prefix, policy.max_tokens, policy.long_documents,
            policy.chunks if policy.long_documents == "chunks" else 1, dtype]
    return hashlib.sha256(json.dumps(data).encode()).hexdigest()[:24]


def encoder_dim(path: str) -> int:
    """The encoder's vector width from its config.json, without loading its weights."""
    return int(json.loads((Path(path) / "config.json").read_text(encoding="utf-8"))["hidden_size"])


class Scorer:
    """Every classifier of a stage; heads that share an encoder share its forward pass. `identities`
    (one per card: what its encoder is, e.g. its content hash) makes pass keys comparable across
    processes and stages; without them a key names the encoder's path."""

    def __init__(self, cards: Sequence[ClassifierCard], policy: WindowPolicy, device: str, dtype: str = "fp32",
                 identities: Sequence[str] | None = None, encoder_cache: str | Path | None = None):
        self.policy, self.device = policy, pick_device(device)
        self.dtype = pick_dtype(dtype, self.device)
        self.counts: Counter = Counter()  # documents/windows/tokens encoded, documents/windows reused
        grouped: dict[tuple, list[ClassifierCard]] = {}
        ids: dict[tuple, str] = {}
        for i, card in enumerate(cards):
            path = str(card.encoder_path(encoder_cache).resolve())
            key = (path, card.pooling, card.normalize, card.text_prefix)
            grouped.setdefault(key, []).append(card)
            ids.setdefault(key, identities[i] if identities else path)
        self.groups = [Group(*k, pass_key(ids[k], *k[1:], policy, self.dtype), tuple(v)) for k, v in grouped.items()]

    def score(self, texts: Sequence[str], wanted: Mapping[str, Sequence[bool]] | None = None) -> dict[str, np.ndarray]:
        """Scores [document, output] per classifier name; NaN where a classifier was not wanted."""
        return self.run(texts, wanted)[0]

    def run(self, texts: Sequence[str], wanted: Mapping[str, Sequence[bool]] | None = None,
            stored: Sequence[Mapping[str, bytes] | None] | None = None
            ) -> tuple[dict[str, np.ndarray], dict[str, list[bytes | None]]]:
        """Scores as score() does, and each group's vectors per document (float16 bytes, windows × width;
        None where the document was not scored) under the group's pass key. A document whose `stored`
        vectors hold the group's key is scored from them and not encoded."""
        result, vectors = {}, {}
        n = len(texts)
        for group in self.groups:
            masks = {c.name: np.asarray(wanted[c.name] if wanted else [True] * n, dtype=bool) for c in group.cards}
            todo = np.flatnonzero(np.logical_or.reduce(list(masks.values()))) if n else np.array([], int)
            kept: list[bytes | None] = [None] * n
            if len(todo) == 0:  # nothing for this encoder: do not even load it
                result.update({c.name: np.full((n, len(c.outputs)), np.nan) for c in group.cards})
                vectors[group.key] = kept
                continue
            for i in todo:
                found = stored[i].get(group.key) if stored is not None and stored[i] else None
                kept[i] = bytes(found) if found is not None else None
            fresh = [int(i) for i in todo if kept[i] is None]
            dim = encoder_dim(group.path)
            if fresh:
                encoder = load_encoder(Path(group.path), group.pooling, group.normalize, self.device, self.dtype)
                windows, owners = encoder.windows([texts[i] or "" for i in fresh], self.policy, group.text_prefix)
                pooled = encoder.embed(windows, self.policy.batch_size, self.policy.batch_tokens).numpy()
                per_document = np.split(pooled.astype(VECTOR_DTYPE),
                                        np.cumsum(np.bincount(owners, minlength=len(fresh)))[:-1])
                for i, rows in zip(fresh, per_document):  # owners ascend: windows come in text order
                    kept[i] = rows.tobytes()
                self.counts.update(documents_encoded=len(fresh), windows_encoded=len(windows),
                                   tokens_encoded=sum(len(w) for w in windows))
            self.counts.update(documents_reused=len(todo) - len(fresh))
            rows = [np.frombuffer(kept[i], dtype=VECTOR_DTYPE).reshape(-1, dim) for i in todo]
            owners = np.repeat(np.arange(len(todo)), [len(r) for r in rows])
            window_vectors = _tensor(np.concatenate(rows).astype(np.float32))
            for card in group.cards:
                head = load_head(card, dim, self.device)
                scores = np.full((n, len(card.outputs)), np.nan)
                scores[todo] = aggregate(head.scores(window_vectors), owners, len(todo), self.policy.aggregate)
                if card.second_look is not None and self.policy.second_look and self.policy.long_documents == "head":
                    scores[todo] = self._second_look(card, group, head, texts, todo, scores[todo],
                                                     masks[card.name][todo])
                scores[~masks[card.name]] = np.nan
                result[card.name] = scores
            vectors[group.key] = kept
        return result, vectors

    def _second_look(self, card: ClassifierCard, group: Group, head, texts: Sequence[str], todo: np.ndarray,
                     head_scores: np.ndarray, wanted: np.ndarray) -> np.ndarray:
        """The card's second look (card.SecondLook): documents (rows of `todo`, the indices of the texts
        scored here) whose head window reached `above` are read as evenly spaced windows, and each
        one's score becomes the max over its head and those windows.
        The extra windows are this classifier's alone: they are neither kept for a later stage nor
        shown to the other heads, which were trained and calibrated on head windows."""
        look = card.second_look
        picked = second_look_rows(head_scores, wanted, look)
        if len(picked) == 0:
            return head_scores
        encoder = load_encoder(Path(group.path), group.pooling, group.normalize, self.device, self.dtype)
        policy = dataclasses.replace(self.policy, long_documents="chunks", chunks=look.windows)
        windows, owners = encoder.windows([texts[todo[k]] or "" for k in picked], policy, group.text_prefix)
        rest = later_windows(owners)  # every document's first window is its head, scored already
        windows, owners = [w for w, r in zip(windows, rest) if r], owners[rest]  # short ones have none left
        self.counts.update(second_look_documents=len(set(owners.tolist())), windows_encoded=len(windows),
                           tokens_encoded=sum(len(w) for w in windows))
        if not windows:
            return head_scores
        pooled = encoder.embed(windows, self.policy.batch_size, self.policy.batch_tokens).numpy()
        window_scores = head.scores(_tensor(pooled.astype(VECTOR_DTYPE).astype(np.float32)))  # as the head pass
        return merge_second_look(head_scores, picked, owners, window_scores)


def second_look_rows(head_scores: np.ndarray, wanted: np.ndarray, look: SecondLook) -> np.ndarray:
    """The documents (rows) a second look reads again: wanted, with a head-window score of the first
    output at or above `above`."""
    return np.flatnonzero(wanted & (np.nan_to_num(head_scores[:, 0], nan=-1.0) >= look.above))


def later_windows(owners: np.ndarray) -> np.ndarray:
    """True for every window after its document's first (owners ascend, a document's windows in order)."""
    return np.r_[False, owners[1:] == owners[:-1]] if len(owners) else np.zeros(0, bool)


def merge_second_look(head_scores: np.ndarray, picked: np.ndarray, owners: np.ndarray,
                      window_scores: np.ndarray) -> np.ndarray:
    """Each picked document's score: the max over its head score and its windows' scores. `owners`
    index `picked` and may include each document's head window again (training reads all windows)."""
    merged = head_scores.astype(np.float64)  # a copy
    np.maximum.at(merged, picked[owners], window_scores)
    return merged


def _tensor(array: np.ndarray):
    import torch

    return torch.from_numpy(array)


def aggregate(window_scores: np.ndarray, owners: np.ndarray, documents: int, how: str) -> np.ndarray:
    """One score row per document from its windows' rows (max or mean)."""
    out = np.full((documents, window_scores.shape[1]), -np.inf if how == "max" else 0.0)
    if how == "max":
        np.maximum.at(out, owners, window_scores)
        return out
    np.add.at(out, owners, window_scores)
    return out / np.bincount(owners, minlength=documents)[:, None]
