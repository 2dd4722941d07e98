"""Stage 6: package a Book as an EPUB 3 file with ebooklib, reproducibly and atomically.

ebooklib builds the OPF, the nav document and the NCX. Its traps (each verified against
EPUBCheck 5.3, numbered as in DESIGN.md) are handled here:

1. `epub3_pages` would turn every element with an epub:type and an id into a fake page list: off.
2. An empty chapter becomes a 0-byte XHTML file: our documents always hold their heading.
3. Chapter content is re-parsed by lxml.html, dropping head content and failing silently:
   _PrebuiltDocument hands ebooklib the bytes we serialised ourselves.
4. add_author() gives every creator the same id: each creator and contributor gets its own.
5. set_cover() makes a cover page nothing links to (OPF-096): _cover_page adds the image and a
   linear cover page of our own instead.
6. No xml:lang on <package>: _Writer adds it.
7. Zip entry times and dcterms:modified are "now": we zip the entries ourselves, mimetype
   first and stored, the rest sorted, every timestamp the book's modified time (brought into
   the zip's range of times: zip_time).
8. Hrefs are not percent-encoded: every file name in the book is an ASCII slug we make.
9. write_epub() swallows OSError: _Writer never touches the disk; write_atomically() does.
10. The writer ends in reference cycles (its nav and NCX makers are recursive closures holding
    it; add_item() links each item back to its book), which would keep the chapters' document
    functions, and through them every chapter a build holds, alive until the collector's next
    full pass: _Writer.entries() cuts the writer's and the items' links to the book once done.
11. The landmarks nav is a visible "Guide" list on the contents page: _Writer hides it.
"""

from __future__ import annotations

import struct
import time
import uuid
import zipfile
import zlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import partial
from pathlib import Path
from typing import BinaryIO

import deflate
from ebooklib import epub
from lxml import etree

from epubgen.atomic import write_atomically
from epubgen.model import Book, Metadata
from epubgen.parallel import paused_gc
from epubgen.package.xhtml import (
    ENDNOTES_FILE,
    ENDNOTES_TITLE,
    chapter_document,
    chapter_file,
    cover_page_document,
    endnotes_document,
    has_endnotes,
    illustration_file,
    information_page_document,
    title_page_document,
)

STYLESHEET = "styles/default.css"
"""The theme's stylesheet."""
_XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
_WRITER_OPTIONS = {"epub3_pages": False, "epub2_guide": True, "epub3_landmark": True}
UNKNOWN_AUTHOR = "Unknown"
"""The creator of a book whose author is not known: what calibre writes for one, and shows, as do
KOReader and Kobo."""
_OPF_TIME = "%Y-%m-%dT%H:%M:%SZ"
ZIP_FIRST_TIME = 315532800
"""1980-01-01 00:00:00 UTC, the earliest time a zip entry can carry."""
ZIP_LAST_TIME = 4354819198
"""2107-12-31 23:59:58 UTC, the latest (a zip keeps even seconds)."""
DEFLATE_LEVEL = 6
_PACKAGE_FOLDER = epub.EpubBook().FOLDER_NAME
"""The folder of the zip ebooklib writes the package's files into."""


@dataclass(frozen=True, slots=True)
class Deflated:
    """An entry's bytes as a zip stores them: raw DEFLATE, with the CRC-32 and size of the bytes.

    Compressed by libdeflate (the `deflate` package) at level 6: the same size as zlib's default
    level, in 60% of the time; compressing is a sixth of a long series' build.
    """

    crc: int
    size: int
    data: bytes

    @classmethod
    def of(cls, data: bytes) -> Deflated:
        return cls(zlib.crc32(data), len(data), bytes(deflate.deflate_compress(data, DEFLATE_LEVEL)))


def write_epub(book: Book, path: Path, documents: Mapping[int, Deflated] | None = None) -> None:
    """Write the book to path: all or nothing, and the same bytes for the same book.

    documents, when given, are the chapters' documents made and compressed already (by the
    processes that hold the chapters' text: epubgen.pipeline), by chapter number from 1.
    """
    write_entries(path, epub_entries(book, None if documents is None else documents.__getitem__), book.metadata.modified)


def write_entries(path: Path, entries: dict[str, Content], modified: int) -> None:
    """Write the entries of an EPUB (epub_entries) to path, all or nothing."""
    with paused_gc():
        write_atomically(path, lambda file: write_zip(file, entries, modified))


Content = bytes | Callable[[], bytes | Deflated] | Deflated
"""An entry's bytes; or (a chapter's document) the function that makes them, or gets them
compressed, as the zip is written, so the documents of a long series are never all in memory at
once; or its bytes compressed."""


def epub_entries(book: Book, documents: Callable[[int], Deflated] | None = None) -> dict[str, Content]:
    """Every file of the EPUB container, by its path inside the zip. documents, when given, gives
    each chapter's document, made and compressed already, by chapter number from 1: only called
    when the zip is written, so the entries may be made while the documents are."""
    with paused_gc():
        ebook = _ebooklib_book(book, documents)
        return _Writer(ebook, book.metadata.modified).entries()


def default_identifier(metadata: Metadata) -> str:
    """A stable identifier from title and authors, so a rebuild keeps its place in a reader's library."""
    key = "\n".join((metadata.title.casefold(), *(author.casefold() for author in metadata.authors)))
    return f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, 'epubgen:' + key)}"


def write_zip(file: BinaryIO, entries: dict[str, Content], modified: int) -> None:
    """Zip entries reproducibly, into a seekable file: mimetype first and stored, the rest sorted,
    fixed timestamps.

    Each entry is made (a chapter's document) and compressed as it is written, unless it comes
    compressed already (Deflated): the bytes are the same either way.
    """
    stamp = time.gmtime(zip_time(modified))[:6]
    names = sorted(entries.keys() - {"mimetype"})
    with zipfile.ZipFile(file, "w") as archive:
        archive.writestr(_zip_info("mimetype", stamp, zipfile.ZIP_STORED), _made(entries["mimetype"]))

        for name in names:
            made = _made(entries[name])
            _write_deflated(archive, _zip_info(name, stamp, zipfile.ZIP_DEFLATED), made if isinstance(made, Deflated) else Deflated.of(made))


def book_time(modified: int) -> datetime:
    """The book's date, in UTC: its dcterms:modified and dc:date."""
    return datetime.fromtimestamp(zip_time(modified), tz=timezone.utc)


def zip_time(seconds: int) -> int:
    """The time nearest to seconds that a zip entry can carry: a book's modified time, as its zip
    timestamps and its dcterms:modified say it."""
    return min(max(seconds, ZIP_FIRST_TIME), ZIP_LAST_TIME)


def _made(content: Content) -> bytes | Deflated:
    return content() if callable(content) else content


def _write_deflated(archive: zipfile.ZipFile, info: zipfile.ZipInfo, deflated: Deflated) -> None:
    """What ZipFile.writestr writes for an entry of a seekable file (write_atomically's is), from data
    compressed already: the local header (with the CRC and sizes it rewrites once the data is known),
    then the data."""
    data = deflated.data
    info.CRC, info.file_size, info.compress_size = deflated.crc, deflated.size, len(data)
    info.flag_bits = 0x00
    archive._writecheck(info)  # type: ignore[attr-defined]
    archive._didModify = True  # type: ignore[attr-defined]
    archive.fp.seek(archive.start_dir)  # type: ignore[union-attr]
    info.header_offset = archive.fp.tell()  # type: ignore[union-attr]
    archive.fp.write(info.FileHeader(False))  # type: ignore[union-attr]
    archive.fp.write(data)  # type: ignore[union-attr]
    archive.start_dir = archive.fp.tell()  # type: ignore[union-attr]
    archive.filelist.append(info)
    archive.NameToInfo[info.filename] = info


def written_documents(path: Path, numbers: Iterable[int]) -> dict[int, Deflated]:
    """The documents of the given chapter numbers in an EPUB write_epub wrote, compressed as they are
    in it, by number (those it holds): for a rebuild that writes the same documents again."""
    found: dict[int, Deflated] = {}
    with zipfile.ZipFile(path) as archive:
        file = archive.fp
        for number in numbers:
            info = archive.NameToInfo.get(f"{_PACKAGE_FOLDER}/{_chapter_path(number)}")
            if info is None or info.compress_type != zipfile.ZIP_DEFLATED:
                continue
            file.seek(info.header_offset)  # type: ignore[union-attr]
            header = file.read(zipfile.sizeFileHeader)  # type: ignore[union-attr]
            if header[:4] != zipfile.stringFileHeader:
                continue
            name_length, extra_length = struct.unpack("<HH", header[26:30])  # the local header's last two fields
            file.seek(info.header_offset + zipfile.sizeFileHeader + name_length + extra_length)  # type: ignore[union-attr]
            found[number] = Deflated(info.CRC, info.file_size, file.read(info.compress_size))  # type: ignore[union-attr]
    return found


def _chapter_path(number: int) -> str:
    """Where the number-th chapter's document is, in the package folder."""
    return f"text/{chapter_file(number)}"


def _zip_info(name: str, stamp: tuple[int, ...], compression: int) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=stamp)
    info.compress_type = compression
    info.external_attr = 0o644 << 16
    info.create_system = 3
    return info


def _ebooklib_book(book: Book, documents: Callable[[int], Deflated] | None) -> epub.EpubBook:
    metadata = book.metadata
    ebook = epub.EpubBook()
    _add_identifiers(ebook, metadata.identifier or default_identifier(metadata))
    ebook.set_title(metadata.title)
    ebook.set_language(metadata.language)
    _add_people(ebook, metadata)
    ebook.add_metadata("DC", "date", book_time(metadata.modified).strftime(_OPF_TIME))
    for name, value in (("description", metadata.description), ("publisher", metadata.publisher), ("source", metadata.source)):
        if value:
            ebook.add_metadata("DC", name, value)
    for subject in metadata.subjects:
        ebook.add_metadata("DC", "subject", subject)
    _add_accessibility(ebook, book.cover is not None or any(chapter.images for chapter in book.chapters))

    _add_series(ebook, metadata)
    _add_stylesheets(ebook, book)
    hrefs = stylesheet_hrefs(book)
    front = _cover_page(ebook, book, hrefs)
    title_page = _PrebuiltDocument("titlepage", "text/titlepage.xhtml", metadata.title, title_page_document(metadata, hrefs))
    front += [title_page] + _information_page(book, hrefs)
    chapters = [
        _PrebuiltDocument(
            f"chapter-{number:04d}",
            _chapter_path(number),
            chapter.heading.label,
            partial(documents, number) if documents is not None else partial(chapter_document, chapter, number, metadata.language, hrefs),
        )
        for number, chapter in enumerate(book.chapters, 1)
    ]
    texts = chapters + _endnotes(book, hrefs)
    _add_illustrations(ebook, book)
    nav = epub.EpubNav(title="Contents")
    for file_name in stylesheet_files(book):
        nav.add_link(href=file_name, rel="stylesheet", type="text/css")
    for item in (*front, nav, *texts):
        ebook.add_item(item)
    ebook.add_item(epub.EpubNcx())
    ebook.toc = _table_of_contents(book, chapters) + texts[len(chapters) :]
    ebook.spine = [*front, nav, *texts]
    ebook.guide = [{"type": "toc", "href": nav.file_name, "title": "Contents"}]
    if book.cover:
        ebook.guide.insert(0, {"type": "cover", "href": front[0].file_name, "title": "Cover"})
    if chapters:
        ebook.guide.append({"type": "text", "href": chapters[0].file_name, "title": "Start"})
    return ebook


def stylesheet_files(book: Book) -> tuple[str, ...]:
    """The book's stylesheets, in the order its documents link them: the theme's, then the user's
    own, whose rules win over the theme's. The user's is named for its file, unless that is the theme's name."""
    if book.user_stylesheet is None:
        return (STYLESHEET,)
    user = f"styles/{book.user_stylesheet.name}.css"
    return (STYLESHEET, user if user != STYLESHEET else "styles/user.css")


def stylesheet_hrefs(book: Book) -> tuple[str, ...]:
    """The stylesheets as the book's documents (in text/) link them."""
    return tuple(f"../{file_name}" for file_name in stylesheet_files(book))


def _add_stylesheets(ebook: epub.EpubBook, book: Book) -> None:
    texts = (book.stylesheet,) + ((book.user_stylesheet.css,) if book.user_stylesheet else ())
    for index, (file_name, css) in enumerate(zip(stylesheet_files(book), texts)):
        ebook.add_item(epub.EpubItem(uid="stylesheet" if index == 0 else "user-stylesheet", file_name=file_name, media_type="text/css", content=css.encode()))


def _table_of_contents(book: Book, chapters: list[_PrebuiltDocument]) -> list:
    """The chapters, nested under their volumes when the book has several (two levels: Kindle shows no more)."""
    if not book.volumes:
        return list(chapters)
    toc, start = [], 0
    for volume in book.volumes:
        members = chapters[start : start + len(volume.chapters)]
        start += len(volume.chapters)
        toc.append((epub.Section(volume.label, href=members[0].file_name), members))
    return toc


def _add_illustrations(ebook: epub.EpubBook, book: Book) -> None:
    """Each chapter's images, declared with the media type their bytes show."""
    for number, chapter in enumerate(book.chapters, 1):
        for index, image in enumerate(chapter.images):
            file_name = illustration_file(number, index, image.extension)
            ebook.add_item(epub.EpubImage(uid=f"image-{number:04d}-{index + 1}", file_name=file_name, media_type=image.media_type, content=image.data))


def _information_page(book: Book, hrefs: tuple[str, ...]) -> list[_PrebuiltDocument]:
    if not book.info_page:
        return []
    content = information_page_document(book.metadata, book.chapters, hrefs)
    return [_PrebuiltDocument("information", "text/information.xhtml", "About this book", content)]


def _cover_page(ebook: epub.EpubBook, book: Book, hrefs: tuple[str, ...]) -> list[_PrebuiltDocument]:
    """The cover image (properties cover-image, and the EPUB 2 meta name="cover" library views read)
    and a linear page showing it first in the spine: ebooklib's own cover page is non-linear and
    linked from nowhere, which EPUBCheck reports (trap 5)."""
    if book.cover is None:
        return []
    image = epub.EpubCover(uid="cover-image", file_name=f"images/cover.{book.cover.extension}")
    image.media_type = book.cover.media_type
    image.content = book.cover.data
    ebook.add_item(image)
    ebook.add_metadata(None, "meta", "", {"name": "cover", "content": image.id})
    content = cover_page_document(book.metadata, f"../{image.file_name}", hrefs)
    return [_PrebuiltDocument("cover", "text/cover.xhtml", "Cover", content)]


def _add_series(ebook: epub.EpubBook, metadata: Metadata) -> None:
    """Series metadata both ways: calibre:series for Calibre and KOReader, belongs-to-collection for EPUB 3 readers."""
    if not metadata.series:
        return
    ebook.add_metadata(None, "meta", "", {"name": "calibre:series", "content": metadata.series})
    ebook.add_metadata(None, "meta", metadata.series, {"property": "belongs-to-collection", "id": "series"})
    ebook.add_metadata(None, "meta", "series", {"refines": "#series", "property": "collection-type"})
    if metadata.series_index is not None:
        ebook.add_metadata(None, "meta", "", {"name": "calibre:series_index", "content": str(metadata.series_index)})
        ebook.add_metadata(None, "meta", str(metadata.series_index), {"refines": "#series", "property": "group-position"})


def _endnotes(book: Book, hrefs: tuple[str, ...]) -> list[_PrebuiltDocument]:
    """The Notes document after the last chapter, when some notes are endnotes: in the spine and the TOC."""
    if not has_endnotes(book.chapters):
        return []
    content = endnotes_document(book.chapters, book.metadata.language, hrefs)
    return [_PrebuiltDocument("endnotes", f"text/{ENDNOTES_FILE}", ENDNOTES_TITLE, content)]


def _add_identifiers(ebook: epub.EpubBook, identifier: str) -> None:
    """The book's identifier; and a urn:uuid one again as `epubgen:<uuid>`: calibre keeps a urn:uuid
    only as its own record's uuid, shown nowhere, but lists an identifier of any other scheme."""
    ebook.set_identifier(identifier)
    if identifier.startswith("urn:uuid:"):
        ebook.add_metadata("DC", "identifier", "epubgen:" + identifier.removeprefix("urn:uuid:"), {"id": "epubgen-id"})


def _add_people(ebook: epub.EpubBook, metadata: Metadata) -> None:
    """The authors, or an Unknown one: without a creator, calibre takes one from the file name."""
    for index, author in enumerate(metadata.authors or (UNKNOWN_AUTHOR,), 1):
        ebook.add_author(author, role="aut", uid=f"author-{index}")
    contributors = [("trl", name) for name in metadata.translators] + list(metadata.contributors)
    for index, (role, name) in enumerate(contributors, 1):
        uid = f"contributor-{index}"
        ebook.add_metadata("DC", "contributor", name, {"id": uid})
        ebook.add_metadata(None, "meta", role, {"refines": f"#{uid}", "property": "role", "scheme": "marc:relators"})


def _add_accessibility(ebook: epub.EpubBook, has_images: bool) -> None:
    properties = (
        ("schema:accessMode", "textual"),
        *((("schema:accessMode", "visual"),) if has_images else ()),
        ("schema:accessModeSufficient", "textual"),
        ("schema:accessibilityFeature", "structuralNavigation"),
        ("schema:accessibilityFeature", "tableOfContents"),
        ("schema:accessibilityFeature", "readingOrder"),
        ("schema:accessibilityHazard", "none"),
        ("schema:accessibilitySummary", "Text-only book with a navigable table of contents and headings for every chapter."),
    )
    for name, value in properties:
        ebook.add_metadata(None, "meta", value, {"property": name})


class _PrebuiltDocument(epub.EpubHtml):
    """An XHTML document serialised by us, handed to ebooklib as it is (trap 3).

    Its content may be the function that serialises it, or its bytes compressed already (Deflated):
    ebooklib only passes what get_content() returns on to the zip (_Entries), which keeps it as it
    is for write_zip.
    """

    def __init__(self, uid: str, file_name: str, title: str, content: Content):
        super().__init__(uid=uid, file_name=file_name, title=title)
        self.content = content

    def get_content(self, default: bytes | None = None) -> Content:  # type: ignore[override]
        return self.content


class _Entries:
    """Stands in for ebooklib's zip file: collects what it writes, by name (traps 7 and 9)."""

    def __init__(self) -> None:
        self.files: dict[str, Content] = {}

    def writestr(self, name: str, data: str | Content, compress_type: int | None = None) -> None:
        self.files[name] = data.encode("utf-8") if isinstance(data, str) else data


class _Writer(epub.EpubWriter):
    def __init__(self, ebook: epub.EpubBook, modified: int):
        options = dict(_WRITER_OPTIONS, mtime=book_time(modified))
        super().__init__("", ebook, options)

    def entries(self) -> dict[str, Content]:
        self.out = _Entries()
        try:
            self.out.writestr("mimetype", "application/epub+zip")
            self._write_container()
            self._write_opf()
            self._write_items()
            return self.out.files
        finally:  # trap 10
            for item in self.book.items:
                item.book = None
            self.book = self.out = None

    def _get_nav(self, item: epub.EpubNav) -> bytes:
        """The nav document, its landmarks hidden (trap 11): reading systems still find them."""
        nav = etree.fromstring(super()._get_nav(item))
        for landmarks in nav.iterfind(".//{http://www.w3.org/1999/xhtml}nav[@{http://www.idpf.org/2007/ops}type='landmarks']"):
            landmarks.set("hidden", "hidden")
        return etree.tostring(nav.getroottree(), pretty_print=True, encoding="utf-8", xml_declaration=True)

    def _write_opf_file(self, root) -> None:  # type: ignore[no-untyped-def]
        root.set(_XML_LANG, self.book.language)
        super()._write_opf_file(root)
