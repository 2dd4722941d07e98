"""Hostile file names and file systems: control characters and bad bytes in names, symlink loops,
unreadable or vanishing files, dates a zip cannot hold, a bad SOURCE_DATE_EPOCH, the locale, Ctrl-C
while the program starts, and a bug in one series of a library."""

from __future__ import annotations

import importlib
import os
import re
import shutil
import subprocess
import sys
import textwrap
import time
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import OpenedEpub, assert_valid, write_chapters
from epubgen.batch import build_all
from epubgen.builder import build
from epubgen.cli import main
from epubgen.config import load_config
from epubgen.errors import ConfigError, InputError

build_module = importlib.import_module("epubgen.builder")  # the module: `epubgen.builder` is the function
UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\ufdd0-\ufdef\ufffe\uffff\ud800-\udfff]")
ZIP_FIRST, ZIP_LAST = (1980, 1, 1, 0, 0, 0), (2107, 12, 31, 23, 59, 58)


def build_folder(folder: Path, out: Path, **settings: object):
    return build(folder, load_config(folder, overrides=settings), out)


def cli(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


def no_traceback(*streams: str) -> None:
    assert not any("Traceback" in stream for stream in streams), "\n".join(streams)


# Item 9 (a): control characters, bytes that are not UTF-8, bidi controls and noncharacters in names.

HOSTILE_NAMES = [
    b"01 bell\x07.txt",
    b"02 new\nline.txt",
    b"03 escape \x1b[31mred.txt",
    b"04 not utf-8 \xff\xfe.txt",
    "05 \u202eevil\u202c.txt".encode(),
    "06 \ufdd0marker.txt".encode(),
    "07 c1 \u0085 next line.txt".encode(),
    "08 \u2028separator.txt".encode(),
]
STORIES = [
    "The bell rang twice.",
    "A new line of kings began.",
    "Nobody escaped the red tide.",
    "Bytes fell out of the sky.",
    "Evil wrote backwards here.",
    "The marker stayed put.",
    "The next line never came.",
    "A separator split the land.",
]


def test_hostile_control_characters_in_file_names_are_cleaned_from_titles_and_messages(tmp_path: Path) -> None:
    folder = tmp_path / "series"
    folder.mkdir()
    for index, name in enumerate(HOSTILE_NAMES, 1):
        Path(os.fsdecode(os.fsencode(folder) + b"/" + name)).write_text(f"{STORIES[index - 1]}\n", encoding="utf-8")
    out = tmp_path / "out" / "book.epub"
    result = build_folder(folder, out, title="Names")
    book = OpenedEpub(out)
    labels = book.nav_labels()
    assert len(book.chapter_files()) == len(HOSTILE_NAMES)
    assert all(story in book.text() for story in STORIES)
    for label in labels:
        assert not UNPRINTABLE.search(label), repr(label)
    assert any("bell" in label for label in labels) and any("red" in label for label in labels)
    for chapter in result.book.chapters:
        assert not UNPRINTABLE.search(chapter.source), repr(chapter.source)
    assert_valid(out)


@pytest.mark.parametrize("name", [b"bad\nname.txt", b"bad\rname\x1b[2J.txt", b"bad\xffname\x85.txt", "bad\u202ename.txt".encode()])
def test_hostile_a_message_naming_a_file_with_controls_is_one_line(tmp_path: Path, name: bytes) -> None:
    folder = tmp_path / "series"
    write_chapters(folder, {"001.txt": "Chapter 1\n\nText.\n"})
    Path(os.fsdecode(os.fsencode(folder) + b"/" + name)).write_bytes(bytes(range(256)) * 4)
    status, stdout, stderr = cli("build", str(folder), "-o", str(tmp_path / "out.epub"))
    assert status == 1
    no_traceback(stdout, stderr)
    lines = stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: bad") and "binary file" in lines[0], stderr
    assert not UNPRINTABLE.search(stderr.rstrip("\n")), repr(stderr)


# Item 9 (b): symlink loops, unreadable folders, files that vanish.


def make_loops(folder: Path) -> None:
    (folder / "loop.txt").symlink_to("loop.txt")
    (folder / "a.txt").symlink_to("b.txt")
    (folder / "b.txt").symlink_to("a.txt")
    (folder / "up").symlink_to("..")
    (folder / "here.txt").symlink_to(".")


def test_hostile_symlink_loops_in_the_input_folder_are_named_or_skipped(tmp_path: Path) -> None:
    folder = write_chapters(tmp_path / "series", {"001.txt": "Chapter 1\n\nOne.\n", "002.txt": "Chapter 2\n\nTwo.\n"})
    make_loops(folder)
    status, stdout, stderr = cli("build", str(folder), "-o", str(tmp_path / "out.epub"))
    assert status == 1
    no_traceback(stdout, stderr)
    assert stderr.splitlines() == [f"error: {name}.txt: cannot read the file (Too many levels of symbolic links)" for name in ("a", "b", "loop")]

    status, stdout, stderr = cli("build", str(folder), "-o", str(tmp_path / "out.epub"), "--skip-bad")
    assert status == 0, stderr
    no_traceback(stdout, stderr)
    skipped = sorted(line for line in stderr.splitlines() if line.startswith("warning: skipped"))
    assert [line.split(":")[1] for line in skipped] == [" skipped a.txt", " skipped b.txt", " skipped loop.txt"]
    assert OpenedEpub(tmp_path / "out.epub").text().count("One.") == 1


def test_hostile_symlink_loops_in_a_library_do_not_stop_the_series_discovery(tmp_path: Path) -> None:
    library = tmp_path / "library"
    write_chapters(library / "ashes", {"001.txt": "Chapter 1\n\nAsh.\n"})
    write_chapters(library / "loops", {"001.txt": "Chapter 1\n\nLoop.\n"})
    make_loops(library / "loops")
    (library / "self").symlink_to(".")
    (library / "cycle").symlink_to("cycle")
    (library / "x").symlink_to("y")
    (library / "y").symlink_to("x")
    out = tmp_path / "out"
    status, stdout, stderr = cli("build-all", str(library), "-o", str(out), "-q")
    no_traceback(stdout, stderr)
    assert status == 1
    assert [line for line in stderr.splitlines() if line.startswith("error:")] == [stderr.splitlines()[-1]]
    assert stderr.splitlines()[-1].startswith("error: loops: ")
    assert (out / "ashes.epub").is_file()


def test_hostile_an_unreadable_folder_is_one_error_line_and_the_library_goes_on(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    library = tmp_path / "library"
    write_chapters(library / "ashes", {"001.txt": "Chapter 1\n\nAsh.\n"})
    locked = write_chapters(library / "locked", {"001.txt": "Chapter 1\n\nLocked.\n"})
    real_scandir = os.scandir

    def scandir(path):  # what a folder without read permission does, even for root
        if Path(path) == locked:
            raise PermissionError(13, "Permission denied", str(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    with pytest.raises(InputError, match=r"locked: cannot list the folder \(Permission denied\)$"):
        build_folder(locked, tmp_path / "one.epub")
    results = build_all(library, tmp_path / "out")
    assert [(result.name, bool(result.build), result.error) for result in results] == [
        ("ashes", True, ""),
        ("locked", False, f"{locked}: cannot list the folder (Permission denied)"),
    ]


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads a folder whatever its permissions")
def test_hostile_a_folder_without_read_permission_is_one_error_line(tmp_path: Path) -> None:
    folder = write_chapters(tmp_path / "series", {"001.txt": "Chapter 1\n\nText.\n"})
    folder.chmod(0)
    try:
        status, stdout, stderr = cli("build", str(folder), "-o", str(tmp_path / "out.epub"))
    finally:
        folder.chmod(0o755)
    assert status == 1
    no_traceback(stdout, stderr)
    assert len(stderr.splitlines()) == 1 and "Permission denied" in stderr


def test_hostile_a_file_that_vanishes_after_the_listing_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = write_chapters(tmp_path / "series", {f"{n:03d}.txt": f"Chapter {n}\n\nText {n}.\n" for n in range(1, 4)})
    listed = build_module.folder_files

    def listing_then_deleting(path: Path) -> list[Path]:
        files = listed(path)
        files[1].unlink()
        return files

    monkeypatch.setattr(build_module, "folder_files", listing_then_deleting)
    with pytest.raises(InputError, match=r"^002\.txt: cannot read the file \(No such file or directory\)$"):
        build_folder(folder, tmp_path / "out.epub")
    (folder / "002.txt").write_text("Chapter 2\n\nText 2.\n", encoding="utf-8")
    result = build_folder(folder, tmp_path / "out.epub", skip_bad=True)
    assert result.book.warnings[0] == "skipped 002.txt: cannot read the file (No such file or directory)"
    assert len(result.book.chapters) == 2


# Item 9 (c) and (d): dates a zip cannot hold, SOURCE_DATE_EPOCH.


def zip_dates(path: Path) -> set[tuple[int, ...]]:
    with zipfile.ZipFile(path) as archive:
        return {info.date_time for info in archive.infolist()}


def modified(path: Path) -> str:
    (value,) = OpenedEpub(path).meta_property("dcterms:modified")
    return value


@pytest.mark.parametrize(
    ("seconds", "stamp", "iso"),
    [
        (7258118400, ZIP_LAST, "2107-12-31T23:59:58Z"),  # 2200
        (4354819200, ZIP_LAST, "2107-12-31T23:59:58Z"),  # 2108-01-01
        (-100000000, ZIP_FIRST, "1980-01-01T00:00:00Z"),  # 1966
        (100000000, ZIP_FIRST, "1980-01-01T00:00:00Z"),  # 1973
    ],
)
def test_hostile_file_dates_outside_the_zip_range_are_clamped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, seconds: int, stamp: tuple[int, ...], iso: str
) -> None:
    monkeypatch.delenv("SOURCE_DATE_EPOCH")
    folder = write_chapters(tmp_path / "series", {"001.txt": "Chapter 1\n\nOne.\n", "002.txt": "Chapter 2\n\nTwo.\n"})
    for file in folder.iterdir():
        os.utime(file, (seconds, seconds))
    out = tmp_path / "out"
    status, stdout, stderr = cli("build", str(folder), "-o", str(out))
    no_traceback(stdout, stderr)
    assert status == 0, stderr
    (epub,) = out.glob("*.epub")
    assert zip_dates(epub) == {stamp}
    assert modified(epub) == iso
    status, stdout, _ = cli("build", str(folder), "-o", str(out))
    assert status == 0 and stdout.startswith("Unchanged"), stdout
    if seconds == 7258118400:
        assert_valid(epub)


@pytest.mark.parametrize("value", ["soon", "", "-5", "1.5", "1e9", "²", "١٧٠٠٠٠٠٠٠٠", "0x10", "17 00"])
def test_hostile_a_malformed_source_date_epoch_is_one_error_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", value)
    folder = write_chapters(tmp_path / "series", {"001.txt": "Chapter 1\n\nOne.\n"})
    with pytest.raises(ConfigError) as raised:
        build_folder(folder, tmp_path / "out.epub")
    message = str(raised.value)
    assert message == f"SOURCE_DATE_EPOCH must be a whole number of seconds, not {value!r}"
    assert "\n" not in message
    assert not (tmp_path / "out.epub").exists()


@pytest.mark.parametrize(
    ("value", "stamp"),
    [("5000000000", ZIP_LAST), ("99999999999999999999999", ZIP_LAST), ("0", ZIP_FIRST), ("1700000000", time.gmtime(1700000000)[:6])],
)
def test_hostile_source_date_epoch_beyond_the_zip_range_is_clamped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, value: str, stamp: tuple) -> None:
    monkeypatch.setenv("SOURCE_DATE_EPOCH", value)
    folder = write_chapters(tmp_path / "series", {"001.txt": "Chapter 1\n\nOne.\n"})
    build_folder(folder, tmp_path / "out.epub")
    assert zip_dates(tmp_path / "out.epub") == {stamp}
    assert modified(tmp_path / "out.epub") == time.strftime("%Y-%m-%dT%H:%M:%SZ", stamp + (0, 0, 0))


# Item 9 (e): the locale decodes file names; the book must not depend on it.


def latin1_locale(folder: Path) -> dict[str, str] | None:
    """A German Latin-1 locale, compiled into folder when the system has none (localedef)."""
    localedef = shutil.which("localedef")
    if localedef is None:
        return None
    made = subprocess.run([localedef, "-i", "de_DE", "-f", "ISO-8859-1", str(folder / "de_DE.ISO-8859-1")], capture_output=True)
    if not (folder / "de_DE.ISO-8859-1").exists():
        return None
    return {"LOCPATH": str(folder), "LC_ALL": "de_DE.ISO-8859-1", "PYTHONUTF8": "0"} if made.returncode in (0, 1) else None


def test_hostile_the_locale_does_not_change_titles_or_bytes(tmp_path: Path) -> None:
    folder = write_chapters(
        tmp_path / "Ärger_im_Schloss",
        {
            "第1章.txt": "Der Anfang.\n",
            "Ärger 2.txt": "Die Mitte.\n",
            "äpfel 3.txt": "Äpfel.\n",
            "Öl 3.txt": "Öl.\n",
            "ch٤.txt": "Das Ende.\n",
        },
    )
    locales = {
        "utf-8": {"LC_ALL": "C.UTF-8"},
        "ascii": {"LC_ALL": "C", "PYTHONUTF8": "0", "PYTHONCOERCECLOCALE": "0"},
    }
    latin1 = latin1_locale(tmp_path)
    if latin1 is not None:
        locales["latin-1"] = latin1
    books = {}
    for name, variables in locales.items():
        out = tmp_path / f"{name}.epub"
        env = {key: value for key, value in os.environ.items() if not key.startswith(("LC_", "LANG", "PYTHONUTF8", "PYTHONIOENCODING"))}
        encoding = subprocess.run([sys.executable, "-c", "import sys; print(sys.getfilesystemencoding())"], env=env | variables, capture_output=True, text=True)
        assert encoding.stdout.strip() == {"utf-8": "utf-8", "ascii": "ascii", "latin-1": "iso8859-1"}[name]
        result = subprocess.run([sys.executable, "-m", "epubgen", "build", str(folder), "-o", str(out), "-q"], env=env | variables, capture_output=True)
        assert result.returncode == 0, result.stderr.decode(errors="replace")
        books[name] = out.read_bytes()
    assert OpenedEpub(tmp_path / "utf-8.epub").metadata("dc:title") == ["Ärger im Schloss"]
    assert len(set(books.values())) == 1, f"the EPUB differs by locale: {sorted(locales)}"


# Item 14: Ctrl-C while the program starts.

INTERRUPT_DURING_IMPORT = """
import os, signal, sys

class Interrupt:
    def find_spec(self, name, path=None, target=None):
        if name == {module!r}:
            sys.meta_path.remove(self)
            os.kill(os.getpid(), signal.SIGINT)
        return None

sys.meta_path.insert(0, Interrupt())
"""


@pytest.mark.parametrize("module", ["epubgen.builder", "epubgen.batch", "click"])
def test_hostile_ctrl_c_while_starting_prints_the_short_message(tmp_path: Path, module: str) -> None:
    (tmp_path / "sitecustomize.py").write_text(textwrap.dedent(INTERRUPT_DURING_IMPORT.format(module=module)), encoding="utf-8")
    env = os.environ | {"PYTHONPATH": os.pathsep.join([str(tmp_path), *filter(None, [os.environ.get("PYTHONPATH")])])}
    result = subprocess.run([sys.executable, "-m", "epubgen", "--version"], env=env, capture_output=True, text=True)
    assert "Traceback" not in result.stderr, result.stderr
    assert result.stderr == "\nAborted!\n"
    assert result.returncode == 1
    assert result.stdout == ""


# Item 15: a bug in one series of a library is that series' error line.


@pytest.mark.parametrize("failure", [ValueError("bad value\nsecond line"), RecursionError("maximum recursion depth exceeded"), MemoryError()])
def test_hostile_an_internal_error_in_one_series_is_its_error_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, failure: Exception) -> None:
    library = tmp_path / "library"
    for name in ("ashes", "broken", "cinders"):
        write_chapters(library / name, {"001.txt": f"Chapter 1\n\n{name} text.\n", "book.toml": f'title = "{name.title()}"\n'})
    real_slug = build_module.slug

    def slug(title: str) -> str:
        if title == "Broken":
            raise failure
        return real_slug(title)

    monkeypatch.setattr(build_module, "slug", slug)
    out = tmp_path / "out"
    status, stdout, stderr = cli("build-all", str(library), "-o", str(out), "-q")
    no_traceback(stdout, stderr)
    assert status == 1
    described = f"{type(failure).__name__}: {failure}".rstrip(": ").replace("\n", " ")
    assert stderr.splitlines() == [f"error: broken: internal error: {described}; please report it"]
    assert sorted(path.name for path in out.glob("*.epub")) == ["ashes.epub", "cinders.epub"]
