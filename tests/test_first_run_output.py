"""What a build leaves in the user's output folder (issue 18, items 5 and 6): the EPUBs of this build
only; the volumes an earlier build of the same series wrote and this one replaces are removed, and the
build state is kept in the user's cache folder."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import write_chapters
from epubgen import incremental, memory
from epubgen.builder import build
from epubgen.cli import main
from epubgen.config import BookConfig, VolumesConfig
from epubgen.errors import OutputError
from epubgen.incremental import CACHE_NAME
from epubgen.memory import MEMORY_PREFIX

SALT_ROAD = BookConfig(title="The Salt Road", volumes=VolumesConfig(per_volume=2))
GLASS_FERRY = BookConfig(title="The Glass Ferry", volumes=VolumesConfig(per_volume=2))


@pytest.fixture(autouse=True)
def user_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The user's cache folder, as platformdirs finds it on Linux: never the real ~/.cache."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "user-cache"))
    monkeypatch.delenv("EPUBGEN_CACHE_DIR", raising=False)
    return tmp_path / "user-cache" / "epubgen"


def series(folder: Path, first: int, last: int) -> Path:
    chapters = {f"{n:04d}.txt": f"Chapter {n}: Mile {n}\n\nThe caravan passed marker {n} at dusk.\n" for n in range(first, last + 1)}
    return write_chapters(folder, chapters)


def names_in(folder: Path) -> list[str]:
    return sorted(path.name for path in folder.iterdir())


def state_folders(root: Path) -> list[Path]:
    """The folders of build state under a cache root, one per output folder."""
    return sorted(path for path in root.iterdir() if path.is_dir()) if root.is_dir() else []


# Item 6: build state out of the user's library folder


def test_a_build_leaves_only_its_epub_in_the_output_folder_and_a_rebuild_is_still_incremental(tmp_path: Path, user_cache: Path) -> None:
    book = series(tmp_path / "salt-road", 1, 3)
    somewhere = tmp_path / "somewhere"
    arguments = ["build", str(book), "-o", str(somewhere / "x.epub")]
    first, second = (CliRunner().invoke(main, arguments) for _ in range(2))
    assert first.exit_code == second.exit_code == 0, first.stderr + second.stderr
    assert names_in(somewhere) == ["x.epub"]
    assert second.stdout.startswith(f"Unchanged {somewhere / 'x.epub'} ")
    (state,) = state_folders(user_cache)
    assert CACHE_NAME in names_in(state) and any(name.startswith(MEMORY_PREFIX) for name in names_in(state))


def test_cache_dir_moves_the_state_and_two_output_folders_get_two_cache_folders(tmp_path: Path, user_cache: Path) -> None:
    book = series(tmp_path / "salt-road", 1, 3)
    moved = tmp_path / "moved"
    for out in ("one", "two", "one"):
        result = build(book, BookConfig(title="The Salt Road"), tmp_path / out, cache_dir=moved)
    assert result.unchanged == result.paths
    assert state_folders(user_cache) == []
    assert [names_in(state)[0] for state in state_folders(moved)] == [CACHE_NAME, CACHE_NAME]


def test_the_environment_moves_the_state_too(tmp_path: Path, user_cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EPUBGEN_CACHE_DIR", str(tmp_path / "ci-cache"))
    build(series(tmp_path / "salt-road", 1, 3), BookConfig(title="The Salt Road"), tmp_path / "out")
    assert state_folders(user_cache) == [] and len(state_folders(tmp_path / "ci-cache")) == 1


def test_a_cache_folder_that_cannot_be_made_is_no_cache_and_no_error(tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("not a folder\n")
    book = series(tmp_path / "salt-road", 1, 3)
    for _ in range(2):
        result = build(book, BookConfig(title="The Salt Road"), tmp_path / "out", cache_dir=tmp_path / "a-file")
        assert result.unchanged == ()
    assert names_in(tmp_path / "out") == ["the-salt-road.epub"]


def test_the_state_earlier_versions_left_beside_the_books_is_removed_only_when_it_is_theirs(tmp_path: Path) -> None:
    book = series(tmp_path / "salt-road", 1, 3)
    out = tmp_path / "out"
    out.mkdir()
    memory_name = MEMORY_PREFIX + hashlib.sha256(str(book.resolve()).encode()).hexdigest()[:16]
    payload = b"a pickle"
    (out / memory_name).write_bytes(memory._MAGIC + hashlib.sha256(payload).digest() + payload)
    (out / CACHE_NAME).write_text(json.dumps({"format": 2, "files": {}}))
    other_series = MEMORY_PREFIX + "0123456789abcdef"
    (out / other_series).write_bytes(memory._MAGIC + hashlib.sha256(payload).digest() + payload)
    build(book, BookConfig(title="The Salt Road"), out)
    assert names_in(out) == [other_series, "the-salt-road.epub"]

    (out / CACHE_NAME).write_text("my own notes\n")
    (out / memory_name).write_text("my own notes\n")
    build(book, BookConfig(title="The Salt Road"), out)
    assert (out / CACHE_NAME).read_text() == (out / memory_name).read_text() == "my own notes\n"


# Item 5: the volumes a new build replaces


def test_the_volumes_a_rebuild_replaces_are_removed_and_no_other_file(tmp_path: Path) -> None:
    salt, ferry = series(tmp_path / "salt-road", 1, 5), series(tmp_path / "glass-ferry", 1, 3)
    out = tmp_path / "out"
    build(salt, SALT_ROAD, out)
    build(ferry, GLASS_FERRY, out)
    ferry_books = ["The Glass Ferry Vol 01 (Ch 1-2).epub", "The Glass Ferry Vol 02 (Ch 3-3).epub"]
    salt_books = ["The Salt Road Vol 01 (Ch 1-2).epub", "The Salt Road Vol 02 (Ch 3-4).epub", "The Salt Road Vol 03 (Ch 5-5).epub"]
    assert names_in(out) == ferry_books + salt_books
    (out / "The Salt Road Vol 03 (Ch 5-7).epub").write_bytes(b"a book the user put here")

    series(salt, 6, 6)
    result = build(salt, SALT_ROAD, out)

    assert [path.name for path in result.unchanged] == ["The Salt Road Vol 01 (Ch 1-2).epub", "The Salt Road Vol 02 (Ch 3-4).epub"]
    assert names_in(out) == ferry_books + [
        "The Salt Road Vol 01 (Ch 1-2).epub",
        "The Salt Road Vol 02 (Ch 3-4).epub",
        "The Salt Road Vol 03 (Ch 5-6).epub",
        "The Salt Road Vol 03 (Ch 5-7).epub",
    ]
    assert result.removed == (out / 'The Salt Road Vol 03 (Ch 5-5).epub',)
    assert (out / "The Salt Road Vol 03 (Ch 5-7).epub").read_bytes() == b"a book the user put here"


def test_an_old_volume_the_user_changed_is_left_with_a_warning(tmp_path: Path) -> None:
    salt = series(tmp_path / "salt-road", 1, 5)
    out = tmp_path / "out"
    build(salt, SALT_ROAD, out)
    old = out / "The Salt Road Vol 03 (Ch 5-5).epub"
    with old.open("ab") as file:
        file.write(b"annotated")
    series(salt, 6, 6)
    result = build(salt, SALT_ROAD, out)
    assert old.exists() and (out / "The Salt Road Vol 03 (Ch 5-6).epub").exists()
    assert f"{old}: not removed, though this build replaces it: it changed since an earlier build wrote it" in result.book.warnings
    series(salt, 7, 7)
    assert old.exists() and not any(str(old) in warning for warning in build(salt, SALT_ROAD, out).book.warnings)


def test_a_build_that_fails_removes_no_volume(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    salt = series(tmp_path / "salt-road", 1, 5)
    out = tmp_path / "out"
    build(salt, SALT_ROAD, out)
    series(salt, 6, 6)

    def failing(path: Path, entries: object, modified: int) -> None:
        raise OutputError(f"{path}: cannot write the file (No space left on device)")

    monkeypatch.setattr(incremental, "write_entries", failing)
    with pytest.raises(OutputError):
        build(salt, SALT_ROAD, out)
    assert "The Salt Road Vol 03 (Ch 5-5).epub" in names_in(out)


@pytest.mark.parametrize("name", ["../victim.epub", "victim\x00.epub", "\ud800.epub"])
def test_a_cache_naming_a_file_outside_the_output_folder_is_no_cache_and_removes_nothing(tmp_path: Path, name: str) -> None:
    salt = series(tmp_path / "salt-road", 1, 5)
    out = tmp_path / "out"
    build(salt, SALT_ROAD, out)
    victim = tmp_path / "victim.epub"
    victim.write_bytes(b"not epubgen's")
    cache_file = incremental.state_folder(out) / CACHE_NAME
    cache = json.loads(cache_file.read_text())
    entry = next(iter(cache["files"].values()))
    cache["files"][name] = entry | {"sha256": hashlib.sha256(victim.read_bytes()).hexdigest()}
    cache_file.write_text(json.dumps(cache))
    series(salt, 6, 6)
    result = build(salt, SALT_ROAD, out)
    assert result.unchanged == () and victim.read_bytes() == b"not epubgen's"
