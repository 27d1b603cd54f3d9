"""Remote inputs over loopback: http(s):// through a Python http.server, s3:// through moto's server.

Both servers run on 127.0.0.1 inside the test and are stopped at its end; nothing leaves the machine.
"""
import functools
import http.server
import shutil
import threading

import pytest
from support.paths import DATA
from pyspark.sql import functions as F

from corpusforge.jobs.format import FormatStage

from corpusforge.jobs.stage import run_stage
pytestmark = pytest.mark.spark
FILES = ("ccbot-2019-12-single.warc.gz", "CC-MAIN-2020-34-sample.warc.gz")


def kept_by_id(spark, out, files=FILES):
    rows = spark.read.parquet(f"file://{out}/kept").where(F.col("warc_file").isin(*files)) \
        .select("id", "url", "dump", "text").collect()
    return {r.id: (r.url, r.dump, r.text) for r in rows}


@pytest.fixture(scope="module")
def local_reference(spark, format_output):
    """The same two files read from the local disk (part of the bundled sample run)."""
    return kept_by_id(spark, format_output[0])


@pytest.fixture
def http_server(tmp_path):
    served = tmp_path / "served"
    served.mkdir()
    for name in FILES:
        shutil.copy(DATA / "warc" / name, served)
    handler = functools.partial(QuietHandler, directory=str(served))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def test_http_url_and_paths_file_with_prefix(spark, cfg_factory, http_server, local_reference, tmp_path):
    paths = tmp_path / "warc.paths"
    paths.write_text(f"{FILES[1]}\n")  # a relative line, joined to format.paths_prefix
    out = tmp_path / "out"
    stats = run_stage(spark, cfg_factory(f"format.paths_prefix={http_server}/"), FormatStage(),
              [f"{http_server}/{FILES[0]}", str(paths)], str(out))
    assert sorted(stats["files"]) == sorted(f"{http_server}/{name}" for name in FILES)
    assert stats["failed_files"] == {} and stats["kept_docs"] == len(local_reference) > 0
    assert kept_by_id(spark, out) == local_reference


@pytest.fixture
def s3_bucket():
    boto3 = pytest.importorskip("boto3")
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    try:
        client = boto3.client("s3", endpoint_url=endpoint, aws_access_key_id="testing",
                              aws_secret_access_key="testing", region_name="us-east-1")
        client.create_bucket(Bucket="corpus")
        for name in FILES:
            client.upload_file(str(DATA / "warc" / name), "corpus",
                               f"crawl-data/CC-MAIN-2020-34/segments/1596439735792.85/warc/{name}")
        yield endpoint
    finally:
        server.stop()


def test_s3_glob_through_an_s3_compatible_server(spark, cfg_factory, s3_bucket, local_reference, tmp_path):
    sets = [f"io.storage_options.s3.endpoint_url={s3_bucket}", "io.storage_options.s3.key=testing",
            "io.storage_options.s3.secret=testing", "io.storage_options.s3.client_kwargs.region_name=us-east-1"]
    out = tmp_path / "out"
    stats = run_stage(spark, cfg_factory(*sets), FormatStage(), ["s3://corpus/crawl-data/*/segments/*/warc/*.warc.gz"], str(out))
    assert len(stats["files"]) == 2 and all(name.startswith("s3://corpus/") for name in stats["files"])
    assert stats["failed_files"] == {}
    got = kept_by_id(spark, out)
    assert set(got) == set(local_reference)
    for doc_id, (url, dump, text) in got.items():
        assert (url, text) == (local_reference[doc_id][0], local_reference[doc_id][2])
        assert dump == "CC-MAIN-2020-34"  # from the S3 key's crawl-data/CC-MAIN-2020-34/ folder
