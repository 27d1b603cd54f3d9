"""The coherence filter of the long-text stage: the InternLM2 report's perplexity difference between
text segments, with the lexical cohesion of udfs/longtext/cohesion.py, combined into one score.

Perplexity difference ("gain"): the mean negative log-likelihood (NLL, nats per token) of a segment
scored alone (after BOS only) minus that of the SAME tokens scored after some context. Coherent
context helps the model predict the segment (gain > 0); unrelated, "distracting" context does not
(gain ≈ 0). Cost is bounded per document, whatever its length:

- chain of probes: K probes of S tokens at evenly spaced positions (snapped to line starts; only a
  window of characters around each is tokenised). Alone: one batch. With context: ONE forward pass
  over BOS + probe_0 + … + probe_{K-1}, so each probe is scored with all earlier probes as context; a
  splice anywhere falls between two consecutive probes and the probe after it only has the other
  text as context. Features `chain_min`, `chain_mean` (probes 1..K-1). 2·K·S scored tokens.
- anchored: at the document's weakest lexical boundaries (cohesion's `weakest_boundaries`: the
  `anchor_candidates` lowest crossing dips, each refined to a line start), the S tokens after the
  boundary scored alone and after the C tokens before it; `anchor_gain` is the smallest of these gains.
  A join found there gets no help from the text before it; a coherent document's weakest boundary
  still does. Cost: 2 rows of at most C + S tokens per candidate, whatever the document's length.

The score is the sum of the chosen features' z-scores, each against the coherent documents of the
document's language (conf longtext.coherence.scales: centre and spread, measured on the development
half of the spliced-document benchmark); a document whose score is below its `min_coherence`
(longtext.thresholds: per language, domain or site) is removed with reason `min_coherence`.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np

from corpusforge.udfs.longtext.cohesion import cohesion_features, weakest_boundaries
from corpusforge.udfs.longtext.model import LanguageModel

LEXICAL_FEATURES = ("cross_dip", "cross_v")
CHAIN_FEATURES = ("chain_min", "chain_mean")
ANCHOR_FEATURES = ("anchor_gain",)
FEATURES = LEXICAL_FEATURES + CHAIN_FEATURES + ANCHOR_FEATURES
RULE = "min_coherence"


@dataclass(frozen=True)
class CoherenceSettings:
    """conf longtext.coherence, as the scoring code reads it."""
    features: tuple[str, ...]        # what the score sums
    segment_tokens: int = 128        # S
    probes: int = 5                  # K
    context_tokens: int = 256        # C (anchored)
    skip_first: int = 16             # tokens at a segment's start left out of both means
    batch_size: int = 16
    max_chain_tokens: int = 8192
    head_chunk: int = 512            # positions per LM-head chunk (bounds logits memory)
    chars_per_token: float = 8.0     # characters tokenised per wanted token (grown if too few)
    lexical_points: int = 400
    lexical_edge: float = 0.05
    anchor_candidates: int = 2       # weakest lexical boundaries the LM scores
    anchor_points: int = 2000        # the fine grid those are looked for on

    @property
    def needs_lm(self) -> bool:
        return needs_model(self.features)


def needs_model(chosen: Sequence[str]) -> bool:
    """Whether the chosen features read the language model (the lexical ones do not)."""
    return any(f in CHAIN_FEATURES + ANCHOR_FEATURES for f in chosen)


# ------------------------------------------------------------------------------- tokens and probes

def tokens_at(text: str, start: int, count: int, tokenizer, chars_per_token: float = 8.0) -> list[int]:
    """The first `count` tokens of text[start:], tokenising only a window of characters (bounded cost)."""
    width = int(count * chars_per_token) + 16
    while True:
        end = min(len(text), start + width)
        ids = tokenizer(text[start:end], add_special_tokens=False)["input_ids"]
        if len(ids) > count or end == len(text):
            return list(ids[:count])
        width *= 2


def tokens_before(text: str, end: int, count: int, tokenizer, chars_per_token: float = 8.0) -> list[int]:
    """The last `count` tokens of text[:end], tokenising from a line start shortly before them."""
    width = int(count * chars_per_token) + 16
    while True:
        start = max(0, end - width)
        if start > 0:
            newline = text.find("\n", start, end)
            start = newline + 1 if newline != -1 else start
        ids = tokenizer(text[start:end], add_special_tokens=False)["input_ids"]
        if len(ids) >= count or start == 0:
            return list(ids[-count:]) if count else []
        width *= 2


def line_start_near(text: str, offset: int) -> int:
    """The line start closest to a character offset (the offset itself when the text has no line)."""
    before = text.rfind("\n", 0, offset)
    after = text.find("\n", offset)
    candidates = [p + 1 for p in (before, after) if p != -1 and p + 1 < len(text)]
    return min(candidates, key=lambda p: abs(p - offset)) if candidates else offset


def probe_starts(text: str, k: int, window_chars: int) -> list[int]:
    """K start offsets evenly spaced over the text (first at 0, last near the end), each moved forward
    to the next line start (or word start), so a probe never begins mid-word."""
    n = len(text)
    last = max(0, n - window_chars)
    raw = [0] if k <= 1 else [round(i * last / (k - 1)) for i in range(k)]
    starts = []
    for r in raw:
        s = r
        if r > 0:
            newline = text.find("\n", r, min(n, r + window_chars // 4))
            if newline != -1:
                s = newline + 1
            else:
                space = text.find(" ", r, min(n, r + 64))
                s = space + 1 if space != -1 else r
        starts.append(min(s, n))
    return starts


def make_probes(text: str, tokenizer, s: CoherenceSettings) -> list[list[int]]:
    """Up to K probes of exactly S tokens (a short document holds fewer distinct ones)."""
    window = int(s.segment_tokens * s.chars_per_token)
    probes, seen = [], set()
    for start in probe_starts(text, s.probes, window):
        if start in seen:
            continue
        seen.add(start)
        ids = tokens_at(text, start, s.segment_tokens, tokenizer, s.chars_per_token)
        if len(ids) == s.segment_tokens:
            probes.append(ids)
    return probes


# ------------------------------------------------------------------------------------------ scoring

def token_nll(lm: LanguageModel, rows: Sequence[Sequence[int]], head_chunk: int = 512) -> list[np.ndarray]:
    """NLL (nats, float32) of tokens 1..T-1 of each row given the tokens before it, one array per row
    (rows are right-padded into one batch; padding is not returned). The LM head is applied in chunks
    of positions (full logits of a long sequence over a 262k vocabulary would be gigabytes) and over
    the model's head subset when it has one."""
    import torch

    model = lm.model
    width = max(len(r) for r in rows)
    ids = torch.zeros((len(rows), width), dtype=torch.long)
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    for j, r in enumerate(rows):
        ids[j, :len(r)] = torch.tensor(list(r), dtype=torch.long)
        mask[j, :len(r)] = 1
    ids, mask = ids.to(lm.device), mask.to(lm.device)
    attention = mask if bool((mask == 0).any()) else None
    body = getattr(model, model.base_model_prefix, None)
    head = model.get_output_embeddings()
    cap = getattr(model.config, "final_logit_softcapping", None) or getattr(
        getattr(model.config, "text_config", None), "final_logit_softcapping", None)
    with torch.inference_mode():
        hidden = body(input_ids=ids, attention_mask=attention).last_hidden_state[:, :-1]
        targets = ids[:, 1:]
        b, t = targets.shape
        hidden = hidden.reshape(b * t, -1)
        flat = targets.reshape(-1)
        out = torch.empty(b * t, dtype=torch.float32, device=lm.device)
        for a in range(0, b * t, max(1, head_chunk)):
            h, y = hidden[a:a + head_chunk], flat[a:a + head_chunk]
            if lm.head is not None:
                logits, y = lm.head.logits_and_targets(h, y)
            else:
                logits = head(h)
            logits = logits.float()
            if cap:
                logits = torch.tanh(logits / cap) * cap
            out[a:a + head_chunk] = torch.nn.functional.cross_entropy(logits, y, reduction="none")
        nll = out.view(b, t).cpu().numpy()
    return [nll[j, :len(r) - 1] for j, r in enumerate(rows)]


def mean_nll(values: np.ndarray, skip_first: int) -> float:
    kept = values[skip_first:] if len(values) > skip_first else values
    return float(np.mean(kept)) if len(kept) else math.nan


def score_alone(lm: LanguageModel, segments: Sequence[Sequence[int]], s: CoherenceSettings) -> list[np.ndarray]:
    """Per-token NLL of every segment scored after BOS only, in length-sorted batches."""
    prefix = [lm.bos_id] if lm.bos_id is not None else []
    out: list[np.ndarray | None] = [None] * len(segments)
    order = sorted(range(len(segments)), key=lambda i: len(segments[i]))
    for b in range(0, len(order), s.batch_size):
        chosen = order[b:b + s.batch_size]
        rows = [prefix + list(segments[i]) for i in chosen]
        for i, nll in zip(chosen, token_nll(lm, rows, s.head_chunk)):
            out[i] = nll[len(prefix) - 1:] if prefix else np.r_[np.nan, nll]
    return out  # type: ignore[return-value]


def score_chain(lm: LanguageModel, segments: Sequence[Sequence[int]], s: CoherenceSettings) -> list[np.ndarray]:
    """Per-token NLL of every segment with all earlier segments as context, from one forward pass
    over BOS + seg_0 + seg_1 + … (a chain longer than max_chain_tokens restarts in windows that carry
    as many whole earlier segments as fit in half a window)."""
    prefix = [lm.bos_id] if lm.bos_id is not None else []
    out: list[np.ndarray] = []
    i = 0
    while i < len(segments):
        context: list[int] = []
        j = i - 1
        while j >= 0 and len(context) + len(segments[j]) <= s.max_chain_tokens // 2:
            context = list(segments[j]) + context
            j -= 1
        row = prefix + context
        first = i
        while i < len(segments) and (i == first or len(row) + len(segments[i]) <= s.max_chain_tokens):
            row += list(segments[i])
            i += 1
        nll = token_nll(lm, [row], s.head_chunk)[0]
        position = len(prefix) + len(context) - 1
        for k in range(first, i):
            n = len(segments[k])
            out.append(nll[position:position + n] if position >= 0 else np.r_[np.nan, nll[:n - 1]])
            position += n
    return out


def chain_features(lm: LanguageModel, text: str, s: CoherenceSettings) -> dict[str, float]:
    """chain_min and chain_mean: the smallest and the mean gain of probes 1..K-1 given all earlier probes."""
    probes = make_probes(text, lm.tokenizer, s)
    if len(probes) < 2:
        return {"chain_min": math.nan, "chain_mean": math.nan}
    alone = score_alone(lm, probes, s)
    chain = score_chain(lm, probes, s)
    gains = np.array([mean_nll(a, s.skip_first) - mean_nll(c, s.skip_first) for a, c in zip(alone[1:], chain[1:])])
    return {"chain_min": float(gains.min()), "chain_mean": float(gains.mean())}


def anchored_gain(lm: LanguageModel, text: str, offset: int, s: CoherenceSettings) -> float:
    """Gain of the S tokens starting at the line start nearest `offset`, scored after the C tokens
    before it versus alone (NaN when either side is too short)."""
    boundary = line_start_near(text, offset)
    after = tokens_at(text, boundary, s.segment_tokens, lm.tokenizer, s.chars_per_token)
    before = tokens_before(text, boundary, s.context_tokens, lm.tokenizer, s.chars_per_token)
    if len(after) < s.skip_first + 8 or not before:
        return math.nan
    prefix = [lm.bos_id] if lm.bos_id is not None else []
    alone, with_context = token_nll(lm, [prefix + after, prefix + before + after], s.head_chunk)
    start = len(prefix) - 1
    alone_nll = alone[start:] if prefix else np.r_[np.nan, alone]
    context_nll = with_context[len(prefix) + len(before) - 1:]
    return mean_nll(alone_nll, s.skip_first) - mean_nll(context_nll, s.skip_first)


def anchored_gains(lm: LanguageModel, text: str, offsets: Sequence[int], s: CoherenceSettings) -> list[float]:
    """anchored_gain at each offset, every row of every offset in one batch (NaN where a side is too short)."""
    prefix = [lm.bos_id] if lm.bos_id is not None else []
    pairs: list[tuple[list[int], list[int]] | None] = []
    for offset in offsets:
        boundary = line_start_near(text, offset)
        after = tokens_at(text, boundary, s.segment_tokens, lm.tokenizer, s.chars_per_token)
        before = tokens_before(text, boundary, s.context_tokens, lm.tokenizer, s.chars_per_token)
        pairs.append((before, after) if len(after) >= s.skip_first + 8 and before else None)
    usable = [p for p in pairs if p is not None]
    if not usable:
        return [math.nan] * len(offsets)
    rows = [prefix + a for _, a in usable] + [prefix + b + a for b, a in usable]
    nll = token_nll(lm, rows, s.head_chunk)
    gains, j = [], 0
    for p in pairs:
        if p is None:
            gains.append(math.nan)
            continue
        before, _ = p
        alone = nll[j][len(prefix) - 1:] if prefix else np.r_[np.nan, nll[j]]
        context = nll[len(usable) + j][len(prefix) + len(before) - 1:]
        gains.append(mean_nll(alone, s.skip_first) - mean_nll(context, s.skip_first))
        j += 1
    return gains


# --------------------------------------------------------------------------------- features, score

def features(text: str, language: str | None, s: CoherenceSettings, lm: LanguageModel | None) -> dict[str, float]:
    """Every feature the score reads (and the lexical ones always: they are cheap and locate the
    anchored boundary)."""
    out = cohesion_features(text, language, s.lexical_points, s.lexical_edge)
    wanted = set(s.features)
    if wanted & set(CHAIN_FEATURES):
        out.update(chain_features(lm, text, s))
    if wanted & set(ANCHOR_FEATURES):
        candidates = weakest_boundaries(text, language, s.anchor_candidates, s.anchor_points, s.lexical_edge)
        gains = [g for g in anchored_gains(lm, text, candidates, s) if g == g]
        out["anchor_gain"] = float(min(gains)) if gains else math.nan
    return out


def score(values: Mapping[str, float], chosen: Sequence[str], scales: Mapping[str, Sequence[float]]) -> float:
    """Σ (value − centre) / spread over the chosen features; NaN when one of them is missing."""
    total = 0.0
    for name in chosen:
        value = values.get(name, math.nan)
        if value is None or value != value:
            return math.nan
        centre, spread = scales[name]
        total += (value - centre) / spread
    return float(total)


def verdict(coherence: float, threshold: float | None) -> tuple[str | None, str | None]:
    """(reason, detail) when the score is below the threshold; a missing score never removes."""
    if threshold is None or coherence != coherence or coherence >= threshold:
        return None, None
    return RULE, f"coherence {coherence:.3f} < {threshold:g}"
