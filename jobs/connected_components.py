"""Connected components of a large, skewed graph on Spark DataFrames: alternating large-star and
small-star (Kiveris, Lattanzi, Mirrokni, Rastogi, Vassilvitskii, "Connected Components in MapReduce
and Beyond", SoCC 2014).

Written here because GraphFrames (whose connectedComponents is this algorithm) ships as a JVM jar
that cannot be fetched on the clusters we target, and a driver-side union-find does not scale.
Every step is a join or an aggregation, so a star with 100,000 leaves is one aggregation key, not
100,000² pairs; each round is checkpointed so the lineage stays short; nothing is collected.

Labels are node ids (strings, compared lexicographically); a component's label is its smallest id.

A graph small enough to hold on the driver (`driver_components`) is labelled there instead, by scipy's
connected components over the ids' sorted order: the same labels without the rounds of Spark jobs.
"""
from __future__ import annotations

from typing import Callable

import numpy as np
import pyarrow as pa
from pyspark.sql import DataFrame
from pyspark.sql import functions as F


class DidNotConverge(RuntimeError):
    """The graph needed more rounds than allowed; raised instead of returning wrong components."""


def _neighbourhood_min(pairs: DataFrame) -> DataFrame:
    return pairs.groupBy("u").agg(F.min("v").alias("m"))


def large_star(edges: DataFrame) -> DataFrame:
    """Every node u links each larger neighbour to m(u), the smallest of u and its neighbours."""
    both = edges.select(F.col("a").alias("u"), F.col("b").alias("v")) \
        .unionByName(edges.select(F.col("b").alias("u"), F.col("a").alias("v")))
    smallest = _neighbourhood_min(both).select("u", F.least("u", "m").alias("m"))
    return both.where(F.col("v") > F.col("u")).join(smallest, "u") \
        .select(F.col("v").alias("a"), F.col("m").alias("b")).distinct()


def small_star(edges: DataFrame) -> DataFrame:
    """Every node u links itself and each smaller neighbour to the smallest of them."""
    down = edges.select(F.greatest("a", "b").alias("u"), F.least("a", "b").alias("v")).distinct()
    smallest = _neighbourhood_min(down)
    return down.join(smallest, "u").select(F.col("v").alias("a"), F.col("m").alias("b")) \
        .unionByName(smallest.select(F.col("u").alias("a"), F.col("m").alias("b"))) \
        .where(F.col("a") != F.col("b")).distinct()


def is_star_forest(edges: DataFrame) -> bool:
    """Converged: every node points to at most one smaller node, and that one points nowhere."""
    centres_that_point = edges.select(F.col("b").alias("a")).distinct().join(edges.select("a"), "a", "left_semi")
    if centres_that_point.limit(1).count() > 0:
        return False
    return edges.groupBy("a").count().where(F.col("count") > 1).limit(1).count() == 0


def connected_components(edges: DataFrame, checkpoint: Callable[[DataFrame], DataFrame],
                         max_iterations: int) -> tuple[DataFrame, int]:
    """((node, component) for every node on an edge, rounds used). Edges: columns a, b (strings).

    `checkpoint` materialises a DataFrame and cuts its lineage (e.g. DataFrame.checkpoint).
    """
    current = checkpoint(edges.where(F.col("a") != F.col("b"))
                         .select(F.greatest("a", "b").alias("a"), F.least("a", "b").alias("b")).distinct())
    rounds = 0
    while not is_star_forest(current):
        if rounds >= max_iterations:
            raise DidNotConverge(f"connected components did not converge in {max_iterations} rounds; "
                                 f"raise dedup.max_iterations")
        current = checkpoint(small_star(large_star(current)))
        rounds += 1
    labels = current.select(F.col("a").alias("node"), F.col("b").alias("component")) \
        .unionByName(current.select(F.col("b").alias("node"), F.col("b").alias("component"))).distinct()
    return labels, rounds


def driver_components(edges: pa.Table) -> pa.Table:
    """(node, component) for every node on an edge of `edges` (columns a, b: strings), component = the
    smallest id of the node's connected component: what connected_components gives, computed in memory.

    Ids are numbered in sorted order (code point order, which is UTF-8 byte order, Spark's string order),
    so a component's smallest id is the one with its smallest number."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components as scipy_components

    a, b = edges.column("a").to_numpy(zero_copy_only=False), edges.column("b").to_numpy(zero_copy_only=False)
    keep = a != b
    a, b = a[keep], b[keep]
    if len(a) == 0:
        return pa.table({"node": pa.array([], pa.string()), "component": pa.array([], pa.string())})
    nodes, index = np.unique(np.concatenate([a, b]), return_inverse=True)
    n = len(nodes)
    graph = coo_matrix((np.ones(len(a), dtype=np.int8), (index[:len(a)], index[len(a):])), shape=(n, n))
    _, component = scipy_components(graph, directed=False)
    smallest = np.full(component.max() + 1, n, dtype=np.int64)
    np.minimum.at(smallest, component, np.arange(n))
    return pa.table({"node": pa.array(nodes.tolist(), pa.string()),
                     "component": pa.array(nodes[smallest[component]].tolist(), pa.string())})
