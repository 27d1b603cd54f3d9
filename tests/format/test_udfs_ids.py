"""Document ids: same record of the same file → same id, whatever the run or the partitioning."""
import hashlib

from corpusforge.udfs.ids import document_id


def test_same_record_same_id():
    a = document_id("CC-MAIN-2020-34-sample.warc.gz", 1234, "<urn:uuid:5d5e>")
    assert a == document_id("CC-MAIN-2020-34-sample.warc.gz", 1234, "<urn:uuid:5d5e>")
    assert len(a) == 32 and int(a, 16) >= 0


def test_id_definition_is_stable():
    """The id is blake2b-128 of name, offset and record id: changing it would re-id every stored document."""
    key = b"x.warc.gz\x000\x00<urn:uuid:1>"
    assert document_id("x.warc.gz", 0, "<urn:uuid:1>") == hashlib.blake2b(key, digest_size=16).hexdigest()


def test_each_key_part_matters():
    base = document_id("a.warc.gz", 10, "<urn:uuid:1>")
    assert len({base, document_id("b.warc.gz", 10, "<urn:uuid:1>"), document_id("a.warc.gz", 11, "<urn:uuid:1>"),
                document_id("a.warc.gz", 10, "<urn:uuid:2>"), document_id("a.warc.gz", 10, None)}) == 5


def test_unusual_names_do_not_raise():
    assert document_id("ü\udcff.warc", 0, None) != document_id("u.warc", 0, None)
