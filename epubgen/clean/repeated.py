"""Junk no rule knows: lines repeated at the top or bottom of many chapters.

Each line is reduced to a key (NFKC, case-folded, digits masked, spaces collapsed) and the
keys are counted over the whole input in one pass: time linear in the number of lines.
A key is junk when it appears in a large share of the chapters and nearly always at a
chapter's edge (its first or last few lines). The story's own repeated lines are guarded:
dialogue, headings and scene breaks never count, and a refrain that also stands in the
middle of chapters fails the edge test.
"""

from __future__ import annotations

import math
import re
import unicodedata
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


def find_repeated(chapters: list[list[Line]], config: CleanConfig) -> Repeated:
    """Count every candidate line over the chapters and pick the repeated edge junk."""
    if not config.detect_repeated or not chapters:
        return Repeated(frozenset(), None)
    in_chapters: Counter[str] = Counter()
    at_edge: Counter[str] = Counter()
    everywhere: Counter[str] = Counter()
    openers: Counter[str] = Counter()
    first_seen: dict[str, str] = {}
    for lines in chapters:
        seen: set[str] = set()
        top = _top_edge(lines)
        for position, line in enumerate(lines):
            if not _candidate(line.text):
                continue
            key = line_key(line.text)
            first_seen.setdefault(key, line.text.strip())
            everywhere[key] += 1
            at_edge[key] += position < top or position >= len(lines) - BOTTOM_LINES
            if position == 0:
                openers[key] += 1
            seen.add(key)
        in_chapters.update(seen)
    needed = max(config.repeated_min_chapters, math.ceil(config.repeated_share * len(chapters)))
    keys = frozenset(
        key for key, count in in_chapters.items() if count >= needed and at_edge[key] >= EDGE_SHARE * everywhere[key]
    )
    title = next((first_seen[key] for key, _ in openers.most_common() if key in keys), None)
    return Repeated(keys, title)


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
