"""Loading the configuration: conf/default.yaml, then the user's file, then --set overrides, then
validation against conf/schema.py — and every problem reported as one line naming the key and the fix.
"""
from __future__ import annotations

import copy
import difflib
from importlib.resources import files
from pathlib import Path

import yaml
from pydantic import ValidationError

from corpusforge.conf.schema import Config, ConfigError

DEFAULT_FILE = files("corpusforge.conf") / "default.yaml"
LOCAL_FILE = files("corpusforge.conf") / "local.yaml"


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


# Named collections (block lists, word lists per language, classifiers, score thresholds): a user's file
# may add new entries, and the entries it names are merged key by key like any section (then validated).
OPEN_MAPPINGS = {"safety.block_domains.lists", "safety.block_words.word_lists", "safety.classifiers",
                 "quality.classifiers", "safety.thresholds.default", "quality.thresholds.default"}

# The override sections ({default, languages, sites}, udfs/overrides.py): a user's file may add language
# and site entries, and any key inside one (checked against the section's default when validated).
OVERRIDE_SECTIONS = ("clean.thresholds", "safety.block_words.policy", "safety.thresholds", "quality.thresholds")
OVERRIDE_TABLES = tuple(f"{section}.{level}" for section in OVERRIDE_SECTIONS
                        for level in ("languages", "sites", "domains"))


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
        if prefix in OVERRIDE_TABLES and ".".join(parts[depth + 1:]) in node:  # a whole entry (a pattern with dots)
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
        got = repr(problem.get("input"))
        got = got if len(got) <= 160 else got[:150] + " …"  # a whole table would bury the message
        lines.append(f"conf key '{dotted}': {problem['msg']} (got {got}). "
                     f"Fix: set '{dotted}' to a valid value in your --conf file or with --set {dotted}=…")
    if len(lines) == 1:  # the usual case (one bad --set) stays one line
        return f"invalid configuration: {lines[0]}"
    return "invalid configuration:\n  " + "\n  ".join(lines)
