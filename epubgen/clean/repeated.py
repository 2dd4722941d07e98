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
from dataclasses import dataclass

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

    keys, when given, are line_keys(lines) of each chapter, worked out already.

    Two passes, so that only keys that may be junk are counted (and kept in memory): a junk key
    stands in at least `needed` chapters and at least EDGE_SHARE of its occurrences are at an edge,
    so it stands at an edge at least EDGE_SHARE * needed times. The first pass counts the keys of
    the edge lines only; the second counts, over every line, the keys the first found often enough.
    """
    if not config.detect_repeated or not chapters:
        return Repeated(frozenset(), None)
    needed = max(config.repeated_min_chapters, math.ceil(config.repeated_share * len(chapters)))
    tops = [_top_edge(lines) for lines in chapters]
    edge_counts: Counter[str] = Counter(
        keys[index][position] if keys is not None else line_key(lines[position].text)
        for index, (lines, top) in enumerate(zip(chapters, tops))
        for position in _edge_positions(len(lines), top)
        if _candidate(lines[position].text)
    )
    possible = {key for key, count in edge_counts.items() if count >= EDGE_SHARE * needed}
    if not possible:
        return Repeated(frozenset(), None)
    in_chapters: Counter[str] = Counter()
    at_edge: Counter[str] = Counter()
    everywhere: Counter[str] = Counter()
    openers: Counter[str] = Counter()
    first_seen: dict[str, str] = {}
    for lines, top, chapter_keys in zip(chapters, tops, keys if keys is not None else map(line_keys, chapters)):
        seen: set[str] = set()
        for position, key in enumerate(chapter_keys):
            if key not in possible or not _candidate(lines[position].text):
                continue
            first_seen.setdefault(key, lines[position].text.strip())
            everywhere[key] += 1
            at_edge[key] += position < top or position >= len(lines) - BOTTOM_LINES
            if position == 0:
                openers[key] += 1
            seen.add(key)
        in_chapters.update(seen)
    keys = frozenset(
        key for key, count in in_chapters.items() if count >= needed and at_edge[key] >= EDGE_SHARE * everywhere[key]
    )
    title = next((first_seen[key] for key, _ in openers.most_common() if key in keys), None)
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
