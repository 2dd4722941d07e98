"""Building a library: every series folder into one output folder, a broken series never stopping the others."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import OpenedEpub, assert_valid, write_chapters
from epubgen.batch import build_all
from epubgen.cli import main
from epubgen.errors import ConfigError, InputError


def chapters(count: int, story: str) -> dict[str, str]:
    return {f"{n:03d}.txt": f"Chapter {n}: {story} {n}\n\nThe {story.lower()} went on, page {n}.\n" for n in range(1, count + 1)}


@pytest.fixture
def library(tmp_path: Path) -> Path:
    """Three series: one book, one in two volumes, and one whose only chapter file is binary."""
    root = tmp_path / "library"
    write_chapters(root / "ashes", {**chapters(3, "Ash"), "book.toml": 'title = "Ashes"\nauthor = "Ash Vale"\n'})
    write_chapters(root / "broken", {"001.txt": bytes(range(256)) * 4})
    write_chapters(root / "cinders", {**chapters(12, "Cinder"), "book.toml": 'title = "Cinders"\n[volumes]\nper_volume = 6\n'})
    return root


def test_a_broken_series_is_reported_and_the_others_still_build(library: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["build-all", str(library), "-o", str(out)])

    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        "series   volumes  chapters  warnings  errors",
        "ashes          1         3         0       0",
        "broken         0         0         0       1",
        "cinders        2        12         0       0",
        f"2 of 3 series built into {out}: 3 EPUBs written, 0 unchanged",
    ]
    assert "error: broken: 001.txt: this is a binary file, not text\n" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    epubs = sorted(path.name for path in out.glob("*.epub"))
    assert epubs == ["Cinders Vol 01 (Ch 1-6).epub", "Cinders Vol 02 (Ch 7-12).epub", "ashes.epub"]
    assert OpenedEpub(out / "ashes.epub").metadata("dc:creator") == ["Ash Vale"]
    assert_valid(out / "ashes.epub")
    assert_valid(out / "Cinders Vol 02 (Ch 7-12).epub")


def test_a_bad_book_toml_fails_its_own_series_only(library: Path, tmp_path: Path) -> None:
    (library / "ashes" / "book.toml").write_text('titel = "Ashes"\n', encoding="utf-8")
    results = build_all(library, tmp_path / "out")
    assert [(result.name, result.volumes) for result in results] == [("ashes", 0), ("broken", 0), ("cinders", 2)]
    assert results[0].error.startswith("book.toml: unknown key 'titel'")


def test_a_second_run_rebuilds_nothing_unchanged(library: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    args = ["build-all", str(library), "-o", str(tmp_path / "out")]
    runner.invoke(main, args)
    again = runner.invoke(main, args)
    forced = runner.invoke(main, [*args, "--force"])
    assert again.stdout.splitlines()[-1].endswith(": 0 EPUBs written, 3 unchanged")
    assert forced.stdout.splitlines()[-1].endswith(": 3 EPUBs written, 0 unchanged")


def test_only_folders_holding_chapters_or_a_book_toml_are_series(library: Path, tmp_path: Path) -> None:
    write_chapters(library / ".trash", chapters(2, "Old"))
    write_chapters(library / "covers", {"art.txt.bak": "not a chapter"})
    write_chapters(library / "drafts", {"book.toml": 'title = "Drafts"\n'})
    results = build_all(library, tmp_path / "out")
    assert [result.name for result in results] == ["ashes", "broken", "cinders", "drafts"]
    assert results[3].error.endswith("no chapter files (.txt, .html, .htm, .xhtml) in this folder")


def test_a_library_without_series_or_with_an_epub_as_output_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no series folders here"):
        build_all(write_chapters(tmp_path / "empty", {"notes.md": "todo"}), tmp_path / "out")
    with pytest.raises(InputError, match="missing: no such folder"):
        build_all(tmp_path / "missing", tmp_path / "out")
    with pytest.raises(ConfigError, match="a library is built into a folder, not one .epub file"):
        build_all(tmp_path, tmp_path / "all.epub")


def test_build_on_a_library_points_to_build_all(library: Path) -> None:
    result = CliRunner().invoke(main, ["build", str(library)])
    assert result.exit_code == 1
    assert result.stderr == f"error: {library}: a folder of series folders; build them all with: epubgen build-all {library}\n"


def test_two_series_of_one_title_are_written_apart_and_warned_about(tmp_path: Path) -> None:
    root = tmp_path / "library"
    for name in ("first-download", "second-download"):
        write_chapters(root / name, {**chapters(2, "Ash"), "book.toml": 'title = "Ashes"\n'})
    results = build_all(root, tmp_path / "out")
    assert results[0].warnings == ()
    assert results[1].warnings == ("ashes.epub is first-download's book, so this one is ashes (second-download).epub: give one of them another title",)
    assert [path.name for path in results[1].build.paths] == ["ashes (second-download).epub"]


def test_progress_is_a_line_per_series_off_a_terminal_and_quiet_hides_it(library: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    shown = runner.invoke(main, ["build-all", str(library), "-o", str(tmp_path / "a")])
    quiet = runner.invoke(main, ["build-all", str(library), "-o", str(tmp_path / "b"), "-q"])
    assert shown.stderr.splitlines()[:3] == ["[1/3] ashes", "[2/3] broken", "[3/3] cinders"]
    assert quiet.stdout == ""
    assert quiet.stderr == "error: broken: 001.txt: this is a binary file, not text\n"
