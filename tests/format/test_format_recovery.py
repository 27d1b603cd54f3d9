"""Records that real archives write with malformed HTTP: every defect class of support/defects.py
(tests/data/warc/edge/crafted-defects.warc.gz) is recovered with the right status and text, or
skipped/removed with the right reason; the real good records between them come out as before; and
every record of the file is accounted for."""
import gzip
import hashlib
import io
import json
from collections import Counter

import pytest
from fastwarc.warc import ArchiveIterator as FastIterator
from fastwarc.warc import WarcRecordType
from support.defects import BUNDLED, build
from support.fuzz import format_options
from support.paths import WARCS

from corpusforge.udfs.documents import ArchiveToDocuments
from corpusforge.udfs.repairs import DECODING_STEPS, REPAIR_KINDS, escaped_sample
from corpusforge.udfs.warc_records import HttpReading

MANIFEST = build()[1]
DATE = "2024-05-20T10:00:00Z"


def member(entry: dict) -> bytes:
    """The record's gzip member alone: a reader that failed on one record cannot hide the others."""
    data = BUNDLED.read_bytes()
    following = [m["offset"] for m in MANIFEST if m["offset"] > entry["offset"]]
    return data[entry["offset"]:min(following, default=len(data))]


def convert(data: bytes, name: str = "crafted-defects.warc.gz", options=None):
    seen = []
    rows = list(ArchiveToDocuments(options or format_options()).rows(
        io.BytesIO(data), f"/data/{name}", observe=lambda record, row, skip: seen.append(record)))
    return rows[:-1], json.loads(rows[-1]["file_summary"]), seen


def normalised(text: str) -> str:
    return " ".join(text.split())


def test_the_bundled_file_is_the_builders_output():
    data, manifest = build()
    assert BUNDLED.read_bytes() == data
    assert len(manifest) == 71 and sum(m["group"] == "good" for m in manifest) == 7
    for entry in manifest:  # each crafted record names its defect in a WARC header readers ignore
        (rec,) = FastIterator(io.BytesIO(member(entry)), parse_http=False, quirks_mode=True,
                             record_types=WarcRecordType.any_type)
        assert rec.headers.get("WARC-Defect") == (None if entry["group"] == "good" else entry["name"])


@pytest.mark.parametrize("entry", MANIFEST, ids=[m["name"] for m in MANIFEST])
def test_each_record_is_recovered_or_skipped_with_its_reason(entry):
    expect = entry["expect"]
    rows, summary, (record,) = convert(member(entry))
    assert summary["error"] is None and summary["records"] == 1
    if expect["outcome"] == "skipped":
        assert rows == [] and summary["skipped_by_reason"] == {expect["reason"]: 1}
        if expect["reason"] != "non_200":  # unreadable: a bounded, escaped sample of the first bytes
            (sample,) = summary["skip_samples"][expect["reason"]]
            assert sample["first_bytes"] == escaped_sample(record.block_start, 64)
            assert sample["record_id"] == entry["record_id"] and len(sample["first_bytes"]) <= 4 * 64
        return
    (row,) = rows
    if expect["outcome"] == "removed":
        assert row["reason"] == expect["reason"] and summary["removed_by_reason"] == {expect["reason"]: 1}
        return
    assert row["reason"] is None, (row["reason"], row["detail"])
    assert record.status == 200 and expect["snippet"] in normalised(row["text"])
    repairs = sorted(k[len("repair_"):] for k in row["scores"] if k.startswith("repair_"))
    assert repairs == expect["repairs"] and set(repairs) <= set(REPAIR_KINDS)
    assert sorted(summary["repaired_by_kind"]) == repairs
    assert summary["repaired_records"] == (1 if repairs else 0)
    if entry["group"] == "good":
        assert hashlib.sha1(row["text"].encode()).hexdigest() == expect["text_sha1"]  # as before the lenient reader
        assert row["archive_url"] is None
        return
    assert sorted(record.body.decodings) == expect["decodings"] == sorted(summary["decoded_by_kind"])
    assert set(expect["decodings"]) <= set(DECODING_STEPS)
    assert (row["url"], row["archive_url"]) == (expect["url"], expect["archive_url"])
    assert row["warc_date"] == (expect["warc_date"] or DATE)
    if expect["archive_url"]:  # a capture through a web archive: host and order from the original
        assert row["host"] == row["url"].split("/")[2].lower() and "archive" not in row["host"]
        assert row["dump_order"] // 100 == int(expect["warc_date"][:4])


def test_the_whole_file_reads_to_its_end_and_accounts_for_every_record():
    rows, summary, _ = convert(BUNDLED.read_bytes())
    assert summary["error"] is None and summary["records"] == len(MANIFEST) == 71
    removed = Counter(r["reason"] for r in rows if r["reason"] is not None)
    kept = sum(r["reason"] is None for r in rows)
    assert summary["records"] == kept + sum(removed.values()) + sum(summary["skipped_by_reason"].values())
    expected = Counter(m["expect"]["outcome"] for m in MANIFEST)
    assert (kept, sum(removed.values())) == (expected["document"], expected["removed"])
    assert summary["skipped_by_reason"] == dict(Counter(m["expect"]["reason"] for m in MANIFEST
                                                        if m["expect"]["outcome"] == "skipped"))
    assert removed == Counter(m["expect"]["reason"] for m in MANIFEST if m["expect"]["outcome"] == "removed")
    documents = [m for m in MANIFEST if m["expect"]["outcome"] == "document"]
    assert summary["repaired_by_kind"] == dict(Counter(k for m in documents for k in m["expect"]["repairs"])
                                               + Counter({"status_line_doubled_protocol": 1}))  # the 404 skipped
    assert summary["repaired_records"] == sum(bool(m["expect"]["repairs"]) for m in documents) + 1


def test_good_records_come_out_as_in_their_own_files():
    """Between defects, each real record gives the document it gives in its original file (but for
    what comes from the file: its name, and the dump its warcinfo record names)."""
    rows, _, _ = convert(BUNDLED.read_bytes())
    by_record = {r["warc_record_id"]: r for r in rows}
    for entry in (m for m in MANIFEST if m["group"] == "good"):
        name, _ = entry["source"]
        original = {r["warc_record_id"]: r for r in convert((WARCS / name).read_bytes(), name)[0]}
        here, there = by_record[entry["record_id"]], original[entry["record_id"]]
        per_file = ("id", "warc_file", "dump", "dump_order")
        assert {k: v for k, v in here.items() if k not in per_file} == \
               {k: v for k, v in there.items() if k not in per_file}


def test_settings_switch_the_policies():
    headless = next(m for m in MANIFEST if m["name"] == "no_http_head")
    replay = next(m for m in MANIFEST if m["name"] == "wayback_user_case")
    strict = format_options().__class__(**{**format_options().__dict__,
                                           "reading": HttpReading(implied_status=None, replay_archives=())})
    _, summary, _ = convert(member(headless), options=strict)
    assert summary["skipped_by_reason"] == {"no_http_head": 1}
    (row,), _, _ = convert(member(replay), options=strict)
    assert row["archive_url"] is None and row["host"] == "web.archive.org" and row["reason"] is None


def test_a_minified_headless_page_no_longer_ends_the_file():
    """fastwarc's HTTP parser raises on a block without an end of head in 32 KiB, which lost every
    record after it; the reader parses heads itself, so the records after it are read."""
    minified = next(m for m in MANIFEST if m["name"] == "no_http_head_minified")
    after = [m for m in MANIFEST if m["offset"] > minified["offset"]][:3]
    data = member(minified) + b"".join(member(m) for m in after)
    with pytest.raises(OSError, match="header length"):
        for _ in FastIterator(io.BytesIO(gzip.decompress(data)), parse_http=True):
            pass
    rows, summary, _ = convert(data)
    assert summary["records"] == 4 and summary["error"] is None
    assert [r["reason"] for r in rows] == [None, None, None] and summary["skipped_by_reason"] == {"no_http_head": 1}


@pytest.mark.spark
def test_format_and_clean_on_spark_count_repairs_and_carry_the_archive_url(spark, cfg_factory, tmp_path):
    from support.runs import final_documents

    from corpusforge.jobs.pipeline import run_pipeline

    out = tmp_path / "run"
    run_pipeline(spark, cfg_factory(), [str(BUNDLED)], str(out), "format", "clean")
    stats = json.loads((out / "format" / "_stats.json").read_text())
    (file_summary,) = stats["files"].values()
    assert stats["repaired_by_kind"] == file_summary["repaired_by_kind"] == convert(BUNDLED.read_bytes())[1]["repaired_by_kind"]
    assert stats["input_docs"] == stats["kept_docs"] + stats["removed_docs"] == stats["html_records"]
    assert stats["warc_records"] == stats["html_records"] + sum(stats["skipped_by_reason"].values()) == 71
    assert set(stats["skip_samples"]) == {"status_line_unparseable", "status_line_ambiguous", "no_http_head",
                                          "missing_target_uri"}
    assert all(s["warc_file"] == str(BUNDLED) for samples in stats["skip_samples"].values() for s in samples)
    kept = spark.read.parquet(f"file://{out / 'format' / 'kept'}")
    replays = {r["url"]: r["archive_url"] for r in kept.where("archive_url is not null").collect()}
    assert replays == {m["expect"]["url"]: m["expect"]["archive_url"] for m in MANIFEST
                       if m["expect"].get("archive_url")}
    final = final_documents(out)
    assert all("archive_url" in doc for doc in final)
    assert {d["url"]: d["archive_url"] for d in final if d["archive_url"]}.items() <= replays.items()
    assert any(d["archive_url"] for d in final)


def test_a_capture_is_ordered_by_its_capture_time_even_in_a_common_crawl_file():
    replay = next(m for m in MANIFEST if m["name"] == "wayback_user_case")
    (row,), _, _ = convert(member(replay), name="CC-MAIN-2024-10-sample.warc.gz")
    assert (row["dump"], row["warc_date"], row["dump_order"]) == ("CC-MAIN-2024-10", "2022-08-12T23:07:39Z", 202232)
    plain = next(m for m in MANIFEST if m["name"] == "not_a_replay")
    (row,), _, _ = convert(member(plain), name="CC-MAIN-2024-10-sample.warc.gz")
    assert (row["archive_url"], row["dump_order"]) == (None, 202410)


def test_the_docs_name_every_repair_and_reason():
    from support.paths import ROOT

    from corpusforge.udfs.repairs import BODY_REMOVAL_REASONS, READ_SKIP_REASONS

    doc = (ROOT / "docs" / "format-recovery.md").read_text()
    for name in (*REPAIR_KINDS, *DECODING_STEPS, *READ_SKIP_REASONS, *BODY_REMOVAL_REASONS):
        assert f"| `{name}` |" in doc, name
