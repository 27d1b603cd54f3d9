"""Configuration: default.yaml ← --conf file ← --set, validated at start-up with messages naming the key."""
import pytest

from corpusforge.conf import DEFAULT_FILE, LOCAL_FILE
from corpusforge.conf import Config, ConfigError, load_config


def test_default_and_local_files_validate():
    assert isinstance(load_config(DEFAULT_FILE), Config)
    local = load_config(None)
    assert local.spark.master.startswith("local") and local.output.jsonl is True
    assert load_config(LOCAL_FILE) == local


def test_a_conf_file_lists_only_what_it_changes(tmp_path):
    conf = tmp_path / "mine.yaml"
    conf.write_text("format:\n  max_html_bytes: 123456\n  trafilatura:\n    favor: precision\n")
    cfg = load_config(conf)
    assert cfg.format.max_html_bytes == 123456 and cfg.format.trafilatura.favor == "precision"
    assert cfg.format.trafilatura.include_tables == load_config(DEFAULT_FILE).format.trafilatura.include_tables


def test_missing_file(tmp_path):
    with pytest.raises(ConfigError, match=r"nope\.yaml does not exist"):
        load_config(tmp_path / "nope.yaml")


@pytest.mark.parametrize("text, key, hint", [
    ("formt:\n  max_html_bytes: 3\n", "formt", "format"),
    ("format:\n  max_html_byte: 3\n", "format.max_html_byte", "format.max_html_bytes"),
    ("format:\n  trafilatura:\n    favr: recall\n", "format.trafilatura.favr", "format.trafilatura.favor"),
])
def test_unknown_key_in_a_file_names_it_and_suggests_the_close_one(tmp_path, text, key, hint):
    conf = tmp_path / "bad.yaml"
    conf.write_text(text)
    with pytest.raises(ConfigError) as err:
        load_config(conf)
    assert f"'{key}'" in str(err.value) and f"Did you mean '{hint}'?" in str(err.value)
    assert str(conf) in str(err.value)


@pytest.mark.parametrize("text, key", [
    ("format:\n  max_html_bytes: lots\n", "format.max_html_bytes"),
    ("format:\n  skip_truncated: maybe\n", "format.skip_truncated"),
    ("format:\n  trafilatura:\n    favor: fast\n", "format.trafilatura.favor"),
    ("spark:\n  shuffle_partitions: 0\n", "spark.shuffle_partitions"),
    ("format:\n  accept_status: 200\n", "format.accept_status"),
])
def test_wrong_type_in_a_file_names_the_key(tmp_path, text, key):
    conf = tmp_path / "bad.yaml"
    conf.write_text(text)
    with pytest.raises(ConfigError, match=rf"conf key '{key}'"):
        load_config(conf)


@pytest.mark.parametrize("text", ["- a\n- b\n", "format: [\n"])
def test_a_file_that_is_not_a_mapping(tmp_path, text):
    conf = tmp_path / "bad.yaml"
    conf.write_text(text)
    with pytest.raises(ConfigError, match="bad.yaml"):
        load_config(conf)


def test_set_overrides_are_typed():
    cfg = load_config(None, ["format.max_html_bytes=2000000", "format.extraction_timeout_seconds=2.5",
                             "format.skip_truncated=true", "format.accept_status=[200, 203]",
                             "format.paths_prefix=https://data.commoncrawl.org/", "spark.checkpoint_dir=null",
                             "format.trafilatura.max_tree_size=null"])
    fmt = cfg.format
    assert (fmt.max_html_bytes, fmt.extraction_timeout_seconds, fmt.skip_truncated) == (2_000_000, 2.5, True)
    assert fmt.accept_status == [200, 203] and fmt.paths_prefix == "https://data.commoncrawl.org/"
    assert cfg.spark.checkpoint_dir is None and fmt.trafilatura.max_tree_size is None


def test_set_reaches_free_mappings_whose_keys_hold_dots():
    cfg = load_config(None, ["spark.extra.spark.executor.memory=8g", "spark.extra.spark.sql.files.maxPartitionBytes=1024",
                             "io.storage_options.s3.endpoint_url=http://127.0.0.1:9000",
                             "io.storage_options.s3.key=minio", "io.storage_options.s3.client_kwargs.region_name=us-east-1"])
    assert cfg.spark.extra == {"spark.executor.memory": "8g", "spark.sql.files.maxPartitionBytes": 1024}
    assert cfg.io.storage_options == {"s3": {"endpoint_url": "http://127.0.0.1:9000", "key": "minio",
                                             "client_kwargs": {"region_name": "us-east-1"}}}


@pytest.mark.parametrize("item, pattern", [
    ("format.max_html_byts=3", r"'format.max_html_byts' \(from --set\).*Did you mean 'format.max_html_bytes'\?"),
    ("formt.max_html_bytes=3", r"'formt'.*Did you mean 'format'\?"),
    ("format.max_html_bytes=abc", r"conf key 'format.max_html_bytes'.*got 'abc'"),
    ("format.max_html_bytes=", r"conf key 'format.max_html_bytes'"),
    ("format.max_html_bytes.deeper=1", r"'format.max_html_bytes'"),
    ("no_equals_sign", r"not of the form key.path=value"),
    ("=3", r"not of the form key.path=value"),
])
def test_bad_set_is_one_line_naming_the_key(item, pattern):
    with pytest.raises(ConfigError, match=pattern) as err:
        load_config(None, [item])
    assert "\n" not in str(err.value)


def test_fingerprint_follows_the_sections_it_covers():
    base = load_config(None)
    changed = load_config(None, ["format.max_html_bytes=123"])
    assert base.fingerprint("format") == load_config(None).fingerprint("format")
    assert base.fingerprint("format") != changed.fingerprint("format")
    assert base.fingerprint("output") == changed.fingerprint("output")
