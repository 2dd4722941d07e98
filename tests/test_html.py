"""Saved chapter pages: the chapter's text is found, the page around it dropped, emphasis kept."""

from __future__ import annotations

from pathlib import Path

import pytest

from epubgen.errors import InputError
from epubgen.marks import EM_CLOSE, EM_OPEN, STRONG_CLOSE, STRONG_OPEN
from epubgen.read.html import html_to_lines

FIXTURES = Path(__file__).parent / "fixtures" / "html"


def lines_of(name: str) -> list[str]:
    return html_to_lines((FIXTURES / name).read_text(encoding="utf-8"), name).lines


def test_a_site_layout_gives_its_chapter_body_and_heading_without_the_page_chrome() -> None:
    assert lines_of("novelbin-style.html") == [
        "Chapter 12: The Drowned Chapel",
        f"The chapel stood {EM_OPEN}under{EM_CLOSE} the water, and yet its bell was dry.",
        f"Wren swam down with the lantern held before her like a {STRONG_OPEN}promise{STRONG_CLOSE}.",
        f'"Grandmother?" she called, and the fog {EM_OPEN}answered{EM_CLOSE}.',
        "* * *",
        "Later, on the shore, Oda said nothing at all. AT&T <3 a < b.",
        "Line one",
        "Line two after a break.",
    ]


def test_paragraphs_hidden_by_the_pages_own_css_are_dropped() -> None:
    text = "\n".join(lines_of("novelbin-style.html"))
    assert "example-novel-site" not in text
    assert "invisible watermark" not in text


def test_scripts_ads_iframes_comments_and_nav_never_pass() -> None:
    text = "\n".join(lines_of("novelbin-style.html"))
    for junk in ("injected", "adsbygoogle", "First! Great chapter", "Prev Chapter", "Genres", "Copyright", "alert"):
        assert junk not in text


def test_a_blog_post_gives_its_entry_content_with_the_heading_from_the_page() -> None:
    lines = lines_of("blog-style.html")
    assert lines[:3] == [
        "Side Story 2: Salt",
        "Salt was the first thing Oda ever sold, long before the lantern.",
        f"She carried it in a sack {EM_OPEN}heavier than she was{EM_CLOSE}, and she never once complained of it.",
    ]
    assert "* * *" in lines
    assert not any(line.startswith(("Share this", "Related", "Comment text")) for line in lines)


def test_a_layout_no_rule_knows_falls_back_to_the_element_with_most_paragraph_text() -> None:
    assert lines_of("no-selectors.html") == [
        "Chapter 3",
        "The first paragraph of a page whose layout no rule knows.",
        "The second paragraph carries on, long enough to be the body of the chapter.",
        "The third paragraph ends it, as third paragraphs do.",
    ]


def test_a_page_with_no_text_is_an_error_naming_it() -> None:
    with pytest.raises(InputError, match="empty.html: no chapter text found in this page"):
        html_to_lines("<html><head><title>x</title></head><body><script>var a;</script></body></html>", "empty.html")


IMAGES = Path(__file__).parent / "fixtures" / "html-images"


def test_images_beside_a_page_are_embedded_with_their_real_type_and_the_others_warned_about(tmp_path: Path) -> None:
    from conftest import NS, OpenedEpub, assert_valid
    from epubgen.build import build
    from epubgen.config import BookConfig

    result = build(IMAGES, BookConfig(title="Maps"), tmp_path / "b.epub")
    book = OpenedEpub(result.path)
    images = [(img.get("src"), img.get("alt")) for img in book.chapter(0).iterfind(".//x:figure/x:img", NS)]
    assert images == [
        ("../images/chapter-0001-1.png", "A hand-drawn map of Tern Point and the Salt Road"),
        ("../images/chapter-0001-2.jpg", "Illustration 2 of Chapter 1: The Map"),
    ]
    declared = {item.get("href"): item.get("media-type") for item in book.opf.iterfind("opf:manifest/opf:item", NS)}
    assert (declared["images/chapter-0001-1.png"], declared["images/chapter-0001-2.jpg"]) == ("image/png", "image/jpeg")
    assert book.files["EPUB/images/chapter-0001-2.jpg"] == (IMAGES / "portrait.png").read_bytes()
    assert result.book.warnings == (
        "0001.html: remote image https://images.example/banner.png left out",
        "0001.html: image missing.png not found beside the page, left out",
    )
    assert_valid(book.path)


def test_nothing_executable_from_a_page_reaches_the_book(tmp_path: Path) -> None:
    import shutil

    from conftest import OpenedEpub
    from epubgen.build import build
    from epubgen.config import BookConfig

    folder = tmp_path / "pages"
    folder.mkdir()
    shutil.copy(FIXTURES / "novelbin-style.html", folder / "0012.html")
    book = OpenedEpub(build(folder, BookConfig(title="T"), tmp_path / "b.epub").path)
    for name, data in book.files.items():
        if name.endswith(".xhtml"):
            text = data.decode().lower()
            assert not any(bad in text for bad in ("<script", "<iframe", "<object", "<form", "onclick", "javascript:")), name
    assert "\ufdd0" not in book.text()
    assert book.chapter(0).find(".//{http://www.w3.org/1999/xhtml}em").text == "under"
