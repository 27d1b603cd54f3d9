"""Block lists in Spark: the report's block-domain list (~13M domains) and block-word list.

Domains are matched by a join, not by a Python set copied into every worker: each distinct host is
exploded into itself and its parent domains (a.b.example.com → a.b.example.com, b.example.com,
example.com) and joined with the list entries, so example.com blocks every subdomain and never
ample.com. A list that is small is broadcast; a large one (UT1 is 4.6M domains, the report's 13M)
is shuffled on the suffix — or, when the documents' hosts are the small side, Spark's adaptive
execution broadcasts those instead and the list is only scanned.

Words are matched in Python workers with one Aho-Corasick automaton per language and process
(udfs/block_words.py); the lists travel as one broadcast variable.
"""
from __future__ import annotations

from typing import Iterator

import fsspec
import pyarrow as pa
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

from corpusforge.conf import Config, ConfigError
from corpusforge.jobs.storage import Storage, protocol_of, spark_path
from corpusforge.resources import resolve
from corpusforge.udfs.block_words import WordList, WordPolicy, judge, list_for_language
from corpusforge.udfs.overrides import OverrideTable, Overrides

# A gzipped list counts at this multiple of its file size against broadcast_max_bytes: domain lists
# compress about 7:1 (UT1: 17.6 MB → 123.6 MB).
GZIP_RATIO = 7
_ASCII = r"^[\x00-\x7F]*$"
_DOMAIN = r"^[a-z0-9_-]+(\.[a-z0-9_-]+)+$"


# --- start-up check ---------------------------------------------------------------------------

_PROBE_BYTES = 1 << 16


def check_list_files(cfg: Config) -> None:
    """Every configured block-domain and block-word list can be read, checked on the driver before Spark
    starts (the stage itself first opens them inside Spark, where a bad path is a JVM stack trace).

    Local paths (and bundled resources/ paths) are opened and their first bytes read, decompressed
    when the name ends in .gz, so a missing file, a directory where a file belongs, a file without read
    permission or a .gz that is not gzip stops the job naming the conf key. Remote URLs are not fetched
    here (that can hang on credentials or the network); their scheme must be one fsspec supports with
    its package installed, so a typo (s4://) or a missing s3fs is caught at start-up too."""
    for name, path in sorted(cfg.safety.block_domains.lists.items()):
        if path is not None:
            _check_list(f"safety.block_domains.lists.{name}", path, directory_ok=True,
                        fix="Fix: point it at a readable list file (plain or .gz), or set it to null to disable the list")
    for language, settings in sorted(cfg.safety.block_words.word_lists.items()):
        for path in settings.files:
            _check_list(f"safety.block_words.word_lists.{language}.files", path, directory_ok=False,
                        fix="Fix: point it at readable UTF-8 word-list files (plain or .gz), or remove the entry")


def _check_list(key: str, path: str, directory_ok: bool, fix: str) -> None:
    where = resolve(path)
    protocol = protocol_of(where)
    try:
        fsspec.get_filesystem_class(protocol)
    except (ValueError, ImportError) as err:
        raise ConfigError(f"conf key '{key}' is {path!r}: its scheme {protocol}:// cannot be read ({err}). {fix}, "
                          f"or install the fsspec package for {protocol}://.") from None
    if protocol != "file":
        return
    fs = fsspec.filesystem("file")
    if not fs.exists(where):
        raise ConfigError(f"conf key '{key}': list file {where} does not exist. {fix}.")
    if fs.isdir(where):
        files = sorted(fs.find(where)) if directory_ok else []
        if not files:
            what = "a directory holding no file" if directory_ok else "a directory, not a file"
            raise ConfigError(f"conf key '{key}': {where} is {what}. {fix}.")
    else:
        files = [where]
    for file in files:
        try:
            if directory_ok:  # domain lists: Spark reads them, the first bytes show they can be read
                with fsspec.open(file, "rb", compression="infer") as handle:
                    handle.read(_PROBE_BYTES)
            else:  # word lists are small and read whole on the driver, as UTF-8
                with fsspec.open(file, "rt", compression="infer", encoding="utf-8") as handle:
                    handle.read()
        except (OSError, EOFError, UnicodeDecodeError) as err:
            raise ConfigError(f"conf key '{key}': list file {file} cannot be read ({type(err).__name__}: {err}). "
                              f"{fix}.") from None


# --- domains ----------------------------------------------------------------------------------

def normalised_host(value) -> F.Column:
    """The host in block-list form — udfs.urls.normalise_host's rules (lower case; no user, port or
    trailing dot; IDN as punycode) in SQL, so 13M list entries never cross into Python. IDN goes
    through java.net.IDN (IDNA 2003, like Python's idna codec); a host it rejects becomes null."""
    sql = F.lower(F.trim(value))
    sql = F.regexp_replace(sql, r"^.*@", "")
    sql = F.regexp_replace(sql, r":[0-9]*$", "")
    sql = F.regexp_replace(sql, r"\.+$", "")
    sql = F.regexp_replace(sql, r"^(\*\.|\.)+", "")
    idn = F.call_function("try_reflect", F.lit("java.net.IDN"), F.lit("toASCII"), sql)
    return F.when(sql.rlike(_ASCII), sql).otherwise(F.lower(idn))


def read_domain_lists(spark: SparkSession, lists: dict[str, str | None]) -> DataFrame:
    """(list, entry) rows of every enabled list: comments, hosts-file addresses, wildcards and
    dotless or path-bearing lines handled; entries normalised like hosts."""
    frames = []
    for name, path in sorted(lists.items()):
        if path is None:
            continue
        lines = spark.read.text(spark_path(resolve(path)))
        entry = F.trim(F.regexp_replace("value", "#.*$", ""))
        entry = F.element_at(F.split(entry, r"\s+"), -1)  # "0.0.0.0 example.com" → example.com
        frames.append(lines.select(F.lit(name).alias("list"), entry.alias("raw")))
    if not frames:
        return spark.createDataFrame([], "list string, entry string")
    raw = frames[0]
    for frame in frames[1:]:
        raw = raw.unionByName(frame)
    entries = raw.where(F.col("raw") != "").select("list", normalised_host(F.col("raw")).alias("entry"))
    return entries.where(F.col("entry").rlike(_DOMAIN))


def host_suffixes(host: F.Column) -> F.Column:
    """The host and each parent domain with at least two labels; an IP address only as itself."""
    parts = F.split(host, r"\.")
    n = F.size(parts)
    suffixes = F.transform(F.sequence(F.lit(0), n - 2),
                           lambda i: F.array_join(F.slice(parts, i + 1, n - i), "."))
    return F.when((n < 2) | host.rlike(r"^[0-9.]+$") | host.contains(":"), F.array(host)).otherwise(suffixes)


def list_bytes(lists: dict[str, str | None], storage_options: dict) -> int:
    """Size of the list files as text (gzipped files at GZIP_RATIO × their size)."""
    total = 0
    for path in filter(None, lists.values()):
        where = resolve(path)
        fs = Storage(storage_options).filesystem(where)
        for info in fs.find(where, detail=True).values() if fs.isdir(where) else [fs.info(where)]:
            total += info["size"] * (GZIP_RATIO if str(info["name"]).endswith(".gz") else 1)
    return total


def blocked_hosts(spark: SparkSession, cfg: Config, docs: DataFrame) -> DataFrame:
    """(host, blocked_list, blocked_entry) for every document host that a list blocks; the most
    specific entry (the longest) is recorded when several match."""
    settings = cfg.safety.block_domains
    hosts = docs.select("host").where(F.col("host").isNotNull()).distinct()
    keyed = hosts.select("host", normalised_host(F.col("host")).alias("host_key")).where(F.col("host_key").isNotNull())
    suffixes = keyed.select("host", F.explode(host_suffixes(F.col("host_key"))).alias("entry"))
    entries = read_domain_lists(spark, settings.lists)
    if list_bytes(settings.lists, cfg.io.storage_options) <= settings.broadcast_max_bytes:
        entries = F.broadcast(entries)
    matched = suffixes.join(entries, "entry")
    best = F.max_by(F.struct("list", "entry"), F.length("entry"))
    return matched.groupBy("host").agg(best.alias("m")).select(
        "host", F.col("m.list").alias("blocked_list"), F.col("m.entry").alias("blocked_entry"))


def mark_blocked_domains(spark: SparkSession, cfg: Config, docs: DataFrame) -> DataFrame:
    """docs plus blocked_list and blocked_entry (null when the host is not listed). The blocked hosts
    are computed first; when few, they are broadcast, so the documents themselves are never shuffled."""
    blocked = blocked_hosts(spark, cfg, docs).localCheckpoint(eager=True)
    if blocked.count() <= cfg.safety.block_domains.broadcast_max_blocked_hosts:
        blocked = F.broadcast(blocked)
    return docs.join(blocked, "host", "left")


# --- words ------------------------------------------------------------------------------------

def word_lists(cfg: Config) -> dict[str, WordList]:
    """One WordList per configured language, read on the driver (lists are small) minus `exclude`."""
    lists = {}
    for language, settings in cfg.safety.block_words.word_lists.items():
        lines: list[str] = []
        for path in settings.files:
            with fsspec.open(resolve(path), "rt", encoding="utf-8", compression="infer") as handle:
                lines.extend(handle.read().splitlines())
        excluded = {w.strip().lower() for w in settings.exclude}
        lists[language] = WordList.from_lines([w for w in lines if w.strip().lower() not in excluded],
                                              settings.substrings)
    return lists


WORD_COLUMNS = [T.StructField("words_blocked", T.BooleanType()), T.StructField("words_distinct", T.IntegerType()),
                T.StructField("words_density", T.DoubleType()), T.StructField("words_detail", T.StringType())]


def mark_blocked_words(spark: SparkSession, cfg: Config, docs: DataFrame, skip: str) -> DataFrame:
    """docs plus words_blocked / words_distinct / words_density / words_detail; rows whose `skip`
    column is true (already removed) are passed through unmatched. The policy (how many words, what
    density) is the document's from the override table safety.block_words.policy."""
    settings = cfg.safety.block_words
    table, audit_words = OverrideTable.from_conf(settings.policy.model_dump()), settings.audit_words
    shared = spark.sparkContext.broadcast(word_lists(cfg))
    schema = T.StructType(docs.schema.fields + WORD_COLUMNS)

    def match(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        lists, overrides, policies = shared.value, Overrides(table), {}
        for batch in batches:
            texts, languages = batch.column("text").to_pylist(), batch.column("language").to_pylist()
            hosts, urls = batch.column("host").to_pylist(), batch.column("url").to_pylist()
            skipped = batch.column(skip).to_pylist()
            columns = {"words_blocked": [], "words_distinct": [], "words_density": [], "words_detail": []}
            for text, language, host, url, skip_row in zip(texts, languages, hosts, urls, skipped):
                verdict = None
                if not skip_row:
                    resolved = overrides.resolve(language, host, url)
                    policy = policies.get(resolved.rule)
                    if policy is None:
                        policy = policies[resolved.rule] = WordPolicy(audit_words=audit_words, **resolved.values)
                    verdict = judge(text or "", list_for_language(lists, language), policy)
                columns["words_blocked"].append(None if verdict is None else verdict.blocked)
                columns["words_distinct"].append(None if verdict is None else verdict.distinct)
                columns["words_density"].append(None if verdict is None else verdict.density)
                columns["words_detail"].append(verdict.detail() if verdict is not None and verdict.distinct else None)
            for name, values in columns.items():
                batch = batch.append_column(name, pa.array(values, type=_ARROW[name]))
            yield batch

    return docs.mapInArrow(match, schema)


_ARROW = {"words_blocked": pa.bool_(), "words_distinct": pa.int32(), "words_density": pa.float64(),
          "words_detail": pa.string()}
