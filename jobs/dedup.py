"""Dedup stage. The report: "fuzzy deduplication with locality-sensitive hashing: MinHash signatures
with 128 hash functions over 5-grams, threshold 0.7; among duplicates keep the most recent data,
i.e. the larger Common Crawl dump number".

1. Features: normalise each document, hash its normalised text (exact duplicates) and its 5-gram
   shingles, and compute a 128-value MinHash signature (udfs/minhash.py, datasketch-compatible).
2. Exact duplicates: documents with the same normalised text form one group, represented by the
   copy the keep rule prefers; only representatives go on to the fuzzy step.
3. LSH band join: each signature is cut into `bands` bands of `rows` values and documents meet in
   (band, band hash) buckets. A bucket never expands into its pairs: every member is linked to the
   bucket's smallest id only (a star), so a bucket of 100,000 near-identical pages is 100,000 edges.
4. Verification: each candidate edge is kept only when its Jaccard similarity (exact, of the two
   shingle sets; or estimated from signatures) reaches `threshold`.
5. Connected components of the verified edges (jobs/connected_components.py): in Spark, or on the
   driver when there are at most dedup.driver_components_max_edges of them (same components).
6. Keep rule: per component, the document from the newest dump wins; ties go to the latest WARC
   capture date, then to the smallest id (unknown dump or date counts as oldest). Every other member
   goes to removed/ with reason exact_duplicate (same normalised text as the kept copy) or
   near_duplicate, duplicate_of (the kept id), component_id (the component's smallest id) and
   component_size (members, exact copies included).

Incremental dedup (`--index DIR`): DIR is the `index/` of an earlier dedup output, the signatures of
every document that run kept (plus the index it was given, minus what it superseded). Its documents
take part in steps 2–6 like this run's documents, but only in buckets that contain a new document.
A new document that loses to an indexed one is removed with duplicate_of naming the indexed id. An
indexed document that loses to a newer copy cannot be removed from the earlier run's kept/ by this
run; it is listed in `superseded/` (id, url, dump, dump_order, superseded_by, reason, component_id,
component_size) so that consumers can drop it, and it leaves the index this run writes.
"""
from __future__ import annotations

import json
import logging
import time
import uuid
from contextlib import contextmanager
from typing import Any, Iterator, Mapping

import numpy as np
import pyarrow as pa
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

from corpusforge.conf import Config, ConfigError
from corpusforge.jobs.connected_components import connected_components, driver_components
from corpusforge.jobs.stage import (DOCUMENT_COLUMNS, InputError, Stage, StageOption, StageOutput, arrow_schema,
                                    finished_marker, marker_id, read_success, removed_rows, single_input)
from corpusforge.jobs.storage import Storage, join, spark_path
from corpusforge.udfs.minhash import SCHEME, dedup_features

log = logging.getLogger("corpusforge.dedup")
EXACT, NEAR = "exact_duplicate", "near_duplicate"
PASSED_THROUGH = ["id", "url", "dump", "dump_order", "warc_date"]
FEATURE_SCHEMA = T.StructType([
    T.StructField("id", T.StringType(), False),
    T.StructField("url", T.StringType()),
    T.StructField("dump", T.StringType()),
    T.StructField("dump_order", T.IntegerType()),
    T.StructField("warc_date", T.StringType()),
    T.StructField("content_hash", T.StringType(), False),
    T.StructField("token_count", T.IntegerType(), False),
    # uint32 MinHash values stored as int32 (same bits): np.array(sig, np.int32).view(np.uint32)
    T.StructField("signature", T.ArrayType(T.IntegerType(), False)),
    # sorted distinct 32-bit shingle hashes (same bit convention); only with verify: exact
    T.StructField("shingles", T.ArrayType(T.IntegerType(), False)),
])
# What the signature index holds per document: enough to deduplicate against it and to report it.
INDEX_COLUMNS = ["id", "url", "dump", "dump_order", "warc_date", "content_hash", "token_count", "signature",
                 "shingles"]
REMOVED_EXTRA = ["duplicate_of", "component_id", "component_size"]


def index_parameters(cfg: Config) -> dict:
    """What makes two signature indexes comparable; stored next to each index and checked on reuse."""
    d = cfg.dedup
    return {"scheme": d.scheme, "num_perm": d.num_perm, "seed": d.seed, "ngram": d.ngram,
            "fold_digits": d.fold_digits, "verify": d.verify}


def check_settings(cfg: Config) -> None:
    d = cfg.dedup
    if d.scheme != SCHEME:
        raise ConfigError(f"conf key 'dedup.scheme' is {d.scheme!r}; only {SCHEME!r} is implemented.")
    if d.bands * d.rows > d.num_perm:
        raise ConfigError(f"conf keys 'dedup.bands' × 'dedup.rows' = {d.bands} × {d.rows} = {d.bands * d.rows} "
                          f"exceeds 'dedup.num_perm' = {d.num_perm}. Fix: lower bands or rows.")


# ---------------------------------------------------------------------------------------------- features

def document_features(docs: DataFrame, cfg: Config) -> DataFrame:
    """FEATURE_SCHEMA rows for every document: content hash, signature and shingle set."""
    d = cfg.dedup
    num_perm, seed, ngram, fold_digits, keep_shingles = d.num_perm, d.seed, d.ngram, d.fold_digits, d.verify == "exact"
    schema = arrow_schema(FEATURE_SCHEMA)

    def to_features(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for batch in batches:
            f = dedup_features(batch.column("text").to_pylist(), num_perm, seed, ngram, fold_digits)
            rows = batch.num_rows
            has = f.has_signature
            sig_offsets = np.zeros(rows + 1, dtype=np.int32)
            np.cumsum(has.astype(np.int32) * num_perm, out=sig_offsets[1:])
            signature = pa.ListArray.from_arrays(
                pa.array(sig_offsets), pa.array(f.signatures[has].view(np.int32).ravel()), mask=pa.array(~has))
            if keep_shingles:
                shingles = pa.ListArray.from_arrays(
                    pa.array(f.shingle_offsets.astype(np.int32)), pa.array(f.shingle_sets.view(np.int32)),
                    mask=pa.array(~has))
            else:
                shingles = pa.nulls(rows, pa.list_(pa.int32()))
            yield pa.RecordBatch.from_arrays(
                [*(batch.column(c) for c in PASSED_THROUGH), pa.array(f.content_hashes, pa.string()),
                 pa.array(f.token_counts, pa.int32()), signature.cast(schema.field("signature").type),
                 shingles.cast(schema.field("shingles").type)], schema=schema)

    return docs.select(*PASSED_THROUGH, "text").mapInArrow(to_features, FEATURE_SCHEMA)


def keep_key() -> F.Column:
    """Ascending order of preference: newest dump, then latest capture date, then smallest id."""
    never = F.lit(2**62).cast("long")
    return F.struct(
        F.coalesce(-F.col("dump_order").cast("long"), never).alias("dump_rank"),
        F.coalesce(-F.unix_timestamp(F.try_to_timestamp(F.col("warc_date"))), never).alias("date_rank"),
        F.col("id").alias("id"))


# ---------------------------------------------------------------------------------------------- LSH

def band_buckets(reps: DataFrame, bands: int, rows: int) -> DataFrame:
    """(id, is_new, band, bucket): one row per document and band; bucket = xxhash64 of the band's values."""
    keys = F.array(*[F.xxhash64(F.lit(i), F.slice("signature", i * rows + 1, rows)) for i in range(bands)])
    return reps.select("id", "is_new", F.posexplode(keys).alias("band", "bucket"))


def candidate_edges(buckets: DataFrame, incremental: bool) -> DataFrame:
    """(a, b): every bucket member a linked to the bucket's smallest id b — a star, never all pairs.

    With an index, buckets without any new document are skipped: their members were deduplicated
    against each other by the run that built the index.
    """
    agg = [F.min("id").alias("centre"), F.count("*").alias("members")]
    if incremental:
        agg.append(F.max(F.col("is_new").cast("int")).alias("has_new"))
    centres = buckets.groupBy("band", "bucket").agg(*agg).where(F.col("members") > 1)
    if incremental:
        centres = centres.where(F.col("has_new") == 1)
    return buckets.join(centres.select("band", "bucket", "centre"), ["band", "bucket"]) \
        .where(F.col("id") != F.col("centre")).select(F.col("id").alias("a"), F.col("centre").alias("b")).distinct()


def verified(edges: DataFrame, reps: DataFrame, cfg: Config) -> DataFrame:
    """Candidate edges whose Jaccard similarity reaches the threshold, with that similarity.

    `reps` need only hold the documents on some edge: the shingle sets or signatures of those are
    all that is shuffled."""
    column = "shingles" if cfg.dedup.verify == "exact" else "signature"
    left = reps.select(F.col("id").alias("a"), F.col(column).alias("x"))
    right = reps.select(F.col("id").alias("b"), F.col(column).alias("y"))
    pairs = edges.join(left, "a").join(right, "b")
    if cfg.dedup.verify == "exact":
        common = F.size(F.array_intersect("x", "y"))
        similarity = common / (F.size("x") + F.size("y") - common)
    else:
        similarity = F.size(F.filter(F.zip_with("x", "y", lambda p, q: p == q), lambda e: e)) / F.size("x")
    return pairs.select("a", "b", similarity.alias("jaccard")).where(F.col("jaccard") >= cfg.dedup.threshold)


# ---------------------------------------------------------------------------------------------- the stage

class DedupStage(Stage):
    """With `--index`, its input is the previous stage's documents AND an earlier run's signature index:
    both enter the fingerprint, and the index is checked at start-up."""
    name = "dedup"
    summary = "Dedup: exact and MinHash-LSH near duplicates removed, the copy from the newest dump kept."
    input_help = "Output directory of the previous stage (clean or format)."
    options = (StageOption("index", "--index", "index/ of an earlier dedup output: deduplicate against it too "
                                               "(incremental, newest wins)."),)

    def check(self, cfg: Config, options: Mapping[str, Any]) -> None:
        check_settings(cfg)
        if options.get("index"):
            index_made_with(cfg, options["index"])

    def input_identity(self, cfg: Config, source: list[str], options: Mapping[str, Any]) -> str:
        """The previous stage's identity, and the index's (its dedup output's _SUCCESS) when one is used."""
        marker, index = finished_marker(cfg, single_input(source)), options.get("index")
        if not index:
            return marker_id(marker)
        parent = index.rstrip("/").rsplit("/", 1)[0]
        return marker_id({"input": marker, "index": index, "index_source": read_success(cfg, parent) or {}})

    @contextmanager
    def transform(self, spark: SparkSession, cfg: Config, docs: DataFrame, options: Mapping[str, Any],
                  output: str) -> Iterator[StageOutput]:
        index, storage = options.get("index"), Storage.of(cfg)
        prior = read_index(spark, cfg, index) if index else None
        work = join(output, "_work")
        # our own folder under the checkpoint directory, removed at the end whatever happens
        checkpoints = join(cfg.spark.checkpoint_dir, f"dedup-{uuid.uuid4().hex}") if cfg.spark.checkpoint_dir \
            else join(output, "_checkpoints")
        spark.sparkContext.setCheckpointDir(spark_path(checkpoints))
        steps: dict[str, float] = {}
        clock = time.monotonic()

        def step(name: str) -> None:
            nonlocal clock
            now = time.monotonic()
            steps[name] = round(now - clock, 3)
            clock = now
            log.info("dedup: %s done in %.1f s", name, steps[name])

        try:
            # 1. features, written once: the lineage cut and the source of the new index
            document_features(docs, cfg).select(*INDEX_COLUMNS) \
                .write.mode("overwrite").parquet(spark_path(join(work, "features")))
            features = spark.read.parquet(spark_path(join(work, "features"))).withColumn("is_new", F.lit(True))
            input_docs = features.count()  # one feature row per input document (from Parquet metadata)
            step("features")
            heavy = features  # signatures and shingle sets: scanned where needed, never shuffled whole
            if prior is not None:
                heavy = features.unionByName(
                    prior.join(features.select("id"), "id", "left_anti").withColumn("is_new", F.lit(False)))
            slim = heavy.select("id", "url", "dump", "dump_order", "content_hash", "is_new",
                                F.col("signature").isNotNull().alias("has_signature"), keep_key().alias("keep"))

            # 2. exact duplicates: one representative per normalised text
            groups = slim.groupBy("content_hash").agg(F.min("keep").alias("rep_keep"))
            members = slim.join(groups, "content_hash").withColumn("rep", F.col("rep_keep.id")).drop("rep_keep")
            rep_ids = members.where((F.col("id") == F.col("rep")) & F.col("has_signature")).select("id")
            reps = heavy.select("id", "is_new", "signature").join(rep_ids, "id", "left_semi")
            # 3-4. LSH band join with star edges, then verification of each candidate edge
            candidates = candidate_edges(band_buckets(reps, cfg.dedup.bands, cfg.dedup.rows), prior is not None)
            candidates.write.mode("overwrite").parquet(spark_path(join(work, "candidates")))
            candidates = spark.read.parquet(spark_path(join(work, "candidates")))
            nodes = candidates.select(F.col("a").alias("id")).unionByName(candidates.select(F.col("b").alias("id")))
            edges = verified(candidates, heavy.join(nodes.distinct(), "id", "left_semi"), cfg)
            edges.write.mode("overwrite").parquet(spark_path(join(work, "edges")))
            edges = spark.read.parquet(spark_path(join(work, "edges")))
            step("lsh_and_verify")
            # 5. connected components: on the driver for a small graph, else in rounds of Spark joins
            edge_count = edges.count()
            components_on = "driver" if edge_count <= cfg.dedup.driver_components_max_edges else "spark"
            if components_on == "driver":
                labels, rounds = spark.createDataFrame(driver_components(edges.select("a", "b").toArrow())), 0
            else:
                labels, rounds = connected_components(edges, lambda df: df.checkpoint(eager=True),
                                                      cfg.dedup.max_iterations)
            step("connected_components")
            # 6. keep rule
            assigned = members.join(labels.select(F.col("node").alias("rep"), "component"), "rep", "left") \
                .withColumn("component", F.coalesce("component", "rep"))
            winners = assigned.groupBy("component").agg(
                F.min("keep").alias("winner_keep"), F.count("*").cast("int").alias("component_size"),
                F.min("id").alias("component_id"))
            winner_info = slim.select(F.col("id").alias("duplicate_of"), F.col("content_hash").alias("winner_hash"),
                                      F.col("dump").alias("winner_dump"))
            decided = assigned.join(winners, "component").drop("component") \
                .withColumn("duplicate_of", F.col("winner_keep.id")).join(winner_info, "duplicate_of") \
                .withColumn("reason", F.when(F.col("id") == F.col("duplicate_of"), F.lit(None))
                            .when(F.col("content_hash") == F.col("winner_hash"), F.lit(EXACT)).otherwise(F.lit(NEAR)))
            decided.drop("keep", "winner_keep").write.mode("overwrite").parquet(spark_path(join(work, "decided")))
            decided = spark.read.parquet(spark_path(join(work, "decided")))
            step("keep_rule")

            losers = decided.where(F.col("reason").isNotNull())
            new_losers = losers.where("is_new").select("id", "reason", "duplicate_of", "component_id", "component_size",
                                                      "winner_dump")
            detail = F.concat(F.lit("kept copy from "), F.coalesce("winner_dump", F.lit("an unknown dump")))
            removed = removed_rows(docs.join(new_losers, "id"), self.name, F.col("reason"), detail, *REMOVED_EXTRA)
            result = StageOutput(kept=docs.join(new_losers.select("id"), "id", "left_anti").select(*DOCUMENT_COLUMNS),
                                 removed=removed, input_docs=input_docs)
            compression = cfg.output.parquet_compression
            losers.where(~F.col("is_new")).select(
                "id", "url", "dump", "dump_order", F.col("duplicate_of").alias("superseded_by"), "reason",
                "component_id", "component_size") \
                .write.mode("overwrite").option("compression", compression).parquet(spark_path(join(output, "superseded")))
            heavy.join(losers.select("id"), "id", "left_anti").select(*INDEX_COLUMNS).write.mode("overwrite") \
                .option("compression", compression).parquet(spark_path(join(output, "index")))
            storage.write_text(join(output, "index", "_index.json"), json.dumps(index_parameters(cfg), sort_keys=True))
            step("write_index")

            counts = _dedup_counts(decided, edge_count)
            result.extra_stats = {**counts, "components_on": components_on, "cc_rounds": rounds, "index": index, "step_seconds": steps,
                                  "bands": cfg.dedup.bands, "rows": cfg.dedup.rows, "threshold": cfg.dedup.threshold,
                                  "verify": cfg.dedup.verify}
            yield result
            steps["write_outputs"] = round(time.monotonic() - clock, 3)
        finally:
            storage.remove(work)
            storage.remove(checkpoints)


def index_made_with(cfg: Config, index: str) -> dict:
    """The settings an earlier run's index/ was built with, refused when they differ from this run's."""
    text = Storage.of(cfg).read_text(join(index, "_index.json"))
    if text is None:
        raise InputError(f"--index {index} is not a dedup signature index (no _index.json there). "
                         f"Fix: pass the index/ directory of an earlier dedup output.")
    made_with, wanted = json.loads(text), index_parameters(cfg)
    if made_with != wanted:
        diff = {k: (made_with.get(k), v) for k, v in wanted.items() if made_with.get(k) != v}
        raise InputError(f"--index {index} was built with other dedup settings {diff} (index, now). "
                         f"Fix: use the same dedup.* settings, or rebuild the index.")
    return made_with


def read_index(spark: SparkSession, cfg: Config, index: str) -> DataFrame:
    """An earlier run's index/ (its signatures and shingle sets), checked against this run's settings."""
    index_made_with(cfg, index)
    return spark.read.parquet(spark_path(index)).select(*INDEX_COLUMNS)


def _dedup_counts(decided: DataFrame, edge_count: int) -> dict:
    row = decided.agg(
        F.sum(F.col("is_new").cast("int")).alias("docs"),
        F.sum((~F.col("is_new")).cast("int")).alias("indexed"),
        F.sum((~F.col("has_signature")).cast("int")).alias("no_signature"),
        F.countDistinct("content_hash").alias("distinct_texts"),
        F.sum(((F.col("id") == F.col("duplicate_of")) & (F.col("component_size") > 1)).cast("int")).alias("clusters"),
        F.max("component_size").alias("largest"),
        F.sum((~F.col("is_new") & F.col("reason").isNotNull()).cast("int")).alias("superseded"),
    ).first()
    return {
        "docs_without_signature": int(row["no_signature"] or 0),
        "distinct_normalised_texts": int(row["distinct_texts"] or 0),
        "verified_edges": edge_count,
        "duplicate_clusters": int(row["clusters"] or 0),
        "largest_cluster": int(row["largest"] or 0),
        "indexed_docs": int(row["indexed"] or 0),
        "superseded_docs": int(row["superseded"] or 0),
    }
