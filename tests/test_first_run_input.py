"""What a new user trips over on a first run (issue 18): a folder with several bad files."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import OpenedEpub, write_chapters
from epubgen.build import build
from epubgen.cli import main
from epubgen.config import BookConfig
from epubgen.errors import InputError
from epubgen.read import read_input


def chapters(count: int, story: str = "Lantern") -> dict[str, str]:
    return {f"{n:03d}.txt": f"Chapter {n}: {story} {n}\n\nThe {story.lower()} went on, page {n}.\n" for n in range(1, count + 1)}


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
