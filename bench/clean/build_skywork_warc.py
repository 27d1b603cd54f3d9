"""Wrap the 240 real Chinese web documents of skywork-zh-general.jsonl in a WARC (one HTML response per
document: title as <h1>, each text line as <p>), so the Format stage turns them into documents with ids
like every crawled page. HTTP/WARC headers are synthesized; the text is the corpus's, unchanged."""
import hashlib, html, io, json, sys
from warcio.warcwriter import WARCWriter
from warcio.statusandheaders import StatusAndHeaders

src, dst = sys.argv[1], sys.argv[2]
with open(dst, "wb") as out:
    writer = WARCWriter(out, gzip=True)
    info = writer.create_warcinfo_record("skywork-zh-general.warc.gz", {
        "software": "corpusforge build_skywork_warc.py",
        "description": "SkyworkAI/Skywork skywork-zh-general sample (240 Chinese web/news documents), each wrapped "
                       "in minimal synthesized HTML; HTTP and WARC headers synthesized"})
    info.rec_headers.replace_header("WARC-Date", "2023-09-03T00:00:00Z")  # fixed: the file is reproducible
    info.rec_headers.replace_header("WARC-Record-ID", "<urn:uuid:00000000-0000-0000-0000-000000000000>")
    writer.write_record(info)
    for n, line in enumerate(open(src, encoding="utf-8")):
        row = json.loads(line)
        title = row.get("title") or ""
        body = "".join(f"<p>{html.escape(p)}</p>\n" for p in row["text"].split("\n") if p.strip())
        page = (f"<!DOCTYPE html><html lang=\"zh\"><head><meta charset=\"utf-8\"><title>{html.escape(title)}</title>"
                f"</head><body><article><h1>{html.escape(title)}</h1>\n{body}</article></body></html>").encode("utf-8")
        url = row.get("url") or f"skywork.invalid/doc/{n}"
        url = url if "://" in url else "https://" + url
        http = StatusAndHeaders("200 OK", [("Content-Type", "text/html"), ("Content-Length", str(len(page)))],
                                protocol="HTTP/1.1")
        date = (row.get("date") or "2023-01-01")[:10] + "T00:00:00Z"
        rid = "<urn:uuid:%s>" % hashlib.sha1(f"skywork-{n}".encode()).hexdigest()[:32]
        rec = writer.create_warc_record(url, "response", payload=io.BytesIO(page), http_headers=http,
                                        warc_headers_dict={"WARC-Date": date, "WARC-Record-ID": rid})
        writer.write_record(rec)
print("wrote", dst)
