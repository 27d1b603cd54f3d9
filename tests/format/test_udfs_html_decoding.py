"""HTML bytes to text: BOM, HTTP charset, meta charset, then detection; declarations that lie."""
import codecs

import pytest

from corpusforge.udfs.html_decoding import decode_html, looks_binary, looks_like_html

JA = "日本語のテキストです。東京都の天気は晴れ、気温は二十度でした。ひらがなとカタカナ、漢字を含む文章。" * 3
ZH = "今天天气很好，我们一起去公园散步吧。北京是中华人民共和国的首都，也是全国的政治和文化中心。" * 3


def page(text: str, head: str = "") -> str:
    return f"<html><head>{head}<title>t</title></head><body><p>{text}</p></body></html>"


@pytest.mark.parametrize("codec", ["euc-jp", "shift_jis", "iso-2022-jp", "utf-8"])
def test_japanese_without_any_declaration_is_detected(codec):
    text, _ = decode_html(page(JA).encode(codec), None)
    assert JA in text


@pytest.mark.parametrize("label, codec, sample", [
    ("Shift_JIS", "cp932", JA), ("x-sjis", "cp932", JA), ("EUC-JP", "euc_jp", JA),
    ("gb2312", "gb18030", ZH), ("GBK", "gb18030", ZH), ("utf8", "utf-8", ZH)])
def test_http_charset_is_used_and_widened_to_the_browser_superset(label, codec, sample):
    payload = page(sample).encode(codec)
    assert decode_html(payload, label) == (page(sample), codec)


def test_cp932_extensions_survive_a_shift_jis_label():
    """① and ～ exist only in Microsoft's Shift_JIS; a strict shift_jis decode would lose the page."""
    payload = page("①番目の～テスト" + JA).encode("cp932")
    text, codec = decode_html(payload, "shift_jis")
    assert codec == "cp932" and "①番目の～テスト" in text


def test_latin1_label_decodes_as_windows_1252():
    payload = "<p>café – “quoted”</p>".encode("cp1252")
    assert decode_html(payload, "iso-8859-1") == ("<p>café – “quoted”</p>", "cp1252")


@pytest.mark.parametrize("head", ['<meta charset="euc-jp">', "<meta charset=EUC-JP>",
                                  '<meta http-equiv="Content-Type" content="text/html; charset=euc-jp">'])
def test_meta_charset(head):
    html = page(JA, head)
    assert decode_html(html.encode("euc-jp"), None) == (html, "euc_jp")


def test_http_charset_wins_over_meta():
    html = page(JA, '<meta charset="euc-jp">')
    assert decode_html(html.encode("shift_jis"), "shift_jis")[1] == "cp932"


def test_lying_http_charset_falls_through_to_meta():
    html = page(JA, '<meta charset="shift_jis">')
    text, codec = decode_html(html.encode("shift_jis"), "utf-8")
    assert (text, codec) == (html, "cp932")


def test_lying_meta_charset_falls_through_to_detection():
    html = page(JA, '<meta charset="utf-8">')
    text, _ = decode_html(html.encode("euc-jp"), None)
    assert JA in text


@pytest.mark.parametrize("label", ["x-no-such-charset", "utf-16", "UTF-16LE", ""])
def test_unusable_labels_are_ignored(label):
    """Unknown labels mean undeclared; UTF-16 in an 8-bit stream is a lie (WHATWG) and reads as UTF-8."""
    html = page("naïve café €")
    assert decode_html(html.encode("utf-8"), label)[0] == html


@pytest.mark.parametrize("bom, codec", [(codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16-le"),
                                        (codecs.BOM_UTF16_BE, "utf-16-be")])
def test_byte_order_mark_wins_over_declarations(bom, codec):
    html = page(JA)
    assert decode_html(bom + html.encode(codec), "iso-8859-1") == (html, codec)


def test_undecodable_bytes_never_raise():
    text, codec = decode_html(b"<p>\xff\xfe\xfd\x80\x81 broken \xc3\x28</p>", "utf-8")
    assert isinstance(text, str) and "broken" in text


def test_binary_and_html_sniffing():
    png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(4000)
    assert looks_binary(png, 0.01)
    assert not looks_binary(page(JA).encode("utf-8"), 0.01)
    assert not looks_binary(codecs.BOM_UTF16_LE + page(JA).encode("utf-16-le"), 0.01)
    assert looks_like_html(b"  \n<!DOCTYPE html><html>") and looks_like_html(b"<HTML><body>")
    assert not looks_like_html(b"%PDF-1.4") and not looks_like_html(b'{"json": true}')
