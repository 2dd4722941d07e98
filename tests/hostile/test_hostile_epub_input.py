"""An EPUB given as input, hostile or broken (issue 19): chapters kept whatever holds their text,
zip bombs capped, every unreadable part a one-line error naming the EPUB and the entry, a bad
language tag mended or dropped."""

from __future__ import annotations

import struct
import tracemalloc
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from conftest import OpenedEpub, assert_valid, write_chapters
from epubgen.builder import build
from epubgen.config import BookConfig, NotesConfig
from epubgen.errors import InputError
from epubgen.read.epub import MAX_ENTRY_BYTES, MAX_EPUB_BYTES, read_epub_input

CONTAINER = (
    '<?xml version="1.0" encoding="utf-8"?>'
    '<container version="1.0" xmlns="urn:oasis:names:tc:opendocument:xmlns:container">'
    '<rootfiles><rootfile full-path="EPUB/content.opf" media-type="application/oebps-package+xml"/></rootfiles></container>'
)
NAV = (
    '<?xml version="1.0" encoding="utf-8"?><html xmlns="http://www.w3.org/1999/xhtml" xmlns:epub="http://www.idpf.org/2007/ops">'
    '<head><title>Contents</title></head><body><nav epub:type="toc"><ol>'
    '<li><a href="c1.xhtml">The Orchard</a></li><li><a href="c2.xhtml">The Well</a></li></ol></nav></body></html>'
)
MANIFEST = (
    '<item id="nav" href="nav.xhtml" media-type="application/xhtml+xml" properties="nav"/>'
    '<item id="c1" href="c1.xhtml" media-type="application/xhtml+xml"/>'
    '<item id="c2" href="c2.xhtml" media-type="application/xhtml+xml"/>'
)
SPINE = '<spine><itemref idref="c1"/><itemref idref="c2"/></spine>'
METADATA = '<dc:identifier id="id">urn:uuid:0f0e0d0c-0b0a-4908-8706-050403020100</dc:identifier><dc:title>The Glass Orchard</dc:title>'
LAUGHS = (
    '<!DOCTYPE {root} [<!ENTITY lol0 "lol">'
    + "".join(f'<!ENTITY lol{n} "{f"&lol{n - 1};" * 10}">' for n in range(1, 10))
    + "]>"
)


def package(metadata: str = METADATA, language: str = "en", manifest: str = MANIFEST, spine: str = SPINE, doctype: str = "") -> str:
    return (
        f'<?xml version="1.0" encoding="utf-8"?>{doctype}'
        '<package xmlns="http://www.idpf.org/2007/opf" version="3.0" unique-identifier="id">'
        f'<metadata xmlns:dc="http://purl.org/dc/elements/1.1/">{metadata}<dc:language>{language}</dc:language>'
        '<meta property="dcterms:modified">2024-01-01T00:00:00Z</meta></metadata>'
        f"<manifest>{manifest}</manifest>{spine}</package>"
    )


def page(body: str, doctype: str = "") -> str:
    return (
        f'<?xml version="1.0" encoding="utf-8"?>{doctype}<html xmlns="http://www.w3.org/1999/xhtml" xmlns:epub="http://www.idpf.org/2007/ops">'
        f"<head><title>Page</title></head><body>{body}</body></html>"
    )


def entries(**changes: str | bytes | None) -> dict[str, str | bytes]:
    """A small valid EPUB's entries by name, with changes (`c1=...`, `opf=...`; None leaves one out)."""
    parts: dict[str, str | bytes | None] = {
        "mimetype": "application/epub+zip",
        "META-INF/container.xml": CONTAINER,
        "EPUB/content.opf": package(),
        "EPUB/nav.xhtml": NAV,
        "EPUB/c1.xhtml": page("<h1>The Orchard</h1><p>Glass apples hung from every bough.</p>"),
        "EPUB/c2.xhtml": page("<h1>The Well</h1><p>The well answered in her own voice.</p>"),
    }
    aliases = {
        "mimetype": "mimetype",
        "container": "META-INF/container.xml",
        "opf": "EPUB/content.opf",
        "nav": "EPUB/nav.xhtml",
        "ncx": "EPUB/toc.ncx",
    }
    for key, value in changes.items():
        parts[aliases.get(key, f"EPUB/{key}.xhtml")] = value
    return {name: value for name, value in parts.items() if value is not None}


def write_epub(path: Path, parts: dict[str, str | bytes]) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for name, content in parts.items():
            method = zipfile.ZIP_STORED if name == "mimetype" else zipfile.ZIP_DEFLATED
            archive.writestr(name, content, compress_type=method)
    return path


def patch_central_entry(path: Path, name: str, offset: int, value: bytes) -> None:
    """Overwrite bytes of name's central directory record (offset from the record's start)."""
    data = bytearray(path.read_bytes())
    start = data.find(b"PK\x01\x02")
    while start != -1:
        length = struct.unpack_from("<H", data, start + 28)[0]
        if data[start + 46 : start + 46 + length] == name.encode():
            data[start + offset : start + offset + len(value)] = value
            path.write_bytes(bytes(data))
            return
        start = data.find(b"PK\x01\x02", start + 4)
    raise AssertionError(f"{name} not in {path}")


def compressed_span(path: Path, name: str) -> tuple[int, int]:
    """Where name's compressed data lies in the file: (start, end)."""
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo(name)
    data = path.read_bytes()
    names, extra = struct.unpack_from("<HH", data, info.header_offset + 26)
    start = info.header_offset + 30 + names + extra
    return start, start + info.compress_size


def chapter_texts(path: Path) -> list[str]:
    return ["\n".join(line.text for line in chapter.lines) for chapter in read_epub_input(path).chapters]


def one_line_error(path: Path, *parts: str) -> str:
    """The InputError reading path gives: one line, naming the EPUB and each of parts."""
    with pytest.raises(InputError) as caught:
        read_epub_input(path)
    message = str(caught.value)
    assert "\n" not in message and message.startswith(f"{path.name}: "), message
    for part in parts:
        assert part in message, message
    return message


# Item 4: a chapter is a notes document only when marked so or when it held nothing but notes.

STORY = "The keeper counted the lanterns twice."
BODIES = {
    "divs": f"<h1>Chapter 1</h1><div>{STORY}</div><div>Then she slept.</div>",
    "sections": f"<section><h2>Chapter 1</h2><section>{STORY}</section></section>",
    "bare text": f"<h1>Chapter 1</h1>{STORY}",
    "spans and br": f"<h2>Chapter 1</h2><span>{STORY}</span><br/><span>Then she slept.</span>",
    "pre": f"<h1>Chapter 1</h1><pre>{STORY}\nThen she slept.</pre>",
    "table": f"<h3>Chapter 1</h3><table><tr><td>{STORY}</td></tr></table>",
    "divs and a taken note": (
        f'<h1>Chapter 1</h1><div>{STORY}<a epub:type="noteref" href="#n1">1</a></div>'
        '<aside epub:type="footnote" id="n1">Twice, as always.</aside>'
    ),
}


@pytest.mark.parametrize("body", BODIES.values(), ids=BODIES.keys())
def test_a_chapter_is_kept_whatever_holds_its_text(tmp_path: Path, body: str) -> None:
    source = write_epub(tmp_path / "held.epub", entries(c1=page(body)))
    texts = chapter_texts(source)
    assert len(texts) == 2 and STORY in texts[0]


def test_a_chapter_in_divs_reaches_the_book(tmp_path: Path) -> None:
    source = write_epub(tmp_path / "divs.epub", entries(c1=page(BODIES["divs"])))
    book = OpenedEpub(build(source, BookConfig(), tmp_path / "out.epub").path)
    assert STORY in book.text() and len(book.chapter_files()) == 2
    assert_valid(book.path)


OTHER_NOTES_DOCUMENTS = {
    "rearnotes": (
        '<section epub:type="rearnotes"><h1>Notes</h1><ol><li id="n1" epub:type="rearnote">Glass, not ice.</li>'
        '<li id="n2" epub:type="rearnote">Her own voice.</li></ol></section>'
    ),
    "doc-endnotes": (
        '<section role="doc-endnotes"><h1>Notes</h1><ol><li id="n1"><p>Glass, not ice. <a href="c1.xhtml#r1" role="doc-backlink">back</a></p></li>'
        '<li id="n2"><p>Her own voice.</p></li></ol></section>'
    ),
    "endnote asides": (
        '<h1>Notes</h1><aside epub:type="endnote" id="n1">Glass, not ice.</aside><aside epub:type="endnote" id="n2">Her own voice.</aside>'
    ),
}


@pytest.mark.parametrize("notes", OTHER_NOTES_DOCUMENTS.values(), ids=OTHER_NOTES_DOCUMENTS.keys())
def test_another_tools_notes_document_is_not_a_chapter_and_its_notes_go_back_inline(tmp_path: Path, notes: str) -> None:
    manifest = MANIFEST + '<item id="notes" href="notes.xhtml" media-type="application/xhtml+xml"/>'
    spine = '<spine><itemref idref="c1"/><itemref idref="c2"/><itemref idref="notes"/></spine>'
    parts = entries(
        opf=package(manifest=manifest, spine=spine),
        c1=page('<h1>The Orchard</h1><p>Glass apples<a id="r1" epub:type="noteref" href="notes.xhtml#n1">1</a> hung there.</p>'),
        notes=page(notes),
    )
    texts = chapter_texts(write_epub(tmp_path / "notes.epub", parts))
    assert len(texts) == 2
    assert "Glass apples (TL: Glass, not ice.) hung there." in texts[0]


def test_our_own_endnotes_document_is_not_a_chapter(tmp_path: Path) -> None:
    folder = write_chapters(
        tmp_path / "in",
        {
            "001.txt": "Chapter 1: The Orchard\n\nGlass apples hung there. (TL: glass, not ice)\n\nShe picked one.",
            "002.txt": "Chapter 2: The Well\n\nThe well answered in her own voice.",
        },
    )
    ours = build(folder, BookConfig(notes=NotesConfig(mode="endnote")), tmp_path / "ours.epub").path
    assert "EPUB/text/notes.xhtml" in OpenedEpub(ours).names
    sources = read_epub_input(ours)
    assert [chapter.source.rpartition("/")[2] for chapter in sources.chapters] == ["chapter-0001.xhtml", "chapter-0002.xhtml"]
    assert "(TL: glass, not ice)" in " ".join(line.text for line in sources.chapters[0].lines)


# Item 7: zip bombs.


def test_the_default_caps_are_generous_but_finite() -> None:
    assert (MAX_ENTRY_BYTES, MAX_EPUB_BYTES) == (256 * 1024 * 1024, 1024 * 1024 * 1024)


def test_an_entry_declared_larger_than_the_cap_is_refused_before_it_is_inflated(tmp_path: Path) -> None:
    source = write_epub(tmp_path / "bomb.epub", entries())
    patch_central_entry(source, "EPUB/c2.xhtml", 24, struct.pack("<I", 300 * 1024 * 1024))
    one_line_error(source, "EPUB/c2.xhtml", "larger than 256 MB")


@pytest.mark.parametrize("cap", ["max_entry_bytes", "max_total_bytes"])
def test_a_real_bomb_is_refused_under_either_cap(tmp_path: Path, cap: str) -> None:
    padding = "<p>" + "lantern " * 200_000 + "</p>"
    source = write_epub(tmp_path / "bomb.epub", entries(c1=page(padding), c2=page(padding)))
    with pytest.raises(InputError) as caught:
        read_epub_input(source, **{cap: 1024 * 1024 + 512 * 1024})
    message = str(caught.value)
    assert message.startswith("bomb.epub: ") and "\n" not in message
    expected = "EPUB/c1.xhtml: larger than 1.5 MB" if cap == "max_entry_bytes" else "not a readable EPUB (its entries come to more than 1.5 MB"
    assert expected in message, message


def test_an_entry_that_lies_about_its_size_is_never_inflated_past_it(tmp_path: Path) -> None:
    source = tmp_path / "liar.epub"
    write_epub(source, entries(c2=None))
    with zipfile.ZipFile(source, "a") as archive, archive.open("EPUB/c2.xhtml", "w") as entry:
        entry.write(page("<p>").encode())
        for _ in range(64):
            entry.write(b" " * (1024 * 1024))
    patch_central_entry(source, "EPUB/c2.xhtml", 24, struct.pack("<I", 4000))
    tracemalloc.start()
    try:
        one_line_error(source, "EPUB/c2.xhtml")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 16 * 1024 * 1024


# Item 11: every way an EPUB cannot be read is one line naming the EPUB and the entry.

LONG_CHAPTER = page("".join(f"<p>Line {n}: the orchard's glass rang {n * 7 % 13} times at dusk.</p>" for n in range(400)))


def corrupted(path: Path) -> None:
    start, end = compressed_span(path, "EPUB/c1.xhtml")
    data = bytearray(path.read_bytes())
    for at in range((start + end) // 2, (start + end) // 2 + 16):
        data[at] ^= 0x5A
    path.write_bytes(bytes(data))


def spoiled_header(offset: int, value: bytes) -> Callable[[Path], None]:
    """Overwrite a field of the first chapter's central directory record: its flags, its method."""
    return lambda path: patch_central_entry(path, "EPUB/c1.xhtml", offset, value)


def truncated(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


BROKEN = {
    "billion laughs in the package": (
        {"opf": package(metadata=METADATA.replace("The Glass Orchard", "&lol9;"), doctype=LAUGHS.format(root="package"))},
        None,
        ("EPUB/content.opf", "entities"),
    ),
    "billion laughs in a chapter": ({"c1": page("<p>&lol9;</p>", doctype=LAUGHS.format(root="html"))}, None, ("EPUB/c1.xhtml", "entities")),
    "no spine": ({"opf": package(spine="")}, None, ("EPUB/content.opf", "spine")),
    "an empty spine": ({"opf": package(spine="<spine/>")}, None, ("EPUB/content.opf", "spine")),
    "a spine of missing items": ({"opf": package(spine='<spine><itemref idref="ghost"/></spine>')}, None, ("EPUB/content.opf", "spine")),
    "no manifest": ({"opf": package(manifest="").replace("<manifest></manifest>", "")}, None, ("EPUB/content.opf", "manifest")),
    "no metadata": ({"opf": package().replace("<metadata", "<metadatum").replace("</metadata>", "</metadatum>")}, None, ("EPUB/content.opf",)),
    "a package that is not XML": ({"opf": bytes(range(256)) * 4}, None, ("EPUB/content.opf",)),
    "an encrypted entry": ({"c1": LONG_CHAPTER}, spoiled_header(8, b"\x01"), ("EPUB/c1.xhtml", "encrypted")),
    "compression method 99": ({"c1": LONG_CHAPTER}, spoiled_header(10, b"\x63\x00"), ("EPUB/c1.xhtml", "method 99")),
    "bzip2 compression": ({"c1": LONG_CHAPTER}, spoiled_header(10, b"\x0c\x00"), ("EPUB/c1.xhtml", "method 12")),
    "corrupt deflate data": ({"c1": LONG_CHAPTER}, corrupted, ("EPUB/c1.xhtml", "corrupt")),
    "a truncated file": ({}, truncated, ("not a readable EPUB",)),
    "no container": ({"container": None}, None, ("META-INF/container.xml", "not in the EPUB")),
    "a container naming no package": ({"container": CONTAINER.replace("<rootfile ", "<notroot ")}, None, ("META-INF/container.xml", "no package")),
    "a container pointing nowhere": ({"container": CONTAINER.replace("content.opf", "nothing.opf")}, None, ("EPUB/nothing.opf", "not in the EPUB")),
}


@pytest.mark.parametrize(("changes", "spoil", "named"), BROKEN.values(), ids=BROKEN.keys())
def test_an_unreadable_epub_is_one_line_naming_it_and_the_entry(tmp_path: Path, changes: dict, spoil, named: tuple[str, ...]) -> None:
    source = write_epub(tmp_path / "book.epub", entries(**changes))
    if spoil is not None:
        spoil(source)
    one_line_error(source, *named)


def test_a_book_without_its_mimetype_entry_is_still_read(tmp_path: Path) -> None:
    assert len(chapter_texts(write_epub(tmp_path / "plain.epub", entries(mimetype=None)))) == 2


IMAGE = '<item id="bell" href="bell.png" media-type="image/png"/>'
NCX_ONLY = MANIFEST.replace('properties="nav"', "").replace('id="nav"', 'id="ncx"').replace("nav.xhtml", "toc.ncx")
NCX_ONLY = NCX_ONLY.replace('media-type="application/xhtml+xml" ', 'media-type="application/x-dtbncx+xml" ', 1)
NCX_PACKAGE = package(manifest=NCX_ONLY, spine=SPINE.replace("<spine>", '<spine toc="ncx">'))


def a_third_chapter(content: str | bytes) -> dict[str, str | bytes]:
    manifest = MANIFEST + '<item id="c3" href="c3.xhtml" media-type="application/xhtml+xml"/>'
    return {"c3": content, "opf": package(manifest=manifest, spine=SPINE.replace("</spine>", '<itemref idref="c3"/></spine>'))}


MALFORMED = {
    "a navigation document that is not XML": {"nav": b"\x00\x01\x02 <nav><ol><li"},
    "a navigation document without a toc": {"nav": page("<p>nothing</p>")},
    "a navigation document that is missing": {"nav": None},
    "a toc entry with no href": {"nav": NAV.replace('<a href="c2.xhtml">', "<a>")},
    "an NCX that is not XML": {"nav": None, "ncx": b"\xff\xfe garbage", "opf": NCX_PACKAGE},
    "an NCX that is missing": {"nav": None, "opf": NCX_PACKAGE},
    "no title": {"opf": package(metadata=METADATA.replace("<dc:title>The Glass Orchard</dc:title>", ""))},
    "an empty body": a_third_chapter(page("")),
    "an empty document": a_third_chapter(""),
    "a binary document": a_third_chapter(bytes(range(256)) * 8),
    "a chapter that is missing": {**a_third_chapter(""), "c3": None},
    "an image in the manifest but not the EPUB": {"opf": package(manifest=MANIFEST + IMAGE), "c2": page('<p>Well.<img src="bell.png"/></p>')},
    "an image not in the manifest": {"c2": page('<p>The well.</p><p><img src="gone.png" alt="bell"/></p>')},
    "a spine item missing among others": {"opf": package(spine=SPINE.replace("<spine>", '<spine><itemref idref="ghost"/>'))},
    "duplicate ids": {"opf": package(manifest=MANIFEST.replace('id="c2"', 'id="c1"'))},
    "a cover image that is missing": {"opf": package(metadata=METADATA + '<meta name="cover" content="bell"/>', manifest=MANIFEST + IMAGE)},
}


@pytest.mark.parametrize("changes", MALFORMED.values(), ids=MALFORMED.keys())
def test_a_malformed_part_is_read_around_with_one_line_warnings(tmp_path: Path, changes: dict) -> None:
    sources = read_epub_input(write_epub(tmp_path / "odd.epub", entries(**changes)))
    assert any("Glass apples" in line.text for chapter in sources.chapters for line in chapter.lines)
    assert all("\n" not in warning and warning.startswith("odd.epub") for warning in sources.warnings), sources.warnings


# Item 16: the input's language tag.


def test_a_locale_for_a_language_is_written_as_its_tag(tmp_path: Path) -> None:
    source = write_epub(tmp_path / "locale.epub", entries(opf=package(language="en_US.UTF-8")))
    book = OpenedEpub(build(source, BookConfig(), tmp_path / "out.epub").path)
    assert book.metadata("dc:language") == ["en-US"]
    assert_valid(book.path)


def test_a_language_that_is_no_tag_is_dropped_with_a_warning(tmp_path: Path) -> None:
    sources = read_epub_input(write_epub(tmp_path / "babel.epub", entries(opf=package(language="english!"))))
    assert sources.metadata.language == ""
    assert any(warning.startswith("babel.epub: EPUB/content.opf: ") and "english!" in warning for warning in sources.warnings)


def test_hostile_the_zip_caps_are_settings_of_book_toml(tmp_path: Path) -> None:
    """epub_entry_limit_mb and epub_limit_mb reach the EPUB reader: a 2 MB entry passes the defaults and
    is refused under a 1 MB cap."""
    from epubgen.builder import make_book
    from epubgen.config import load_config

    source = write_epub(tmp_path / "in.epub", entries(c1=page("<p>" + "Soft rain fell on the quay. " * 80_000 + "</p>")))
    assert make_book(source, load_config(source)).chapters
    (tmp_path / "book.toml").write_text("epub_entry_limit_mb = 1\n", encoding="utf-8")
    with pytest.raises(InputError, match="^in.epub: EPUB/c1.xhtml: larger than 1 MB"):
        make_book(source, load_config(source))
