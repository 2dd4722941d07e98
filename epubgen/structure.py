"""Stage 4: find each chapter's heading, cut its text into paragraphs and scene breaks, order the chapters."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Sequence
from dataclasses import replace
from decimal import Decimal
from pathlib import PurePath
from typing import AnyStr

from epubgen.headings import parse_heading, parse_volume_marker
from epubgen.marks import EM_CLOSE, EM_OPEN, IMAGE, STRONG_CLOSE, STRONG_OPEN, image_index, strip_marks
from epubgen.model import Block, Chapter, Heading, Line, NotedChapter, NoteRef, Paragraph, Picture, Removal, SceneBreak, SourceChapter, Span, TextLine

HEADING_SEARCH_LINES = 3
"""A heading is looked for among a chapter's first few non-blank lines (a site title may come first)."""

_SCENE_MARKS = r"*\-_=~#•·◇◆○●□■☆★✦✧❖⁂※×+"
"""The characters a scene break is three or more of (a regex class body)."""
_SCENE_WORDS = ("o0o", "0o0", "oOo", "OoO", "O0O")
_SCENE_BREAK = re.compile(rf"^\s*(?:(?:[{_SCENE_MARKS}]\s*){{3,}}|(?:{'|'.join(_SCENE_WORDS)})+|⁂|§)\s*$")
_MAY_BREAK_OR_PICTURE = re.compile(
    rf"\n[^\S\n]*[{_SCENE_MARKS}{''.join(sorted({word[0] for word in _SCENE_WORDS}))}§{IMAGE}]"
)
"""A line break and the first character of a line that may be a scene break or an image line."""
_KIND_RANK = {"prologue": 0, "chapter": 1, "interlude": 1, "": 2, "extra": 2, "side story": 2,
              "bonus chapter": 2, "special chapter": 2, "epilogue": 3, "afterword": 4}


def is_scene_break(text: str) -> bool:
    """`***`, `* * *`, `---`, `o0o`, `◇◇◇`, `⁂` and the like.

    >>> is_scene_break("* * *"), is_scene_break("o0o"), is_scene_break("Ooo!")
    (True, True, False)
    """
    return _SCENE_BREAK.match(text) is not None


def structure_chapter(chapter: NotedChapter, plain_emphasis: bool = False) -> Chapter:
    """Turn a chapter's lines into a heading and blocks.

    A line holding only note references (a note that was a paragraph of its own) is kept.
    With plain_emphasis, `*word*` and `_word_` become emphasis and `**word**` strong emphasis.
    """
    lines = [line for line in chapter.lines if line.spans and _holds_something(line)]
    heading_at, heading = _find_heading(lines)
    if heading is None:
        heading = _heading_from_hint(chapter.title_hint) or heading_from_name(chapter.source)
        body = lines[1:] if lines and strip_marks(lines[0].text).strip() == chapter.title_hint.strip() else lines
    else:
        body = lines[:heading_at] + _skip_repeated_heading(lines[heading_at + 1 :], heading)
    marker_at, marker = _find_volume_marker(body[: max(heading_at, 0)])
    volume_title = ""
    if marker is not None:
        body = body[:marker_at] + body[marker_at + 1 :]
        heading = heading if heading.volume is not None else replace(heading, volume=marker[0])
        volume_title = marker[1]
    blocks = _blocks(unwrapped(body) if is_hard_wrapped(body) else body)
    if plain_emphasis:
        blocks = tuple(_emphasised(block) for block in blocks)
    return Chapter(chapter.source, heading, blocks, chapter.notes, volume_title, mtime=chapter.mtime)


def _holds_something(line: TextLine) -> bool:
    """Text, or a note reference (the common case first: one string)."""
    spans = line.spans
    if len(spans) == 1 and type(spans[0]) is str:
        return bool(spans[0].strip())
    return bool(line.text.strip()) or any(isinstance(span, NoteRef) for span in spans)


def _find_volume_marker(lines: list[TextLine]) -> tuple[int, tuple[int, str] | None]:
    """A `Volume 3: The Sea` line above the chapter's heading opens a volume."""
    for index, line in enumerate(lines):
        marker = parse_volume_marker(strip_marks(line.text))
        if marker is not None:
            return index, marker
    return -1, None


def _heading_from_hint(hint: str) -> Heading | None:
    hint = hint.strip()
    return (parse_heading(hint) or Heading(kind="", title=hint)) if hint else None


def heading_from_name(source: str) -> Heading:
    """The heading of a chapter without a heading line: parsed from its file name, or the name itself."""
    stem = PurePath(source.split(" #")[0]).stem
    spaced = re.sub(r"_+", " ", stem).strip()
    return parse_heading(spaced) or Heading(kind="", title=spaced)


def order_chapters(chapters: list[Chapter], named_in_sequence: bool) -> tuple[list[Chapter], list[str]]:
    """Put chapters in reading order, with a warning when file names and chapter numbers disagree.

    Downloaders number their files, and chapter numbers restart with volumes and skip side
    stories, so a file-name sequence wins; without one, the parsed headings decide.
    """
    if not named_in_sequence:
        return sorted(chapters, key=_heading_key), []
    numbered = [chapter for chapter in chapters if chapter.heading.kind == "chapter" and chapter.heading.number is not None]
    for before, after in zip(numbered, numbered[1:]):
        if _heading_key(after) < _heading_key(before):
            return chapters, [
                f"file order and chapter numbers disagree: {after.source} ({after.heading.label}) comes after "
                f"{before.source} ({before.heading.label}); keeping the file order"
            ]
    return chapters, []


_FRONT_LABEL = re.compile(r"^(?:synopsis|summary|description|introduction|blurb|about)\s*[:：]?\s*", re.IGNORECASE)
MIN_SYNOPSIS_CHARACTERS = 40


def synopsis(front_matter: SourceChapter | None, title: str) -> tuple[str, tuple[Removal, ...]]:
    """The synopsis in a one-file series' front matter ("" when it holds only junk), and the
    record of where each of its lines went.

    The title, credit-like `Author: X` lines and short fragments are junk; a `Synopsis:`
    label is dropped; the lines left, if any is sentence-long, are the description.
    """
    if front_matter is None:
        return "", ()
    kept: list[tuple[Line, str]] = []
    junk: list[Line] = []
    for line in front_matter.lines:
        text = _FRONT_LABEL.sub("", strip_marks(line.text).strip())
        if not text:
            continue
        is_junk = text.casefold() == title.casefold() or (len(text) < 60 and re.match(r"^\w[\w ]{0,20}[:：]\s*\S", text))
        (junk.append(line) if is_junk else kept.append((line, text)))
    if not any(len(text) >= MIN_SYNOPSIS_CHARACTERS for _, text in kept):
        junk, kept = sorted(junk + [line for line, _ in kept], key=lambda line: line.number), []
    source = front_matter.source
    removals = [Removal(source, line.number, line.text.strip(), "front-matter:junk", "structure") for line in junk]
    removals += [Removal(source, line.number, line.text.strip(), "front-matter:description", "structure") for line, _ in kept]
    return "\n\n".join(text for _, text in kept), tuple(sorted(removals, key=lambda removal: removal.line))


def drop_duplicates(
    chapters: list[Chapter],
    identity: Callable[[Chapter], tuple | None] | None = None,
    length: Callable[[Chapter], int] | None = None,
) -> tuple[list[Chapter], list[str]]:
    """The same chapter downloaded twice (same heading, same opening paragraph): keep one.

    The longer copy is kept (a re-download often completes a truncated page), or on a tie
    the later file. Chapters that merely share a number (numbering restarts with volumes)
    have different titles or openings and are both kept. identity and length, when given,
    stand for chapter_identity and chapter_length (for chapters whose text is elsewhere).
    """
    identity = identity or chapter_identity
    length = length or chapter_length
    kept: list[Chapter] = []
    position: dict[tuple, int] = {}
    warnings = []
    for chapter in chapters:
        key = identity(chapter)
        if key is None or key not in position:
            if key is not None:
                position[key] = len(kept)
            kept.append(chapter)
            continue
        first = kept[position[key]]
        winner, loser = (first, chapter) if length(first) > length(chapter) else (chapter, first)
        kept[position[key]] = winner
        warnings.append(
            f"{winner.heading.label} is in both {first.source} and {chapter.source}: kept {winner.source}, dropped {loser.source}"
        )
    return kept, warnings


def missing_chapters(chapters: list[Chapter]) -> list[str]:
    """One warning listing the gaps in the chapter numbering: `missing chapters 150–152, 160`.

    Numbering is followed run by run: a run ends where the numbers fall back (a new volume).
    """
    gaps: list[str] = []
    previous: int | None = None
    for chapter in chapters:
        number = chapter.heading.number
        if chapter.heading.kind != "chapter" or number is None or number != int(number):
            continue
        if previous is not None and previous + 1 < number:
            first, last = previous + 1, int(number) - 1
            gaps.append(str(first) if first == last else f"{first}–{last}")
        previous = int(number)
    return [f"missing chapters {', '.join(gaps)}"] if gaps else []


def chapter_identity(chapter: Chapter) -> tuple | None:
    """What two copies of a chapter share: its heading and opening paragraph, the paragraph by a
    digest of it (identities are kept for every chapter of a series, and remembered between builds).
    None: no number, no identity."""
    heading = chapter.heading
    if heading.number is None:
        return None
    opening = next((block.text for block in chapter.blocks if isinstance(block, Paragraph)), "")
    opening_digest = hashlib.blake2b(opening.encode("utf-8", "surrogatepass"), digest_size=16).digest()
    return (heading.kind, heading.volume, heading.number, heading.part, heading.title.casefold(), opening_digest)


def chapter_length(chapter: Chapter) -> int:
    return sum(len(block.text) for block in chapter.blocks if isinstance(block, Paragraph))


def _heading_key(chapter: Chapter) -> tuple[int, int, Decimal, int]:
    heading = chapter.heading
    return (
        _KIND_RANK.get(heading.kind, 2),
        heading.volume or 0,
        heading.number if heading.number is not None else Decimal(0),
        heading.part or 0,
    )


def _find_heading(lines: list[TextLine]) -> tuple[int, Heading | None]:
    for index, line in enumerate(lines[:HEADING_SEARCH_LINES]):
        heading = parse_heading(strip_marks(line.text))
        if heading is not None:
            return index, heading
    return -1, None


def _skip_repeated_heading(lines: list[TextLine], heading: Heading) -> list[TextLine]:
    """Drop a page's second copy of the heading (`Chapter 78 - Title` then `Chapter 78: Title`)."""
    for index, line in enumerate(lines[:HEADING_SEARCH_LINES]):
        again = parse_heading(strip_marks(line.text))
        if again is None:
            return lines
        if (again.kind, again.number, again.volume) == (heading.kind, heading.number, heading.volume):
            return lines[:index] + lines[index + 1 :]
    return lines


MIN_WRAPPED_LINES = 8
WRAP_WIDTHS = range(40, 121)
"""Hard-wrapped text breaks its lines at a fixed width, 40 to 120 characters."""


def is_hard_wrapped(lines: list[TextLine]) -> bool:
    """Text whose paragraphs run over several lines broken at a fixed width.

    Most lines then end close to one width and follow the line before with no blank line
    between; text with a paragraph per line has lines of every length.
    """
    if len(lines) < MIN_WRAPPED_LINES:
        return False
    continued = sum(after.number == before.number + 1 for before, after in zip(lines, lines[1:]))
    if continued < len(lines) / 2:  # the cheap test first: most text has blank lines between paragraphs
        return False
    lengths = sorted(len(strip_marks(line.text).strip()) for line in lines)
    width = lengths[int(len(lengths) * 0.95) - 1]
    near_width = sum(width * 0.75 <= length <= width for length in lengths)
    return width in WRAP_WIDTHS and near_width >= len(lengths) / 2


def unwrapped(lines: list[TextLine]) -> list[TextLine]:
    """Join the lines of each paragraph: a paragraph ends at a blank line, a short line, an
    indented line after it, or a scene break."""
    width = max(len(strip_marks(line.text).strip()) for line in lines)
    groups: list[list[TextLine]] = []
    for line in lines:
        if groups and _continues(groups[-1][-1], line, width):
            groups[-1].append(line)
        else:
            groups.append([line])
    return [_joined(group) for group in groups]


def _continues(before: TextLine, line: TextLine, width: int) -> bool:
    """Whether line carries on the hard-wrapped paragraph that before ends; a line of nothing but
    note references is a note paragraph of its own, never a continuation."""
    return (
        line.number == before.number + 1
        and bool(strip_marks(line.text).strip())
        and len(strip_marks(before.text).strip()) >= width * 0.6
        and not line.text[:1].isspace()
        and not is_scene_break(strip_marks(line.text))
        and not is_scene_break(strip_marks(before.text))
        and image_index(line.text) is None
        and image_index(before.text) is None
    )


def _joined(group: list[TextLine]) -> TextLine:
    spans: list[Span] = []
    for line in group:
        spans += [" "] * bool(spans) + list(_strip_spans(line.spans))
    return TextLine(group[0].number, tuple(spans))


_STRONG = re.compile(r"(?<![\w*])\*\*(?=\S)([^*\n]+?)(?<=\S)\*\*(?![\w*])")
_EMPHASIS = re.compile(r"(?<![\w*])\*(?=\S)([^*\n]+?)(?<=\S)\*(?![\w*])|(?<![\w])_(?=\S)([^_\n]+?)(?<=\S)_(?![\w])")


def _emphasised(block: Block) -> Block:
    """Plain-text emphasis as marks: `**strong**`, `*em*`, `_em_` (not inside words: snake_case stays)."""
    if not isinstance(block, Paragraph):
        return block
    spans = tuple(_emphasis_marks(span) if isinstance(span, str) else span for span in block.spans)
    return Paragraph(spans)


def _emphasis_marks(text: str) -> str:
    if "*" not in text and "_" not in text:
        return text
    text = _STRONG.sub(lambda m: f"{STRONG_OPEN}{m[1]}{STRONG_CLOSE}", text)
    return _EMPHASIS.sub(lambda m: f"{EM_OPEN}{m[1] or m[2]}{EM_CLOSE}", text)


def _blocks(lines: list[TextLine]) -> tuple[Block, ...]:
    """One paragraph per non-blank line; runs of scene-break lines become one break, none at either end.

    Most lines are plain text: which lines may be a scene break or an image line, and whether
    any line has spaces to collapse, is first looked for in all the lines at once, and the lines
    between those that may be something else become paragraphs a run at a time.
    """
    joined = joined_lines(lines)
    may_be_other = range(len(lines)) if joined is None else sorted(_lines_that_may_break_or_picture(joined))
    collapse = joined is None or _may_hold_space_runs(joined)
    blocks: list[Block] = []
    done = 0
    for index in may_be_other:
        blocks += _paragraphs(lines[done:index], collapse)
        done = index + 1
        line = lines[index]
        text = line.text
        picture = image_index(text)
        if picture is not None:
            blocks.append(Picture(picture))
        elif is_scene_break(strip_marks(text)):
            if blocks and not isinstance(blocks[-1], SceneBreak):
                blocks.append(SceneBreak())
        else:
            blocks.append(Paragraph(_strip_spans(line.spans, collapse)))
    blocks += _paragraphs(lines[done:], collapse)
    if blocks and isinstance(blocks[-1], SceneBreak):
        blocks.pop()
    return tuple(blocks)


def _paragraphs(lines: list[TextLine], collapse: bool) -> list[Block]:
    return [Paragraph(_strip_spans(line.spans, collapse)) for line in lines]


def _lines_that_may_break_or_picture(joined: str) -> set[int]:
    """The indices of the lines (joined by joined_lines) whose first character after white space,
    emphasis marks left out, is one a scene break or an image line starts with: only they can be either."""
    plain = strip_marks(joined)
    return line_indices(plain, [match.start() + 1 for match in _MAY_BREAK_OR_PICTURE.finditer(plain)])


def joined_lines(lines: Sequence[Line] | Sequence[TextLine]) -> str | None:
    """The lines' text with a line break before each line, for a search over all of them at once;
    None when a line holds a line break of its own."""
    joined = "\n".join(["", *(line.text for line in lines)])
    return joined if joined.count("\n") == len(lines) else None


def occurrences(text: AnyStr, needle: AnyStr) -> list[int]:
    """Where needle starts in text, every time (searches in C, one per occurrence)."""
    found, offset = [], text.find(needle)
    while offset >= 0:
        found.append(offset)
        offset = text.find(needle, offset + 1)
    return found


def line_indices(joined: AnyStr, positions: list[int]) -> set[int]:
    """The indices of the lines holding the positions in joined (from joined_lines, or bytes joined
    the same way), counted in one pass over the text however many positions there are."""
    newline = "\n" if isinstance(joined, str) else b"\n"
    found: set[int] = set()
    line, counted = -1, 0
    for position in sorted(positions):
        line += joined.count(newline, counted, position)  # type: ignore[arg-type]
        counted = position
        found.add(line)
    return found


_SPACE_RUN = re.compile(r"[ \t\u3000]{2,}")
_IDEOGRAPHIC_SPACE = re.compile("\u3000")


def _may_hold_space_runs(text: str) -> bool:
    """Substring tests, as most lines (and chapters) have no run of spaces to collapse. In text beyond
    Latin-1, `in` looks for U+3000 by its low byte, 0, which every ASCII character holds: a regex
    search is several times faster there."""
    return "  " in text or "\t" in text or _IDEOGRAPHIC_SPACE.search(text) is not None


def _collapse_spaces(text: str) -> str:
    """Runs of spaces, tabs and ideographic spaces as one space."""
    return _SPACE_RUN.sub(" ", text) if _may_hold_space_runs(text) else text


def _strip_spans(spans: tuple[Span, ...], collapse: bool = True) -> tuple[Span, ...]:
    """Trim the whitespace at both ends of a line and collapse inner runs of spaces (with collapse:
    False when the line is known to have none). The common case first: one string, most often
    with nothing to trim, when the spans themselves are returned (no new tuple for each line)."""
    if len(spans) == 1 and type(spans[0]) is str:
        text = (_collapse_spaces(spans[0]) if collapse else spans[0]).strip()
        if not text:
            return ()
        return spans if text is spans[0] else (text,)
    cleaned = [_collapse_spaces(span) if collapse and isinstance(span, str) else span for span in spans]
    if cleaned and isinstance(cleaned[0], str):
        cleaned[0] = cleaned[0].lstrip()
    if cleaned and isinstance(cleaned[-1], str):
        cleaned[-1] = cleaned[-1].rstrip()
    return tuple(span for span in cleaned if span != "")
