"""The per-chapter stages of a build, run where the chapters are kept.

A build's chapters are shared out among worker processes (epubgen.parallel.Team): each claims
chunks of them as it gets free in round 1 and keeps them from one round to the next; the calling
process decides what needs the whole series. The rounds:

1. read:    read, decode and run the rules on each chapter; back come the credits, the
            repeated-line detector's keyed lines and a digest of the chapter as read.
            (The calling process then finds the repeated junk: clean.repeated.find_repeated.)
2. refine:  drop the repeated junk, then notes, structure and typography; back comes an outline
            of each chapter (its heading, notes and images, not its text) and a digest of it.
3. package: the documents of the chapters an EPUB holds, made and compressed where they are.

Only what the next decision needs travels between processes, never the text: no process holds
the whole series, and the results are the same however many processes share the work.

A build may remember what it made of each chapter text file (Job.memory: epubgen.memory): a file
whose bytes and time are those remembered is not decoded nor cleaned in round 1 (only read and
hashed; not even read where its stat vouches for them: _vouching), and its outline is reused in
round 2 when the chapter's digest is the same; its text is only made again if an EPUB to write holds
it (from the same bytes, or the build stops).
"""

from __future__ import annotations

import hashlib
import os
import pickle
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from hashlib import blake2b
from pathlib import Path

from epubgen.clean import Cleaner, RulesDone, apply_rules, drop_repeated, repeated
from epubgen.config import BookConfig
from epubgen.errors import InputError
from epubgen.model import Chapter, Removal, SourceChapter
from epubgen.notes import extract_notes
from epubgen.package.epub import Deflated
from epubgen.package.xhtml import chapter_document
from epubgen.parallel import Team
from epubgen.read.text import HTML_SUFFIXES, ChapterFile, chapter_from_bytes, raise_unreadable, read_file
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
    memory: Mapping[str, Remembered] = field(default_factory=dict)
    """What the last build made of each chapter file, by file name (epubgen.memory)."""
    stats_vouch: bool = False
    """Whether the files' stats can vouch for their bytes where they are (read.text.stats_vouch_in)."""

    @property
    def count(self) -> int:
        return len(self.files) or len(self.sources)


@dataclass(frozen=True)
class ReadChapter:
    """Round 1's word on a chapter: the file could not be read (error), or what the rules found."""

    error: InputError | None = None
    warnings: tuple[str, ...] = ()
    notice: str = ""
    credits: tuple[tuple[str, str], ...] = ()
    keyed: repeated.KeyedLines | None = None
    """What the repeated-line detector counts of it (None when the detector is off)."""
    source_digest: bytes = b""
    """A digest of the chapter as read (_source_digest)."""
    file_key: tuple[bytes, int] | None = None
    """A digest of its file's bytes, and the file's time: what a memory of the chapter is valid for."""
    stat: Stat | None = None
    """The file's stat when it vouches for those bytes (_vouching): then a file with the same stat
    need not be read again to be known unchanged."""
    mtime: int = 0
    """The time of the file it was read from, in whole seconds, as the chapter read carries it (0: unknown)."""


@dataclass(frozen=True)
class Outline:
    """Round 2's word on a chapter: the chapter without its blocks, and what is needed of them."""

    chapter: Chapter
    """The chapter with no blocks: heading, notes, images, volume title, date."""
    identity: tuple | None
    length: int
    digest: str
    """A digest of all the chapter is made from: its source, the settings, the junk detected (_digest)."""
    removals: tuple[Removal, ...]
    """What was taken out of it (rules, repeated edge lines, notes), in line order."""


REMEMBERED_WORK = 0.02
"""About what a remembered chapter file costs a rebuild (its stat looked at, or it is read and
hashed) next to a new one (decoded, cleaned, refined, made into a document): the chunks the workers
claim are cut by it, so that the new chapters of a rebuild, all at the end, are spread over many small
chunks, not left in one worker's."""

AS_REMEMBERED = "as remembered"
"""A round's word on a chapter whose result is the one remembered: the calling process has the
memory too (it read it before the workers forked), so nothing more needs to come back."""


@dataclass(frozen=True)
class Remembered:
    """What a build made of a chapter file: valid while the file's bytes and time are file_key (or,
    without reading it, while its stat is read.stat)."""

    file_key: tuple[bytes, int]
    read: ReadChapter
    outline: Outline | None


class Chapters:
    """A build's chapters, kept by a team of workers: `with Chapters(job) as chapters: ...`."""

    def __init__(self, job: Job):
        self.job = job
        weights = [REMEMBERED_WORK if file.name in job.memory else 1.0 for file in job.files] if job.memory else None
        self._team = Team(job.count, {"job": job}, weights=weights)

    def __enter__(self) -> Chapters:
        self._team.__enter__()
        return self

    def __exit__(self, *exception: object) -> None:
        self._team.__exit__(*exception)

    def read(self) -> list[ReadChapter]:
        """What round 1 made of every chapter; unless skip_bad, an InputError naming every file
        that could not be read (each worker read all of its chunks first)."""
        results = _joined(self._team.run(_read_round))
        read = [self._recalled(index).read if isinstance(result, str) else result for index, result in enumerate(results)]
        if not self.job.config.skip_bad:
            raise_unreadable([result.error for result in read if result.error is not None])
        return read

    def detect_repeated(self, read: list[ReadChapter]) -> repeated.Repeated:
        """The repeated edge junk, over the chapters that could be read."""
        return repeated.find_repeated([result.keyed for result in read if result.keyed is not None], self.job.config.clean)

    def refine(
        self, detected: repeated.Repeated, progress: Callable[[int], None] | None = None, remember: bool = False
    ) -> tuple[list[Outline | None], Callable[[], list[bytes]]]:
        """Outlines of the chapters read (None for those that could not be); and the function that
        waits for what is to be remembered of them, pickled where they are (a pickled {file name:
        Remembered} per chunk; none unless remember). The workers go on to that as soon as they have
        refined their chunks, while this process reads the outlines and makes the book."""
        refined = self._team.start(_refine_round, detected)
        remembered = self._team.start(_memory_round) if remember else lambda progress=None: []
        outlines = _joined(refined(progress))
        return [self._recalled(index).outline if isinstance(outline, str) else outline for index, outline in enumerate(outlines)], remembered

    def _recalled(self, index: int) -> Remembered:
        return self.job.memory[self.job.files[index].name]

    def chapters(self) -> list[Chapter | None]:
        """The chapters whole, text and all (for a Book in memory)."""
        return _joined(self._team.run(_chapters_round))

    def sources(self) -> list[SourceChapter | None]:
        """The chapters as read (Job.keep_sources)."""
        return _joined(self._team.run(_sources_round))

    def documents(self, numbers: Mapping[int, int], language: str, stylesheet_hrefs: tuple[str, ...]) -> Callable[[], dict[int, Deflated]]:
        """Start making the compressed documents of the chapters at the given indices, each with the
        number it has in its book; return the function that waits for them, by index."""
        wait = self._team.start(_documents_round, dict(numbers), language, stylesheet_hrefs)

        def made() -> dict[int, Deflated]:
            return {index: document for part in wait(None) for index, document in part.items()}

        return made


def _source_digest(source: SourceChapter, content: bytes) -> bytes:
    """A digest of a chapter as read: of what its text was made from (content: _text_digest, or the
    digest of its file's bytes, which with the settings in the context digest decide the text) and
    what came with it."""
    digest = hashlib.sha256(content)
    digest.update(f"\n{len(source.lines)}\n{source.source}\n{source.title_hint}\n{source.mtime}\n".encode("utf-8", "surrogatepass"))
    for image in source.images:
        digest.update(hashlib.sha256(image.data).digest() + f"{image.media_type}\n{image.alt}\n".encode())
    return digest.digest()


def _text_digest(source: SourceChapter) -> bytes:
    """A digest of a chapter's text, line by line."""
    return hashlib.sha256("\n".join(line.text for line in source.lines).encode("utf-8", "surrogatepass")).digest()


def _context_digest(job: Job, detected: repeated.Repeated) -> bytes:
    """A digest of what every chapter is made with besides its source: the settings, the language and the junk detected."""
    context = f"{job.config!r}\n{job.language}\n{sorted(detected.keys)!r}\n{detected.title!r}"
    return hashlib.sha256(context.encode("utf-8", "surrogatepass")).digest()


def _chapter_digest(context: bytes, source_digest: bytes) -> str:
    """Outline.digest: of all a chapter is made from, its source and what every chapter is made with."""
    return hashlib.sha256(context + source_digest).hexdigest()


def _joined(parts: list[list]) -> list:
    return [item for part in parts for item in part]


def _read_round(state: dict, start: int, stop: int, tick: Tick) -> list[ReadChapter | str]:
    job: Job = state["job"]
    cleaner = _cleaner(state)
    results: list[ReadChapter | str] = []
    said = state.setdefault("read", {})
    for index in range(start, stop):
        try:
            result = _read(job, index, cleaner, state)
        except InputError as error:
            result = ReadChapter(error=error)
        results.append(result)
        said[index] = state[index].read if isinstance(result, str) else result
    return results


def _read(job: Job, index: int, cleaner: Cleaner, state: dict) -> ReadChapter | str:
    """Read the index-th chapter and run the rules on it, keeping the result in state; a chapter
    file remembered as it is now (its stat, where stats vouch for it; else its bytes and time) is not
    decoded nor cleaned (nor, by its stat, read): what is remembered of it is kept instead."""
    if not job.files:
        source = job.sources[index]
        return _ruled(job, index, ChapterFile(source, [], ""), _text_digest(source), cleaner, state, None)
    file = job.files[index]
    rememberable = file.suffix.lower() not in HTML_SUFFIXES  # a page's images are files of their own
    remembered = job.memory.get(file.name) if rememberable else None
    if job.stats_vouch and remembered is not None and remembered.read.stat is not None and _stat_of(file) == remembered.read.stat:
        state[index] = remembered
        return AS_REMEMBERED
    data, file_key, stat = _file_bytes(file, job.stats_vouch)
    if remembered is not None and remembered.file_key == file_key:
        state[index] = replace(remembered, read=replace(remembered.read, stat=stat))
        return AS_REMEMBERED
    decoded = _decoded(job, file, data, file_key)
    return _ruled(job, index, decoded, file_key[0], cleaner, state, *((file_key, stat) if rememberable else (None, None)))


Stat = tuple[int, int, int, int]
"""A file's size, modification and change times (ns) and inode: what any change to the file changes."""

VOUCHING_AGE_NS = 2_000_000_000
"""How long a file must have been left alone when it is read for its stat to vouch for its bytes."""


def _file_bytes(file: Path, stats_vouch: bool = False) -> tuple[bytes, tuple[bytes, int], Stat | None]:
    """A chapter file's bytes, its key (a digest of them and the file's time) and, where stats vouch
    (Job.stats_vouch), its stat when it vouches for them (_vouching)."""
    before = time.time_ns() if stats_vouch else 0
    data, status = read_file(file)
    return data, (blake2b(data, digest_size=16).digest(), int(status.st_mtime)), _vouching(status, before) if stats_vouch else None


def _vouching(status: os.stat_result, read_at: int) -> Stat | None:
    """The stat, when it tells the bytes read apart from any others the file may hold later, where
    stats vouch (Job.stats_vouch: the kernel sets the change time on every write, rename or link),
    for a file last changed well before it was read (read_at, ns). A file changed later, even to the
    same size and with its modification time set back, has another change time; one changed within
    the clock's tick of being read would not, so such a file is hashed again next time."""
    if status.st_ctime_ns > read_at - VOUCHING_AGE_NS:
        return None
    return _stat(status)


def _stat_of(file: Path) -> Stat | None:
    try:
        return _stat(os.stat(file))
    except OSError:
        return None  # the read that follows says what is wrong


def _stat(status: os.stat_result) -> Stat:
    return (status.st_size, status.st_mtime_ns, status.st_ctime_ns, status.st_ino)


def _read_again(job: Job, index: int, remembered: Remembered) -> ChapterFile:
    """A remembered chapter's file, read now that its text is needed; InputError if it changed
    since round 1 (a download still writing into the folder): its outline is already in the book."""
    file = job.files[index]
    data, file_key, _ = _file_bytes(file)
    if file_key != remembered.file_key:
        raise InputError(f"{file.name}: the file changed during the build; build again")
    return _decoded(job, file, data, file_key)


def _decoded(job: Job, file: Path, data: bytes, file_key: tuple[bytes, int]) -> ChapterFile:
    return chapter_from_bytes(file, data, file_key[1], job.config.encoding or None)


def _ruled(
    job: Job,
    index: int,
    read: ChapterFile,
    content: bytes,
    cleaner: Cleaner,
    state: dict,
    file_key: tuple[bytes, int] | None,
    stat: Stat | None = None,
) -> ReadChapter:
    """Run the rules on a chapter read (content: what its text was made from, see _source_digest),
    keep the result in state, and say what they found (with the file's key and stat, when it is to
    be remembered)."""
    done = apply_rules(read.chapter, cleaner)
    source_digest = _source_digest(read.chapter, content)
    state[index] = (read.chapter if job.keep_sources else replace(read.chapter, lines=()), done, source_digest)
    return ReadChapter(None, tuple(read.warnings), read.notice, tuple(done.credits), done.keyed, source_digest, file_key, stat, read.chapter.mtime)


def _cleaner(state: dict) -> Cleaner:
    """The worker's cleaner, made once: what it works out line key by line key serves all its chunks."""
    if "cleaner" not in state:
        state["cleaner"] = Cleaner.of(state["job"].config.clean)
    return state["cleaner"]


def _refine_round(state: dict, start: int, stop: int, detected: repeated.Repeated, tick: Tick) -> list[Outline | str | None]:
    if state.get("detected") is not detected:  # the round's first chunk in this worker
        state.update(detected=detected, context=_context_digest(state["job"], detected))
    context = state["context"]
    results: list[Outline | str | None] = []
    outlines = state.setdefault("outlines", {})
    for index in range(start, stop):
        if index not in state:
            results.append(None)
            continue
        kept = state[index]
        if isinstance(kept, Remembered):
            if kept.outline is not None and kept.outline.digest == _chapter_digest(context, kept.read.source_digest):
                results.append(AS_REMEMBERED)
                outlines[index] = kept.outline
                tick()
                continue
        chapter, removals, digest = _refined_at(state, index)
        outlines[index] = Outline(replace(chapter, blocks=()), chapter_identity(chapter), chapter_length(chapter), digest, removals)
        results.append(outlines[index])
        tick()
    return results


def _memory_round(state: dict, start: int, stop: int, tick: Tick) -> bytes:
    """What is to be remembered of the chunk's chapter files (epubgen.memory), pickled where the
    chapters are: each file read as text, by name, as rounds 1 and 2 left it."""
    job: Job = state["job"]
    outlines, said = state["outlines"], state["read"]
    entries = {
        job.files[index].name: Remembered(read.file_key, read, outlines.get(index))
        for index in range(start, stop)
        if (read := said.get(index)) is not None and read.error is None and read.file_key is not None
    }
    return pickle.dumps(entries, protocol=pickle.HIGHEST_PROTOCOL)


def _refined_at(state: dict, index: int) -> tuple[Chapter, tuple[Removal, ...], str]:
    """Refine the index-th chapter (read again first, when it was remembered), keep it in state;
    return it, its removals and its digest."""
    job: Job = state["job"]
    cleaner = _cleaner(state)
    if isinstance(state[index], Remembered):
        remembered = state[index]
        _ruled(job, index, _read_again(job, index, remembered), remembered.file_key[0], cleaner, state, None)
    source, done, source_digest = state.pop(index)
    detected = state["detected"]
    chapter, removals = _refined(source, done, detected, cleaner, job.config, job.language)
    state[index] = chapter
    if job.keep_sources:
        state.setdefault("sources", {})[index] = source
    return chapter, removals, _chapter_digest(state["context"], source_digest)


def _whole_chapter(state: dict, index: int) -> Chapter:
    """The index-th chapter, text and all: made now if only its outline was remembered."""
    if isinstance(state[index], Remembered):
        return _refined_at(state, index)[0]
    return state[index]


def _refined(
    source: SourceChapter, done: RulesDone, detected: repeated.Repeated, cleaner: Cleaner, config: BookConfig, language: str
) -> tuple[Chapter, tuple[Removal, ...]]:
    """The chapter after the rules: without its repeated junk, its notes apart, structured and refined;
    and what went, in line order (stable: at one line, the rules' removals come first)."""
    lines, dropped = drop_repeated(source, done, detected, cleaner)
    noted, note_removals = extract_notes(replace(source, lines=lines), config.notes)
    chapter = refine(structure_chapter(noted, config.plain_emphasis), language, config.typography)
    if source.images:
        chapter = replace(chapter, images=source.images)
    return chapter, tuple(sorted(done.removals + dropped + list(note_removals), key=lambda removal: removal.line))


def _chapters_round(state: dict, start: int, stop: int, tick: Tick) -> list[Chapter | None]:
    return [_whole_chapter(state, index) if index in state else None for index in range(start, stop)]


def _sources_round(state: dict, start: int, stop: int, tick: Tick) -> list[SourceChapter | None]:
    sources = state.get("sources", {})
    return [sources.get(index) for index in range(start, stop)]


def _documents_round(
    state: dict, start: int, stop: int, numbers: dict[int, int], language: str, stylesheet_hrefs: tuple[str, ...], tick: Tick
) -> dict[int, Deflated]:
    return {
        index: Deflated.of(chapter_document(_whole_chapter(state, index), numbers[index], language, stylesheet_hrefs))
        for index in range(start, stop)
        if index in numbers
    }
