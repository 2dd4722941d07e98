"""Junk no rule knows: lines repeated at the top or bottom of many chapters.

Each line is reduced to a key (NFKC, case-folded, digits masked, spaces collapsed) and the
keys are counted over the whole input in two passes (see find_repeated): time linear in the
number of lines.
A key is junk when it appears in a large share of the chapters and nearly always at a
chapter's edge (its first or last few lines). The story's own repeated lines are guarded:
dialogue, headings and scene breaks never count, and a refrain that also stands in the
middle of chapters fails the edge test.
"""

from __future__ import annotations

import math
import re
import unicodedata
from bisect import bisect_right
from collections import Counter
from dataclasses import dataclass, field

from epubgen.config import CleanConfig
from epubgen.headings import parse_heading
from epubgen.marks import image_index, strip_marks
from epubgen.model import Line
from epubgen.structure import is_scene_break

RULE_ID = "repeated:edge-line"
TOP_LINES = 3
BOTTOM_LINES = 5
EDGE_SHARE = 0.8
"""The share of a key's occurrences that must stand at a chapter's edge."""

_DIGITS = re.compile(r"\d+")
_SPACES = re.compile(r"\s+")
_DIGIT_OR_SPACE = re.compile(r"[\d\s]")
_ASCII = bytes(range(128))
_ASCII_DIGITS_AND_SPACES = (*(bytes([code]) for code in b"0123456789\t\x0b\x0c\r\x1c\x1d\x1e\x1f"), b"  ")
"""What _DIGITS or _SPACES can change in an ASCII line: a digit, a space other than " ", two spaces."""
_QUOTES = "\"'“”‘’「」『』«»‹›"


@dataclass(frozen=True)
class Repeated:
    keys: frozenset[str]
    """The keys of the lines to remove."""
    title: str | None
    """The line that opens most chapters, when it is junk: the novel's title, most likely."""


def line_key(text: str) -> str:
    """`Page 12 of  The Novel ` and `page 13 of the novel` share a key."""
    folded = unicodedata.normalize("NFKC", strip_marks(text)).casefold()
    return _SPACES.sub(" ", _DIGITS.sub("#", folded)).strip()


def find_repeated(chapters: list[list[Line]], config: CleanConfig, keys: list[list[str]] | None = None) -> Repeated:
    """Count every candidate line over the chapters and pick the repeated edge junk.

    keys, when given, are line_keys(lines) of each chapter, worked out already. The same steps
    as a build shares out among processes (epubgen.pipeline): edge_keys of each chapter,
    possible_keys over them all, count_keys of each chapter, decide.
    """
    if not config.detect_repeated or not chapters:
        return Repeated(frozenset(), None)
    keys = keys if keys is not None else [line_keys(lines) for lines in chapters]
    needed = needed_chapters(len(chapters), config)
    possible = possible_keys(Counter(key for lines, chapter_keys in zip(chapters, keys) for key in edge_keys(lines, chapter_keys)), needed)
    counts = KeyCounts()
    if possible:
        for lines, chapter_keys in zip(chapters, keys):
            counts.add(lines, chapter_keys, possible)
    return decide(counts, needed)


def needed_chapters(count: int, config: CleanConfig) -> int:
    """In how many of count chapters a line must stand to be junk."""
    return max(config.repeated_min_chapters, math.ceil(config.repeated_share * count))


def edge_keys(lines: list[Line], keys: list[str]) -> list[str]:
    """The keys of a chapter's candidate lines at its edges (keys: line_keys(lines))."""
    return [keys[position] for position in _edge_positions(len(lines), _top_edge(lines)) if _candidate(lines[position].text)]


def possible_keys(edge_counts: Counter[str], needed: int) -> frozenset[str]:
    """The keys that may be junk, from the counts of every chapter's edge_keys.

    Two passes, so that only keys that may be junk are counted (and kept in memory): a junk key
    stands in at least `needed` chapters and at least EDGE_SHARE of its occurrences are at an edge,
    so it stands at an edge at least EDGE_SHARE * needed times.
    """
    return frozenset(key for key, count in edge_counts.items() if count >= EDGE_SHARE * needed)


@dataclass
class KeyCounts:
    """Where the possible keys stand, counted over chapters taken in reading order."""

    in_chapters: Counter[str] = field(default_factory=Counter)
    at_edge: Counter[str] = field(default_factory=Counter)
    everywhere: Counter[str] = field(default_factory=Counter)
    openers: Counter[str] = field(default_factory=Counter)
    first_seen: dict[str, str] = field(default_factory=dict)

    def add(self, lines: list[Line], keys: list[str], possible: frozenset[str]) -> None:
        """Count the possible keys of the next chapter (keys: line_keys(lines))."""
        top = _top_edge(lines)
        seen: set[str] = set()
        for position, key in enumerate(keys):
            if key not in possible or not _candidate(lines[position].text):
                continue
            self.first_seen.setdefault(key, lines[position].text.strip())
            self.everywhere[key] += 1
            self.at_edge[key] += position < top or position >= len(lines) - BOTTOM_LINES
            if position == 0:
                self.openers[key] += 1
            seen.add(key)
        self.in_chapters.update(seen)

    def merge(self, later: KeyCounts) -> None:
        """Add the counts of the chapters that come after these."""
        for mine, theirs in ((self.in_chapters, later.in_chapters), (self.at_edge, later.at_edge),
                             (self.everywhere, later.everywhere), (self.openers, later.openers)):
            mine.update(theirs)
        for key, text in later.first_seen.items():
            self.first_seen.setdefault(key, text)


def decide(counts: KeyCounts, needed: int) -> Repeated:
    """The junk keys: in at least `needed` chapters, and at an edge at least EDGE_SHARE of the time."""
    keys = frozenset(
        key for key, count in counts.in_chapters.items() if count >= needed and counts.at_edge[key] >= EDGE_SHARE * counts.everywhere[key]
    )
    title = next((counts.first_seen[key] for key, _ in counts.openers.most_common() if key in keys), None)
    return Repeated(keys, title)


def _edge_positions(count: int, top: int) -> list[int]:
    """The positions of a chapter's count lines that stand at its edges, in order."""
    bottom = max(count - BOTTOM_LINES, 0)
    return list(range(min(top, bottom))) + list(range(bottom, count))


def line_keys(lines: list[Line]) -> list[str]:
    """line_key() of each line, worked out for the whole chapter at once.

    NFKC and casefold() run over the chapter's joined text (neither reaches across a line break).
    The digit and space patterns are slow to scan, so they only run on the lines that hold a digit,
    a space other than a single one, or a tab: found with byte searches, when every digit and
    space of the chapter is ASCII (else the patterns run on every line). Other lines are their
    own key once stripped.
    """
    joined = "\n".join(line.text for line in lines)
    if joined.count("\n") != len(lines) - 1:
        return [line_key(line.text) for line in lines]
    folded = unicodedata.normalize("NFKC", strip_marks(joined)).casefold()
    parts = folded.split("\n")
    encoded = folded.encode("utf-8", "surrogatepass")
    beyond_ascii = encoded.translate(None, _ASCII).decode("utf-8", "surrogatepass")
    if _DIGIT_OR_SPACE.search(beyond_ascii):
        return [_folded_key(part) for part in parts]
    breaks = _offsets(encoded, b"\n")
    marked = {bisect_right(breaks, offset) for needle in _ASCII_DIGITS_AND_SPACES for offset in _offsets(encoded, needle)}
    return [_folded_key(part) if index in marked else part.strip() for index, part in enumerate(parts)]


def _folded_key(folded: str) -> str:
    return _SPACES.sub(" ", _DIGITS.sub("#", folded)).strip()


def _offsets(data: bytes, needle: bytes) -> list[int]:
    """Where needle starts in data, every time."""
    found, offset = [], data.find(needle)
    while offset >= 0:
        found.append(offset)
        offset = data.find(needle, offset + 1)
    return found


def repeated_junk(lines: list[Line], repeated: Repeated) -> set[int]:
    """The positions of a chapter's lines to remove: only those at its edges, since the same
    words mid-chapter may be story."""
    if not repeated.keys:
        return set()
    top = _top_edge(lines)
    return {
        position
        for position, line in enumerate(lines)
        if (position < top or position >= len(lines) - BOTTOM_LINES) and _candidate(line.text) and line_key(line.text) in repeated.keys
    }


def _top_edge(lines: list[Line]) -> int:
    """Where a chapter's top edge ends: at its heading, or after TOP_LINES lines.

    Lines just below a heading (`Day 47`, a date) open the story, so the top edge ends at the heading.
    """
    return next((index for index, line in enumerate(lines[:TOP_LINES]) if parse_heading(strip_marks(line.text))), TOP_LINES)


def _candidate(text: str) -> bool:
    """Lines the detector may consider: not dialogue, not a heading, not a scene break, not an image."""
    text = strip_marks(text).strip()
    return (
        len(text) > 1
        and image_index(text) is None
        and text[0] not in _QUOTES
        and text[-1] not in _QUOTES
        and parse_heading(text) is None
        and not is_scene_break(text)
    )
