"""Recognise chapter heading lines: `Chapter 12: Title`, `Vol. 2 Ch. 3 - Title`, `Prologue`, `第12章 标题`.

Used by the reader (to split a one-file series at its headings) and by the structure
stage (to title each chapter), so both agree on what a heading is.
"""

from __future__ import annotations

import re
from decimal import Decimal

from epubgen.model import Heading

MAX_HEADING_LENGTH = 150

_SEPARATOR = r"\s*[:：\-–—.|]\s*"
_VOLUME = r"(?:vol(?:ume)?\.?|book)\s*(?P<volume>\d+|[ivxlc]+)\b"
_CHAPTER_WORD = r"(?:chapter|chap\.?|ch\.?)"

_NUMBERED = re.compile(
    rf"^(?:{_VOLUME}(?:{_SEPARATOR}|\s+))?"
    rf"{_CHAPTER_WORD}\s*(?P<number>\d+(?:\.\d+)?)\b"
    rf"(?:(?P<sep>{_SEPARATOR})|\s+|$)(?P<title>.*)$",
    re.IGNORECASE,
)
_SPECIAL = re.compile(
    r"^(?P<kind>prologue|epilogue|interlude|afterword|side\s*story|extra|bonus\s+chapter|special\s+chapter)"
    r"(?:\s+(?P<number>\d+))?\b"
    rf"(?:(?P<sep>{_SEPARATOR})|\s+|$)(?P<title>.*)$",
    re.IGNORECASE,
)
_CJK_NUMBER = r"[0-9０-９零〇一二两三四五六七八九十百千]+"
_CJK = re.compile(
    rf"^(?:第\s*(?P<volume>{_CJK_NUMBER})\s*[卷部]\s*)?"
    rf"第\s*(?P<number>{_CJK_NUMBER})\s*[章节回话話]"
    r"(?:\s*[:：\-–—.、]?\s*)(?P<title>.*)$"
)
_VOLUME_MARKER = re.compile(
    rf"^{_VOLUME}(?:(?P<sep>{_SEPARATOR})|\s+|$)(?P<title>.*)$",
    re.IGNORECASE,
)
_CJK_VOLUME_MARKER = re.compile(rf"^第\s*(?P<volume>{_CJK_NUMBER})\s*[卷部](?:\s*[:：\-–—.、]?\s*)(?P<title>.*)$")
_PART = re.compile(r"\s*[(\[（]?\s*part\s*(?P<part>\d+)\s*[)\]）]?\s*$", re.IGNORECASE)

_CANNOT_START = frozenset(chr(code) for code in range(128)) - frozenset("VvBbCcPpEeIiAaSs")
"""ASCII characters no heading starts with: the patterns above start with `vol`/`book`, `ch`,
one of the special kinds or `第` (any case); most story lines are turned away by this one look."""

_ROMAN = {"i": 1, "v": 5, "x": 10, "l": 50, "c": 100}
_CJK_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_CJK_UNITS = {"十": 10, "百": 100, "千": 1000}


def parse_heading(line: str) -> Heading | None:
    """Parse one line as a chapter heading, or return None if it is not one.

    >>> parse_heading("Chapter 12: The Storm").label
    'Chapter 12: The Storm'
    >>> parse_heading("Vol. 2 Ch. 3 - Homecoming (Part 2)")
    Heading(kind='chapter', number=Decimal('3'), title='Homecoming', volume=2, part=2)
    >>> parse_heading("Chapter 3 of the statutes says otherwise.") is None
    True
    """
    line = line.strip()
    if not line or len(line) > MAX_HEADING_LENGTH:
        return None
    if line[0] in _CANNOT_START:
        return None
    for parse in (_parse_numbered, _parse_special, _parse_cjk):
        heading = parse(line)
        if heading is not None:
            return heading
    return None


def parse_volume_marker(line: str) -> tuple[int, str] | None:
    """A line that opens a volume: `Volume 3: The Sea`, `Book 2`, `Vol. IV`, `第三卷 海` -> (number, title).

    >>> parse_volume_marker("Volume 3: The Sea")
    (3, 'The Sea')
    >>> parse_volume_marker("Volume 3 Chapter 1: Ashes") is None
    True
    """
    line = line.strip()
    if not line or len(line) > MAX_HEADING_LENGTH or parse_heading(line) is not None:
        return None
    match = _VOLUME_MARKER.match(line)
    if match is not None and _plausible_title(match):
        return _roman_or_int(match["volume"]), match["title"].strip()
    match = _CJK_VOLUME_MARKER.match(line)
    if match is not None:
        return _cjk_to_int(match["volume"]), match["title"].strip()
    return None


def _parse_numbered(line: str) -> Heading | None:
    match = _NUMBERED.match(line)
    if match is None or not _plausible_title(match):
        return None
    title, part = _split_part(match["title"])
    volume = match["volume"]
    return Heading(
        kind="chapter",
        number=Decimal(match["number"]),
        title=title,
        volume=_roman_or_int(volume) if volume else None,
        part=part,
    )


def _parse_special(line: str) -> Heading | None:
    match = _SPECIAL.match(line)
    if match is None or not _plausible_title(match):
        return None
    kind = re.sub(r"\s+", " ", match["kind"].lower())
    if kind == "sidestory":
        kind = "side story"
    title, part = _split_part(match["title"])
    number = match["number"]
    return Heading(kind=kind, number=Decimal(number) if number else None, title=title, part=part)


def _parse_cjk(line: str) -> Heading | None:
    match = _CJK.match(line)
    if match is None:
        return None
    volume = match["volume"]
    return Heading(
        kind="chapter",
        number=Decimal(_cjk_to_int(match["number"])),
        title=match["title"].strip(),
        volume=_cjk_to_int(volume) if volume else None,
    )


def _plausible_title(match: re.Match[str]) -> bool:
    """Reject prose that merely starts like a heading: `Chapter 3 of the statutes says…`.

    Without a separator after the number, a title must not start in lower case, and a
    heading never ends in the middle of a sentence with a comma.
    """
    title = match["title"].strip()
    if not title:
        return True
    if match["sep"] is None and title[0].islower():
        return False
    return not title.endswith((",", ";"))


def _split_part(title: str) -> tuple[str, int | None]:
    title = title.strip()
    match = _PART.search(title)
    if match is None:
        return title, None
    return title[: match.start()].rstrip(" -–—:"), int(match["part"])


def _roman_or_int(text: str) -> int:
    if text.isdigit():
        return int(text)
    values = [_ROMAN[c] for c in text.lower()]
    return sum(-v if i + 1 < len(values) and v < values[i + 1] else v for i, v in enumerate(values))


def _cjk_to_int(text: str) -> int:
    """`12`, `１２`, `十二`, `一百零五`, `两千` -> int."""
    text = text.translate({ord("０") + d: str(d) for d in range(10)})
    if text.isdigit():
        return int(text)
    total, digit = 0, 0
    for char in text:
        if char in _CJK_DIGITS:
            digit = _CJK_DIGITS[char]
        else:
            total += (digit or 1) * _CJK_UNITS[char]
            digit = 0
    return total + digit
