"""Read chapters from disk: a folder of .txt or saved .html pages, or one .txt holding one or many chapters."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, replace
from itertools import count
from pathlib import Path

from epubgen.errors import InputError
from epubgen.headings import parse_heading, parse_volume_marker
from epubgen.model import Line, SourceChapter, SourceSet
from epubgen.names import name_text, shown_name
from epubgen.read.decode import Decoded, decode

CHAPTER_SUFFIXES = (".txt", ".html", ".htm", ".xhtml")
HTML_SUFFIXES = (".html", ".htm", ".xhtml")
_DIGITS = re.compile(r"(\d+)")


def read_input(path: Path, encoding: str | None = None, skip_bad: bool = False, epub_limits: tuple[int, int] | None = None) -> SourceSet:
    """Read a folder of chapter files, or a single file (a folder's one text file too: one_file_series),
    into chapters in file order. epub_limits: the bytes an input EPUB's entry, and all of them, may
    inflate to (read_epub_input's defaults when None).

    Files that cannot be read stop everything once all are read (raise_unreadable), unless
    skip_bad: then each is skipped with a warning.
    """
    if not path.exists():
        raise InputError(f"{shown_name(str(path))}: no such file or folder")
    if path.is_file() and path.suffix.lower() == ".epub":
        from epubgen.read.epub import read_epub_input  # imported when needed, as _chapter_file does

        return read_epub_input(path, *(epub_limits or ()))
    if path.is_file():
        return _read_single_file(path, encoding)
    files = folder_files(path)
    series_file = one_file_series(files)
    if series_file is not None:
        return _read_single_file(series_file, encoding)
    chapters, read, warnings, notices, errors = [], [], [], [], []
    for file in files:
        try:
            chapter = read_chapter_file(file, encoding)
        except InputError as error:
            errors.append(error)
            warnings.append(skipped(error))
            continue
        chapters.append(chapter.chapter)
        warnings += chapter.warnings
        read.append(file)
        notices.append(chapter.notice)
    if not skip_bad:
        raise_unreadable(errors)
    return folder_set(path, len(files), read, [chapter.mtime for chapter in chapters], tuple(chapters), warnings, notices)


@dataclass(frozen=True)
class ChapterFile:
    """A chapter file as read: the chapter, warnings about the page (images left out), and how it was decoded."""

    chapter: SourceChapter
    warnings: list[str]
    notice: str


def read_chapter_file(file: Path, encoding: str | None = None) -> ChapterFile:
    """Read one chapter file of a folder, or raise InputError naming it."""
    data, status = read_file(file)
    return chapter_from_bytes(file, data, int(status.st_mtime), encoding)


def chapter_from_bytes(file: Path, data: bytes, mtime: int, encoding: str | None = None) -> ChapterFile:
    """The chapter in a chapter file's bytes (read already), or InputError naming the file."""
    decoded = decode(data, shown_name(file.name), encoding)
    chapter, warnings = _chapter_file(file, decoded.text)
    return ChapterFile(replace(chapter, mtime=mtime), warnings, _decoding_notice(file, decoded))


def folder_files(folder: Path) -> list[Path]:
    """The chapter files of a folder, or InputError when it has none."""
    files = chapter_files(folder)
    if not files:
        raise InputError(f"{shown_name(str(folder))}: no chapter files ({', '.join(CHAPTER_SUFFIXES)}) in this folder")
    return files


class UnreadableFiles(InputError):
    """Several chapter files that cannot be read: the message names each on a line of its own."""

    def __init__(self, errors: list[InputError]):
        super().__init__("\n".join(map(str, errors)))
        self.errors = tuple(errors)


def raise_unreadable(errors: list[InputError]) -> None:
    """Stop a build whose chapter files could not all be read, naming every file that could not:
    a user fixes them all in one go, not one run at a time."""
    if len(errors) == 1:
        raise errors[0]
    if errors:
        raise UnreadableFiles(errors)


def one_file_series(files: list[Path]) -> Path | None:
    """The text file of a folder whose one chapter file it is: a series kept as one file, split at
    its headings as when it is given alone."""
    if len(files) == 1 and files[0].suffix.lower() not in HTML_SUFFIXES:
        return files[0]
    return None


def skipped(error: InputError) -> str:
    """The warning for a file skipped with --skip-bad."""
    return f"skipped {error}"


def folder_set(
    folder: Path, count: int, read: list[Path], mtimes: list[int], chapters: tuple[SourceChapter, ...], warnings: list[str], notices: list[str]
) -> SourceSet:
    """The SourceSet of a folder whose count chapter files were read (with their times, in whole seconds):
    chapters from the files read (or none, when another process holds them)."""
    if not read:
        raise InputError(f"{shown_name(str(folder))}: none of the {count} chapter files could be read")
    return SourceSet(
        chapters=chapters,
        named_in_sequence=_names_carry_sequence([file.name for file in read]),
        newest_mtime=max(mtimes),
        warnings=tuple(warnings),
        notices=tuple(notices),
    )


def chapter_files(folder: Path) -> list[Path]:
    """The chapter files of a folder, in natural name order (`ch2` before `ch10`)."""
    return sorted(_chapter_files_in(folder), key=name_order)


def holds_chapter_files(folder: Path) -> bool:
    """Whether a folder holds a chapter file: the first one found says so."""
    return any(_chapter_files_in(folder))


def _chapter_files_in(folder: Path) -> Iterator[Path]:
    """The chapter files of a folder, as listed (scandir: the listing tells a file from a folder,
    without a stat of each of thousands of chapters), or InputError when it cannot be listed."""
    try:
        with os.scandir(folder) as entries:
            for entry in entries:
                if not entry.name.startswith(".") and os.path.splitext(entry.name)[1].lower() in CHAPTER_SUFFIXES and _is_chapter_file(entry):
                    yield folder / entry.name
    except OSError as error:
        raise InputError(f"{shown_name(str(folder))}: cannot list the folder ({error.strerror})") from None


def _is_chapter_file(entry: os.DirEntry) -> bool:
    """A file, or a symbolic link that leads to no file or folder (dangling, or in a loop): reading
    such a link says what is wrong with it, so that a chapter is never left out unsaid."""
    try:
        return entry.is_file() or (entry.is_symlink() and not os.path.exists(entry.path))
    except OSError:
        return True


def name_order(path: Path) -> tuple[tuple[tuple[int, int | str], ...], bytes]:
    """The sort key of a file or folder by its name, whatever the locale: natural order (natural_key)
    of its name as UTF-8 text, then its bytes, for names that read the same (`Ch1`, `ch1`)."""
    name = name_text(path.name)
    return natural_key(name), name.encode("utf-8", "surrogateescape")


def natural_key(name: str) -> tuple[tuple[int, int | str], ...]:
    """Sort key comparing digit runs as numbers: `ch2` < `ch10`, `0009` < `0010`."""
    return tuple((0, int(part)) if part.isdigit() else (1, part.casefold()) for part in _DIGITS.split(name) if part)


def _names_carry_sequence(names: list[str]) -> bool:
    """File names carry an order when each holds a number and no two hold the same numbers."""
    numbers = [tuple(int(n) for n in _DIGITS.findall(Path(name_text(name)).stem)) for name in names]
    return all(numbers) and len(set(numbers)) == len(numbers)


def _read_single_file(path: Path, encoding: str | None) -> SourceSet:
    name = shown_name(path.name)
    data, status = read_file(path)
    decoded = decode(data, name, encoding)
    if path.suffix.lower() in HTML_SUFFIXES:
        chapter, warnings = _chapter_file(path, decoded.text)
        return SourceSet(
            chapters=(chapter,),
            named_in_sequence=True,
            newest_mtime=int(status.st_mtime),
            warnings=tuple(warnings),
            notices=(_decoding_notice(path, decoded),),
        )
    pieces = split_at_headings(_numbered_lines(decoded.text))
    front: tuple[Line, ...] = ()
    if len(pieces) > 1 and not _opens_chapter(pieces[0]):
        front, pieces = pieces[0], pieces[1:]
    if len(pieces) == 1:
        chapters = (SourceChapter(source=name, lines=pieces[0]),)
    else:
        chapters = tuple(
            SourceChapter(source=f"{name} #{index}", lines=piece) for index, piece in enumerate(pieces, 1)
        )
    return SourceSet(
        chapters=chapters,
        named_in_sequence=True,
        newest_mtime=int(status.st_mtime),
        notices=(_decoding_notice(path, decoded),),
        front_matter=SourceChapter(source=f"{name} (before the first chapter)", lines=front) if front else None,
    )


def _opens_chapter(piece: tuple[Line, ...]) -> bool:
    first = next((line.text for line in piece if line.text.strip()), "")
    return parse_heading(first) is not None or parse_volume_marker(first) is not None


def split_at_headings(lines: tuple[Line, ...]) -> list[tuple[Line, ...]]:
    """Split a one-file series before each chapter heading, or before the volume marker above one.

    A heading is a line of its own (a blank line or the start of the file before it) that
    follows the numbering: a `Chapter 3: …` quoted inside chapter 40 is story, not a split.
    A file with fewer than two headings is one chapter. Text before the first heading stays
    as a piece of its own, so nothing is lost.
    """
    starts = [_piece_start(lines, index) for index in _heading_lines(lines)]
    if len(starts) < 2:
        return [lines]
    if starts[0] != 0:
        starts.insert(0, 0)
    bounds = starts + [len(lines)]
    pieces = [lines[start:end] for start, end in zip(bounds, bounds[1:])]
    return [piece for piece in pieces if any(line.text.strip() for line in piece)]


MAX_NUMBERING_JUMP = 10


def _heading_lines(lines: tuple[Line, ...]) -> list[int]:
    found: list[int] = []
    previous = None
    for index, line in enumerate(lines):
        if index and lines[index - 1].text.strip():
            continue
        heading = parse_heading(line.text)
        if heading is None:
            continue
        number = heading.number
        in_sequence = number is None or previous is None or previous < number <= previous + MAX_NUMBERING_JUMP or number <= 1
        if in_sequence:
            found.append(index)
            previous = number if number is not None else previous
    return found


def _piece_start(lines: tuple[Line, ...], heading_at: int) -> int:
    """Where a chapter's piece starts: at its heading, or at a volume marker just above it."""
    above = heading_at - 1
    while above >= 0 and not lines[above].text.strip():
        above -= 1
    if above >= 0 and parse_volume_marker(lines[above].text) and (above == 0 or not lines[above - 1].text.strip()):
        return above
    return heading_at


def _decoding_notice(file: Path, decoded: Decoded) -> str:
    return f"{shown_name(file.name)}: read as {decoded.encoding}" + (", mojibake repaired" if decoded.repaired else "")


def _chapter_file(file: Path, text: str) -> tuple[SourceChapter, list[str]]:
    """One chapter file: a saved page's text blocks (numbered in order) and its images, or a text file's lines."""
    if file.suffix.lower() not in HTML_SUFFIXES:
        return SourceChapter(source=shown_name(file.name), lines=_numbered_lines(text)), []
    # Imported when needed: BeautifulSoup takes a tenth of a second to import, and most series are text files.
    from epubgen.read.html import html_to_lines, images_beside

    page = html_to_lines(text, shown_name(file.name), images_beside(file))
    lines = tuple(Line(number, line) for number, line in enumerate(page.lines, 1))
    return SourceChapter(source=shown_name(file.name), lines=lines, images=tuple(page.images)), page.warnings


def _numbered_lines(text: str) -> tuple[Line, ...]:
    return tuple(map(Line, count(1), text.split("\n")))


STAT_TRUSTED_FILE_SYSTEMS = frozenset({"ext2", "ext3", "ext4", "xfs", "btrfs", "tmpfs", "f2fs", "zfs", "bcachefs", "jfs"})
"""Local Linux file systems whose change time the kernel sets on every change of a file: not vfat or
exFAT (there it is the modification time, which programs set), nor a network file system (whose stat
may come from a cache)."""


def stats_vouch_in(folder: Path) -> bool:
    """Whether a file's stat in folder, unchanged since a read, shows its bytes unchanged too: on a
    file system of STAT_TRUSTED_FILE_SYSTEMS (Linux, from /proc/self/mountinfo)."""
    try:
        mounts = Path("/proc/self/mountinfo").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False
    return mounted_file_system(os.path.realpath(folder), mounts) in STAT_TRUSTED_FILE_SYSTEMS


def mounted_file_system(path: str, mountinfo: str) -> str | None:
    """The type of the file system mounted nearest above path (an absolute, resolved path), by
    mountinfo (the text of /proc/self/mountinfo; later mounts over the same point win)."""
    found, deepest = None, -1
    for line in mountinfo.splitlines():
        before, separator, after = line.partition(" - ")
        fields = before.split()
        if not separator or len(fields) < 5 or not after.split():
            continue
        point = re.sub(r"\\([0-7]{3})", lambda match: chr(int(match[1], 8)), fields[4])
        if (path == point or path.startswith(point.rstrip("/") + "/")) and len(point) >= deepest:
            found, deepest = after.split()[0], len(point)
    return found


def read_file(path: Path) -> tuple[bytes, os.stat_result]:
    """A file's bytes, and its status as they were read (one open file: no second lookup by name)."""
    try:
        with open(path, "rb") as handle:
            status = os.fstat(handle.fileno())
            return handle.read(), status
    except OSError as error:
        raise InputError(f"{shown_name(path.name)}: cannot read the file ({error.strerror})") from None
