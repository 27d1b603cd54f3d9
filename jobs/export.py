"""The final export: sharded JSONL (`.jsonl.gz` or `.jsonl.zst`), one JSON object per line.

Spark's JSON writer has no zstd codec without native Hadoop libraries, so each task writes its shard
from Python. Shards are committed like Spark's own writers do: every task attempt writes under
_temporary/, only attempts that succeeded report back, and the driver moves exactly those into place.
"""
from __future__ import annotations

import gzip
import json
from typing import Iterator

import orjson
import pyarrow as pa
from pyspark.sql import DataFrame
from pyspark.sql import types as T

from corpusforge.jobs.storage import Storage, fs_path, join

EXTENSIONS = {"gzip": ".jsonl.gz", "zstd": ".jsonl.zst", "none": ".jsonl"}
_RESULT = T.StructType([T.StructField("partition", T.IntegerType()), T.StructField("path", T.StringType()),
                        T.StructField("rows", T.LongType())])


def open_compressed(fs, path: str, compression: str):
    raw = fs.open(path, "wb")
    if compression == "gzip":
        return gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=6), raw
    if compression == "zstd":
        import zstandard
        return zstandard.ZstdCompressor(level=3).stream_writer(raw, closefd=False), raw
    return raw, None


def write_jsonl_shards(df: DataFrame, output: str, compression: str, storage_options: dict) -> dict:
    """Write df as shards part-NNNNN.jsonl.{gz,zst} under output; returns {shards, rows}."""
    target = fs_path(output)
    fs = Storage(storage_options).filesystem(target)
    if fs.exists(target):
        fs.rm(target, recursive=True)
    temporary = join(target, "_temporary")
    fs.makedirs(temporary, exist_ok=True)
    extension = EXTENSIONS[compression]

    def write_partition(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        from pyspark import TaskContext

        context = TaskContext.get()
        partition, attempt = context.partitionId(), context.attemptNumber()
        path = join(temporary, f"part-{partition:05d}-attempt-{attempt}{extension}")
        task_fs = Storage(storage_options).filesystem(path)
        rows = 0
        stream, raw = open_compressed(task_fs, path, compression)
        try:
            for batch in batches:
                for record in batch.to_pylist():
                    if isinstance(record.get("scores"), list):
                        record["scores"] = dict(record["scores"])
                    stream.write(orjson.dumps(record) + b"\n")
                    rows += 1
        finally:
            stream.close()
            if raw is not None:
                raw.close()
        yield pa.RecordBatch.from_pylist([{"partition": partition, "path": path, "rows": rows}],
                                         schema=pa.schema([("partition", pa.int32()), ("path", pa.string()),
                                                           ("rows", pa.int64())]))

    committed = df.mapInArrow(write_partition, _RESULT).collect()
    total = 0
    for shard in sorted(committed, key=lambda r: r["partition"]):
        fs.mv(shard["path"], join(target, f"part-{shard['partition']:05d}{extension}"))
        total += shard["rows"]
    fs.rm(temporary, recursive=True)
    summary = {"shards": len(committed), "rows": total, "compression": compression}
    with fs.open(join(target, "_SUCCESS"), "w") as marker:
        marker.write(json.dumps(summary))
    return summary
