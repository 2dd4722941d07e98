"""An EPUB made by another tool as input: its chapters cleaned, its metadata kept."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from ebooklib import epub
from PIL import Image

from conftest import NS, OpenedEpub, assert_valid
from epubgen.builder import build
from epubgen.config import BookConfig, load_config
from epubgen.errors import InputError

REPO = Path(__file__).resolve().parent.parent


def image_bytes(colour: tuple[int, int, int]) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (40, 60), colour).save(buffer, format="PNG")
    return buffer.getvalue()


def foreign_epub(path: Path) -> Path:
    """An EPUB as a browser extension makes it: watermarks and site junk inline, an information page."""
    book = epub.EpubBook()
    book.set_identifier("urn:uuid:12345678-1234-5678-1234-567812345678")
    book.set_title("The Salt Road")
    book.set_language("en")
    book.add_author("Ash Vale")
    book.add_metadata("DC", "description", "A road, a ferry and a debt.")
    info = epub.EpubHtml(title="Information", file_name="info.xhtml", content="<h1>Information</h1><p>Source: https://example.org/novel</p>")
    chapters = [
        epub.EpubHtml(
            title=f"Chapter {n}: {place}",
            file_name=f"c{n}.xhtml",
            content=(
                f"<h1>Chapter {n}: {place}</h1><p>The road ran on toward {place}.</p>"
                "<p>Read latest chapters at n/o/v/e/l/b/i/n.c/o/m</p>"
                f"<p>She walked <em>slowly</em> past {landmark}.</p>"
                "<p>Tap the screen to use advanced tools Tip: You can use left and right keyboard keys to browse between chapters.</p>"
            ),
        )
        for n, place, landmark in ((1, "the Ferry", "the old mill"), (2, "Gullhaven", "a drowned bell"), (3, "the Chapel", "the last lantern"))
    ]
    book.set_cover("cover.png", image_bytes((120, 30, 30)))
    book.add_item(epub.EpubImage(uid="bell", file_name="images/bell.png", media_type="image/png", content=image_bytes((30, 30, 120))))
    chapters[1].content += '<p><img src="images/bell.png" alt="The drowned bell"/></p>'
    for item in (info, *chapters):
        book.add_item(item)
    book.toc = [info, *chapters]
    book.add_item(epub.EpubNcx())
    book.add_item(epub.EpubNav())
    book.spine = ["nav", info, *chapters]
    epub.write_epub(str(path), book)
    return path


def test_an_epub_from_another_tool_is_cleaned_and_keeps_its_metadata(tmp_path: Path) -> None:
    source = foreign_epub(tmp_path / "old.epub")
    book = OpenedEpub(build(source, BookConfig(), tmp_path / "clean.epub").path)
    assert book.nav_labels() == ["Information", "Chapter 1: the Ferry", "Chapter 2: Gullhaven", "Chapter 3: the Chapel"]
    assert book.metadata("dc:title") == ["The Salt Road"]
    assert book.metadata("dc:creator") == ["Ash Vale"]
    assert book.metadata("dc:description") == ["A road, a ferry and a debt."]
    assert book.metadata("dc:identifier") == ["urn:uuid:12345678-1234-5678-1234-567812345678", "epubgen:12345678-1234-5678-1234-567812345678"]
    text = book.text()
    assert "novelbin" not in text and "n/o/v/e/l" not in text and "Tap the screen" not in text
    assert book.paragraphs(0) == ["Source: https://example.org/novel"]
    assert book.files["EPUB/images/cover.png"] == image_bytes((120, 30, 30))
    figure = book.chapter(2).find(".//x:figure/x:img", NS)
    assert (figure.get("alt"), book.files["EPUB/images/chapter-0003-1.png"]) == ("The drowned bell", image_bytes((30, 30, 120)))
    assert book.paragraphs(1) == ["The road ran on toward the Ferry.", "She walked slowly past the old mill."]
    assert_valid(book.path)


def test_our_own_book_goes_round_trip_with_the_same_chapters(tmp_path: Path) -> None:
    sample = REPO / "input" / "the-lantern-keeper"
    first = OpenedEpub(build(sample, load_config(sample), tmp_path / "first.epub").path)
    again = OpenedEpub(build(first.path, BookConfig(), tmp_path / "again.epub").path)
    assert again.nav_labels() == first.nav_labels()
    assert again.metadata("dc:title") == first.metadata("dc:title")
    assert again.metadata("dc:contributor") == ["Mo Lin"]
    assert [again.paragraphs(i) for i in range(8)] == [first.paragraphs(i) for i in range(8)]


def test_a_file_named_epub_that_is_not_one_is_an_error_naming_it(tmp_path: Path) -> None:
    bad = tmp_path / "broken.epub"
    bad.write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(InputError, match="broken.epub: not a readable EPUB"):
        build(bad, BookConfig(), tmp_path / "out.epub")
