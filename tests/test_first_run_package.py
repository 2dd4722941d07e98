"""What a new user trips over in a built book (issue 18): the metadata calibre shows, the guide
list on the contents page, and their own CSS laid over the theme's."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import NS, OpenedEpub, assert_valid, write_chapters
from epubgen.builder import build, stylesheet
from epubgen.config import BookConfig, VolumesConfig

EBOOK_META = shutil.which("ebook-meta")


def chapters(count: int) -> dict[str, str]:
    return {f"{number:02d}.txt": f"Chapter {number}: Stop {number}\n\nThe tram stopped at the {number}th stop.\n" for number in range(1, count + 1)}


def ebook_meta(path: Path) -> dict[str, str]:
    """What calibre's ebook-meta shows for a book, by field."""
    environment = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    shown = subprocess.run([EBOOK_META, str(path)], capture_output=True, text=True, check=True, timeout=120, env=environment).stdout
    fields = (line.partition(":") for line in shown.splitlines() if ":" in line)
    return {name.strip(): value.strip() for name, _, value in fields}


@pytest.mark.skipif(EBOOK_META is None, reason="calibre's ebook-meta is not installed (.ci/run installs calibre from Debian)")
def test_calibre_reads_a_volume_without_an_author_as_unknown_with_its_identifier_and_date(tmp_path: Path) -> None:
    """With the default volume names: a name of the form "A - B" would be read by calibre as title A
    by author B when the book's own author is Unknown, so the default has no " - "."""
    folder = write_chapters(tmp_path / "tram", chapters(6))
    config = BookConfig(title="Night Tram", volumes=VolumesConfig(per_volume=3))
    volume = build(folder, config, tmp_path / "out").paths[1]
    identifier = OpenedEpub(volume).metadata("dc:identifier")[0]

    shown = ebook_meta(volume)

    assert shown["Title"] == "Night Tram, Volume 2"
    assert shown["Author(s)"] == "Unknown"
    assert shown["Series"] == "Night Tram #2"
    assert shown["Languages"] == "eng"
    assert shown["Identifiers"] == "epubgen:" + identifier.removeprefix("urn:uuid:")
    assert shown["Published"].startswith("2023-11-14T22:13:20")
    assert_valid(volume)


@pytest.mark.skipif(EBOOK_META is None, reason="calibre's ebook-meta is not installed (.ci/run installs calibre from Debian)")
def test_calibre_shows_the_books_own_author(tmp_path: Path) -> None:
    folder = write_chapters(tmp_path / "tram", chapters(2))
    book = build(folder, BookConfig(title="Night Tram", author=("Mira Sol",)), tmp_path / "Night Tram - Someone Else.epub").paths[0]

    assert ebook_meta(book)["Author(s)"] == "Mira Sol"


def test_an_unknown_author_is_written_as_unknown_and_the_date_as_the_books(tmp_path: Path) -> None:
    book = OpenedEpub(build(write_chapters(tmp_path / "tram", chapters(2)), BookConfig(), tmp_path / "b.epub").path)

    assert book.metadata("dc:creator") == ["Unknown"]
    assert book.metadata("dc:date") == book.meta_property("dcterms:modified") == ["2023-11-14T22:13:20Z"]


def test_the_landmarks_stay_in_the_nav_hidden_from_the_contents_page(tmp_path: Path) -> None:
    book = OpenedEpub(build(write_chapters(tmp_path / "tram", chapters(2)), BookConfig(), tmp_path / "b.epub").path)
    nav = book.xml("EPUB/nav.xhtml")

    landmarks = nav.find(".//x:nav[@epub:type='landmarks']", NS)
    assert landmarks.get("hidden") == "hidden"
    assert [a.get("{%s}type" % NS["epub"]) for a in landmarks.iterfind(".//x:a", NS)] == ["cover", "toc", "bodymatter"]
    assert nav.find(".//x:nav[@epub:type='toc']", NS).get("hidden") is None


def test_a_users_css_is_laid_over_the_theme_in_a_file_of_its_own_name(tmp_path: Path) -> None:
    folder = write_chapters(tmp_path / "tram", {"01.txt": "Chapter 1: Stop\n\nThe tram stopped.[1]\n\n[1] A request stop.\n", "02.txt": "Chapter 2: Depot\n\nIt slept.\n"})
    css = tmp_path / "Night Fonts.css"
    css.write_text("p { text-indent: 0; }\n", encoding="utf-8")
    book = OpenedEpub(build(folder, BookConfig(css=str(css)), tmp_path / "b.epub").path)

    assert book.files["EPUB/styles/default.css"].decode() == stylesheet("default")
    assert "aside.note" in book.files["EPUB/styles/default.css"].decode()
    assert book.files["EPUB/styles/night-fonts.css"] == b"p { text-indent: 0; }\n"
    for document in ["EPUB/text/titlepage.xhtml", "EPUB/nav.xhtml", *(f"EPUB/{name}" for name in book.chapter_files())]:
        links = book.xml(document).iterfind("x:head/x:link[@rel='stylesheet']", NS)
        assert [link.get("href").rsplit("/", 1)[-1] for link in links] == ["default.css", "night-fonts.css"], document
    assert_valid(book.path)


def test_a_users_css_named_as_the_theme_is_not_mistaken_for_it(tmp_path: Path) -> None:
    css = tmp_path / "default.css"
    css.write_text("p { margin: 0; }\n", encoding="utf-8")
    book = OpenedEpub(build(write_chapters(tmp_path / "tram", chapters(1)), BookConfig(css=str(css)), tmp_path / "b.epub").path)

    assert book.files["EPUB/styles/default.css"].decode() == stylesheet("default")
    assert book.files["EPUB/styles/user.css"] == b"p { margin: 0; }\n"
