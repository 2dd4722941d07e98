"""The pipeline: read -> clean -> notes -> structure -> typography -> package."""

from __future__ import annotations

import os
import re
import unicodedata
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from functools import cache
from importlib import resources
from pathlib import Path

from epubgen.atomic import writable_file, writable_folder
from epubgen.clean.report import write_report
from epubgen.config import MAX_NAME_BYTES, BookConfig
from epubgen.errors import ConfigError, InputError, OutputError
from epubgen.incremental import Replaced, identity, remove_cache_beside_the_books, remove_replaced, state_folder, write_changed
from epubgen.memory import Memory, remove_memory_beside_the_books
from epubgen.model import Book, Chapter, Metadata, Removal, SourceChapter, SourceSet, UserStylesheet, Volume
from epubgen.package.cover import generated_cover, given_cover
from epubgen.package.epub import ZIP_LAST_TIME, Deflated, stylesheet_hrefs, zip_time
from epubgen.package.stylesheet import user_stylesheet
from epubgen.parallel import paused_gc
from epubgen.pipeline import Chapters, Job, Outline, ReadChapter
from epubgen.read import read_input
from epubgen.names import shown_name
from epubgen.read.text import folder_files, folder_set, one_file_series, skipped, stats_vouch_in
from epubgen.structure import drop_duplicates, missing_chapters, order_chapters, synopsis
from epubgen.volumes import split_volumes, volume_file_names

OUTPUT_FOLDER = Path("output")

Progress = Callable[[int, int], None]
"""Called as progress(done, total) after each chapter passes the per-chapter stages."""


@dataclass(frozen=True)
class BuildResult:
    paths: tuple[Path, ...]
    """The EPUBs built: one, or one per volume."""
    book: Book
    """The book as packaged, its chapters outlined: headings, notes and images, no text (make_book
    gives the text too)."""
    size: int
    """The EPUBs' size in bytes, all together."""
    notices: tuple[str, ...] = ()
    """Details for --verbose: the encoding each file was read in."""
    unchanged: tuple[Path, ...] = ()
    """The EPUBs left untouched: their book was the same as at the last build."""
    removed: tuple[Path, ...] = ()
    """The EPUBs an earlier build of this input wrote that this one replaced, removed."""

    @property
    def path(self) -> Path:
        return self.paths[0]


@dataclass(frozen=True)
class Analysis:
    """The input as read, and the book made from it: what a report needs to show removals in context."""

    sources: SourceSet
    book: Book


def make_book(input_path: Path, config: BookConfig, progress: Progress | None = None) -> Book:
    """Run every stage but packaging: the Book that build() would write."""
    return analyse(input_path, config, progress).book


def analyse(input_path: Path, config: BookConfig, progress: Progress | None = None) -> Analysis:
    """Read the input and run every stage but packaging."""
    with paused_gc(), _Outlined.of(input_path, config, progress, keep_sources=True) as outlined:
        return Analysis(outlined.all_sources(), outlined.book_with_text())


def build(
    input_path: Path,
    config: BookConfig,
    output: Path | None = None,
    progress: Progress | None = None,
    report: Path | None = None,
    force: bool = False,
    cache_dir: Path | None = None,
    named: Callable[[Path], Path] = lambda path: path,
) -> BuildResult:
    """Build the EPUB(s) for input_path (see plan_outputs for where they go).

    An EPUB whose book is the same as at the last build is left untouched (see incremental),
    unless force; building into a folder, the EPUBs an earlier build of the same input wrote there
    and this one does not are removed once it succeeded, unless changed since. The build state is kept out of the output
    folder, in cache_dir (default: the user's cache folder, see state_folder). With report, also
    write what was removed and why (HTML, or JSON for a .json path). An output path where something
    else than a regular file (or, for a path epubgen names, a symlink) is refused before any work. named(path) is where an EPUB planned at path
    goes (build-all: a name apart from another series' book).
    """
    writable_folder(_output_folder(output))
    if output is not None and output.suffix.lower() == ".epub":
        output = _followed(output)
    if report is not None:
        report = _followed(report)
        if output is not None and report.resolve() == output.resolve():
            raise OutputError(f"{report}: the report would replace the book; give it a name of its own")
    folder = _output_folder(output)
    writable_folder(folder)
    state, series = state_folder(folder, cache_dir), identity(input_path)
    with paused_gc():
        with _Outlined.of(input_path, config, progress, report is not None, state, recall=not force) as outlined:
            book = outlined.book
            planned = [(named(path), planned_book) for path, planned_book in plan_outputs(book, config, output, covers=False)]
            for path, _ in planned:
                writable_file(path)
            unchanged = write_changed(planned, state, series, outlined.digest, outlined.documents, lambda book: with_cover(book, config), force, outlined.remember)
            if report is not None:
                write_analysis_report(Analysis(outlined.all_sources(), book), report)
            notices = outlined.sources.notices
        # Freed now, by reference counting (the chapter memory, the outlines): else, still held when the
        # collector runs again, they would all be walked by the young collection that then starts.
        del outlined
    paths = tuple(path for path, _ in planned)
    replaced = remove_replaced(folder, state, series, paths) if _names_chosen_by_epubgen(output) else Replaced((), ())
    remove_cache_beside_the_books(folder)
    remove_memory_beside_the_books(folder, input_path)
    kept = tuple(f"{path}: not removed, though this build replaces it: it changed since an earlier build wrote it" for path in replaced.changed)
    size = sum(path.stat().st_size for path in paths)
    return BuildResult(
        paths=paths, book=replace(book, warnings=book.warnings + kept), size=size, notices=notices, unchanged=unchanged, removed=tuple(replaced.removed)
    )


class _Outlined:
    """The book of an input, its chapters outlined, while the worker processes still hold their text
    (epubgen.pipeline): `with _Outlined.of(input_path, config) as outlined: outlined.book ...`."""

    def __init__(
        self, input_path: Path, config: BookConfig, progress: Progress | None, keep_sources: bool, state: Path | None, recall: bool
    ):
        self.input_path, self.config, self.progress = input_path, config, progress
        self.files, self.sources = _input(input_path, config)
        language = config.language or self.sources.metadata.language or "en"
        # A report needs every chapter as read: a chapter whose outline is remembered is never read.
        remembering = state is not None and self.files and not keep_sources
        self.memory = Memory.of(state, input_path, config, language) if remembering else None
        recalled = self.memory.recall() if self.memory is not None and recall else {}
        stats_vouch = self.memory is not None and stats_vouch_in(input_path)
        self.job = Job(config, language, tuple(self.files), self.sources.chapters, keep_sources, recalled, stats_vouch)
        self.chapters = Chapters(self.job)
        self._settle_memory: Callable[[bool], None] = lambda succeeded: None
        """Called with whether the build succeeded: puts what remember() wrote aside in place, or throws it away."""

    @classmethod
    @contextmanager
    def of(
        cls,
        input_path: Path,
        config: BookConfig,
        progress: Progress | None,
        keep_sources: bool,
        state: Path | None = None,
        recall: bool = True,
    ) -> Iterator[_Outlined]:
        """The input outlined; with state (the output folder's state folder), what is remembered
        there of a folder's chapters is used (unless not recall) and remember() writes what this
        build made of them, put in place when the with block ends without an error: a build that
        fails leaves the memory as it was."""
        outlined = cls(input_path, config, progress, keep_sources, state, recall)
        with outlined.chapters:
            outlined._outline()
            try:
                yield outlined
            except BaseException:
                outlined._settle_memory(False)
                raise
            outlined._settle_memory(True)

    def remember(self) -> None:
        """Write aside what this build made of its chapters (of: in place once the build succeeds)."""
        if self.memory is not None:
            self._settle_memory = self.memory.remember(self._memory_slices())

    def _outline(self) -> None:
        read = self.chapters.read()
        if self.files:
            self.sources = self._folder_sources(read)
        detected = self.chapters.detect_repeated(read)
        total = self.job.count
        tick = (lambda done: self.progress(done, total)) if self.progress is not None else None
        outlines, remembered = self.chapters.refine(detected, tick, remember=self.memory is not None)
        # Pickled by the workers while this process makes the book: waited for before the next round.
        self._memory_slices = cache(remembered)
        self.outlines = {id(outline.chapter): (index, outline) for index, outline in enumerate(outlines) if outline is not None}
        """Each outlined chapter's index in the input, and its outline, by the chapter's id."""
        credits = tuple(dict.fromkeys(credit for result in read for credit in result.credits))
        removals = tuple(removal for outline in outlines if outline is not None for removal in outline.removals)
        self.book = self._book(outlines, detected.title, credits, removals)

    def _folder_sources(self, read: list[ReadChapter]) -> SourceSet:
        """The facts of a folder's files, now that the workers read them; a file that could not be
        read is skipped with a warning (without skip_bad, Chapters.read stopped the build already)."""
        names, mtimes, warnings, notices = [], [], [], []
        for file, result in zip(self.files, read):
            if result.error is not None:
                warnings.append(skipped(result.error))
                continue
            names.append(file)
            mtimes.append(result.mtime)
            warnings += result.warnings
            notices.append(result.notice)
        return folder_set(self.input_path, len(self.files), names, mtimes, (), warnings, notices)

    def _book(self, outlines: list[Outline | None], title: str | None, credits: tuple, removals: tuple[Removal, ...]) -> Book:
        chapters = [outline.chapter for outline in outlines if outline is not None]
        ordered, warnings = order_chapters(chapters, self.sources.named_in_sequence)
        ordered, duplicates = drop_duplicates(ordered, lambda c: self._outline_of(c).identity, lambda c: self._outline_of(c).length)
        warnings += duplicates + missing_chapters(ordered)
        if not ordered:
            raise InputError(f"{self.input_path}: no chapter text left to build a book from")
        volumes, outside = split_volumes(ordered, self.config)
        metadata = _metadata(self.config, self.sources, title, credits, self.input_path)
        description, front_removals = synopsis(self.sources.front_matter, metadata.title)
        cover, cover_warnings = given_cover(self.config.cover, self.sources.metadata.cover)
        theme, user_css, css_warnings = _stylesheet(self.config)
        return Book(
            cover=cover,
            info_page=self.config.info_page,
            metadata=replace(metadata, description=metadata.description or description),
            chapters=tuple(ordered),
            stylesheet=theme,
            user_stylesheet=user_css,
            removals=front_removals + removals,
            warnings=self.sources.warnings + cover_warnings + css_warnings + tuple(warnings + outside),
            volumes=volumes if len(volumes) > 1 else (),
        )

    def digest(self, chapter: Chapter) -> str:
        return self._outline_of(chapter).digest

    def _outline_of(self, chapter: Chapter) -> Outline:
        return self.outlines[id(chapter)][1]

    def documents(self, books: list[Book], known: list[set[int]]) -> Callable[[], list[dict[int, Deflated]]]:
        """Start making the documents of the books' chapters where the chapters are, all books at once
        (a volume's chapters may all be in one worker's chunks: one round for all keeps every worker busy),
        but those of the numbers known for each book; return the function that waits for them: for
        each book, by chapter number. The books of a build (its volumes) share one language and one set of stylesheets."""
        self._memory_slices()
        numbered = [
            {self.outlines[id(chapter)][0]: number for number, chapter in enumerate(book.chapters, 1) if number not in skip}
            for book, skip in zip(books, known)
        ]
        if not any(numbered):
            return lambda: [{} for _ in books]
        wanted = {index: number for numbers in numbered for index, number in numbers.items()}
        made = self.chapters.documents(wanted, books[0].metadata.language, stylesheet_hrefs(books[0]))

        def by_book() -> list[dict[int, Deflated]]:
            documents = made()
            return [{number: documents[index] for index, number in numbers.items()} for numbers in numbered]

        return by_book

    def book_with_text(self) -> Book:
        """The book with its chapters whole."""
        whole = self.chapters.chapters()
        by_outline = {key: whole[index] for key, (index, _) in self.outlines.items()}

        def text_of(chapters: tuple[Chapter, ...]) -> tuple[Chapter, ...]:
            return tuple(by_outline[id(chapter)] for chapter in chapters)

        book = self.book
        volumes = tuple(replace(volume, chapters=text_of(volume.chapters)) for volume in book.volumes)
        return replace(book, chapters=text_of(book.chapters), volumes=volumes)

    def all_sources(self) -> SourceSet:
        """The input as read, its chapters too (kept when asked for: keep_sources)."""
        if not self.files:
            return self.sources
        return replace(self.sources, chapters=tuple(source for source in self.chapters.sources() if source is not None))


def _followed(path: Path) -> Path:
    """A path the user named, checked (writable_file): where its symlink leads, if it is one."""
    target = writable_file(path, follow_symlinks=True)
    return target if path.is_symlink() else path


def _names_chosen_by_epubgen(output: Path | None) -> bool:
    """Whether the EPUBs go into a folder under names epubgen chose (a title, volume names): then the
    ones an earlier build chose and this one does not are replaced; a file the user named replaces none."""
    return output is None or output.suffix.lower() != ".epub"


def _output_folder(output: Path | None) -> Path:
    """The folder plan_outputs writes into."""
    if output is not None and output.suffix.lower() == ".epub":
        return output.parent
    return output or OUTPUT_FOLDER


def _input(input_path: Path, config: BookConfig) -> tuple[list[Path], SourceSet]:
    """A folder's chapter files, for the workers to read; any other input read here, as is a
    folder's one text file (one_file_series): split at its headings as when it is given alone."""
    if input_path.is_dir():
        files = folder_files(input_path)
        series_file = one_file_series(files)
        if series_file is None:
            return files, SourceSet(chapters=(), named_in_sequence=True, newest_mtime=0)
        input_path = series_file
    limits = (config.epub_entry_limit_mb * 1024 * 1024, config.epub_limit_mb * 1024 * 1024)
    return [], read_input(input_path, config.encoding or None, config.skip_bad, limits)


def plan_outputs(book: Book, config: BookConfig, output: Path | None, covers: bool = True) -> list[tuple[Path, Book]]:
    """Which EPUBs to write, and the book each holds.

    A book of one volume, or one asked for as a single file (--single-file, or an output path
    ending in .epub), is one EPUB (its TOC nested by volume): the output path, or
    output/<slug of the title>.epub. Otherwise each volume is an EPUB of its own, named by
    the volume name pattern, in the output folder (default output/). Each book without a cover
    gets a generated one (see with_cover), unless covers is false.
    """
    cover = (lambda book: with_cover(book, config)) if covers else (lambda book: book)
    single = not book.volumes or config.volumes.single_file or (output is not None and output.suffix.lower() == ".epub")
    if single:
        book = cover(book)
        if output is not None and output.suffix.lower() == ".epub":
            return [(output, book)]
        return [((output or OUTPUT_FOLDER) / f"{slug(book.metadata.title)}.epub", book)]
    folder = output or OUTPUT_FOLDER
    names = volume_file_names(book.metadata.title, book.volumes, config.volumes.name)
    return [(folder / f"{name}.epub", cover(volume_book(book, volume))) for name, volume in zip(names, book.volumes)]


def with_cover(book: Book, config: BookConfig) -> Book:
    """A book without a given cover gets a generated one (unless generate_cover is off).

    The generated cover is a function of the book's metadata and the settings, both in its
    incremental key already: a build generates the covers of the EPUBs it writes only."""
    if book.cover is not None or not config.generate_cover:
        return book
    metadata = book.metadata
    return replace(book, cover=generated_cover(metadata.title, metadata.authors, metadata.series, metadata.series_index))


def volume_book(book: Book, volume: Volume) -> Book:
    """One volume of a series as a book of its own: its title says which volume, its metadata the series.

    It is dated by its own chapters' files, so new chapters leave the other volumes' bytes alone.
    """
    metadata = book.metadata
    newest = max(chapter.mtime for chapter in volume.chapters)
    identifier = f"{metadata.identifier}:volume-{volume.number}" if metadata.identifier else ""
    return replace(
        book,
        chapters=volume.chapters,
        volumes=(),
        metadata=replace(
            metadata,
            title=f"{metadata.title}, {volume.label}",
            identifier=identifier,
            series=metadata.series or metadata.title,
            series_index=volume.number,
            modified=_modified_time(newest) if newest else metadata.modified,
        ),
    )


def write_analysis_report(analysis: Analysis, path: Path) -> None:
    """Write what was removed and why to path (a path the user named: a symlink is followed)."""
    write_report(_followed(path), analysis.book.metadata.title, _all_sources(analysis.sources), analysis.book.removals)


def _all_sources(sources: SourceSet) -> tuple[SourceChapter, ...]:
    """Every piece of input text, the front matter of a one-file series first."""
    return ((sources.front_matter,) if sources.front_matter else ()) + sources.chapters


THEMES = ("default", "block")


def stylesheet(name: str) -> str:
    """A theme from styles/: default.css, with the theme's own rules laid over it."""
    files = ["default.css"] + ([f"{name}.css"] if name != "default" else [])
    return "\n".join(resources.files("epubgen.styles").joinpath(file).read_text(encoding="utf-8") for file in files)


def _stylesheet(config: BookConfig) -> tuple[str, UserStylesheet | None, tuple[str, ...]]:
    """The chosen theme; the user's own CSS file when given, laid over it (vetted: see
    user_stylesheet); and the warnings about what was dropped from it."""
    theme = stylesheet(config.style or "default")
    if not config.css:
        return theme, None, ()
    css, warnings = user_stylesheet(config.css)
    return theme, UserStylesheet(slug(Path(config.css).stem), css), warnings


WINDOWS_DEVICE_NAMES = frozenset({"con", "prn", "aux", "nul", *(f"{port}{digit}" for port in ("com", "lpt") for digit in range(10))})
"""Names Windows keeps for devices, whatever the extension: no file can have one."""


def slug(title: str) -> str:
    """A file name for a title, in its own letters: `The Lantern Keeper!` -> `the-lantern-keeper`,
    `斗破苍穹：第二部` -> `斗破苍穹-第二部`; a title of symbols only (emoji) keeps them. At most 80
    characters and MAX_NAME_BYTES; nothing a file system refuses."""
    name = _slug_characters(title, "LN") or _slug_characters(title, "LNS")
    name = name[:80].encode("utf-8")[:MAX_NAME_BYTES].decode("utf-8", "ignore").strip("-") or "book"
    return f"{name}-book" if name in WINDOWS_DEVICE_NAMES else name


def _slug_characters(title: str, kept: str) -> str:
    """The lowercase letters, digits and marks of title (NFC) whose Unicode category starts with one
    of kept, in runs joined by `-`. A character with an ASCII form (NFKD: `é`, `ﬁ`, `½`) is written in
    it, as the ASCII-only names of earlier versions were, so that a Latin title keeps its file name."""
    characters: list[str] = []
    marks_kept = False
    for character in unicodedata.normalize("NFKD", title):
        category = unicodedata.category(character)[0]
        if character.isascii():
            characters.append(character)
            marks_kept = False
        elif category != "M":
            marks_kept = category in kept
            characters.append(character if marks_kept else "")
        elif marks_kept:
            characters.append(character)
    text = unicodedata.normalize("NFC", "".join(characters).lower())
    return re.sub("[^a-z0-9\x80-\U0010ffff]+", "-", text).strip("-")


def _metadata(config: BookConfig, sources: SourceSet, title: str | None, credits: tuple, input_path: Path) -> Metadata:
    """Settings first; then what an input EPUB says of itself; then what the cleaner found
    (the title on top of every page, credit lines); then the folder's name."""
    given = sources.metadata
    credited = tuple(name for role, name in credits if role == "trl")
    return Metadata(
        title=config.title or given.title or title or title_from_path(input_path),
        authors=config.author or given.authors,
        translators=config.translator or given.translators or credited,
        language=config.language or given.language or "en",
        description=config.description or given.description,
        publisher=config.publisher or given.publisher,
        source=config.source,
        original_title=config.original_title,
        subjects=config.subjects or given.subjects,
        identifier=config.identifier or given.identifier,
        modified=_modified_time(sources.newest_mtime),
        contributors=tuple((role, name) for role, name in credits if role != "trl"),
        series=config.series,
        series_index=config.series_index or None,
    )


def title_from_path(input_path: Path) -> str:
    """The title a folder or file name gives, the last resort when nothing else names the book."""
    name = shown_name(input_path.resolve().name if input_path.is_dir() else input_path.stem)
    return re.sub(r"[_-]+", " ", name).strip() or "Untitled"


def _modified_time(newest_mtime: int) -> int:
    """SOURCE_DATE_EPOCH when set (reproducible-builds.org), else the newest input file's time;
    brought into the times a zip can carry (zip_time)."""
    value = os.environ.get("SOURCE_DATE_EPOCH")
    if value is None:
        return zip_time(newest_mtime)
    if not re.fullmatch(r"[0-9]+", value.strip()):
        raise ConfigError(f"SOURCE_DATE_EPOCH must be a whole number of seconds, not {value!r}")
    digits = value.strip().lstrip("0") or "0"
    # Twelve digits or more are past 2107, and may be too many for int().
    return zip_time(int(digits) if len(digits) < 12 else ZIP_LAST_TIME)
