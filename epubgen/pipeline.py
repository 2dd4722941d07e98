"""The per-chapter stages of a build, run where the chapters are kept.

A build's chapters are shared out among worker processes (epubgen.parallel.Team), each keeping
its own slice from one round to the next; the calling process decides what needs the whole
series. The rounds:

1. read:    read, decode and run the rules on each chapter; back come the removals, the credits
            and the repeated-line detector's keys at the chapters' edges.
2. count:   count where the keys that may be junk stand (clean.repeated.KeyCounts).
3. refine:  drop the repeated junk, then notes, structure and typography; back comes an outline
            of each chapter (its heading, notes and images, not its text) and a digest of it.
4. package: the documents of the chapters an EPUB holds, made and compressed where they are.

Only what the next decision needs travels between processes, never the text: no process holds
the whole series, and the results are the same however many processes share the work.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from epubgen.clean import Cleaner, RulesDone, apply_rules, drop_repeated, repeated
from epubgen.config import BookConfig
from epubgen.errors import InputError
from epubgen.model import Chapter, Removal, SourceChapter
from epubgen.notes import extract_notes
from epubgen.package.epub import STYLESHEET, Deflated
from epubgen.package.xhtml import chapter_document
from epubgen.parallel import Team
from epubgen.read.text import ChapterFile, read_chapter_file
from epubgen.structure import chapter_identity, chapter_length, structure_chapter
from epubgen.typography import refine

Tick = Callable[[], None]


@dataclass(frozen=True)
class Job:
    """What every worker needs to know, given to it when it is forked."""

    config: BookConfig
    language: str
    files: tuple[Path, ...] = ()
    """A folder's chapter files, read by the workers..."""
    sources: tuple[SourceChapter, ...] = ()
    """...or the chapters read already (one file split at its headings, an EPUB)."""
    keep_sources: bool = False
    """Keep each chapter as read, for a report that shows removals in context."""

    @property
    def count(self) -> int:
        return len(self.files) or len(self.sources)

    def read(self, index: int) -> ChapterFile:
        if self.files:
            return read_chapter_file(self.files[index], self.config.encoding or None)
        return ChapterFile(self.sources[index], [], "")


@dataclass(frozen=True)
class ReadChapter:
    """Round 1's word on a chapter: the file could not be read (error), or what the rules found."""

    error: InputError | None = None
    warnings: tuple[str, ...] = ()
    notice: str = ""
    removals: tuple[Removal, ...] = ()
    credits: tuple[tuple[str, str], ...] = ()
    edge_keys: tuple[str, ...] = ()


@dataclass(frozen=True)
class Outline:
    """Round 3's word on a chapter: the chapter without its blocks, and what is needed of them."""

    chapter: Chapter
    """The chapter with no blocks: heading, notes, images, volume title, date."""
    identity: tuple | None
    length: int
    digest: str
    """A digest of all the chapter is made from: its source, the settings, the junk detected (_digest)."""
    removals: tuple[Removal, ...]
    """The repeated edge lines and the notes taken out of it."""


class Chapters:
    """A build's chapters, kept by a team of workers: `with Chapters(job) as chapters: ...`."""

    def __init__(self, job: Job):
        self.job = job
        self._team = Team(job.count, {"job": job})

    def __enter__(self) -> Chapters:
        self._team.__enter__()
        return self

    def __exit__(self, *exception: object) -> None:
        self._team.__exit__(*exception)

    def read(self) -> list[ReadChapter]:
        return _joined(self._team.run(_read_round))

    def detect_repeated(self, read: list[ReadChapter]) -> repeated.Repeated:
        """The repeated edge junk, over the chapters that could be read."""
        config = self.job.config.clean
        count = sum(result.error is None for result in read)
        if not config.detect_repeated or not count:
            return repeated.Repeated(frozenset(), None)
        needed = repeated.needed_chapters(count, config)
        possible = repeated.possible_keys(Counter(key for result in read for key in result.edge_keys), needed)
        counts = repeated.KeyCounts()
        if possible:
            for part in self._team.run(_count_round, possible):
                counts.merge(part)
        return repeated.decide(counts, needed)

    def refine(self, detected: repeated.Repeated, progress: Callable[[int], None] | None = None) -> list[Outline | None]:
        """Outlines of the chapters read (None for those that could not be)."""
        return _joined(self._team.run(_refine_round, detected, progress=progress))

    def chapters(self) -> list[Chapter | None]:
        """The chapters whole, text and all (for a Book in memory)."""
        return _joined(self._team.run(_chapters_round))

    def sources(self) -> list[SourceChapter | None]:
        """The chapters as read (Job.keep_sources)."""
        return _joined(self._team.run(_sources_round))

    def documents(self, numbers: Mapping[int, int], language: str) -> dict[int, Deflated]:
        """The compressed documents of the chapters at the given indices, by the number each has in its book."""
        made: dict[int, Deflated] = {}
        for part in self._team.run(_documents_round, dict(numbers), language):
            made.update(part)
        return made


def _source_digest(source: SourceChapter) -> bytes:
    """A digest of a chapter as read: its text, line by line, and what came with it."""
    digest = hashlib.sha256("\n".join(line.text for line in source.lines).encode("utf-8", "surrogatepass"))
    digest.update(f"\n{len(source.lines)}\n{source.source}\n{source.title_hint}\n{source.mtime}\n".encode("utf-8", "surrogatepass"))
    for image in source.images:
        digest.update(hashlib.sha256(image.data).digest() + f"{image.media_type}\n{image.alt}\n".encode())
    return digest.digest()


def _context_digest(job: Job, detected: repeated.Repeated) -> bytes:
    """A digest of what every chapter is made with besides its source: the settings, the language and the junk detected."""
    context = f"{job.config!r}\n{job.language}\n{sorted(detected.keys)!r}\n{detected.title!r}"
    return hashlib.sha256(context.encode("utf-8", "surrogatepass")).digest()


def _joined(parts: list[list]) -> list:
    return [item for part in parts for item in part]


def _read_round(state: dict, start: int, stop: int, tick: Tick) -> list[ReadChapter]:
    job: Job = state["job"]
    cleaner = Cleaner.of(job.config.clean)
    results = []
    for index in range(start, stop):
        try:
            read = job.read(index)
        except InputError as error:
            results.append(ReadChapter(error=error))
            continue
        done = apply_rules(read.chapter, cleaner)
        state[index] = (read.chapter if job.keep_sources else replace(read.chapter, lines=()), done, _source_digest(read.chapter))
        edge_keys = repeated.edge_keys(done.text_lines, done.keys) if cleaner.detect_repeated else []
        results.append(
            ReadChapter(None, tuple(read.warnings), read.notice, tuple(done.removals), tuple(done.credits), tuple(edge_keys))
        )
    return results


def _count_round(state: dict, start: int, stop: int, possible: frozenset[str], tick: Tick) -> repeated.KeyCounts:
    counts = repeated.KeyCounts()
    for index in range(start, stop):
        if index in state:
            _, done, _ = state[index]
            counts.add(done.text_lines, done.keys, possible)
    return counts


def _refine_round(state: dict, start: int, stop: int, detected: repeated.Repeated, tick: Tick) -> list[Outline | None]:
    job: Job = state["job"]
    config = job.config
    cleaner = Cleaner.of(config.clean)
    sources: dict[int, SourceChapter] = state.setdefault("sources", {})
    context = _context_digest(job, detected)
    results: list[Outline | None] = []
    for index in range(start, stop):
        if index not in state:
            results.append(None)
            continue
        source, done, source_digest = state.pop(index)
        chapter, removals = _refined(source, done, detected, cleaner, config, job.language)
        state[index] = chapter
        if job.keep_sources:
            sources[index] = source
        digest = hashlib.sha256(context + source_digest).hexdigest()
        results.append(Outline(replace(chapter, blocks=()), chapter_identity(chapter), chapter_length(chapter), digest, removals))
        tick()
    return results


def _refined(
    source: SourceChapter, done: RulesDone, detected: repeated.Repeated, cleaner: Cleaner, config: BookConfig, language: str
) -> tuple[Chapter, tuple[Removal, ...]]:
    """The chapter after the rules: without its repeated junk, its notes apart, structured and refined;
    and what went, in line order (stable: at one line, the rules' removals come first)."""
    lines, dropped = drop_repeated(source, done.kept, detected, cleaner)
    noted, note_removals = extract_notes(replace(source, lines=lines), config.notes)
    chapter = refine(structure_chapter(noted, config.plain_emphasis), language, config.typography)
    if source.images:
        chapter = replace(chapter, images=source.images)
    return chapter, tuple(sorted(done.removals + dropped + list(note_removals), key=lambda removal: removal.line))


def _chapters_round(state: dict, start: int, stop: int, tick: Tick) -> list[Chapter | None]:
    return [state.get(index) for index in range(start, stop)]


def _sources_round(state: dict, start: int, stop: int, tick: Tick) -> list[SourceChapter | None]:
    sources = state.get("sources", {})
    return [sources.get(index) for index in range(start, stop)]


def _documents_round(state: dict, start: int, stop: int, numbers: dict[int, int], language: str, tick: Tick) -> dict[int, Deflated]:
    href = f"../{STYLESHEET}"
    return {
        numbers[index]: Deflated.of(chapter_document(state[index], numbers[index], language, href))
        for index in range(start, stop)
        if index in numbers
    }
