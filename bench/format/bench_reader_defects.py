"""What warcio, fastwarc, DataTrove and corpusforge do with each malformed-HTTP record of
tests/data/warc/edge/crafted-defects.warc.gz (tests/support/defects.py): the table of
docs/format-recovery.md, measured.

Each record is read from its own single-record file, so a reader that raises on one record hides
nothing else; the whole file is read in one go too. Per record:
  warcio 1.8        ArchiveIterator defaults: status from http_headers, body = content_stream()
                    (de-chunked and decompressed by the headers);
  fastwarc 2.0      parse_http=True, quirks_mode=True, no decoding (how corpusforge read WARC before
                    the lenient reader), and with auto_decode='all' (its own chunked/content decoding);
  DataTrove 0.10.1  WarcReader + Trafilatura (bench/format/datatrove_warc_reader.py, in the benchmarks'
                    DataTrove virtualenv; skipped when that is missing). A † marks a record whose page
                    DataTrove also loses when it is stored cleanly (its libmagic sniffing or its
                    extraction, not the defect);
  corpusforge       this checkout's Format record logic (udfs.documents.ArchiveToDocuments).
The raw libraries' bodies are decoded with corpusforge's decode_html and extracted with its
trafilatura settings; "text ✓" means the record's expected phrase is in the text.

Usage: .venv/bin/python bench/format/bench_reader_defects.py [--markdown]
"""
from __future__ import annotations

import argparse
import io
import json
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # bench/, for common.py
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tests"))  # the defect catalogue

from fastwarc.warc import ArchiveIterator as FastIterator  # noqa: E402
from fastwarc.warc import WarcRecordType  # noqa: E402
from support.defects import BUNDLED, build, defects, pages  # noqa: E402
from support.warcs import http_block, raw_record  # noqa: E402
from warcio.archiveiterator import ArchiveIterator as WarcioIterator  # noqa: E402

from common import DATATROVE_PYTHON  # noqa: E402

READ_CAP = 10_000_000


def options():
    from corpusforge.conf import load_config
    from corpusforge.jobs.format import format_options
    return format_options(load_config(None, []))


def text_of(body: bytes | None, charset: str | None, url: str | None) -> str | None:
    from corpusforge.udfs.extraction import extract_main_text
    from corpusforge.udfs.html_decoding import decode_html
    if not body or len(body) > READ_CAP:
        return None
    try:
        return " ".join(extract_main_text(decode_html(body, charset)[0], url, options().extraction)[1].split())
    except Exception:  # noqa: BLE001
        return None


def body_cell(body: bytes | None, charset: str | None, url: str | None, snippet: str | None) -> str:
    if body is not None and len(body) > READ_CAP:
        return f"body > {READ_CAP // 10**6} MB"
    if not body or not body.strip():
        return "empty body"
    text = text_of(body, charset, url)
    if not snippet:
        return f"text {len(text)} chars" if text else "no text"
    return "text ✓" if text and snippet in text else ("wrong text" if text else "no text")


def warcio_cell(data: bytes, snippet: str | None) -> str:
    try:
        for rec in WarcioIterator(io.BytesIO(data)):
            if rec.rec_type not in ("response", "resource"):
                continue
            status = rec.http_headers.get_statuscode() if rec.http_headers is not None else None
            charset = None
            if rec.http_headers is not None:
                for part in (rec.http_headers.get_header("Content-Type") or "").split(";")[1:]:
                    key, _, value = part.partition("=")
                    charset = value.strip() if key.strip().lower() == "charset" else charset
            try:
                body = rec.content_stream().read(READ_CAP + 1)
            except Exception as err:  # noqa: BLE001
                return f"{status!r} · read raised {type(err).__name__}"
            return f"{status!r} · " + body_cell(body, charset, rec.rec_headers.get_header("WARC-Target-URI"), snippet)
        return "no record"
    except Exception as err:  # noqa: BLE001
        return f"raised {type(err).__name__}"


def fastwarc_cell(data: bytes, snippet: str | None, auto_decode: str) -> str:
    try:
        for rec in FastIterator(io.BytesIO(data), parse_http=True, quirks_mode=True, auto_decode=auto_decode,
                                record_types=WarcRecordType.any_type):
            if int(rec.record_type) not in (int(WarcRecordType.response), int(WarcRecordType.resource)):
                continue
            status = rec.http_headers.status_code if rec.is_http and rec.http_headers is not None else None
            try:
                body = rec.reader.read(READ_CAP + 1)
            except Exception as err:  # noqa: BLE001
                return f"{status!r} · read raised {type(err).__name__}"
            return f"{status!r} · " + body_cell(body, rec.http_charset if rec.is_http else None,
                                                rec.headers.get("WARC-Target-URI"), snippet)
        return "no record"
    except BaseException as err:  # noqa: BLE001 — Rust panics are BaseExceptions
        return f"raised {type(err).__name__}: {str(err)[:40]}"


def corpusforge_cell(data: bytes, expect: dict) -> tuple[str, bool]:
    from corpusforge.udfs.documents import ArchiveToDocuments
    rows = list(ArchiveToDocuments(options()).rows(io.BytesIO(data), "/bench/record.warc.gz"))
    summary = json.loads(rows[-1]["file_summary"])
    if summary["error"]:
        return "corrupt_stream", False
    if not rows[:-1]:
        (reason,) = summary["skipped_by_reason"]
        return f"skipped `{reason}`", expect.get("reason") == reason
    row = rows[0]
    if row["reason"] is not None:
        return f"removed `{row['reason']}`", expect.get("reason") == row["reason"]
    repairs = sorted(k[len("repair_"):] for k in row["scores"] if k.startswith("repair_"))
    ok = expect["outcome"] == "document" and expect["snippet"] in " ".join(row["text"].split()) \
        and repairs == expect["repairs"]
    cell = "text ✓" + (" · " + ", ".join(f"`{r}`" for r in repairs) if repairs else "")
    if row["archive_url"]:
        cell += f" · url {row['url']}, {row['warc_date']}"
    return cell, ok


def datatrove_cells(members: dict[str, bytes], controls: dict[str, bytes]) -> dict[str, dict] | None:
    if not DATATROVE_PYTHON.exists():
        return None
    with tempfile.TemporaryDirectory(prefix="cf-dt-") as tmp:
        for name, data in {**members, **{f"control-{k}": v for k, v in controls.items()}}.items():
            (Path(tmp) / f"{name}.warc.gz").write_bytes(data)
        done = subprocess.run([str(DATATROVE_PYTHON), str(Path(__file__).with_name("datatrove_warc_reader.py")), tmp],
                              capture_output=True, text=True, check=True)
    return {name[:-len(".warc.gz")]: entry for name, entry in json.loads(done.stdout).items()}


def datatrove_cell(entry: dict, control: dict | None, expect: dict) -> str:
    if entry["error"]:
        return f"raised {entry['error'].split(':')[0]}"
    if entry["docs"] == 0:
        cell = "no doc"
    elif expect["outcome"] != "document":
        cell = "doc kept" if entry["text"] else "doc, no text"
    elif expect["snippet"] in entry["text"]:
        wrong = [k for k, v in (("url", entry["url"]), ("date", entry["date"]))
                 if expect.get("archive_url") and v != {"url": expect["url"], "date": expect["warc_date"]}[k]]
        cell = "text ✓" + (f" · {', '.join(wrong)} of the archive" if wrong else "")
    else:
        cell = "doc, text ✗" if entry["text"] else "doc, no text"
    lost = control is not None and (control["docs"] == 0 or expect.get("snippet", "") not in control["text"])
    return cell + (" †" if lost and expect["outcome"] == "document" and not cell.startswith("text ✓") else "")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--markdown", action="store_true", help="print the table as Markdown (docs/format-recovery.md)")
    args = parser.parse_args()
    data, manifest = build()
    assert data == BUNDLED.read_bytes(), "tests/data/warc/edge/crafted-defects.warc.gz is not the catalogue's output"
    members = {}
    for i, entry in enumerate(manifest):
        end = manifest[i + 1]["offset"] if i + 1 < len(manifest) else len(data)
        members[entry["name"]] = data[entry["offset"]:end]
    page_keys = {id(page): key for key, page in pages().items()}
    page_of = {d.name: page_keys.get(id(d.page)) for d in defects()}
    controls = {}
    for key, page in pages().items():  # each page stored cleanly, to tell DataTrove's page losses from defects
        block = http_block("HTTP/1.1 200 OK", [("Content-Type", page.ctype)], page.body)
        controls[key] = raw_record(block, record_id=f"<urn:control:{key}>", uri=page.url)
    datatrove = datatrove_cells(members, controls)

    header = ["#", "record", "warcio 1.8", "fastwarc 2.0 (parse_http)", "fastwarc auto_decode=all",
              "DataTrove 0.10.1", "corpusforge"]
    rows, matched = [], 0
    for i, entry in enumerate(manifest):
        expect, member = entry["expect"], members[entry["name"]]
        snippet = expect.get("snippet")
        mine, ok = corpusforge_cell(member, expect)
        matched += ok
        dt = "not run" if datatrove is None else datatrove_cell(
            datatrove[entry["name"]], datatrove.get(f"control-{page_of.get(entry['name'])}"), expect)
        rows.append([str(i), f"`{entry['name']}`: {entry['what']}", warcio_cell(member, snippet),
                     fastwarc_cell(member, snippet, "none"), fastwarc_cell(member, snippet, "all"), dt,
                     mine + ("" if ok else " ❌")])
    whole = {}
    for label, run in (("warcio", lambda: sum(1 for _ in WarcioIterator(io.BytesIO(data)))),
                       ("fastwarc (parse_http)", lambda: sum(1 for _ in FastIterator(
                           io.BytesIO(data), parse_http=True, quirks_mode=True, record_types=WarcRecordType.any_type)))):
        try:
            whole[label] = f"{run()} records"
        except BaseException as err:  # noqa: BLE001
            whole[label] = f"raised {type(err).__name__}: {err}"[:90]
    from corpusforge.udfs.documents import ArchiveToDocuments
    summary = json.loads(list(ArchiveToDocuments(options()).rows(io.BytesIO(data), str(BUNDLED)))[-1]["file_summary"])
    whole["corpusforge"] = (f"{summary['records']} records: {summary['kept']} kept, removed {summary['removed_by_reason']}, "
                            f"skipped {summary['skipped_by_reason']}, error {summary['error']}")
    if args.markdown:
        print("| " + " | ".join(header) + " |\n|" + "---|" * len(header))
        for row in rows:
            print("| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |")
    else:
        for row in rows:
            print(" · ".join(row))
    print(f"\ncorpusforge matches the expected outcome (status, text, exact repairs, or reason) on {matched}/{len(rows)} "
          f"records.\nThe whole file read in one go: " + "; ".join(f"{k}: {v}" for k, v in whole.items()))


if __name__ == "__main__":
    main()
