"""Serialise chapters and the title page as XHTML content documents.

Documents are built as lxml trees, so every character of the text is escaped by the
serialiser, never by hand (`AT&T`, `<3`, `a < b` reach the reader as written).
"""

from __future__ import annotations

from lxml import etree

from epubgen.model import Chapter, Metadata, Paragraph

XHTML_NS = "http://www.w3.org/1999/xhtml"
EPUB_NS = "http://www.idpf.org/2007/ops"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
EPUB_TYPE = f"{{{EPUB_NS}}}type"


def chapter_document(chapter: Chapter, language: str, stylesheet_href: str) -> bytes:
    html, body = _document(chapter.heading.label, language, stylesheet_href)
    section = etree.SubElement(body, "section", {EPUB_TYPE: "chapter", "role": "doc-chapter"})
    etree.SubElement(section, "h2").text = chapter.heading.label
    for block in chapter.blocks:
        if isinstance(block, Paragraph):
            etree.SubElement(section, "p").text = block.text
        else:
            etree.SubElement(section, "hr", {"class": "scene-break"})
    return _serialise(html)


def title_page_document(metadata: Metadata, stylesheet_href: str) -> bytes:
    html, body = _document(metadata.title, metadata.language, stylesheet_href)
    section = etree.SubElement(body, "section", {EPUB_TYPE: "titlepage", "class": "titlepage"})
    etree.SubElement(section, "h1").text = metadata.title
    if metadata.authors:
        etree.SubElement(section, "p", {"class": "author"}).text = _join_names(metadata.authors)
    if metadata.translators:
        translated = etree.SubElement(section, "p", {"class": "translator"})
        translated.text = f"Translated by {_join_names(metadata.translators)}"
    return _serialise(html)


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
