"""trafilatura extraction is deterministic: a page's text never depends on what was extracted before."""
import pytest

from corpusforge.udfs.extraction import ExtractionOptions, TreeTooLarge, extract_main_text

OPTIONS = ExtractionOptions(favor="balanced", include_comments=False, include_tables=True, max_tree_size=100_000)
PARAGRAPHS = [f"Paragraph {i} of a long article about the history of web archiving and of the tools that "
              f"read WARC files, written for the determinism test." for i in range(8)]


def page(title: str, unique: str = "") -> str:
    body = "".join(f"<p>{p}</p>" for p in PARAGRAPHS)
    return (f"<html><head><title>  {title}\n </title></head><body><nav><a href='/'>Home</a> | <a href='/a'>About</a></nav>"
            f"<article><h1>{title}</h1>{body}<p>{unique}</p></article><footer>(c) 2024 Example</footer></body></html>")


def test_same_page_same_text_whatever_came_before():
    """trafilatura's deduplicate cache would empty the 4th extraction of a page (shared paragraphs)."""
    first = extract_main_text(page("Page A"), "http://a.example/", OPTIONS)
    assert PARAGRAPHS[0] in first[1] and first[0] == "Page A"
    for n in range(6):
        extract_main_text(page(f"Page B{n}", f"unique text {n}"), f"http://b{n}.example/", OPTIONS)
    for _ in range(4):
        assert extract_main_text(page("Page A"), "http://a.example/", OPTIONS) == first


def test_title_is_the_whitespace_normalised_title_element():
    assert extract_main_text(page("  A   spaced\ttitle "), None, OPTIONS)[0] == "A spaced title"
    assert extract_main_text("<html><body><p>" + PARAGRAPHS[0] + "</p></body></html>", None, OPTIONS)[0] is None


@pytest.mark.parametrize("html", ["", "   ", "<html><body></body></html>", "<html><head><title>x</title></head></html>"])
def test_no_main_content_gives_empty_text(html):
    assert extract_main_text(html, None, OPTIONS)[1] == ""


def test_tree_size_cap():
    html = "<html><body><div>" + "<span>a</span>" * 300 + "</div></body></html>"
    capped = ExtractionOptions(favor="balanced", include_comments=False, include_tables=True, max_tree_size=100)
    with pytest.raises(TreeTooLarge):
        extract_main_text(html, None, capped)
    extract_main_text(html, None, OPTIONS)  # under the default cap: no error


def test_tables_follow_the_option():
    table = "<table><tr><td>Cell alpha beta gamma delta epsilon zeta</td></tr></table>"
    html = f"<html><body><article>{''.join(f'<p>{p}</p>' for p in PARAGRAPHS)}{table}</article></body></html>"
    without = ExtractionOptions(favor="balanced", include_comments=False, include_tables=False, max_tree_size=None)
    assert "Cell alpha" in extract_main_text(html, None, OPTIONS)[1]
    assert "Cell alpha" not in extract_main_text(html, None, without)[1]


def real_html_pages() -> list[tuple[str, str]]:
    """(url, decoded HTML) of the bundled real pages (Chinese, English, Japanese, tables, forms)."""
    from support.paths import WARCS
    from support.warcs import real_pages

    from corpusforge.udfs.html_decoding import decode_html

    pages = []
    for name in sorted(p.name for p in WARCS.glob("*.warc.gz")):
        pages += [(url, decode_html(body, None)[0]) for url, body in real_pages(name, 40)]
    return pages


@pytest.mark.parametrize("favor", ["precision", "balanced"])
def test_c_element_class_lookup_extracts_what_lxml_htmls_python_lookup_does(favor):
    """trafilatura's parser runs with lxml's C class lookup (udfs/extraction.py); switched back to lxml.html's
    own Python lookup, every real page must give the same title and text."""
    from lxml.html import HtmlElementClassLookup
    from trafilatura.utils import HTML_PARSER

    from corpusforge.udfs.extraction import C_CLASS_LOOKUP

    options = ExtractionOptions(favor=favor, include_comments=False, include_tables=True, max_tree_size=100_000)
    pages = real_html_pages()
    assert len(pages) >= 20 and any("<form" in html for _, html in pages)
    ours = [extract_main_text(html, url, options) for url, html in pages]
    HTML_PARSER.set_element_class_lookup(HtmlElementClassLookup())
    try:
        theirs = [extract_main_text(html, url, options) for url, html in pages]
    finally:
        HTML_PARSER.set_element_class_lookup(C_CLASS_LOOKUP)
    assert ours == theirs
    assert sum(bool(text) for _, text in ours) >= len(pages) // 2


def test_tree_size_counts_what_tree_iter_walks():
    from trafilatura.utils import load_html

    from corpusforge.udfs.extraction import _COUNT_NODES

    pages = [html for _, html in real_html_pages()]
    pages.append("<html><body><!-- a comment --><?php echo 1; ?><div><p>x</p><!-- b --></div></body></html>")
    for html in pages:
        tree = load_html(html)
        if tree is not None:
            assert int(_COUNT_NODES(tree)) == sum(1 for _ in tree.iter())
