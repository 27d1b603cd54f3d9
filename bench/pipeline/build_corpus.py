"""Build a WARC corpus of any size from the real pages of ../shared/data/warc, for end-to-end benchmarks.

There is no full-size Common Crawl dump here, so the corpus is made from every HTML 200 response of
warc/built (article, news and forum pages) and warc/real (Common Crawl, ClueWeb, Heritrix and wget
captures) — about 750 real pages — replicated with controlled mutations of the page's HTML (its text
nodes, parsed with lxml), and with planted duplicates:

- unique pages: the first copy of each real page is the page itself; every further copy is reworded
  (a share of its words, or CJK characters, replaced by others of the same page, so language and
  script stay those of the page), and gets some of: a dropped sentence, a paragraph inserted from
  another page of the same script, boilerplate lines (share bars, cookie notices, bylines), its
  paragraphs reordered, its numbers changed. Copies of one page share few 5-grams (Jaccard ≈ 0.1).
- near duplicates: a light edit (up to --near-max-edit of the words, a boilerplate line, new numbers)
  of a page emitted earlier, usually in another file and dump; their shingle Jaccard with the page
  they copy (measured here on the page's visible text, before extraction) is recorded.
- exact duplicates: an earlier page's HTML unchanged.

Every record gets a new WARC-Record-ID and a URL on another host (`*.bench.example`), and lands in a
file of one of a few Common Crawl dumps: DIR/CC-MAIN-YYYY-WW/CC-MAIN-YYYY-WW-bench-NNNNN.warc.gz, with
a warcinfo record (isPartOf) saying how it was built, and a request record before each response as in
Common Crawl files. DIR/manifest.jsonl.gz holds the ground truth for every response (kind, family —
the duplicate group —, the page it copies, the edits and the measured Jaccard); DIR/BUILD.json the mix.

Usage: .venv/bin/python bench/pipeline/build_corpus.py OUT_DIR [--records 3000 | --bytes 200000000]
                                                       [--records-per-file 250] [--near-share 0.15] [--exact-share 0.05]
"""
from __future__ import annotations

import argparse
import copy
import gzip
import io
import json
import random
import re
import sys
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import lxml.html
from fastwarc.warc import ArchiveIterator, WarcRecordType
from lxml import etree
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # bench/, for common.py

from common import SHARED, jaccard, shingle_set  # noqa: E402

from corpusforge.udfs.content_encoding import decode_content, is_encoded  # noqa: E402
from corpusforge.udfs.html_decoding import decode_html  # noqa: E402

WARCS = SHARED / "warc"
DUMPS = ("CC-MAIN-2019-04", "CC-MAIN-2020-34", "CC-MAIN-2021-43", "CC-MAIN-2023-06")
HTML_TYPES = ("text/html", "application/xhtml+xml")
SKIP_TAGS = {"script", "style", "noscript", "template", "head", "title", "meta", "link"}
CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af"
TOKEN = re.compile(f"[{CJK}]|[^\\s{CJK}]+")
IS_CJK = re.compile(f"[{CJK}]")
SENTENCE = re.compile(r"[^.!?。！？]*[.!?。！？]+\s*")
DIGITS = re.compile(r"\d+")
BOILERPLATE = {
    False: ["Share on Facebook | Share on Twitter | Email this page", "This website uses cookies to improve your experience.",
            "Home > News > Local", "Posted by admin on {date}", "Related articles", "Subscribe to our newsletter",
            "Copyright © {year} All rights reserved.", "Click here to read more", "Tags: news, local, events"],
    True: ["分享到：微信 微博 QQ空间", "本网站使用cookie以改善您的体验。", "首页 > 新闻 > 本地", "发布时间：{date} 来源：本站",
           "相关文章", "订阅我们的新闻通讯", "版权所有 © {year}", "点击这里阅读更多", "标签：新闻 本地 活动"],
}


@dataclass
class Page:
    """A real page: its source, its parsed tree, and the words and CJK characters of its text."""
    source: str
    url: str
    tree: etree._Element
    words: list[str]
    cjk_chars: list[str]
    paragraphs: list[str]
    cjk: bool


@dataclass
class Doc:
    url: str
    html: str
    family: str
    kind: str
    dump: str
    warc_file: str
    source: dict
    edits: list[str] = field(default_factory=list)
    reword_rate: float = 0.0
    duplicate_of: str | None = None
    jaccard: float | None = None


def source_files(shared: Path) -> list[Path]:
    return sorted(p for d in ("built", "real") for p in (shared / d).rglob("*.warc.gz") if not p.name.endswith(".wet.gz"))


def real_pages(files: list[Path]) -> list[Page]:
    """Every HTML 200 response of the files, decoded (Content-Encoding, charset) and parsed."""
    pages = []
    for path in files:
        with path.open("rb") as stream:
            for record in ArchiveIterator(stream, record_types=WarcRecordType.response, parse_http=True):
                http = record.http_headers
                if http is None or http.status_code != 200:
                    continue
                if record.http_content_type is not None and record.http_content_type not in HTML_TYPES:
                    continue
                body = record.reader.read()
                encoding = http.get("Content-Encoding")
                if is_encoded(body, encoding):
                    body = decode_content(body, encoding, 10_000_000)
                if not body.strip():
                    continue
                html, _ = decode_html(body, record.http_charset)
                page = parse_page(str(path.relative_to(path.parents[1])), record.headers.get("WARC-Target-URI"), html)
                if page is not None:
                    pages.append(page)
    return pages


def parse_page(source: str, url: str | None, html: str) -> Page | None:
    try:
        tree = lxml.html.document_fromstring(html)
    except (etree.ParserError, ValueError):
        return None
    texts = [t for t, _, _ in text_slots(tree)]
    joined = " ".join(texts)
    tokens = TOKEN.findall(joined)
    words = [t for t in tokens if not IS_CJK.match(t)]
    cjk_chars = [t for t in tokens if IS_CJK.match(t)]
    paragraphs = [t.strip() for t in texts if len(t.split()) >= 15 or len(IS_CJK.findall(t)) >= 40]
    return Page(source, url or "http://unknown.invalid/", tree, words or ["text"], cjk_chars,
                paragraphs, len(cjk_chars) > len(words))


def text_slots(tree):
    """(text, element, 'text'|'tail') for every visible text node of the body."""
    body = tree.find("body")
    for el in (body if body is not None else tree).iter():
        if not isinstance(el.tag, str) or el.tag in SKIP_TAGS:
            continue
        if el.text and el.text.strip():
            yield el.text, el, "text"
        if el.tail and el.tail.strip() and el.getparent() is not None and el.getparent().tag not in SKIP_TAGS:
            yield el.tail, el, "tail"


NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def set_slot(el, slot: str, value: str) -> None:
    value = NOT_XML.sub("", value)  # lxml parses control characters in HTML but refuses to set them
    if slot == "text":
        el.text = value
    else:
        el.tail = value


class Mutator:
    """The controlled mutations, all driven by one seeded random generator."""

    def __init__(self, pages: list[Page], rng: random.Random):
        self.pages, self.rng = pages, rng
        self.by_script = {flag: [p for p in pages if p.cjk == flag and p.paragraphs] for flag in (False, True)}

    def reword(self, tree, page: Page, rate: float) -> None:
        """Replace `rate` of the tokens (words; CJK characters one by one) by others of the same page."""
        rng = self.rng
        for text, el, slot in list(text_slots(tree)):
            def swap(match):
                token = match.group(0)
                if rng.random() >= rate:
                    return token
                pool = page.cjk_chars if IS_CJK.match(token) and page.cjk_chars else page.words
                return rng.choice(pool)
            set_slot(el, slot, TOKEN.sub(swap, text))

    def drop_sentence(self, tree) -> bool:
        slots = [(t, el, s) for t, el, s in text_slots(tree) if len(SENTENCE.findall(t)) >= 2]
        if not slots:
            return False
        text, el, slot = self.rng.choice(slots)
        sentences = SENTENCE.findall(text)
        victim = self.rng.choice(sentences)
        set_slot(el, slot, text.replace(victim, "", 1))
        return True

    def insert_paragraph(self, tree, page: Page) -> bool:
        donors = self.by_script[page.cjk]
        if not donors:
            return False
        donor = self.rng.choice(donors)
        self._insert(tree, "p", self.rng.choice(donor.paragraphs))
        return True

    def boilerplate(self, tree, page: Page, dump: str) -> None:
        year = dump[8:12]
        for _ in range(self.rng.randint(1, 3)):
            line = self.rng.choice(BOILERPLATE[page.cjk]).format(date=f"{year}-0{self.rng.randint(1, 9)}-1{self.rng.randint(0, 9)}",
                                                                   year=year)
            self._insert(tree, "div", line, at_edge=True)

    def reorder_paragraphs(self, tree) -> bool:
        parents = Counter(p.getparent() for p in tree.iter("p") if p.getparent() is not None)
        if not parents:
            return False
        parent, count = parents.most_common(1)[0]
        if count < 3:
            return False
        paragraphs = [p for p in parent if p.tag == "p"]
        positions = [parent.index(p) for p in paragraphs]
        shuffled = paragraphs[:]
        self.rng.shuffle(shuffled)
        for p in paragraphs:
            parent.remove(p)
        for pos, p in sorted(zip(positions, shuffled), key=lambda x: x[0]):
            parent.insert(pos, p)
        return True

    def change_numbers(self, tree) -> bool:
        changed = False
        for text, el, slot in list(text_slots(tree)):
            if DIGITS.search(text):
                set_slot(el, slot, DIGITS.sub(lambda m: str(self.rng.randint(0, 10 ** len(m.group(0)) - 1)), text))
                changed = True
        return changed

    def _insert(self, tree, tag: str, text: str, at_edge: bool = False) -> None:
        body = tree.find("body")
        container = body if body is not None else tree
        blocks = [el for el in container.iter("p", "div") if el is not container and el.getparent() is not None]
        new = etree.Element(tag)
        new.text = text
        if at_edge or not blocks:
            container.insert(0 if self.rng.random() < 0.5 else len(container), new)
        else:
            target = self.rng.choice(blocks)
            parent = target.getparent()
            parent.insert(parent.index(target) + self.rng.randint(0, 1), new)


def visible_text(tree) -> str:
    return " ".join(t for t, _, _ in text_slots(tree))


def visible_text_jaccard(a: str, b: str) -> float:
    """5-gram Jaccard of two pages' visible texts, tokenised as the mutations see them (TOKEN: words with
    their punctuation, CJK characters one by one), lower-cased, each digit run folded to 0. Not the Dedup
    stage's tokens (common.shingle_jaccard: NFKC, punctuation dropped, numbers folded whole): this is
    what the manifest records about the HTML before extraction, and keeps its recorded values stable."""
    def tokens(text: str) -> list[str]:
        return [DIGITS.sub("0", t.lower()) for t in TOKEN.findall(text)]
    return jaccard(shingle_set(tokens(a)), shingle_set(tokens(b)))


def serialise(tree) -> str:
    for meta in tree.iter("meta"):
        if meta.get("charset") or (meta.get("http-equiv") or "").lower() == "content-type":
            meta.getparent().remove(meta)
    return "<!DOCTYPE html>\n" + lxml.html.tostring(tree, encoding="unicode", method="html")


@dataclass
class Mix:
    near_share: float
    exact_share: float
    unique_reword: tuple[float, float]
    near_max_edit: float


def documents(pages: list[Page], count: int | None, byte_target: int | None, files: int, mix: Mix,
              rng: random.Random):
    """Yield (file index, Doc) until `count` documents or about `byte_target` bytes of HTML."""
    mutator = Mutator(pages, rng)
    order = list(range(len(pages)))
    rng.shuffle(order)
    replicas = Counter()
    recent: list[tuple[Doc, Page]] = []          # earlier unique/near pages that duplicates copy
    made = produced_bytes = 0
    while (count is None or made < count) and (byte_target is None or produced_bytes < byte_target):
        file_index = made % files
        dump = DUMPS[file_index % len(DUMPS)]
        kind_draw = rng.random()
        if recent and kind_draw < mix.exact_share:
            original, page = rng.choice(recent)
            doc = Doc(url="", html=original.html, family=original.family, kind="exact_duplicate", dump=dump,
                      warc_file="", source=original.source, duplicate_of=original.url, jaccard=1.0)
        elif recent and kind_draw < mix.exact_share + mix.near_share:
            original, page = rng.choice(recent)
            tree = lxml.html.document_fromstring(original.html)
            rate = rng.uniform(0.0, mix.near_max_edit)
            mutator.reword(tree, page, rate)
            edits = [f"reword {rate:.3f}"]
            if rng.random() < 0.5:
                mutator.boilerplate(tree, page, dump)
                edits.append("boilerplate")
            if rng.random() < 0.5 and mutator.change_numbers(tree):
                edits.append("numbers")
            doc = Doc(url="", html=serialise(tree), family=original.family, kind="near_duplicate", dump=dump,
                      warc_file="", source=original.source, edits=edits, reword_rate=rate,
                      duplicate_of=original.url)
            doc.jaccard = round(visible_text_jaccard(visible_text(lxml.html.document_fromstring(original.html)),
                                                     visible_text(tree)), 4)
        else:
            page = pages[order[made % len(order)]] if made < len(order) else rng.choice(pages)
            replica = replicas[page.source, page.url]
            replicas[page.source, page.url] += 1
            tree = copy.deepcopy(page.tree)
            edits: list[str] = []
            rate = 0.0
            if replica > 0:  # the first copy of a page is the page itself
                rate = rng.uniform(*mix.unique_reword)
                mutator.reword(tree, page, rate)
                edits.append(f"reword {rate:.3f}")
                if rng.random() < 0.5 and mutator.drop_sentence(tree):
                    edits.append("drop_sentence")
                if rng.random() < 0.5 and mutator.insert_paragraph(tree, page):
                    edits.append("insert_paragraph")
                if rng.random() < 0.5:
                    mutator.boilerplate(tree, page, dump)
                    edits.append("boilerplate")
                if rng.random() < 0.5 and mutator.reorder_paragraphs(tree):
                    edits.append("reorder_paragraphs")
                if rng.random() < 0.3 and mutator.change_numbers(tree):
                    edits.append("numbers")
            doc = Doc(url="", html=serialise(tree), family="", kind="unique" if replica else "original", dump=dump,
                      warc_file="", source={"file": page.source, "url": page.url}, edits=edits, reword_rate=rate)
        host = re.sub(r"[^a-z0-9-]+", "-", (doc.source["url"].split("/")[2] if "//" in doc.source["url"] else "page").lower())
        doc.url = f"https://{host.strip('-')[:40] or 'page'}.m{made:07d}.bench.example/{made:07d}.html"
        if not doc.family:
            doc.family = doc.url
        if doc.kind in ("original", "unique", "near_duplicate"):
            if len(recent) < 1000:
                recent.append((doc, page))
            else:
                recent[rng.randrange(len(recent))] = (doc, page)
        produced_bytes += len(doc.html)
        made += 1
        yield file_index, doc


def warc_path(out: Path, file_index: int) -> Path:
    dump = DUMPS[file_index % len(DUMPS)]
    return out / dump / f"{dump}-bench-{file_index:05d}.warc.gz"


def capture_date(dump: str, rng: random.Random) -> str:
    year, week = int(dump[8:12]), int(dump[13:15])
    day = max(1, min(28, (week * 7) % 28 + rng.randint(0, 2)))
    month = max(1, min(12, week * 12 // 52 + 1))
    return f"{year}-{month:02d}-{day:02d}T{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}Z"


def build(out: Path, count: int | None, byte_target: int | None, per_file: int, mix: Mix, seed: int,
          shared: Path = WARCS) -> dict:
    rng = random.Random(seed)
    files = source_files(shared)
    pages = real_pages(files)
    if not pages:
        raise SystemExit(f"no HTML 200 responses found under {shared}")
    estimate = count if count is not None else max(1, byte_target // 40_000)
    n_files = max(1, -(-estimate // per_file))
    out.mkdir(parents=True, exist_ok=True)
    description = (f"SYNTHETIC BENCHMARK CORPUS built by corpusforge bench/pipeline/build_corpus.py from {len(pages)} real pages "
                   f"(every HTML 200 response of {len(files)} WARC files under ../shared/data/warc/built and /real), "
                   f"replicated with controlled mutations and planted duplicates (seed {seed}); see manifest.jsonl.gz.")
    handles, writers = {}, {}

    def writer_for(index: int) -> WARCWriter:
        if index not in writers:
            path = warc_path(out, index)
            path.parent.mkdir(parents=True, exist_ok=True)
            handles[index] = path.open("wb")
            writers[index] = WARCWriter(handles[index], gzip=True)
            dump = DUMPS[index % len(DUMPS)]
            info = writers[index].create_warcinfo_record(path.name, {
                "isPartOf": dump, "software": "corpusforge bench/pipeline/build_corpus.py", "format": "WARC File Format 1.0",
                "description": description})
            writers[index].write_record(info)
        return writers[index]

    kinds, edits, jaccards = Counter(), Counter(), []
    html_bytes = 0
    with gzip.open(out / "manifest.jsonl.gz", "wt", encoding="utf-8") as manifest:
        for index, doc in documents(pages, count, byte_target, n_files, mix, rng):
            writer = writer_for(index)
            doc.warc_file = warc_path(out, index).name
            body = doc.html.encode("utf-8")
            date = capture_date(doc.dump, rng)
            record_id = f"<urn:uuid:{uuid.UUID(int=rng.getrandbits(128), version=4)}>"
            request = f"GET /{doc.url.split('/', 3)[3]} HTTP/1.1\r\nHost: {doc.url.split('/')[2]}\r\nUser-Agent: CCBot/2.0\r\n\r\n".encode()
            writer.write_record(writer.create_warc_record(
                doc.url, "request", payload=io.BytesIO(request), length=len(request),
                warc_content_type="application/http; msgtype=request",
                warc_headers_dict={"WARC-Date": date, "WARC-Record-ID": f"<urn:uuid:{uuid.UUID(int=rng.getrandbits(128), version=4)}>"}))
            http = StatusAndHeaders("200 OK", [("Content-Type", "text/html; charset=utf-8"),
                                               ("Content-Length", str(len(body)))], protocol="HTTP/1.1")
            writer.write_record(writer.create_warc_record(
                doc.url, "response", payload=io.BytesIO(body), length=len(body), http_headers=http,
                warc_headers_dict={"WARC-Date": date, "WARC-Record-ID": record_id,
                                   "WARC-Identified-Payload-Type": "text/html"}))
            manifest.write(json.dumps({"url": doc.url, "record_id": record_id, "warc_file": doc.warc_file,
                                       "dump": doc.dump, "kind": doc.kind, "family": doc.family,
                                       "duplicate_of": doc.duplicate_of, "source": doc.source, "edits": doc.edits,
                                       "reword_rate": round(doc.reword_rate, 4), "jaccard": doc.jaccard},
                                      ensure_ascii=False) + "\n")
            kinds[doc.kind] += 1
            html_bytes += len(body)
            for e in doc.edits:
                edits[e.split()[0]] += 1
            if doc.jaccard is not None and doc.kind == "near_duplicate":
                jaccards.append(doc.jaccard)
    for handle in handles.values():
        handle.close()
    warc_bytes = sum(warc_path(out, i).stat().st_size for i in handles)
    jaccards.sort()
    summary = {
        "real_pages": len(pages), "source_files": len(files),
        "source_pages_by_file": dict(Counter(p.source for p in pages)),
        "documents": sum(kinds.values()), "by_kind": dict(kinds), "edits": dict(edits),
        "near_duplicate_jaccard": {"min": jaccards[0], "median": jaccards[len(jaccards) // 2], "max": jaccards[-1],
                                   "below_0.7": sum(j < 0.7 for j in jaccards)} if jaccards else None,
        "warc_files": len(handles), "warc_bytes": warc_bytes, "html_bytes": html_bytes,
        "dumps": sorted({DUMPS[i % len(DUMPS)] for i in handles}),
        "seed": seed, "mix": mix.__dict__,
    }
    (out / "BUILD.json").write_text(json.dumps(summary, indent=2, ensure_ascii=False))
    return summary


def describe(summary: dict, out: Path) -> str:
    kinds, docs = summary["by_kind"], summary["documents"]
    share = lambda k: f"{kinds.get(k, 0):,} ({100 * kinds.get(k, 0) / docs:.1f}%)"  # noqa: E731
    lines = [
        f"built from {summary['real_pages']} real pages (every HTML 200 response of {summary['source_files']} WARC files "
        f"under ../shared/data/warc/built and /real); nothing else is real about this corpus.",
        f"wrote {docs:,} HTML documents in {summary['warc_files']} WARC files ({summary['warc_bytes']:,} bytes gzip, "
        f"{summary['html_bytes']:,} bytes of HTML) under {out}, spread over dumps {', '.join(summary['dumps'])}",
        f"mutation mix: originals {share('original')}, reworded unique copies {share('unique')}, "
        f"near duplicates {share('near_duplicate')}, exact duplicates {share('exact_duplicate')}",
        "edits applied: " + ", ".join(f"{k} {v:,}" for k, v in sorted(summary["edits"].items(), key=lambda kv: -kv[1])),
    ]
    j = summary["near_duplicate_jaccard"]
    if j:
        lines.append(f"near duplicates: 5-gram Jaccard with the page they copy (visible text before extraction, numbers folded) "
                     f"min {j['min']:.3f}, median {j['median']:.3f}, max {j['max']:.3f}; {j['below_0.7']} below 0.7")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("output")
    size = parser.add_mutually_exclusive_group()
    size.add_argument("--records", type=int, help="HTML documents to write (default 3000)")
    size.add_argument("--bytes", type=int, help="stop at about this many bytes of HTML")
    parser.add_argument("--records-per-file", type=int, default=250)
    parser.add_argument("--near-share", type=float, default=0.15)
    parser.add_argument("--exact-share", type=float, default=0.05)
    parser.add_argument("--unique-reword", type=float, nargs=2, default=(0.25, 0.4), metavar=("MIN", "MAX"))
    parser.add_argument("--near-max-edit", type=float, default=0.03)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--shared", default=str(WARCS))
    args = parser.parse_args()
    count = args.records if args.records is not None or args.bytes is not None else 3000
    mix = Mix(args.near_share, args.exact_share, tuple(args.unique_reword), args.near_max_edit)
    out = Path(args.output)
    summary = build(out, count, args.bytes, args.records_per_file, mix, args.seed, Path(args.shared))
    print(describe(summary, out))


if __name__ == "__main__":
    main()
