"""Which archive files a Format run reads: paths, globs, directories and paths files, on any fsspec
file system (local, http(s)://, s3://). Resolved on the driver, so a missing input stops the job
at start-up; the lines of a paths file are not probed one by one (a Common Crawl dump lists 90,000),
an unreadable one is counted by its task instead.
"""
from __future__ import annotations

import gzip
import io
import posixpath

from corpusforge.jobs.stage import InputError
from corpusforge.jobs.storage import Storage, protocol_of

ARCHIVE_SUFFIXES = (".warc", ".warc.gz", ".arc", ".arc.gz")
PATHS_SUFFIXES = (".paths", ".paths.gz", ".txt", ".txt.gz", ".lst")
_GLOB_CHARS = set("*?[")


def resolve_warc_inputs(inputs: list[str], storage_options: dict[str, dict],
                        paths_prefix: str | None = None) -> list[str]:
    resolved: list[str] = []
    for item in inputs:
        item = item.strip()
        if not item:
            continue
        fs = Storage(storage_options).filesystem(item)
        if any(ch in _GLOB_CHARS for ch in item) and protocol_of(item) not in ("http", "https"):
            matches = sorted(fs.glob(item))
            if not matches:
                raise InputError(f"input pattern {item!r} matches no file. Fix: check the path and the quoting of the glob.")
            for match in matches:
                resolved.extend(_expand(fs, _with_protocol(fs, match, item), storage_options, paths_prefix))
        else:
            resolved.extend(_expand(fs, item, storage_options, paths_prefix, must_exist=True))
    unique = list(dict.fromkeys(resolved))
    if not unique:
        raise InputError(f"no WARC or ARC files found in {inputs}. Fix: name .warc/.warc.gz/.arc.gz files, "
                         f"a directory holding them, a glob, or a paths file (.paths/.paths.gz/.txt).")
    return unique


def _expand(fs, path: str, storage_options, paths_prefix, must_exist: bool = False) -> list[str]:
    if path.lower().endswith(PATHS_SUFFIXES):
        return read_paths_file(path, storage_options, paths_prefix)
    if protocol_of(path) not in ("http", "https") and fs.isdir(path):
        found = sorted(p for p in fs.find(path) if p.lower().endswith(ARCHIVE_SUFFIXES))
        return [_with_protocol(fs, p, path) for p in found]
    if must_exist and not fs.exists(path):
        raise InputError(f"input {path} does not exist. Fix: pass an existing WARC file, directory, glob or paths file.")
    return [path]


def read_paths_file(path: str, storage_options: dict[str, dict], paths_prefix: str | None) -> list[str]:
    """Lines of a paths file (Common Crawl's warc.paths.gz); relative lines join paths_prefix or the file's folder."""
    fs = Storage(storage_options).filesystem(path)
    if not fs.exists(path):
        raise InputError(f"paths file {path} does not exist. Fix: pass an existing paths file.")
    with fs.open(path, "rb") as handle:
        raw = handle.read()
    if path.endswith(".gz"):
        raw = gzip.decompress(raw)
    base = paths_prefix if paths_prefix is not None else posixpath.dirname(path) + "/"
    out = []
    for line in io.StringIO(raw.decode("utf-8")):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        out.append(line if "://" in line or line.startswith("/") else base.rstrip("/") + "/" + line.lstrip("/"))
    return out


def _with_protocol(fs, found: str, original: str) -> str:
    """fsspec drops the protocol from listed paths; put it back for remote file systems."""
    if "://" in found or protocol_of(original) == "file":
        return found
    return fs.unstrip_protocol(found)
