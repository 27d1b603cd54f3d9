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


def graph():
    rng = random.Random(4)
    ids = [f"n{i:04d}" for i in range(400)]
    shuffled = ids[:]
    rng.shuffle(shuffled)
    edges = [(shuffled[i], shuffled[i + 1]) for i in range(0, 60)]  # a 61-node chain in random id order
    edges += [(ids[200], ids[j]) for j in range(201, 260)]  # a star
    edges += [(rng.choice(ids[260:]), rng.choice(ids[260:])) for _ in range(90)]  # random, with self-loops
    edges += [(b, a) for a, b in edges[:10]]  # both directions
    return edges, union_find_labels([(a, b) for a, b in edges if a != b])


def test_connected_components_match_union_find(spark, tmp_path):
    from corpusforge.jobs.connected_components import connected_components

    edges, expected = graph()
    spark.sparkContext.setCheckpointDir(str(tmp_path / "checkpoints"))
    df = spark.createDataFrame(edges, "a string, b string")
    labels, rounds = connected_components(df, lambda d: d.checkpoint(eager=True), max_iterations=30)
    got = {r["node"]: r["component"] for r in labels.collect()}
    assert got == expected
    assert 1 <= rounds <= 12


def test_driver_components_match_union_find_and_spark_string_order():
    import pyarrow as pa

    from corpusforge.jobs.connected_components import driver_components

    edges, expected = graph()
    edges += [("é-node", "z-node"), ("Z-node", "é-node"), ("10", "9")]  # code point order: "10" < "9", "Z" < "z" < "é"
    expected.update({"é-node": "Z-node", "z-node": "Z-node", "Z-node": "Z-node", "10": "10", "9": "10"})
    table = pa.table({"a": [a for a, _ in edges], "b": [b for _, b in edges]})
    labels = driver_components(table)
    assert dict(zip(labels.column("node").to_pylist(), labels.column("component").to_pylist())) == expected
    empty = driver_components(pa.table({"a": pa.array([], pa.string()), "b": pa.array([], pa.string())}))
    assert empty.num_rows == 0 and empty.schema.names == ["node", "component"]
