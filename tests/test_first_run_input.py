"""What a new user trips over on a first run (issue 18): a series kept as one text file, and a folder
with several bad files."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import OpenedEpub, write_chapters
from epubgen.batch import build_all
from epubgen.build import build, make_book
from epubgen.cli import main
from epubgen.config import BookConfig
from epubgen.errors import InputError
from epubgen.read import read_input


def series_text(count: int, story: str = "Lantern") -> str:
    return "".join(f"Chapter {n}: {story} part {n}\n\nThe {story.lower()} burned on, night {n}.\n\n" for n in range(1, count + 1))


def chapters(count: int, story: str = "Lantern") -> dict[str, str]:
    return {f"{n:03d}.txt": f"Chapter {n}: {story} {n}\n\nThe {story.lower()} went on, page {n}.\n" for n in range(1, count + 1)}


# Item 4: a series kept as one text file in its folder.


def test_a_folder_holding_one_text_file_of_many_chapters_is_split_as_the_file_is(tmp_path: Path) -> None:
    folder = write_chapters(tmp_path / "lantern", {"lantern.txt": series_text(5)})
    from_folder = make_book(folder, BookConfig())
    from_file = make_book(folder / "lantern.txt", BookConfig())
    labels = [chapter.heading.label for chapter in from_folder.chapters]
    assert len(labels) == 5
    assert labels == [chapter.heading.label for chapter in from_file.chapters]
    assert len(read_input(folder).chapters) == 5


def test_a_folder_of_one_short_chapter_stays_one_chapter(tmp_path: Path) -> None:
    folder = write_chapters(tmp_path / "short", {"only.txt": "Chapter 1: Alone\n\nJust this.\n"})
    assert len(make_book(folder, BookConfig()).chapters) == 1


def test_a_one_file_series_folder_rebuilds_when_its_file_grows(tmp_path: Path) -> None:
    folder = write_chapters(tmp_path / "lantern", {"lantern.txt": series_text(3)})
    out = tmp_path / "out" / "book.epub"
    build(folder, BookConfig(), out)
    (folder / "lantern.txt").write_text(series_text(4), encoding="utf-8")
    rebuilt = build(folder, BookConfig(), out)
    assert rebuilt.unchanged == ()
    assert len(OpenedEpub(out).chapter_files()) == 4


def test_build_all_builds_a_one_file_series_folder_and_a_top_level_text_file(tmp_path: Path) -> None:
    root = tmp_path / "library"
    write_chapters(root / "lantern", {"lantern.txt": series_text(4)})
    write_chapters(root, {"tale.txt": series_text(3, "Candle")})
    write_chapters(root / "plain", chapters(2))
    out = tmp_path / "out"
    results = build_all(root, out)
    assert [(result.name, result.chapters, result.error) for result in results] == [("lantern", 4, ""), ("plain", 2, ""), ("tale.txt", 3, "")]
    assert sorted(path.name for path in out.glob("*.epub")) == ["lantern.epub", "plain.epub", "tale.epub"]


# Item 12: every bad file named at once.


@pytest.fixture
def with_bad_files(tmp_path: Path) -> Path:
    folder = write_chapters(tmp_path / "in", chapters(5))
    write_chapters(folder, {"002b.txt": bytes(range(256)) * 4, "003b.txt": "", "004b.txt": "caf\xe9 au lait".encode("latin-1")})
    return folder


def test_every_bad_file_is_named_on_a_line_of_its_own_and_no_book_is_written(with_bad_files: Path, tmp_path: Path) -> None:
    out = tmp_path / "out" / "book.epub"
    with pytest.raises(InputError) as raised:
        build(with_bad_files, BookConfig(encoding="utf-8"), out)
    lines = str(raised.value).splitlines()
    assert [line.split(":")[0] for line in lines] == ["002b.txt", "003b.txt", "004b.txt"]
    assert "003b.txt: the file is empty" in lines
    assert not out.exists()
    with pytest.raises(InputError) as read:
        read_input(with_bad_files, "utf-8")
    assert str(read.value) == str(raised.value)


def test_the_command_line_names_every_bad_file_and_skip_bad_warns_of_each(with_bad_files: Path, tmp_path: Path) -> None:
    out = tmp_path / "book.epub"
    failed = CliRunner().invoke(main, ["build", str(with_bad_files), "-o", str(out), "--encoding", "utf-8"])
    assert failed.exit_code == 1
    assert "Traceback" not in failed.stderr
    for name in ("002b.txt", "003b.txt", "004b.txt"):
        assert name in failed.stderr
    assert not out.exists()
    skipped = CliRunner().invoke(main, ["build", str(with_bad_files), "-o", str(out), "--encoding", "utf-8", "--skip-bad", "-q"])
    assert skipped.exit_code == 0
    warned = [line.split(":")[:2] for line in skipped.stderr.splitlines()]
    assert warned == [["warning", f" skipped {name}"] for name in ("002b.txt", "003b.txt", "004b.txt")]
    assert len(OpenedEpub(out).chapter_files()) == 5
