"""Copy a few real labelled keep pages into tests/data/warc/labelled/ for the tests of the shipped
thresholds: the WARC records of ../shared/data/warc/built, byte for byte (each record is its own gzip
member there, so the members are copied unchanged and keep their WARC-Record-ID, by which the labels
of resources/labels/clean-pages find them). The pages: short complete Chinese news items and a novel
chapter, and Japanese blog posts, which the published thresholds removed (see tests/data/NOTICE).

Usage: .venv/bin/python bench/clean/build_labelled_sample.py
"""
from __future__ import annotations

import sys
from pathlib import Path

from warcio.archiveiterator import ArchiveIterator

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # bench/, for common.py
from common import ROOT, SHARED  # noqa: E402

PAGES = {  # source WARC of warc/built → the labelled WARC-Record-IDs copied (by URL, for the reader)
    "gne-chinese-news.warc.gz": ("https://gne-fixture.invalid/gzggw/1.html",
                                 "https://gne-fixture.invalid/readhub/readhub.html"),
    "magic-html-benchmark.warc.gz": ("http://www.he.news.cn/20240515/d59c39d4160a4fe4b3084c3e4abfb450/c.html",
                                     "https://www.qidian.com/chapter/1034360760/720619827/",
                                     "https://ameblo.jp/atsushi188/entry-12852816087.html?adxarea=thoex",
                                     "https://ameblo.jp/karattosakutto/entry-12851721825.html?adxarea=ameblo-atp-br-pctpcs"),
}


def main() -> None:
    for source, urls in PAGES.items():
        path = SHARED / "warc" / "built" / source
        data = path.read_bytes()
        members, found = [], set()
        with path.open("rb") as stream:
            records = ArchiveIterator(stream)
            for record in records:
                url = record.rec_headers.get_header("WARC-Target-URI")
                if record.rec_type == "response" and url in urls:
                    record.content_stream().read()
                    start, length = records.get_record_offset(), records.get_record_length()
                    members.append(data[start:start + length])
                    found.add(url)
        missing = set(urls) - found
        if missing:
            raise SystemExit(f"{source}: not found: {sorted(missing)}")
        out = ROOT / "tests" / "data" / "warc" / "labelled" / source.replace(".warc.gz", "-labelled-keep.warc.gz")
        out.write_bytes(b"".join(members))
        print(f"{out.relative_to(ROOT)}: {len(members)} records, {out.stat().st_size:,} bytes", flush=True)


if __name__ == "__main__":
    main()
