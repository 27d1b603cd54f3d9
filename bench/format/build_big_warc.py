"""Build a large WARC file from real pages, for the streaming benchmark.

There is no full-size Common Crawl WARC in ../shared/data, so this concatenates the per-record gzip
members of the real HTML response records of ../shared/data/warc/built/*.warc.gz (the page bytes
are the original pages) over and over until the file reaches --size bytes. Member bytes are copied
unchanged, so WARC-Record-IDs repeat across replicas; the Format stage's ids stay unique because
they include each record's byte offset. A warcinfo record at the head says how the file was built.

Usage: .venv/bin/python bench/format/build_big_warc.py OUTPUT [--size 1073741824] [--source NAME.warc.gz …]
"""
from __future__ import annotations

import argparse
import io
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # bench/, for common.py

from fastwarc.warc import ArchiveIterator, WarcRecordType  # noqa: E402
from warcio.warcwriter import WARCWriter  # noqa: E402

from common import SHARED  # noqa: E402

GIB = 1 << 30


def response_members(warc: Path) -> list[bytes]:
    """The gzip member bytes of every response record of a per-record gzip WARC."""
    data = warc.read_bytes()
    starts, kinds = [], []
    with warc.open("rb") as stream:
        for record in ArchiveIterator(stream, record_types=WarcRecordType.any_type, parse_http=False):
            starts.append(record.stream_pos)
            kinds.append(record.record_type)
    ends = starts[1:] + [len(data)]
    return [data[a:b] for a, b, kind in zip(starts, ends, kinds) if kind == WarcRecordType.response]


def warcinfo(description: str) -> bytes:
    out = io.BytesIO()
    writer = WARCWriter(out, gzip=True)
    writer.write_record(writer.create_warcinfo_record("corpusforge-big.warc.gz", {
        "software": "corpusforge bench/format/build_big_warc.py", "format": "WARC File Format 1.0",
        "description": description}))
    return out.getvalue()


def build(output: Path, size: int, sources: list[Path]) -> dict:
    members = [m for source in sources for m in response_members(source)]
    one_pass = sum(len(m) for m in members)
    replicas = -(-size // one_pass)
    description = (f"SYNTHETIC SCALE TEST: {len(members)} real HTML pages from {', '.join(s.name for s in sources)} "
                   f"(../shared/data/warc/built), their per-record gzip members concatenated up to {replicas} times "
                   f"to reach {size} bytes. Record IDs repeat across replicas.")
    written = records = 0
    with output.open("wb") as out:
        head = warcinfo(description)
        out.write(head)
        written += len(head)
        while written < size:
            for member in members:
                out.write(member)
                written += len(member)
                records += 1
                if written >= size:
                    break
    return {"pages": len(members), "bytes_per_pass": one_pass, "replicas": records / len(members),
            "records": records, "bytes": written, "description": description}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("output")
    parser.add_argument("--size", type=int, default=GIB)
    parser.add_argument("--built", default=str(SHARED / "warc" / "built"))
    parser.add_argument("--source", action="append", help="file names under --built to use (default: all)")
    args = parser.parse_args()
    sources = sorted(Path(args.built).glob("*.warc.gz"))
    if args.source:
        sources = [s for s in sources if s.name in args.source]
    if not sources:
        sys.exit(f"no WARC files in {args.built}")
    info = build(Path(args.output), args.size, sources)
    print(f"built {args.output}: {info['bytes']:,} bytes, {info['records']:,} response records = "
          f"{info['pages']} real pages replicated {info['replicas']:.2f} times ({info['bytes_per_pass']:,} bytes per pass)")


if __name__ == "__main__":
    main()
