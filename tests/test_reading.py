"""Reading quality: themes that respect the reader's settings, the information page, accessibility metadata."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from conftest import NS, OpenedEpub, assert_valid, write_chapters
from epubgen.builder import THEMES, build, stylesheet
from epubgen.config import BookConfig

CHAPTERS = {f"{n:02d}.txt": f"Chapter {n}: Part {n}\n\n\"Go,\" she said -- and went...\n\n* * *\n\nAfter." for n in (3, 4, 5)}


@pytest.mark.parametrize("theme", THEMES)
def test_themes_set_no_fixed_font_sizes_and_no_colours(theme: str) -> None:
    css = stylesheet(theme)
    sizes = re.findall(r"font-size\s*:\s*([^;}]+)", css)
    assert sizes and all(size.strip().endswith("em") and not size.strip().endswith("rem") for size in sizes), sizes
    assert not re.search(r"\b\d+(?:\.\d+)?(?:px|pt|rem)\b", css)
    assert not re.search(r"(?<![-\w])(?:color|background(?:-color)?)\s*:", css)


@pytest.mark.parametrize("theme", THEMES)
def test_every_theme_makes_a_book_epubcheck_passes(theme: str, tmp_path: Path) -> None:
    folder = write_chapters(tmp_path / "c", CHAPTERS)
    book = OpenedEpub(build(folder, BookConfig(style=theme, translator=("Mo Lin",)), tmp_path / "b.epub").path)
    assert book.files["EPUB/styles/default.css"].decode() == stylesheet(theme)
    assert_valid(book.path)


def test_the_block_theme_lays_spaced_paragraphs_over_the_default() -> None:
    block = stylesheet("block")
    assert block.startswith(stylesheet("default"))
    assert "text-indent: 0;" in block.split(stylesheet("default"))[1]


def test_your_own_css_file_comes_after_the_theme_named_for_itself(tmp_path: Path) -> None:
    (tmp_path / "mine.css").write_text("p { margin: 0 0 1em; }\n")
    folder = write_chapters(tmp_path / "c", CHAPTERS)
    book = OpenedEpub(build(folder, BookConfig(css=str(tmp_path / "mine.css")), tmp_path / "b.epub").path)
    assert book.files["EPUB/styles/mine.css"] == b"p { margin: 0 0 1em; }\n"
    assert book.files["EPUB/styles/default.css"] == stylesheet("default").encode()


def test_the_information_page_lists_source_credits_chapters_and_date(tmp_path: Path) -> None:
    folder = write_chapters(tmp_path / "c", {**CHAPTERS, "00.txt": "Editor: Quill\n\nChapter 2: Two\n\nText."})
    config = BookConfig(title="T", author=("Ash Vale",), translator=("Mo Lin",), source="https://example.org/t", original_title="灯守")
    book = OpenedEpub(build(folder, config, tmp_path / "b.epub").path)
    page = book.xml("EPUB/text/information.xhtml")
    terms = ["".join(dt.itertext()) for dt in page.iterfind(".//x:dt", NS)]
    values = ["".join(dd.itertext()) for dd in page.iterfind(".//x:dd", NS)]
    assert dict(zip(terms, values)) == {
        "Original title": "灯守",
        "Author": "Ash Vale",
        "Translator": "Mo Lin",
        "Editor": "Quill",
        "Source": "https://example.org/t",
        "Chapters": "2–5 (4 in this book)",
        "Text as of": "2023-11-14",
    }
    assert "text/information.xhtml" in book.spine_files()


def test_the_information_page_can_be_turned_off(tmp_path: Path) -> None:
    folder = write_chapters(tmp_path / "c", CHAPTERS)
    book = OpenedEpub(build(folder, BookConfig(info_page=False), tmp_path / "b.epub").path)
    assert "EPUB/text/information.xhtml" not in book.names


def test_accessibility_metadata_is_in_the_opf(tmp_path: Path) -> None:
    folder = write_chapters(tmp_path / "c", CHAPTERS)
    book = OpenedEpub(build(folder, BookConfig(), tmp_path / "b.epub").path)
    assert book.meta_property("schema:accessMode") == ["textual", "visual"]
    assert book.meta_property("schema:accessModeSufficient") == ["textual"]
    assert set(book.meta_property("schema:accessibilityFeature")) >= {"structuralNavigation", "tableOfContents", "readingOrder"}
    assert book.meta_property("schema:accessibilityHazard") == ["none"]
    assert book.meta_property("schema:accessibilitySummary")[0]
    assert book.meta_property("dcterms:conformsTo") == []
