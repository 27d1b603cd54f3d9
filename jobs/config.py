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
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from conf import DEFAULT_FILE, LOCAL_FILE


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


class Config(Section):
    spark: SparkSettings
    io: IOSettings
    output: OutputSettings
    format: FormatSettings

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
    return loaded


def _merge(base: dict, update: dict, origin: str, prefix: str = "") -> None:
    """Deep-merge update into base; a key unknown to base is reported with the closest known key."""
    for key, value in update.items():
        dotted = f"{prefix}{key}"
        if key not in base:
            raise ConfigError(_unknown_key(dotted, base, origin))
        if isinstance(base[key], dict) and isinstance(value, dict) and not _is_free_mapping(dotted):
            _merge(base[key], value, origin, prefix=f"{dotted}.")
        else:
            base[key] = copy.deepcopy(value)


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
        if prefix == "io.storage_options":  # protocol → option
            for inner in parts[depth + 1:-1]:
                node = node.setdefault(inner, {})
            node[parts[-1]] = value
            return
    if parts[-1] not in node:
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
    return "invalid configuration:\n  " + "\n  ".join(lines)
