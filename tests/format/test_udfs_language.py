"""pycld2 language identification never crashes, whatever the text holds."""
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from corpusforge.udfs.language import UNKNOWN, detect_language

ENGLISH = "The quick brown fox jumps over the lazy dog while the children watch from the garden wall. " * 3
CHINESE = "今天天气很好，我们一起去公园散步吧。北京是中华人民共和国的首都，也是全国的政治和文化中心。" * 3
JAPANESE = "日本語のテキストです。東京都の天気は晴れ、気温は二十度でした。ひらがなとカタカナを含む文章。" * 3


@pytest.mark.parametrize("text, code", [(ENGLISH, "en"), (CHINESE, "zh"), (JAPANESE, "ja")])
def test_top_language_and_share(text, code):
    language, share, reliable = detect_language(text)
    assert (language, reliable) == (code, True)
    assert 0.9 <= share <= 1.0


@pytest.mark.parametrize("text", ["", "   \n\t", None])
def test_empty_is_unknown(text):
    assert detect_language(text) == (UNKNOWN, 0.0, False)


@pytest.mark.parametrize("text", [
    ENGLISH + "\ud800 lone surrogate \udfff",              # not encodable as UTF-8 (CLD2 raises on it)
    ENGLISH + "".join(map(chr, range(0, 32))) + "\x7f\x85\x9f",   # every control character
    ENGLISH.encode("utf-8").decode("latin-1"),              # mojibake of valid text
    b"\xff\xfe\xc3\x28 invalid utf-8 \xa0\xa1".decode("utf-8", "surrogateescape") + ENGLISH,
    "\x00" * 1000,
])
def test_hostile_text_never_raises(text):
    language, share, _ = detect_language(text)
    assert isinstance(language, str) and 0.0 <= share <= 1.0


def test_hostile_text_keeps_the_language():
    assert detect_language("\x00\x01\ud800" + ENGLISH + "\udcff\x1b[0m")[0] == "en"


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(codec=None, min_codepoint=0, max_codepoint=0x10FFFF), max_size=300))
def test_any_unicode_string(text):
    language, share, reliable = detect_language(text)
    assert isinstance(language, str) and 0.0 <= share <= 1.0 and isinstance(reliable, bool)
