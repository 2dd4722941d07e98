"""What a new user trips over in notes (issue 18, items 9 and 10): footnote markers that survive
without our stylesheet, note markup reading apps pop up, and an opening or closing note paragraph
shown where it stood as a link named for its kind instead of hung on a sentence it is not about."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from lxml import etree

from conftest import NS, OpenedEpub, assert_valid, write_chapters
from epubgen.builder import build
from epubgen.config import BookConfig, NotesConfig
from epubgen.model import Line, SourceChapter
from epubgen.notes import extract_notes
from epubgen.package.xhtml import chapter_document
from epubgen.structure import structure_chapter
from test_accessibility import ace_available, ace_findings  # noqa: F401  (ace_available is a fixture)

EPUB_TYPE = f"{{{NS['epub']}}}type"
STYLESHEET = Path(__file__).resolve().parent.parent / "styles" / "default.css"


def chapter_tree(text: str, mode: str = "footnote") -> etree._Element:
    """The chapter document the notes and structure stages and the XHTML writer make of text."""
    lines = tuple(Line(number, line) for number, line in enumerate(text.split("\n"), 1))
    noted, _ = extract_notes(SourceChapter("ch.txt", lines, ""), NotesConfig(mode))
    return etree.fromstring(chapter_document(structure_chapter(noted), 1, "en", "../style.css"))


def with_superscripts(element: etree._Element) -> str:
    """The element's text with what stands in a <sup> written as ^{…}: how a reader without our CSS sees it."""
    text = element.text or ""
    for child in element:
        inner = with_superscripts(child)
        text += f"^{{{inner}}}" if etree.QName(child).localname == "sup" else inner
        text += child.tail or ""
    return text


def blocks(section: etree._Element) -> list[tuple[str, str]]:
    """The section's children after its heading: each one's tag (with its class) and its text."""
    return [
        (etree.QName(child).localname + (f".{child.get('class')}" if child.get("class") else ""), with_superscripts(child))
        for child in section[1:]
    ]


def opening_element(note: etree._Element) -> etree._Element:
    """What a note opens with: the first element of its first paragraph, with no text before it."""
    paragraph = note[0]
    assert etree.QName(paragraph).localname == "p" and not paragraph.text
    return paragraph[0]


def target(tree: etree._Element, href: str) -> etree._Element:
    return tree.xpath("//*[@id=$id]", id=href.removeprefix("#"))[0]


# Item 9: footnote markers and note markup.


def test_a_footnote_marker_is_a_superscript_inside_the_reference() -> None:
    tree = chapter_tree("Chapter 1\n\nSenior Brother Han (TL: a title) bowed.")
    paragraph = tree.find(".//x:section/x:p", NS)
    assert with_superscripts(paragraph) == "Senior Brother Han^{1} bowed."
    ref = paragraph.find("x:a", NS)
    assert (ref.get(EPUB_TYPE), ref.get("role")) == ("noteref", "doc-noteref")
    assert [etree.QName(child).localname for child in ref] == ["sup"]


def test_a_footnote_opens_with_its_link_back_and_carries_its_type_and_role() -> None:
    tree = chapter_tree("Chapter 1\n\nSenior Brother Han (TL: a title\nof respect) bowed.")
    note = tree.find(".//x:aside", NS)
    assert (note.get(EPUB_TYPE), note.get("role")) == ("footnote", "doc-footnote")
    first = opening_element(note)
    assert (etree.QName(first).localname, first.get("role"), first.text) == ("a", "doc-backlink", "1.")
    assert target(tree, first.get("href")).get(EPUB_TYPE) == "noteref"
    assert ["".join(paragraph.itertext()) for paragraph in note] == ["1. TL: a title", "of respect"]


def test_the_stylesheet_raises_the_superscript_once() -> None:
    css = STYLESHEET.read_text(encoding="utf-8")
    raised = [selector.strip() for selector, body in re.findall(r"([^{}]+)\{([^}]*)\}", css) if "vertical-align: super" in body]
    assert raised and all(part.strip().endswith("sup") for selector in raised for part in selector.split(","))


# Item 10: a note paragraph opening or closing the chapter keeps its place.

WORDINGS = [
    ("Author's Note: Sorry for the delay!", "Author's note"),
    ("A/N: Sorry for the delay!", "Author's note"),
    ("AN: Sorry for the delay!", "Author's note"),
    ("Translator's note - Sorry for the delay!", "Translator's note"),
    ("T/N: Sorry for the delay!", "Translator's note"),
    ("(TL: Sorry for the delay!)", "Translator's note"),
    ("Editor's Note: Sorry for the delay!", "Editor's note"),
]
STORY = "Senior Brother Han bowed.\n\nHe left."


def assert_named_link(tree: etree._Element, paragraph: etree._Element, name: str) -> None:
    """The paragraph holds one link, named name, a real reference to the note holding the words."""
    assert with_superscripts(paragraph) == name
    (link,) = paragraph
    assert (link.get(EPUB_TYPE), link.get("role")) == ("noteref", "doc-noteref")
    note = target(tree, link.get("href"))
    assert (note.get(EPUB_TYPE), note.get("role")) == ("footnote", "doc-footnote")
    assert "Sorry for the delay!" in "".join(note.itertext())
    assert target(tree, note.find(".//x:a[@role='doc-backlink']", NS).get("href")) is link


@pytest.mark.parametrize(("note", "name"), WORDINGS)
def test_a_note_opening_the_chapter_is_a_link_named_for_its_kind_where_it_stood(note: str, name: str) -> None:
    tree = chapter_tree(f"Chapter 1\n\n{note}\n\n{STORY}")
    section = tree.find(".//x:section", NS)
    assert blocks(section)[:3] == [("p.note-link", name), ("p", "Senior Brother Han bowed."), ("p", "He left.")]
    assert_named_link(tree, section[1], name)


@pytest.mark.parametrize(("note", "name"), WORDINGS)
def test_a_note_closing_the_chapter_is_a_link_named_for_its_kind_where_it_stood(note: str, name: str) -> None:
    tree = chapter_tree(f"Chapter 1\n\n{STORY}\n\n{note}")
    section = tree.find(".//x:section", NS)
    assert blocks(section)[:3] == [("p", "Senior Brother Han bowed."), ("p", "He left."), ("p.note-link", name)]
    assert_named_link(tree, section[3], name)


def test_notes_in_the_story_still_hang_on_their_sentence() -> None:
    tree = chapter_tree("Chapter 1\n\nSenior Brother Han (TL: a title) bowed.\n(A/N: a hard scene)\nHe left.")
    assert blocks(tree.find(".//x:section", NS))[:2] == [("p", "Senior Brother Han^{1} bowed.^{2}"), ("p", "He left.")]


@pytest.mark.parametrize(
    ("mode", "expected"),
    [
        ("endnote", [("p.note-link", "Author's note"), ("p", "She woke."), ("p.note-link", "Translator's note")]),
        ("inline", [("aside.note note-an", "AN: Sorry!"), ("p", "She woke."), ("aside.note note-tl", "TL: Bye!")]),
        ("drop", [("p", "She woke.")]),
    ],
)
def test_every_notes_mode_keeps_an_opening_and_a_closing_note_in_its_place(mode: str, expected: list[tuple[str, str]]) -> None:
    tree = chapter_tree("Chapter 1\n\nA/N: Sorry!\n\nShe woke.\n\nT/N: Bye!", mode)
    assert blocks(tree.find(".//x:section", NS)) == expected
    if mode == "endnote":
        assert [link.get("href") for link in tree.iterfind(".//x:p[@class='note-link']/x:a", NS)] == [
            "notes.xhtml#note-1-1", "notes.xhtml#note-1-2",
        ]  # fmt: skip


# One book of every form, checked by EPUBCheck and DAISY Ace.

BOOK = {
    "1.txt": "Chapter 1: Han\n\nAuthor's Note: Sorry for the delay!\n\nSenior Brother Han (TL: a title) bowed.\n"
    "The elder (ED: fixed) nodded.\n\n(TL: the end)\n",
    "2.txt": "Chapter 2: Markers\n\nThe cake[1] was sweet.\n\nTL Notes:\n[1] A pastry.\nBaked at dawn.\n\nA/N: Bye!\n",
}


@pytest.fixture(scope="module")
def book(tmp_path_factory: pytest.TempPathFactory) -> OpenedEpub:
    folder = write_chapters(tmp_path_factory.mktemp("first-run") / "chapters", BOOK)
    config = BookConfig(title="Notes", notes=NotesConfig("footnote", by_kind=(("ED", "endnote"),)))
    return OpenedEpub(build(folder, config, tmp_path_factory.mktemp("out") / "book.epub").path)


def test_every_document_declares_the_epub_namespace(book: OpenedEpub) -> None:
    documents = [name for name in book.names if name.endswith(".xhtml")]
    assert all(b'xmlns:epub="http://www.idpf.org/2007/ops"' in book.files[name] for name in documents), documents


def test_endnotes_are_list_items_opening_with_their_link_back(book: OpenedEpub) -> None:
    notes = book.xml("EPUB/text/notes.xhtml")
    section = notes.find(".//x:section[@role='doc-endnotes']", NS)
    (item,) = section.iterfind(".//x:ol/x:li", NS)
    assert item.get(EPUB_TYPE) == "endnote"
    first = opening_element(item)
    assert (first.get("role"), first.text, first.get("href")) == ("doc-backlink", "3.", "chapter-0001.xhtml#noteref-1-3")


def test_the_book_is_valid_and_its_references_are_superscripts(book: OpenedEpub) -> None:
    paragraphs = [with_superscripts(p) for p in book.chapter(0).iterfind(".//x:section/x:p", NS)]
    assert paragraphs == ["Author's note", "Senior Brother Han^{2} bowed.", "The elder^{3} nodded.", "Translator's note"]
    assert_valid(book.path)


def test_ace_reports_nothing_for_the_book(ace_available: None, book: OpenedEpub, tmp_path: Path) -> None:  # noqa: F811
    assert ace_findings(book.path, tmp_path / "ace") == []
