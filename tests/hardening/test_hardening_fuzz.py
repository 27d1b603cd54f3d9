"""Property-based fuzzing of everything that reads hostile input: the WARC record reader, the Format
record logic, HTML decoding and extraction, and every Clean rule.

The property is the same everywhere: no exception escapes a record. A broken archive ends its file
with a counted `corrupt_stream` skip; a broken record is a removed document with a reason; a text,
whatever it holds, gets a verdict from every rule. Inputs are real WARC bytes (tests/data/warc)
mutated the ways files break in the wild — cut short, bits flipped, garbage inserted, headers lying —
and random bytes and strings (surrogates, control characters, huge repeats) for the text functions.

Budget: a few seconds in CI; CORPUSFORGE_FUZZ_EXAMPLES=N runs N examples per test (tests/support/fuzz.py).
"""
from __future__ import annotations

import gzip
import io
import math
import re
import zlib

from support.fuzz import assert_accounted, convert, fuzz_settings
from support.warcs import gzip_per_record, real_warc
from hypothesis import given
from hypothesis import strategies as st

from corpusforge.conf import load_config
from corpusforge.udfs import clean_rules
from corpusforge.udfs.cleaning import Cleaner, settings_from_conf
from corpusforge.udfs.content_encoding import decode_content, is_encoded
from corpusforge.udfs.extraction import ExtractionOptions, TreeTooLarge, extract_main_text
from corpusforge.udfs.html_decoding import decode_html, looks_binary, looks_like_html
from corpusforge.udfs.text_normalise import normalise
from corpusforge.udfs.text_units import char_classes, class_runs, foreign_script_fraction, tokens
from corpusforge.udfs.warc_records import CorruptArchive, iter_records

# --- seeds: real records, kept small where every example runs trafilatura ----------------------------
CC_2020 = "CC-MAIN-2020-34-sample.warc.gz"       # warcinfo, request, response, metadata (WARC/1.0)
CLUEWEB = "clueweb09-ja-quirks.warc.gz"           # WARC/0.18, header quirks, Shift_JIS/EUC-JP pages
WGET = "sample-0000.warc.gz"                      # wget crawl: warcinfo, request, response, resource
CCBOT = "ccbot-2019-12-single.warc.gz"            # one response, no warcinfo
READER_SEEDS = [real_warc(CC_2020), real_warc(CLUEWEB, tuple(range(8))), real_warc(WGET, tuple(range(12))),
                real_warc(CCBOT)]
DOCUMENT_SEEDS = [real_warc(CC_2020, (0, 10, 11, 12, 7, 8, 9)), real_warc(CLUEWEB, (0, 1, 2)),
                  real_warc(WGET, (0, 7, 8)), real_warc(CCBOT)]
GZIP_SEEDS = [gzip_per_record(CC_2020, (0, 10, 11, 12)), gzip_per_record(CCBOT)]

HEADER_LINE = re.compile(rb"\r\n([A-Za-z][A-Za-z0-9-]*):[ \t]*([^\r\n]*)")
BOGUS_VALUES = [b"", b"-1", b"0", b"99999999999999999999999", b"12abc", b"\xff\xfe\x00", b"gzip", b"deflate",
                b"br", b"chunked", b"text/html; charset=x-unknown-42", b"text/html; charset=utf-16",
                b"<urn:uuid:not-a-uuid", b"http://[::1", b"1970-13-45T99:99:99Z", b"response", b"revisit",
                b"continuation", b"a" * 5000]
START_LINES = [b"WARC/1.0", b"WARC/0.18", b"HTTP/1.1 200 OK"]


@st.composite
def mutated_warc(draw, seeds: list[bytes], max_ops: int = 4) -> bytes:
    """A real WARC, uncompressed or compressed, damaged by up to max_ops mutations."""
    data = bytearray(draw(st.sampled_from(seeds), label="seed"))
    for _ in range(draw(st.integers(1, max_ops), label="mutations")):
        op = draw(st.sampled_from(["truncate", "flip", "insert", "delete", "header", "drop_header",
                                   "start_line", "duplicate"]), label="op")
        at = draw(st.integers(0, len(data)), label="at")
        if op == "truncate":
            del data[at:]
        elif op == "flip" and data:
            data[min(at, len(data) - 1)] ^= 1 << draw(st.integers(0, 7))
        elif op == "insert":
            data[at:at] = draw(st.one_of(st.binary(min_size=1, max_size=64),
                                         st.sampled_from([b"\r\n\r\n", b"WARC/1.0\r\n", b"\x1f\x8b\x08\x00",
                                                          b"\x00" * 512, b"Content-Length: 5\r\n"])), label="junk")
        elif op == "delete":
            del data[at:at + draw(st.integers(1, 256))]
        elif op in ("header", "drop_header"):
            lines = list(HEADER_LINE.finditer(data))
            if lines:
                line = lines[draw(st.integers(0, len(lines) - 1), label="line")]
                if op == "drop_header":
                    del data[line.start():line.end()]
                else:
                    value = draw(st.one_of(st.sampled_from(BOGUS_VALUES), st.binary(max_size=24)), label="value")
                    data[line.start(2):line.end(2)] = value
        elif op == "start_line":
            found = [m.start() for s in START_LINES for m in re.finditer(re.escape(s), data)]
            if found:
                spot = found[draw(st.integers(0, len(found) - 1))]
                data[spot:spot + 8] = draw(st.sampled_from([b"WARC/9.9", b"WARC/1.", b"HTTP/1.1 2", b"garbage!",
                                                            b"WARC/1.1", b"\r\n\r\n\r\n\r\n"]))
        elif op == "duplicate" and data:
            end = min(len(data), at + draw(st.integers(1, 4096)))
            data[end:end] = data[at:end]
    if draw(st.booleans(), label="gzip_whole"):
        return gzip.compress(bytes(data), compresslevel=1)
    return bytes(data)


@st.composite
def damaged_gzip(draw) -> bytes:
    """Per-record gzip of real records, damaged in its compressed bytes (cut, bit flips, junk)."""
    data = bytearray(draw(st.sampled_from(GZIP_SEEDS)))
    for _ in range(draw(st.integers(1, 3))):
        at = draw(st.integers(0, len(data)))
        op = draw(st.sampled_from(["truncate", "flip", "insert"]))
        if op == "truncate":
            del data[at:]
        elif op == "flip" and data:
            data[min(at, len(data) - 1)] ^= 1 << draw(st.integers(0, 7))
        else:
            data[at:at] = draw(st.binary(min_size=1, max_size=32))
    return bytes(data)


def read_everything(data: bytes, limit: int = 1 << 20) -> int:
    """Iterate every record and read its payload as Format does; CorruptArchive is the only way out."""
    records = 0
    try:
        for record in iter_records(io.BytesIO(data), "fuzz.warc", quirks_mode=True):
            records += 1
            assert record.kind and isinstance(record.offset, int)
            try:
                payload = record.read_payload(limit + 1)
            except CorruptArchive:
                continue
            assert isinstance(payload, bytes) and len(payload) <= limit + 1
    except CorruptArchive as err:
        assert str(err)
    return records


@fuzz_settings(ci_examples=150)
@given(st.one_of(mutated_warc(READER_SEEDS), damaged_gzip()))
def test_warc_reader_survives_damaged_archives(data):
    read_everything(data)


@fuzz_settings(ci_examples=25)
@given(st.one_of(mutated_warc(DOCUMENT_SEEDS, max_ops=3), damaged_gzip()))
def test_format_records_never_raise_and_every_record_is_accounted_for(data):
    rows, summary = convert(data)
    assert_accounted(rows, summary)
    for row in rows:
        if row["reason"] is None:
            assert row["text"] and isinstance(row["text"], str)
            row["text"].encode("utf-8")  # Parquet needs valid UTF-8: no lone surrogates
        elif row["reason"] == "processing_error":
            assert row["detail"], "a processing error keeps its cause"


@fuzz_settings(ci_examples=15)
@given(st.binary(max_size=4096))
def test_format_on_random_bytes_is_a_counted_skip(data):
    rows, summary = convert(data)
    assert_accounted(rows, summary)


# --- HTML decoding and extraction -------------------------------------------------------------------
CHARSETS = [None, "", "utf-8", "UTF8", "shift_jis", "x-sjis", "gbk", "big5", "euc-kr", "iso-8859-1",
            "windows-1252", "utf-16", "utf-32", "koi8-r", "x-user-defined", "bogus-charset", "\x00\xff",
            "utf-7", "replacement", "hz-gb-2312", "iso-2022-jp", "'utf-8'", "cp65001"]


@st.composite
def html_bytes(draw) -> bytes:
    """Random bytes, or HTML-shaped bytes with a random meta charset and random body bytes."""
    if draw(st.booleans()):
        return draw(st.binary(max_size=2048))
    charset = draw(st.sampled_from([c or "" for c in CHARSETS]))
    head = f'<html><head><meta charset="{charset}"><title>'.encode("utf-8", "surrogatepass")
    body = draw(st.binary(max_size=1024))
    bom = draw(st.sampled_from([b"", b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff"]))
    return bom + head + body + b"</title></head><body><p>" + body + b"</p></body></html>"


@fuzz_settings(ci_examples=200)
@given(html_bytes(), st.sampled_from(CHARSETS))
def test_decode_html_never_raises_and_returns_valid_text(payload, charset):
    text, codec = decode_html(payload, charset)
    assert isinstance(text, str) and isinstance(codec, str)
    text.encode("utf-8")  # no lone surrogates: the text can be written to Parquet
    assert isinstance(looks_binary(payload, 0.01), bool)
    assert isinstance(looks_like_html(payload), bool)


@fuzz_settings(ci_examples=150)
@given(st.one_of(st.binary(max_size=2048),
                 st.binary(max_size=2048).map(lambda b: gzip.compress(b)),
                 st.binary(max_size=2048).map(lambda b: zlib.compress(b)),
                 st.binary(max_size=2048).map(lambda b: gzip.compress(b)[:len(b) // 2 + 10])),
       st.sampled_from([None, "gzip", "x-gzip", "deflate", "br", "identity", "GZIP ", ""]),
       st.integers(1, 4096))
def test_content_decoding_never_raises_and_stops_at_its_limit(payload, encoding, limit):
    out = decode_content(payload, encoding, limit)
    assert isinstance(out, bytes)
    if is_encoded(payload, encoding) and out is not payload:
        assert len(out) <= limit + 1


TAGS = ["html", "head", "body", "title", "div", "p", "span", "table", "tr", "td", "article", "main", "script",
        "style", "noscript", "template", "svg", "math", "pre", "code", "ul", "li", "a", "br", "iframe", "frameset"]


@st.composite
def html_text(draw) -> str:
    """HTML-like strings: random tags (open, closed, unbalanced), attributes, entities, text of any script."""
    parts = []
    for _ in range(draw(st.integers(0, 40))):
        kind = draw(st.sampled_from(["open", "close", "text", "entity", "comment", "junk"]))
        tag = draw(st.sampled_from(TAGS))
        if kind == "open":
            attr = draw(st.sampled_from(["", ' class="content"', ' id="main"', " hidden", ' style="display:none"',
                                         ' lang="zh"', ' x=">"', " =", ' class="nav footer"']))
            parts.append(f"<{tag}{attr}>")
        elif kind == "close":
            parts.append(f"</{tag}>")
        elif kind == "entity":
            parts.append(draw(st.sampled_from(["&amp;", "&#0;", "&#xD800;", "&#1114112;", "&nbsp;", "&bogus;", "&#"])))
        elif kind == "comment":
            parts.append(draw(st.sampled_from(["<!--", "-->", "<!-- x -->", "<![CDATA[", "]]>", "<?xml ?>",
                                               "<!DOCTYPE html>"])))
        elif kind == "junk":
            parts.append(draw(st.text(max_size=30)))
        else:
            parts.append(draw(st.text(min_size=1, max_size=200)))
    return "".join(parts)


EXTRACTION = ExtractionOptions(favor="balanced", include_comments=False, include_tables=True, max_tree_size=100_000)


@fuzz_settings(ci_examples=120)
@given(html_text(), st.sampled_from([None, "http://example.com/a", "not a url", "http://[::1", ""]))
def test_extraction_never_raises_on_text_decode_html_can_produce(html, url):
    try:
        title, text = extract_main_text(html, url, EXTRACTION)
    except TreeTooLarge:
        return  # a counted removal (too_large) in Format
    assert title is None or isinstance(title, str)
    assert isinstance(text, str)


# --- Clean: every rule and the cleaning entry point, on any text -------------------------------------
CONF = load_config(None, [])
CLEANER = Cleaner(settings_from_conf(CONF.clean.model_dump()))
LANGUAGES = [None, "en", "de", "zh", "zh-Hant", "ja", "ko", "ru", "ar", "th", "un", "xx-Unknown", ""]
PIECES = ["The quick brown fox jumps over the lazy dog. ", "这是一个测试句子，用来检查中文。", "日本語のテキストです。",
          "한국어 문장입니다. ", "\n", "\n\n", "\r\n", "\r", "\t", " ", "\u3000", "\u00a0", "-----", "=====", "|||",
          "!!!", "？？？", "，，，", "...", "…", "#", "{", "}", "lorem ipsum", "[1]", "[edit]", "• ", "Ã©", "â€™",
          "\ufffd", "\x00", "\x1b[31m", "\u200b", "\ufeff", "\ud800", "\udfff", "\U0001f600", "\ue000",
          "Privacy Policy", "enable JavaScript", "１２３ＡＢＣ", "١٢٣", "𝕏", "a", "中", "x" * 40]


@st.composite
def hostile_text(draw) -> str:
    """Mixtures of prose, separators, control characters, lone surrogates and huge repeats of a piece."""
    alphabet = st.characters(codec=None, categories=None) | st.characters(categories=["Cs", "Cc", "Co", "Zl", "Zp"])
    parts = draw(st.lists(st.one_of(st.sampled_from(PIECES), st.text(alphabet, max_size=40)), max_size=30))
    if parts and draw(st.booleans()):
        i = draw(st.integers(0, len(parts) - 1))
        parts[i] = parts[i] * draw(st.integers(2, 20_000))  # huge repeats: one long line, many lines, a run
    return "".join(parts)


def check_verdict(v: clean_rules.Verdict, rule_name: str) -> None:
    assert v.rule == rule_name
    assert isinstance(v.value, float) and math.isfinite(v.value), f"{rule_name}: {v.value!r}"
    assert v.keep == (v.threshold is None or (v.value >= v.threshold if v.bound == "min" else v.value <= v.threshold))


@fuzz_settings(ci_examples=150)
@given(hostile_text(), st.sampled_from(LANGUAGES), st.sampled_from([None, "github.com", "a.github.io", "例子.测试"]))
def test_every_clean_rule_gives_a_verdict_on_any_text(text, language, host):
    cleaned = CLEANER.clean(text, language, host, f"http://{host}/x" if host else None)
    assert len(cleaned.verdicts) == len(clean_rules.RULES)
    for verdict, rule in zip(cleaned.verdicts, clean_rules.RULES):
        check_verdict(verdict, rule.__name__)
    cleaned.text.encode("utf-8")  # a kept text can be written to Parquet
    assert cleaned.keep == (cleaned.reason is None)
    if not cleaned.keep:
        assert cleaned.detail and cleaned.failed_rules[0] == cleaned.reason
    # each rule alone, on the measures of the text (what `corpusforge explain` prints)
    measures = clean_rules.Measures(cleaned.normalised, text, cleaned.thresholds, language)
    for rule in clean_rules.RULES:
        check_verdict(rule(measures, cleaned.thresholds), rule.__name__)


@fuzz_settings(ci_examples=150)
@given(hostile_text(), st.sampled_from(["whitespace", "jieba"]), st.sampled_from(LANGUAGES))
def test_normalisation_and_text_units_never_raise(text, units, language):
    normalised = normalise(text, CLEANER.settings.normalise)
    normalised.text.encode("utf-8")
    assert normalised.original_chars == len(text)
    assert all(isinstance(n, int) and n >= 0 for n in normalised.edits.values())
    assert isinstance(tokens(normalised.text, units), list)
    counts = char_classes(text)
    assert int(counts.sum()) == len(text)
    assert 0.0 <= foreign_script_fraction(counts, class_runs(text), language) <= 1.0
