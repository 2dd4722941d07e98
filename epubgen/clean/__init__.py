"""Stage 2: remove site boilerplate from the chapters, recording every removal.

Three sources of removals, in this order for each line: the user's `keep` list (which
overrides everything), the rules (built-in groups and the user's own, as data), and the
watermark finder; then, over the whole input, the detector of lines repeated at the edges
of many chapters. Every removal is recorded with its rule, chapter and line number: the
report and the book are made from the same record.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from epubgen.clean import credits, repeated, watermark
from epubgen.clean.rules import RuleSet, first_whole_line, rule_set, screen_key
from epubgen.config import CleanConfig
from epubgen.marks import strip_marks
from epubgen.model import Line, Removal, SourceChapter
from epubgen.parallel import paused_gc
from epubgen.structure import line_indices


@dataclass(frozen=True)
class CleanResult:
    chapters: tuple[SourceChapter, ...]
    removals: tuple[Removal, ...]
    title: str | None
    """The novel's title when the detector found it repeated on top of the chapters."""
    credits: tuple[tuple[str, str], ...]
    """(MARC relator code, name) from the credit lines, each once, in order of appearance."""


@dataclass(frozen=True)
class Cleaner:
    """The settings of the clean stage, worked out once for every chapter."""

    rules: RuleSet
    keep: frozenset[str]
    watermarks: bool
    credits: bool
    detect_repeated: bool
    screens: dict[tuple[str, int], _Screen] = field(default_factory=dict, repr=False, compare=False)
    """Per line key met so far: screen_for (looked up here first by the loop over every line)."""

    @classmethod
    def of(cls, config: CleanConfig) -> Cleaner:
        return cls(
            rules=rule_set(config),
            keep=frozenset(text.casefold() for text in config.keep),
            watermarks="watermarks" not in config.disable,
            credits="credits" not in config.disable,
            detect_repeated=config.detect_repeated,
        )

    def kept(self, text: str) -> bool:
        return strip_marks(text).strip().casefold() in self.keep

    def screen_for(self, key: tuple[str, int]) -> _Screen:
        """What a stripped line with key (rules.screen_key) is tried on: the cut rules and line rules
        it may match (RuleSet.checks_by_key), and whether it may be a credit line."""
        screen = self.screens.get(key)
        if screen is None:
            cut_checks, line_checks = self.rules.checks_by_key(key)
            screen = self.screens[key] = (cut_checks, line_checks, self.credits and credits.may_start_credit(key[0]))
        return screen


_Screen = tuple[tuple, tuple, bool]


@dataclass
class RulesDone:
    """What the rules did to a chapter."""

    kept: list[Line]
    """Its lines without what the rules removed (blank lines included)."""
    removals: list[Removal]
    credits: dict[tuple[str, str], None]
    """(MARC relator code, name) of its credit lines, in order."""
    keyed: repeated.KeyedLines | None
    """What the repeated-line detector counts of the lines kept; None when it is off."""
    text_lines: list[Line]
    """The lines kept that are not blank: those keyed counts."""


def clean(chapters: tuple[SourceChapter, ...], config: CleanConfig) -> CleanResult:
    """Return the chapters without their boilerplate, the record of what went, and what it told us.

    Chapter by chapter in this process: a build shares the same steps out among processes
    (epubgen.pipeline): apply_rules to each chapter, repeated.find_repeated over what they found,
    drop_repeated from each.
    """
    with paused_gc():
        cleaner = Cleaner.of(config)
        done = [apply_rules(chapter, cleaner) for chapter in chapters]
        detected = repeated.find_repeated([result.keyed for result in done if result.keyed is not None], config)
        removals = [removal for result in done for removal in result.removals]
        cleaned = []
        for chapter, result in zip(chapters, done):
            lines, dropped = drop_repeated(chapter, result, detected, cleaner)
            cleaned.append(replace(chapter, lines=lines))
            removals += dropped
        found_credits = {credit: None for result in done for credit in result.credits}
        return CleanResult(tuple(cleaned), tuple(removals), detected.title, tuple(found_credits))


def apply_rules(chapter: SourceChapter, cleaner: Cleaner) -> RulesDone:
    """The rules, the watermark finder and the credit lines on each line of the chapter."""
    removals: list[Removal] = []
    credited: dict[tuple[str, str], None] = {}
    kept, lowered = _kept_by_rules(chapter, cleaner, removals, credited)
    text_lines = [line for line in kept if line.text.strip()]
    keyed = repeated.KeyedLines.of(text_lines, repeated.line_key_hashes(text_lines, lowered)) if cleaner.detect_repeated else None
    return RulesDone(kept, removals, credited, keyed, text_lines)


def _kept_by_rules(
    chapter: SourceChapter,
    cleaner: Cleaner,
    removals: list[Removal],
    found_credits: dict[tuple[str, str], None],
) -> tuple[list[Line], list[str]]:
    """The chapter's lines without what the rules, the credit lines and the watermark finder remove
    (blank lines included), and the text of those that are not blank, without marks, in lower case.

    This loop runs for every line of a series: what each line needs of the chapter's text is looked
    up in lists and sets made for the whole chapter at once (_ChapterTexts).
    """
    kept: list[Line] = []
    kept_lowered: list[str] = []
    cut_by: str | None = None
    texts = _ChapterTexts(chapter.lines, cleaner.watermarks, cleaner.rules)
    plains, lowereds, watermark_lines, fragment_lines = texts.plain, texts.lowered, texts.watermark_lines, texts.fragment_lines
    screens, screen_for, starts_a_credit = cleaner.screens, cleaner.screen_for, credits.credit_start()
    lengths = cleaner.rules.line_lengths
    for index, line in enumerate(chapter.lines):
        if not line.text.strip():
            kept.append(line)
            continue
        plain, lowered = plains[index], lowereds[index]
        if cleaner.keep and cleaner.kept(line.text):
            kept.append(line)
            kept_lowered.append(lowered)
            continue
        stripped = plain.strip()
        rule = cut_by
        if rule is None:
            key = screen_key(stripped, lengths)
            cut_checks, line_checks, may_be_credit = screens.get(key) or screen_for(key)
            if cut_checks or line_checks:
                stripped_lowered = lowered.strip()
                if cut_checks:
                    rule = cut_by = first_whole_line(cut_checks, stripped, stripped_lowered)
                if rule is None and line_checks:
                    rule = first_whole_line(line_checks, stripped, stripped_lowered)
            if rule is None and may_be_credit and starts_a_credit(stripped):
                names = credits.parse_credits(stripped)
                if names:
                    rule = credits.RULE_ID
                    found_credits.update(dict.fromkeys(names))
        if rule is not None:
            removals.append(Removal(chapter.source, line.number, stripped, rule))
            continue
        may_hold_watermark = index in watermark_lines
        if not may_hold_watermark and fragment_lines is not None and index not in fragment_lines:
            kept.append(line)
            kept_lowered.append(lowered)
            continue
        remaining = _remove_fragments(chapter.source, line, plain, lowered, cleaner, may_hold_watermark, removals)
        if remaining is not None:
            kept.append(remaining)
            kept_lowered.append(lowered if remaining is line else strip_marks(remaining.text).lower())
    return kept, kept_lowered


class _ChapterTexts:
    """A chapter's lines without emphasis marks (plain) and in lower case (lowered), and which of
    them may hold a watermark or a fragment: worked out for the whole chapter at once, with string
    methods and searches running in C over its joined text, instead of line by line.

    Neither strip_marks() nor lower() moves a character across a line break, so the joined
    result split at its line breaks is the result for each line. A line holding a line break of
    its own (never from a text file) makes the chapter go the line-by-line way.
    """

    def __init__(self, lines: tuple[Line, ...], watermarks: bool, rules: RuleSet):
        joined = "\n".join(line.text for line in lines)
        if joined.count("\n") != len(lines) - 1:
            self.plain = [strip_marks(line.text) for line in lines]
            self.lowered = [text.lower() for text in self.plain]
            may_hold = watermarks and watermark.may_hold_watermarks(joined)
            self.watermark_lines: set[int] | range = range(len(lines)) if may_hold else set()
            self.fragment_lines: set[int] | None = None
            """The lines that may hold a fragment; None: every line."""
            return
        plain = strip_marks(joined)
        lowered = plain.lower()
        offsets = rules.fragment_hint_offsets(lowered)
        self.fragment_lines = None if offsets is None else line_indices(f"\n{lowered}", [offset + 1 for offset in offsets])
        self.plain = plain.split("\n") if plain is not joined else [line.text for line in lines]
        self.lowered = lowered.split("\n")
        # As before: a chapter whose skeleton holds no site name is not searched line by line
        # (the skeleton of the text with its marks; the same as without them but in odd cases).
        self.watermark_lines = (
            watermark.lines_with_site_names(plain, lowered)
            if watermarks and (plain is joined or watermark.may_hold_watermarks(joined))
            else set()
        )


def _remove_fragments(
    source: str,
    line: Line,
    plain: str,
    lowered: str,
    cleaner: Cleaner,
    watermarks: bool,
    removals: list[Removal],
) -> Line | None:
    """The line without its junk fragments, or None when nothing but junk was in it.

    Fragments are found in the text without emphasis marks (plain, and lowered, its lower case);
    a line that loses a fragment loses its emphasis too (rare: junk inside emphasised story text).
    """
    spans = cleaner.rules.fragments(plain, lowered, source, line.number)
    if watermarks:
        spans += [(mark.start, mark.end, watermark.RULE_ID) for mark in watermark.find_watermarks(plain)]
    if not spans:
        return line
    spans = _merge(spans)
    pieces, cursor = [], 0
    for start, end, _ in spans:
        pieces.append(plain[cursor:start])
        cursor = end
    pieces.append(plain[cursor:])
    text = " ".join(piece.strip() for piece in pieces if piece.strip())
    if not any(char.isalnum() for char in text):
        removals.append(Removal(source, line.number, plain.strip(), spans[0][2]))
        return None
    removals.extend(Removal(source, line.number, plain[start:end].strip(), rule) for start, end, rule in spans)
    return Line(line.number, text)


def _merge(spans: list[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
    """Sort spans and merge the overlapping ones (the first rule names the merged span)."""
    merged: list[tuple[int, int, str]] = []
    for start, end, rule in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]), merged[-1][2])
        else:
            merged.append((start, end, rule))
    return merged


def drop_repeated(
    chapter: SourceChapter, done: RulesDone, detected: repeated.Repeated, cleaner: Cleaner
) -> tuple[tuple[Line, ...], list[Removal]]:
    """The chapter's lines kept by the rules (blank ones included) without the repeated edge junk, and the removals."""
    kept = done.kept
    if done.keyed is None or not detected.keys:
        return tuple(kept), []
    junk = [line for line in map(done.text_lines.__getitem__, repeated.repeated_junk(done.keyed, detected)) if not cleaner.kept(line.text)]
    if not junk:
        return tuple(kept), []
    removals = [Removal(chapter.source, line.number, strip_marks(line.text).strip(), repeated.RULE_ID) for line in junk]
    numbers = {line.number for line in junk}
    return tuple([line for line in kept if line.number not in numbers]), removals
