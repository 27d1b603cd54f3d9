"""Reading a finished run's exported documents, shared by the pipeline and cluster tests."""
from __future__ import annotations

import io
import json
from pathlib import Path


def final_documents(run_dir: Path) -> list[dict]:
    """Every document of run_dir/final (zstd JSONL shards), sorted by id so runs compare equal."""
    import zstandard

    docs = []
    for shard in sorted((run_dir / "final").glob("part-*.jsonl.zst")):
        with open(shard, "rb") as raw, zstandard.ZstdDecompressor().stream_reader(raw) as reader:
            docs.extend(json.loads(line) for line in io.TextIOWrapper(reader, encoding="utf-8"))
    return sorted(docs, key=lambda d: d["id"])
