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
