"""Junk no rule knows: lines repeated at the top or bottom of many chapters.

Each line is reduced to a key (NFKC, case-folded, digits masked, spaces collapsed), hashed,
and the keys are counted over the whole input in two passes (see find_repeated): time linear
in the number of lines.
A key is junk when it appears in a large share of the chapters and nearly always at a
chapter's edge (its first or last few lines). The story's own repeated lines are guarded:
dialogue, headings and scene breaks at an edge never count, and a refrain that also stands in
the middle of chapters (as whatever line it is there) fails the edge test.
"""

from __future__ import annotations

import math
import re
import sys
import unicodedata
from array import array
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache, partial
from hashlib import blake2b

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
MAX_TITLE_LENGTH = 200
"""A longer opening line is story text, never the title on top of every page."""

_DIGITS = re.compile(r"\d+")
_SPACES = re.compile(r"\s+")
_DIGIT_OR_SPACE = re.compile(r"[\d\s]")
_ASCII = bytes(range(128))
_MASK_DIGITS_AND_SPACES = bytes(
    0xFF if code in b"0123456789" else 0x20 if code in b" \t\x0b\x0c\r\x1c\x1d\x1e\x1f" else code for code in range(256)
)
"""A translate() table for UTF-8 that turns each ASCII digit into 0xFF (a byte UTF-8 never holds,
so it is not taken for a "#" of the text) and each ASCII space but the line break into " ": what
_DIGITS and _SPACES match in ASCII, for _DIGIT_RUNS and _SPACE_RUNS to collapse."""
# Runs spelled to start with a literal (not `\xff+`, `  +`): the engine then scans for that literal
# in C instead of trying the pattern at every byte (or every space), several times faster.
_DIGIT_RUNS = re.compile(rb"\xff\xff*")
_SPACE_RUNS = re.compile(rb"   *")  # two spaces or more: a single one is its own collapse
_BLAKE2B_8 = partial(blake2b, digest_size=8)
_QUOTES = "\"'“”‘’「」『』«»‹›"


@dataclass(frozen=True)
class Repeated:
    keys: frozenset[int]
    """The key_hashes of the keys of the lines to remove."""
    title: str | None
    """The line that opens most chapters, when it is junk: the novel's title, most likely."""


def line_key(text: str) -> str:
    """`Page 12 of  The Novel ` and `page 13 of the novel` share a key."""
    folded = unicodedata.normalize("NFKC", strip_marks(text)).casefold()
    return _SPACES.sub(" ", _DIGITS.sub("#", folded)).strip()


def key_hashes(keys: list[str]) -> array:
    """A 64-bit digest of each key (its first 8 bytes of BLAKE2b, read little-endian): what is
    counted, remembered and compared instead of the key itself. Made at once, as an array."""
    return _utf8_hashes(map(_utf8, keys))


def _utf8(text: str) -> bytes:
    return text.encode("utf-8", "surrogatepass")


def _utf8_hashes(keys: Iterable[bytes]) -> array:
    """key_hashes of keys in UTF-8, digested in C (no Python call per key)."""
    hashes = array("Q", b"".join(map(blake2b.digest, map(_BLAKE2B_8, keys))))
    if sys.byteorder == "big":  # the array reads its bytes in the machine's order
        hashes.byteswap()
    return hashes


@dataclass(frozen=True)
class KeyedLines:
    """What the detector needs of one chapter: the hashed key of each of its lines of text, and
    its opening line. Small enough to travel between processes and to be remembered between
    builds (epubgen.pipeline), it stands for the chapter's text in every count.

    A line at an edge that the detector may not consider (dialogue, a heading, a scene break:
    _candidate) has no key (0). One in the middle keeps its key whatever it is: it counts as an
    occurrence of that key away from an edge (and as a chapter it stands in).
    """

    top: int
    """Where the chapter's top edge ends (_top_edge)."""
    hashes: array
    """key_hashes of the lines of text, in order; 0 for an edge line that is no candidate."""
    opener: str
    """The first line of text, stripped (the title, when it is junk); empty when longer than
    MAX_TITLE_LENGTH."""

    @classmethod
    def of(cls, lines: list[Line], hashes: array) -> KeyedLines:
        """The keyed lines of a chapter's lines of text (hashes: line_key_hashes(lines), changed here)."""
        top = _top_edge(lines)
        for position in _edge_positions(len(lines), top):
            if not _candidate(lines[position].text):
                hashes[position] = 0
        opener = lines[0].text.strip() if lines else ""
        return cls(top, hashes, opener if len(opener) <= MAX_TITLE_LENGTH else "")

    def edge_hashes(self) -> list[int]:
        return [self.hashes[position] for position in _edge_positions(len(self.hashes), self.top) if self.hashes[position]]


def find_repeated(chapters: list[KeyedLines], config: CleanConfig) -> Repeated:
    """Count the keys over the chapters (in reading order) and pick the repeated edge junk.

    Two passes, so that only keys that may be junk are counted (and kept in memory): a junk key
    stands in at least `needed` chapters and at least EDGE_SHARE of its occurrences are at an edge,
    so it stands at an edge at least EDGE_SHARE * needed times.
    """
    if not config.detect_repeated or not chapters:
        return Repeated(frozenset(), None)
    needed = max(config.repeated_min_chapters, math.ceil(config.repeated_share * len(chapters)))
    edge_counts = Counter(key for chapter in chapters for key in chapter.edge_hashes())
    possible = frozenset(key for key, count in edge_counts.items() if count >= EDGE_SHARE * needed)
    counts = _KeyCounts()
    if possible:
        for chapter in chapters:
            counts.add(chapter, possible)
    return counts.decide(needed)


@dataclass
class _KeyCounts:
    """Where the possible keys stand, counted over chapters taken in reading order."""

    in_chapters: Counter[int] = field(default_factory=Counter)
    at_edge: Counter[int] = field(default_factory=Counter)
    everywhere: Counter[int] = field(default_factory=Counter)
    openers: Counter[int] = field(default_factory=Counter)
    opener_text: dict[int, str] = field(default_factory=dict)
    """The first chapter's opening line, for each key opening chapters."""

    def add(self, chapter: KeyedLines, possible: frozenset[int]) -> None:
        """Count the possible keys of the next chapter."""
        hashes = chapter.hashes
        present = possible.intersection(hashes)  # the few possible keys the chapter holds, found in C
        edge_keys = [hashes[position] for position in _edge_positions(len(hashes), chapter.top)]
        for key in present:
            self.everywhere[key] += hashes.count(key)
            self.at_edge[key] += edge_keys.count(key)
        self.in_chapters.update(present)
        if hashes and hashes[0] in possible:
            self.openers[hashes[0]] += 1
            self.opener_text.setdefault(hashes[0], chapter.opener)

    def decide(self, needed: int) -> Repeated:
        """The junk keys: in at least `needed` chapters, and at an edge at least EDGE_SHARE of the time."""
        keys = frozenset(
            key for key, count in self.in_chapters.items() if count >= needed and self.at_edge[key] >= EDGE_SHARE * self.everywhere[key]
        )
        title = next((self.opener_text[key] for key, _ in self.openers.most_common() if key in keys), None)
        return Repeated(keys, title)


def _edge_positions(count: int, top: int) -> list[int]:
    """The positions of a chapter's count lines that stand at its edges, in order."""
    bottom = max(count - BOTTOM_LINES, 0)
    return list(range(min(top, bottom))) + list(range(bottom, count))


def line_key_hashes(lines: list[Line], lowered: list[str] | None = None) -> array:
    """key_hashes of the line_key() of each line, worked out for the whole chapter at once. lowered,
    when given, is each line's text without marks in lower case (the rules have it).

    NFKC and casefold() run over the chapter's joined text (neither reaches across a line break);
    lowered joined is that already when the text is NFKC and none of its characters folds further
    (_folded). When every digit and space of the chapter is ASCII, its digits are masked and its
    spaces collapsed in its UTF-8 by a byte translate and two fast searches, and its lines are
    stripped and hashed in C; else the patterns run on each line.
    """
    if lowered is not None and len(lowered) != len(lines):
        raise ValueError(f"{len(lowered)} lines in lower case for {len(lines)} lines")
    joined = "\n".join(line.text for line in lines)
    if joined.count("\n") != len(lines) - 1:
        return key_hashes([line_key(line.text) for line in lines])
    folded, encoded, beyond_ascii = _folded(strip_marks(joined), lowered)
    if _DIGIT_OR_SPACE.search(beyond_ascii):
        return key_hashes([_folded_key(part) for part in folded.split("\n")])
    masked = _SPACE_RUNS.sub(b" ", _DIGIT_RUNS.sub(b"#", encoded.translate(_MASK_DIGITS_AND_SPACES)))
    return _utf8_hashes(map(bytes.strip, masked.split(b"\n")))


def _folded(plain: str, lowered: list[str] | None) -> tuple[str, bytes, str]:
    """NFKC, then casefold(), of plain (a chapter's lines joined); with its UTF-8 and its characters
    beyond ASCII. lowered (plain's lines in lower case), joined, is the answer when plain is NFKC
    already and no character of it changes when case-folded: casefold() and lower() differ only
    where lower() leaves such a character (tests/test_clean.py holds this for every character).
    """
    normalized = unicodedata.normalize("NFKC", plain)  # plain itself when it is NFKC already
    if lowered is not None and normalized is plain:
        folded = "\n".join(lowered)
        encoded, beyond_ascii = _utf8_and_beyond_ascii(folded)
        if not any(map(_folds_further, set(beyond_ascii))):
            return folded, encoded, beyond_ascii
    folded = normalized.casefold()
    return folded, *_utf8_and_beyond_ascii(folded)


def _utf8_and_beyond_ascii(text: str) -> tuple[bytes, str]:
    """The text in UTF-8, and its characters beyond ASCII (found with a byte translate)."""
    encoded = _utf8(text)
    return encoded, encoded.translate(None, _ASCII).decode("utf-8", "surrogatepass")


@cache
def _folds_further(char: str) -> bool:
    return char.casefold() != char


def _folded_key(folded: str) -> str:
    return _SPACES.sub(" ", _DIGITS.sub("#", folded)).strip()


def repeated_junk(chapter: KeyedLines, repeated: Repeated) -> list[int]:
    """The positions of a chapter's lines of text to remove: only those at its edges, since the
    same words mid-chapter may be story (an edge line that is no candidate has no key). None when
    they are every line the chapter has: a chapter repeated whole (one file linked under several
    names) is story, not a page of junk."""
    if not repeated.keys:
        return []
    junk = [position for position in _edge_positions(len(chapter.hashes), chapter.top) if chapter.hashes[position] in repeated.keys]
    return [] if len(junk) == len(chapter.hashes) else junk


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
