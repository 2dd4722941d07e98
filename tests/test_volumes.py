"""Volumes: a long series grouped by its own markers, by a count, or by ranges from book.toml."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from epubgen.builder import plan_outputs
from epubgen.config import BookConfig, VolumesConfig, load_config
from epubgen.errors import ConfigError
from epubgen.headings import parse_volume_marker
from epubgen.model import Book, Chapter, Heading, Line, Metadata, NotedChapter, TextLine, Volume
from epubgen.read.text import split_at_headings
from epubgen.structure import structure_chapter
from epubgen.volumes import split_volumes, volume_file_name


def numbered(number: int, volume: int | None = None, volume_title: str = "", kind: str = "chapter") -> Chapter:
    return Chapter(f"{number}.txt", Heading(kind, Decimal(number) if kind == "chapter" else None, volume=volume), (), (), volume_title)


@pytest.mark.parametrize(
    ("line", "marker"),
    [("Volume 3: The Sea", (3, "The Sea")), ("Book 2", (2, "")), ("Vol. IV - Storms", (4, "Storms")), ("第三卷 海", (3, "海"))],
)
def test_volume_marker_lines(line: str, marker: tuple[int, str]) -> None:
    assert parse_volume_marker(line) == marker


@pytest.mark.parametrize("line", ["Volume 3 Chapter 1: Ashes", "Books lined the walls.", "Book of Days", "The volume was low."])
def test_lines_that_are_not_volume_markers(line: str) -> None:
    assert parse_volume_marker(line) is None


def test_a_volume_line_above_a_chapter_heading_opens_that_volume() -> None:
    lines = ("Site Title", "Volume 2: The Sea", "Chapter 1: Ashes", "Text.")
    chapter = structure_chapter(NotedChapter("1.txt", tuple(TextLine(n, (t,)) for n, t in enumerate(lines, 1))))
    assert (chapter.heading.volume, chapter.volume_title) == (2, "The Sea")
    assert [block.text for block in chapter.blocks] == ["Site Title", "Text."]


def test_split_by_markers_starts_a_volume_wherever_a_chapter_names_a_new_one() -> None:
    chapters = [numbered(1, 1, "Ashes"), numbered(2), numbered(1, 2, "Salt"), numbered(2, 2), numbered(3)]
    volumes, warnings = split_volumes(chapters, BookConfig())
    assert [(v.number, v.title, [c.heading.number for c in v.chapters]) for v in volumes] == [
        (1, "Ashes", [1, 2]),
        (2, "Salt", [1, 2, 3]),
    ]
    assert warnings == []


def test_split_by_count() -> None:
    chapters = [numbered(n) for n in range(1, 251)]
    volumes, _ = split_volumes(chapters, BookConfig(volumes=VolumesConfig(per_volume=100)))
    assert [(v.number, v.chapter_range) for v in volumes] == [(1, (1, 100)), (2, (101, 200)), (3, (201, 250))]


def test_split_by_ranges_keeps_unnumbered_chapters_with_the_one_before() -> None:
    chapters = [numbered(0, kind="prologue"), *(numbered(n) for n in range(1, 7)), numbered(0, kind="side story"), numbered(9)]
    config = BookConfig(volume=(("First", 1, 3), ("Second", 4, 6)))
    volumes, warnings = split_volumes(chapters, config)
    assert [(v.title, [c.heading.label for c in v.chapters]) for v in volumes] == [
        ("First", ["Prologue", "Chapter 1", "Chapter 2", "Chapter 3"]),
        ("Second", ["Chapter 4", "Chapter 5", "Chapter 6", "Side Story", "Chapter 9"]),
    ]
    assert warnings == ["in no [[volume]] range, so kept with the chapter before: Chapter 9"]


def test_volume_ranges_come_from_book_toml_and_bad_ones_are_errors(tmp_path: Path) -> None:
    (tmp_path / "book.toml").write_text('[[volume]]\ntitle = "A"\nchapters = "1-3"\n\n[[volume]]\ntitle = "B"\nchapters = "4 - 9"\n')
    assert load_config(tmp_path).volume == (("A", 1, 3), ("B", 4, 9))
    (tmp_path / "book.toml").write_text('[[volume]]\ntitle = "A"\nchapters = "9-3"\n')
    with pytest.raises(ConfigError, match=r"\[\[volume\]\] 1: chapters must be a range like \"1-120\", not '9-3'"):
        load_config(tmp_path)


def test_a_one_file_series_splits_at_volume_markers_and_in_sequence_headings_only() -> None:
    text = [
        "Volume 1: Ashes", "", "Chapter 1: One", "", "Text one.", "", "Chapter 2: Two", "", "He read aloud:", "",
        "Chapter 30: The Statute", "", "and closed the book.", "", "Volume 2: Salt", "", "Chapter 1: Again", "", "Text.",
    ]
    pieces = split_at_headings(tuple(Line(n, t) for n, t in enumerate(text, 1)))
    assert [[line.text for line in piece if line.text][:2] for piece in pieces] == [
        ["Volume 1: Ashes", "Chapter 1: One"],
        ["Chapter 2: Two", "He read aloud:"],
        ["Volume 2: Salt", "Chapter 1: Again"],
    ]


def series_book(volumes: tuple[Volume, ...]) -> Book:
    chapters = tuple(chapter for volume in volumes for chapter in volume.chapters)
    return Book(Metadata(title="The Ledger", authors=("Ash Vale",)), chapters, "", volumes=volumes)


def test_each_volume_becomes_an_epub_named_by_the_pattern_with_series_metadata() -> None:
    volumes = (Volume(1, "", tuple(numbered(n) for n in range(1, 101))), Volume(2, "Salt", tuple(numbered(n) for n in range(101, 151))))
    planned = plan_outputs(series_book(volumes), BookConfig(), None)
    assert [str(path) for path, _ in planned] == [
        "output/The Ledger Vol 01 (Ch 1-100).epub",
        "output/The Ledger Vol 02 (Ch 101-150).epub",
    ]
    second = planned[1][1]
    assert (second.metadata.title, second.metadata.series, second.metadata.series_index) == ("The Ledger, Volume 2: Salt", "The Ledger", 2)
    assert len(second.chapters) == 50 and second.volumes == ()


def test_single_file_or_an_epub_output_path_keeps_one_book_with_its_volumes(tmp_path: Path) -> None:
    book = series_book((Volume(1, "", (numbered(1),)), Volume(2, "", (numbered(2),))))
    assert [(path, planned.volumes) for path, planned in plan_outputs(book, BookConfig(), tmp_path / "all.epub")] == [
        (tmp_path / "all.epub", book.volumes)
    ]
    single = plan_outputs(book, BookConfig(volumes=VolumesConfig(single_file=True)), tmp_path)
    assert [(path, planned.volumes) for path, planned in single] == [(tmp_path / "the-ledger.epub", book.volumes)]
    assert [p.parent for p, _ in plan_outputs(book, BookConfig(), tmp_path / "volumes")] == [tmp_path / "volumes"] * 2


def test_volume_file_names_are_safe_and_a_bad_pattern_is_an_error() -> None:
    volume = Volume(3, "", (numbered(201), numbered(300)))
    assert volume_file_name('A/B: "C"?', volume, "{title} - Vol {volume:02d} (Ch {first}-{last})") == "AB C - Vol 03 (Ch 201-300)"
    with pytest.raises(ConfigError, match="volumes.name"):
        volume_file_name("T", volume, "{nope}")
