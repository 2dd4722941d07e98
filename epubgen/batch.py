"""Build a whole library: every series folder in it, each with its own book.toml, and every .txt file
at its top level (a series kept as one file), into one output folder.

A series that cannot be built is recorded with its error and the others still build.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from functools import partial
from itertools import count
from pathlib import Path

from epubgen.builder import OUTPUT_FOLDER, BuildResult, Progress, build, slug
from epubgen.config import CONFIG_NAME, MAX_NAME_BYTES, file_identity, load_config
from epubgen.errors import ConfigError, EpubgenError, InputError
from epubgen.names import shown_name
from epubgen.read.text import holds_chapter_files, name_order

SeriesStart = Callable[[int, int, str], Progress | None]
"""Called as start(done, total, name) before each series; returns the progress callback for its chapters."""


@dataclass(frozen=True)
class SeriesResult:
    """How one series of the library went: its build, or the error that stopped it."""

    folder: Path
    """The series' folder, or its .txt file."""
    build: BuildResult | None = None
    error: str = ""
    warnings: tuple[str, ...] = ()

    @property
    def name(self) -> str:
        return shown_name(self.folder.name)

    @property
    def volumes(self) -> int:
        return len(self.build.paths) if self.build else 0

    @property
    def chapters(self) -> int:
        return len(self.build.book.chapters) if self.build else 0


def build_all(
    library: Path, output: Path | None = None, force: bool = False, start: SeriesStart | None = None, cache_dir: Path | None = None
) -> list[SeriesResult]:
    """Build every series folder of library into output (default output/), in name order, with
    their build state in cache_dir (build's default when None).

    Raises only when there is no library to build: no such folder, no series in it, or an .epub as output.
    """
    output = output or OUTPUT_FOLDER
    if output.suffix.lower() == ".epub":
        raise ConfigError(f"{output}: a library is built into a folder, not one .epub file")
    folders = series_folders(library)
    results: list[SeriesResult] = []
    written: dict[str, str] = {}
    for done, folder in enumerate(folders):
        progress = start(done, len(folders), shown_name(folder.name)) if start else None
        result = build_series(folder, output, force, progress, written, cache_dir)
        if result.build is not None:
            written.update(dict.fromkeys((file_identity(path.name) for path in result.build.paths), result.name))
        results.append(result)
    return results


def build_series(
    folder: Path,
    output: Path,
    force: bool = False,
    progress: Progress | None = None,
    taken: Mapping[str, str] | None = None,
    cache_dir: Path | None = None,
) -> SeriesResult:
    """Build one series with its own book.toml; its failure (an EpubgenError, the disk refusing a
    folder, or a bug of epubgen's) becomes the result's error, so the other series still build.

    taken: the EPUB file names (file_identity) other series wrote, and which series wrote each: an
    EPUB of this series that would have one of them gets a name of its own (_name_apart), with a warning."""
    taken = taken or {}
    renamed: list[str] = []

    def named(path: Path) -> Path:
        other = taken.get(file_identity(path.name))
        if other is None:
            return path
        apart = _name_apart(path, folder, taken)
        renamed.append(f"{path.name} is {other}'s book, so this one is {apart.name}: give one of them another title")
        return apart

    try:
        result = build(folder, load_config(folder), output, progress, force=force, cache_dir=cache_dir, named=named)
    except EpubgenError as error:
        return SeriesResult(folder, error=str(error))
    except OSError as error:
        return SeriesResult(folder, error=f"{error.filename or folder}: {error.strerror or error}")
    except Exception as error:  # noqa: BLE001 - a bug in one series' build must not stop the library
        return SeriesResult(folder, error=internal_error(error))
    return SeriesResult(folder, result, warnings=result.book.warnings + tuple(renamed))


def _name_apart(path: Path, series: Path, taken: Mapping[str, str]) -> Path:
    """path named after its series too, `灰烬 (second-download).epub`, numbered were that taken as well."""
    tags = (slug(series.name) + (f" {number}" if number > 1 else "") for number in count(1))
    return next(apart for apart in map(partial(_tagged, path), tags) if file_identity(apart.name) not in taken)


def _tagged(path: Path, tag: str) -> Path:
    """path with ` (tag)` after its stem, the stem cut to keep the name within MAX_NAME_BYTES."""
    stem, suffix = path.stem, f" ({tag})"
    while stem and len((stem + suffix).encode("utf-8")) > MAX_NAME_BYTES:
        stem = stem[:-1]
    return path.with_name(f"{stem.rstrip(' -')}{suffix}{path.suffix}")


def internal_error(error: Exception) -> str:
    """What an exception epubgen does not raise on purpose says: a bug, to be reported."""
    described = f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
    return f"internal error: {described}; please report it"


def series_folders(library: Path) -> list[Path]:
    """The series of library: its subfolders holding chapter files or a book.toml (so that one
    without chapters is reported), and its .txt files, each a series kept as one file."""
    if not library.is_dir():
        raise InputError(f"{library}: no such folder")
    folders = list(_series_in(library))
    if not folders:
        raise InputError(f"{library}: no series folders here (subfolders holding chapter files, or .txt files)")
    return sorted(folders, key=name_order)


def is_library(folder: Path) -> bool:
    """A folder holding no chapter files itself but series folders: for `build`, a hint to use `build-all`."""
    return folder.is_dir() and not holds_chapter_files(folder) and any(_series_in(folder))


def _series_in(library: Path) -> Iterator[Path]:
    """The series folders of library, as listed; InputError when it cannot be listed."""
    try:
        entries = list(library.iterdir())
    except OSError as error:
        raise InputError(f"{shown_name(str(library))}: cannot list the folder ({error.strerror})") from None
    for entry in entries:
        if not entry.name.startswith(".") and (_is_series_file(entry) or (_is_folder(entry) and _may_be_series(entry))):
            yield entry


def _is_series_file(path: Path) -> bool:
    """A text file at the library's top level: a series kept as one file."""
    try:
        return path.suffix.lower() == ".txt" and path.is_file()
    except OSError:
        return False


def _is_folder(path: Path) -> bool:
    """A folder, or a link to one (a link in a loop is neither)."""
    try:
        return path.is_dir()
    except OSError:
        return False


def _may_be_series(folder: Path) -> bool:
    """A folder holding chapter files or a book.toml; or one that cannot be looked into, whose
    build then says why."""
    try:
        return (folder / CONFIG_NAME).is_file() or holds_chapter_files(folder)
    except (OSError, InputError):
        return True
