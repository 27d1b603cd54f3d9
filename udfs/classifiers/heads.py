"""Classifier heads: a few linear layers over the pooled encoder vector, read from head.safetensors."""
from __future__ import annotations

from typing import Iterable

import numpy as np

from corpusforge.udfs.classifiers.card import HEAD_FILE, ClassifierCard, ClassifierError, check_safetensors

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
