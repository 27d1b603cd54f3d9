"""The Dedup stage in local Spark: known duplicate structure, keep-newest, ties, partitioning,
short documents, a huge bucket, incremental dedup against an index, and the sample Format output."""
from __future__ import annotations

import json
import random
import string

import pytest

from corpusforge.udfs.shingles import tokens

pytestmark = pytest.mark.spark

RNG = random.Random(11)
VOCAB = ["".join(RNG.choices(string.ascii_lowercase, k=RNG.randint(3, 9))) for _ in range(3000)]


def words(n: int, rng: random.Random) -> list[str]:
    return [rng.choice(VOCAB) for _ in range(n)]


def edit(ws: list[str], changes: int, rng: random.Random) -> list[str]:
    ws = list(ws)
    for pos in rng.sample(range(len(ws)), changes):
        ws[pos] = rng.choice(VOCAB)
    return ws


def jaccard(a: str, b: str) -> float:
    def sh(t):
        toks = tokens(t)
        return {tuple(toks[i:i + 5]) for i in range(len(toks) - 4)}
    x, y = sh(a), sh(b)
    return len(x & y) / len(x | y)


def doc(id_, text, dump=None, date="2021-01-01T00:00:00Z"):
    from corpusforge.udfs.dumps import dump_order
    return {"id": id_, "url": f"https://example.org/{id_}", "host": "example.org", "domain": "example.org",
            "dump": dump, "dump_order": dump_order(dump, date), "warc_file": "x.warc.gz",
            "warc_record_id": f"<urn:uuid:{id_}>", "warc_date": date, "language": "en", "language_score": 0.99,
            "title": id_, "text": text, "scores": {}}


def write_input(spark, path, rows, partitions=4):
    """A finished stage output (kept/ + _SUCCESS) holding `rows` in `partitions` files (written with
    pyarrow: much faster than building the rows in Spark)."""
    import pyarrow as pa
    import pyarrow.parquet as pq
    from pyspark.sql.pandas.types import to_arrow_schema

    from corpusforge.jobs.stage import DOCUMENT_SCHEMA
    schema = to_arrow_schema(DOCUMENT_SCHEMA)
    (path / "kept").mkdir(parents=True)
    for part in range(partitions):
        chunk = rows[part::partitions]
        pq.write_table(pa.Table.from_pylist(chunk, schema=schema), path / "kept" / f"part-{part:05d}.parquet")
    (path / "_SUCCESS").write_text(json.dumps({"stage": "clean"}))
    return str(path)


def outcome(output):
    import pyarrow.parquet as pq
    kept = sorted(pq.read_table(f"{output}/kept", columns=["id"]).column("id").to_pylist())
    removed = pq.read_table(f"{output}/removed").to_pandas()
    rows = sorted(removed[["id", "reason", "duplicate_of", "component_id", "component_size"]]
                  .itertuples(index=False, name=None))
    return kept, {r[0]: r[1:] for r in rows}


def known_corpus():
    rng = random.Random(5)
    a, b, c = words(200, rng), words(200, rng), words(150, rng)
    a_near, b_far, d = edit(a, 4, rng), edit(b, 30, rng), edit(c, 90, rng)
    rows = [
        # A: three copies over three dumps — the newest (a3, a near-duplicate) must win
        doc("a1", " ".join(a), "CC-MAIN-2019-04"),
        doc("a2", " ".join(a).upper().replace(" ", ",  "), "CC-MAIN-2020-10"),  # exact after normalisation
        doc("a3", " ".join(a_near), "CC-MAIN-2021-04"),
        # B: too different (J < 0.7): both kept
        doc("b1", " ".join(b), "CC-MAIN-2019-04"), doc("b2", " ".join(b_far), "CC-MAIN-2021-04"),
        # C: same dump, later capture date wins; D: same dump and date, smallest id wins
        doc("c2", " ".join(c), "CC-MAIN-2020-10", "2020-03-01T00:00:00Z"),
        doc("c1", " ".join(c), "CC-MAIN-2020-10", "2020-03-05T00:00:00Z"),
        doc("d2", " ".join(d) + " dee", "CC-MAIN-2020-10"),
        doc("d1", " ".join(edit(d, 2, rng)) + " dee", "CC-MAIN-2020-10"),
        # short documents: exact duplicates only, never one big cluster
        doc("s1", "Hello world!"), doc("s2", "hello,  WORLD"), doc("s3", "Hello there"),
        doc("s4", "one two three four"), doc("s5", "one two three five"),
        doc("e1", "..."), doc("e2", "!!!"), doc("e3", "???"), doc("e4", "???"), doc("e5", ""),
    ]
    rows += [doc(f"u{i}", " ".join(words(120, rng)), "CC-MAIN-2020-10") for i in range(30)]
    return rows, {"a": (a, a_near), "b": (b, b_far)}


EXPECTED_REMOVED = {
    "a1": ("near_duplicate", "a3"), "a2": ("near_duplicate", "a3"), "c2": ("exact_duplicate", "c1"),
    "d2": ("near_duplicate", "d1"), "s2": ("exact_duplicate", "s1"), "e4": ("exact_duplicate", "e3"),
}


def test_known_structure_ties_short_documents_and_partitioning(spark, cfg_factory, tmp_path):
    from corpusforge.jobs.dedup import DedupStage
    from corpusforge.jobs.stage import run_stage
    rows, parts = known_corpus()
    assert jaccard(" ".join(parts["a"][0]), " ".join(parts["a"][1])) >= 0.7
    assert jaccard(" ".join(parts["b"][0]), " ".join(parts["b"][1])) < 0.7
    d_rows = [r["text"] for r in rows if r["id"] in ("d1", "d2")]
    assert jaccard(*d_rows) >= 0.7, "the fixture must plant d1/d2 as near-duplicates"

    results = []
    for partitions, components_on_driver in ((1, True), (8, True), (8, False)):
        spark.conf.set("spark.sql.shuffle.partitions", str(partitions))
        source = write_input(spark, tmp_path / f"in{partitions}{components_on_driver}", rows, partitions)
        out = str(tmp_path / f"out{partitions}{components_on_driver}")
        cfg = cfg_factory() if components_on_driver else cfg_factory("dedup.driver_components_max_edges=0")
        stats = run_stage(spark, cfg, DedupStage(), source, out)
        assert stats["input_docs"] == len(rows) == stats["kept_docs"] + stats["removed_docs"]
        assert stats["components_on"] == ("driver" if components_on_driver else "spark")
        results.append(outcome(out))
    spark.conf.set("spark.sql.shuffle.partitions", "4")
    assert results[0] == results[1], "1 and 8 partitions must give the same result"
    assert results[1] == results[2], "components on the driver and in Spark must give the same result"

    kept, removed = results[1]
    assert {i: (r[0], r[1]) for i, r in removed.items()} == EXPECTED_REMOVED
    assert kept == sorted(r["id"] for r in rows if r["id"] not in EXPECTED_REMOVED)
    assert removed["a1"][2:] == ("a1", 3) and removed["c2"][2:] == ("c1", 2)
    assert stats["removed_by_reason"] == {"near_duplicate": 3, "exact_duplicate": 3}


def test_huge_bucket_of_near_identical_pages_is_a_star_not_all_pairs(spark, cfg_factory, tmp_path):
    from corpusforge.jobs.dedup import DedupStage
    from corpusforge.jobs.stage import run_stage
    n = 20_000
    boilerplate = " ".join(words(60, random.Random(1)))
    unique = ("".join(string.ascii_lowercase[(i // 26 ** k) % 26] for k in range(4)) for i in range(n))
    rows = [doc(f"p{i:05d}", f"{boilerplate} {u}", "CC-MAIN-2020-10") for i, u in enumerate(unique)]
    rows[123]["dump"], rows[123]["dump_order"] = "CC-MAIN-2022-05", 202205
    in_spark = cfg_factory("dedup.driver_components_max_edges=0")  # the components of a big star, in Spark
    stats = run_stage(spark, in_spark, DedupStage(), write_input(spark, tmp_path / "in", rows), str(tmp_path / "out"))
    assert stats["kept_docs"] == 1 and stats["removed_docs"] == n - 1
    assert stats["distinct_normalised_texts"] == n  # not exact duplicates: the fuzzy path did this
    assert stats["largest_cluster"] == n
    # a star has n − 1 edges; all pairs would be ~2·10^8. Partial buckets add a few other centres.
    assert n - 1 <= stats["verified_edges"] <= 3 * n
    kept, removed = outcome(str(tmp_path / "out"))
    assert kept == ["p00123"] and {r[1] for r in removed.values()} == {"p00123"}


def test_incremental_dedup_against_an_index_keeps_the_newest_and_reports_superseded(spark, cfg_factory, tmp_path):
    from corpusforge.jobs.dedup import DedupStage
    from corpusforge.jobs.stage import run_stage
    rng = random.Random(9)
    x, y, z = (words(150, rng) for _ in range(3))
    old = [doc("x-old", " ".join(x), "CC-MAIN-2019-04"), doc("y-old", " ".join(y), "CC-MAIN-2019-04"),
           doc("z-old", " ".join(z), "CC-MAIN-2019-04"), doc("y-old-copy", " ".join(y), "CC-MAIN-2018-30")]
    first = str(tmp_path / "first")
    stats1 = run_stage(spark, cfg_factory(), DedupStage(), write_input(spark, tmp_path / "in1", old), first)
    assert stats1["kept_docs"] == 3

    new = [doc("x-new", " ".join(edit(x, 3, rng)), "CC-MAIN-2021-04"),  # newer near copy: supersedes x-old
           doc("y-older", " ".join(y), "CC-MAIN-2017-13"),  # an older dump processed late: loses to y-old
           doc("w-new", " ".join(words(150, rng)), "CC-MAIN-2021-04")]
    second = str(tmp_path / "second")
    stats2 = run_stage(spark, cfg_factory(), DedupStage(), write_input(spark, tmp_path / "in2", new), second,
                       {"index": f"{first}/index"})
    assert stats2["input_docs"] == 3 and stats2["indexed_docs"] == 3 and stats2["superseded_docs"] == 1
    kept, removed = outcome(second)
    assert kept == ["w-new", "x-new"]
    assert removed == {"y-older": ("exact_duplicate", "y-old", "y-old", 2)}

    import pyarrow.parquet as pq
    superseded = pq.read_table(f"{second}/superseded").to_pylist()
    assert [(s["id"], s["superseded_by"], s["reason"]) for s in superseded] == [("x-old", "x-new", "near_duplicate")]
    index_ids = sorted(pq.read_table(f"{second}/index", columns=["id"]).column("id").to_pylist())
    assert index_ids == ["w-new", "x-new", "y-old", "z-old"]

    from corpusforge.conf import load_config
    from corpusforge.jobs.stage import InputError
    other = load_config(None, ["spark.master=local[2]", "dedup.seed=2"])
    with pytest.raises(InputError, match="seed"):
        run_stage(spark, other, DedupStage(), write_input(spark, tmp_path / "in3", new), str(tmp_path / "third"),
                  {"index": f"{first}/index"})


def test_dedup_on_the_sample_format_output(spark, cfg_factory, format_output, tmp_path):
    from corpusforge.jobs.dedup import DedupStage
    from corpusforge.jobs.stage import run_stage
    source, format_stats = format_output
    stats = run_stage(spark, cfg_factory(), DedupStage(), str(source), str(tmp_path / "out"))
    assert stats["input_docs"] == format_stats["kept_docs"] > 0
    assert stats["input_docs"] == stats["kept_docs"] + stats["removed_docs"]
    assert set(stats["removed_by_reason"]) <= {"exact_duplicate", "near_duplicate"}
    assert (tmp_path / "out" / "_SUCCESS").exists() and not (tmp_path / "out" / "_work").exists()
