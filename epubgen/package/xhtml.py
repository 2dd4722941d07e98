"""Serialise chapters, the title page and the endnotes as XHTML content documents.

Documents are built as lxml trees, so every character of the text is escaped by the
serialiser, never by hand (`AT&T`, `<3`, `a < b` reach the reader as written).

Emphasis travels through the stages as marks in the text (epubgen.marks) and becomes <em> and
<strong> here. Notes use the markup reading systems act on (DESIGN.md): a footnote reference is
`<a epub:type="noteref" role="doc-noteref">`, its note an `<aside epub:type="footnote"
role="doc-footnote">` after the chapter's text with a link back. Ids are `note-<chapter>-<n>`
and `noteref-<chapter>-<n>`, so they stay unique when endnotes from every chapter share a document.
"""

from __future__ import annotations

import re
import time
from collections import Counter
from collections.abc import Sequence

from lxml import etree

from epubgen.marks import EM_CLOSE, EM_OPEN, MARKS, STRONG_CLOSE, STRONG_OPEN
from epubgen.model import Chapter, Metadata, Note, NoteRef, Paragraph, Picture

XHTML_NS = "http://www.w3.org/1999/xhtml"
EPUB_NS = "http://www.idpf.org/2007/ops"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
EPUB_TYPE = f"{{{EPUB_NS}}}type"

ENDNOTES_FILE = "notes.xhtml"
"""The endnotes document, in text/ beside the chapters."""
ENDNOTES_TITLE = "Notes"
BACKLINK = "\u21a9\ufe0e"
"""↩ with the text-style selector, so no reader draws it as a coloured emoji."""


def chapter_file(number: int) -> str:
    """The file name of the number-th chapter (from 1), in text/ beside the endnotes."""
    return f"chapter-{number:04d}.xhtml"


def chapter_document(chapter: Chapter, number: int, language: str, stylesheet_href: str) -> bytes:
    """The XHTML of the number-th chapter (from 1): its heading, its text, then its footnotes."""
    html, body = _document(chapter.heading.label, language, stylesheet_href)
    section = etree.SubElement(body, "section", {EPUB_TYPE: "chapter", "role": "doc-chapter"})
    etree.SubElement(section, "h2").text = chapter.heading.label
    notes = _ChapterNotes(chapter, number)
    for block in chapter.blocks:
        if isinstance(block, Paragraph):
            _paragraph(section, block, notes)
        elif isinstance(block, Picture):
            _picture(section, chapter, number, block.index)
        else:
            etree.SubElement(section, "hr", {"class": "scene-break"})
    for index in notes.numbered("footnote"):
        _numbered_note(section, notes, index, "footnote", f"#{notes.ref_id(index)}")
    return _serialise(html)


def illustration_file(chapter_number: int, index: int, extension: str) -> str:
    """The file of a chapter's index-th illustration (from 0), in images/ beside text/."""
    return f"images/chapter-{chapter_number:04d}-{index + 1}.{extension}"


def _picture(section: etree._Element, chapter: Chapter, number: int, index: int) -> None:
    image = chapter.images[index]
    figure = etree.SubElement(section, "figure", {"class": "illustration"})
    source = f"../{illustration_file(number, index, image.extension)}"
    etree.SubElement(figure, "img", {"src": source, "alt": image.alt or f"Illustration {index + 1} of {chapter.heading.label}"})


def has_endnotes(chapters: Sequence[Chapter]) -> bool:
    return any(note.mode == "endnote" for chapter in chapters for note in chapter.notes)


def endnotes_document(chapters: Sequence[Chapter], language: str, stylesheet_href: str) -> bytes:
    """The Notes section at the end of the book: each chapter's endnotes under its title, linked both ways.

    Entries are `<aside epub:type="endnote">` with no role: `doc-endnote` is deprecated (EPUBCheck
    5.3 warns about it on `<li>`) and not allowed on `<aside>` at all (an error).
    """
    html, body = _document(ENDNOTES_TITLE, language, stylesheet_href)
    section = etree.SubElement(body, "section", {EPUB_TYPE: "endnotes", "role": "doc-endnotes"})
    etree.SubElement(section, "h2").text = ENDNOTES_TITLE
    for number, chapter in enumerate(chapters, 1):
        notes = _ChapterNotes(chapter, number)
        if notes.numbered("endnote"):
            group = etree.SubElement(section, "section", {"class": "chapter-notes"})
            etree.SubElement(group, "h3").text = chapter.heading.label
            for index in notes.numbered("endnote"):
                _numbered_note(group, notes, index, "endnote", f"{chapter_file(number)}#{notes.ref_id(index)}")
    return _serialise(html)


def cover_page_document(metadata: Metadata, image_href: str, stylesheet_href: str) -> bytes:
    """A page showing the cover image, with alt text naming the book."""
    html, body = _document("Cover", metadata.language, stylesheet_href)
    section = etree.SubElement(body, "section", {EPUB_TYPE: "cover", "class": "cover"})
    etree.SubElement(section, "img", {"src": image_href, "alt": f"Cover of {metadata.title}", "class": "cover-image"})
    return _serialise(html)


def information_page_document(metadata: Metadata, chapters: Sequence[Chapter], stylesheet_href: str) -> bytes:
    """Where the book came from and who made it: source, original title, credits, chapters, date."""
    html, body = _document("About this book", metadata.language, stylesheet_href)
    section = etree.SubElement(body, "section", {EPUB_TYPE: "colophon", "role": "doc-colophon", "class": "information"})
    etree.SubElement(section, "h2").text = "About this book"
    facts = etree.SubElement(section, "dl")
    for term, value in _information(metadata, chapters):
        etree.SubElement(facts, "dt").text = term
        etree.SubElement(facts, "dd").text = value
    return _serialise(html)


def _information(metadata: Metadata, chapters: Sequence[Chapter]) -> list[tuple[str, str]]:
    editors = tuple(name for role, name in metadata.contributors if role == "edt")
    numbers = [int(c.heading.number) for c in chapters if c.heading.kind == "chapter" and c.heading.number is not None]
    facts = [
        ("Original title", metadata.original_title),
        ("Author", _join_names(metadata.authors)),
        ("Translator", _join_names(metadata.translators)),
        ("Editor", _join_names(editors)),
        ("Source", metadata.source),
        ("Chapters", f"{min(numbers)}–{max(numbers)} ({len(chapters)} in this book)" if numbers else str(len(chapters))),
        ("Text as of", time.strftime("%Y-%m-%d", time.gmtime(metadata.modified))),
    ]
    return [(term, value) for term, value in facts if value]


def title_page_document(metadata: Metadata, stylesheet_href: str) -> bytes:
    html, body = _document(metadata.title, metadata.language, stylesheet_href)
    section = etree.SubElement(body, "section", {EPUB_TYPE: "titlepage", "class": "titlepage"})
    etree.SubElement(section, "h1").text = metadata.title
    if metadata.authors:
        etree.SubElement(section, "p", {"class": "author"}).text = _join_names(metadata.authors)
    if metadata.translators:
        translated = etree.SubElement(section, "p", {"class": "translator"})
        translated.text = f"Translated by {_join_names(metadata.translators)}"
    editors = tuple(name for role, name in metadata.contributors if role == "edt")
    if editors:
        etree.SubElement(section, "p", {"class": "editor"}).text = f"Edited by {_join_names(editors)}"
    return _serialise(html)


class _ChapterNotes:
    """The numbers, ids and links of one chapter's notes, the same in its document and in the endnotes.

    Footnotes and endnotes are numbered together, in reading order (the notes stage orders
    Chapter.notes so); inline notes carry no number.
    """

    def __init__(self, chapter: Chapter, number: int):
        self.notes = chapter.notes
        self.chapter_number = number
        numbered = [index for index, note in enumerate(self.notes) if note.mode in ("footnote", "endnote")]
        self.numbers = {index: position for position, index in enumerate(numbered, 1)}
        self.refs_written: Counter[int] = Counter()

    def numbered(self, mode: str) -> list[int]:
        return [index for index in self.numbers if self.notes[index].mode == mode]

    def note_id(self, index: int) -> str:
        return f"note-{self.chapter_number}-{self.numbers[index]}"

    def ref_id(self, index: int, occurrence: int = 1) -> str:
        """The id of a reference to the note; a note several markers point to has one per marker."""
        base = f"noteref-{self.chapter_number}-{self.numbers[index]}"
        return base if occurrence == 1 else f"{base}-{occurrence}"

    def next_ref_id(self, index: int) -> str:
        self.refs_written[index] += 1
        return self.ref_id(index, self.refs_written[index])

    def note_href(self, index: int) -> str:
        where = "" if self.notes[index].mode == "footnote" else ENDNOTES_FILE
        return f"{where}#{self.note_id(index)}"


def _paragraph(parent: etree._Element, paragraph: Paragraph, notes: _ChapterNotes) -> None:
    """A paragraph of text and note references; one that holds nothing but inline notes is those notes."""
    refs = [span for span in paragraph.spans if isinstance(span, NoteRef)]
    if refs and not paragraph.text.strip() and all(notes.notes[ref.index].mode == "inline" for ref in refs):
        for ref in refs:
            aside = etree.SubElement(parent, "aside", {"class": _note_class(notes.notes[ref.index]), "role": "note"})
            _note_paragraphs(aside, notes.notes[ref.index], "", None)
        return
    inline = _Inline(etree.SubElement(parent, "p"))
    for span in paragraph.spans:
        if isinstance(span, str):
            inline.text(span)
        elif notes.notes[span.index].mode == "inline":
            _inline_note(inline, notes.notes[span.index])
        else:
            reference = {"href": notes.note_href(span.index), "id": notes.next_ref_id(span.index)}
            inline.element("a", {**reference, EPUB_TYPE: "noteref", "role": "doc-noteref"}).text = str(notes.numbers[span.index])


def _inline_note(inline: _Inline, note: Note) -> None:
    """A note left in the sentence: `(TL: words)`, styled as a note."""
    words = _Inline(inline.element("span", {"class": _note_class(note)}))
    words.text("(")
    words.element("span", {"class": "note-kind"}).text = f"{note.kind}:"
    for position, paragraph in enumerate(note.text.split("\n")):
        if position:
            words.element("br")
        words.text(f" {paragraph}" if position == 0 else paragraph)
    words.text(")")


def _numbered_note(parent: etree._Element, notes: _ChapterNotes, index: int, kind: str, backlink: str) -> None:
    """A footnote or an endnote: its number and kind, its words, a link back to its first reference."""
    note = notes.notes[index]
    attributes = {"id": notes.note_id(index), EPUB_TYPE: kind, "class": _note_class(note)}
    if kind == "footnote":
        attributes["role"] = "doc-footnote"
    aside = etree.SubElement(parent, "aside", attributes)
    _note_paragraphs(aside, note, f"{notes.numbers[index]}.", backlink)


def _note_paragraphs(aside: etree._Element, note: Note, number: str, backlink: str | None) -> None:
    """The note's paragraphs; the first opens with its number and kind, the last ends with the link back."""
    paragraphs = note.text.split("\n")
    for position, words in enumerate(paragraphs):
        inline = _Inline(etree.SubElement(aside, "p"))
        if position == 0:
            if number:
                inline.element("span", {"class": "note-number"}).text = number
                inline.text(" ")
            inline.element("span", {"class": "note-kind"}).text = f"{note.kind}:"
            words = f" {words}"
        inline.text(words)
        if backlink is not None and position == len(paragraphs) - 1:
            inline.text(" ")
            inline.element("a", {"href": backlink, "role": "doc-backlink"}).text = BACKLINK


def _note_class(note: Note) -> str:
    return f"note note-{note.kind.lower()}"


class _Inline:
    """Writes a block's inline content: text, whose emphasis marks (epubgen.marks) become <em> and
    <strong>, and elements, which go inside whatever emphasis is open (a note reference in an
    emphasised phrase stays in it). A mark closing nothing open is ignored; emphasis left open
    ends with the block."""

    def __init__(self, block: etree._Element):
        self._open = [block]

    def text(self, text: str) -> None:
        for piece in _MARK.split(text):
            if piece in _OPENING_MARKS:
                self._open.append(etree.SubElement(self._open[-1], _OPENING_MARKS[piece]))
            elif piece in _CLOSING_MARKS:
                if len(self._open) > 1 and self._open[-1].tag == _CLOSING_MARKS[piece]:
                    self._open.pop()
            elif piece:
                _append_text(self._open[-1], piece)

    def element(self, tag: str, attributes: dict[str, str] | None = None) -> etree._Element:
        return etree.SubElement(self._open[-1], tag, attributes or {})


_OPENING_MARKS = {EM_OPEN: "em", STRONG_OPEN: "strong"}
_CLOSING_MARKS = {EM_CLOSE: "em", STRONG_CLOSE: "strong"}
_MARK = re.compile(f"([{MARKS}])")


def _append_text(element: etree._Element, text: str) -> None:
    """Add text after whatever the element holds so far: its text, or its last child's tail."""
    if len(element):
        element[-1].tail = (element[-1].tail or "") + text
    else:
        element.text = (element.text or "") + text


def _document(title: str, language: str, stylesheet_href: str) -> tuple[etree._Element, etree._Element]:
    html = etree.Element(f"{{{XHTML_NS}}}html", {"lang": language, XML_LANG: language}, nsmap={None: XHTML_NS, "epub": EPUB_NS})
    head = etree.SubElement(html, "head")
    etree.SubElement(head, "meta", {"charset": "utf-8"})
    etree.SubElement(head, "title").text = title
    etree.SubElement(head, "link", {"rel": "stylesheet", "type": "text/css", "href": stylesheet_href})
    body = etree.SubElement(html, "body")
    return html, body


def _serialise(html: etree._Element) -> bytes:
    return etree.tostring(html, xml_declaration=True, encoding="utf-8", doctype="<!DOCTYPE html>")


def _join_names(names: tuple[str, ...]) -> str:
    if len(names) <= 2:
        return " and ".join(names)
    return ", ".join(names[:-1]) + f" and {names[-1]}"
