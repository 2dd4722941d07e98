"""Serialise chapters, the title page and the endnotes as XHTML content documents.

Documents are written as text (_Document), every character of their text escaped as lxml's
serialiser escapes it, never left raw (`AT&T`, `<3`, `a < b` reach the reader as written), and
text XML cannot hold (a NUL, a control character, U+FFFE) refused with the ValueError lxml
raises. tests/test_xhtml.py builds the same documents as lxml trees: the bytes must be equal.

Emphasis travels through the stages as marks in the text (epubgen.marks) and becomes <em> and
<strong> here. Notes use the markup reading apps pop up: a footnote reference is `<a
epub:type="noteref" role="doc-noteref"><sup>1</sup></a>` (a superscript without any stylesheet),
its note an `<aside epub:type="footnote" role="doc-footnote">` after the chapter's text that opens
with a link back showing its number, as Kindle looks for. A note that had a paragraph of its own
before or after the story is a paragraph holding a reference named for its kind (`Author's note`).
Ids are `note-<chapter>-<n>` and `noteref-<chapter>-<n>`, so they stay unique when endnotes from
every chapter share a document.

Speed: a document keeps its text apart from its markup until it is done, then escapes all of
it at once, in UTF-8, with a few bytes.replace over the whole chapter instead of work per
paragraph; runs of paragraphs of one text without marks are written without looking for marks
piece by piece. 3,000 chapters (183,000 paragraphs): 0.22 s, against 0.80 s as lxml trees.
"""

from __future__ import annotations

import re
import time
from collections import Counter
from collections.abc import Sequence
from itertools import groupby

from epubgen.marks import EM_CLOSE, EM_OPEN, MARKS, STRONG_CLOSE, STRONG_OPEN, strip_marks
from epubgen.model import Block, Chapter, Metadata, Note, NoteRef, Paragraph, Picture

XHTML_NS = "http://www.w3.org/1999/xhtml"
EPUB_NS = "http://www.idpf.org/2007/ops"

ENDNOTES_FILE = "notes.xhtml"
"""The endnotes document, in text/ beside the chapters."""
ENDNOTES_TITLE = "Notes"
NOTE_NAMES = {"TL": "Translator's note", "ED": "Editor's note", "PR": "Proofreader's note", "AN": "Author's note"}
"""What the reference of a note standing on its own is named, by the kind of the note (`Note` for any other)."""


def chapter_file(number: int) -> str:
    """The file name of the number-th chapter (from 1), in text/ beside the endnotes."""
    return f"chapter-{number:04d}.xhtml"


def chapter_document(chapter: Chapter, number: int, language: str, stylesheet_hrefs: Sequence[str]) -> bytes:
    """The XHTML of the number-th chapter (from 1): its heading, its text, then its footnotes."""
    document = _Document(chapter.heading.label, language, stylesheet_hrefs)
    document.start("section", {"epub:type": "chapter", "role": "doc-chapter"})
    document.element("h2", text=chapter.heading.label)
    notes = _ChapterNotes(chapter, number)
    for plain, blocks in groupby(chapter.blocks, _is_plain):
        if plain:
            document.paragraphs([block.spans[0] for block in blocks])
            continue
        for block in blocks:
            if isinstance(block, Paragraph):
                _paragraph(document, block, notes)
            elif isinstance(block, Picture):
                _picture(document, chapter, number, block.index)
            else:
                document.element("hr", {"class": "scene-break"})
    for index in notes.numbered("footnote"):
        _numbered_note(document, notes, index, "footnote", f"#{notes.ref_id(index)}")
    document.end("section")
    return document.finished()


def illustration_file(chapter_number: int, index: int, extension: str) -> str:
    """The file of a chapter's index-th illustration (from 0), in images/ beside text/."""
    return f"images/chapter-{chapter_number:04d}-{index + 1}.{extension}"


def _picture(document: _Document, chapter: Chapter, number: int, index: int) -> None:
    image = chapter.images[index]
    document.start("figure", {"class": "illustration"})
    source = f"../{illustration_file(number, index, image.extension)}"
    document.element("img", {"src": source, "alt": image.alt or f"Illustration {index + 1} of {chapter.heading.label}"})
    document.end("figure")


def has_endnotes(chapters: Sequence[Chapter]) -> bool:
    return any(note.mode == "endnote" for chapter in chapters for note in chapter.notes)


def endnotes_document(chapters: Sequence[Chapter], language: str, stylesheet_hrefs: Sequence[str]) -> bytes:
    """The Notes section at the end of the book: each chapter's endnotes under its title, linked both ways.

    Entries are `<li epub:type="endnote">` of a list, as DPUB-ARIA 1.1 asks of a doc-endnotes
    section, with no role of their own: `doc-endnote` is deprecated (EPUBCheck 5.3 warns about it
    on `<li>`) and not allowed on `<aside>` at all (an error).
    """
    document = _Document(ENDNOTES_TITLE, language, stylesheet_hrefs)
    document.start("section", {"epub:type": "endnotes", "role": "doc-endnotes"})
    document.element("h2", text=ENDNOTES_TITLE)
    for number, chapter in enumerate(chapters, 1):
        notes = _ChapterNotes(chapter, number)
        if notes.numbered("endnote"):
            document.start("section", {"class": "chapter-notes"})
            document.element("h3", text=chapter.heading.label)
            document.start("ol", {"class": "notes"})
            for index in notes.numbered("endnote"):
                _numbered_note(document, notes, index, "endnote", f"{chapter_file(number)}#{notes.ref_id(index)}")
            document.end("ol")
            document.end("section")
    document.end("section")
    return document.finished()


def cover_page_document(metadata: Metadata, image_href: str, stylesheet_hrefs: Sequence[str]) -> bytes:
    """A page showing the cover image, with alt text naming the book."""
    document = _Document("Cover", metadata.language, stylesheet_hrefs)
    document.start("section", {"epub:type": "cover", "class": "cover"})
    document.element("img", {"src": image_href, "alt": f"Cover of {metadata.title}", "class": "cover-image"})
    document.end("section")
    return document.finished()


def information_page_document(metadata: Metadata, chapters: Sequence[Chapter], stylesheet_hrefs: Sequence[str]) -> bytes:
    """Where the book came from and who made it: source, original title, credits, chapters, date."""
    document = _Document("About this book", metadata.language, stylesheet_hrefs)
    document.start("section", {"epub:type": "colophon", "role": "doc-colophon", "class": "information"})
    document.element("h2", text="About this book")
    document.start("dl")
    for term, value in _information(metadata, chapters):
        document.element("dt", text=term)
        document.element("dd", text=value)
    document.end("dl")
    document.end("section")
    return document.finished()


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


def title_page_document(metadata: Metadata, stylesheet_hrefs: Sequence[str]) -> bytes:
    document = _Document(metadata.title, metadata.language, stylesheet_hrefs)
    document.start("section", {"epub:type": "titlepage", "class": "titlepage"})
    document.element("h1", text=metadata.title)
    if metadata.authors:
        document.element("p", {"class": "author"}, _join_names(metadata.authors))
    if metadata.translators:
        document.element("p", {"class": "translator"}, f"Translated by {_join_names(metadata.translators)}")
    editors = tuple(name for role, name in metadata.contributors if role == "edt")
    if editors:
        document.element("p", {"class": "editor"}, f"Edited by {_join_names(editors)}")
    document.end("section")
    return document.finished()


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


def _paragraph(document: _Document, paragraph: Paragraph, notes: _ChapterNotes) -> None:
    """A paragraph of text and note references. One that holds nothing but references is the notes
    that had a paragraph of their own there: an inline note as an aside, any other as a paragraph
    holding its reference named for its kind."""
    refs = [span for span in paragraph.spans if isinstance(span, NoteRef)]
    if refs and not paragraph.text.strip():
        for ref in refs:
            if notes.notes[ref.index].mode == "inline":
                document.start("aside", {"class": _note_class(notes.notes[ref.index]), "role": "note"})
                _note_paragraphs(document, notes.notes[ref.index])
                document.end("aside")
            else:
                document.start("p", {"class": "note-link"})
                _reference(document, notes, ref.index, named=True)
                document.end("p")
        return
    inline = _Inline(document, "p")
    for span in paragraph.spans:
        if isinstance(span, str):
            inline.text(span)
        elif notes.notes[span.index].mode == "inline":
            _inline_note(document, notes.notes[span.index])
        else:
            _reference(document, notes, span.index)
    inline.end()


def _reference(document: _Document, notes: _ChapterNotes, index: int, named: bool = False) -> None:
    """A link to a footnote or an endnote: its number as a superscript, or the name of its kind."""
    attributes = {"href": notes.note_href(index), "id": notes.next_ref_id(index), "epub:type": "noteref", "role": "doc-noteref"}
    if named:
        document.element("a", attributes, NOTE_NAMES.get(notes.notes[index].kind, "Note"))
        return
    document.start("a", attributes)
    document.element("sup", text=str(notes.numbers[index]))
    document.end("a")


def _is_plain(block: Block) -> bool:
    """A paragraph of one text without marks, which _paragraph would write as `<p>text</p>`."""
    if type(block) is not Paragraph or len(block.spans) != 1:
        return False
    text = block.spans[0]
    if type(text) is not str or not text:
        return False
    return strip_marks(text) is text  # no emphasis marks: strip_marks gives the text itself


def _inline_note(document: _Document, note: Note) -> None:
    """A note left in the sentence: `(TL: words)`, styled as a note."""
    words = _Inline(document, "span", {"class": _note_class(note)})
    words.text("(")
    document.element("span", {"class": "note-kind"}, f"{note.kind}:")
    for position, paragraph in enumerate(note.text.split("\n")):
        if position:
            document.element("br")
        words.text(f" {paragraph}" if position == 0 else paragraph)
    words.text(")")
    words.end()


def _numbered_note(document: _Document, notes: _ChapterNotes, index: int, kind: str, backlink: str) -> None:
    """A footnote (an aside) or an endnote (an item of a list): a link back to its first reference
    showing its number, its kind, its words."""
    note = notes.notes[index]
    if kind == "footnote":
        tag, attributes = "aside", {"id": notes.note_id(index), "epub:type": kind, "role": "doc-footnote"}
    else:
        tag, attributes = "li", {"id": notes.note_id(index), "epub:type": kind}
    document.start(tag, {**attributes, "class": _note_class(note)})
    _note_paragraphs(document, note, f"{notes.numbers[index]}.", backlink)
    document.end(tag)


def _note_paragraphs(document: _Document, note: Note, number: str = "", backlink: str = "") -> None:
    """The note's paragraphs; the first opens with its kind, after its number linking back (if it has one)."""
    for position, words in enumerate(note.text.split("\n")):
        inline = _Inline(document, "p")
        if position == 0:
            if backlink:
                document.element("a", {"href": backlink, "role": "doc-backlink", "class": "note-number"}, number)
                inline.text(" ")
            document.element("span", {"class": "note-kind"}, f"{note.kind}:")
            words = f" {words}"
        inline.text(words)
        inline.end()


def _note_class(note: Note) -> str:
    return f"note note-{note.kind.lower()}"


class _Inline:
    """Writes a block's inline content: text, whose emphasis marks (epubgen.marks) become <em> and
    <strong>. Elements the caller writes meanwhile go inside whatever emphasis is open (a note
    reference in an emphasised phrase stays in it). A mark closing nothing open is ignored;
    emphasis left open ends with the block."""

    def __init__(self, document: _Document, tag: str, attributes: dict[str, str] | None = None):
        document.start(tag, attributes)
        self._document = document
        self._open = [tag]

    def text(self, text: str) -> None:
        for piece in _MARK.split(text):
            if piece in _OPENING_MARKS:
                self._open.append(_OPENING_MARKS[piece])
                self._document.start(self._open[-1])
            elif piece in _CLOSING_MARKS:
                if len(self._open) > 1 and self._open[-1] == _CLOSING_MARKS[piece]:
                    self._document.end(self._open.pop())
            elif piece:
                self._document.text(piece)

    def end(self) -> None:
        """End the block, and the emphasis still open in it."""
        for tag in reversed(self._open):
            self._document.end(tag)


_OPENING_MARKS = {EM_OPEN: "em", STRONG_OPEN: "strong"}
_CLOSING_MARKS = {EM_CLOSE: "em", STRONG_CLOSE: "strong"}
_MARK = re.compile(f"([{MARKS}])")


class _Document:
    """An XHTML document being written, element by element, as lxml serialises a tree: an element
    without content is `<tag/>`, one given text (even empty) `<tag>text</tag>`.

    Its markup and its text are kept apart until finished(): text[i] comes after markup[i], and all
    of the text is escaped at once, in UTF-8 bytes.
    """

    def __init__(self, title: str, language: str, stylesheet_hrefs: Sequence[str]):
        """The document's head, linking each stylesheet in turn, and the start of its body."""
        language = _attribute_value(language)
        self._markup = [f'{_PROLOGUE}<html xmlns="{XHTML_NS}" xmlns:epub="{EPUB_NS}" lang="{language}" xml:lang="{language}"><head><meta charset="utf-8"/><title>']
        self._text = [title]
        links = "".join(f'<link rel="stylesheet" type="text/css" href="{_attribute_value(href)}"/>' for href in stylesheet_hrefs)
        self._markup.append(f"</title>{links}</head><body>")
        self._nothing_since_start = False

    def start(self, tag: str, attributes: dict[str, str] | None = None) -> None:
        self._markup[-1] += f"<{tag}{_attributes(attributes)}>"
        self._nothing_since_start = True

    def end(self, tag: str) -> None:
        if self._nothing_since_start:
            self._markup[-1] = self._markup[-1][:-1] + "/>"
        else:
            self._markup[-1] += f"</{tag}>"
        self._nothing_since_start = False

    def text(self, text: str) -> None:
        self._text.append(text)
        self._markup.append("")
        self._nothing_since_start = False

    def paragraphs(self, texts: list[str]) -> None:
        """`<p>text</p>` for each text: what element("p", text=text) writes, sooner."""
        self._markup[-1] += "<p>"
        self._text += texts
        self._markup += _BETWEEN_PARAGRAPHS * (len(texts) - 1)
        self._markup.append("</p>")
        self._nothing_since_start = False

    def element(self, tag: str, attributes: dict[str, str] | None = None, text: str | None = None) -> None:
        """An element holding the text, if any."""
        self.start(tag, attributes)
        if text is not None:
            self.text(text)
        self.end(tag)

    def finished(self) -> bytes:
        """The document in UTF-8: its markup, with its text escaped in between.

        Markup and text are each joined at NULs, encoded and split there again: a NUL of their
        own, which XML cannot hold, shows as a piece too many.
        """
        self.end("body")
        self.end("html")
        markup = _xml_bytes("\0".join(self._markup)).split(b"\0")
        text = _escaped(_xml_bytes("\0".join(self._text))).split(b"\0")
        if len(markup) != len(self._markup) or len(text) != len(self._text):
            raise ValueError(_NOT_XML)
        pieces = markup + text
        pieces[::2] = markup
        pieces[1::2] = text
        return b"".join(pieces)


_BETWEEN_PARAGRAPHS = ["</p><p>"]
_PROLOGUE = "<?xml version='1.0' encoding='utf-8'?>\n<!DOCTYPE html>\n"
_NOT_XML = "All strings must be XML compatible: Unicode or ASCII, no NULL bytes or control characters"
"""What lxml says about such text."""
_CONTROL_BYTES = bytes([*range(0x01, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20)])


def _attributes(attributes: dict[str, str] | None) -> str:
    if not attributes:
        return ""
    return "".join(f' {name}="{_attribute_value(value)}"' for name, value in attributes.items())


def _attribute_value(value: str) -> str:
    """The value escaped as lxml escapes it between double quotes."""
    value = value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
    return value.replace("\r", "&#13;").replace("\n", "&#10;").replace("\t", "&#9;")


def _escaped(text: bytes) -> bytes:
    """UTF-8 text escaped as lxml escapes the text of an element."""
    return text.replace(b"&", b"&amp;").replace(b"<", b"&lt;").replace(b">", b"&gt;").replace(b"\r", b"&#13;")


def _xml_bytes(text: str) -> bytes:
    """The text in UTF-8, or the ValueError lxml raises for text XML cannot hold: a control character
    other than tab and newlines (NULs excepted: finished() counts them), U+FFFE, U+FFFF, a lone
    surrogate (UnicodeEncodeError)."""
    if "\ufffe" in text or "\uffff" in text:
        raise ValueError(_NOT_XML)
    encoded = text.encode()
    if len(encoded.translate(None, _CONTROL_BYTES)) != len(encoded):
        raise ValueError(_NOT_XML)
    return encoded


def _join_names(names: tuple[str, ...]) -> str:
    if len(names) <= 2:
        return " and ".join(names)
    return ", ".join(names[:-1]) + f" and {names[-1]}"
