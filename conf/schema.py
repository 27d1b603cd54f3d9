"""The configuration's schema: one pydantic model per conf section, validated at start-up.

The models carry no defaults on purpose: conf/default.yaml is the single documented source of every
value, so a key missing from it is a bug caught at start-up rather than a silent code default.
Per-language and per-site settings all have one layout, {default, languages, sites}, resolved by
udfs/overrides.py; their language and site entries are validated over the default.
"""
from __future__ import annotations

import difflib
import hashlib
import json
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model, field_validator

class ConfigError(ValueError):
    """A configuration problem found at start-up; the message names the key and the fix."""


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SparkSettings(Section):
    master: str
    app_name: str
    driver_memory: str
    local_java_options: str | None
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
    fast: bool
    include_comments: bool
    include_tables: bool
    max_tree_size: int | None = Field(gt=0)


class HttpReadingSettings(Section):
    implied_status: int | None = Field(ge=100, le=599)
    max_head_bytes: int = Field(ge=1024, le=16 * 1024 * 1024)
    replay_archives: list[Literal["wayback", "archive.today", "arquivo.pt", "ukwa", "ukgwa", "loc", "archive-it",
                                  "vefsafn.is", "pywb", "memento"]]
    sample_bytes: int = Field(ge=0, le=1024)
    samples_per_reason: int = Field(ge=0, le=100)


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
    http: HttpReadingSettings
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


def _entries_over(model: type[BaseModel], base: BaseModel | None, entries: dict[str, dict[str, Any] | None],
                  table: str) -> dict[str, dict[str, Any] | None]:
    """Every language or site entry of an override table names keys of `model` with valid values
    (checked over the table's default), so a typo in a rarely matched site pattern fails at start-up."""
    if base is None:  # the default is invalid itself; that error is reported
        return entries
    known = base.model_dump()
    for entry, override in entries.items():
        unknown = sorted(set(override or {}) - set(known))
        if unknown:
            hints = ", ".join(k + "".join(f" (did you mean {c}?)" for c in difflib.get_close_matches(k, list(known), n=1))
                              for k in unknown)
            raise ValueError(f"{entry!r} overrides unknown keys: {hints}; the keys of {table}.default are the valid ones")
        try:
            model.model_validate({**known, **(override or {})})
        except ValidationError as err:
            problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in err.errors())
            raise ValueError(f"{entry!r}: {problems}") from None
    return entries


def override_table(model: type[BaseModel], where: str, domains: bool = False) -> type[BaseModel]:
    """The model of an override section {default, languages, sites} over the settings `model`: the
    default is a whole `model`, each language or site entry a validated subset of its keys. With
    `domains`, also {domains: {name: {keys…, languages: {code: {keys…}}}}} (udfs/overrides.py)."""
    def entries(cls, value, info):
        return _entries_over(model, info.data.get("default"), value, where)

    def domain_entries(cls, value, info):
        base = info.data.get("default")
        for name, entry in value.items():
            entry = dict(entry or {})
            by_language = entry.pop("languages", None) or {}
            _entries_over(model, base, {name: entry}, where)
            _entries_over(model, base, {f"{name}.languages.{code}": v for code, v in by_language.items()}, where)
        return value

    entry_map = dict[str, dict[str, Any] | None]
    fields: dict[str, Any] = {"default": (model, ...), "languages": (entry_map, ...), "sites": (entry_map, ...)}
    validators = {"entries": field_validator("languages", "sites")(entries)}
    if domains:
        fields["domains"] = (entry_map, ...)
        validators["domain_entries"] = field_validator("domains")(domain_entries)
    return create_model(f"{model.__name__}Table", __base__=Section, __validators__=validators, **fields)


# clean.thresholds: the rules' thresholds by default, per language and per site.
CleanThresholdTable = override_table(CleanThresholds, "clean.thresholds")


class CleanSettings(Section):
    normalise: NormaliseSettings
    thresholds: CleanThresholdTable


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
    driver_components_max_edges: int = Field(ge=0)


class DomainBlockSettings(Section):
    lists: dict[str, str | None]
    broadcast_max_bytes: int = Field(ge=0)
    broadcast_max_blocked_hosts: int = Field(ge=0)


class WordListSettings(Section):
    files: list[str]
    substrings: bool
    exclude: list[str]


class WordPolicySettings(Section):
    min_distinct_words: int = Field(gt=0)
    max_density: float = Field(gt=0, le=1)


# safety.block_words.policy: when matched words remove a document, by default, per language, per site.
WordPolicyTable = override_table(WordPolicySettings, "safety.block_words.policy")


class WordBlockSettings(Section):
    word_lists: dict[str, WordListSettings]
    policy: WordPolicyTable
    audit_words: int = Field(ge=0)


Unit = Annotated[float, Field(ge=0, le=1)]


class CombineSettings(Section):
    """How a multi-output classifier's outputs make its own score (fluency from its four aspects)."""
    method: Literal["weighted_mean", "geometric_mean", "min"]
    weights: dict[str, Annotated[float, Field(ge=0)]]


class ClassifierSettings(Section):
    """One classifier of Safety or Quality; its thresholds live in the stage's `thresholds` table."""
    enabled: bool
    path: str
    languages: list[str] | None
    direction: Literal["above", "below"] | None
    combine: CombineSettings | None


class ScoreThresholds(Section):
    """score key → threshold (null: the threshold stored with the model, for a classifier's own score),
    by default, per language and per site."""
    default: dict[str, Unit | None]
    languages: dict[str, dict[str, Unit | None] | None]
    sites: dict[str, dict[str, Unit | None] | None]


class SafetySettings(Section):
    block_domains: DomainBlockSettings
    block_words: WordBlockSettings
    classifiers: dict[str, ClassifierSettings]
    thresholds: ScoreThresholds


class QualitySettings(Section):
    classifiers: dict[str, ClassifierSettings]
    thresholds: ScoreThresholds


class LongTextThresholds(Section):
    """One field per rule of udfs/longtext/statistics.py (named like the rule) and the coherence rule;
    null turns a rule off for the documents it applies to."""
    max_dup_line_char_fraction: Share | None
    min_compression_ratio: Share | None
    max_table_line_fraction: Share | None
    max_digit_fraction: Share | None
    min_sentence_line_char_fraction: Share | None
    min_mean_line_chars: Positive | None
    min_conjunction_rate: Share | None
    min_window_ttr: Share | None
    max_window_ttr: Share | None
    min_coherence: float | None


# longtext.thresholds: by default, per language, per domain (each with its own languages), per site.
LongTextThresholdTable = override_table(LongTextThresholds, "longtext.thresholds", domains=True)

PerGroup = float | dict[Literal["en", "zh"], float]


class DomainSignalSettings(Section):
    """A text marker against a bound: a number for both language groups, or {en: …, zh: …}."""
    at_least: PerGroup | None = None
    at_most: PerGroup | None = None


class TextRuleSettings(Section):
    required: dict[str, DomainSignalSettings] = {}
    any_of: dict[str, DomainSignalSettings] = {}
    quorum: int = Field(default=0, ge=0)

    @field_validator("required", "any_of")
    @classmethod
    def _known_features(cls, value: dict) -> dict:
        from corpusforge.udfs.longtext.domain import FEATURES
        unknown = sorted(set(value) - set(FEATURES))
        if unknown:
            raise ValueError(f"unknown text features {unknown}; known: {', '.join(FEATURES)}")
        return value


class LongTextDomainSettings(Section):
    use_url: bool
    sample_chars: int = Field(ge=0)
    url_patterns: dict[str, list[str]]
    text_rules: dict[str, TextRuleSettings]


class LongTextStatisticsSettings(Section):
    sample_chars: int = Field(ge=0)
    sample_windows: int = Field(gt=0)
    ttr_window_words: int = Field(gt=0)


CoherenceFeature = Literal["cross_dip", "cross_v", "chain_min", "chain_mean", "anchor_gain"]


class CoherenceConfSettings(Section):
    enabled: bool
    model: str
    cache_dir: str
    dtype: Literal["bfloat16", "float32"]
    device: Literal["auto", "cpu", "cuda"]
    threads: int | None = Field(gt=0)
    head_vocab: str | None
    features: list[CoherenceFeature] = Field(min_length=1)
    scales: dict[str, dict[CoherenceFeature, tuple[float, Annotated[float, Field(gt=0)]]]]
    segment_tokens: int = Field(gt=16)
    probes: int = Field(ge=2)
    context_tokens: int = Field(gt=0)
    skip_first: int = Field(ge=0)
    batch_size: int = Field(gt=0)
    max_chain_tokens: int = Field(gt=0)
    lexical_points: int = Field(ge=10)
    lexical_edge: float = Field(ge=0, lt=0.5)
    anchor_candidates: int = Field(ge=1)
    anchor_points: int = Field(ge=10)

    @field_validator("scales")
    @classmethod
    def _every_feature_scaled(cls, value: dict, info) -> dict:
        for language, scales in value.items():
            missing = sorted(set(info.data.get("features") or ()) - set(scales))
            if missing:
                raise ValueError(f"{language!r} has no centre and spread for {missing}; every feature in "
                                 f"longtext.coherence.features needs one per language")
        return value


class LongTextSettings(Section):
    min_bytes: int = Field(ge=0)
    domains: LongTextDomainSettings
    statistics: LongTextStatisticsSettings
    thresholds: LongTextThresholdTable
    coherence: CoherenceConfSettings


class InferenceSettings(Section):
    device: Literal["auto", "cpu", "cuda"]
    dtype: Literal["auto", "fp32", "bf16"]
    threads: int | None = Field(gt=0)
    batch_size: int = Field(gt=0)
    batch_tokens: int = Field(gt=0)
    max_tokens: int | None = Field(gt=2)
    long_documents: Literal["head", "chunks"]
    chunks: int = Field(gt=0)
    chunk_aggregate: Literal["max", "mean"]
    second_look: bool
    ship_models: bool
    share_encoder_pass: bool
    encoder_cache_dir: str
    histogram_bins: int = Field(gt=0, le=1000)


class TrainingSettings(Section):
    mode: Literal["fast", "full"]
    base_model: str
    text_prefix: str
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


class CalibrationSettings(Section):
    """`corpusforge calibrate`: the caps and group sizes of the threshold search (udfs/calibration.py)."""
    max_false_removal_per_rule: Share
    max_false_removal: Share
    cap_floor_pages: float = Field(ge=0)
    min_group_pages: int = Field(gt=0)
    min_site_pages: int = Field(gt=0)
    site_dominance: Share
    max_pages_per_site: int = Field(gt=0)
    min_catches: int = Field(gt=0)
    min_catch_hosts: int = Field(gt=0)
    min_catches_per_false_removal: float = Field(ge=0)
    split_seed: str
    fixed_rules: list[str]

    @field_validator("fixed_rules")
    @classmethod
    def _known_rules(cls, rules: list[str]) -> list[str]:
        unknown = sorted(set(rules) - set(CleanThresholds.model_fields))
        if unknown:
            raise ValueError(f"unknown rules {unknown}; the rule names are the keys of clean.thresholds.default")
        return rules


class Config(Section):
    spark: SparkSettings
    io: IOSettings
    output: OutputSettings
    format: FormatSettings
    clean: CleanSettings
    dedup: DedupSettings
    safety: SafetySettings
    quality: QualitySettings
    longtext: LongTextSettings
    inference: InferenceSettings
    training: TrainingSettings
    calibration: CalibrationSettings

    def fingerprint(self, *sections: str) -> str:
        """Hash of the named sections (all when none): what a stage's _SUCCESS records to detect changes."""
        data = self.model_dump(mode="json")
        chosen = {name: data[name] for name in (sections or sorted(data))}
        return hashlib.sha256(json.dumps(chosen, sort_keys=True).encode()).hexdigest()[:16]
