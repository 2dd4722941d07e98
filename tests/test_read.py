"""Reading inputs: file order, one-file series, decoding and the XML-safe text it yields."""

from __future__ import annotations

import codecs
from pathlib import Path

import pytest

from conftest import write_chapters
from epubgen.errors import InputError
from epubgen.read import read_input
from epubgen.read.decode import decode, sanitize
from epubgen.read.text import natural_key


def test_natural_order_compares_numbers_as_numbers() -> None:
    names = ["ch10.txt", "ch2.txt", "ch1.txt", "0010.txt", "0009.txt", "Ch3.txt"]
    assert sorted(names, key=natural_key) == ["0009.txt", "0010.txt", "ch1.txt", "ch2.txt", "Ch3.txt", "ch10.txt"]


def test_a_folder_is_read_in_natural_file_order_skipping_hidden_and_other_files(tmp_path: Path) -> None:
    folder = write_chapters(tmp_path, {"ch10.txt": "ten", "ch2.txt": "two", ".ch1.txt": "hidden", "notes.md": "no", "book.toml": ""})
    sources = read_input(folder)
    assert [chapter.source for chapter in sources.chapters] == ["ch2.txt", "ch10.txt"]
    assert sources.named_in_sequence


@pytest.mark.parametrize(
    ("names", "in_sequence"),
    [
        (["ch1.txt", "ch2.txt"], True),
        (["intro.txt", "ch2.txt"], False),
        (["a.txt", "b.txt"], False),
        (["v1-01.txt", "v1-02.txt", "v2-01.txt"], True),
    ],
)
def test_file_names_carry_a_sequence_only_when_each_has_distinct_numbers(tmp_path: Path, names: list[str], in_sequence: bool) -> None:
    folder = write_chapters(tmp_path, {name: "Text." for name in names})
    assert read_input(folder).named_in_sequence is in_sequence


def test_one_file_with_many_headings_is_split_into_chapters(tmp_path: Path) -> None:
    text = "A synopsis line.\n\nChapter 1: One\n\nFirst.\n\nChapter 2: Two\n\nSecond.\nChapter 3 of the statutes is not a heading.\n"
    path = tmp_path / "series.txt"
    path.write_text(text, encoding="utf-8")
    sources = read_input(path)
    chapters = sources.chapters
    assert [chapter.source for chapter in chapters] == ["series.txt #1", "series.txt #2"]
    assert [line.text for line in sources.front_matter.lines if line.text] == ["A synopsis line."]
    assert [line.text for line in chapters[1].lines if line.text] == [
        "Chapter 2: Two",
        "Second.",
        "Chapter 3 of the statutes is not a heading.",
    ]
    assert chapters[1].lines[0].number == 7


def test_one_file_with_one_heading_is_one_chapter(tmp_path: Path) -> None:
    path = tmp_path / "one.txt"
    path.write_text("Novel Title\n\nChapter 1: One\n\nText.\n", encoding="utf-8")
    chapters = read_input(path).chapters
    assert len(chapters) == 1
    assert chapters[0].lines[0].text == "Novel Title"


@pytest.mark.parametrize(
    "data",
    [
        codecs.BOM_UTF8 + "Caf\u00e9 \u201cquoted\u201d".encode(),
        "Caf\u00e9 \u201cquoted\u201d".encode(),
        codecs.BOM_UTF16_LE + "Caf\u00e9 \u201cquoted\u201d".encode("utf-16-le"),
        codecs.BOM_UTF16_BE + "Caf\u00e9 \u201cquoted\u201d".encode("utf-16-be"),
    ],
    ids=["utf-8 with BOM", "utf-8", "utf-16-le BOM", "utf-16-be BOM"],
)
def test_utf8_and_utf16_with_a_bom_decode(data: bytes) -> None:
    assert decode(data, "x.txt").text == "Caf\u00e9 \u201cquoted\u201d"


def test_newlines_are_normalised_and_text_composed_to_nfc() -> None:
    assert sanitize("one\r\ntwo\rthree\u2028four") == "one\ntwo\nthree\nfour"
    assert sanitize("Cafe\u0301") == "Caf\u00e9"


def test_characters_xml_forbids_are_dropped() -> None:
    assert sanitize("a\x00b\x07c\x1bd\x85e\ufffef\uffff\ud800g\U0010ffffh\tI") == "abcd\nefghI".replace("h", "h\t", 1)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "x.txt: the file is empty"),
        (b" \n\t\n", "x.txt: the file is empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10", "x.txt: this is a binary file, not text"),
    ],
)
def test_undecodable_input_is_an_error_naming_the_file(data: bytes, message: str) -> None:
    with pytest.raises(InputError, match=message):
        decode(data, "x.txt")


def test_bytes_that_are_not_in_the_given_encoding_are_an_error_naming_the_offset() -> None:
    with pytest.raises(InputError, match=r"x.txt: not valid utf-8 \(bad byte at offset 2\)"):
        decode("na\u00efve".encode("latin-1"), "x.txt", "utf-8")


def test_a_synopsis_before_the_first_chapter_of_a_one_file_series_becomes_the_description(tmp_path: Path) -> None:
    from epubgen.builder import make_book
    from epubgen.config import BookConfig

    text = (
        "The Lantern Keeper\nAuthor: Ash Vale\n\nSynopsis: A keeper of lanterns follows her grandmother's ledger to a drowned chapel.\n\n"
        "Chapter 1: One\n\nFirst.\n\nChapter 2: Two\n\nSecond.\n"
    )
    path = tmp_path / "series.txt"
    path.write_text(text, encoding="utf-8")
    book = make_book(path, BookConfig(title="The Lantern Keeper"))
    assert book.metadata.description == "A keeper of lanterns follows her grandmother's ledger to a drowned chapel."
    assert [chapter.heading.label for chapter in book.chapters] == ["Chapter 1: One", "Chapter 2: Two"]


def test_front_matter_of_only_junk_is_no_description_and_no_chapter(tmp_path: Path) -> None:
    from epubgen.builder import make_book
    from epubgen.config import BookConfig

    path = tmp_path / "series.txt"
    path.write_text("The Lantern Keeper\nby Ash\n\nChapter 1: One\n\nFirst.\n\nChapter 2: Two\n\nSecond.\n", encoding="utf-8")
    book = make_book(path, BookConfig(title="The Lantern Keeper"))
    assert book.metadata.description == ""
    assert len(book.chapters) == 2
    assert [(r.line, r.text, r.rule) for r in book.removals[:2]] == [
        (1, "The Lantern Keeper", "front-matter:junk"),
        (2, "by Ash", "front-matter:junk"),
    ]
