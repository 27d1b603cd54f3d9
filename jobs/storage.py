"""Where corpusforge reads and writes: paths, file systems, small files and single rows.

Large data (documents) goes through Spark, which wants Hadoop paths (`file:///abs`, `s3a://`); small
files (markers, statistics, list files, archives opened by a Format task) go through fsspec, which
wants its own form (`/abs`, `s3://`) and the storage options of `io.storage_options` for the
protocol. This module is the one place that knows both forms, so every stage writes `_SUCCESS` on S3
the same way it writes it on a laptop.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import IO, Any, Mapping

import fsspec


def protocol_of(path: str) -> str:
    return path.split("://", 1)[0] if "://" in path else "file"


def spark_path(path: str) -> str:
    """Spark (Hadoop) form of a path: absolute file: URIs locally, s3a:// for S3."""
    if "://" not in path:
        return "file://" + os.path.abspath(path)
    if path.startswith("s3://"):
        return "s3a://" + path[len("s3://"):]
    return path


def fs_path(path: str) -> str:
    """fsspec form of a path: what spark_path made, turned back."""
    if path.startswith("file://"):
        return path[len("file://"):]
    if path.startswith("s3a://"):
        return "s3://" + path[len("s3a://"):]
    return path if "://" in path else os.path.abspath(path)


def join(base: str, *parts: str) -> str:
    """A child path, for local paths and URLs alike (os.path.join would mangle s3://)."""
    return "/".join([base.rstrip("/"), *parts])


@dataclass(frozen=True)
class Storage:
    """The file systems of one configuration (`io.storage_options`: protocol → fsspec options).

    Plain data, so a Spark task can carry it to an executor."""
    options: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    @classmethod
    def of(cls, cfg) -> "Storage":
        return cls(cfg.io.storage_options)

    def filesystem(self, path: str) -> fsspec.AbstractFileSystem:
        protocol = protocol_of(fs_path(path))
        return fsspec.filesystem(protocol, **self.options.get(protocol, {}))

    def open_binary(self, path: str) -> IO[bytes]:
        """A seekable binary handle on a (possibly remote) file, e.g. an archive a Format task reads."""
        return self.filesystem(path).open(path, "rb")

    def exists(self, path: str) -> bool:
        return self.filesystem(path).exists(fs_path(path))

    def read_text(self, path: str) -> str | None:
        """A small UTF-8 file's text, or None when it does not exist."""
        url, fs = fs_path(path), self.filesystem(path)
        if not fs.exists(url):
            return None
        with fs.open(url, "r", encoding="utf-8") as handle:
            return handle.read()

    def write_text(self, path: str, text: str) -> None:
        url, fs = fs_path(path), self.filesystem(path)
        fs.makedirs(url.rsplit("/", 1)[0], exist_ok=True)
        with fs.open(url, "w", encoding="utf-8") as handle:
            handle.write(text)

    def remove(self, path: str) -> None:
        """Delete a file or a whole directory tree; nothing happens when it is not there."""
        url, fs = fs_path(path), self.filesystem(path)
        if fs.exists(url):
            fs.rm(url, recursive=True)

    def find_row(self, table_dir: str, key: str, value: str, columns: list[str]) -> dict | None:
        """The first row of a Parquet table directory whose `key` column equals `value`, read with Arrow
        (no Spark: a lookup for a command-line tool), or None. Columns the table lacks are left out."""
        import pyarrow.dataset as ds
        from pyarrow.fs import FSSpecHandler, PyFileSystem

        url, fs = fs_path(table_dir), self.filesystem(table_dir)
        if not fs.exists(url):
            return None
        local = url.split("://", 1)[1] if "://" in url else url
        dataset = ds.dataset(local, format="parquet", filesystem=PyFileSystem(FSSpecHandler(fs)),
                             exclude_invalid_files=True)
        table = dataset.to_table(filter=ds.field(key) == value,
                                 columns=[c for c in columns if c in dataset.schema.names])
        return table.slice(0, 1).to_pylist()[0] if table.num_rows else None
