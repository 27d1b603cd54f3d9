"""The crafted defect records: one WARC record per defect class that real archives write, with the
outcome Format must reach, interleaved with real good records copied byte for byte.

The bundled tests/data/warc/edge/crafted-defects.warc.gz is `build()`'s output (a test checks that it
still is); rebuild it after changing this catalogue with

    cd tests && ../.venv/bin/python -m support.defects data/warc/edge/crafted-defects.warc.gz

Bodies are real pages of the bundled WARCs (their HTML bytes as the crawler got them) and one
minified page (tests/data/html, see tests/data/NOTICE); each crafted record names its defect in a
`WARC-Defect:` header, which readers ignore. Expected outcomes:
  document: {"status", "snippet" (in the extracted text), "url", "warc_date" (None: the record's),
             "archive_url", "repairs" (exactly the repair kinds), "decodings" (exactly)};
  skipped / removed: {"reason"}.
"""
from __future__ import annotations

import gzip
import re
import sys
import uuid
import zlib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import brotli
import zstandard
from support.paths import DATA
from support.warcs import http_block, page_at, raw_record, record_member

BUNDLED = DATA / "warc" / "edge" / "crafted-defects.warc.gz"
NAMESPACE = uuid.UUID("5f0c7a52-3c1e-4c55-9d43-8a1b2f6e0d11")

# name: (file under tests/data/warc, record index, a phrase of its extracted text)
PAGES = {
    "en_facts": ("sample-0000.warc.gz", 8, "here are some facts about me"),
    "en_pip": ("sample-0000.warc.gz", 26, "making your Python project installable via pip"),
    "en_hoper": ("sample-0000.warc.gz", 34, "assistant professor (senior lecturer) at the Hebrew University"),
    "en_zotero": ("sample-0000.warc.gz", 22, "move your references from Paperpile to Zotero"),
    "en_gb2312": ("CC-MAIN-2020-34-sample.warc.gz", 11, "professional and enterprise which is combined"),
    "nl": ("CC-MAIN-2020-34-sample.warc.gz", 44, "Bent u verhuisd en is uw nieuwe tuin slecht onderhouden"),
    "zh_adult_utf8": ("CC-MAIN-2020-34-sample.warc.gz", 23, "请未成年网友自觉离开"),
    "zh_adult_gb": ("CC-MAIN-2020-34-sample.warc.gz", 47, "本站禁止未滿18周歲訪客瀏覽"),
    "zh_gambling": ("CC-MAIN-2020-34-sample.warc.gz", 35, "整个演练紧张而有序"),
    "zh_jobs_108k": ("CC-MAIN-2020-34-sample.warc.gz", 38, "中山市城辉玻璃科技有限公司"),
    "ru_cp1251": ("CC-MAIN-2020-34-sample.warc.gz", 5, "Узкая специализация внутри собственного рынка"),
    "ja_eucjp": ("clueweb09-ja-quirks.warc.gz", 1, "マージ 長財布"),
}
# A minified page (no empty line in its first 32 KiB) like the search-result pages of web-archive crawls.
MINIFIED = ("https://allenai.org/reviz", DATA / "html" / "allenai-reviz-minified.html.gz",
            "creates beautiful, informative, interactive applications")

# Real records copied byte for byte: (file, record index, phrase, what it is, the repairs Format reports,
# sha1 of the text main's Format stage (6f833bd, before the lenient reader) extracted from the record:
# the good records' output must not change).
GOOD = [
    ("sample-0000.warc.gz", 4, "active entrepreneur with several patents",
     "wget 2024, Transfer-Encoding: chunked with its framing", (), "fb9aa8e6a095c4bc193a5c342dced9a700f8f75b"),
    ("CC-MAIN-2020-34-sample.warc.gz", 11, "professional and enterprise which is combined",
     "Common Crawl 2020, gb2312", (), "4fa79f65e075aa5dee2f7d625ea191d25e7102e8"),
    ("clueweb09-ja-quirks.warc.gz", 1, "マージ 長財布",
     "ClueWeb09 WARC/0.18: LF head, Content-Encoding: gzip on a plain body, Content-Length below the body",
     ("bare_lf", "content_encoding_already_decoded", "content_length_below_body"),
     "79d206a1e366156daec333ad1edbfe04ae02f891"),
    ("CC-MAIN-2020-34-sample.warc.gz", 47, "本站禁止未滿18周歲訪客瀏覽",
     "Common Crawl 2020, Chinese adult page, no charset in the header", (), "2041840d35aaaa0445cb9b5641643bdb743a1f48"),
    ("sample-0000.warc.gz", 12, "rounding out the year with a Best Paper Award", "wget 2024, plain", (),
     "9720929030b2bf6cd07dbddfec86e08e5f762056"),
    ("CC-MAIN-2020-34-sample.warc.gz", 35, "整个演练紧张而有序", "Common Crawl 2020, Chinese gambling page", (),
     "6ed337ac2a71942a848136c2a76a2c866373b9a5"),
    ("ccbot-2019-12-single.warc.gz", 0, "Common Crawl", "CCBot 2019, no warcinfo", (),
     "1623f3b4dab7f5480749cc1e032d6f2f5e09b8a6"),
]


@dataclass(frozen=True)
class Page:
    url: str
    body: bytes
    charset: str | None
    snippet: str

    @property
    def ctype(self) -> str:
        return "text/html" + (f"; charset={self.charset}" if self.charset else "")


@dataclass
class Defect:
    name: str
    group: str
    what: str
    block: bytes
    expect: dict
    uri: str | None = "PAGE"  # "PAGE": the page's own URL
    page: Page | None = None
    warc: dict = field(default_factory=dict)  # raw_record options: warc_type, content_type, version, eol


@lru_cache(maxsize=1)
def pages() -> dict[str, Page]:
    found = {key: Page(*page_at(DATA / "warc" / name, index), snippet) for key, (name, index, snippet) in PAGES.items()}
    url, path, snippet = MINIFIED
    found["minified"] = Page(url, gzip.decompress(path.read_bytes()), "utf-8", snippet)
    return found


def doc(page: Page, *repairs: str, decodings: tuple[str, ...] = (), url: str | None = None,
        warc_date: str | None = None, archive_url: str | None = None) -> dict:
    return {"outcome": "document", "status": 200, "snippet": page.snippet, "url": url or page.url,
            "warc_date": warc_date, "archive_url": archive_url, "repairs": sorted(repairs),
            "decodings": sorted(decodings)}


def skipped(reason: str) -> dict:
    return {"outcome": "skipped", "reason": reason}


def removed(reason: str) -> dict:
    return {"outcome": "removed", "reason": reason}


def chunked(body: bytes, size: int = 4000) -> bytes:
    parts = [b"%x\r\n" % len(body[i:i + size]) + body[i:i + size] + b"\r\n" for i in range(0, len(body), size)]
    return b"".join(parts) + b"0\r\n\r\n"


def gz(body: bytes) -> bytes:
    return gzip.compress(body, compresslevel=6, mtime=0)


def raw_deflate(body: bytes) -> bytes:
    compressor = zlib.compressobj(6, zlib.DEFLATED, -zlib.MAX_WBITS)
    return compressor.compress(body) + compressor.flush()


def defects() -> list[Defect]:
    p = pages()
    facts, pip, hoper, zotero, bondtek, nl = (p[k] for k in ("en_facts", "en_pip", "en_hoper", "en_zotero",
                                                              "en_gb2312", "nl"))
    zh, zhgb, zhgam, zhbig, ru, ja, mini = (p[k] for k in ("zh_adult_utf8", "zh_adult_gb", "zh_gambling",
                                                           "zh_jobs_108k", "ru_cp1251", "ja_eucjp", "minified"))

    def h(page: Page, status: str = "HTTP/1.1 200 OK", extra=(), *, length: bool = True, **kw) -> bytes:
        headers = [("Content-Type", page.ctype), *extra] + ([("Content-Length", str(len(page.body)))] if length else [])
        return http_block(status, headers, page.body, **kw)

    def plain(page: Page, *headers: tuple[str, str], body: bytes | None = None) -> bytes:
        return http_block("HTTP/1.1 200 OK", list(headers), page.body if body is None else body)

    D = Defect
    return [
        # ---- the status line
        D("doubled_protocol", "status line", "`HTTP/1.1 HTTP/1.1 200 OK` (the issue's crawler)",
          h(facts, "HTTP/1.1 HTTP/1.1 200 OK"), doc(facts, "status_line_doubled_protocol"), page=facts),
        D("missing_protocol", "status line", "`200 OK`", h(zh, "200 OK"), doc(zh, "status_line_missing_protocol"), page=zh),
        D("no_reason_phrase", "status line", "`HTTP/1.1 200` (valid; a control)", h(nl, "HTTP/1.1 200"), doc(nl), page=nl),
        D("lowercase_protocol", "status line", "`http/1.1 200 OK`", h(pip, "http/1.1 200 OK"),
          doc(pip, "status_line_protocol_case"), page=pip),
        D("http_1_0", "status line", "`HTTP/1.0 200 OK` (valid; a control)", h(ja, "HTTP/1.0 200 OK"), doc(ja), page=ja),
        D("http_2", "status line", "`HTTP/2 200` (how h2 captures are written; valid)", h(zhgam, "HTTP/2 200"),
          doc(zhgam), page=zhgam),
        D("icy_protocol", "status line", "`ICY 200 OK` (SHOUTcast-style servers)", h(hoper, "ICY 200 OK"),
          doc(hoper, "status_line_odd_protocol"), page=hoper),
        D("extra_spaces", "status line", "`HTTP/1.1  200   OK ` (runs of spaces, trailing space)",
          h(zhgb, "HTTP/1.1  200   OK "), doc(zhgb, "status_line_extra_whitespace"), page=zhgb),
        D("leading_blank_line", "status line", "an empty line before the status line", h(zotero, prefix=b"\r\n"),
          doc(zotero, "leading_blank_lines"), page=zotero),
        D("leading_bom", "status line", "a UTF-8 BOM before the status line", h(zh, prefix=b"\xef\xbb\xbf"),
          doc(zh, "leading_bom"), page=zh),
        D("status_404_doubled", "status line", "`HTTP/1.1 HTTP/1.1 404 Not Found`: recovered, and still no page",
          h(hoper, "HTTP/1.1 HTTP/1.1 404 Not Found"), skipped("non_200"), page=hoper),
        D("status_unparseable", "status line", "`HTTP/1.1 OK` (no code)", h(pip, "HTTP/1.1 OK"),
          skipped("status_line_unparseable"), page=pip),
        D("status_ambiguous", "status line", "`HTTP/1.1 200 HTTP/1.1 404 Not Found` (two codes)",
          h(facts, "HTTP/1.1 200 HTTP/1.1 404 Not Found"), skipped("status_line_ambiguous"), page=facts),
        D("no_http_head", "status line", "an HTML body with no HTTP head at all", pip.body,
          doc(pip, "no_http_head", "status_implied"), page=pip),
        D("no_http_head_large", "status line", "the same, a 108 KB CRLF page (fastwarc eats its first lines)",
          zhbig.body, doc(zhbig, "no_http_head", "status_implied"), page=zhbig),
        D("no_http_head_minified", "status line", "a minified 186 KB page with no HTTP head (no empty line in 32 KiB)",
          mini.body, doc(mini, "no_http_head", "status_implied"), page=mini),
        D("head_missing_blank_line_minified", "status line", "a head running straight into a minified 186 KB page",
          h(mini, blank=b""), doc(mini, "head_missing_blank_line"), page=mini),
        D("no_http_head_binary", "status line", "no HTTP head, and the block is binary (PNG-like)",
          b"\x89PNG\r\n\x1a\n" + bytes((i * 7919) % 256 for i in range(4000)), skipped("no_http_head")),
        D("head_missing_blank_line", "status line", "headers run straight into `<!DOCTYPE html>`", h(facts, blank=b""),
          doc(facts, "head_missing_blank_line"), page=facts),
        # ---- the header lines
        D("bare_lf", "headers", "every head line ends in LF", h(hoper, eol=b"\n"), doc(hoper, "bare_lf"), page=hoper),
        D("mixed_line_endings", "headers", "CRLF status line, LF header lines, CRLF empty line",
          h(nl, eol=b"\n", status_eol=b"\r\n", blank=b"\r\n"), doc(nl, "bare_lf"), page=nl),
        D("folded_header", "headers", "Content-Type folded: `text/html;` CRLF TAB `charset=gb2312`",
          plain(zhgb, ("Content-Type", "text/html;\r\n\tcharset=gb2312"), ("Server", "nginx")),
          doc(zhgb, "header_folded"), page=zhgb),
        D("header_without_colon", "headers", "a head line without a colon among the headers",
          plain(zhgam, ("Server", "Apache"), ("", "this line has no colon"), ("Content-Type", zhgam.ctype)),
          doc(zhgam, "header_line_without_colon"), page=zhgam),
        D("content_type_conflict", "headers", "`Content-Type: text/plain` then `Content-Type: text/html; charset=utf-8`",
          plain(zotero, ("Content-Type", "text/plain"), ("Content-Type", zotero.ctype)),
          doc(zotero, "content_type_conflict"), page=zotero),
        D("content_length_conflict", "headers", "`Content-Length: 120` and the true length",
          plain(bondtek, ("Content-Type", bondtek.ctype), ("Content-Length", "120"),
                ("Content-Length", str(len(bondtek.body)))), doc(bondtek, "content_length_conflict"), page=bondtek),
        D("archive_orig_headers", "headers", "only `x-archive-orig-*` headers (type and charset among them)",
          plain(zhgb, ("x-archive-orig-server", "nginx"), ("x-archive-orig-content-type", "text/html; charset=gb2312"),
                ("x-archive-orig-content-length", str(len(zhgb.body)))), doc(zhgb, "archive_orig_headers"), page=zhgb),
        # ---- the body
        D("chunked_declared", "body", "Transfer-Encoding: chunked with its framing (as on the wire; valid)",
          plain(facts, ("Content-Type", facts.ctype), ("Transfer-Encoding", "chunked"), body=chunked(facts.body, 2000)),
          doc(facts, decodings=("dechunked",)), page=facts),
        D("chunked_already_decoded", "body", "Transfer-Encoding: chunked declared, the framing already removed",
          h(pip, extra=[("Transfer-Encoding", "chunked")], length=False),
          doc(pip, "transfer_encoding_already_decoded"), page=pip),
        D("chunked_undeclared", "body", "chunk framing present, no Transfer-Encoding",
          plain(nl, ("Content-Type", nl.ctype), body=chunked(nl.body)), doc(nl, "chunked_undeclared", decodings=("dechunked",)),
          page=nl),
        D("gzip_declared", "body", "Content-Encoding: gzip, gzip body (as on the wire; valid)",
          plain(ja, ("Content-Type", ja.ctype), ("Content-Encoding", "gzip"), ("Content-Length", str(len(gz(ja.body)))),
                body=gz(ja.body)), doc(ja, decodings=("decoded_gzip",)), page=ja),
        D("gzip_already_decoded", "body", "Content-Encoding: gzip declared, the body plain (web-archive id_ capture)",
          h(zh, extra=[("Content-Encoding", "gzip")]), doc(zh, "content_encoding_already_decoded"), page=zh),
        D("gzip_undeclared", "body", "a gzip body, no Content-Encoding",
          plain(hoper, ("Content-Type", hoper.ctype), body=gz(hoper.body)),
          doc(hoper, "content_encoding_undeclared", decodings=("decoded_gzip",)), page=hoper),
        D("br_declared", "body", "Content-Encoding: br, brotli body (valid)",
          plain(zhgam, ("Content-Type", zhgam.ctype), ("Content-Encoding", "br"), body=brotli.compress(zhgam.body)),
          doc(zhgam, decodings=("decoded_br",)), page=zhgam),
        D("br_already_decoded", "body", "Content-Encoding: br declared, the body plain",
          h(zotero, extra=[("Content-Encoding", "br")]), doc(zotero, "content_encoding_already_decoded"), page=zotero),
        D("br_undeclared", "body", "a brotli body, no Content-Encoding (no magic bytes to sniff)",
          plain(facts, ("Content-Type", facts.ctype), body=brotli.compress(facts.body)),
          doc(facts, "content_encoding_undeclared", decodings=("decoded_br",)), page=facts),
        D("deflate_declared", "body", "Content-Encoding: deflate, zlib-wrapped body (valid)",
          plain(bondtek, ("Content-Type", bondtek.ctype), ("Content-Encoding", "deflate"), body=zlib.compress(bondtek.body, 6)),
          doc(bondtek, decodings=("decoded_deflate",)), page=bondtek),
        D("deflate_raw_declared", "body", "Content-Encoding: deflate, a raw deflate body (old IIS)",
          plain(pip, ("Content-Type", pip.ctype), ("Content-Encoding", "deflate"), body=raw_deflate(pip.body)),
          doc(pip, decodings=("decoded_raw_deflate",)), page=pip),
        D("deflate_already_decoded", "body", "Content-Encoding: deflate declared, the body plain",
          h(zhgb, extra=[("Content-Encoding", "deflate")]), doc(zhgb, "content_encoding_already_decoded"), page=zhgb),
        D("zstd_declared", "body", "Content-Encoding: zstd (valid; browsers accept it since 2024)",
          plain(hoper, ("Content-Type", hoper.ctype), ("Content-Encoding", "zstd"),
                body=zstandard.ZstdCompressor(level=3).compress(hoper.body)),
          doc(hoper, decodings=("decoded_zstd",)), page=hoper),
        D("chunked_gzip", "body", "Transfer-Encoding: chunked + Content-Encoding: gzip, both there (valid)",
          plain(zh, ("Content-Type", zh.ctype), ("Content-Encoding", "gzip"), ("Transfer-Encoding", "chunked"),
                body=chunked(gz(zh.body), 1000)), doc(zh, decodings=("dechunked", "decoded_gzip")), page=zh),
        D("chunked_gzip_already_decoded", "body", "chunked + gzip declared, both already undone by the archiver",
          h(zotero, extra=[("Content-Encoding", "gzip"), ("Transfer-Encoding", "chunked")]),
          doc(zotero, "transfer_encoding_already_decoded", "content_encoding_already_decoded"), page=zotero),
        D("gzip_bomb", "body", "Content-Encoding: gzip, 50 MB of spaces in 49 KB",
          http_block("HTTP/1.1 200 OK", [("Content-Type", "text/html"), ("Content-Encoding", "gzip")],
                     gz(b"<html><body>" + b" " * 50_000_000 + b"</body></html>")), removed("too_large")),
        D("br_corrupt", "body", "Content-Encoding: br on bytes that are neither brotli nor text",
          http_block("HTTP/1.1 200 OK", [("Content-Type", "text/html"), ("Content-Encoding", "br")],
                     bytes((i * 131 + 7) % 256 for i in range(3000))), removed("content_encoding_undecodable")),
        D("content_length_too_large", "body", "Content-Length 5000 bytes more than the body (a cut body)",
          plain(facts, ("Content-Type", facts.ctype), ("Content-Length", str(len(facts.body) + 5000))),
          doc(facts, "content_length_exceeds_body"), page=facts),
        D("content_length_too_small", "body", "`Content-Length: 100` on a whole page",
          plain(zhgam, ("Content-Type", zhgam.ctype), ("Content-Length", "100")),
          doc(zhgam, "content_length_below_body"), page=zhgam),
        D("content_length_invalid", "body", "`Content-Length: 12abc`",
          plain(bondtek, ("Content-Type", bondtek.ctype), ("Content-Length", "12abc")),
          doc(bondtek, "content_length_invalid"), page=bondtek),
        # ---- the WARC record
        D("uri_angle_brackets", "WARC", "WARC/1.0 with `WARC-Target-URI: <…>` (as its grammar wrote it)",
          h(hoper), doc(hoper), uri=f"<{hoper.url}>", page=hoper, warc={"version": "WARC/1.0"}),
        D("uri_spaces", "WARC", "spaces in WARC-Target-URI", h(pip),
          doc(pip, "target_uri_spaces_escaped", url="https://maria-antoniak.github.io/a%20b/?q=x%20y"),
          uri="https://maria-antoniak.github.io/a b/?q=x y", page=pip),
        D("uri_non_ascii", "WARC", "an IRI: non-ASCII host, path and query", h(zh),
          doc(zh, "target_uri_non_ascii_escaped",
              url="http://xn--fsqu00a.xn--fiqs8s/%E6%96%87%E7%AB%A0?q=%E4%B8%AD%E6%96%87"),
          uri="http://例子.中国/文章?q=中文", page=zh),
        D("uri_missing_canonical", "WARC", "no WARC-Target-URI; the page has <link rel=canonical>", h(nl),
          doc(nl, "target_uri_from_canonical"), uri=None, page=nl),
        D("uri_missing_no_hint", "WARC", "no WARC-Target-URI and no URL in the page", h(zhgb),
          skipped("missing_target_uri"), uri=None, page=zhgb),
        D("application_http_no_msgtype", "WARC", "Content-Type: application/http (no msgtype)", h(hoper),
          doc(hoper, "warc_content_type_no_msgtype"), page=hoper, warc={"content_type": "application/http"}),
        D("warc_content_type_missing", "WARC", "no Content-Type WARC header on a response", h(ru),
          doc(ru, "warc_content_type_missing"), page=ru, warc={"content_type": None}),
        D("resource_html", "WARC", "WARC-Type: resource, Content-Type: text/html, the page as block", facts.body,
          doc(facts, "resource_record_as_document"), page=facts,
          warc={"warc_type": "resource", "content_type": facts.ctype}),
        D("warc_headers_bare_lf", "WARC", "the WARC header lines end in LF", h(zotero), doc(zotero), page=zotero,
          warc={"eol": b"\n"}),
        # ---- web-archive replays
        D("wayback_user_case", "replay",
          "the issue's records: Wayback id_ URL, doubled protocol, chunked + gzip declared on a decoded body, "
          "Memento-Datetime, Link rel=original, x-archive-orig-*",
          http_block("HTTP/1.1 HTTP/1.1 200 OK", [
              ("Server", "nginx"), ("Content-Type", zh.ctype), ("Content-Encoding", "gzip"),
              ("Transfer-Encoding", "chunked"), ("Memento-Datetime", "Fri, 12 Aug 2022 23:07:39 GMT"),
              ("Link", '<https://www.bing.com/search?q=%E8%A3%99%E5%AD%90>; rel="original", '
                       '<https://web.archive.org/web/timemap/link/https://www.bing.com/search?q=%E8%A3%99%E5%AD%90>; '
                       'rel="timemap"; type="application/link-format"'),
              ("x-archive-orig-content-encoding", "gzip"), ("x-archive-orig-transfer-encoding", "chunked"),
              ("x-archive-src", "spn2-20220812230739-wwwb-spn01.us.archive.org-8001.warc.gz")], zh.body),
          doc(zh, "status_line_doubled_protocol", "transfer_encoding_already_decoded", "content_encoding_already_decoded",
              "replay_url_unwrapped", "capture_time_from_memento_datetime",
              url="https://www.bing.com/search?q=%E8%A3%99%E5%AD%90", warc_date="2022-08-12T23:07:39Z",
              archive_url="https://web.archive.org/web/20220812230739id_/https://www.bing.com/search?q=%E8%A3%99%E5%AD%90"),
          uri="https://web.archive.org/web/20220812230739id_/https://www.bing.com/search?q=%E8%A3%99%E5%AD%90", page=zh),
        D("wayback_if_timestamp", "replay", "a Wayback if_ URL, no Memento-Datetime", h(bondtek),
          doc(bondtek, "replay_url_unwrapped", "capture_time_from_replay_timestamp",
              url="http://www.uraharajuku.st/shopdetail/001005000005/order/", warc_date="2019-03-15T08:30:00Z",
              archive_url="https://web.archive.org/web/20190315083000if_/http://www.uraharajuku.st/shopdetail/001005000005/order/"),
          uri="https://web.archive.org/web/20190315083000if_/http://www.uraharajuku.st/shopdetail/001005000005/order/",
          page=bondtek),
        D("wayback_collapsed_scheme", "replay", "a Wayback URL without modifier, the inner `http:/` collapsed", h(pip),
          doc(pip, "replay_url_unwrapped", "replay_inner_url_fixed", "capture_time_from_replay_timestamp",
              url="http://maria-antoniak.github.io/", warc_date="2015-01-01T00:00:00Z",
              archive_url="http://web.archive.org/web/20150101000000/http:/maria-antoniak.github.io/"),
          uri="http://web.archive.org/web/20150101000000/http:/maria-antoniak.github.io/", page=pip),
        D("archive_today", "replay", "an archive.ph URL with its dotted timestamp", h(zhgb),
          doc(zhgb, "replay_url_unwrapped", "capture_time_from_replay_timestamp", url="https://01spb.ru/company/",
              warc_date="2021-03-04T05:06:07Z", archive_url="https://archive.ph/2021.03.04-050607/https://01spb.ru/company/"),
          uri="https://archive.ph/2021.03.04-050607/https://01spb.ru/company/", page=zhgb),
        D("pywb_collection", "replay", "a pywb collection URL `/<coll>/<14 digits>mp_/<url>`", h(hoper),
          doc(hoper, "replay_url_unwrapped", "capture_time_from_replay_timestamp", url="https://tomhoper.github.io/",
              warc_date="2022-08-12T23:07:39Z",
              archive_url="https://webrecorder.example.org/my-coll/20220812230739mp_/https://tomhoper.github.io/"),
          uri="https://webrecorder.example.org/my-coll/20220812230739mp_/https://tomhoper.github.io/", page=hoper),
        D("arquivo_pt", "replay", "an Arquivo.pt replay URL", h(nl),
          doc(nl, "replay_url_unwrapped", "capture_time_from_replay_timestamp", url="https://www.publico.pt/",
              warc_date="2019-01-01T12:00:00Z", archive_url="https://arquivo.pt/wayback/20190101120000/https://www.publico.pt/"),
          uri="https://arquivo.pt/wayback/20190101120000/https://www.publico.pt/", page=nl),
        D("ukwa", "replay", "a UK Web Archive replay URL", h(zotero),
          doc(zotero, "replay_url_unwrapped", "capture_time_from_replay_timestamp", url="https://www.gov.uk/",
              warc_date="2020-01-01T12:00:00Z",
              archive_url="https://www.webarchive.org.uk/wayback/archive/20200101120000mp_/https://www.gov.uk/"),
          uri="https://www.webarchive.org.uk/wayback/archive/20200101120000mp_/https://www.gov.uk/", page=zotero),
        D("memento_link_only", "replay", "an unknown replay URL with Memento-Datetime and Link rel=original",
          h(zhgam, extra=[("Memento-Datetime", "Tue, 03 Mar 2020 10:11:12 GMT"),
                          ("Link", '<http://0755krk.com/76104/list_4_1.html>; rel="original"')]),
          doc(zhgam, "replay_url_unwrapped", "capture_time_from_memento_datetime",
              url="http://0755krk.com/76104/list_4_1.html", warc_date="2020-03-03T10:11:12Z",
              archive_url="https://archive.example.net/replay?id=42"),
          uri="https://archive.example.net/replay?id=42", page=zhgam),
        D("not_a_replay", "replay", "a search URL that merely mentions web.archive.org/web/2022 (stays as it is)",
          h(facts), doc(facts, url="https://www.bing.com/search?q=web.archive.org/web/2022/x"),
          uri="https://www.bing.com/search?q=web.archive.org/web/2022/x", page=facts),
    ]


def build() -> tuple[bytes, list[dict]]:
    """(the WARC's bytes, one entry per record: name, group, what, record_id, offset, expect), with a
    good real record before every 8 crafted ones."""
    crafted = []
    for d in defects():
        record_id = f"<urn:uuid:{uuid.uuid5(NAMESPACE, d.name)}>"
        uri = (d.page.url if d.page else f"http://defects.example/{d.name}") if d.uri == "PAGE" else d.uri
        member = raw_record(d.block, record_id=record_id, uri=uri, extra=(("WARC-Defect", d.name),),
                            warc_type=d.warc.get("warc_type", "response"), version=d.warc.get("version", "WARC/1.1"),
                            content_type=d.warc.get("content_type", "application/http; msgtype=response"),
                            eol=d.warc.get("eol", b"\r\n"))
        crafted.append((member, {"name": d.name, "group": d.group, "what": d.what, "record_id": record_id,
                                 "expect": d.expect}))
    good = []
    for n, (name, index, snippet, what, repairs, text_sha1) in enumerate(GOOD, start=1):
        copied = record_member(name, index)
        record_id = re.search(rb"WARC-Record-ID: *(\S+)", gzip.decompress(copied)).group(1).decode()
        good.append((copied, {
            "name": f"good_{n}", "group": "good", "what": f"{name} #{index}: {what}", "source": (name, index),
            "record_id": record_id,
            "expect": {"outcome": "document", "status": 200, "snippet": snippet, "repairs": sorted(repairs),
                       "text_sha1": text_sha1}}))
    ordered = []
    for i, item in enumerate(crafted):
        if i % 8 == 0 and good:
            ordered.append(good.pop(0))
        ordered.append(item)
    ordered.extend(good)
    data, manifest = bytearray(), []
    for member, meta in ordered:
        manifest.append({"index": len(manifest), "offset": len(data), **meta})
        data += member
    return bytes(data), manifest


if __name__ == "__main__":
    target = Path(sys.argv[1])
    blob, entries = build()
    target.write_bytes(blob)
    print(f"{len(entries)} records, {len(blob)} bytes -> {target}")
