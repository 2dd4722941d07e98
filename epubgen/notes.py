"""Stage 3: take translator, editor, proofreader and author notes out of the running text.

A chapter's notes take three forms, all looked for in its body (the lines after its heading):

- labelled notes in brackets, anywhere in a sentence: `(TL: …)`, `[T/N: …]`, `（A/N: …）`, with
  brackets nested inside and over several lines;
- numbered markers in the text, `[1]`, `(1)`, `¹` or `*`, whose entries start with the same marker
  in a notes block at the end of the chapter (`TL Notes:`, `Translator's Notes:`, `Notes:`, `T/N:`);
- whole paragraphs: `Author's Note: …`, `Translator's note - …` or `A/N: …` at the start or the end
  of the chapter, and note sections at its end (`Translator's Thoughts`, then the translator's
  paragraphs).

Each note gets the mode book.toml gives its kind, and a NoteRef where it stood; a dropped note leaves
nothing. A note with a paragraph of its own keeps that paragraph before the first line of story or
after the last, and in between puts its reference on the story paragraph before it. Every note found is also returned as a Removal (rule `note:<kind>:<mode>`): the audit says
what left the running text and where it went.

Every pass is linear in the length of the chapter (brackets are paired with a stack, their
positions found by a search per bracket character and put in order), and the label patterns only
ever match at a known position, over a bounded number of characters.

Speed: most chapters hold no note, and most lines of those that do are plain story. A search over
the whole chapter's text finds the lines with a label at their start or after an opening bracket
(only they can be or hold a note), and a chapter without one is passed on as it is. In the others,
markers are looked for only once a notes block could link them, whether a line is story only where
a reference needs one, and only the lines a note or marker is cut from are taken apart.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from itertools import accumulate

from epubgen.config import NotesConfig
from epubgen.headings import parse_heading
from epubgen.marks import strip_marks
from epubgen.model import Line, Note, NotedChapter, NoteRef, Removal, SourceChapter, Span, TextLine
from epubgen.structure import HEADING_SEARCH_LINES, is_scene_break, joined_lines, line_indices

NOTE_LABELS = {
    "TL": "TL", "T/L": "TL", "TN": "TL", "T/N": "TL", "Translator": "TL", "Translation": "TL",
    "ED": "ED", "E/N": "ED", "Editor": "ED",
    "PR": "PR", "P/R": "PR", "Proofreader": "PR",
    "AN": "AN", "A/N": "AN", "Author": "AN",
}  # fmt: skip
"""The built-in labels and the kind of note each stands for, matched in any case. A label may be
followed by `'s` or `s` and by `note`, `notes` or `thoughts`: `Translator's Thoughts`, `TL Notes`.
A paragraph note's label ends with a colon, or with a dash and a space after `note` or `thoughts`
(`Translator's note - …`)."""

SELF_NAMED_LABELS = frozenset({"tn", "t/n", "e/n", "an", "a/n"})
"""Labels that say "note" by themselves. Outside brackets, a line opening with `TL:` or `Editor:` is
more often a credit than a note, so only these, the user's labels and labels followed by `note` or
`thoughts` start a paragraph note or head a note section."""

GENERIC_HEADINGS = ("Notes", "Footnotes")
"""Headings of a notes block that name no kind: its entries are translator notes, and it counts
only when its first entry's marker stands in the text before it."""

MAX_NOTE_LINES = 12
"""A bracketed note that does not close within this many lines is an unclosed bracket, not a note."""

_GENERIC = "generic"
_SHAPES = {"(": "round", "（": "round", ")": "round", "）": "round",
           "[": "square", "［": "square", "【": "square", "]": "square", "］": "square", "】": "square"}  # fmt: skip
_OPENERS = "(（[［【"
_BRACKETS = "".join(_SHAPES)
_SPACE = r"[ \t\u3000]"
_DASH = "[-–—]"
_MARKER = r"\[\d{1,3}\]|\(\d{1,3}\)|[⁰¹²³⁴⁵⁶⁷⁸⁹]+|\*+"
_TEXT_MARKER = re.compile(_MARKER)
_MARKER_STARTS = "[(⁰¹²³⁴⁵⁶⁷⁸⁹*"
"""The characters a match of _MARKER starts with."""
_ENTRY = re.compile(rf"{_SPACE}*(?P<marker>{_MARKER}){_SPACE}*[:.\-–—]?{_SPACE}*(?=\S)")


@dataclass(frozen=True)
class _Labels:
    """The note labels (built-in and the user's), compiled once per set of user labels."""

    kinds: dict[str, str]
    self_named: frozenset[str]
    in_brackets: re.Pattern[str]
    paragraph: re.Pattern[str]
    heading: re.Pattern[str]
    after_bracket: re.Pattern[str]
    line_start: re.Pattern[str]
    """Where a note could start in a chapter's text: a label after an opening bracket, or at the
    start of a line (a paragraph note, a section heading; searched in "\\n" + the text). A chapter
    neither finds anything in holds no note of any form. The regex engine tries alternatives one
    by one, so line_start looks at the first character before it tries every label on a line."""

    def bracket_label(self, text: str, start: int, end: int) -> tuple[str, int] | None:
        """The kind of a note whose label opens text[start:end], and where its words begin."""
        match = self.in_brackets.match(text, start, end)
        return (self._kind(match), match.end()) if match else None

    def paragraph_note(self, text: str) -> tuple[str, str] | None:
        """`Author's Note: words`, or a whole line in brackets like `(TL: words)`: its kind and words.

        Emphasis marks are ignored (`**A/N:** words` from an HTML page is a note too) and left out of the words.
        """
        text = strip_marks(text).strip()
        if text[:1] in _OPENERS and bracket_pairs(text).get(0) == len(text) - 1:
            match = self.in_brackets.match(text, 1, len(text) - 1)
            words = text[match.end() : -1] if match else ""
        else:
            match = self.paragraph.match(text)
            words = text[match.end() :] if match and self._opens_a_paragraph_note(match) else ""
        return (self._kind(match), words.strip()) if words.strip() else None

    def heading_kind(self, text: str) -> str | None:
        """The kind of note a section heading like `Translator's Thoughts` or `TL Notes:` announces."""
        match = self.heading.fullmatch(strip_marks(text).strip())
        if match is None:
            return None
        if match["generic"]:
            return _GENERIC
        return self._kind(match) if self._names_a_note(match) else None

    def _kind(self, match: re.Match[str]) -> str:
        return self.kinds[_label_key(match["who"])]

    def _names_a_note(self, match: re.Match[str]) -> bool:
        return bool(match["noun"]) or _label_key(match["who"]) in self.self_named

    def _opens_a_paragraph_note(self, match: re.Match[str]) -> bool:
        """A dash ends the label only after its noun (`Translator's note - …`), so that `AN - 94` stays story."""
        return self._names_a_note(match) and (match["end"] in ":：" or bool(match["noun"]))


@lru_cache(maxsize=16)
def _labels(user_labels: tuple[tuple[str, str], ...]) -> _Labels:
    labels = {**NOTE_LABELS, **dict(user_labels)}
    words = "|".join(re.escape(word).replace("'", "['’]") for word in sorted(labels, key=len, reverse=True))
    label = rf"(?P<who>{words})(?:['’]?s?(?:{_SPACE}+(?P<noun>notes?|thoughts))?)"
    generic = "|".join(GENERIC_HEADINGS)
    any_label = rf"(?:{words})(?:['’]?s?(?:{_SPACE}+(?:notes?|thoughts))?)"
    first = "|".join(sorted({re.escape(word[:1]).replace("'", "['’]") for word in [*labels, *GENERIC_HEADINGS]}))
    return _Labels(
        kinds={_label_key(word): kind for word, kind in labels.items()},
        self_named=SELF_NAMED_LABELS | {_label_key(word) for word, _ in user_labels},
        in_brackets=re.compile(rf"{_SPACE}*{label}{_SPACE}*[:：]", re.IGNORECASE),
        paragraph=re.compile(rf"{label}{_SPACE}*(?P<end>[:：]|{_DASH}{_SPACE})", re.IGNORECASE),
        heading=re.compile(rf"(?:{label}|(?P<generic>{generic})){_SPACE}*[:：]?", re.IGNORECASE),
        after_bracket=re.compile(rf"[{re.escape(_OPENERS)}][^\S\n]*{any_label}{_SPACE}*[:：]", re.IGNORECASE),
        line_start=re.compile(
            rf"\n(?=[^\S\n]*(?:{first}))"
            rf"[^\S\n]*(?:{any_label}{_SPACE}*(?:[:：]|{_DASH}{_SPACE})|(?:{any_label}|{generic}){_SPACE}*[:：]?[^\S\n]*(?=\n|\Z))",
            re.IGNORECASE,
        ),
    )


def _label_key(word: str) -> str:
    return word.casefold().replace("’", "'")


def bracket_pairs(text: str) -> dict[int, int]:
    """Map the offset of each opening bracket to that of its closing one: the brackets in order of offset, paired with a stack.

    Round and square brackets, ASCII or full-width, pair by shape: `（` closes with `)` too. A
    closing bracket of a shape that is not open is ignored; one that closes a bracket further
    down the stack leaves the brackets opened inside it unclosed.

    >>> bracket_pairs("(a [b] (c) d)")
    {3: 5, 7: 9, 0: 12}
    >>> bracket_pairs("a) (b [c) d]")
    {3: 8}
    """
    pairs: dict[int, int] = {}
    stack: list[tuple[int, str]] = []
    open_shapes: dict[str, int] = defaultdict(int)
    for offset in sorted(_positions(text, _BRACKETS)):
        char = text[offset]
        shape = _SHAPES[char]
        if char in _OPENERS:
            stack.append((offset, shape))
            open_shapes[shape] += 1
        elif open_shapes[shape]:
            while True:
                start, open_shape = stack.pop()
                open_shapes[open_shape] -= 1
                if open_shape == shape:
                    pairs[start] = offset
                    break
    return pairs


def extract_notes(chapter: SourceChapter, config: NotesConfig) -> tuple[NotedChapter, tuple[Removal, ...]]:
    """Split the chapter's notes from its text; every note found is also returned as a removal."""
    labels = _labels(config.labels)
    labelled = _lines_with_labels(chapter.lines, labels)
    if labelled is not None and not labelled:
        return _without_notes(chapter), ()
    body_start = _body_start(chapter.lines, chapter.title_hint)
    head, body = chapter.lines[:body_start], chapter.lines[body_start:]
    story_start = _leading_notes_end(body, labels)
    leading, rest = body[:story_start], body[story_start:]
    rest_start = body_start + story_start
    rest_labelled = None if labelled is None else {index - rest_start for index in labelled if index >= rest_start}
    markers = _Markers(rest)
    note_roles = _note_roles(rest, labels, markers, rest_labelled)
    story_end = _closing_notes_start(rest, note_roles)
    notes = _Collector(chapter.source, config)

    opening = _opening_notes(leading, labels, notes)
    closing, linked = _closing_notes(_closing_roles(rest, note_roles, story_end), markers, story_end, notes)
    story = _story_lines(rest[:story_end], markers, linked, labels, notes)
    text_lines = [TextLine(line.number, (line.text,)) for line in head] + _anchored([*opening, *story, *closing], notes)
    lines, ordered = _renumbered(text_lines, notes.notes)
    removals = tuple(sorted(notes.removals, key=lambda removal: removal.line))
    return NotedChapter(chapter.source, lines, ordered, chapter.title_hint, mtime=chapter.mtime), removals


def _lines_with_labels(lines: Sequence[Line], labels: _Labels) -> set[int] | None:
    """The indices of the lines (without emphasis marks) with a label at their start or after an
    opening bracket: only they can be or hold a note. None when a line holds a line break of its
    own (then any line may).

    One search over the whole chapter spares the line-by-line work in the chapters (most of them)
    that find nothing. A line's emphasis marks never stand inside a match, so the text without
    them finds every label the text with them does.
    """
    joined = joined_lines(lines)
    if joined is None:
        return None
    plain = strip_marks(joined)
    in_brackets = _starts(plain, _OPENERS, labels.after_bracket)
    at_line_starts = (match.start() + 1 for match in labels.line_start.finditer(plain))
    return line_indices(plain, [*in_brackets, *at_line_starts])


def _starts(text: str, characters: str, pattern: re.Pattern[str]) -> Iterator[int]:
    """Where in text a match of pattern starts, for a pattern whose matches all start with one of
    characters (not in text order)."""
    return (position for position in _positions(text, characters) if pattern.match(text, position) is not None)


def _positions(text: str, characters: str) -> Iterator[int]:
    """Where in text the characters stand (not in text order): str.find skips to each of them
    many times faster than a regex scan for a character class can."""
    for character in characters:
        position = text.find(character)
        while position >= 0:
            yield position
            position = text.find(character, position + 1)


def _without_notes(chapter: SourceChapter) -> NotedChapter:
    """What the long way makes of a chapter without notes: every line as it is, except that the
    blank lines from the first line of story on hold no text at all."""
    lines = chapter.lines
    body_start = _body_start(lines, chapter.title_hint)
    story_start = next((index for index in range(body_start, len(lines)) if lines[index].text.strip()), len(lines))
    head = [TextLine(line.number, (line.text,)) for line in lines[:story_start]]
    story = _story_text_lines(lines[story_start:])
    return NotedChapter(chapter.source, (*head, *story), (), chapter.title_hint, mtime=chapter.mtime)


@dataclass
class _Found:
    """A note as found in the source, before its kind's mode is applied."""

    kind: str
    line: int
    source: str
    """The note as written (label, brackets, section heading), for the audit."""
    paragraphs: list[str]
    marker: str = ""
    """For an entry of a notes block: the marker it starts with (`[1]`), to be found in the text."""


@dataclass
class _Collector:
    """Gathers a chapter's notes, each in its kind's mode, and the audit record of each."""

    source: str
    config: NotesConfig
    notes: list[Note] = field(default_factory=list)
    removals: list[Removal] = field(default_factory=list)

    def add(self, found: _Found) -> NoteRef | None:
        """Record the note; return the reference that takes its place, or None when it is dropped."""
        mode = self.config.mode_for(found.kind)
        self.removals.append(Removal(self.source, found.line, found.source, f"note:{found.kind}:{mode}", stage="notes"))
        if mode == "drop":
            return None
        self.notes.append(Note(found.kind, "\n".join(found.paragraphs), mode))
        return NoteRef(len(self.notes) - 1)

    def mode(self, ref: NoteRef | None) -> str:
        return "drop" if ref is None else self.notes[ref.index].mode


def _is_protected(text: str) -> bool:
    """A line the structure stage may turn into a heading or a scene break: no note is cut from it or hung on it."""
    plain = strip_marks(text)
    return is_scene_break(plain) or parse_heading(plain) is not None


def _is_story(text: str) -> bool:
    return bool(text.strip()) and not _is_protected(text)


def _body_start(lines: Sequence[Line], title_hint: str) -> int:
    """The index of the first line after the chapter's heading (and after the page's repeat of it).

    The heading is looked for as the structure stage looks for it: among the first few non-blank
    lines, or else the first line if it is the title the source gave. Those lines (a novel's title
    above the heading among them) are left exactly as they are, for the structure stage to read.
    """
    non_blank = (index for index, line in enumerate(lines) if line.text.strip())
    first = end = None
    for count, index in enumerate(non_blank):
        if count == 0:
            first = index
        if parse_heading(strip_marks(lines[index].text)) is not None:
            end = index
        elif end is not None or count >= HEADING_SEARCH_LINES:
            break
    if end is None and first is not None and strip_marks(lines[first].text).strip() == title_hint.strip():
        end = first
    return 0 if end is None else end + 1


def _leading_notes_end(body: Sequence[Line], labels: _Labels) -> int:
    """The index of the first line of story: the chapter's opening note paragraphs come before it."""
    for index, line in enumerate(body):
        if line.text.strip() and labels.paragraph_note(line.text) is None:
            return index
    return len(body)


def _opening_notes(lines: Sequence[Line], labels: _Labels, notes: _Collector) -> list[TextLine]:
    """The chapter's opening note paragraphs, each as a line holding its reference; blank lines stay."""
    result = []
    for line in lines:
        note = labels.paragraph_note(line.text)
        if note is None:
            result.append(TextLine(line.number, (line.text,)))
            continue
        ref = notes.add(_Found(note[0], line.number, line.text, [note[1]]))
        if ref is not None:
            result.append(TextLine(line.number, (ref,)))
    return result


# Markers: `[1]` in the text, its entry in the notes block at the end.

Marker = tuple[int, int, str]
"""Where a marker stands in its line (start, end) and the marker as written."""


def _markers_in(text: str) -> list[Marker]:
    """The note markers in a line: `[1]`, `(1)`, `¹`, and `*` where it does not close emphasis.

    An asterisk run that starts a word (`*sigh*`) opens emphasis and the next run closes it; a
    run right after a word, with no emphasis open, is a marker.
    """
    found: list[Marker] = []
    open_emphasis = 0
    for match in _TEXT_MARKER.finditer(text):
        start, end, marker = match.start(), match.end(), match.group()
        before, after = text[start - 1 : start], text[end : end + 1]
        if marker[0] != "*":
            found.append((start, end, marker))
        elif after.isalnum() and not before.isalnum():
            open_emphasis += 1
        elif open_emphasis:
            open_emphasis -= 1
        elif before and not before.isspace():
            found.append((start, end, marker))
    return found


# The notes that close a chapter.


@dataclass(frozen=True)
class _Role:
    """What a line after the first line of story is, as far as the closing notes are concerned."""

    name: str
    """heading (of a note section), note (a note paragraph), entry (of a notes block), text or blank."""
    line: Line
    kind: str = ""
    words: str = ""
    marker: str = ""


@dataclass
class _Markers:
    """The note markers in a chapter's lines from the first line of story on, found when first
    asked for: most chapters, even with notes, have no notes block for markers to link to."""

    lines: Sequence[Line]

    @cached_property
    def by_line(self) -> list[Sequence[Marker]]:
        return _markers(self.lines)

    @cached_property
    def first_lines(self) -> dict[str, int]:
        """The index of the first line each marker stands in."""
        first: dict[str, int] = {}
        for index, line_markers in enumerate(self.by_line):
            for _, _, marker in line_markers:
                first.setdefault(marker, index)
        return first

    def stands_above(self, marker: str, index: int) -> bool:
        """Whether the marker stands in a line before lines[index]."""
        return self.first_lines.get(marker, index) < index


def _markers(lines: Sequence[Line]) -> list[Sequence[Marker]]:
    """The note markers in each line; none in a line the structure stage may make a heading or a
    scene break. Only the lines in which _TEXT_MARKER matches (found for all the lines at once) are
    looked at, unless a line holds a line break of its own."""
    joined = joined_lines(lines)
    if joined is None:
        candidates: Iterable[int] = range(len(lines))
    else:
        candidates = line_indices(joined, list(_starts(joined, _MARKER_STARTS, _TEXT_MARKER)))
    markers: list[Sequence[Marker]] = [()] * len(lines)
    for index in candidates:
        if not _is_protected(lines[index].text):
            markers[index] = _markers_in(lines[index].text)
    return markers


def _note_roles(lines: Sequence[Line], labels: _Labels, markers: _Markers, labelled: set[int] | None) -> dict[int, _Role]:
    """The lines from the first line of story on that head a note section or are a note paragraph,
    with their roles, in line order. The first line is story whatever it says, and only a line
    with a label at its start or after an opening bracket (labelled; None: any line) can be either."""
    candidates = range(1, len(lines)) if labelled is None else sorted(labelled - {0})
    roles: dict[int, _Role] = {}
    for index in candidates:
        role = _note_role(lines, index, labels, markers)
        if role is not None:
            roles[index] = role
    return roles


def _note_role(lines: Sequence[Line], index: int, labels: _Labels, markers: _Markers) -> _Role | None:
    """The line's role if it heads a note section or is a note paragraph."""
    line = lines[index]
    text = _bare(line)
    if not text:
        return None
    heading = _section_kind(lines, index, labels, markers)
    if heading is not None:
        return _Role("heading", line, heading)
    note = labels.paragraph_note(text)
    return None if note is None else _Role("note", line, note[0], note[1])


def _plain_role(line: Line) -> _Role:
    """The role of a line that neither heads a note section nor is a note paragraph."""
    text = _bare(line)
    if not text:
        return _Role("blank", line)
    entry = _ENTRY.match(text)
    if entry is not None:
        return _Role("entry", line, words=text[entry.end() :], marker=entry["marker"])
    return _Role("text", line, words=text)


def _is_blank(line: Line) -> bool:
    return not _bare(line)


def _bare(line: Line) -> str:
    """A line's text without emphasis marks or surrounding white space."""
    return strip_marks(line.text).strip()


def _story_text_lines(lines: Sequence[Line]) -> list[TextLine]:
    """Lines of story no note was cut from, as TextLines (a blank one holds no text at all)."""
    return [TextLine(line.number, (text,) if (text := line.text) else ()) for line in lines]


def _section_kind(lines: Sequence[Line], index: int, labels: _Labels, markers: _Markers) -> str | None:
    """The kind of note section a heading line opens: it needs a line below it, and a generic
    `Notes:` heading needs an entry below it whose marker stands in the text above it."""
    kind = labels.heading_kind(lines[index].text)
    if kind is None:
        return None
    below = next((lines[after].text for after in range(index + 1, len(lines)) if lines[after].text.strip()), None)
    if below is None:
        return None
    if kind != _GENERIC:
        return kind
    entry = _ENTRY.match(below)
    return "TL" if entry is not None and markers.stands_above(entry["marker"], index) else None


def _closing_notes_start(lines: Sequence[Line], note_roles: dict[int, _Role]) -> int:
    """The index of the line where the notes that close the chapter begin (len(lines) if none do).

    They are the note paragraphs after the story, and a note section (a heading such as
    `TL Notes:`) with every line below it: once a section opens, the rest of the chapter is notes.
    A line of text between the note lines (or after the last, outside a section) ends a run of
    notes; only the lines after a note are looked at, up to the first that holds text.
    """
    start: int | None = None
    previous = 0
    for index, role in note_roles.items():
        if start is not None and not all(_is_blank(line) for line in lines[previous + 1 : index]):
            start = None
        start = index if start is None else start
        if role.name == "heading":
            return start
        previous = index
    if start is not None and not all(_is_blank(line) for line in lines[previous + 1 :]):
        start = None
    return len(lines) if start is None else start


def _closing_roles(lines: Sequence[Line], note_roles: dict[int, _Role], start: int) -> list[_Role]:
    """The role of each line from start on."""
    return [note_roles[index] if index in note_roles else _plain_role(lines[index]) for index in range(start, len(lines))]


def _closing_found(roles: Sequence[_Role]) -> list[_Found]:
    """Group the closing lines into notes: each note paragraph and each entry is one, and the lines
    below a section heading or an entry, up to the next of them, belong to it. A section heading
    is recorded with the first note below it."""
    found: list[_Found] = []
    current: _Found | None = None
    kind, headings = "TL", []
    for role in roles:
        if role.name == "heading":
            kind, current = role.kind, None
            headings.append(role.line)
        elif role.name == "text" and current is not None:
            current.source += "\n" + role.line.text
            current.paragraphs.append(role.words)
        elif role.name != "blank":
            written = [*headings, role.line]
            note_kind = role.kind if role.name == "note" else kind
            current = _Found(note_kind, written[0].number, "\n".join(line.text for line in written), [role.words], role.marker)
            headings = []
            found.append(current)
    return found


def _closing_notes(
    roles: Sequence[_Role], markers: _Markers, story_end: int, notes: _Collector
) -> tuple[list[TextLine], dict[str, NoteRef | None]]:
    """The closing notes: the lines holding the references of those that stay where they were written,
    and the markers whose occurrences in the story become the references of the entries they start.

    An inline entry stays in the notes block and its marker in the text, so it keeps its marker.
    """
    lines: list[TextLine] = []
    linked: dict[str, NoteRef | None] = {}
    for found in _closing_found(roles):
        in_story = bool(found.marker) and markers.stands_above(found.marker, story_end)
        if in_story and notes.config.mode_for(found.kind) == "inline":
            found.paragraphs[0] = f"{found.marker} {found.paragraphs[0]}"
        ref = notes.add(found)
        if in_story and found.marker not in linked and notes.mode(ref) != "inline":
            linked[found.marker] = ref
        elif ref is not None:
            lines.append(TextLine(found.line, (ref,)))
    return lines, linked


# The story: bracketed notes and markers cut out of it.


@dataclass(frozen=True)
class _Cut:
    """A stretch of the story's text taken out, and the reference put in its place (None: nothing)."""

    start: int
    end: int
    ref: NoteRef | None


def _story_lines(
    story: Sequence[Line],
    markers: _Markers,
    linked: dict[str, NoteRef | None],
    labels: _Labels,
    notes: _Collector,
) -> list[TextLine]:
    """The story's lines with its bracketed notes and its linked markers replaced by references.

    Only the lines a cut touches are taken apart; every other line stays as it is (a blank one holds no text).
    """
    if not story:
        return []
    text = "\n".join([line.text for line in story])
    starts = list(accumulate((len(line.text) + 1 for line in story[:-1]), initial=0))
    marker_cuts = [
        _Cut(starts[index] + start, starts[index] + end, linked[marker])
        for index, line_markers in enumerate(markers.by_line[: len(story)] if linked else ())
        for start, end, marker in line_markers
        if marker in linked
    ]
    bracket_cuts = _bracket_cuts(text, starts, story, labels, notes)
    lines: list[TextLine] = []
    done = 0
    for first, last, cuts in _regions(_without_overlaps([*bracket_cuts, *marker_cuts]), starts):
        lines += _story_text_lines(story[done:first])
        end = starts[last] + len(story[last].text)
        pieces: dict[int, list[str | _Cut]] = defaultdict(list)
        for offset, piece in _pieces(text, cuts, starts[first], end):
            pieces[first + offset].append(piece)
        lines += [TextLine(story[index].number, _tidy(line_pieces, notes)) for index, line_pieces in pieces.items()]
        done = last + 1
    lines += _story_text_lines(story[done:])
    return lines


def _bracket_cuts(
    text: str, starts: list[int], story: Sequence[Line], labels: _Labels, notes: _Collector
) -> Iterator[_Cut]:
    """The labelled notes in brackets, outermost first: a note inside a note is part of it."""
    pairs = bracket_pairs(text)
    covered = 0
    for start in sorted(pairs):
        end = pairs[start]
        if start < covered:
            continue
        found = _bracket_note(text, start, end, starts, story, labels)
        if found is not None:
            covered = end + 1
            yield _Cut(start, end + 1, notes.add(found))


def _bracket_note(
    text: str, start: int, end: int, starts: list[int], story: Sequence[Line], labels: _Labels
) -> _Found | None:
    """The note a bracket pair holds: a label right after the opening bracket, words after the
    label, over fewer than MAX_NOTE_LINES lines, and not in a line _is_protected."""
    label = labels.bracket_label(text, start + 1, end)
    if label is None:
        return None
    first_line, last_line = bisect_right(starts, start) - 1, bisect_right(starts, end) - 1
    if last_line - first_line >= MAX_NOTE_LINES or _is_protected(story[first_line].text):
        return None
    paragraphs = [part.strip() for part in text[label[1] : end].split("\n") if part.strip()]
    if not paragraphs:
        return None
    return _Found(label[0], story[first_line].number, text[start : end + 1], paragraphs)


def _without_overlaps(cuts: list[_Cut]) -> list[_Cut]:
    """The cuts in text order; a marker inside a bracketed note goes with the note."""
    result: list[_Cut] = []
    for cut in sorted(cuts, key=lambda cut: cut.start):
        if not result or cut.start >= result[-1].end:
            result.append(cut)
    return result


def _regions(cuts: list[_Cut], starts: list[int]) -> Iterator[tuple[int, int, list[_Cut]]]:
    """The cuts (in text order) in groups that share no line, each with its first and last line:
    the lines from the one a cut starts in to the one its end (what follows it) is in."""
    group: list[_Cut] = []
    first = last = 0
    for cut in cuts:
        cut_first, cut_last = bisect_right(starts, cut.start) - 1, bisect_right(starts, cut.end) - 1
        if group and cut_first <= last:
            group.append(cut)
            last = cut_last
            continue
        if group:
            yield first, last, group
        group, first, last = [cut], cut_first, cut_last
    if group:
        yield first, last, group


def _pieces(text: str, cuts: list[_Cut], start: int, end: int) -> Iterator[tuple[int, str | _Cut]]:
    """The text from start to end between the cuts and the cuts themselves, each with the index
    of its line (counted from the one start is in).

    A line wholly inside a cut has no piece, so it leaves no line behind.
    """
    line, position = 0, start
    for cut in cuts:
        yield from _text_pieces(text, position, cut.start, line)
        line += text.count("\n", position, cut.start)
        yield line, cut
        line += text.count("\n", cut.start, cut.end)
        position = cut.end
    yield from _text_pieces(text, position, end, line)


def _text_pieces(text: str, start: int, end: int, line: int) -> Iterator[tuple[int, str]]:
    for offset, part in enumerate(text[start:end].split("\n")):
        yield line + offset, part


def _tidy(pieces: list[str | _Cut], notes: _Collector) -> tuple[Span, ...]:
    """Join a line's pieces into spans, minding the spaces where notes were cut out.

    A reference sits right after the word before it (`bowed¹ and`); a dropped note takes one of
    the spaces around it with it; an inline note keeps the spaces it had. Two English words a
    note sat between with no space (`qi（TL：…）flowed`) keep a space between them.
    """
    spans: list[Span] = []
    for index, piece in enumerate(pieces):
        if isinstance(piece, str):
            _append_text(spans, piece)
            continue
        following = pieces[index + 1] if index + 1 < len(pieces) else ""
        after = following if isinstance(following, str) else ""
        mode = notes.mode(piece.ref)
        if spans and isinstance(spans[-1], str) and mode != "inline" and (mode != "drop" or not after[:1].isalnum()):
            spans[-1] = spans[-1].rstrip()
        before = spans[-1] if spans and isinstance(spans[-1], str) else ""
        if piece.ref is not None:
            spans.append(piece.ref)
        if mode != "inline" and _is_latin_word_character(before[-1:]) and _is_latin_word_character(after[:1]):
            _append_text(spans, " ")
    return tuple(span for span in spans if span != "")


def _is_latin_word_character(character: str) -> bool:
    return character.isascii() and character.isalnum()


def _append_text(spans: list[Span], text: str) -> None:
    if spans and isinstance(spans[-1], str):
        spans[-1] += text
    else:
        spans.append(text)


# References: where they end up, and in what order the notes are numbered.


def _anchored(lines: list[TextLine], notes: _Collector) -> list[TextLine]:
    """Hang the references that stand on no story text, with story before and after them, on the story paragraph before them.

    A footnote or endnote reference needs words to sit after: a note that had a paragraph of its
    own (or a line the structure stage turns into a heading or a scene break) in the middle of the
    story puts its reference at the end of the story paragraph before it. One before the first line
    of story or after the last is about no sentence: its reference keeps the note's place, a line of
    its own, as inline notes do wherever they were written.

    Whether a line is story is only looked at where it matters: from the end back to the last line
    of story, and from each line holding references back to the story paragraph before it. The
    lines between those holding references are passed on a run at a time.
    """
    result: list[TextLine] = []
    hung: dict[int, list[NoteRef]] = defaultdict(list)
    story_end = _last_story(lines, 0, None)
    last_story: int | None = None
    checked = 0  # last_story is the index of the last story line in result[:checked]
    done = 0
    for index, refs in _refs_by_line(lines).items():
        result += lines[done:index]
        line = lines[index]
        done = index + 1
        if _is_story(line.text):
            last_story, checked = len(result), len(result) + 1
            result.append(line)
            continue
        last_story = _last_story(result, checked, last_story)
        in_story = last_story is not None and story_end is not None and index < story_end
        hanging = [ref for ref in refs if in_story and notes.mode(ref) != "inline"]
        if hanging:
            hung[last_story] += hanging
        if line.text.strip():
            result.append(TextLine(line.number, (line.text,)))
        staying = [ref for ref in refs if not in_story or notes.mode(ref) == "inline"]
        if staying:
            result.append(TextLine(line.number, tuple(staying)))
        checked = len(result)
    result += lines[done:]
    for index, refs in hung.items():
        result[index] = TextLine(result[index].number, _hung(result[index].spans, refs))
    return result


def _refs_by_line(lines: list[TextLine]) -> dict[int, list[NoteRef]]:
    """The note references of each line holding some, by the index of the line, in line order.
    Most lines are one string or blank, and are passed over with no call."""
    return {
        index: refs
        for index, line in enumerate(lines)
        if (len(line.spans) > 1 or (line.spans and type(line.spans[0]) is not str)) and (refs := _refs_in(line.spans))
    }


def _refs_in(spans: tuple[Span, ...]) -> list[NoteRef]:
    return [span for span in spans if isinstance(span, NoteRef)]


def _last_story(lines: list[TextLine], start: int, known: int | None) -> int | None:
    """The index of the last story line in lines, given known, the last one in lines[:start]."""
    return next((index for index in range(len(lines) - 1, start - 1, -1) if _is_story(lines[index].text)), known)


def _hung(spans: tuple[Span, ...], refs: list[NoteRef]) -> tuple[Span, ...]:
    """A line of story with references at its end, right after its last word."""
    if isinstance(spans[-1], str):
        return (*spans[:-1], spans[-1].rstrip(), *refs)
    return (*spans, *refs)


def _renumbered(lines: list[TextLine], notes: list[Note]) -> tuple[tuple[TextLine, ...], tuple[Note, ...]]:
    """Order the notes as the reader meets their references, so that footnote numbers ascend."""
    order: dict[int, int] = {}
    renumbered = list(lines)
    for index, refs in _refs_by_line(lines).items():
        for ref in refs:
            order.setdefault(ref.index, len(order))
        spans = tuple(NoteRef(order[span.index]) if isinstance(span, NoteRef) else span for span in lines[index].spans)
        renumbered[index] = TextLine(lines[index].number, spans)
    return tuple(renumbered), tuple(notes[index] for index in order)
