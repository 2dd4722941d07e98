"""Read an EPUB made by another tool as input: its chapters in spine order, its metadata, its cover.

Each content document goes through the same HTML-to-lines conversion as saved pages; the
navigation document, cover and title pages are left out, and the table of contents gives a
chapter its title when the document has no heading line.
"""

from __future__ import annotations

import posixpath
import zipfile
from urllib.parse import unquote
from pathlib import Path

import ebooklib
from bs4 import BeautifulSoup, Tag
from ebooklib import epub
from lxml import etree

from epubgen.errors import InputError
from epubgen.marks import image_index
from epubgen.model import Line, SourceChapter, SourceMetadata, SourceSet
from epubgen.read.decode import decode
from epubgen.read.html import ImageLoader, Page, block_lines, image_collector, parse_markup

_NOT_TEXT = ["script", "style", "nav", "noscript", "iframe", "object", "embed", "form", "svg"]
_NOTE_TYPES = {"footnote", "endnote", "rearnote", "note"}
_NOTE_ROLES = {"doc-footnote", "doc-endnote"}
_NOTES_SECTION_TYPES = {"footnotes", "endnotes", "rearnotes"}
_HEADINGS = ["h1", "h2", "h3", "h4", "h5", "h6"]


def read_epub_input(path: Path) -> SourceSet:
    book = _open(path)
    metadata = _metadata(book)
    titles = _toc_titles(book.toc)
    front = {metadata.title.casefold(), *(name.casefold() for name in metadata.authors + metadata.translators)}
    documents = [(item, _parse_document(item, path.name)) for item in _spine_documents(book)]
    notes, held_notes = _take_notes(documents)
    chapters, warnings = [], []
    for item, soup in documents:
        if soup is None or soup.body is None:
            continue
        _put_notes_back(soup, item.get_name(), notes)
        page = Page([])
        page.lines = block_lines(soup.body, image_collector(page, f"{path.name}:{item.get_name()}", _images_inside(book, item)))
        if not page.lines or _is_front_matter(page.lines, front) or _is_notes_document(soup, item.get_name() in held_notes) or _is_our_information_page(soup) or _is_cover_page(page, metadata):
            continue
        warnings += page.warnings
        chapters.append(
            SourceChapter(
                source=f"{path.name}:{item.get_name()}",
                lines=tuple(Line(number, line) for number, line in enumerate(page.lines, 1)),
                title_hint=titles.get(item.get_name(), ""),
                images=tuple(page.images),
            )
        )
    if not chapters:
        raise InputError(f"{path.name}: no chapter text in this EPUB")
    return SourceSet(
        chapters=tuple(chapters),
        named_in_sequence=True,
        newest_mtime=int(path.stat().st_mtime),
        warnings=tuple(warnings),
        notices=(f"{path.name}: {len(chapters)} chapters read from the EPUB's spine",),
        metadata=metadata,
    )


def _images_inside(book: epub.EpubBook, document: epub.EpubHtml) -> ImageLoader:
    """Load <img> sources from the EPUB itself, relative to the document that shows them."""

    def load(source: str) -> bytes | str:
        href = posixpath.normpath(posixpath.join(posixpath.dirname(document.get_name()), unquote(source.split("#")[0])))
        item = book.get_item_with_href(href)
        return item.get_content() if item is not None else f"image {source[:80]} is not in the EPUB, left out"

    return load


def _is_cover_page(page: Page, metadata: SourceMetadata) -> bool:
    """A page showing nothing but the cover image: the cover is kept as the cover, not as a chapter."""
    return all(image_index(line) is not None for line in page.lines) and all(image.data == metadata.cover for image in page.images)


def _open(path: Path) -> epub.EpubBook:
    try:
        return epub.read_epub(str(path), {"ignore_ncx": True})
    except (zipfile.BadZipFile, KeyError, etree.LxmlError, epub.EpubException, IndexError, AttributeError) as error:
        raise InputError(f"{path.name}: not a readable EPUB ({type(error).__name__}: {error})") from None


def _spine_documents(book: epub.EpubBook) -> list[epub.EpubHtml]:
    documents = []
    for idref, _linear in book.spine:
        item = book.get_item_with_id(idref)
        if item is None or item.get_type() != ebooklib.ITEM_DOCUMENT or isinstance(item, epub.EpubNav):
            continue
        if "nav" in getattr(item, "properties", []):
            continue
        documents.append(item)
    return documents


def _parse_document(item: epub.EpubHtml, epub_name: str) -> BeautifulSoup | None:
    try:
        text = decode(item.get_content(), f"{epub_name}:{item.get_name()}").text
    except InputError:
        return None
    soup = parse_markup(text)
    for element in soup.find_all(_NOT_TEXT):
        element.decompose()
    return soup


def _take_notes(documents: list[tuple[epub.EpubHtml, BeautifulSoup | None]]) -> tuple[dict[str, str], set[str]]:
    """Take the footnotes and endnotes out of every document: `doc.xhtml#id` -> `(TL: text)`, and the
    names of the documents they came from.

    A note is an element marked as one (`epub:type`, `role`), or an entry of a list of notes. Put
    back inline where their references stand, the notes stage finds them again, so a book made with
    footnotes or endnotes can be rebuilt in any notes mode.
    """
    notes: dict[str, str] = {}
    held: set[str] = set()
    for item, soup in documents:
        if soup is None:
            continue
        for note in soup.find_all(_is_note):
            kind = note.find(class_="note-kind")
            label = kind.get_text().strip().rstrip(":") if kind is not None else "TL"
            for furniture in note.find_all(class_=["note-kind", "note-number"]) + note.find_all("a", role="doc-backlink"):
                furniture.decompose()
            notes[f"{item.get_name()}#{note['id']}"] = f"({label}: {' '.join(note.get_text(' ').split())})"
            note.decompose()
            held.add(item.get_name())
    return notes, held


def _is_note(element: Tag) -> bool:
    if not element.get("id"):
        return False
    marked = _NOTE_TYPES.intersection(element.get("epub:type", "").split()) or element.get("role") in _NOTE_ROLES
    return bool(marked) or (element.name == "li" and element.find_parent(_is_notes_section) is not None)


def _is_notes_section(element: Tag) -> bool:
    return bool(_NOTES_SECTION_TYPES.intersection(element.get("epub:type", "").split())) or element.get("role") == "doc-endnotes"


def _put_notes_back(soup: BeautifulSoup, name: str, notes: dict[str, str]) -> None:
    for reference in soup.find_all("a"):
        if "noteref" not in reference.get("epub:type", "") and reference.get("role") != "doc-noteref":
            continue
        target, _, anchor = reference.get("href", "").partition("#")
        key = f"{posixpath.normpath(posixpath.join(posixpath.dirname(name), target)) if target else name}#{anchor}"
        reference.replace_with(f" {notes[key]}" if key in notes else "")


def _is_notes_document(soup: BeautifulSoup, held_notes: bool) -> bool:
    """The notes document of a book made with endnotes: it held notes, or a section marked as notes,
    and once they are out nothing with text is left but headings."""
    body = soup.body
    if not held_notes and body.find(_is_notes_section) is None:
        return False
    return all(not text.strip() or text.find_parent(_HEADINGS) is not None for text in body.find_all(string=True))


def _is_our_information_page(soup: BeautifulSoup) -> bool:
    """The "About this book" page epubgen writes: made again when the book is rebuilt."""
    return soup.body.find("section", class_="information", attrs={"epub:type": "colophon"}) is not None


def _is_front_matter(lines: list[str], front: set[str]) -> bool:
    """A title page: nothing but the title, the names, and `by …`/`Translated by …` lines."""
    return all(
        line.casefold() in front or line.casefold().startswith(("by ", "translated by ", "written by ")) for line in lines
    )


def _toc_titles(toc: list) -> dict[str, str]:
    """Document name -> its title in the table of contents (the first entry pointing into it)."""
    titles: dict[str, str] = {}
    for entry in toc:
        if isinstance(entry, tuple):
            section, children = entry
            titles.update({k: v for k, v in _toc_titles([section, *children]).items() if k not in titles})
        elif getattr(entry, "href", None):
            titles.setdefault(posixpath.normpath(entry.href.split("#")[0]), entry.title or "")
    return titles


def _metadata(book: epub.EpubBook) -> SourceMetadata:
    roles = {
        attributes.get("refines", "").lstrip("#"): value
        for value, attributes in book.get_metadata("OPF", "meta")
        if attributes.get("property") == "role" and value
    }

    def values(name: str) -> tuple[str, ...]:
        return tuple(value.strip() for value, _ in book.get_metadata("DC", name) if value and value.strip())

    def people(name: str, role: str) -> tuple[str, ...]:
        return tuple(
            value.strip()
            for value, attributes in book.get_metadata("DC", name)
            if value and roles.get(attributes.get("id", ""), role) == role
        )

    return SourceMetadata(
        title=next(iter(values("title")), ""),
        authors=people("creator", "aut"),
        translators=people("contributor", "trl") if roles else (),
        language=next(iter(values("language")), ""),
        description=next(iter(values("description")), ""),
        publisher=next(iter(values("publisher")), ""),
        subjects=values("subject"),
        identifier=next(iter(values("identifier")), ""),
        cover=_cover(book),
    )


def _cover(book: epub.EpubBook) -> bytes | None:
    for item in book.get_items():
        if item.get_type() == ebooklib.ITEM_COVER:
            return item.get_content()
    cover_ids = [attributes.get("content") for _, attributes in book.get_metadata("OPF", "cover")]
    for cover_id in cover_ids:
        item = book.get_item_with_id(cover_id)
        if item is not None and item.get_type() == ebooklib.ITEM_IMAGE:
            return item.get_content()
    return None
