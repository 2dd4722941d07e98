"""End to end: build real EPUBs from inline fixtures, unzip them, inspect them, run EPUBCheck."""

from __future__ import annotations

import os
import sys
import weakref
import zipfile
from pathlib import Path

import pytest

from conftest import NS, OpenedEpub, assert_valid, write_chapters
from epubgen import parallel
from epubgen.builder import build, make_book
from epubgen.config import BookConfig
from epubgen.errors import OutputError
from epubgen.package import epub as package_epub

CHAPTERS = {
    "ch1.txt": "Chapter 1: Arrival\n\nShe signed with AT&T <3 and wrote a < b > c.\n\n* * *\n\nAfter the break.\n",
    "ch2.txt": "Chapter 2 - The Gate\nChapter 2: The Gate\n\nThe gate was \"open\" & 'waiting'.\n",
    "ch10.txt": "CHAPTER 10 — Ten\n\nTen came after two.\n\no0o\n\nFinal line.\n",
    "ch3.txt": "Chapter 3\n\nNUL\x00 and BEL\x07 and ESC\x1b never reach the XHTML.\n",
}
CONFIG = BookConfig(
    title="Lanterns & <Ladders>",
    author=("Ash Vale", "Bo Reed"),
    translator=("Mo Lin",),
    description="A test book.",
    publisher="Example Press",
    source="https://example.org/novel",
    subjects=("Fantasy", "Mystery"),
)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> OpenedEpub:
    os.environ["SOURCE_DATE_EPOCH"] = "1700000000"
    try:
        folder = write_chapters(tmp_path_factory.mktemp("series") / "chapters", CHAPTERS)
        result = build(folder, CONFIG, tmp_path_factory.mktemp("out") / "book.epub")
    finally:
        del os.environ["SOURCE_DATE_EPOCH"]
    return OpenedEpub(result.path)


def test_the_book_passes_epubcheck_with_no_errors_or_warnings(built: OpenedEpub) -> None:
    assert_valid(built.path)


def test_chapters_follow_the_natural_file_order(built: OpenedEpub) -> None:
    assert built.nav_labels() == ["Chapter 1: Arrival", "Chapter 2: The Gate", "Chapter 3", "Chapter 10: Ten"]
    assert built.spine_files() == [
        "text/cover.xhtml",
        "text/titlepage.xhtml",
        "text/information.xhtml",
        "nav.xhtml",
        "text/chapter-0001.xhtml",
        "text/chapter-0002.xhtml",
        "text/chapter-0003.xhtml",
        "text/chapter-0004.xhtml",
    ]


def test_the_ncx_lists_the_same_chapters_as_the_nav(built: OpenedEpub) -> None:
    ncx = built.xml("EPUB/toc.ncx")
    labels = [text.text for text in ncx.iterfind(".//ncx:navPoint/ncx:navLabel/ncx:text", NS)]
    assert labels == built.nav_labels()


def test_text_is_escaped_and_reaches_the_reader_as_written(built: OpenedEpub) -> None:
    assert built.paragraphs(0) == ["She signed with AT&T <3 and wrote a < b > c.", "After the break."]
    assert built.paragraphs(1) == ["The gate was \u201copen\u201d & \u2018waiting\u2019."]
    raw = built.files["EPUB/text/chapter-0001.xhtml"].decode()
    assert "AT&amp;T &lt;3" in raw


def test_xml_forbidden_control_characters_never_reach_the_xhtml(built: OpenedEpub) -> None:
    assert built.paragraphs(2) == ["NUL and BEL and ESC never reach the XHTML."]
    for name, data in built.files.items():
        assert not any(byte < 0x20 and byte not in b"\t\n\r" for byte in data if name.endswith("xhtml")), name


def test_scene_break_lines_become_hr_elements(built: OpenedEpub) -> None:
    for index in (0, 3):
        section = built.chapter(index).find(".//x:section", NS)
        assert [child.tag.split("}")[1] for child in section] == ["h2", "p", "hr", "p"]


def test_a_heading_the_page_repeats_appears_once(built: OpenedEpub) -> None:
    chapter = built.chapter(1)
    assert ["".join(h.itertext()) for h in chapter.iterfind(".//x:h2", NS)] == ["Chapter 2: The Gate"]
    assert "Chapter 2" not in " ".join(built.paragraphs(1))


def test_metadata_carries_every_configured_value(built: OpenedEpub) -> None:
    assert built.metadata("dc:title") == ["Lanterns & <Ladders>"]
    assert built.metadata("dc:creator") == ["Ash Vale", "Bo Reed"]
    assert built.metadata("dc:contributor") == ["Mo Lin"]
    assert built.metadata("dc:language") == ["en"]
    assert built.metadata("dc:description") == ["A test book."]
    assert built.metadata("dc:publisher") == ["Example Press"]
    assert built.metadata("dc:source") == ["https://example.org/novel"]
    assert built.metadata("dc:subject") == ["Fantasy", "Mystery"]
    assert built.meta_property("dcterms:modified") == ["2023-11-14T22:13:20Z"]


def test_translator_is_a_contributor_with_role_trl(built: OpenedEpub) -> None:
    contributor = built.opf.find("opf:metadata/dc:contributor", NS)
    role = built.opf.find(f"opf:metadata/opf:meta[@refines='#{contributor.get('id')}'][@property='role']", NS)
    assert role.text == "trl"


def test_title_page_names_title_authors_and_translator(built: OpenedEpub) -> None:
    page = built.xml("EPUB/text/titlepage.xhtml")
    texts = ["".join(element.itertext()) for element in page.iterfind(".//x:section/*", NS)]
    assert texts == ["Lanterns & <Ladders>", "Ash Vale and Bo Reed", "Translated by Mo Lin"]


def test_every_document_carries_lang_and_xml_lang(built: OpenedEpub) -> None:
    for name in built.names:
        if name.endswith(".xhtml"):
            root = built.xml(name)
            assert root.get("lang") == "en", name
            assert root.get("{http://www.w3.org/XML/1998/namespace}lang") == "en", name


def test_identifier_is_stable_and_derived_from_title_and_authors(built: OpenedEpub, tmp_path: Path) -> None:
    folder = write_chapters(tmp_path / "other", {"a.txt": "Chapter 1\n\nDifferent text entirely.\n"})
    again = OpenedEpub(build(folder, CONFIG, tmp_path / "again.epub").path)
    assert again.metadata("dc:identifier") == built.metadata("dc:identifier")
    assert built.metadata("dc:identifier")[0].startswith("urn:uuid:")
    renamed = OpenedEpub(build(folder, BookConfig(title="Another"), tmp_path / "renamed.epub").path)
    assert renamed.metadata("dc:identifier") != built.metadata("dc:identifier")


def test_a_given_identifier_is_used_as_it_is(tmp_path: Path) -> None:
    folder = write_chapters(tmp_path / "c", {"1.txt": "Chapter 1\n\nText.\n"})
    book = OpenedEpub(build(folder, BookConfig(identifier="urn:isbn:9780000000002"), tmp_path / "b.epub").path)
    assert book.metadata("dc:identifier") == ["urn:isbn:9780000000002"]


# Reproducible and atomic


def test_two_builds_of_the_same_input_are_byte_identical(tmp_path: Path) -> None:
    folder = write_chapters(tmp_path / "c", CHAPTERS)
    first = build(folder, CONFIG, tmp_path / "one.epub").path.read_bytes()
    second = build(folder, CONFIG, tmp_path / "two.epub").path.read_bytes()
    assert first == second


def test_without_source_date_epoch_the_book_is_dated_by_its_newest_input(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SOURCE_DATE_EPOCH")
    folder = write_chapters(tmp_path / "c", {"1.txt": "Chapter 1\n\nOne.\n", "2.txt": "Chapter 2\n\nTwo.\n"})
    os.utime(folder / "1.txt", (1600000000, 1600000000))
    os.utime(folder / "2.txt", (1650000000, 1650000000))
    book = OpenedEpub(build(folder, BookConfig(), tmp_path / "b.epub").path)
    assert book.meta_property("dcterms:modified") == ["2022-04-15T05:20:00Z"]


def test_zip_entries_are_sorted_after_a_stored_mimetype_with_fixed_times(built: OpenedEpub) -> None:
    with zipfile.ZipFile(built.path) as archive:
        infos = archive.infolist()
    assert infos[0].filename == "mimetype"
    assert infos[0].compress_type == zipfile.ZIP_STORED
    assert built.files["mimetype"] == b"application/epub+zip"
    assert [info.filename for info in infos[1:]] == sorted(info.filename for info in infos[1:])
    assert {info.date_time for info in infos} == {(2023, 11, 14, 22, 13, 20)}
    assert built.path.read_bytes()[30:38] == b"mimetype"


def test_a_failure_mid_write_leaves_the_previous_book_untouched(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = write_chapters(tmp_path / "c", CHAPTERS)
    target = build(folder, CONFIG, tmp_path / "book.epub").path
    before = target.read_bytes()

    def fail_after_some_entries(archive, info, data):  # type: ignore[no-untyped-def]
        if info.filename.startswith("EPUB/text/chapter-0002"):
            raise OSError(28, "No space left on device")
        return original(archive, info, data)

    original = package_epub._write_deflated
    monkeypatch.setattr(package_epub, "_write_deflated", fail_after_some_entries)
    (folder / "ch1.txt").write_text("Chapter 1: Changed\n\nNew text.\n", encoding="utf-8")
    with pytest.raises(OutputError, match="No space left on device"):
        build(folder, CONFIG, target)
    assert target.read_bytes() == before
    assert sorted(path.name for path in tmp_path.iterdir()) == ["book.epub", "c"]


def test_a_build_killed_mid_write_leaves_the_previous_book_untouched(tmp_path: Path) -> None:
    import subprocess
    import sys

    folder = write_chapters(tmp_path / "c", CHAPTERS)
    target = build(folder, CONFIG, tmp_path / "book.epub").path
    before = target.read_bytes()
    (folder / "ch1.txt").write_text("Chapter 1: Changed\n\nNew text.\n", encoding="utf-8")
    killer = (
        "import os, signal, sys\n"
        "from pathlib import Path\n"
        "from epubgen.builder import build\n"
        "from epubgen.config import BookConfig\n"
        "from epubgen.package import epub\n"
        "original = epub._write_deflated\n"
        "def die(archive, info, data):\n"
        "    if info.filename.startswith('EPUB/text/'):\n"
        "        os.kill(os.getpid(), signal.SIGKILL)\n"
        "    return original(archive, info, data)\n"
        "epub._write_deflated = die\n"
        "build(Path(sys.argv[1]), BookConfig(), Path(sys.argv[2]))\n"
    )
    process = subprocess.run([sys.executable, "-c", killer, str(folder), str(target)], capture_output=True)
    assert process.returncode == -9
    assert target.read_bytes() == before


# ebooklib's traps (DESIGN.md numbers them)


def test_trap1_no_fake_page_list_in_the_nav(built: OpenedEpub) -> None:
    nav = built.xml("EPUB/nav.xhtml")
    assert nav.find(".//x:nav[@epub:type='page-list']", NS) is None
    assert [n.get("{%s}type" % NS["epub"]) for n in nav.iterfind(".//x:nav", NS)] == ["toc", "landmarks"]


def test_trap2_a_chapter_with_no_text_is_a_complete_document(tmp_path: Path) -> None:
    folder = write_chapters(tmp_path / "c", {"1.txt": "Chapter 1: Only a heading\n", "2.txt": "Chapter 2\n\nText.\n"})
    book = OpenedEpub(build(folder, BookConfig(), tmp_path / "b.epub").path)
    headings = ["".join(h.itertext()) for h in book.chapter(0).iterfind(".//x:h2", NS)]
    assert headings == ["Chapter 1: Only a heading"]
    assert_valid(book.path)


def test_trap3_chapter_head_keeps_title_and_stylesheet_link(built: OpenedEpub) -> None:
    head = built.chapter(0).find("x:head", NS)
    assert head.find("x:title", NS).text == "Chapter 1: Arrival"
    assert head.find("x:link[@rel='stylesheet']", NS).get("href") == "../styles/default.css"
    assert "EPUB/styles/default.css" in built.names


def test_trap4_every_creator_and_contributor_has_its_own_id(built: OpenedEpub) -> None:
    ids = [element.get("id") for element in built.opf.iter() if element.get("id")]
    assert len(ids) == len(set(ids))
    assert len(built.metadata("dc:creator")) == 2


def test_trap6_package_carries_xml_lang(built: OpenedEpub) -> None:
    assert built.opf.get("{http://www.w3.org/XML/1998/namespace}lang") == "en"


def test_trap10_the_entries_made_leave_no_cycle_holding_the_chapters(tmp_path: Path) -> None:
    """Once the entries are gone, so is everything they were made from: freed as soon as dropped,
    with the collector off, not at its next full pass (a build's documents function holds its chapters)."""

    class Documents:
        def __call__(self, number: int) -> package_epub.Deflated:
            return package_epub.Deflated.of(b"")

    folder = write_chapters(tmp_path / "c", {"1.txt": "Chapter 1\n\nText.\n", "2.txt": "Chapter 2\n\nMore text.\n"})
    book = make_book(folder, BookConfig())
    documents = Documents()
    alive = weakref.ref(documents)
    with parallel.paused_gc():
        entries = package_epub.epub_entries(book, documents)
        del documents
        assert alive() is not None  # the entries hold it, for write_zip
        del entries
        assert alive() is None


def test_trap8_file_names_inside_the_book_are_ascii_slugs(tmp_path: Path) -> None:
    folder = write_chapters(tmp_path / "c", {"第1章 开始.txt": "第1章 开始\n\n正文。\n", "Chapter 2 — été.txt": "Chapter 2\n\nTexte.\n"})
    book = OpenedEpub(build(folder, BookConfig(title="书", language="zh"), tmp_path / "b.epub").path)
    assert all(name.isascii() and " " not in name for name in book.names)
    assert_valid(book.path)


def test_trap9_an_unwritable_output_is_an_error_not_a_silent_false(tmp_path: Path) -> None:
    folder = write_chapters(tmp_path / "c", {"1.txt": "Chapter 1\n\nText.\n"})
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where a folder should be")
    with pytest.raises(OutputError, match="not-a-folder"):
        build(folder, BookConfig(), blocker / "book.epub")


@pytest.mark.skipif(sys.platform != "linux", reason="a file name of bytes that are not UTF-8 needs a Linux file system")
def test_file_and_folder_names_that_are_not_utf8_make_a_valid_book(tmp_path: Path) -> None:
    folder = Path(os.fsdecode(bytes(tmp_path) + b"/caf\xe9-novel"))
    write_chapters(folder, {os.fsdecode(b"0001-\xff.txt"): "Just story text, no heading.\n\nMore of it.\n", "0002.txt": "Chapter 2: Fine\n\nText.\n"})
    book = build(folder, BookConfig(), tmp_path / "book.epub").path
    assert_valid(book)
    assert OpenedEpub(book).metadata("dc:title") == ["caf\ufffd novel"]
