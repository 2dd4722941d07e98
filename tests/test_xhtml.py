"""The XHTML writer against an lxml oracle: for any chapter, note, picture, metadata and text, the
documents epubgen.package.xhtml writes are byte for byte what lxml serialises from the same tree,
and text XML cannot hold is refused as lxml refuses it."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from epubgen.marks import EM_CLOSE, EM_OPEN, MARKS, STRONG_CLOSE, STRONG_OPEN
from epubgen.model import Chapter, Heading, Illustration, Metadata, Note, NoteRef, Paragraph, Picture, SceneBreak
from epubgen.package import xhtml

# The oracle: the documents built as lxml trees and serialised by lxml (how xhtml wrote them before).

_EPUB_TYPE = f"{{{xhtml.EPUB_NS}}}type"
_OPENING = {EM_OPEN: "em", STRONG_OPEN: "strong"}
_CLOSING = {EM_CLOSE: "em", STRONG_CLOSE: "strong"}
_MARK = re.compile(f"([{MARKS}])")


def _tree(title: str, language: str, stylesheet_href: str) -> tuple[etree._Element, etree._Element]:
    attributes = {"lang": language, "{http://www.w3.org/XML/1998/namespace}lang": language}
    html = etree.Element(f"{{{xhtml.XHTML_NS}}}html", attributes, nsmap={None: xhtml.XHTML_NS, "epub": xhtml.EPUB_NS})
    head = etree.SubElement(html, "head")
    etree.SubElement(head, "meta", {"charset": "utf-8"})
    etree.SubElement(head, "title").text = title
    etree.SubElement(head, "link", {"rel": "stylesheet", "type": "text/css", "href": stylesheet_href})
    return html, etree.SubElement(html, "body")


def _serialised(html: etree._Element) -> bytes:
    return etree.tostring(html, xml_declaration=True, encoding="utf-8", doctype="<!DOCTYPE html>")


class _LxmlInline:
    def __init__(self, block: etree._Element):
        self.open = [block]

    def text(self, text: str) -> None:
        for piece in _MARK.split(text):
            if piece in _OPENING:
                self.open.append(etree.SubElement(self.open[-1], _OPENING[piece]))
            elif piece in _CLOSING:
                if len(self.open) > 1 and self.open[-1].tag == _CLOSING[piece]:
                    self.open.pop()
            elif piece:
                last = self.open[-1]
                if len(last):
                    last[-1].tail = (last[-1].tail or "") + piece
                else:
                    last.text = (last.text or "") + piece

    def element(self, tag: str, attributes: dict[str, str] | None = None) -> etree._Element:
        return etree.SubElement(self.open[-1], tag, attributes or {})


def _lxml_chapter(chapter: Chapter, number: int, language: str, stylesheet_href: str) -> bytes:
    html, body = _tree(chapter.heading.label, language, stylesheet_href)
    section = etree.SubElement(body, "section", {_EPUB_TYPE: "chapter", "role": "doc-chapter"})
    etree.SubElement(section, "h2").text = chapter.heading.label
    notes = xhtml._ChapterNotes(chapter, number)
    for block in chapter.blocks:
        if isinstance(block, Paragraph):
            _lxml_paragraph(section, block, notes)
        elif isinstance(block, Picture):
            image = chapter.images[block.index]
            figure = etree.SubElement(section, "figure", {"class": "illustration"})
            source = f"../{xhtml.illustration_file(number, block.index, image.extension)}"
            alt = image.alt or f"Illustration {block.index + 1} of {chapter.heading.label}"
            etree.SubElement(figure, "img", {"src": source, "alt": alt})
        else:
            etree.SubElement(section, "hr", {"class": "scene-break"})
    for index in notes.numbered("footnote"):
        _lxml_numbered_note(section, notes, index, "footnote", f"#{notes.ref_id(index)}")
    return _serialised(html)


def _lxml_reference(notes: xhtml._ChapterNotes, index: int) -> dict[str, str]:
    return {"href": notes.note_href(index), "id": notes.next_ref_id(index), _EPUB_TYPE: "noteref", "role": "doc-noteref"}


def _lxml_paragraph(parent: etree._Element, paragraph: Paragraph, notes: xhtml._ChapterNotes) -> None:
    refs = [span for span in paragraph.spans if isinstance(span, NoteRef)]
    if refs and not paragraph.text.strip():
        for ref in refs:
            note = notes.notes[ref.index]
            if note.mode == "inline":
                aside = etree.SubElement(parent, "aside", {"class": xhtml._note_class(note), "role": "note"})
                _lxml_note_paragraphs(aside, note, "", "")
            else:
                link = etree.SubElement(parent, "p", {"class": "note-link"})
                etree.SubElement(link, "a", _lxml_reference(notes, ref.index)).text = xhtml.NOTE_NAMES.get(note.kind, "Note")
        return
    inline = _LxmlInline(etree.SubElement(parent, "p"))
    for span in paragraph.spans:
        if isinstance(span, str):
            inline.text(span)
        elif notes.notes[span.index].mode == "inline":
            note = notes.notes[span.index]
            words = _LxmlInline(inline.element("span", {"class": xhtml._note_class(note)}))
            words.text("(")
            words.element("span", {"class": "note-kind"}).text = f"{note.kind}:"
            for position, line in enumerate(note.text.split("\n")):
                if position:
                    words.element("br")
                words.text(f" {line}" if position == 0 else line)
            words.text(")")
        else:
            reference = inline.element("a", _lxml_reference(notes, span.index))
            etree.SubElement(reference, "sup").text = str(notes.numbers[span.index])


def _lxml_numbered_note(parent: etree._Element, notes: xhtml._ChapterNotes, index: int, kind: str, backlink: str) -> None:
    note = notes.notes[index]
    attributes = {"id": notes.note_id(index), _EPUB_TYPE: kind}
    if kind == "footnote":
        attributes["role"] = "doc-footnote"
    attributes["class"] = xhtml._note_class(note)
    element = etree.SubElement(parent, "aside" if kind == "footnote" else "li", attributes)
    _lxml_note_paragraphs(element, note, f"{notes.numbers[index]}.", backlink)


def _lxml_note_paragraphs(aside: etree._Element, note: Note, number: str, backlink: str) -> None:
    for position, words in enumerate(note.text.split("\n")):
        inline = _LxmlInline(etree.SubElement(aside, "p"))
        if position == 0:
            if backlink:
                inline.element("a", {"href": backlink, "role": "doc-backlink", "class": "note-number"}).text = number
                inline.text(" ")
            inline.element("span", {"class": "note-kind"}).text = f"{note.kind}:"
            words = f" {words}"
        inline.text(words)


def _lxml_endnotes(chapters: list[Chapter], language: str, stylesheet_href: str) -> bytes:
    html, body = _tree(xhtml.ENDNOTES_TITLE, language, stylesheet_href)
    section = etree.SubElement(body, "section", {_EPUB_TYPE: "endnotes", "role": "doc-endnotes"})
    etree.SubElement(section, "h2").text = xhtml.ENDNOTES_TITLE
    for number, chapter in enumerate(chapters, 1):
        notes = xhtml._ChapterNotes(chapter, number)
        if notes.numbered("endnote"):
            group = etree.SubElement(section, "section", {"class": "chapter-notes"})
            etree.SubElement(group, "h3").text = chapter.heading.label
            items = etree.SubElement(group, "ol", {"class": "notes"})
            for index in notes.numbered("endnote"):
                _lxml_numbered_note(items, notes, index, "endnote", f"{xhtml.chapter_file(number)}#{notes.ref_id(index)}")
    return _serialised(html)


def _lxml_title_page(metadata: Metadata, stylesheet_href: str) -> bytes:
    html, body = _tree(metadata.title, metadata.language, stylesheet_href)
    section = etree.SubElement(body, "section", {_EPUB_TYPE: "titlepage", "class": "titlepage"})
    etree.SubElement(section, "h1").text = metadata.title
    if metadata.authors:
        etree.SubElement(section, "p", {"class": "author"}).text = xhtml._join_names(metadata.authors)
    if metadata.translators:
        etree.SubElement(section, "p", {"class": "translator"}).text = f"Translated by {xhtml._join_names(metadata.translators)}"
    editors = tuple(name for role, name in metadata.contributors if role == "edt")
    if editors:
        etree.SubElement(section, "p", {"class": "editor"}).text = f"Edited by {xhtml._join_names(editors)}"
    return _serialised(html)


def _lxml_cover_page(metadata: Metadata, image_href: str, stylesheet_href: str) -> bytes:
    html, body = _tree("Cover", metadata.language, stylesheet_href)
    section = etree.SubElement(body, "section", {_EPUB_TYPE: "cover", "class": "cover"})
    etree.SubElement(section, "img", {"src": image_href, "alt": f"Cover of {metadata.title}", "class": "cover-image"})
    return _serialised(html)


def _lxml_information_page(metadata: Metadata, chapters: list[Chapter], stylesheet_href: str) -> bytes:
    html, body = _tree("About this book", metadata.language, stylesheet_href)
    section = etree.SubElement(body, "section", {_EPUB_TYPE: "colophon", "role": "doc-colophon", "class": "information"})
    etree.SubElement(section, "h2").text = "About this book"
    facts = etree.SubElement(section, "dl")
    for term, value in xhtml._information(metadata, chapters):
        etree.SubElement(facts, "dt").text = term
        etree.SubElement(facts, "dd").text = value
    return _serialised(html)


# Random books: text rich in what escaping, marks and UTF-8 care about.

_TRICKY = "&<>\"'\r\n\t ;#x" + MARKS + "é’—\u00a0\u2028\x7f\x85\ufdd4\ufe0e\U0001d538\U0001f600"
_XML_TEXT = st.characters(exclude_categories=("Cs",), exclude_characters="".join(map(chr, range(0x20))) + "\ufffe\uffff")
text = st.text(st.one_of(st.sampled_from(_TRICKY), _XML_TEXT, st.sampled_from("abc ")), max_size=30)
plain_text = st.text(st.one_of(st.sampled_from("&<>\"'\r\t é’\U0001f600"), st.sampled_from("abc ")), min_size=1, max_size=30)
marked_text = st.text(st.sampled_from(MARKS + "ab&<"), max_size=8)


@st.composite
def chapters(draw: st.DrawFn) -> Chapter:
    notes = draw(st.lists(st.builds(Note, text, text, st.sampled_from(["footnote", "endnote", "inline"])), max_size=4))
    images = draw(st.lists(st.builds(Illustration, st.just(b""), st.sampled_from(["image/png", "image/jpeg"]), text), max_size=2))
    span = st.one_of(text, st.builds(NoteRef, st.integers(0, len(notes) - 1))) if notes else text
    paragraph = st.one_of(
        st.builds(Paragraph, st.tuples(plain_text)),
        st.builds(Paragraph, st.tuples(marked_text)),
        st.builds(Paragraph, st.lists(span, max_size=4).map(tuple)),
    )
    block = st.one_of(paragraph, paragraph, st.just(SceneBreak()))
    if images:
        block = st.one_of(block, st.builds(Picture, st.integers(0, len(images) - 1)))
    heading = st.builds(
        Heading, st.sampled_from(["chapter", "prologue", ""]), st.none() | st.decimals(0, 99, places=1).map(Decimal), text, st.none() | st.integers(1, 3), st.none() | st.integers(1, 3)
    )
    return Chapter("ch.txt", draw(heading), tuple(draw(st.lists(block, max_size=8))), tuple(notes), images=tuple(images))


metadata = st.builds(
    Metadata,
    text,
    st.lists(text, max_size=3).map(tuple),
    st.lists(text, max_size=3).map(tuple),
    st.sampled_from(["en", "zh-Hans"]) | text,
    source=text,
    modified=st.integers(0, 2**31),
    contributors=st.lists(st.tuples(st.sampled_from(["edt", "pfr"]), text), max_size=2).map(tuple),
    original_title=text,
)


@settings(max_examples=200, deadline=None)
@given(chapters(), st.integers(1, 3000), st.sampled_from(["en", "zh-Hans"]) | text, st.sampled_from(["../style.css"]) | text)
def test_a_chapter_document_is_what_lxml_serialises(chapter: Chapter, number: int, language: str, stylesheet_href: str) -> None:
    assert xhtml.chapter_document(chapter, number, language, (stylesheet_href,)) == _lxml_chapter(chapter, number, language, stylesheet_href)


@settings(max_examples=100, deadline=None)
@given(st.lists(chapters(), max_size=3), text)
def test_the_endnotes_document_is_what_lxml_serialises(book: list[Chapter], language: str) -> None:
    assert xhtml.endnotes_document(book, language, ("../style.css",)) == _lxml_endnotes(book, language, "../style.css")


@settings(max_examples=100, deadline=None)
@given(metadata, st.lists(chapters(), max_size=2), text)
def test_the_front_pages_are_what_lxml_serialises(book: Metadata, chapters: list[Chapter], href: str) -> None:
    assert xhtml.title_page_document(book, (href,)) == _lxml_title_page(book, href)
    assert xhtml.cover_page_document(book, href, ("../style.css",)) == _lxml_cover_page(book, href, "../style.css")
    assert xhtml.information_page_document(book, chapters, (href,)) == _lxml_information_page(book, chapters, href)


# Examples: what lxml does with edge cases, spelled out.


def _chapter(*blocks: Paragraph | Picture | SceneBreak, notes: tuple[Note, ...] = (), alt: str = "") -> Chapter:
    images = (Illustration(b"", "image/png", alt),)
    return Chapter("ch.txt", Heading(number=Decimal(1), title="A & B"), blocks, notes, images=images)


def _body(chapter: Chapter) -> str:
    document = xhtml.chapter_document(chapter, 1, "en", ("../style.css",))
    assert document == _lxml_chapter(chapter, 1, "en", "../style.css")
    return document.decode().split('role="doc-chapter"><h2>Chapter 1: A &amp; B</h2>')[1].removesuffix("</section></body></html>")


def test_text_escapes_ampersands_angle_brackets_and_carriage_returns_but_not_quotes() -> None:
    assert _body(_chapter(Paragraph(("AT&T <3 a > b \"q\" 'q'\r\t\U0001f600",)))) == "<p>AT&amp;T &lt;3 a &gt; b \"q\" 'q'&#13;\t\U0001f600</p>"


def test_attributes_escape_quotes_and_whitespace_too() -> None:
    alt = 'a "b" & <c>\n\t\r'
    figure = '<figure class="illustration"><img src="../images/chapter-0001-1.png" alt="a &quot;b&quot; &amp; &lt;c&gt;&#10;&#9;&#13;"/></figure>'
    assert _body(_chapter(Picture(0), alt=alt)) == figure


def test_empty_paragraphs_and_empty_emphasis_are_empty_elements() -> None:
    assert _body(_chapter(Paragraph(("",)), Paragraph(()), Paragraph((f"a{EM_OPEN}{EM_CLOSE}b",)))) == "<p/><p/><p>a<em/>b</p>"


def test_a_stray_closing_mark_is_ignored_and_open_emphasis_ends_with_the_paragraph() -> None:
    paragraph = Paragraph((f"{EM_CLOSE}a{STRONG_OPEN}b{EM_OPEN}c{STRONG_CLOSE}d",))
    assert _body(_chapter(paragraph, SceneBreak())) == '<p>a<strong>b<em>cd</em></strong></p><hr class="scene-break"/>'


@pytest.mark.parametrize(("mark", "element"), [(EM_OPEN, "<em>b</em>"), (STRONG_OPEN, "<strong>b</strong>"), (EM_CLOSE, "b"), (STRONG_CLOSE, "b")])
def test_any_one_mark_in_a_paragraph_is_emphasis_or_nothing(mark: str, element: str) -> None:
    assert _body(_chapter(Paragraph((f"a{mark}b",)))) == f"<p>a{element}</p>"


def test_a_note_reference_inside_emphasis_stays_in_it() -> None:
    paragraph = Paragraph((f"{EM_OPEN}a", NoteRef(0), f"b{EM_CLOSE}c"))
    body = _body(_chapter(paragraph, notes=(Note("TL", "x & y"),)))
    assert body.startswith('<p><em>a<a href="#note-1-1" id="noteref-1-1" epub:type="noteref" role="doc-noteref"><sup>1</sup></a>b</em>c</p>')


@pytest.mark.parametrize("character", ["\x00", "\x01", "\x0b", "\x1f", "\ufffe", "\uffff", "\ud800"])
@pytest.mark.parametrize(
    "chapter",
    [
        lambda bad: _chapter(Paragraph((f"a{bad}b",))),
        lambda bad: _chapter(Paragraph((f"{EM_OPEN}a{bad}",))),
        lambda bad: _chapter(Paragraph(("a", NoteRef(0))), notes=(Note("TL", bad),)),
        lambda bad: _chapter(Picture(0), alt=bad),
    ],
    ids=["plain paragraph", "emphasis", "note", "alt text"],
)
def test_text_xml_cannot_hold_is_refused_as_lxml_refuses_it(character: str, chapter) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ValueError):
        _lxml_chapter(chapter(character), 1, "en", "../style.css")
    with pytest.raises(ValueError):
        xhtml.chapter_document(chapter(character), 1, "en", ("../style.css",))
