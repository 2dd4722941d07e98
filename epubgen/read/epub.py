"""Read an EPUB made by another tool as input: its chapters in spine order, its metadata, its cover.

Each content document goes through the same HTML-to-lines conversion as saved pages; the
navigation document, cover and title pages are left out, and the table of contents gives a
chapter its title when the document has no heading line.
"""

from __future__ import annotations

import posixpath
import struct
import zipfile
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from urllib.parse import unquote

import ebooklib
from bs4 import BeautifulSoup, Comment, Tag
from ebooklib import epub
from lxml import etree

from epubgen.errors import InputError
from epubgen.names import printable
from epubgen.language import language_tag
from epubgen.marks import image_index
from epubgen.model import Line, SourceChapter, SourceMetadata, SourceSet
from epubgen.read.decode import decode
from epubgen.read.html import ImageLoader, Page, block_lines, image_collector, parse_markup

MAX_ENTRY_BYTES = 256 * 1024 * 1024
"""The most one entry of an input EPUB may come to once decompressed: far above any real chapter or image."""

MAX_EPUB_BYTES = 1024 * 1024 * 1024
"""The most the entries of an input EPUB may come to all together once decompressed."""

_NOT_TEXT = ["script", "style", "nav", "noscript", "iframe", "object", "embed", "form", "svg"]
_NOTE_TYPES = {"footnote", "endnote", "rearnote", "note"}
_NOTE_ROLES = {"doc-footnote", "doc-endnote"}
_NOTES_SECTION_TYPES = {"footnotes", "endnotes", "rearnotes"}
_HEADINGS = ["h1", "h2", "h3", "h4", "h5", "h6"]

_CONTAINER = "META-INF/container.xml"
_CHUNK = 64 * 1024
_ENCRYPTED = 0x1
"""The general purpose flag bit of a zip entry stored encrypted."""
_EPUB_COMPRESSION = {zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED}
_XML_SUFFIXES = (".xml", ".opf", ".ncx", ".xhtml", ".html", ".htm")
_ENTITY_DECLARATIONS = tuple("<!ENTITY".encode(encoding) for encoding in ("utf-8", "utf-16-le", "utf-16-be"))
_BROKEN = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    zlib.error,
    struct.error,
    EOFError,
    OSError,
    KeyError,
    IndexError,
    AttributeError,
    TypeError,
    ValueError,
    NotImplementedError,
    RuntimeError,
    etree.LxmlError,
    epub.EpubException,
)
"""What ebooklib, zipfile, lxml and the decoders raise on a malformed EPUB, whatever code they were in."""

_Broken = Callable[..., InputError]
"""Makes the one-line error for what is wrong with an entry: `broken(what)` or `broken(what, entry)`."""


def read_epub_input(path: Path, max_entry_bytes: int = MAX_ENTRY_BYTES, max_total_bytes: int = MAX_EPUB_BYTES) -> SourceSet:
    """The chapters and metadata of the EPUB at path; no entry may inflate past max_entry_bytes, nor
    all of them together past max_total_bytes."""
    book, reader = _open(path, max_entry_bytes, max_total_bytes)
    metadata = _metadata(book, reader)
    titles = _toc_titles(book.toc)
    front = {metadata.title.casefold(), *(name.casefold() for name in metadata.authors + metadata.translators)}
    documents = [(item, _parse_document(item, reader)) for item in _spine_documents(book, reader)]
    notes, held_notes = _take_notes(documents)
    chapters, warnings = [], list(reader.warnings)
    for item, soup in documents:
        if soup is None or soup.body is None:
            continue
        _put_notes_back(soup, item.get_name(), notes)
        page = Page([])
        with _entry_errors(reader.broken, _entry_name(item, reader)):
            page.lines = block_lines(soup.body, image_collector(page, f"{path.name}:{item.get_name()}", _images_inside(book, item)))
        if _left_out(soup, page, front, metadata, item.get_name() in held_notes):
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


def _left_out(soup: BeautifulSoup, page: Page, front: set[str], metadata: SourceMetadata, held_notes: bool) -> bool:
    """A document that is no chapter: empty, a title page, the notes, our information page, the cover."""
    return (
        not page.lines
        or _is_front_matter(page.lines, front)
        or _is_notes_document(soup, held_notes)
        or _is_our_information_page(soup)
        or _is_cover_page(page, metadata)
    )


def _images_inside(book: epub.EpubBook, document: epub.EpubHtml) -> ImageLoader:
    """Load <img> sources from the EPUB itself, relative to the document that shows them."""

    def load(source: str) -> bytes | str:
        href = posixpath.normpath(posixpath.join(posixpath.dirname(document.get_name()), unquote(source.split("#")[0])))
        item = book.get_item_with_href(href)
        return item.get_content() if item is not None and item.get_content() else f"image {source[:80]} is not in the EPUB, left out"

    return load


def _is_cover_page(page: Page, metadata: SourceMetadata) -> bool:
    """A page showing nothing but the cover image: the cover is kept as the cover, not as a chapter."""
    return all(image_index(line) is not None for line in page.lines) and all(image.data == metadata.cover for image in page.images)


class _GuardedReader(epub.EpubReader):
    """ebooklib's reader, reading each entry through a size-limited stream and knowing which entry it
    is at, so that whatever breaks is told as one line naming the EPUB and the entry."""

    def __init__(self, path: Path, max_entry_bytes: int, max_total_bytes: int):
        super().__init__(str(path), {"ignore_ncx": True})
        self.name, self.max_entry_bytes, self.max_total_bytes = path.name, max_entry_bytes, max_total_bytes
        self.entry = ""
        self.inflated = 0
        self.in_manifest = False
        self.warnings: list[str] = []

    def broken(self, what: str, entry: str | None = None) -> InputError:
        entry = self.entry if entry is None else entry
        return InputError(printable(f"{self.name}: {entry}: {what}" if entry else f"{self.name}: not a readable EPUB ({what})"))

    def read_file(self, name: str) -> bytes:
        """The bytes of an entry; one the package lists but the EPUB lacks reads as nothing, with a warning."""
        self.entry = posixpath.normpath(name)
        data = self._inflated_entry(self.entry)
        if self.entry.lower().endswith(_XML_SUFFIXES):
            _refuse_entities(data, self.broken)
        if self.in_manifest:
            self.entry = self.opf_file
        return data

    def _inflated_entry(self, entry: str) -> bytes:
        try:
            info = self.zf.getinfo(entry)
        except KeyError:
            if entry in (_CONTAINER, self.opf_file) or not self.opf_file:
                raise self.broken("not in the EPUB") from None
            self.warn(self.broken("listed in the package but not in the EPUB, left out"))
            return b""
        data = _inflated(self.zf, info, min(self.max_entry_bytes, self.max_total_bytes - self.inflated), self.broken)
        self.inflated += len(data)
        return data

    def warn(self, warning: InputError) -> None:
        if str(warning) not in self.warnings:
            self.warnings.append(str(warning))

    def _load_container(self) -> None:
        _check_declared_sizes(self.zf.infolist(), self.max_entry_bytes, self.max_total_bytes, self.broken)
        super()._load_container()
        if not self.opf_file:
            raise self.broken("names no package document", _CONTAINER)

    def _load_metadata(self) -> None:
        root = self.container.getroot()
        if root is None:
            raise self.broken("not readable as XML")
        for part in ("metadata", "manifest", "spine"):
            if root.find(f"{{{epub.NAMESPACES['OPF']}}}{part}") is None:
                raise self.broken(f"a package document without its <{part}>")
        super()._load_metadata()

    def _load_manifest(self) -> None:
        self.in_manifest = True
        super()._load_manifest()
        self.in_manifest = False

    def _parse_nav(self, data: bytes, base_path: str, navtype: str = "toc") -> None:
        nav = next(item for item in self.book.items if isinstance(item, epub.EpubNav))
        self._read_contents(posixpath.join(self.opf_dir, nav.file_name), partial(super()._parse_nav, data, base_path, navtype))

    def _parse_ncx(self, data: bytes) -> None:
        self._read_contents(self.entry, partial(super()._parse_ncx, data))

    def _read_contents(self, entry: str, parse: Callable[[], None]) -> None:
        """The table of contents only gives titles: one that cannot be read is left out, with a warning."""
        try:
            parse()
        except _BROKEN:
            self.warn(self.broken("no table of contents could be read from it, left out", entry))


def _check_declared_sizes(infos: list[zipfile.ZipInfo], max_entry_bytes: int, max_total_bytes: int, broken: _Broken) -> None:
    """Refuse a zip bomb by what its entries say they hold, before any is inflated."""
    for info in infos:
        if info.file_size > max_entry_bytes:
            raise broken(f"larger than {_megabytes(max_entry_bytes)} once decompressed", info.filename)
    if sum(info.file_size for info in infos) > max_total_bytes:
        raise broken(f"its entries come to more than {_megabytes(max_total_bytes)} once decompressed, refused as a zip bomb", "")


def _inflated(archive: zipfile.ZipFile, info: zipfile.ZipInfo, room: int, broken: _Broken) -> bytes:
    """The entry's bytes, inflated a chunk at a time, so that an entry whose header lies about its
    size never grows past room in memory."""
    if info.flag_bits & _ENCRYPTED:
        raise broken("encrypted")
    if info.compress_type not in _EPUB_COMPRESSION:
        raise broken(f"compressed with method {info.compress_type}, which an EPUB may not use (only stored or deflated)")
    chunks, size = [], 0
    with archive.open(info) as stream:
        while chunk := stream.read(_CHUNK):
            size += len(chunk)
            if size > room:
                raise broken(f"grows past {_megabytes(room)} when decompressed (refused as a zip bomb)")
            chunks.append(chunk)
    return b"".join(chunks)


def _refuse_entities(data: bytes, broken: _Broken) -> None:
    """An XML document declaring entities is refused: an EPUB has no use for them, a bomb does."""
    if any(declaration in data for declaration in _ENTITY_DECLARATIONS):
        raise broken("declares XML entities, which an EPUB may not (refused)")


def _megabytes(size: int) -> str:
    return f"{max(size, 0) / (1024 * 1024):.3g} MB"


def _reason(error: BaseException) -> str:
    """What went wrong, in a few words on one line."""
    if isinstance(error, zlib.error) or (isinstance(error, zipfile.BadZipFile) and "CRC" in str(error)):
        return "corrupt compressed data"
    if isinstance(error, (etree.ParseError, etree.ParserError)):
        return f"not readable as XML ({' '.join(str(error).split())[:200]})"
    return f"{type(error).__name__}: {' '.join(str(error).split())[:200]}"


@contextmanager
def _entry_errors(broken: _Broken, entry: str) -> Iterator[None]:
    """Whatever a malformed part makes ebooklib, zipfile, lxml or a decoder raise, as one line."""
    try:
        yield
    except _BROKEN as error:
        raise broken(_reason(error), entry) from None


def _open(path: Path, max_entry_bytes: int, max_total_bytes: int) -> tuple[epub.EpubBook, _GuardedReader]:
    reader = _GuardedReader(path, max_entry_bytes, max_total_bytes)
    try:
        book = reader.load()
    except epub.EpubException:
        raise reader.broken("not a zip archive, or a damaged one") from None
    except _BROKEN as error:
        raise reader.broken(_reason(error)) from None
    finally:
        if reader.zf is not None:
            reader.zf.close()
    return book, reader


def _spine_documents(book: epub.EpubBook, reader: _GuardedReader) -> list[epub.EpubHtml]:
    """The content documents of the spine, in its order, but the navigation document; an item the
    manifest lacks is left out with a warning."""
    documents = []
    for idref, _linear in book.spine:
        item = book.get_item_with_id(idref)
        if item is None:
            reader.warn(reader.broken(f"the spine's item {idref!r} is not in the manifest, left out", reader.opf_file))
            continue
        if item.get_type() != ebooklib.ITEM_DOCUMENT or isinstance(item, epub.EpubNav):
            continue
        if "nav" in getattr(item, "properties", []):
            continue
        documents.append(item)
    if not documents:
        raise reader.broken("its spine lists no content documents", reader.opf_file)
    return documents


def _entry_name(item: epub.EpubItem, reader: _GuardedReader) -> str:
    return posixpath.join(reader.opf_dir, item.get_name())


def _parse_document(item: epub.EpubHtml, reader: _GuardedReader) -> BeautifulSoup | None:
    """The document parsed, what is not text taken out; one that is empty is None, as is one that is
    no text, with a warning."""
    content = item.get_content()
    if not content:
        return None
    entry = _entry_name(item, reader)
    try:
        text = decode(content, f"{reader.name}:{entry}").text
    except InputError as error:
        reader.warn(InputError(f"{error}, left out"))
        return None
    with _entry_errors(reader.broken, entry):
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
    texts = [text for text in body.find_all(string=True) if text.strip() and not isinstance(text, Comment)]
    return all(text.find_parent(_HEADINGS) is not None for text in texts)


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


def _metadata(book: epub.EpubBook, reader: _GuardedReader) -> SourceMetadata:
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
        language=_language(next(iter(values("language")), ""), reader),
        description=next(iter(values("description")), ""),
        publisher=next(iter(values("publisher")), ""),
        subjects=values("subject"),
        identifier=next(iter(values("identifier")), ""),
        cover=_cover(book),
    )


def _language(value: str, reader: _GuardedReader) -> str:
    """The EPUB's language as a BCP 47 tag; one that is no tag is dropped with a warning, for the default."""
    tag = language_tag(value) if value else ""
    if tag is None:
        reader.warn(reader.broken(f"its language {value[:40]!r} is not a language tag, left out", reader.opf_file))
    return tag or ""


def _cover(book: epub.EpubBook) -> bytes | None:
    for item in book.get_items():
        if item.get_type() == ebooklib.ITEM_COVER and item.get_content():
            return item.get_content()
    cover_ids = [attributes.get("content") for _, attributes in book.get_metadata("OPF", "cover")]
    for cover_id in cover_ids:
        item = book.get_item_with_id(cover_id)
        if item is not None and item.get_type() == ebooklib.ITEM_IMAGE and item.get_content():
            return item.get_content()
    return None
