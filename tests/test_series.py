"""A whole series: volumes as EPUBs with series metadata and covers, or one EPUB with a nested TOC."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image

from conftest import NS, OpenedEpub, assert_valid, write_chapters
from epubgen.builder import build
from epubgen.config import BookConfig, VolumesConfig
from epubgen.errors import InputError

WORDS = "amber birch cedar dune ember fjord grove heath inlet juniper kestrel lagoon marsh nettle".split()


def chapter_text(number: int, volume_marker: str = "") -> str:
    story = [f"The {WORDS[(number + i) % 14]} path met the {WORDS[(number * 3 + i) % 14]} gate {number}-{i}." for i in range(8)]
    lines = ["The Endless Ledger", "", *([volume_marker, ""] if volume_marker else []), f"Chapter {number}: Mile {number}", "", *story]
    return "\n".join(lines)


@pytest.fixture(scope="module")
def series_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """300 chapters; the source marks a new volume every 120 chapters."""
    folder = tmp_path_factory.mktemp("series")
    chapters = {}
    for number in range(1, 301):
        marker = f"Volume {(number - 1) // 120 + 1}: Part {(number - 1) // 120 + 1}" if number % 120 == 1 else ""
        chapters[f"{number:04d}.txt"] = chapter_text(number, marker)
    return write_chapters(folder / "endless-ledger", chapters)


CONFIG = BookConfig(author=("Ash Vale",), title="The Endless Ledger")


def test_the_sources_volume_markers_make_one_valid_epub_per_volume_with_series_metadata(series_folder: Path, tmp_path: Path) -> None:
    result = build(series_folder, CONFIG, tmp_path / "out")
    assert [path.name for path in result.paths] == [
        "The Endless Ledger Vol 01 (Ch 1-120).epub",
        "The Endless Ledger Vol 02 (Ch 121-240).epub",
        "The Endless Ledger Vol 03 (Ch 241-300).epub",
    ]
    for index, path in enumerate(result.paths, 1):
        book = OpenedEpub(path)
        assert book.metadata("dc:title") == [f"The Endless Ledger, Volume {index}: Part {index}"]
        assert book.meta_property("belongs-to-collection") == ["The Endless Ledger"]
        assert book.opf.find("opf:metadata/opf:meta[@refines='#series'][@property='collection-type']", NS).text == "series"
        assert book.opf.find("opf:metadata/opf:meta[@refines='#series'][@property='group-position']", NS).text == str(index)
        calibre = {m.get("name"): m.get("content") for m in book.opf.iterfind("opf:metadata/opf:meta[@name]", NS)}
        assert (calibre["calibre:series"], calibre["calibre:series_index"]) == ("The Endless Ledger", str(index))
        assert_valid(path)
    identifiers = {OpenedEpub(path).metadata("dc:identifier")[0] for path in result.paths}
    assert len(identifiers) == 3


def test_chapters_per_volume_and_ranges_split_the_same_series_other_ways(series_folder: Path, tmp_path: Path) -> None:
    by_count = build(series_folder, BookConfig(volumes=VolumesConfig(per_volume=100)), tmp_path / "count")
    assert [path.name for path in by_count.paths] == [
        "The Endless Ledger Vol 01 (Ch 1-100).epub",
        "The Endless Ledger Vol 02 (Ch 101-200).epub",
        "The Endless Ledger Vol 03 (Ch 201-300).epub",
    ]
    ranges = BookConfig(volume=(("Dawn", 1, 50), ("Noon", 51, 250), ("Dusk", 251, 300)))
    by_range = build(series_folder, ranges, tmp_path / "ranges")
    assert [len(OpenedEpub(path).chapter_files()) for path in by_range.paths] == [50, 200, 50]
    assert OpenedEpub(by_range.paths[1]).metadata("dc:title") == ["The Endless Ledger, Volume 2: Noon"]


def test_single_file_nests_chapters_under_volumes_two_levels_deep(series_folder: Path, tmp_path: Path) -> None:
    book = OpenedEpub(build(series_folder, CONFIG, tmp_path / "all.epub").path)
    nav = book.xml("EPUB/nav.xhtml").find(".//x:nav[@epub:type='toc']", NS)
    volumes = nav.findall("x:ol/x:li", NS)
    assert ["".join(li.find("x:a", NS).itertext()) for li in volumes] == ["Volume 1: Part 1", "Volume 2: Part 2", "Volume 3: Part 3"]
    assert [len(li.findall("x:ol/x:li", NS)) for li in volumes] == [120, 120, 60]
    assert nav.find("x:ol/x:li/x:ol/x:li/x:ol", NS) is None
    assert_valid(book.path)


def test_a_generated_cover_is_declared_shown_first_and_differs_per_volume(series_folder: Path, tmp_path: Path) -> None:
    paths = build(series_folder, CONFIG, tmp_path / "out").paths
    covers = []
    for path in paths:
        book = OpenedEpub(path)
        item = book.opf.find("opf:manifest/opf:item[@properties='cover-image']", NS)
        assert item.get("media-type") == "image/png"
        assert book.opf.find("opf:metadata/opf:meta[@name='cover']", NS).get("content") == item.get("id")
        assert book.spine_files()[0] == "text/cover.xhtml"
        spine_first = book.opf.find("opf:spine/opf:itemref", NS)
        assert spine_first.get("linear") != "no"
        image = Image.open(io.BytesIO(book.files[f"EPUB/{item.get('href')}"]))
        assert image.size == (1200, 1800)
        covers.append(book.files[f"EPUB/{item.get('href')}"])
    assert len(set(covers)) == 3


def test_trap5_a_given_cover_is_declared_with_its_real_type_and_its_page_is_linked(tmp_path: Path) -> None:
    picture = io.BytesIO()
    Image.new("RGB", (60, 90), (200, 30, 30)).save(picture, format="JPEG")
    folder = write_chapters(tmp_path / "c", {"1.txt": "Chapter 1\n\nText.", "book.toml": 'cover = "art.png"\n'})
    (folder / "art.png").write_bytes(picture.getvalue())  # a JPEG misnamed .png: its bytes decide
    from epubgen.config import load_config

    book = OpenedEpub(build(folder, load_config(folder), tmp_path / "b.epub").path)
    item = book.opf.find("opf:manifest/opf:item[@properties='cover-image']", NS)
    assert (item.get("href"), item.get("media-type")) == ("images/cover.jpg", "image/jpeg")
    assert book.files["EPUB/images/cover.jpg"] == picture.getvalue()
    cover_page = book.xml("EPUB/text/cover.xhtml")
    assert cover_page.find(".//x:img", NS).get("alt") == "Cover of c"
    assert book.nav_labels()[0] == "Chapter 1"
    assert_valid(book.path)


def test_a_cover_that_is_not_an_image_is_an_error_naming_it(tmp_path: Path) -> None:
    (tmp_path / "cover.gif").write_bytes(b"GIF89a....")
    folder = write_chapters(tmp_path / "c", {"1.txt": "Chapter 1\n\nText."})
    with pytest.raises(InputError, match="cover.gif: a cover must be a JPEG or PNG image"):
        build(folder, BookConfig(cover=str(tmp_path / "cover.gif")), tmp_path / "b.epub")


def test_no_cover_when_generation_is_off(tmp_path: Path) -> None:
    folder = write_chapters(tmp_path / "c", {"1.txt": "Chapter 1\n\nText."})
    book = OpenedEpub(build(folder, BookConfig(generate_cover=False), tmp_path / "b.epub").path)
    assert not any(name.startswith("EPUB/images/") for name in book.names)
    assert book.spine_files()[0] == "text/titlepage.xhtml"


def test_a_generated_cover_is_the_series_colour_with_its_text_in_ink() -> None:
    from io import BytesIO

    from PIL import Image

    from epubgen.package.cover import HEIGHT, WIDTH, _colour, generated_cover

    image = Image.open(BytesIO(generated_cover("The Salt Road", ("Mo Lin",), "The Salt Road", 3).data)).convert("RGB")
    colours = {colour for _, colour in image.getcolors(maxcolors=256)}
    assert image.size == (WIDTH, HEIGHT)
    assert image.getpixel((0, 0)) == _colour("The Salt Road")
    assert (255, 255, 255) in colours or (20, 20, 20) in colours
    assert len(colours) > 2  # antialiased edges between the two
