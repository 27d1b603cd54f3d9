"""Training document classifiers from labelled text: the report's "fine-tuned BERT" for CPUs and GPUs.

Two modes write the same classifier directory (see udfs/classifiers.py):
- fast: the encoder stays frozen; every text is embedded once (cached on disk, so a re-run costs
  only the head) and a small head is trained on the vectors. Minutes on a laptop CPU.
- full: encoder and head are fine-tuned together; the tuned encoder is saved inside the directory.

The split is by a hash of the text, so it does not depend on file order and duplicates never land on
both sides. The threshold is the lowest one whose validation precision reaches the target (the
report removes documents "above a threshold"; precision first, because a false positive is good data
lost); the test split, never seen by training or threshold choice, gives the reported figures.
"""
from __future__ import annotations

import hashlib
import json
import math
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import numpy as np

from corpusforge.udfs import classifiers
from corpusforge.udfs.classifiers import ClassifierCard, WindowPolicy
from corpusforge.udfs.classifiers.card import SecondLook
from corpusforge.udfs.classifiers.scorer import merge_second_look, second_look_rows


@dataclass
class Examples:
    """Labelled texts; `labels` is [n, outputs] of 0/1, `language` and `source` are for reporting."""
    texts: list[str]
    labels: np.ndarray
    language: list[str]
    source: list[str]
    role: list[str] = field(default_factory=list)  # "train" (split by hash) or "test" (held out whole)
    group: list[str] = field(default_factory=list)  # a reporting group ("" for none), e.g. held-out works
    weight: list[float] = field(default_factory=list)  # loss and threshold weight (empty: 1 each)
    windows: list[int] = field(default_factory=list)   # > 0: trained on that many windows of the text, not its head

    def subset(self, index: np.ndarray) -> "Examples":
        pick = index.tolist()
        return Examples([self.texts[i] for i in pick], self.labels[index], [self.language[i] for i in pick],
                        [self.source[i] for i in pick], [self.role[i] for i in pick],
                        [self.group[i] for i in pick] if self.group else [],
                        [self.weight[i] for i in pick] if self.weight else [],
                        [self.windows[i] for i in pick] if self.windows else [])

    def weights(self) -> np.ndarray:
        return np.asarray(self.weight, dtype=np.float32) if self.weight else np.ones(len(self), np.float32)

    def __len__(self) -> int:
        return len(self.texts)


@dataclass(frozen=True)
class TrainingOptions:
    name: str
    outputs: tuple[str, ...]
    mode: str                   # fast | full
    base_model: str             # encoder reference (package:NAME or a directory)
    pooling: str
    normalize: bool
    max_tokens: int
    validation_fraction: float
    test_fraction: float
    target_precision: float
    seed: int
    hidden: tuple[int, ...]
    epochs: int
    learning_rate: float
    weight_decay: float
    batch_size: int
    patience: int
    fine_tune_epochs: int
    fine_tune_learning_rate: float
    embedding_cache_dir: str | None
    direction: str = "above"
    text_prefix: str = ""            # put before every text (e5: "query: "); written into classifier.json
    encoder_cache_dir: str | None = None  # where converted: encoders live (conf inference.encoder_cache_dir)
    second_look: SecondLook | None = None  # written into the card; evaluation reads documents as inference will

    def encoder_dir(self) -> Path:
        return classifiers.resolve_encoder(self.base_model, Path.cwd(), self.encoder_cache_dir)


def split_of(text: str, seed: int, validation_fraction: float, test_fraction: float) -> str:
    """train | validation | test for a text, from a hash of the text (stable across runs and orders)."""
    digest = hashlib.sha1(f"{seed}\x00{text}".encode("utf-8")).digest()
    u = int.from_bytes(digest[:8], "big") / 2 ** 64
    if u < test_fraction:
        return "test"
    return "validation" if u < test_fraction + validation_fraction else "train"


def split_examples(data: Examples, options: TrainingOptions) -> dict[str, Examples]:
    parts = {"train": [], "validation": [], "test": []}
    for i, text in enumerate(data.texts):
        role = data.role[i] if data.role else "train"
        part = "test" if role == "test" else split_of(text, options.seed, options.validation_fraction,
                                                      options.test_fraction)
        parts[part].append(i)
    return {k: data.subset(np.asarray(v, dtype=np.int64)) for k, v in parts.items()}


def stratified_sample(labels: np.ndarray, limit: int, seed: int) -> np.ndarray:
    """At most `limit` row indices, each label kept in proportion (deterministic for a seed)."""
    n = len(labels)
    if n <= limit:
        return np.arange(n)
    rng = np.random.default_rng(seed)
    keys = labels.reshape(n, -1).astype(np.int64) @ (2 ** np.arange(labels.reshape(n, -1).shape[1]))
    chosen = []
    for key in np.unique(keys):
        rows = np.flatnonzero(keys == key)
        take = max(1, round(limit * len(rows) / n))
        chosen.append(rng.choice(rows, size=min(take, len(rows)), replace=False))
    return np.sort(np.concatenate(chosen))


# --- embeddings -------------------------------------------------------------------------------

def embed_texts(texts: Sequence[str], options: TrainingOptions, batch_size: int = 64) -> np.ndarray:
    """Frozen-encoder vectors of texts (head window), through the same code path as inference."""
    encoder_dir = options.encoder_dir()
    cache = _cache_file(encoder_dir, texts, options)
    if cache is not None and cache.is_file():
        return np.load(cache)
    encoder = classifiers.load_encoder(encoder_dir, options.pooling, options.normalize, "cpu")  # float32: the reference
    policy = WindowPolicy(max_tokens=options.max_tokens, long_documents="head", chunks=1, aggregate="max",
                          batch_size=batch_size)
    vectors = np.zeros((len(texts), encoder.dim), dtype=np.float32)
    step = 2048  # bounded memory: windows of a slice at a time
    for begin in range(0, len(texts), step):
        windows, owners = encoder.windows(texts[begin:begin + step], policy, options.text_prefix)
        vectors[begin + owners] = encoder.embed(windows, batch_size).numpy()
    if cache is not None:
        _store(cache, lambda tmp: np.save(tmp, vectors))
    return vectors


def embed_windows(texts: Sequence[str], options: TrainingOptions, windows: int, batch_size: int = 64,
                  long_only: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Frozen-encoder vectors of `windows` evenly spaced windows of each text (fewer for a short text;
    the first is its head) and each window's text index, through the same code path as inference.
    long_only: only the texts longer than one window (what a second look reads again)."""
    encoder_dir = options.encoder_dir()
    cache = _cache_file(encoder_dir, texts, options, windows, long_only)
    if cache is not None and cache.is_file():
        with np.load(cache) as stored:
            return stored["vectors"], stored["owners"]
    encoder = classifiers.load_encoder(encoder_dir, options.pooling, options.normalize, "cpu")
    policy = WindowPolicy(max_tokens=options.max_tokens, long_documents="chunks", chunks=windows, aggregate="max",
                          batch_size=batch_size)
    tokens, owners = encoder.windows(texts, policy, options.text_prefix)
    if long_only:
        keep = np.bincount(owners, minlength=len(texts))[owners] > 1
        tokens, owners = [t for t, k in zip(tokens, keep) if k], owners[keep]
    vectors = encoder.embed(tokens, batch_size).numpy() if tokens else np.zeros((0, encoder.dim), np.float32)
    if cache is not None:
        _store(cache, lambda tmp: np.savez(tmp, vectors=vectors, owners=owners))
    return vectors, owners


def _store(cache: Path, write) -> None:
    """write(tmp) a cache file beside `cache`, then rename it into place: a killed run leaves no half file."""
    cache.parent.mkdir(parents=True, exist_ok=True)
    tmp = cache.with_suffix(".tmp" + cache.suffix)
    write(tmp)
    tmp.replace(cache)


def _cache_file(encoder_dir: Path, texts: Sequence[str], options: TrainingOptions, windows: int = 1,
                long_only: bool = False) -> Path | None:
    if not options.embedding_cache_dir:
        return None
    digest = hashlib.sha256()  # what the encoder is (its content), how it is read, and the texts
    what = [classifiers.encoder_identity(encoder_dir), options.pooling, options.normalize, options.max_tokens,
            options.text_prefix]
    digest.update(json.dumps(what if windows == 1 else [*what, "chunks", windows, *(["long"] if long_only else [])]).encode())
    for text in texts:
        digest.update(text.encode("utf-8", "replace"))
        digest.update(b"\x00")
    return Path(options.embedding_cache_dir).expanduser() / f"{digest.hexdigest()[:24]}.{'npy' if windows == 1 else 'npz'}"


def training_rows(part: Examples, head_vectors: np.ndarray, options: TrainingOptions
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Vectors, labels and weights to train on: an example whose source reads `windows` contributes
    every one of its windows (each with its label and weight), the others their head window. Why: a
    judged passage's label is about the whole passage, and a head window of it may hold none of what
    earned the label (a Chinese erotica passage runs ~550 tokens, the window 256)."""
    weights = part.weights()
    windowed = np.asarray(part.windows or [0] * len(part))
    keep = windowed == 0
    x, y, w = [head_vectors[keep]], [part.labels[keep]], [weights[keep]]
    for count in sorted(set(windowed[~keep].tolist())):
        rows = np.flatnonzero(windowed == count)
        vectors, owners = embed_windows([part.texts[i] for i in rows], options, count, options.batch_size)
        x.append(vectors), y.append(part.labels[rows[owners]]), w.append(weights[rows[owners]])
    return np.concatenate(x), np.concatenate(y), np.concatenate(w)


def second_look_scores(head, part: Examples, scores: np.ndarray, options: TrainingOptions) -> np.ndarray:
    """Scores as the stage computes them: the head window's, then, for documents whose head reaches the
    second look's `above`, the max over the second look's windows (udfs/classifiers/scorer.py)."""
    import torch

    look = options.second_look
    if look is None or not len(part):
        return scores
    picked = second_look_rows(scores[:, None], np.ones(len(part), bool), look)
    if not len(picked):
        return scores
    window_vectors, owners = embed_windows([part.texts[i] for i in picked], options, look.windows, options.batch_size,
                                           long_only=True)
    if not len(owners):
        return scores
    with torch.no_grad():
        window_scores = torch.sigmoid(head(torch.from_numpy(window_vectors))).double().numpy()[:, :1]
    return merge_second_look(scores[:, None], picked, owners, window_scores)[:, 0]


# --- training ---------------------------------------------------------------------------------

def train_head(x_train: np.ndarray, y_train: np.ndarray, x_val: np.ndarray, y_val: np.ndarray,
               options: TrainingOptions, w_train: np.ndarray | None = None, w_val: np.ndarray | None = None):
    """A head on frozen vectors: AdamW on class-weighted BCE (each example also weighted by its source's
    weight), early stopping on validation loss."""
    import torch

    torch.manual_seed(options.seed)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # small matrices: thread synchronisation costs more than it saves
    w_train = np.ones(len(x_train), np.float32) if w_train is None else w_train.astype(np.float32)
    w_val = np.ones(len(x_val), np.float32) if w_val is None else w_val.astype(np.float32)
    try:
        return _train_head(x_train, y_train, x_val, y_val, options, w_train, w_val)
    finally:
        torch.set_num_threads(threads)


def _train_head(x_train, y_train, x_val, y_val, options: TrainingOptions, w_train, w_val):
    import torch

    head = classifiers.build_head(x_train.shape[1], options.hidden, y_train.shape[1])
    loss_fn = _weighted_bce(y_train, w_train)
    optimiser = torch.optim.AdamW(head.parameters(), lr=options.learning_rate, weight_decay=options.weight_decay)
    xt, yt, wt = torch.from_numpy(x_train), torch.from_numpy(y_train.astype(np.float32)), torch.from_numpy(w_train)
    xv, yv, wv = torch.from_numpy(x_val), torch.from_numpy(y_val.astype(np.float32)), torch.from_numpy(w_val)
    generator = torch.Generator().manual_seed(options.seed)
    best, best_loss, waited, history = None, math.inf, 0, []
    for epoch in range(options.epochs):
        head.train()
        for batch in torch.randperm(len(xt), generator=generator).split(options.batch_size):
            optimiser.zero_grad()
            loss_fn(head(xt[batch]), yt[batch], wt[batch]).backward()
            optimiser.step()
        head.eval()
        with torch.no_grad():
            val_loss = float(loss_fn(head(xv), yv, wv)) if len(xv) else 0.0
        history.append(round(val_loss, 5))
        if val_loss < best_loss - 1e-5:
            best, best_loss, waited = {k: v.clone() for k, v in head.state_dict().items()}, val_loss, 0
        else:
            waited += 1
            if waited >= options.patience:
                break
    if best is not None:
        head.load_state_dict(best)
    return head.eval(), history


def _weighted_bce(y: np.ndarray, weights: np.ndarray | None = None):
    """BCE with positives weighted up to balance the classes (by example weight), and each example's
    loss by its own weight: loss(logits, targets, weights)."""
    import torch

    w = np.ones(len(y), np.float64) if weights is None else weights.astype(np.float64)
    positives = (y * w[:, None]).sum(0).clip(min=1e-9)
    pos_weight = torch.tensor(((1 - y) * w[:, None]).sum(0).clip(min=1e-9) / positives, dtype=torch.float32)
    element = torch.nn.BCEWithLogitsLoss(pos_weight=pos_weight, reduction="none")

    def loss(logits, targets, example_weights=None):
        per = element(logits, targets).mean(1)
        if example_weights is None:
            return per.mean()
        return (per * example_weights).sum() / example_weights.sum().clamp(min=1e-9)
    return loss


def fine_tune(train: Examples, validation: Examples, options: TrainingOptions, out_dir: Path):
    """Encoder and head trained together; returns the head and writes the tuned encoder to out_dir/encoder."""
    import torch

    torch.manual_seed(options.seed)
    encoder = classifiers.Encoder(options.encoder_dir(), options.pooling, options.normalize, "cpu")  # no pooler
    model = encoder.model.train()
    head = classifiers.build_head(encoder.dim, options.hidden, train.labels.shape[1])
    policy = WindowPolicy(options.max_tokens, "head", 1, "max", options.batch_size)
    windows, _ = encoder.windows(train.texts, policy, options.text_prefix)
    loss_fn = _weighted_bce(train.labels)
    y = torch.from_numpy(train.labels.astype(np.float32))
    optimiser = torch.optim.AdamW(list(model.parameters()) + list(head.parameters()),
                                  lr=options.fine_tune_learning_rate, weight_decay=options.weight_decay)
    generator = torch.Generator().manual_seed(options.seed)
    history = []
    for epoch in range(options.fine_tune_epochs):
        total = 0.0
        for batch in torch.randperm(len(windows), generator=generator).split(options.batch_size):
            chosen = batch.tolist()
            width = max(len(windows[i]) for i in chosen)
            ids = torch.full((len(chosen), width), encoder.pad_id, dtype=torch.long)
            mask = torch.zeros_like(ids)
            for row, i in enumerate(chosen):
                ids[row, :len(windows[i])] = torch.tensor(windows[i])
                mask[row, :len(windows[i])] = 1
            pooled = encoder.pool(model(input_ids=ids, attention_mask=mask).last_hidden_state, mask)
            loss = loss_fn(head(pooled), y[batch])
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            total += float(loss.detach()) * len(chosen)
        history.append(round(total / max(1, len(windows)), 5))
    model.eval()
    target = out_dir / "encoder"
    target.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(str(target), safe_serialization=True)
    encoder.tokenizer.save_pretrained(str(target))
    return head.eval(), history


# --- evaluation -------------------------------------------------------------------------------

def threshold_for_precision(y: np.ndarray, scores: np.ndarray, target: float,
                            weights: np.ndarray | None = None) -> tuple[float, bool]:
    """The lowest threshold whose precision reaches the target (most recall at that precision);
    when none does, the threshold of best F1, flagged as not reaching the target. Examples count by
    their weight (a judged passage can count more than a lexicon-labelled tweet)."""
    from sklearn.metrics import precision_recall_curve

    if y.sum() == 0 or y.sum() == len(y):
        return 0.5, False
    precision, recall, thresholds = precision_recall_curve(y, scores, sample_weight=weights)
    precision, recall = precision[:-1], recall[:-1]
    reaching = np.flatnonzero(precision >= target)
    if len(reaching):
        best = reaching[np.argmax(recall[reaching])]
        return float(thresholds[best]), True
    f1 = 2 * precision * recall / np.clip(precision + recall, 1e-12, None)
    return float(thresholds[np.argmax(f1)]), False


def binary_metrics(y: np.ndarray, scores: np.ndarray, threshold: float) -> dict:
    """Precision, recall, F1 at the threshold, and the threshold-free ROC-AUC and average precision."""
    from sklearn.metrics import average_precision_score, precision_recall_fscore_support, roc_auc_score

    y = y.astype(int)
    predicted = (scores >= threshold).astype(int)
    p, r, f, _ = precision_recall_fscore_support(y, predicted, average="binary", zero_division=0)
    both = 0 < y.sum() < len(y)
    return {"examples": int(len(y)), "positives": int(y.sum()), "precision": round(float(p), 4),
            "recall": round(float(r), 4), "f1": round(float(f), 4),
            "roc_auc": round(float(roc_auc_score(y, scores)), 4) if both else None,
            "average_precision": round(float(average_precision_score(y, scores)), 4) if both else None,
            "predicted_positive": int(predicted.sum())}


def report(part: Examples, scores: np.ndarray, threshold: float) -> dict:
    """Metrics of the first output, overall, per language, per source, and per reporting group and
    language (held-out works, web-like text …) when the recipe names groups."""
    y = part.labels[:, 0]
    out = {"all": binary_metrics(y, scores, threshold), "by_language": {}, "by_source": {}}
    for key, values in (("by_language", part.language), ("by_source", part.source)):
        values = np.asarray(values)
        for value in sorted(set(values.tolist())):
            rows = values == value
            out[key][value] = binary_metrics(y[rows], scores[rows], threshold)
    groups, languages = np.asarray(part.group or [""] * len(part)), np.asarray(part.language)
    for group in sorted(set(groups.tolist()) - {""}):
        rows = groups == group
        out.setdefault("by_group", {})[group] = {
            "all": binary_metrics(y[rows], scores[rows], threshold),
            "by_language": {lang: binary_metrics(y[rows & (languages == lang)], scores[rows & (languages == lang)],
                                                 threshold) for lang in sorted(set(languages[rows].tolist()))}}
    return out


# --- the whole job ----------------------------------------------------------------------------

def train_classifier(data: Examples, options: TrainingOptions, out_dir: str | Path, log=print) -> dict:
    """Split, train (fast or full), choose the threshold, evaluate, write the classifier directory."""
    import torch
    from safetensors.torch import save_file

    started = time.monotonic()
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    parts = split_examples(data, options)
    for name, part in parts.items():
        log(f"{name}: {len(part)} examples, {int(part.labels[:, 0].sum())} positive")
    if len(parts["train"]) == 0 or len(parts["validation"]) == 0:
        raise ValueError("training needs examples in both the train and validation splits; add data or "
                         "raise training.validation_fraction")
    timings = {}
    if options.mode == "fast":
        tick = time.monotonic()
        vectors = {k: embed_texts(p.texts, options, options.batch_size) if len(p) else np.zeros((0, 1), np.float32)
                   for k, p in parts.items()}
        x_train, y_train, w_train = training_rows(parts["train"], vectors["train"], options)
        x_val, y_val, w_val = training_rows(parts["validation"], vectors["validation"], options)
        timings["embedding_seconds"] = round(time.monotonic() - tick, 2)
        tick = time.monotonic()
        head, history = train_head(x_train, y_train, x_val, y_val, options, w_train, w_val)
        timings["training_seconds"] = round(time.monotonic() - tick, 2)
        encoder_ref = options.base_model
        with torch.no_grad():
            scores = {k: torch.sigmoid(head(torch.from_numpy(v))).double().numpy()[:, 0] if len(parts[k]) else
                      np.zeros(0) for k, v in vectors.items()}
        # the second look where figures are read (the train split's scores are not)
        scores = {k: v if k == "train" else second_look_scores(head, parts[k], v, options) for k, v in scores.items()}
    else:
        tick = time.monotonic()
        head, history = fine_tune(parts["train"], parts["validation"], options, out_dir)
        timings["training_seconds"] = round(time.monotonic() - tick, 2)
        encoder_ref = "encoder"
        scores = None
    card = ClassifierCard(directory=out_dir, name=options.name, encoder=encoder_ref, pooling=options.pooling,
                          normalize=options.normalize, outputs=options.outputs, activation="sigmoid",
                          hidden=options.hidden, threshold=None, direction=options.direction,
                          text_prefix=options.text_prefix, second_look=options.second_look)
    save_file({k: v.contiguous() for k, v in head.state_dict().items()}, str(out_dir / classifiers.HEAD_FILE))
    (out_dir / classifiers.CARD_FILE).write_text(json.dumps(card.to_json(), indent=2) + "\n", encoding="utf-8")
    if scores is None:  # full mode: score the splits through the saved model, as inference will
        scorer = classifiers.Scorer([ClassifierCard.load(out_dir)],
                                    WindowPolicy(options.max_tokens, "head", 1, "max", options.batch_size), "cpu")
        scores = {k: scorer.score(p.texts)[options.name][:, 0] if len(p) else np.zeros(0) for k, p in parts.items()}
    threshold, reached = threshold_for_precision(parts["validation"].labels[:, 0], scores["validation"],
                                                 options.target_precision, parts["validation"].weights())
    card = ClassifierCard(**{**card.__dict__, "threshold": round(threshold, 6)})
    (out_dir / classifiers.CARD_FILE).write_text(json.dumps(card.to_json(), indent=2) + "\n", encoding="utf-8")
    metrics = {
        "name": options.name, "mode": options.mode, "base_model": options.base_model,
        "outputs": list(options.outputs), "threshold": round(threshold, 6),
        "target_precision": options.target_precision, "target_precision_reached": reached,
        "split": {k: {"examples": len(p), "positives": int(p.labels[:, 0].sum()),
                      "by_language": dict(Counter(p.language))} for k, p in parts.items()},
        "validation": report(parts["validation"], scores["validation"], threshold),
        "test": report(parts["test"], scores["test"], threshold) if len(parts["test"]) else None,
        "history": history, **timings, "seconds": round(time.monotonic() - started, 2),
        "options": {k: (v.to_json() if isinstance(v, SecondLook) else v) for k, v in options.__dict__.items()
                    if k not in ("embedding_cache_dir", "encoder_cache_dir")},
    }
    (out_dir / classifiers.METRICS_FILE).write_text(json.dumps(metrics, indent=2, ensure_ascii=False) + "\n",
                                                    encoding="utf-8")
    return metrics
