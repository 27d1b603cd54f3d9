"""`corpusforge train-fluency`: the fluency classifier from real fluent text and controlled corruptions.

The report's annotators scored fluency on consistency, noise, information content and grammar and a
BERT model was fine-tuned on their labels. No such labels are public, so the examples are made
(udfs/quality_data.py): real fluent passages — gold main texts of article pages and Chinese news
documents — kept as they are, or damaged by one corruption family per aspect. Each aspect's output
is trained on the clean passages against that aspect's corruptions only (an example damaged in
another aspect says nothing about this one: trained on it, an output that cannot see its own damage
learns "looks clean, so probably damaged here" and scores clean text lowest). The four aspect heads
are stacked into one multi-output head (block-diagonal: exactly the four heads side by side) on the
frozen encoder (fast mode: vectors computed once and cached); the combined score is the conf's
combination of the four, and its threshold keeps a chosen share of the clean validation passages.

Splits are by source document (a hash of its id), so no passage, nor any corruption of it, is on
both sides. Figures are per aspect, per corruption and per language, on validation and test.
"""
from __future__ import annotations

import json
import sys
import time
from collections import Counter
from pathlib import Path
import numpy as np

from corpusforge.conf import Config
from corpusforge.jobs.training.data import passages, read_jsonl
from corpusforge.jobs.training.recipes import FluencyRecipe, RecipeError, check_splits, load_recipe, training_options
from corpusforge.udfs import classifiers
from corpusforge.udfs.classifier_training import TrainingOptions, binary_metrics, embed_texts, split_of, train_head
from corpusforge.udfs.classifiers import ClassifierCard
from corpusforge.udfs.language import detect_language
from corpusforge.udfs.decisions import combine
from corpusforge.udfs.quality_data import ASPECTS, Example, Materials, Passage, labelled_examples, vocabulary_of


def load_fluency_recipe(path: str | Path) -> FluencyRecipe:
    """A fluency recipe, with the checks that span its fields."""
    recipe = load_recipe(path, FluencyRecipe)
    missing = [lang for lang in recipe.languages if lang not in recipe.passage_chars]
    if missing:
        raise RecipeError(f"recipe {path}: passage_chars has no size for {missing}.")
    if not any(recipe.combine.weights.get(a, 0) > 0 for a in ASPECTS):
        raise RecipeError(f"recipe {path}: combine.weights must give one of {list(ASPECTS)} a positive weight.")
    return recipe


def log(message: str) -> None:
    print(f"train-fluency: {message}", file=sys.stderr, flush=True)


def _resolve(data_root: Path, path: str) -> Path:
    p = Path(path)
    p = p if p.is_absolute() else data_root / p
    if not p.is_file():
        raise RecipeError(f"data file {p} does not exist (relative paths are under --data-root).")
    return p


def script_language(text: str) -> str | None:
    """zh / ja / en for a short line by its script (CLD2 is unreliable on a few words)."""
    han = sum(1 for c in text if "\u4e00" <= c <= "\u9fff")
    kana = sum(1 for c in text if "\u3040" <= c <= "\u30ff")
    latin = sum(1 for c in text if c.isascii() and c.isalpha())
    if kana:
        return "ja"
    if han:
        return "zh"
    return "en" if latin >= 2 else None


def read_documents(recipe: FluencyRecipe, data_root: Path) -> tuple[list[dict], Counter]:
    """Fluent documents {id, text, language, title}; documents in other languages are counted."""
    docs, skipped = [], Counter()
    for source in recipe.documents:
        path = _resolve(data_root, source.path)
        rows = read_jsonl(path, "train-fluency")[: source.max_documents]
        for n, row in enumerate(rows):
            text = str(row.get(source.text) or "").strip()
            if not text:
                skipped["empty"] += 1
                continue
            language = detect_language(text)[0] if source.language == "detect" else source.language
            language = language.split("-", 1)[0]
            if language not in recipe.languages:
                skipped[f"language:{language}"] += 1
                continue
            doc_id = f"{path.name}:{row.get(source.id) if source.id else n}"
            docs.append({"id": doc_id, "text": text, "language": language,
                         "title": str(row.get(source.title) or "").strip() if source.title else ""})
        log(f"{path.name}: {len(rows)} documents read")
    return docs, skipped


def read_pages(recipe: FluencyRecipe, data_root: Path) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """Boilerplate lines and titles per language from real pages (lines of the whole page text that
    are not in its main text)."""
    from fastwarc.warc import ArchiveIterator, WarcRecordType
    from resiliparse.extract.html2text import extract_plain_text
    from resiliparse.parse.html import HTMLTree

    boilerplate: dict[str, set[str]] = {}
    titles: dict[str, set[str]] = {}
    for source in recipe.pages:
        gold = {}
        if source.groundtruth:
            gold = {r["warc_record_id"]: str(r.get(source.main) or "") for r in
                    read_jsonl(_resolve(data_root, source.groundtruth), "train-fluency")}
        pages = 0
        with _resolve(data_root, source.warc).open("rb") as stream:
            for record in ArchiveIterator(stream, record_types=WarcRecordType.response, parse_http=True):
                tree = HTMLTree.parse_from_bytes(record.reader.read())
                main = gold.get(record.headers.get("WARC-Record-ID")) or extract_plain_text(tree, main_content=True)
                for line in extract_plain_text(tree, main_content=False).splitlines():
                    line = line.strip()
                    if 2 <= len(line) <= 80 and line not in main:
                        language = script_language(line)
                        if language:
                            boilerplate.setdefault(language, set()).add(line)
                title = (tree.title or "").strip()
                if 4 <= len(title) <= 150 and script_language(title):
                    titles.setdefault(script_language(title), set()).add(title)
                pages += 1
        log(f"{source.warc}: {pages} pages")
    return ({k: sorted(v) for k, v in boilerplate.items()}, {k: sorted(v) for k, v in titles.items()})


def make_passages(docs: list[dict], recipe: FluencyRecipe, seed: int) -> list[Passage]:
    """The first passages of every document, capped per language by a seeded sample."""
    rng = np.random.default_rng(seed)
    out = []
    for language in recipe.languages:
        size = recipe.passage_chars[language]
        chosen = [Passage(p, language, d["id"]) for d in docs if d["language"] == language
                  for p in [x for x in passages(d["text"], size) if len(x) >= size // 3][: recipe.passages_per_document]]
        if len(chosen) > recipe.max_passages_per_language:
            keep = np.sort(rng.choice(len(chosen), recipe.max_passages_per_language, replace=False))
            chosen = [chosen[i] for i in keep]
        out.extend(chosen)
    return out


# --- training ---------------------------------------------------------------------------------

def train_aspect_heads(examples: dict[str, list[Example]], vectors: dict[str, np.ndarray],
                       labels: dict[str, np.ndarray], options: TrainingOptions):
    """One head per aspect on clean vs that aspect's corruptions, stacked into one four-output head."""
    heads, history = [], {}
    for j, aspect in enumerate(ASPECTS):
        rows = {k: np.flatnonzero([e.family == "clean" or e.labels[j] == 0 for e in v]) for k, v in examples.items()}
        head, history[aspect] = train_head(vectors["train"][rows["train"]], labels["train"][rows["train"], j:j + 1],
                                           vectors["validation"][rows["validation"]],
                                           labels["validation"][rows["validation"], j:j + 1], options)
        heads.append(head)
    return stack_heads(heads, vectors["train"].shape[1], options.hidden), history


def stack_heads(heads: list, input_dim: int, hidden: tuple[int, ...]):
    """K one-output heads (no or one hidden layer) as one K-output head of build_head's shape: hidden
    layers concatenated, output layer block-diagonal, so output k equals head k exactly."""
    import torch

    if len(hidden) > 1:
        raise ValueError("stacking supports heads with at most one hidden layer (training.hidden_units)")
    k = len(heads)
    stacked = classifiers.build_head(input_dim, tuple(h * k for h in hidden), k)
    with torch.no_grad():
        if not hidden:
            stacked[0].weight.copy_(torch.cat([h[0].weight for h in heads]))
            stacked[0].bias.copy_(torch.cat([h[0].bias for h in heads]))
            return stacked.eval()
        width = hidden[0]
        stacked[0].weight.copy_(torch.cat([h[0].weight for h in heads]))
        stacked[0].bias.copy_(torch.cat([h[0].bias for h in heads]))
        stacked[2].weight.zero_()
        for i, h in enumerate(heads):
            stacked[2].weight[i, i * width:(i + 1) * width] = h[2].weight[0]
        stacked[2].bias.copy_(torch.cat([h[2].bias for h in heads]))
    return stacked.eval()


# --- evaluation -------------------------------------------------------------------------------

def aspect_report(examples: list[Example], scores: np.ndarray) -> dict:
    """Per aspect: how well its output tells its own corruptions from clean passages (score < 0.5
    counts as detected), per corruption and per language, and how high it stays on the other
    aspects' corruptions (it should: an aspect output is not a generic 'damaged' detector)."""
    family = np.array([e.family for e in examples])
    language = np.array([e.language for e in examples])
    labels = np.array([e.labels for e in examples])
    clean = family == "clean"
    out = {}
    for j, aspect in enumerate(ASPECTS):
        damaged = labels[:, j] == 0
        rows = damaged | clean
        bad = 1.0 - scores[:, j]
        entry = {"vs_clean": binary_metrics(damaged[rows].astype(int), bad[rows], 0.5), "by_corruption": {},
                 "by_language": {}}
        for name in sorted(set(family[damaged].tolist())):
            pick = (family == name) | clean
            entry["by_corruption"][name] = binary_metrics((family[pick] == name).astype(int), bad[pick], 0.5)
        for lang in sorted(set(language.tolist())):
            pick = rows & (language == lang)
            entry["by_language"][lang] = binary_metrics(damaged[pick].astype(int), bad[pick], 0.5)
        others = ~damaged & ~clean
        entry["mean_score_on_other_corruptions"] = round(float(scores[others, j].mean()), 4) if others.any() else None
        entry["mean_score_on_clean"] = round(float(scores[clean, j].mean()), 4) if clean.any() else None
        out[aspect] = entry
    return out


def combined_report(examples: list[Example], combined: np.ndarray, threshold: float) -> dict:
    """The combined score against 'any aspect damaged': ROC-AUC, and at the threshold the share of
    clean passages kept and of each corruption removed, overall and per language."""
    family = np.array([e.family for e in examples])
    language = np.array([e.language for e in examples])
    damaged = (family != "clean").astype(int)
    bad, cut = 1.0 - combined, 1.0 - threshold

    def figures(pick):
        m = binary_metrics(damaged[pick], bad[pick], cut)
        clean = pick & (family == "clean")
        m["clean_kept"] = round(float((combined[clean] >= threshold).mean()), 4) if clean.any() else None
        m["removed_by_corruption"] = {name: round(float((combined[pick & (family == name)] < threshold).mean()), 4)
                                      for name in sorted(set(family[pick].tolist()) - {"clean"})}
        return m

    return {"all": figures(np.ones(len(examples), bool)),
            "by_language": {lang: figures(language == lang) for lang in sorted(set(language.tolist()))}}


# --- the whole job ----------------------------------------------------------------------------

def run(cfg: Config, recipe: FluencyRecipe, data_root: str | Path, output: str | Path) -> dict:
    import torch
    from safetensors.torch import save_file

    check_splits(cfg)
    started = time.monotonic()
    data_root, out_dir = Path(data_root), Path(output)
    options = training_options(cfg, recipe.name, ASPECTS, "below", mode="fast", max_tokens=recipe.window_tokens)
    docs, skipped = read_documents(recipe, data_root)
    boilerplate, titles = read_pages(recipe, data_root)
    for d in docs:
        if d["title"]:
            titles.setdefault(d["language"], []).append(d["title"])
    every = make_passages(docs, recipe, options.seed)
    parts: dict[str, list[Passage]] = {"train": [], "validation": [], "test": []}
    for p in every:
        parts[split_of(p.document, options.seed, options.validation_fraction, options.test_fraction)].append(p)
    vocabulary = {lang: vocabulary_of(parts["train"], lang) for lang in recipe.languages}
    examples = {}
    for name, part in parts.items():
        materials = Materials(boilerplate=boilerplate, titles=titles, vocabulary=vocabulary,
                              passages={lang: [p for p in part if p.language == lang] for lang in recipe.languages})
        examples[name] = labelled_examples(part, materials, options.seed)
        log(f"{name}: {len({p.document for p in part})} documents, {len(part)} passages, "
            f"{len(examples[name])} examples {dict(Counter(e.family for e in examples[name]))}")
    if not examples["train"] or not examples["validation"]:
        raise RecipeError("fluency training needs documents in both the train and validation splits.")
    tick = time.monotonic()
    vectors = {k: embed_texts([e.text for e in v], options, options.batch_size) for k, v in examples.items() if v}
    embedding_seconds = round(time.monotonic() - tick, 2)
    labels = {k: np.array([e.labels for e in v], dtype=np.float32) for k, v in examples.items() if v}
    tick = time.monotonic()
    head, history = train_aspect_heads(examples, vectors, labels, options)
    training_seconds = round(time.monotonic() - tick, 2)
    with torch.no_grad():
        scores = {k: torch.sigmoid(head(torch.from_numpy(v))).double().numpy() for k, v in vectors.items()}
    weights = dict(recipe.combine.weights)
    combined = {k: combine(v, ASPECTS, recipe.combine.method, weights) for k, v in scores.items()}
    clean_validation = combined["validation"][[e.family == "clean" for e in examples["validation"]]]
    threshold = float(np.quantile(clean_validation, 1.0 - recipe.clean_keep_rate))

    out_dir.mkdir(parents=True, exist_ok=True)
    card = ClassifierCard(directory=out_dir, name=recipe.name, encoder=options.base_model, pooling=options.pooling,
                          normalize=options.normalize, outputs=ASPECTS, activation="sigmoid",
                          hidden=tuple(h * len(ASPECTS) for h in options.hidden),
                          threshold=round(threshold, 6), direction="below", text_prefix=options.text_prefix)
    save_file({k: v.contiguous() for k, v in head.state_dict().items()}, str(out_dir / classifiers.HEAD_FILE))
    (out_dir / classifiers.CARD_FILE).write_text(json.dumps(card.to_json(), indent=2) + "\n", encoding="utf-8")
    metrics = {
        "name": recipe.name, "mode": "fast", "base_model": options.base_model, "outputs": list(ASPECTS),
        "threshold": round(threshold, 6), "threshold_rule": f"keeps {recipe.clean_keep_rate:.0%} of clean "
                                                             f"validation passages (combined score)",
        "combine": recipe.combine.model_dump(), "window_tokens": recipe.window_tokens,
        "documents": {"used": len(docs), "left_out": dict(skipped),
                      "by_language": dict(Counter(d["language"] for d in docs))},
        "materials": {"boilerplate_lines": {k: len(v) for k, v in boilerplate.items()},
                      "titles": {k: len(v) for k, v in titles.items()}},
        "split": {k: {"documents": len({p.document for p in parts[k]}), "passages": len(parts[k]),
                      "examples": len(v), "by_corruption": dict(Counter(e.family for e in v)),
                      "by_language": dict(Counter(e.language for e in v))} for k, v in examples.items()},
        **{part: {"aspects": aspect_report(examples[part], scores[part]),
                  "combined": combined_report(examples[part], combined[part], threshold)}
           for part in ("validation", "test") if examples.get(part)},
        "history": history, "embedding_seconds": embedding_seconds, "training_seconds": training_seconds,
        "seconds": round(time.monotonic() - started, 2),
        "options": {k: v for k, v in options.__dict__.items() if k not in ("embedding_cache_dir", "encoder_cache_dir")},
    }
    (out_dir / classifiers.METRICS_FILE).write_text(json.dumps(metrics, indent=2, ensure_ascii=False) + "\n",
                                                    encoding="utf-8")
    (out_dir / "recipe.json").write_text(json.dumps(recipe.model_dump(), indent=2, ensure_ascii=False) + "\n",
                                         encoding="utf-8")
    return metrics
