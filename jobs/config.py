"""Configuration: conf/default.yaml, then the user's file, then --set overrides, validated by pydantic.

The models carry no defaults on purpose: default.yaml is the single documented source of every
value, so a key missing from it is a bug caught at start-up rather than a silent code default.
"""
from __future__ import annotations

import copy
import difflib
import hashlib
import json
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from corpusforge.conf import DEFAULT_FILE, LOCAL_FILE


class ConfigError(ValueError):
    """A configuration problem found at start-up; the message names the key and the fix."""


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SparkSettings(Section):
    master: str
    app_name: str
    driver_memory: str
    shuffle_partitions: int = Field(gt=0)
    arrow_batch_rows: int = Field(gt=0)
    python_worker_reuse: bool
    progress_seconds: float = Field(ge=0)
    checkpoint_dir: str | None
    extra: dict[str, str | int | float | bool]


class IOSettings(Section):
    storage_options: dict[str, dict[str, Any]]


class OutputSettings(Section):
    parquet_compression: Literal["zstd", "snappy", "gzip", "lz4", "none", "uncompressed"]
    jsonl: bool
    jsonl_compression: Literal["gzip", "bzip2", "none"]
    final_compression: Literal["zstd", "gzip", "none"]
    final_shards: int | None = Field(gt=0)


class TrafilaturaSettings(Section):
    favor: Literal["precision", "recall", "balanced"]
    include_comments: bool
    include_tables: bool
    max_tree_size: int | None = Field(gt=0)


class FormatSettings(Section):
    paths_prefix: str | None
    files_per_task: int = Field(gt=0)
    max_html_bytes: int = Field(gt=0)
    extraction_timeout_seconds: float = Field(gt=0)
    skip_truncated: bool
    quirks_mode: bool
    accept_status: list[int]
    html_content_types: list[str]
    max_binary_ratio: float = Field(ge=0, le=1)
    batch_rows: int = Field(gt=0)
    trafilatura: TrafilaturaSettings


class NormaliseSettings(Section):
    unicode_form: Literal["NFC", "NFKC", "none"]
    fix_mojibake: bool
    halfwidth_alphanumerics: bool
    separator_chars: str
    separator_run_keep: int = Field(ge=1)
    max_blank_lines: int = Field(ge=0)
    drop_separator_lines: bool
    drop_symbol_lines: bool
    drop_number_lines: bool
    boilerplate_max_line_chars: int = Field(ge=0)
    policy_phrases: list[str]
    javascript_phrases: list[str]
    citation_pattern: str | None

    @field_validator("citation_pattern")
    @classmethod
    def _compiles(cls, pattern: str | None) -> str | None:
        if pattern is not None:
            import re
            try:
                re.compile(pattern)
            except re.error as err:
                raise ValueError(f"not a valid regular expression: {err}") from None
        return pattern


Share = Annotated[float, Field(ge=0, le=1)]
Positive = Annotated[float, Field(ge=0)]


class CleanThresholds(Section):
    """One field per rule of udfs/clean_rules.py (named like the rule), plus the statistics' parameters."""
    word_units: Literal["whitespace", "jieba"]
    stop_words: list[str]
    terminal_punctuation: str = Field(min_length=1)
    very_short_line_chars: int = Field(ge=0)
    fineweb_short_line_chars: int = Field(ge=0)
    max_newline_ratio: Share | None
    min_mean_line_chars: Positive | None
    max_line_chars: Positive | None
    max_very_short_line_fraction: Share | None
    max_separator_run_fraction: Positive | None
    max_normalised_removed_fraction: Share | None
    max_replacement_char_fraction: Share | None
    max_control_char_fraction: Share | None
    max_mojibake_fraction: Share | None
    max_symbol_fraction: Share | None
    max_digit_fraction: Share | None
    max_foreign_script_fraction: Share | None
    min_punctuation_fraction: Share | None
    max_punctuation_fraction: Share | None
    min_terminal_punct_char_fraction: Share | None
    max_repeated_punct_fraction: Share | None
    gopher_min_words: Positive | None
    gopher_max_words: Positive | None
    gopher_min_mean_word_length: Positive | None
    gopher_max_mean_word_length: Positive | None
    gopher_max_hash_word_ratio: Positive | None
    gopher_max_ellipsis_word_ratio: Positive | None
    gopher_max_bullet_line_fraction: Share | None
    gopher_max_ellipsis_line_fraction: Share | None
    gopher_min_alpha_word_fraction: Share | None
    gopher_min_stop_words: Positive | None
    gopher_max_dup_line_fraction: Share | None
    gopher_max_dup_para_fraction: Share | None
    gopher_max_dup_line_char_fraction: Share | None
    gopher_max_dup_para_char_fraction: Share | None
    gopher_max_top_2gram_char_fraction: Share | None
    gopher_max_top_3gram_char_fraction: Share | None
    gopher_max_top_4gram_char_fraction: Share | None
    gopher_max_dup_5gram_char_fraction: Share | None
    gopher_max_dup_6gram_char_fraction: Share | None
    gopher_max_dup_7gram_char_fraction: Share | None
    gopher_max_dup_8gram_char_fraction: Share | None
    gopher_max_dup_9gram_char_fraction: Share | None
    gopher_max_dup_10gram_char_fraction: Share | None
    c4_max_lorem_ipsum: Positive | None
    c4_max_curly_brackets: Positive | None
    c4_min_sentences: Positive | None
    fineweb_min_line_punct_fraction: Share | None
    fineweb_max_short_line_fraction: Share | None
    fineweb_max_dup_line_char_fraction: Share | None
    fineweb_max_newline_word_ratio: Positive | None


class CleanSettings(Section):
    normalise: NormaliseSettings
    thresholds: CleanThresholds
    languages: dict[str, dict[str, Any]]
    domains: dict[str, dict[str, Any]]

    @field_validator("languages", "domains")
    @classmethod
    def _overrides_are_thresholds(cls, overrides: dict[str, dict[str, Any]], info) -> dict[str, dict[str, Any]]:
        """Every override names known thresholds with valid values (checked over the base thresholds)."""
        thresholds = info.data.get("thresholds")
        if thresholds is None:  # the base thresholds are invalid themselves; that error is reported
            return overrides
        base = thresholds.model_dump()
        for entry, override in overrides.items():
            unknown = sorted(set(override or {}) - set(base))
            if unknown:
                hints = ", ".join(k + "".join(f" (did you mean {c}?)" for c in difflib.get_close_matches(k, list(base), n=1))
                                  for k in unknown)
                raise ValueError(f"{entry!r} overrides unknown thresholds: {hints}; the keys of clean.thresholds "
                                 f"are the valid ones")
            try:
                CleanThresholds.model_validate({**base, **(override or {})})
            except ValidationError as err:
                problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in err.errors())
                raise ValueError(f"{entry!r}: {problems}") from None
        return overrides


class DedupSettings(Section):
    scheme: Literal["affine32"]
    num_perm: int = Field(gt=0, le=1024)
    seed: int = Field(ge=0, lt=2**32)
    ngram: int = Field(gt=0)
    fold_digits: bool
    threshold: float = Field(gt=0, le=1)
    bands: int = Field(gt=0)
    rows: int = Field(gt=0)
    verify: Literal["exact", "estimated"]
    max_iterations: int = Field(gt=0)


class DomainBlockSettings(Section):
    lists: dict[str, str | None]
    broadcast_max_bytes: int = Field(ge=0)
    broadcast_max_blocked_hosts: int = Field(ge=0)


class WordListSettings(Section):
    files: list[str]
    substrings: bool
    exclude: list[str]


class WordBlockSettings(Section):
    languages: dict[str, WordListSettings]
    min_distinct_words: int = Field(gt=0)
    max_density: float = Field(gt=0, le=1)
    audit_words: int = Field(ge=0)


class ClassifierSettings(Section):
    enabled: bool
    path: str
    output: str | None
    threshold: float | None = Field(ge=0, le=1)
    direction: Literal["above", "below"] | None
    languages: list[str] | None


class SafetySettings(Section):
    block_domains: DomainBlockSettings
    block_words: WordBlockSettings
    classifiers: dict[str, ClassifierSettings]


Unit = Annotated[float, Field(ge=0, le=1)]


class CombineSettings(Section):
    """How a multi-output classifier's outputs make its own score (fluency from its four aspects)."""
    method: Literal["weighted_mean", "geometric_mean", "min"]
    weights: dict[str, Annotated[float, Field(ge=0)]]


class QualityClassifierSettings(Section):
    enabled: bool
    path: str
    languages: list[str] | None
    combine: CombineSettings | None


class QualityThresholds(Section):
    """score key → threshold; null: the threshold stored with the model (its own score only)."""
    default: dict[str, Unit | None]
    languages: dict[str, dict[str, Unit | None] | None]
    domains: dict[str, dict[str, Unit | None] | None]


class QualitySettings(Section):
    classifiers: dict[str, QualityClassifierSettings]
    thresholds: QualityThresholds
    histogram_bins: int = Field(gt=0, le=1000)


class InferenceSettings(Section):
    device: Literal["auto", "cpu", "cuda"]
    threads: int | None = Field(gt=0)
    batch_size: int = Field(gt=0)
    batch_tokens: int = Field(gt=0)
    max_tokens: int | None = Field(gt=2)
    long_documents: Literal["head", "chunks"]
    chunks: int = Field(gt=0)
    chunk_aggregate: Literal["max", "mean"]
    ship_models: bool


class TrainingSettings(Section):
    mode: Literal["fast", "full"]
    base_model: str
    pooling: Literal["mean", "cls"]
    normalize: bool
    max_tokens: int = Field(gt=2)
    validation_fraction: float = Field(gt=0, lt=1)
    test_fraction: float = Field(ge=0, lt=1)
    target_precision: float = Field(gt=0, le=1)
    seed: int
    max_examples_per_source: int | None = Field(gt=0)
    hidden_units: list[int]
    epochs: int = Field(gt=0)
    learning_rate: float = Field(gt=0)
    weight_decay: float = Field(ge=0)
    batch_size: int = Field(gt=0)
    patience: int = Field(gt=0)
    fine_tune_epochs: int = Field(gt=0)
    fine_tune_learning_rate: float = Field(gt=0)
    embedding_cache_dir: str | None


class Config(Section):
    spark: SparkSettings
    io: IOSettings
    output: OutputSettings
    format: FormatSettings
    clean: CleanSettings
    dedup: DedupSettings
    safety: SafetySettings
    quality: QualitySettings
    inference: InferenceSettings
    training: TrainingSettings

    def fingerprint(self, *sections: str) -> str:
        """Hash of the named sections (all when none): what a stage's _SUCCESS records to detect changes."""
        data = self.model_dump(mode="json")
        chosen = {name: data[name] for name in (sections or sorted(data))}
        return hashlib.sha256(json.dumps(chosen, sort_keys=True).encode()).hexdigest()[:16]


def load_config(path: str | Path | None = None, overrides: list[str] | tuple[str, ...] = ()) -> Config:
    """default.yaml ← the user's file (default: the bundled local file) ← --set overrides, validated."""
    data = _read_yaml(DEFAULT_FILE)
    user_file = Path(path) if path is not None else LOCAL_FILE
    _merge(data, _read_yaml(user_file), origin=str(user_file))
    for item in overrides:
        _apply_override(data, item)
    try:
        return Config.model_validate(data)
    except ValidationError as err:
        raise ConfigError(_explain(err, data)) from None


def _read_yaml(path: Path) -> dict:
    if not path.is_file():
        raise ConfigError(f"configuration file {path} does not exist. Fix: pass an existing file to --conf.")
    try:
        loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as err:
        raise ConfigError(f"configuration file {path} is not valid YAML: {err}") from None
    if loaded is None:
        return {}
    if not isinstance(loaded, dict):
        raise ConfigError(f"configuration file {path} must hold a mapping of sections, not {type(loaded).__name__}.")
    return _unshared(loaded)


def _unshared(value):
    """A copy in which no two keys share a mapping: YAML aliases (`zh-Hant: *chinese`) load as one shared
    dict, and a --set or file override of one entry would silently change the other."""
    if isinstance(value, dict):
        return {key: _unshared(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_unshared(item) for item in value]
    return value


def _merge(base: dict, update: dict, origin: str, prefix: str = "") -> None:
    """Deep-merge update into base; a key unknown to base is reported with the closest known key."""
    for key, value in update.items():
        dotted = f"{prefix}{key}"
        if key not in base:
            if prefix.rstrip(".") in OPEN_MAPPINGS or _is_override(prefix):  # a new entry of a named collection
                base[key] = copy.deepcopy(value)
                continue
            raise ConfigError(_unknown_key(dotted, base, origin))
        if isinstance(base[key], dict) and isinstance(value, dict) and not _is_free_mapping(dotted):
            _merge(base[key], value, origin, prefix=f"{dotted}.")
        else:
            base[key] = copy.deepcopy(value)


# Named collections (block lists, word lists per language, classifiers): a user's file may add new
# entries, and the entries it names are merged key by key like any section (then validated).
OPEN_MAPPINGS = {"safety.block_domains.lists", "safety.block_words.languages", "safety.classifiers",
                 "quality.classifiers", "quality.thresholds.default"}


# Threshold overrides per language and per site: a user's file may add entries, and any threshold key
# inside one (the keys are checked against clean.thresholds when the whole is validated).
OVERRIDE_TABLES = ("clean.languages", "clean.domains", "quality.thresholds.languages", "quality.thresholds.domains")


def _is_override(prefix: str) -> bool:
    return prefix.startswith(tuple(f"{table}." for table in OVERRIDE_TABLES))


def _is_free_mapping(dotted: str) -> bool:
    """Mappings whose keys are the user's own (Spark settings, storage protocols), not schema keys."""
    return dotted in {"spark.extra", "io.storage_options"}


def _apply_override(data: dict, item: str) -> None:
    key, sep, raw = item.partition("=")
    key = key.strip()
    if not sep or not key:
        raise ConfigError(f"--set {item!r} is not of the form key.path=value, e.g. --set format.max_html_bytes=2000000")
    try:
        value = yaml.safe_load(raw) if raw.strip() else None
    except yaml.YAMLError:
        value = raw
    parts = key.split(".")
    node = data
    for depth, part in enumerate(parts[:-1]):
        prefix = ".".join(parts[:depth + 1])
        if part not in node or not isinstance(node[part], dict):
            raise ConfigError(_unknown_key(prefix, node, "--set"))
        node = node[part]
        if prefix == "spark.extra":  # Spark keys contain dots themselves
            node[".".join(parts[depth + 1:])] = value
            return
        if prefix in OVERRIDE_TABLES and len(parts) > depth + 2:  # entry → threshold; site patterns hold dots
            entry = node.setdefault(".".join(parts[depth + 1:-1]), {})
            entry[parts[-1]] = value
            return
        if prefix == "io.storage_options":  # protocol → option
            for inner in parts[depth + 1:-1]:
                node = node.setdefault(inner, {})
            node[parts[-1]] = value
            return
    if parts[-1] not in node and ".".join(parts[:-1]) not in OPEN_MAPPINGS:  # open: a new entry
        raise ConfigError(_unknown_key(key, node, "--set"))
    node[parts[-1]] = value


def _unknown_key(dotted: str, siblings: dict, origin: str) -> str:
    leaf = dotted.rsplit(".", 1)[-1]
    parent = dotted.rsplit(".", 1)[0] + "." if "." in dotted else ""
    close = difflib.get_close_matches(leaf, list(siblings), n=1)
    hint = f" Did you mean '{parent}{close[0]}'?" if close else ""
    known = ", ".join(sorted(parent + k for k in siblings))
    return (f"conf key '{dotted}' (from {origin}) is not a setting corpusforge knows.{hint} "
            f"Known keys here: {known}. Fix: correct the key; conf/default.yaml documents every key.")


def _explain(err: ValidationError, data: dict) -> str:
    lines = []
    for problem in err.errors():
        dotted = ".".join(str(p) for p in problem["loc"])
        if problem["type"] == "missing":
            lines.append(f"conf key '{dotted}' is missing. Fix: add it (conf/default.yaml documents it).")
            continue
        if problem["type"] == "extra_forbidden":
            lines.append(f"conf key '{dotted}' is not a setting corpusforge knows. "
                         f"Fix: remove it, or check its spelling against conf/default.yaml.")
            continue
        got = problem.get("input")
        lines.append(f"conf key '{dotted}': {problem['msg']} (got {got!r}). "
                     f"Fix: set '{dotted}' to a valid value in your --conf file or with --set {dotted}=…")
    if len(lines) == 1:  # the usual case (one bad --set) stays one line
        return f"invalid configuration: {lines[0]}"
    return "invalid configuration:\n  " + "\n  ".join(lines)
