"""Plain data passed from one pipeline stage to the next.

read -> SourceChapter -> clean -> SourceChapter (fewer lines) -> notes -> NotedChapter
     -> structure -> Chapter -> typography -> Chapter -> package -> .epub

Every stage returns new objects; nothing is mutated in place, so a stage can be
tested on its own and run in any process.
"""

from __future__ import annotations

from dataclasses import MISSING, dataclass, field, fields
from decimal import Decimal
from functools import update_wrapper
from operator import attrgetter
from typing import TypeVar

_Slotted = TypeVar("_Slotted")


def _pickled_by_fields(cls: type[_Slotted]) -> type[_Slotted]:
    """Pickle a slotted dataclass as a call of its constructor with its fields' values.

    The objects of these classes cross between processes and into the chapter memory by the
    ten thousand; dataclasses' own pickling of slotted classes looks their fields up again for
    every object, and takes twice as long both ways.
    """
    names = [item.name for item in fields(cls)]  # type: ignore[arg-type]
    if len(names) > 1:
        values = attrgetter(*names)  # a tuple of the values, made in C
        cls.__reduce__ = lambda self: (cls, values(self))  # type: ignore[method-assign,assignment]
    else:
        cls.__reduce__ = lambda self: (cls, tuple(getattr(self, name) for name in names))  # type: ignore[method-assign,assignment]
    return cls


def _set_through_slots(cls: type[_Slotted]) -> type[_Slotted]:
    """Give a frozen slotted dataclass an __init__ that sets each slot through its descriptor: the
    same parameters (plain defaults included) and the same object, made in half the time.

    dataclasses' __init__ of a frozen class looks object.__setattr__ up and calls it by name for every
    field; the lines and paragraphs of a long series are made by the hundred thousand, and what
    comes back from the workers (removals, headings) by the ten thousand.
    """
    items = fields(cls)  # type: ignore[arg-type]
    if hasattr(cls, "__post_init__") or any(item.default_factory is not MISSING or not item.init or item.kw_only for item in items):
        raise TypeError(f"{cls.__name__}: only plain fields (no default factory, init=False or kw_only, no __post_init__)")
    names = [item.name for item in items]
    scope = {f"_set_{name}": getattr(cls, name).__set__ for name in names}
    scope.update({f"_default_{item.name}": item.default for item in items if item.default is not MISSING})
    parameters = ", ".join(name if f"_default_{name}" not in scope else f"{name}=_default_{name}" for name in names)
    body = "".join(f"\n    _set_{name}(self, {name})" for name in names)
    made: dict[str, object] = {}
    exec(f"def __init__(self, {parameters}):{body}", scope, made)  # noqa: S102 (as dataclasses makes __init__)
    cls.__init__ = update_wrapper(made["__init__"], cls.__init__)  # type: ignore[misc,arg-type]
    return cls


@_set_through_slots
@_pickled_by_fields
@dataclass(frozen=True, slots=True)
class Line:
    """One line of a source file, with its 1-based line number in that file."""

    number: int
    text: str


@dataclass(frozen=True)
class Illustration:
    """An image of a chapter: its bytes, their real media type, and its alternative text."""

    data: bytes
    media_type: str
    alt: str

    @property
    def extension(self) -> str:
        return {"image/png": "png", "image/gif": "gif", "image/webp": "webp"}.get(self.media_type, "jpg")


@dataclass(frozen=True)
class SourceChapter:
    """The text of one chapter as read from disk, split into lines."""

    source: str
    """Where the chapter came from, as shown to the user (a file name, or `file.txt #3`)."""
    lines: tuple[Line, ...]
    title_hint: str = ""
    """A title the source gave beside the text (an EPUB's table of contents): used when no heading line is found."""
    mtime: int = 0
    """The modification time of the file it was read from, in seconds since the epoch (0: unknown)."""
    images: tuple[Illustration, ...] = ()
    """The chapter's illustrations; a line `marks.image_line(n)` marks where the n-th stands."""


@dataclass(frozen=True)
class SourceMetadata:
    """What an input that is a book already (an EPUB) says about itself."""

    title: str = ""
    authors: tuple[str, ...] = ()
    translators: tuple[str, ...] = ()
    language: str = ""
    description: str = ""
    publisher: str = ""
    subjects: tuple[str, ...] = ()
    identifier: str = ""
    cover: bytes | None = None


@dataclass(frozen=True)
class SourceSet:
    """Everything read from the input: its chapters in file order, and facts about the files."""

    chapters: tuple[SourceChapter, ...]
    named_in_sequence: bool
    """True when the file names carry the reading order (`ch2` < `ch10`, or one file split at headings)."""
    newest_mtime: int
    """The newest modification time among the input files, in seconds since the epoch."""
    warnings: tuple[str, ...] = ()
    """Files skipped (with --skip-bad), each with the reason."""
    notices: tuple[str, ...] = ()
    """What --verbose shows: the encoding each file was read in, repairs made."""
    metadata: SourceMetadata = SourceMetadata()
    front_matter: SourceChapter | None = None
    """The text of a one-file series before its first chapter: a synopsis, or junk."""


@_set_through_slots
@_pickled_by_fields
@dataclass(frozen=True, slots=True)
class Removal:
    """One thing a stage took out of the running text, and why: the audit record."""

    source: str
    line: int
    text: str
    rule: str
    stage: str = "clean"


@_set_through_slots
@_pickled_by_fields
@dataclass(frozen=True, slots=True)
class Note:
    """A translator (TL), editor (ED), proofreader (PR) or author (AN) note."""

    kind: str
    text: str
    """The note's words; a note of several paragraphs has one line per paragraph."""
    mode: str = "footnote"
    """How the book shows it: footnote, endnote or inline (book.toml's mode for its kind)."""


@_set_through_slots
@_pickled_by_fields
@dataclass(frozen=True, slots=True)
class NoteRef:
    """The place in a paragraph where a note was attached: an index into Chapter.notes."""

    index: int


Span = str | NoteRef


def _text_of(holder: TextLine | Paragraph) -> str:
    """The text of a line's or a paragraph's spans without their note references (most often a single
    string: no join then). The getter of their text property itself, as it is read for every line."""
    spans = holder.spans
    if len(spans) == 1 and type(spans[0]) is str:
        return spans[0]
    return "".join(span for span in spans if isinstance(span, str))


@_set_through_slots
@_pickled_by_fields
@dataclass(frozen=True, slots=True)
class TextLine:
    """A line of running text after note extraction: text interleaved with note references."""

    number: int
    spans: tuple[Span, ...]

    text = property(_text_of)


@dataclass(frozen=True)
class NotedChapter:
    source: str
    lines: tuple[TextLine, ...]
    notes: tuple[Note, ...] = ()
    title_hint: str = ""
    mtime: int = 0


@_set_through_slots
@_pickled_by_fields
@dataclass(frozen=True, slots=True)
class Heading:
    """A parsed chapter heading: `Vol. 2 Ch. 3 - Title (Part 2)` -> volume 2, number 3, part 2."""

    kind: str = "chapter"
    """chapter, prologue, epilogue, side story, extra, interlude, afterword; "" for a bare title."""
    number: Decimal | None = None
    title: str = ""
    volume: int | None = None
    part: int | None = None

    @property
    def label(self) -> str:
        """The normalised title shown in the TOC: `Chapter 12: Title`, `Prologue`, `Chapter 12`."""
        if not self.kind:
            return self.title or "Untitled"
        name = self.kind.title()
        if self.number is not None:
            name = f"{name} {self.number}"
        title = self.title
        if self.part is not None:
            title = f"{title} (Part {self.part})" if title else f"Part {self.part}"
        return f"{name}: {title}" if title else name


@_set_through_slots
@_pickled_by_fields
@dataclass(frozen=True, slots=True)
class Paragraph:
    spans: tuple[Span, ...]

    text = property(_text_of)


@_pickled_by_fields
@dataclass(frozen=True, slots=True)
class SceneBreak:
    pass


@_pickled_by_fields
@dataclass(frozen=True, slots=True)
class Picture:
    """Where a chapter's illustration stands: an index into Chapter.images."""

    index: int


Block = Paragraph | SceneBreak | Picture


@dataclass(frozen=True)
class Chapter:
    source: str
    heading: Heading
    blocks: tuple[Block, ...]
    notes: tuple[Note, ...] = ()
    volume_title: str = ""
    """The title a volume marker line above the heading gave (`Volume 3: The Sea` -> `The Sea`)."""
    mtime: int = 0
    """Its source file's modification time: a volume is dated by its own chapters (0: unknown)."""
    images: tuple[Illustration, ...] = ()


@dataclass(frozen=True)
class Volume:
    number: int
    title: str
    chapters: tuple[Chapter, ...]

    @property
    def label(self) -> str:
        """`Volume 3: The Sea`, or `Volume 3`."""
        return f"Volume {self.number}: {self.title}" if self.title else f"Volume {self.number}"

    @property
    def chapter_range(self) -> tuple[int, int] | None:
        """The first and last chapter numbers in the volume, if its chapters are numbered."""
        numbers = [int(c.heading.number) for c in self.chapters if c.heading.kind == "chapter" and c.heading.number is not None]
        return (min(numbers), max(numbers)) if numbers else None


@dataclass(frozen=True)
class Metadata:
    title: str
    authors: tuple[str, ...] = ()
    translators: tuple[str, ...] = ()
    language: str = "en"
    description: str = ""
    publisher: str = ""
    source: str = ""
    subjects: tuple[str, ...] = ()
    identifier: str = ""
    modified: int = 0
    """Seconds since the epoch: the book's dcterms:modified and its zip timestamps."""
    contributors: tuple[tuple[str, str], ...] = ()
    """Other credited people as (MARC relator code, name): editors (edt), proofreaders (pfr)."""
    original_title: str = ""
    series: str = ""
    """The series a volume belongs to (calibre:series, belongs-to-collection)."""
    series_index: int | None = None


@dataclass(frozen=True)
class Cover:
    data: bytes
    media_type: str
    """image/jpeg or image/png."""

    @property
    def extension(self) -> str:
        return "png" if self.media_type == "image/png" else "jpg"


@dataclass(frozen=True)
class UserStylesheet:
    """The user's own CSS (css, --css), laid over the theme's: every document links it after it."""

    name: str
    """Its file name in the book without .css: an ASCII slug of its own file's name."""
    css: str


@dataclass(frozen=True)
class Book:
    metadata: Metadata
    chapters: tuple[Chapter, ...]
    stylesheet: str
    """The theme's CSS."""
    removals: tuple[Removal, ...] = ()
    warnings: tuple[str, ...] = field(default=())
    volumes: tuple[Volume, ...] = ()
    """The book's volumes, when it has more than one: the TOC nests chapters under them."""
    cover: Cover | None = None
    info_page: bool = True
    user_stylesheet: UserStylesheet | None = None
    """An information page after the title page: source, original title, credits, chapter range, date."""
