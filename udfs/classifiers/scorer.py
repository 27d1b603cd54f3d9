"""Every classifier of a stage over a batch of texts: heads that read the same encoder share one
forward pass, and a classifier's window scores become one score per document."""
from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np

from corpusforge.udfs.classifiers.card import ClassifierCard
from corpusforge.udfs.classifiers.encoder import WindowPolicy
from corpusforge.udfs.classifiers.runtime import load_encoder, load_head, pick_device

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
