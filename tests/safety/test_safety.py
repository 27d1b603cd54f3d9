"""The Safety stage: block-domain join (subdomains yes, suffix tricks no, normalised hosts), and the
whole stage on the sample Format output with the bundled lists and models."""
from __future__ import annotations

import gzip
import json

import pytest

pytestmark = pytest.mark.spark


def domain_cfg(cfg_factory, tmp_path, lines: list[str], *sets: str):
    listed = tmp_path / "list.txt.gz"
    with gzip.open(listed, "wt", encoding="utf-8") as handle:
        handle.write("\n".join(lines) + "\n")
    return cfg_factory(f"safety.block_domains.lists={{test: {listed}}}", *sets)


LIST = [
    "# a comment line",
    "Example.COM.",                 # upper case and a trailing dot in the list
    "b.deep.org",
    "deep.org  # trailing comment",
    "0.0.0.0 hosts-file.net",       # hosts-file form
    "*.wild.io",                    # wildcard form
    "münchen-sex.de",               # IDN in the list, punycode in documents
    "localhost",                    # no dot: not a domain, skipped
    "paths.com/some/page",          # a URL, not a domain: skipped
    "10.1.2.3",
]

HOSTS = {
    "example.com": ("test", "example.com"),
    "a.b.example.com": ("test", "example.com"),
    "EXAMPLE.com:8080": ("test", "example.com"),
    "www.example.com.": ("test", "example.com"),
    "ample.com": None,                              # suffix trick: not a parent domain
    "notexample.com": None,
    "example.com.evil.net": None,
    "example.co": None,
    "x.b.deep.org": ("test", "b.deep.org"),           # the most specific entry is recorded
    "c.deep.org": ("test", "deep.org"),
    "hosts-file.net": ("test", "hosts-file.net"),
    "cdn.wild.io": ("test", "wild.io"),
    "xn--mnchen-sex-9db.de": ("test", "xn--mnchen-sex-9db.de"),
    "www.münchen-sex.de": ("test", "xn--mnchen-sex-9db.de"),
    "localhost": None,
    "paths.com": None,
    "10.1.2.3": ("test", "10.1.2.3"),
    "110.1.2.3": None,
}


def test_domains_block_hosts_and_subdomains_never_suffix_tricks(spark, cfg_factory, tmp_path):
    from corpusforge.jobs.blocklists import mark_blocked_domains

    cfg = domain_cfg(cfg_factory, tmp_path, LIST)
    docs = spark.createDataFrame([(f"d{i}", h) for i, h in enumerate(HOSTS)] + [("dnull", None)],
                                 "id string, host string")
    marked = {r["host"]: r for r in mark_blocked_domains(spark, cfg, docs).collect()}
    assert len(marked) == len(HOSTS) + 1
    for host, expected in HOSTS.items():
        got = marked[host]
        assert ((got["blocked_list"], got["blocked_entry"]) if got["blocked_list"] else None) == expected, host
    assert marked[None]["blocked_list"] is None


def test_large_lists_are_joined_without_broadcast_and_agree(spark, cfg_factory, tmp_path):
    from corpusforge.jobs.blocklists import mark_blocked_domains

    docs = spark.createDataFrame([(f"d{i}", h) for i, h in enumerate(HOSTS)], "id string, host string")
    small = domain_cfg(cfg_factory, tmp_path, LIST)
    large = domain_cfg(cfg_factory, tmp_path, LIST, "safety.block_domains.broadcast_max_bytes=0",
                       "safety.block_domains.broadcast_max_blocked_hosts=0")
    as_set = lambda cfg: {(r["host"], r["blocked_entry"]) for r in mark_blocked_domains(spark, cfg, docs).collect()}
    assert as_set(small) == as_set(large)


def test_safety_stage_on_the_sample_format_output(spark, cfg_factory, format_output, tmp_path):
    from corpusforge.jobs.safety import SafetyStage
    from corpusforge.jobs.stage import run_stage
    from corpusforge.jobs.stage import DOCUMENT_COLUMNS

    format_dir, _ = format_output
    first = spark.read.parquet(str(format_dir / "kept")).select("host").where("host is not null").first()["host"]
    parent = first.split(".", 1)[1] if first.count(".") >= 2 else first
    lists = tmp_path / "extra.txt"
    lists.write_text(f"{parent}\n", encoding="utf-8")
    cfg = cfg_factory(f"safety.block_domains.lists.extra={lists}")  # bundled lists + one that hits the sample
    out = tmp_path / "safety"
    stats = run_stage(spark, cfg, SafetyStage(), str(format_dir), str(out))

    assert stats["input_docs"] == stats["kept_docs"] + stats["removed_docs"] > 0
    assert (out / "_SUCCESS").is_file()
    assert json.loads((out / "_stats.json").read_text())["stage"] == "safety"
    assert stats["removed_by_reason"].get("blocked_domain", 0) >= 1
    assert stats["blocked_by_list"].get("extra", 0) >= 1
    assert set(stats["classifiers"]) == {"toxicity", "pornography"}
    assert stats["classifiers"]["toxicity"]["scored_docs"] > 0
    assert stats["inference_workers"] >= 1 and stats["max_loads_per_worker"] <= 3  # encoder + 2 heads, never twice
    assert stats["model_loads"] <= 3 * stats["inference_workers"]

    removed = spark.read.parquet(str(out / "removed")).collect()
    for row in removed:
        assert row["stage"] == "safety" and row["reason"] in {"blocked_domain", "blocked_words", "toxicity", "pornography"}
        assert row["detail"]
        if row["reason"] == "blocked_domain":
            assert row["detail"].split(": ")[1] in (row["host"] or "")
        if row["reason"] in ("toxicity", "pornography"):
            assert row["scores"][row["reason"]] > 0
    kept = spark.read.parquet(str(out / "kept"))
    assert kept.columns[:len(DOCUMENT_COLUMNS)] == DOCUMENT_COLUMNS
    scored = [r["scores"] for r in kept.collect() if r["language"] in ("en", "zh")]
    assert scored and all("toxicity" in s and "pornography" in s for s in scored)
