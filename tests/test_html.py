"""Saved chapter pages: the chapter's text is found, the page around it dropped, emphasis kept."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from epubgen.errors import InputError
from epubgen.marks import EM_CLOSE, EM_OPEN, STRONG_CLOSE, STRONG_OPEN
from epubgen.read.html import _layouts, _may_match, html_to_lines

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
    from epubgen.builder import build
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
    from epubgen.builder import build
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


STORY = "The ferryman counted the lanterns twice, and twice he came up one short of the night before. " * 3
DECOY = "A short teaser of the next chapter, in a box of its own."


def _page_with_body(selector: str, wrapper: str) -> str:
    """A page whose chapter text only `selector` finds, inside a <div class=wrapper>, after a
    paragraph-heavy decoy that the fallback (most paragraph text) would pick instead."""
    inner = f"<p>{STORY}</p><p>{STORY}</p>"
    for compound in reversed(selector.split()):
        tag = re.split(r"[.#]", compound)[0] or "div"
        ids = [part[1:] for part in re.findall(r"#[\w-]+", compound)]
        classes = [part[1:] for part in re.findall(r"\.[\w-]+", compound)]
        attributes = (f' id="{ids[0]}"' if ids else "") + (f' class="{" ".join(classes)}"' if classes else "")
        inner = f"<{tag}{attributes}>{inner}</{tag}>"
    decoy = "".join(f"<p>{DECOY}</p>" for _ in range(12))
    return f"<html><head><title>Chapter 3</title></head><body><div class='teaser'>{decoy}</div><div class='{wrapper}'>{inner}</div></body></html>"


LAYOUTS = _layouts()["body_selectors"]


@pytest.mark.parametrize(
    ("selector", "wrapper"),
    [(selector, "story") for selector in LAYOUTS] + [(selector, "nav-wrapper") for selector in LAYOUTS[:6]],
)
def test_every_layout_finds_its_body_and_the_first_ones_even_inside_a_wrapper_named_like_chrome(selector: str, wrapper: str) -> None:
    """The body selectors are only tried on pages that hold what they name (_may_match): a page that
    holds it still gives its chapter text, not the decoy with more paragraphs. A wrapper named like
    chrome is kept when one of the first six layouts finds the body in it."""
    lines = html_to_lines(_page_with_body(selector, wrapper), "page.html").lines
    assert lines[-2:] == [STORY.strip(), STORY.strip()] and DECOY not in lines


@pytest.mark.parametrize(
    ("selector", "names", "may_match"),
    [
        ("#content", {"div", "#content"}, True),
        ("#content", {"div", ".content"}, False),
        (".chapter-inner", {"div", "#chapter-inner"}, False),
        ("article .content", {"div", ".content"}, False),
        ("article .content", {"article", "div", ".content"}, True),
        ("div.reading-content", {"div", ".reading-content"}, True),
        ("div.reading-content", {"span", ".reading-content"}, False),
        ("#Content", {"#content"}, True),  # case is left to the selector engine: never screened out
        ("div > p", {"span"}, False),  # every compound must match something, whatever joins them
        ("div > p", {"div", "p"}, True),
        ("#a #b, #c", {"#c"}, True),  # a list matches when any of its selectors does
        ("#a #b, #c", {"#b"}, False),
        ("div + p", {"div", "p"}, True),
        ("div ~ .x", {"div"}, False),
        ("[data-chapter]", set(), True),  # beyond tags, ids and classes: always tried
        ("div:not(.ads)", set(), True),
        ('[title="chapter text body"]', set(), True),  # words inside quotes name nothing
        ('p:-soup-contains("the next chapter")', {"div"}, True),
        ("#my\\ content", set(), True),
        ("div:not(.a .b .c)", {"div", ".a"}, True),
        ('div, [data-x="a b c"]', set(), True),
    ],
)
def test_a_selector_is_screened_out_only_when_the_page_lacks_something_it_names(selector: str, names: set[str], may_match: bool) -> None:
    assert _may_match(selector, frozenset(names)) is may_match


def test_chrome_inside_chrome_and_comments_inside_it_are_dropped_with_it() -> None:
    page = (
        "<html><head><title>Chapter 4</title><style>.gone{display:none}</style></head><body>"
        "<header><nav><script>steal()</script><!-- menu --><div class='menu-bar'><!-- inner --></div></nav></header>"
        f"<div id='chapter-content'><!-- before --><p>{STORY}</p><div class='ads'><!-- ad --><p>BUY NOW</p></div>"
        f"<p class='gone'>hidden</p><p>{STORY}</p><!-- after --></div>"
        "<footer><aside><!-- deep --><form><input></form></aside></footer></body></html>"
    )
    assert html_to_lines(page, "page.html").lines == ["Chapter 4", STORY.strip(), STORY.strip()]


def test_chrome_inside_the_body_goes_even_when_it_holds_what_a_generic_layout_names() -> None:
    """Only the first six layouts, in their order, keep a chrome-named wrapper: later ones (.reading-content,
    #content, article) are generic containers, and a preview box in the chapter may hold one."""
    page = (
        f"<html><body><div id='chapter-content'><p>{STORY}</p>"
        "<div class='nav-preview'><div class='reading-content'><p>Next time: the ferry sinks!</p></div></div>"
        f"<p>{STORY}</p></div></body></html>"
    )
    assert LAYOUTS.index(".reading-content") >= 6
    assert html_to_lines(page, "page.html").lines == [STORY.strip(), STORY.strip()]
