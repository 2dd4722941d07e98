"""Stage 2: remove site boilerplate from the chapters, recording every removal.

Three sources of removals, in this order for each line: the user's `keep` list (which
overrides everything), the rules (built-in groups and the user's own, as data), and the
watermark finder; then, over the whole input, the detector of lines repeated at the edges
of many chapters. Every removal is recorded with its rule, chapter and line number: the
report and the book are made from the same record.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from epubgen.clean import credits, repeated, watermark
from epubgen.clean.rules import RuleSet, rule_set
from epubgen.config import CleanConfig
from epubgen.marks import strip_marks
from epubgen.model import Line, Removal, SourceChapter


@dataclass(frozen=True)
class CleanResult:
    chapters: tuple[SourceChapter, ...]
    removals: tuple[Removal, ...]
    title: str | None
    """The novel's title when the detector found it repeated on top of the chapters."""
    credits: tuple[tuple[str, str], ...]
    """(MARC relator code, name) from the credit lines, each once, in order of appearance."""


@dataclass(frozen=True)
class _LineCleaner:
    rules: RuleSet
    keep: frozenset[str]
    watermarks: bool
    credits: bool

    def kept(self, text: str) -> bool:
        return strip_marks(text).strip().casefold() in self.keep


def clean(chapters: tuple[SourceChapter, ...], config: CleanConfig) -> CleanResult:
    """Return the chapters without their boilerplate, the record of what went, and what it told us."""
    cleaner = _LineCleaner(
        rules=rule_set(config),
        keep=frozenset(text.casefold() for text in config.keep),
        watermarks="watermarks" not in config.disable,
        credits="credits" not in config.disable,
    )
    removals: list[Removal] = []
    found_credits: dict[tuple[str, str], None] = {}
    by_rules = [_apply_rules(chapter, cleaner, removals, found_credits) for chapter in chapters]
    detected = repeated.find_repeated([_text_lines(lines) for lines in by_rules], config)
    cleaned = tuple(
        replace(chapter, lines=_drop_repeated(chapter.source, lines, detected, cleaner, removals))
        for chapter, lines in zip(chapters, by_rules)
    )
    return CleanResult(cleaned, tuple(removals), detected.title, tuple(found_credits))


def _apply_rules(
    chapter: SourceChapter,
    cleaner: _LineCleaner,
    removals: list[Removal],
    found_credits: dict[tuple[str, str], None],
) -> list[Line]:
    kept: list[Line] = []
    cut_by: str | None = None
    watermarks = cleaner.watermarks and watermark.may_hold_watermarks("\n".join(line.text for line in chapter.lines))
    for line in chapter.lines:
        if not line.text.strip() or cleaner.kept(line.text):
            kept.append(line)
            continue
        plain = strip_marks(line.text)
        cut_by = cut_by or cleaner.rules.match_cut(plain)
        rule = cut_by or cleaner.rules.match_line(plain)
        if rule is None and cleaner.credits:
            names = credits.parse_credits(plain)
            if names:
                rule = credits.RULE_ID
                found_credits.update(dict.fromkeys(names))
        if rule is not None:
            removals.append(Removal(chapter.source, line.number, plain.strip(), rule))
            continue
        remaining = _remove_fragments(chapter.source, line, cleaner, watermarks, removals)
        if remaining is not None:
            kept.append(remaining)
    return kept


def _remove_fragments(source: str, line: Line, cleaner: _LineCleaner, watermarks: bool, removals: list[Removal]) -> Line | None:
    """The line without its junk fragments, or None when nothing but junk was in it.

    Fragments are found in the text without emphasis marks; a line that loses a fragment
    loses its emphasis too (rare: junk inside emphasised story text).
    """
    plain = strip_marks(line.text)
    spans = cleaner.rules.fragments(plain)
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


def _text_lines(lines: list[Line]) -> list[Line]:
    return [line for line in lines if line.text.strip()]


def _drop_repeated(
    source: str, lines: list[Line], detected: repeated.Repeated, cleaner: _LineCleaner, removals: list[Removal]
) -> tuple[Line, ...]:
    """The chapter's lines (blank ones included) without the repeated edge junk."""
    text_lines = _text_lines(lines)
    junk = {
        text_lines[position].number
        for position in repeated.repeated_junk(text_lines, detected)
        if not cleaner.kept(text_lines[position].text)
    }
    removals.extend(Removal(source, line.number, strip_marks(line.text).strip(), repeated.RULE_ID) for line in text_lines if line.number in junk)
    return tuple(line for line in lines if line.number not in junk)
