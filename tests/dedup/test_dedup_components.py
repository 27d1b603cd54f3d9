"""Large-star / small-star connected components against a plain union-find, on a graph with long
chains (the worst case for label propagation), a big star and random edges."""
from __future__ import annotations

import random

import pytest

pytestmark = pytest.mark.spark


def union_find_labels(edges):
    parent = {}

    def find(x):
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x
    for a, b in edges:
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    return {x: find(x) for x in parent}


def test_connected_components_match_union_find(spark, tmp_path):
    from corpusforge.jobs.connected_components import connected_components

    rng = random.Random(4)
    ids = [f"n{i:04d}" for i in range(400)]
    shuffled = ids[:]
    rng.shuffle(shuffled)
    edges = [(shuffled[i], shuffled[i + 1]) for i in range(0, 60)]  # a 61-node chain in random id order
    edges += [(ids[200], ids[j]) for j in range(201, 260)]  # a star
    edges += [(rng.choice(ids[260:]), rng.choice(ids[260:])) for _ in range(90)]  # random, with self-loops
    edges += [(b, a) for a, b in edges[:10]]  # both directions
    expected = union_find_labels([(a, b) for a, b in edges if a != b])

    spark.sparkContext.setCheckpointDir(str(tmp_path / "checkpoints"))
    df = spark.createDataFrame(edges, "a string, b string")
    labels, rounds = connected_components(df, lambda d: d.checkpoint(eager=True), max_iterations=30)
    got = {r["node"]: r["component"] for r in labels.collect()}
    assert got == expected
    assert 1 <= rounds <= 12
