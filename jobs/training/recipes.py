"""Training recipes: what a training command reads (YAML, validated strictly) and the options it
trains with. One loader and one set of training options serve both commands: `train-classifier`
(labelled files, or lexicon weak labels) and `train-fluency` (fluent documents and real pages)."""
from __future__ import annotations

from pathlib import Path
from typing import Literal, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from corpusforge.conf import Config
from corpusforge.conf.schema import CombineSettings
from corpusforge.udfs.classifiers.card import SecondLook
from corpusforge.udfs.classifier_training import TrainingOptions

class RecipeError(ValueError):
    """A recipe or data file that cannot be used; the message names it and the fix."""


class Strict(BaseModel):
    """A recipe part: unknown keys are errors (a typo must not silently fall back to a default)."""
    model_config = ConfigDict(extra="forbid", frozen=True)


class WeakLabels(Strict):
    """Labels from a lexicon instead of annotators: ≥ positive_min_distinct different listed words, whose
    matches cover ≥ positive_min_density of the text's non-space characters, is positive; ≤
    negative_max_distinct is negative; anything between is left out as ambiguous. Density tells the
    web's keyword-dense pages from literature, where the same words are scattered in long prose."""
    files: list[str]
    substrings: bool
    exclude: list[str] = []
    positive_min_distinct: int = Field(gt=0)
    positive_min_density: float = Field(default=0.0, ge=0, le=1)
    negative_max_distinct: int = Field(ge=0)


class Holdout(Strict):
    """Rows whose `column` holds one of `values` go whole to the test split (never trained or tuned on),
    e.g. every passage of some works of a corpus split by work."""
    column: str
    values: list[str]


class Source(Strict):
    path: str
    name: str | None = None                    # name in the figures (default: the file name)
    group: str | None = None                   # figures per group too (e.g. held-out works, web-like text)
    where: dict[str, list[str]] | None = None  # keep only rows whose column holds one of the values
    format: Literal["csv", "tsv", "jsonl"] | None = None  # None: from the file name
    text: str                                  # text column
    label: str | None = None                   # label column (None with weak_labels)
    positive: list[str] = []                   # label values that mean positive
    negative: list[str] | None = None          # label values that mean negative; None: every other value
    columns: list[str] | None = None           # column names of a file without a header line
    language: str                              # for per-language figures
    role: Literal["train", "test"] = "train"   # test: held out whole (e.g. an official dev split)
    holdout: Holdout | None = None             # rows held out whole by a column's value (group "<group>, held out")
    max_examples: int | None = Field(default=None, gt=0)
    passages: int | None = Field(default=None, gt=0)  # cut long texts into passages of ~this many chars
    keep_positives: bool = False               # under a cap, keep every positive and sample the negatives
    weak_labels: WeakLabels | None = None
    weight: float = Field(default=1.0, gt=0)   # each example counts this many times in the loss and the threshold
    windows: int | None = Field(default=None, ge=2)  # train on this many evenly spaced windows of each long
    #                                          text (each with the text's label), not its head alone


class SecondLookRecipe(Strict):
    """Written into classifier.json (card.SecondLook): evaluation and inference read a long document
    whole when its head window scores >= above."""
    above: float = Field(ge=0, le=1)
    windows: int = Field(ge=2)


class ClassifierRecipe(Strict):
    name: str
    output: str
    direction: Literal["above", "below"] = "above"
    window_tokens: int | None = Field(default=None, gt=2)  # training window (default: conf training.max_tokens)
    second_look: SecondLookRecipe | None = None
    target_precision: float | None = Field(default=None, gt=0, le=1)  # default: conf training.target_precision
    sources: list[Source]


class DocumentSource(Strict):
    """A JSONL file of fluent documents."""
    path: str
    text: str                       # field holding the text
    id: str | None = None           # field holding a document id (default: the line number)
    title: str | None = None        # field holding a title (titles feed the title-list corruption)
    language: str                   # a CLD2 code, or "detect" (pycld2 per document)
    max_documents: int | None = Field(default=None, gt=0)


class PageSource(Strict):
    """A WARC of real pages: the page text outside the main text is real boilerplate (noise
    corruptions), the <title>s are real titles (title lists)."""
    warc: str
    groundtruth: str | None = None  # JSONL keyed by warc_record_id holding the gold main text …
    main: str | None = None         # … in this field; without it resiliparse's main-content text is used


class FluencyRecipe(Strict):
    name: str
    languages: list[str]                      # languages kept; documents in others are counted and left out
    window_tokens: int = Field(gt=2)          # the encoder window (what inference.max_tokens sees)
    passage_chars: dict[str, int]             # passage size per language, about one window of text
    passages_per_document: int = Field(gt=0)  # the first passages of each document (inference reads heads)
    max_passages_per_language: int = Field(gt=0)
    clean_keep_rate: float = Field(gt=0, lt=1)  # the combined threshold keeps this share of clean validation passages
    combine: CombineSettings
    documents: list[DocumentSource]
    pages: list[PageSource] = []


R = TypeVar("R", ClassifierRecipe, FluencyRecipe)


def load_recipe(path: str | Path, kind: type[R]) -> R:
    """A recipe file of the given kind, or RecipeError naming the file and the problem."""
    try:
        return kind.model_validate(yaml.safe_load(Path(path).read_text(encoding="utf-8")))
    except FileNotFoundError:
        raise RecipeError(f"recipe {path} does not exist.") from None
    except (yaml.YAMLError, ValidationError) as err:
        raise RecipeError(f"recipe {path} is not valid: {err}") from None


def training_options(cfg: Config, name: str, outputs: tuple[str, ...], direction: str, *, mode: str | None = None,
                     max_tokens: int | None = None, second_look: SecondLookRecipe | None = None,
                     target_precision: float | None = None) -> TrainingOptions:
    """conf training as the plain options udfs/classifier_training.py takes (a recipe may fix the mode
    and the window: the fluency head is always trained fast, on its recipe's window)."""
    t = cfg.training
    return TrainingOptions(
        name=name, outputs=outputs, mode=mode or t.mode, base_model=t.base_model, pooling=t.pooling,
        normalize=t.normalize, max_tokens=max_tokens or t.max_tokens, validation_fraction=t.validation_fraction,
        test_fraction=t.test_fraction, target_precision=target_precision or t.target_precision, seed=t.seed,
        hidden=tuple(t.hidden_units), epochs=t.epochs, learning_rate=t.learning_rate,
        weight_decay=t.weight_decay, batch_size=t.batch_size, patience=t.patience,
        fine_tune_epochs=t.fine_tune_epochs, fine_tune_learning_rate=t.fine_tune_learning_rate,
        embedding_cache_dir=t.embedding_cache_dir, direction=direction, text_prefix=t.text_prefix,
        encoder_cache_dir=cfg.inference.encoder_cache_dir,
        second_look=None if second_look is None else SecondLook(second_look.above, second_look.windows))


def check_splits(cfg: Config) -> None:
    """Validation and test shares must leave examples to train on."""
    from corpusforge.conf import ConfigError

    if cfg.training.validation_fraction + cfg.training.test_fraction >= 1:
        raise ConfigError("conf keys 'training.validation_fraction' + 'training.test_fraction' must be < 1.")
