"""Incremental builds: write only the EPUBs whose book changed since the last build.

Packaging is a pure function of the Book (and of the code that packages it), so a planned EPUB
is keyed by a hash of its Book, epubgen's code and the versions of Python and the libraries it
uses. The cache, a small JSON file in the output folder's state folder (state_folder: in the user's
cache folder, not among the books), records for each file name the series it was built from, the
key of the book last written there and the SHA-256 of the bytes written. An EPUB is left alone when
its key matches and the file on disk is still those bytes; a missing, edited or corrupt entry just
means writing it again, so the cache is safe to delete. Once a build has succeeded, the EPUBs an
earlier build of the same series wrote there and this one did not are removed, when they are still
the bytes written (remove_replaced).
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
import sys
import unicodedata
import zipfile
from collections.abc import Callable, Collection, Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field, replace
from enum import Enum
from functools import cache, partial
from importlib.metadata import version
from pathlib import Path
from typing import NamedTuple

import platformdirs

from epubgen.atomic import write_atomically
from epubgen.errors import InputError, OutputError
from epubgen.files import read_regular_file
from epubgen.model import Book, Chapter
from epubgen.package.epub import Deflated, epub_entries, write_entries, written_documents

try:
    import fcntl
except ImportError:  # Windows: no flock, the cache is saved unlocked
    fcntl = None  # type: ignore[assignment]

CACHE_NAME = ".epubgen-cache.json"
CACHE_DIR_VARIABLE = "EPUBGEN_CACHE_DIR"
"""The environment variable naming the folder of build state, in place of the user's cache folder."""
_FORMAT = 3
"""The cache file's layout: a cache of another layout is ignored, not misread."""
_BESIDE_THE_BOOKS_FORMAT = 2
"""The layout of the cache earlier versions kept in the output folder itself."""
_MAX_BYTES = 1024**3
"""The largest cache file read: far above that of any folder of EPUBs."""


def state_folder(output_folder: Path, cache_dir: Path | None = None) -> Path:
    """Where the build state of output_folder is kept (the cache, the chapter memories): a folder of
    its own, named by identity(output_folder), in cache_dir, else $EPUBGEN_CACHE_DIR, else the user's
    cache folder (platformdirs: ~/.cache/epubgen on Linux, or $XDG_CACHE_HOME/epubgen)."""
    root = cache_dir or Path(os.environ.get(CACHE_DIR_VARIABLE) or platformdirs.user_cache_dir("epubgen", appauthor=False))
    return root / identity(output_folder)


def identity(path: Path) -> str:
    """A short digest of path, resolved: the same folder or file reached by any name has the same."""
    try:
        resolved = path.resolve()
    except (OSError, RuntimeError):
        resolved = path.absolute()
    return hashlib.sha256(str(resolved).encode("utf-8", "surrogatepass")).hexdigest()[:16]


def write_changed(
    planned: list[tuple[Path, Book]],
    state: Path,
    series: str,
    digest: Callable[[Chapter], str],
    documents: Callable[[list[Book], list[set[int]]], Callable[[], list[Mapping[int, Deflated]]]],
    finish: Callable[[Book], Book] = lambda book: book,
    force: bool = False,
    meanwhile: Callable[[], None] = lambda: None,
) -> tuple[Path, ...]:
    """Write each planned EPUB unless the last build wrote the same book there and it is untouched
    since; with force, write them all. Returns the paths left as they were.

    The books' chapters may be outlines (no blocks): digest(chapter) stands for the whole chapter.
    documents(books, known) starts making the chapters' documents of the books to write (compressed,
    by number), but those whose numbers are known, and returns the function that waits for them;
    finish(book) is the book to write, with what its key holds already but is costly to make (a
    generated cover), made meanwhile, with the EPUB's other entries and meanwhile() (what else the
    caller has to do). The documents known are those the EPUB at the same path holds already, as the
    last build wrote them: the same chapter at the same number (Cache.documents_of). The planned
    EPUBs share one output folder, whose cache is in state; series is the identity of their input.
    """
    folder_cache = _Cache.load(state, series)
    unchanged, to_write = [], []
    for path, book in planned:
        key = book_key(book, digest)
        if not force and folder_cache.holds(path, key):
            unchanged.append(path)
        else:
            to_write.append((path, book, key, {} if force else folder_cache.documents_of(path, book, digest)))
    made = cache(documents([book for _, book, _, _ in to_write], [set(known) for _, _, _, known in to_write]))
    finished = [finish(book) for _, book, _, _ in to_write]
    entries = [epub_entries(book, partial(_document, made, index, known)) for index, ((_, _, _, known), book) in enumerate(zip(to_write, finished))]
    meanwhile()
    made()  # the documents are all made (or the error making one raised) before an EPUB is written
    for (path, _, key, _), book, book_entries in zip(to_write, finished, entries):
        write_entries(path, book_entries, book.metadata.modified)
        folder_cache.record(path, key, [digest(chapter) for chapter in book.chapters])
    folder_cache.save()
    return tuple(unchanged)


class Replaced(NamedTuple):
    """The EPUBs of an earlier build that a build replaced: removed, or left since changed."""

    removed: tuple[Path, ...]
    changed: tuple[Path, ...]


def remove_replaced(output_folder: Path, state: Path, series: str, written: Collection[Path]) -> Replaced:
    """Remove the EPUBs an earlier build of series recorded in output_folder that this build, which
    wrote (or left unchanged) written, did not: each only while it is the bytes recorded. One changed
    since is left, and forgotten, as is one gone; one that cannot be removed is kept in the cache."""
    names = {path.name for path in written}
    with _locked(state):
        entries = _read_entries(state / CACHE_NAME)
        replaced = {name: entry for name, entry in entries.items() if entry["series"] == series and name not in names}
        outcomes = {name: _remove_if_as_written(output_folder / name, entry) for name, entry in replaced.items()}
        forgotten = {name for name, outcome in outcomes.items() if outcome is not Removal.KEPT}
        if forgotten:
            _write_entries(state, {name: entry for name, entry in entries.items() if name not in forgotten})
    return Replaced(
        tuple(output_folder / name for name, outcome in outcomes.items() if outcome is Removal.REMOVED),
        tuple(output_folder / name for name, outcome in outcomes.items() if outcome is Removal.CHANGED),
    )


class Removal(Enum):
    """What remove_if_ours did."""

    REMOVED = "removed"
    CHANGED = "something else is there"
    GONE = "nothing is there"
    KEPT = "cannot be looked at or removed"


def remove_if_ours(path: Path, what: str, limit: int, ours: Callable[[bytes], bool]) -> Removal:
    """Remove path when it is a regular file (not a link) whose bytes are ours."""
    try:
        status = os.lstat(path)
    except FileNotFoundError:
        return Removal.GONE
    except OSError:
        return Removal.KEPT
    try:
        if not stat.S_ISREG(status.st_mode) or not ours(read_regular_file(path, what, limit)):
            return Removal.CHANGED
        os.unlink(path)
    except InputError:
        return Removal.CHANGED
    except OSError:
        return Removal.KEPT
    return Removal.REMOVED


def remove_cache_beside_the_books(output_folder: Path) -> None:
    """Remove the cache an earlier version kept in output_folder itself, when it is one."""
    remove_if_ours(output_folder / CACHE_NAME, "build cache", _MAX_BYTES, lambda data: _files_of(data, _BESIDE_THE_BOOKS_FORMAT) is not None)


def _remove_if_as_written(path: Path, entry: dict) -> Removal:
    return remove_if_ours(path, "EPUB", _MAX_BYTES, lambda data: hashlib.sha256(data).hexdigest() == entry["sha256"])


def _document(made: Callable[[], list[Mapping[int, Deflated]]], index: int, known: Mapping[int, Deflated], number: int) -> Deflated:
    """The number-th chapter's document of the index-th book to write: known, or made."""
    return known[number] if number in known else made()[index][number]


def book_key(book: Book, digest: Callable[[Chapter], str]) -> str:
    """A hash of everything that decides an EPUB's bytes.

    The dataclasses' repr is a complete, deterministic serialisation: of the book without its
    chapters (its volumes hold how many they have), then each chapter's digest, which stands for the
    whole chapter (a digest of what the chapter is made from: see epubgen.pipeline). The code making
    it is part of the key, by its version and a fingerprint of its files, with the versions of Python
    and the libraries (dependency_versions). Removals and warnings are left out: they describe the
    whole series (a new chapter adds a warning) but are not packaged.
    """
    volumes = tuple((replace(volume, chapters=()), len(volume.chapters)) for volume in book.volumes)
    packaged = replace(book, chapters=(), volumes=(), removals=(), warnings=())
    key = hashlib.sha256(f"epubgen {version('epubgen')} {code_fingerprint()}\n{dependency_versions()}\n{packaged!r}\n{volumes!r}\n".encode())
    for chapter in book.chapters:
        key.update(digest(chapter).encode())
    return key.hexdigest()


@cache
def dependency_versions() -> str:
    """The versions of what, besides epubgen's own code, decides what a chapter reads as and how a
    book is written: Python and its Unicode database (NFC, NFKC, case folding, regex classes), and the
    libraries that decode, repair, parse, compress (deflate: libdeflate's bytes change with its
    version) and package."""
    libraries = ("ebooklib", "lxml", "beautifulsoup4", "ftfy", "charset-normalizer", "pillow", "deflate")
    runtime = [f"python {sys.version.split()[0]}", f"unicode {unicodedata.unidata_version}"]
    return " ".join([*runtime, *(f"{name} {version(name)}" for name in libraries)])


@cache
def code_fingerprint() -> str:
    """A digest of epubgen's own files (code, rules, styles): a changed epubgen, released or not, rebuilds."""
    package = Path(__file__).resolve().parent
    digest = hashlib.sha256()
    for path in sorted(package.rglob("*")):
        if path.suffix in (".py", ".toml", ".css") and "__pycache__" not in path.parts:
            digest.update(f"{path.relative_to(package)}\n".encode() + path.read_bytes())
    return digest.hexdigest()[:16]


@dataclass
class _Cache:
    """The cache file of one output folder, in its state folder: {file name: {"series": identity of
    its input, "book": key, "sha256": digest of the file, "made_by": code and versions, "chapters":
    digest of the chapter at each number}}."""

    folder: Path
    series: str
    entries: dict[str, dict] = field(default_factory=dict)
    recorded: set[str] = field(default_factory=set)
    """The names of the EPUBs this build wrote."""

    @classmethod
    def load(cls, folder: Path, series: str) -> _Cache:
        """The cache in the state folder, for a build of series; an empty one when there is none or it cannot be read."""
        return cls(folder, series, _read_entries(folder / CACHE_NAME))

    def holds(self, path: Path, key: str) -> bool:
        """True when path is the EPUB of this book, as the last build wrote it."""
        entry = self.entries.get(path.name)
        if entry is None or entry["book"] != key:
            return False
        try:
            return _digest(path) == entry["sha256"]
        except OSError:
            return False

    def documents_of(self, path: Path, book: Book, digest: Callable[[Chapter], str]) -> dict[int, Deflated]:
        """The chapter documents of the EPUB at path that book holds again, by number: those of the
        same chapters (digests) at the same numbers, when the file is as the last build wrote it
        with the same code, Python and libraries (the document of a chapter is a function of them)."""
        entry = self.entries.get(path.name)
        if entry is None or entry["made_by"] != _made_by():
            return {}
        written = entry["chapters"]
        numbers = [number for number, chapter in enumerate(book.chapters, 1) if number <= len(written) and written[number - 1] == digest(chapter)]
        if not numbers:
            return {}
        try:
            return written_documents(path, numbers) if _digest(path) == entry["sha256"] else {}
        except (OSError, zipfile.BadZipFile):
            return {}

    def record(self, path: Path, key: str, chapters: list[str]) -> None:
        """Record the EPUB written at path: its book's key, its bytes' digest, and the digest of the
        chapter at each number (for documents_of)."""
        self.entries[path.name] = {"series": self.series, "book": key, "sha256": _digest(path), "made_by": _made_by(), "chapters": chapters}
        self.recorded.add(path.name)

    def save(self) -> None:
        """Write the entries recorded into the cache file over those it holds now, under a lock on the
        folder: another build into the same folder at the same time keeps the entries it wrote. A
        cache that cannot be written (the state folder cannot be made, something else than a file in
        its place) is none."""
        if not self.recorded:
            return
        with suppress(OSError):
            self.folder.mkdir(parents=True, exist_ok=True)
        with _locked(self.folder):
            _write_entries(self.folder, _read_entries(self.folder / CACHE_NAME) | {name: self.entries[name] for name in self.recorded})


def _write_entries(folder: Path, entries: dict[str, dict]) -> None:
    """Write the cache file of the state folder (under its lock); one that cannot be written is none."""
    text = json.dumps({"format": _FORMAT, "files": entries}, indent=1, sort_keys=True) + "\n"
    with suppress(OutputError):
        write_atomically(folder / CACHE_NAME, lambda file: file.write(text.encode("utf-8")))


def _read_entries(path: Path) -> dict[str, dict]:
    """The entries of the cache file at path; none when it is missing, not a regular file, or not
    in every part of the shape save() writes."""
    try:
        entries = _files_of(read_regular_file(path, "build cache", _MAX_BYTES), _FORMAT)
    except InputError:
        return {}
    return entries if entries is not None and all(map(_plain_name, entries)) and all(map(_well_formed, entries.values())) else {}


def _files_of(data: bytes, layout: int) -> dict | None:
    """The "files" of a cache file's bytes of that layout; None when they are not one."""
    try:
        cache_file = json.loads(data)
    except (ValueError, RecursionError):
        return None
    if not isinstance(cache_file, dict) or cache_file.get("format") != layout or not isinstance(cache_file.get("files"), dict):
        return None
    return cache_file["files"]


def _plain_name(name: str) -> bool:
    """The name of an EPUB in the output folder itself: not a path, nor a name no file can have."""
    try:
        os.fsencode(name)
    except UnicodeError:
        return False
    return "\x00" not in name and Path(name).name == name and name.lower().endswith(".epub")


def _well_formed(entry: object) -> bool:
    """An entry of the shape record() writes."""
    return (
        isinstance(entry, dict)
        and all(isinstance(entry.get(name), str) for name in ("series", "book", "sha256", "made_by"))
        and isinstance(entry.get("chapters"), list)
        and all(isinstance(chapter, str) for chapter in entry["chapters"])
    )


@contextmanager
def _locked(folder: Path) -> Iterator[None]:
    """An exclusive lock on the folder (flock, let go by the kernel if its holder dies); none where
    the folder cannot be locked (a file system without locks): the merge still keeps what another
    build wrote before."""
    descriptor = None
    with suppress(OSError):
        descriptor = os.open(folder, os.O_RDONLY)
        if fcntl is not None:
            fcntl.flock(descriptor, fcntl.LOCK_EX)
    try:
        yield
    finally:
        if descriptor is not None:
            os.close(descriptor)


def _made_by() -> str:
    return f"epubgen {version('epubgen')} {code_fingerprint()} {dependency_versions()}"


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()
