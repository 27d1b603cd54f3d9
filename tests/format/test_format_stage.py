"""The Format stage on Spark (local mode): counts per file, the output contract, edge files, stable ids."""
import gzip
import json
import shutil
from pathlib import Path

import pytest
from support.paths import DATA, shared_data
from support.warcs import count_html_200, html_responses, write_arc

from corpusforge.jobs.format import FormatStage

from corpusforge.jobs.stage import run_stage
pytestmark = pytest.mark.spark
KANA = set(chr(c) for c in range(0x3041, 0x30FF))
MOJIBAKE = ("Ã", "ã\x81", "ã\x82", "¤", "\ufffd", "æ\x97", "ï¼")


def stats_of(out: Path) -> dict:
    return json.loads((out / "_stats.json").read_text())


def read_table(spark, path: Path) -> list[dict]:
    return [r.asDict(recursive=True) for r in spark.read.parquet(f"file://{path}").orderBy("id").collect()]


def by_file(stats: dict) -> dict:
    return {Path(name).name: summary for name, summary in stats["files"].items()}


def test_sample_counts_match_an_independent_count_per_file(format_output, sample_warcs, spark):
    out, stats = format_output
    files = by_file(stats)
    assert sorted(files) == sorted(Path(p).name for p in sample_warcs)
    kept = spark.read.parquet(f"file://{out}/kept").groupBy("warc_file").count().collect()
    removed = spark.read.parquet(f"file://{out}/removed").groupBy("warc_file").count().collect()
    kept, removed = {r.warc_file: r["count"] for r in kept}, {r.warc_file: r["count"] for r in removed}
    for path in sample_warcs:
        name = Path(path).name
        records, html = count_html_200(path)
        summary = files[name]
        assert (summary["records"], summary["html_records"]) == (records, html), name
        assert kept.get(name, 0) == summary["kept"] and removed.get(name, 0) == sum(summary["removed_by_reason"].values())
        assert summary["kept"] + removed.get(name, 0) == html and summary["error"] is None
    assert stats["input_docs"] == stats["kept_docs"] + stats["removed_docs"] == stats["html_records"] > 0
    assert stats["warc_files"] == len(sample_warcs) and stats["failed_files"] == {}
    assert stats["warc_records"] == sum(count_html_200(p)[0] for p in sample_warcs)
    assert stats["warc_records"] == stats["html_records"] + sum(stats["skipped_by_reason"].values())


def test_output_contract(format_output, spark):
    out, stats = format_output
    for name in ("kept", "removed", "kept_jsonl", "_stats.json", "_SUCCESS"):
        assert (out / name).exists(), name
    success = (out / "_SUCCESS").stat().st_mtime_ns
    written = [p for p in out.rglob("*") if p.is_file() and p.name != "_SUCCESS"]
    assert all(p.stat().st_mtime_ns <= success for p in written)
    assert json.loads((out / "_SUCCESS").read_text())["stage"] == "format"
    assert stats_of(out)["kept_docs"] == stats["kept_docs"]
    kept = read_table(spark, out / "kept")
    assert len({d["id"] for d in kept}) == len(kept) == stats["kept_docs"]
    assert all(d["text"] and d["language"] and d["url"] and d["warc_record_id"] for d in kept)
    jsonl = [json.loads(line) for part in sorted((out / "kept_jsonl").glob("part-*.json.gz"))
             for line in gzip.open(part, "rt", encoding="utf-8")]
    assert sorted(d["id"] for d in jsonl) == [d["id"] for d in kept]
    assert {d["id"]: d["text"] for d in jsonl} == {d["id"]: d["text"] for d in kept}


def test_japanese_clueweb_pages_come_out_without_mojibake(format_output, spark):
    out, _ = format_output
    docs = [d for d in read_table(spark, out / "kept") if d["warc_file"] == "clueweb09-ja-quirks.warc.gz"]
    assert len(docs) == 29
    for doc in docs:
        assert doc["language"] == "ja", doc["url"]
        assert KANA & set(doc["text"]), doc["url"]
        assert not [m for m in MOJIBAKE if m in doc["text"] or m in (doc["title"] or "")], doc["url"]


def test_ids_do_not_depend_on_partitioning(format_output, spark, cfg_factory, sample_warcs, tmp_path):
    out_four, _ = format_output  # files_per_task=1: one task per file
    out_one = tmp_path / "one_task"
    run_stage(spark, cfg_factory("format.files_per_task=4"), FormatStage(), sample_warcs, str(out_one))
    assert len(list((out_four / "kept").glob("part-*.parquet"))) == len(sample_warcs) == 4
    assert len(list((out_one / "kept").glob("part-*.parquet"))) == 1
    for table in ("kept", "removed"):
        four = spark.read.parquet(f"file://{out_four}/{table}").repartition(4)
        one = spark.read.parquet(f"file://{out_one}/{table}").repartition(1)
        assert four.orderBy("id").collect() == one.orderBy("id").collect()


# --- edge files: one run over a paths file listing every awkward input ------------------------------

@pytest.fixture(scope="module")
def edge_run(spark, cfg_factory, tmp_path_factory):
    work = tmp_path_factory.mktemp("edge")
    edge = DATA / "warc" / "edge"
    shutil.copy(edge / "CC-MAIN-2015-11-whole-file-gzip.warc.gz", work)
    shutil.copy(edge / "ccbot-2017-07-truncated-payload.warc.gz", work)
    (work / "CC-MAIN-2015-11-uncompressed.warc").write_bytes(
        gzip.decompress((edge / "CC-MAIN-2015-11-whole-file-gzip.warc.gz").read_bytes()))
    pages = html_responses(DATA / "warc" / "sample-0000.warc.gz", 5)
    (work / "sample-pages.arc.gz").write_bytes(write_arc(pages, "sample-pages.arc.gz"))
    whole = (DATA / "warc" / "sample-0000.warc.gz").read_bytes()
    (work / "sample-0000-cut.warc.gz").write_bytes(whole[:len(whole) // 2])
    lines = ["CC-MAIN-2015-11-whole-file-gzip.warc.gz", "ccbot-2017-07-truncated-payload.warc.gz",
             "CC-MAIN-2015-11-uncompressed.warc", "sample-pages.arc.gz", "sample-0000-cut.warc.gz",
             "missing.warc.gz"]
    real_arc = None
    try:
        real_arc = shared_data() / "warc" / "edge" / "NetarchiveSuite-netarkivet.arc.gz"
        lines.append(str(real_arc))
    except pytest.skip.Exception:
        pass
    (work / "edge.paths").write_text("# edge inputs\n" + "\n".join(lines) + "\n")
    out = work / "out"
    stats = run_stage(spark, cfg_factory(), FormatStage(), [str(work / "edge.paths")], str(out))
    return work, out, stats, pages, real_arc


def test_edge_run_finishes_and_accounts_for_everything(edge_run):
    work, out, stats, _, real_arc = edge_run
    assert (out / "_SUCCESS").exists()
    assert stats["warc_files"] == 6 + (real_arc is not None)
    assert stats["input_docs"] == stats["kept_docs"] + stats["removed_docs"]
    assert set(stats["failed_files"]) == {str(work / "sample-0000-cut.warc.gz"), str(work / "missing.warc.gz")}


def test_whole_file_gzip_and_uncompressed(edge_run, spark):
    work, out, stats, _, _ = edge_run
    files = by_file(stats)
    for name in ("CC-MAIN-2015-11-whole-file-gzip.warc.gz", "CC-MAIN-2015-11-uncompressed.warc"):
        records, html = count_html_200(work / name)
        assert (files[name]["records"], files[name]["html_records"], files[name]["kept"]) == (records, html, html) == (14, 4, 4)
        assert files[name]["dump"] == "CC-MAIN-2015-11"
    kept = read_table(spark, out / "kept")
    texts = {}
    for doc in kept:
        texts.setdefault(doc["warc_file"], {})[doc["warc_record_id"]] = doc["text"]
    assert texts["CC-MAIN-2015-11-whole-file-gzip.warc.gz"] == texts["CC-MAIN-2015-11-uncompressed.warc"]


def test_truncated_payload_is_kept_and_flagged(edge_run, spark):
    _, out, stats, _, _ = edge_run
    assert by_file(stats)["ccbot-2017-07-truncated-payload.warc.gz"]["kept"] == 1
    (doc,) = [d for d in read_table(spark, out / "kept") if d["warc_file"] == "ccbot-2017-07-truncated-payload.warc.gz"]
    assert doc["scores"]["truncated"] == 1.0 and doc["text"]


def test_truncated_payload_is_removed_when_asked(spark, cfg_factory, tmp_path):
    path = DATA / "warc" / "edge" / "ccbot-2017-07-truncated-payload.warc.gz"
    stats = run_stage(spark, cfg_factory("format.skip_truncated=true", "output.jsonl=false"), FormatStage(), [str(path)],
                             str(tmp_path / "out"))
    assert (stats["kept_docs"], stats["removed_by_reason"]) == (0, {"truncated": 1})
    assert not (tmp_path / "out" / "kept_jsonl").exists()  # JSONL only when conf asks for it
    (row,) = read_table(spark, tmp_path / "out" / "removed")
    assert (row["stage"], row["reason"], row["scores"]["truncated"]) == ("format", "truncated", 1.0)


def test_arc_built_from_real_pages_gives_the_same_text_as_the_warc(edge_run, format_output, spark):
    _, out, stats, pages, _ = edge_run
    summary = by_file(stats)["sample-pages.arc.gz"]
    assert (summary["records"], summary["html_records"], summary["kept"]) == (6, 5, 5)
    arc = {d["url"]: d["text"] for d in read_table(spark, out / "kept") if d["warc_file"] == "sample-pages.arc.gz"}
    warc = {d["url"]: d["text"] for d in read_table(spark, format_output[0] / "kept")
            if d["warc_file"] == "sample-0000.warc.gz"}
    assert arc == {url: warc[url] for url, _, _ in pages}


def test_real_arc_file(edge_run):
    _, _, stats, _, real_arc = edge_run
    if real_arc is None:
        pytest.skip("../shared/data is not present")
    summary = stats["files"][str(real_arc)]
    assert (summary["records"], summary["html_records"]) == count_html_200(real_arc) == (66, 12)
    assert summary["kept"] == 12 and summary["error"] is None


def test_a_cut_file_keeps_its_first_records_and_counts_the_break(edge_run, format_output, spark):
    work, out, stats, _, _ = edge_run
    summary = by_file(stats)["sample-0000-cut.warc.gz"]
    assert summary["skipped_by_reason"]["corrupt_stream"] == 1 and "truncated" in summary["error"]
    assert 0 < summary["html_records"] < 22
    cut = [d for d in read_table(spark, out / "kept") if d["warc_file"] == "sample-0000-cut.warc.gz"]
    full = {d["warc_record_id"]: d["text"] for d in read_table(spark, format_output[0] / "kept")
            if d["warc_file"] == "sample-0000.warc.gz"}
    assert len(cut) == summary["kept"] > 0
    changed = [d for d in cut if full.get(d["warc_record_id"]) != d["text"]]
    assert len(changed) <= 1  # only the record the cut went through, kept as a truncated page
    assert all(d["scores"].get("truncated") == 1.0 and d["warc_record_id"] in full for d in changed)


def test_a_missing_file_in_a_paths_file_is_counted(edge_run):
    work, _, stats, _, _ = edge_run
    summary = stats["files"][str(work / "missing.warc.gz")]
    assert summary["skipped_by_reason"] == {"unreadable_file": 1} and "FileNotFoundError" in summary["error"]
    assert stats["skipped_by_reason"]["unreadable_file"] == 1
