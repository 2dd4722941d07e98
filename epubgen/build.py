"""The pipeline: read -> clean -> notes -> structure -> typography -> package."""

from __future__ import annotations

import os
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, fields, replace
from importlib import resources
from pathlib import Path

from epubgen.clean import CleanResult, clean
from epubgen.config import BookConfig
from epubgen.errors import ConfigError, InputError
from epubgen.clean.report import write_report
from epubgen.model import Block, Book, Chapter, Cover, Metadata, Paragraph, Removal, SourceChapter, SourceSet, Volume
from epubgen.package.cover import cover_from_bytes, generated_cover
from epubgen.notes import extract_notes
from epubgen.parallel import split_work
from epubgen.incremental import write_changed
from epubgen.read import read_input
from epubgen.structure import drop_duplicates, missing_chapters, order_chapters, structure_chapter, synopsis
from epubgen.typography import refine
from epubgen.volumes import split_volumes

OUTPUT_FOLDER = Path("output")
_UNSAFE_IN_FILE_NAMES = re.compile(r'[\x00-\x1f/\\:*?"<>|]')

Progress = Callable[[int, int], None]
"""Called as progress(done, total) after each chapter passes the per-chapter stages."""


@dataclass(frozen=True)
class BuildResult:
    paths: tuple[Path, ...]
    """The EPUBs built: one, or one per volume."""
    book: Book
    size: int
    """The EPUBs' size in bytes, all together."""
    notices: tuple[str, ...] = ()
    """Details for --verbose: the encoding each file was read in."""
    unchanged: tuple[Path, ...] = ()
    """The EPUBs left untouched: their book was the same as at the last build."""

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
    sources = read_input(input_path, config.encoding or None, config.skip_bad)
    cleaned = clean(sources.chapters, config.clean)
    language = config.language or sources.metadata.language or "en"
    chapters, note_removals = _chapters(cleaned.chapters, config, language, progress)
    ordered, warnings = order_chapters(chapters, sources.named_in_sequence)
    ordered, duplicates = drop_duplicates(ordered)
    warnings += duplicates + missing_chapters(ordered)
    if not ordered:
        raise InputError(f"{input_path}: no chapter text left to build a book from")
    volumes, outside = split_volumes(ordered, config)
    metadata = _metadata(config, sources, cleaned, input_path)
    description, front_removals = synopsis(sources.front_matter, metadata.title)
    book = Book(
        cover=_given_cover(config, sources),
        info_page=config.info_page,
        metadata=replace(metadata, description=metadata.description or description),
        chapters=tuple(ordered),
        stylesheet=_stylesheet(config),
        removals=tuple(sorted(front_removals + cleaned.removals + note_removals, key=_removal_order(sources))),
        warnings=sources.warnings + tuple(warnings + outside),
        volumes=volumes if len(volumes) > 1 else (),
    )
    return Analysis(sources, book)


def build(
    input_path: Path,
    config: BookConfig,
    output: Path | None = None,
    progress: Progress | None = None,
    report: Path | None = None,
    force: bool = False,
) -> BuildResult:
    """Build the EPUB(s) for input_path (see plan_outputs for where they go).

    An EPUB whose book is the same as at the last build is left untouched (see incremental),
    unless force. With report, also write what was removed and why (HTML, or JSON for a .json path).
    """
    analysis = analyse(input_path, config, progress)
    planned = plan_outputs(analysis.book, config, output)
    unchanged = write_changed(planned, force)
    if report is not None:
        write_analysis_report(analysis, report)
    paths = tuple(path for path, _ in planned)
    size = sum(path.stat().st_size for path in paths)
    return BuildResult(paths=paths, book=analysis.book, size=size, notices=analysis.sources.notices, unchanged=unchanged)


def plan_outputs(book: Book, config: BookConfig, output: Path | None) -> list[tuple[Path, Book]]:
    """Which EPUBs to write, and the book each holds.

    A book of one volume, or one asked for as a single file (--single-file, or an output path
    ending in .epub), is one EPUB (its TOC nested by volume): the output path, or
    output/<slug of the title>.epub. Otherwise each volume is an EPUB of its own, named by
    the volume name pattern, in the output folder (default output/).
    """
    single = not book.volumes or config.volumes.single_file or (output is not None and output.suffix.lower() == ".epub")
    if single:
        book = _with_cover(book, config)
        if output is not None and output.suffix.lower() == ".epub":
            return [(output, book)]
        return [((output or OUTPUT_FOLDER) / f"{slug(book.metadata.title)}.epub", book)]
    folder = output or OUTPUT_FOLDER
    return [
        (folder / f"{volume_file_name(book.metadata.title, volume, config.volumes.name)}.epub", _with_cover(volume_book(book, volume), config))
        for volume in book.volumes
    ]


def _given_cover(config: BookConfig, sources: SourceSet) -> Cover | None:
    """The cover book.toml or --cover names, else the one an input EPUB had."""
    if config.cover:
        path = Path(config.cover)
        try:
            return cover_from_bytes(path.read_bytes(), str(path))
        except OSError as error:
            raise InputError(f"{path}: cannot read the cover ({error.strerror})") from None
    if sources.metadata.cover is not None:
        return cover_from_bytes(sources.metadata.cover, "the input EPUB's cover")
    return None


def _with_cover(book: Book, config: BookConfig) -> Book:
    """A book without a given cover gets a generated one (unless generate_cover is off)."""
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
            series=metadata.title,
            series_index=volume.number,
            modified=_modified_time(newest) if newest else metadata.modified,
        ),
    )


def volume_file_name(title: str, volume: Volume, pattern: str) -> str:
    """`The Lantern Keeper - Vol 03 (Ch 201-300)`, made safe for every file system."""
    first, last = volume.chapter_range or (0, 0)
    try:
        name = pattern.format(title=title, volume=volume.number, first=first, last=last)
    except (KeyError, IndexError, ValueError) as error:
        raise ConfigError(f"volumes.name: {pattern!r} is not a usable pattern ({error})") from None
    return _UNSAFE_IN_FILE_NAMES.sub("", name).strip(" .") or f"volume-{volume.number:02d}"


def write_analysis_report(analysis: Analysis, path: Path) -> None:
    write_report(path, analysis.book.metadata.title, _all_sources(analysis.sources), analysis.book.removals)


def _all_sources(sources: SourceSet) -> tuple[SourceChapter, ...]:
    """Every piece of input text, the front matter of a one-file series first."""
    return ((sources.front_matter,) if sources.front_matter else ()) + sources.chapters


THEMES = ("default", "block")


def stylesheet(name: str) -> str:
    """A theme from styles/: default.css, with the theme's own rules laid over it."""
    files = ["default.css"] + ([f"{name}.css"] if name != "default" else [])
    return "\n".join(resources.files("epubgen.styles").joinpath(file).read_text(encoding="utf-8") for file in files)


def _stylesheet(config: BookConfig) -> str:
    """The user's own CSS file when given, else the chosen theme."""
    if not config.css:
        return stylesheet(config.style or "default")
    try:
        return Path(config.css).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise InputError(f"{config.css}: cannot read the stylesheet ({error})") from None


def slug(title: str) -> str:
    """An ASCII file name for a title: `The Lantern Keeper!` -> `the-lantern-keeper`."""
    ascii_title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_title.lower()).strip("-")[:80].strip("-") or "book"


def _chapters(
    sources: tuple[SourceChapter, ...], config: BookConfig, language: str, progress: Progress | None
) -> tuple[list[Chapter], tuple[Removal, ...]]:
    """The per-chapter stages: notes, structure, typography.

    A long series is shared out among processes (epubgen.parallel); the chapters come back in
    order, each the same as one process makes it.
    """
    total = len(sources)

    def work(start: int, stop: int) -> list[tuple[Chapter, tuple[Removal, ...]]]:
        done = []
        for index in range(start, stop):
            noted, dropped = extract_notes(sources[index], config.notes)
            done.append((refine(structure_chapter(noted, config.plain_emphasis), language, config.typography), dropped))
            if progress is not None and start == 0:
                progress(index + 1, total)
        return done

    parts = split_work(work, total, encode=_compact_chapters(sources), decode=_expanded_chapters(sources))
    chapters: list[Chapter] = []
    removals: list[Removal] = []
    for source, (chapter, dropped) in zip(sources, (result for part in parts for result in part)):
        chapters.append(replace(chapter, images=source.images) if source.images else chapter)
        removals.extend(dropped)
    if progress is not None:
        for done in range(len(parts[0]) + 1, total + 1):
            progress(done, total)
    return chapters, tuple(removals)


_SIMPLE_PARAGRAPHS = [field.name for field in fields(Paragraph)] == ["spans"]
"""Paragraph holds nothing but its spans: one of a single string can travel as that string."""

_Done = list[tuple[Chapter, tuple[Removal, ...]]]


def _compact_chapters(sources: tuple[SourceChapter, ...]) -> Callable[[int, _Done], object]:
    """In a child process, before pickling: a paragraph of a single string as that string, or as
    the index of the source line it still is (the caller has that string already: no second copy).
    Pickling a dataclass instance costs many times more than pickling a string or a number."""

    def compact(start: int, part: _Done) -> object:
        if not _SIMPLE_PARAGRAPHS:
            return part
        result = []
        for source, (chapter, dropped) in zip(sources[start:], part):
            lines = {id(line.text): index for index, line in enumerate(source.lines)}
            blocks = tuple(_compact_block(block, lines) for block in chapter.blocks)
            result.append((replace(chapter, blocks=blocks), dropped))
        return result

    return compact


def _compact_block(block: Block, lines: dict[int, int]) -> Block | str | int:
    if type(block) is Paragraph and len(block.spans) == 1 and type(block.spans[0]) is str:
        text = block.spans[0]
        return lines.get(id(text), text)
    return block


def _expanded_chapters(sources: tuple[SourceChapter, ...]) -> Callable[[int, object], _Done]:
    """The chapters of _compact_chapters() as they were."""

    def expand(start: int, part: object) -> _Done:
        if not _SIMPLE_PARAGRAPHS:
            return part  # type: ignore[return-value]
        result = []
        for source, (chapter, dropped) in zip(sources[start:], part):  # type: ignore[call-overload]
            blocks = tuple(_expanded_block(block, source) for block in chapter.blocks)
            result.append((replace(chapter, blocks=blocks), dropped))
        return result

    return expand


def _expanded_block(block: Block | str | int, source: SourceChapter) -> Block:
    if type(block) is str:
        return Paragraph((block,))
    if type(block) is int:
        return Paragraph((source.lines[block].text,))
    return block  # type: ignore[return-value]


def _metadata(config: BookConfig, sources: SourceSet, cleaned: CleanResult, input_path: Path) -> Metadata:
    """Settings first; then what an input EPUB says of itself; then what the cleaner found
    (the title on top of every page, credit lines); then the folder's name."""
    given = sources.metadata
    credited = tuple(name for role, name in cleaned.credits if role == "trl")
    return Metadata(
        title=config.title or given.title or cleaned.title or _title_from_path(input_path),
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
        contributors=tuple((role, name) for role, name in cleaned.credits if role != "trl"),
    )


def _removal_order(sources: SourceSet) -> Callable[[Removal], tuple[int, int]]:
    """Removals in reading order of the input: front matter, then chapter by chapter, line by line."""
    position = {chapter.source: index for index, chapter in enumerate(_all_sources(sources))}
    return lambda removal: (position[removal.source], removal.line)


def _title_from_path(input_path: Path) -> str:
    name = input_path.resolve().name if input_path.is_dir() else input_path.stem
    return re.sub(r"[_-]+", " ", name).strip() or "Untitled"


def _modified_time(newest_mtime: int) -> int:
    """SOURCE_DATE_EPOCH when set (reproducible-builds.org), else the newest input file's time."""
    value = os.environ.get("SOURCE_DATE_EPOCH")
    if value is None:
        return newest_mtime
    if not value.strip().isdigit():
        raise ConfigError(f"SOURCE_DATE_EPOCH must be a whole number of seconds, not {value!r}")
    return int(value)
