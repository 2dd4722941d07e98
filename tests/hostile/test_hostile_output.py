"""Hostile output paths, broken caches and what a build leaves behind (issue 19, items 2, 13, 19)."""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import socket
import stat
import subprocess
import sys
from collections.abc import Callable
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import assert_valid, write_chapters
from epubgen import atomic, incremental, memory
from epubgen.builder import _Outlined, build
from epubgen.cli import main
from epubgen.config import BookConfig
from epubgen.errors import OutputError
from epubgen.incremental import CACHE_NAME, state_folder
from epubgen.memory import MEMORY_PREFIX
from epubgen.pipeline import ReadChapter, Remembered

CONFIG = BookConfig(title="The Glass Ferry")


def series(folder: Path, first: int = 1, last: int = 3) -> Path:
    chapters = {f"{n:04d}.txt": f"Chapter {n}: Crossing {n}\n\nThe ferry left the pier at dawn, for the {n}th time.\n" for n in range(first, last + 1)}
    return write_chapters(folder, chapters)


def run_cli(*arguments: str | Path) -> tuple[int, str]:
    result = CliRunner().invoke(main, [str(argument) for argument in arguments])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stderr


def parts_in(folder: Path) -> list[str]:
    return sorted(path.name for path in folder.iterdir() if path.name.endswith(".part"))


# Item 2: the output path


def _fifo(path: Path) -> Callable[[os.stat_result], bool]:
    os.mkfifo(path)
    return lambda status: stat.S_ISFIFO(status.st_mode)


def _folder(path: Path) -> Callable[[os.stat_result], bool]:
    path.mkdir()
    return lambda status: stat.S_ISDIR(status.st_mode)


def _socket(path: Path) -> Callable[[os.stat_result], bool]:
    bound = socket.socket(socket.AF_UNIX)
    bound.bind(str(path))
    bound.close()
    return lambda status: stat.S_ISSOCK(status.st_mode)


def _link_to_fifo(path: Path) -> Callable[[os.stat_result], bool]:
    os.mkfifo(path.with_name("fifo"))
    path.symlink_to("fifo")
    return lambda status: stat.S_ISFIFO(status.st_mode)


NON_REGULAR = {"fifo": _fifo, "folder": _folder, "socket": _socket, "link to a fifo": _link_to_fifo}


@pytest.mark.parametrize("option", ["-o", "--report"])
@pytest.mark.parametrize("kind", NON_REGULAR)
def test_hostile_output_a_target_that_is_not_a_regular_file_is_refused_before_any_work(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, option: str, kind: str
) -> None:
    target = tmp_path / "out" / ("book.epub" if option == "-o" else "report.html")
    target.parent.mkdir()
    still_there = NON_REGULAR[kind](target)
    monkeypatch.setattr(_Outlined, "__init__", _no_work)
    code, stderr = run_cli("build", series(tmp_path / "in"), "-o", tmp_path / "out" / "book.epub", option, target)
    assert code == 1
    assert stderr.count("\n") == 1 and stderr.startswith("error: ") and str(target) in stderr and "not a regular file" in stderr
    assert still_there(os.stat(target))
    assert parts_in(target.parent) == []


def _no_work(*arguments: object) -> None:
    raise AssertionError("the input was read before the output path was checked")


@pytest.mark.parametrize("kind", NON_REGULAR)
def test_hostile_output_write_atomically_refuses_a_target_that_is_not_a_regular_file(tmp_path: Path, kind: str) -> None:
    target = tmp_path / "target"
    still_there = NON_REGULAR[kind](target)
    with pytest.raises(OutputError, match="not a regular file|a symlink, not followed"):
        atomic.write_atomically(target, lambda file: file.write(b"replaced"))
    assert still_there(os.stat(target))
    assert parts_in(tmp_path) == []


def test_hostile_output_a_loop_of_symlinks_is_refused(tmp_path: Path) -> None:
    (tmp_path / "a.epub").symlink_to("b.epub")
    (tmp_path / "b.epub").symlink_to("a.epub")
    with pytest.raises(OutputError, match="a symlink, not followed"):
        atomic.write_atomically(tmp_path / "a.epub", lambda file: file.write(b"replaced"))
    with pytest.raises(OutputError, match="loop of symlinks"):
        atomic.writable_file(tmp_path / "a.epub", follow_symlinks=True)
    assert (tmp_path / "a.epub").is_symlink() and parts_in(tmp_path) == []


def test_hostile_output_dev_null_is_never_replaced(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Guarded: were the refusal to go, the rename over /dev/null would raise instead of breaking the machine."""
    real_replace = os.replace

    def guarded_replace(source: object, destination: object) -> None:
        if os.path.realpath(destination) == os.devnull:  # type: ignore[arg-type]
            raise AssertionError("would have replaced /dev/null")
        real_replace(source, destination)  # type: ignore[arg-type]

    monkeypatch.setattr(atomic.os, "replace", guarded_replace)
    book = series(tmp_path / "in")
    for arguments in (("-o", tmp_path / "out", "--report", os.devnull), ("-o", os.devnull)):
        code, stderr = run_cli("build", book, *arguments)
        assert code == 1 and stderr.count("\n") == 1 and os.devnull in stderr
        assert stat.S_ISCHR(os.stat(os.devnull).st_mode)


def test_hostile_output_a_symlink_to_a_regular_file_replaces_the_file_it_points_to(tmp_path: Path) -> None:
    library, links = tmp_path / "library", tmp_path / "links"
    library.mkdir()
    links.mkdir()
    (library / "book.epub").write_bytes(b"an old book")
    (links / "book.epub").symlink_to(library / "book.epub")
    (links / "new.epub").symlink_to(library / "new.epub")  # dangling: the book goes where it points
    book = series(tmp_path / "in")
    for name in ("book.epub", "new.epub"):
        code, stderr = run_cli("build", book, "-o", links / name)
        assert code == 0, stderr
        assert (links / name).is_symlink() and (links / name).resolve() == library / name
    assert_valid(library / "book.epub")
    assert (library / "book.epub").read_bytes() == (library / "new.epub").read_bytes()
    assert parts_in(library) == [] and parts_in(links) == []


def test_hostile_output_a_symlink_planted_where_epubgen_names_a_book_is_never_followed(tmp_path: Path) -> None:
    """A downloaded folder may ship an output folder holding `<title>.epub -> ~/.bashrc`: only a path
    the user names (-o, --report) is followed."""
    victim = tmp_path / "victim"
    victim.write_bytes(b"not epubgen's")
    out = tmp_path / "out"
    out.mkdir()
    (out / "the-glass-ferry.epub").symlink_to(victim)
    code, stderr = run_cli("build", series(tmp_path / "in"), "-o", out, "--title", "The Glass Ferry")
    assert code == 1 and stderr.count("\n") == 1 and "a symlink, not followed" in stderr
    assert victim.read_bytes() == b"not epubgen's" and (out / "the-glass-ferry.epub").is_symlink()


def test_hostile_output_a_report_at_the_books_path_is_refused(tmp_path: Path) -> None:
    book = tmp_path / "book.epub"
    code, stderr = run_cli("build", series(tmp_path / "in"), "-o", book, "--report", book)
    assert code == 1 and "the report would replace the book" in stderr and not book.exists()


def test_hostile_output_an_output_folder_that_is_a_file_is_refused_in_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "notes.txt").write_text("mine\n")
    monkeypatch.setattr(_Outlined, "__init__", _no_work)
    for folder in (tmp_path / "notes.txt", tmp_path / "notes.txt" / "books"):
        code, stderr = run_cli("build", series(tmp_path / "in"), "-o", folder)
        assert code == 1 and stderr.count("\n") == 1 and "notes.txt" in stderr and "not a folder" in stderr
    assert (tmp_path / "notes.txt").read_text() == "mine\n"


# Item 13: broken caches


def _forged_memory(out: Path, change: Callable[[dict[str, Remembered]], object]) -> None:
    """Rewrite the memory of out with its entries changed, and a digest valid for the new contents."""
    (path,) = state_folder(out).glob(f"{MEMORY_PREFIX}*")
    data = path.read_bytes()
    whole = pickle.loads(data[len(memory._MAGIC) + 32 :])
    entries = {name: entry for part in whole["slices"] for name, entry in pickle.loads(part).items()}
    whole["slices"] = [pickle.dumps(change(entries))]
    payload = pickle.dumps(whole)
    path.write_bytes(memory._MAGIC + hashlib.sha256(payload).digest() + payload)


def _each(entries: dict[str, Remembered], change: Callable[[Remembered], object]) -> dict[str, object]:
    return {name: change(entry) for name, entry in entries.items()}


def _without_credits(read: ReadChapter) -> ReadChapter:
    hollow = object.__new__(ReadChapter)
    hollow.__dict__.update({key: value for key, value in read.__dict__.items() if key != "credits"})
    return hollow


def _outline(entry: Remembered, **changes: object) -> Remembered:
    assert entry.outline is not None
    return replace(entry, outline=replace(entry.outline, **changes))


def _heading(entry: Remembered, **changes: object) -> Remembered:
    assert entry.outline is not None
    chapter = entry.outline.chapter
    return _outline(entry, chapter=replace(chapter, heading=replace(chapter.heading, **changes)))


MEMORY_SHAPES: dict[str, Callable[[Remembered], object]] = {
    "source digest a string": lambda entry: replace(entry, read=replace(entry.read, source_digest="text")),
    "keyed lines a number": lambda entry: replace(entry, read=replace(entry.read, keyed=7)),
    "keyed lines' top a string": lambda entry: replace(entry, read=replace(entry.read, keyed=replace(entry.read.keyed, top="x"))),
    "a field missing": lambda entry: replace(entry, read=_without_credits(entry.read)),
    "credits not pairs": lambda entry: replace(entry, read=replace(entry.read, credits=(("trl",),))),
    "outline's chapter a string": lambda entry: _outline(entry, chapter="Chapter 1"),
    "outline's removals a list of numbers": lambda entry: _outline(entry, removals=[1, 2]),
    "identity holding a list": lambda entry: _outline(entry, identity=("chapter", None, [1], None, "", b"")),
    "heading number not a number": lambda entry: _heading(entry, number=Decimal("NaN")),
    "heading number huge": lambda entry: _heading(entry, number=Decimal("1e999999")),
    "mtime huge": lambda entry: replace(entry, read=replace(entry.read, mtime=10**400)),
    "stat a list of strings": lambda entry: replace(entry, read=replace(entry.read, stat=["a", "b"])),
}


def test_hostile_output_a_memory_with_a_valid_digest_but_the_wrong_shape_is_no_memory(tmp_path: Path) -> None:
    book = series(tmp_path / "in")
    expected = build(book, CONFIG, tmp_path / "scratch").path.read_bytes()
    assert_valid(tmp_path / "scratch" / "the-glass-ferry.epub")
    out = tmp_path / "out"
    build(book, CONFIG, out)
    remembered = memory.Memory.of(state_folder(out), book, CONFIG, "en")
    assert sorted(remembered.recall()) == ["0001.txt", "0002.txt", "0003.txt"]
    for name, change in MEMORY_SHAPES.items():
        build(book, CONFIG, out, force=True)
        _forged_memory(out, lambda entries: _each(entries, change))
        assert remembered.recall() == {}, name
        (out / "the-glass-ferry.epub").unlink()
        assert build(book, CONFIG, out).path.read_bytes() == expected, name


def _deep(out: Path) -> bytes:
    return b"[" * 100_000 + b"]" * 100_000


def _nested_wrong_types(out: Path) -> bytes:
    entry = {"book": 5, "sha256": ["x"], "made_by": None, "chapters": "abc"}
    return json.dumps({"format": 2, "files": {"the-glass-ferry.epub": entry, "other.epub": [1]}}).encode()


def _deep_inside(out: Path) -> bytes:
    cache = json.loads((state_folder(out) / CACHE_NAME).read_text())
    inner = "[" * 100_000 + "]" * 100_000
    return json.dumps(cache).replace('"chapters": [', f'"chapters": [{inner}, ', 1).encode()


def _huge_number(out: Path) -> bytes:
    return b'{"format": ' + b"9" * 100_000 + b', "files": {}}'


def _valid_key_wrong_chapters(out: Path) -> bytes:
    cache = json.loads((state_folder(out) / CACHE_NAME).read_text())
    for entry in cache["files"].values():
        entry["chapters"] = [{"digest": digest} for digest in entry["chapters"]]
    return json.dumps(cache).encode()


BROKEN_CACHES: dict[str, Callable[[Path], bytes]] = {
    "truncated": lambda out: (state_folder(out) / CACHE_NAME).read_bytes()[:40],
    "a list": lambda out: b"[1, 2, 3]\n",
    "files a list": lambda out: b'{"format": 2, "files": []}',
    "nested wrong types": _nested_wrong_types,
    "deeply nested": _deep,
    "deeply nested inside": _deep_inside,
    "a huge number": _huge_number,
    "chapters not digests": _valid_key_wrong_chapters,
    "not UTF-8": lambda out: b'{"format": 2, "files": {"\xff": 1}}',
}


def test_hostile_output_a_broken_build_cache_is_no_cache(tmp_path: Path) -> None:
    book = series(tmp_path / "in")
    expected = build(book, CONFIG, tmp_path / "scratch").path.read_bytes()
    out = tmp_path / "out"
    for name, broken in BROKEN_CACHES.items():
        build(book, CONFIG, out, force=True)
        (state_folder(out) / CACHE_NAME).write_bytes(broken(out))
        series(book, 4, 4)  # a new chapter: the EPUB is written again, its documents taken from the cache's say
        assert build(book, CONFIG, out).path.read_bytes() == build(book, CONFIG, tmp_path / "fresh", force=True).path.read_bytes(), name
        (book / "0004.txt").unlink()
        assert build(book, CONFIG, out).path.read_bytes() == expected, name


@pytest.mark.parametrize("what", ["cache", "memory"])
@pytest.mark.parametrize("kind", ["fifo", "folder"])
def test_hostile_output_a_cache_that_is_not_a_regular_file_is_no_cache_and_never_waited_on(tmp_path: Path, what: str, kind: str) -> None:
    """In a process of its own: a build that opened the FIFO would wait for a writer forever."""
    book = series(tmp_path / "in")
    out = tmp_path / "out"
    build(book, CONFIG, out)
    expected = (out / "the-glass-ferry.epub").read_bytes()
    (path,) = state_folder(out).glob(CACHE_NAME if what == "cache" else f"{MEMORY_PREFIX}*")
    path.unlink()
    os.mkfifo(path) if kind == "fifo" else path.mkdir()
    (out / "the-glass-ferry.epub").unlink()
    environment = {**os.environ, "SOURCE_DATE_EPOCH": "1700000000"}
    command = [sys.executable, "-m", "epubgen", "build", str(book), "-o", str(out), "--title", CONFIG.title]
    result = subprocess.run(command, capture_output=True, text=True, timeout=120, env=environment)
    assert result.returncode == 0, result.stderr
    assert (out / "the-glass-ferry.epub").read_bytes() == expected
    assert not path.is_file()


# Item 19: what a build leaves behind


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_hostile_output_parts_left_by_a_killed_build_are_removed_by_the_next(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    long_ago = 1_000_000_000
    dead, alive = _dead_pid(), os.getpid()
    stale = [f".the-glass-ferry.epub.{dead}.k3j9x_q1.part"]
    kept = [
        f".the-glass-ferry.epub.{alive}.k3j9x_q1.part",  # another build, still writing it
        ".the-glass-ferry.epub.notes.part",  # not of epubgen's naming
        f".other.epub.{dead}.k3j9x_q1.part",  # of another file, not written by this build
    ]
    state = state_folder(out)
    state.mkdir(parents=True)
    stale_cache = state / f".{CACHE_NAME}.{dead}.abcdefgh.part"
    for path in [out / name for name in stale + kept] + [stale_cache]:
        path.write_bytes(b"half a zip")
        os.utime(path, (long_ago, long_ago))
    fresh = f".the-glass-ferry.epub.{dead}.zzzzzzzz.part"
    (out / fresh).write_bytes(b"just written by a build of another process space")
    build(series(tmp_path / "in"), CONFIG, out)
    assert parts_in(out) == sorted(kept + [fresh]) and parts_in(state) == []


def test_hostile_output_two_builds_interleaved_both_keep_their_cache_entries(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "first.epub").write_bytes(b"first")
    (out / "second.epub").write_bytes(b"second")
    first, second = incremental._Cache.load(out, "a series"), incremental._Cache.load(out, "another series")
    first.record(out / "first.epub", "key 1", ["a"])
    second.record(out / "second.epub", "key 2", ["b"])
    first.save()
    second.save()
    entries = incremental._Cache.load(out, "a series").entries
    assert entries["first.epub"]["book"] == "key 1" and entries["second.epub"]["book"] == "key 2"


def test_hostile_output_two_builds_into_one_folder_at_once_both_keep_their_cache_entries(tmp_path: Path) -> None:
    out = tmp_path / "out"
    environment = {**os.environ, "SOURCE_DATE_EPOCH": "1700000000"}
    books = []
    for title in ("The Glass Ferry", "The Salt Bridge"):
        folder = series(tmp_path / title, 1, 40)
        books.append(subprocess.Popen([sys.executable, "-m", "epubgen", "build", str(folder), "-o", str(out), "--title", title, "-q"], env=environment))
    assert [book.wait(timeout=300) for book in books] == [0, 0]
    cached = json.loads((state_folder(out) / CACHE_NAME).read_text())["files"]
    assert sorted(cached) == ["the-glass-ferry.epub", "the-salt-bridge.epub"]
    assert parts_in(out) == []
    assert_valid(out / "the-salt-bridge.epub")


def test_hostile_output_a_build_that_fails_writes_no_memory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    book = series(tmp_path / "in")
    out = tmp_path / "out"
    out.mkdir()

    def failing(path: Path, entries: object, modified: int) -> None:
        raise OutputError(f"{path}: cannot write the file (No space left on device)")

    monkeypatch.setattr(incremental, "write_entries", failing)
    with pytest.raises(OutputError):
        build(book, CONFIG, out)
    assert list(state_folder(out).glob(f"{MEMORY_PREFIX}*")) == [] and parts_in(out) == [] and parts_in(state_folder(out)) == []
    monkeypatch.undo()
    build(book, CONFIG, out)
    (remembered,) = state_folder(out).glob(f"{MEMORY_PREFIX}*")
    before = remembered.read_bytes()
    series(book, 4, 4)
    monkeypatch.setattr(incremental, "write_entries", failing)
    with pytest.raises(OutputError):
        build(book, CONFIG, out)
    assert remembered.read_bytes() == before and parts_in(out) == [] and parts_in(state_folder(out)) == []


def test_hostile_output_the_memory_of_a_chapter_of_one_long_line_is_small(tmp_path: Path) -> None:
    book = write_chapters(tmp_path / "in", {"0001.txt": "x" * 5_000_000 + "\n", "0002.txt": "Chapter 2: Two\n\nThe ferry left.\n"})
    out = tmp_path / "out"
    build(book, CONFIG, out)
    (remembered,) = state_folder(out).glob(f"{MEMORY_PREFIX}*")
    assert remembered.stat().st_size < 100_000
