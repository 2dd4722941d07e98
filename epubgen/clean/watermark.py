"""Find hosting-site watermarks however they are disguised.

A line is reduced to a skeleton: NFKC (folds full-width and mathematical letters), look-alike
letters folded to ASCII, zero-width characters and separators dropped, `(dot)`/`[.]` read as a
dot, `0` read as `o`. Site names are searched in the skeleton, so one name catches every disguise.

A name found in the skeleton is a watermark when it carries a domain ending (`novelbin.com`)
or when it was disguised in the original (`n/o/v/e/l/b/i/n`); a plain `webnovel` in a sentence
is prose. The watermark then takes the words around it that belong to it (`Read latest chapters
at …`); if nothing else is left, the whole line goes, else only that fragment.
"""

from __future__ import annotations

import re
import tomllib
import unicodedata
from dataclasses import dataclass
from functools import cache
from importlib import resources

RULE_ID = "watermarks:site-name"

# Cyrillic and Greek letters that look like Latin ones, and digits used as letters.
_LOOKALIKES = str.maketrans(
    {
        "а": "a", "в": "b", "с": "c", "е": "e", "ё": "e", "һ": "h", "і": "i", "ј": "j", "к": "k", "м": "m",
        "н": "h", "о": "o", "р": "p", "ѕ": "s", "т": "t", "у": "y", "х": "x", "ԁ": "d", "ԛ": "q", "ԝ": "w",
        "α": "a", "β": "b", "ε": "e", "ι": "i", "κ": "k", "ν": "v", "ο": "o", "ρ": "p", "τ": "t", "υ": "u",
        "χ": "x", "0": "o",
    }
)
_ZERO_WIDTH = "\u200b\u200c\u200d\u2060\ufeff\u00ad\u180e\u2061\u2062\u2063\u2064"
_DOT_WORD = r"[\(\[\{（【]\s*(?:dot|\.|。|点)\s*[\)\]\}）】]|(?<![a-z])dot(?![a-z])"
_DOT = re.compile(_DOT_WORD, re.IGNORECASE)
_WORD = re.compile(r"[^\s.!?。！？]+")
_NOT_SKELETON = re.compile(r"[^a-z0-9.]+")
_LOOKALIKE_CHARACTER = re.compile("[" + "".join(chr(code) for code in _LOOKALIKES if chr(code).isalpha()) + "]")
_ASCII_FOLD = bytes.maketrans(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0", b"abcdefghijklmnopqrstuvwxyzo")
_NOT_LETTER_OR_BREAK = bytes(code for code in range(128) if not (chr(code).isalpha() or code in b"0\n"))
"""What lines_with_site_names drops: every ASCII character but letters, 0 (read as o) and line breaks."""
_NOT_ASCII_LETTER_OR_BREAK = _NOT_LETTER_OR_BREAK + bytes(range(128, 256))
"""The same, and in UTF-8 every byte of a character beyond ASCII."""
_LOOKALIKE_LEADS = tuple(sorted({chr(code).encode()[:1] for code in _LOOKALIKES if code > 127}))
"""The first UTF-8 bytes of the look-alike letters: a text holding none of them holds no look-alike."""
_WATERMARK_WORDS = frozenset(
    "read latest new chapters chapter at on by visit visiting find this is was updated uploaded from the only "
    "please more free online exclusively first original source content go to check out via www http https "
    "novel novels translation translated and for faster updates".split()
)
_AFTER_NAME = re.compile(
    r"(?:[\s/)\]】）>]*(?:only|for visiting|for (?:the )?(?:best|latest|faster) [a-z ]{0,40}|first))?[\s.!)\]】）>]*",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Watermark:
    start: int
    end: int


@cache
def _sites() -> tuple[re.Pattern[str], frozenset[str]]:
    data = tomllib.loads(resources.files("epubgen.clean").joinpath("rules/watermarks.toml").read_text(encoding="utf-8"))
    names = sorted(data["sites"], key=len, reverse=True)
    domains = "|".join(sorted(data["domains"], key=len, reverse=True))
    pattern = re.compile(rf"(?P<name>{'|'.join(names)})(?P<domain>\.(?:{domains}))?")
    return pattern, frozenset(data["sites"])


def site_examples() -> tuple[str, ...]:
    data = tomllib.loads(resources.files("epubgen.clean").joinpath("rules/watermarks.toml").read_text(encoding="utf-8"))
    return tuple(data["examples"])


def may_hold_watermarks(text: str) -> bool:
    """Whether any site name is in the text's skeleton: one quick look at a whole chapter spares
    the line-by-line search in the (common) chapters that hold none."""
    pattern, _ = _sites()
    return pattern.search(_quick_skeleton(text)) is not None


def lines_with_site_names(text: str, lowered: str | None = None) -> set[int]:
    """The indices of the lines of text (split at "\\n") that may hold a site name: every line in
    which find_watermarks can find anything is among them, and few others are. lowered, when
    given, is text.lower() (the caller has it already).

    One pass over a whole chapter instead of a skeleton per line: the text is folded as for the
    skeleton (NFKC, lower case, look-alikes), then reduced to its ASCII letters and line breaks
    with C-speed byte operations, and searched for a few short anchors, one of which every site
    name holds. Whatever a skeleton drops between two letters is dropped here too, so a name in a
    line's skeleton is still whole here; NFKC and lower() never move a character across a line break.
    """
    if text.isascii():
        letters = text.encode("ascii").translate(_ASCII_FOLD, _NOT_LETTER_OR_BREAK)
    else:
        normalized = unicodedata.normalize("NFKC", text)  # text itself when it is NFKC already
        folded = lowered if lowered is not None and normalized is text else normalized.lower()
        encoded = folded.encode("utf-8", "surrogatepass")
        if any(lead in encoded for lead in _LOOKALIKE_LEADS) and _LOOKALIKE_CHARACTER.search(folded):
            encoded = folded.translate(_LOOKALIKES).encode("utf-8", "surrogatepass")
        letters = encoded.translate(_ASCII_FOLD, _NOT_ASCII_LETTER_OR_BREAK)
    lines = set()
    for anchor in _anchors():
        found = letters.find(anchor)
        while found >= 0:
            lines.add(letters.count(b"\n", 0, found))
            found = letters.find(anchor, found + 1)
    return lines


@cache
def _anchors() -> tuple[bytes, ...]:
    """A few substrings of the site names such that every name holds one (`novel`, `royalroad`, ...):
    chosen greedily, the one in most names (then the longest) first."""
    _, names = _sites()
    uncovered = set(names)
    anchors = []
    while uncovered:
        pieces = {name[i : i + size] for name in uncovered for size in range(4, len(name) + 1) for i in range(len(name) - size + 1)}
        if not pieces:  # a name shorter than 4 letters is its own anchor
            anchors += sorted(uncovered)
            break
        best = max(sorted(pieces), key=lambda piece: (sum(piece in name for name in uncovered), len(piece)))
        anchors.append(best)
        uncovered = {name for name in uncovered if best not in name}
    return tuple(anchor.encode("ascii") for anchor in anchors)


def find_watermarks(text: str) -> list[Watermark]:
    """The spans of text that are watermarks, with the words that belong to them."""
    pattern, _ = _sites()
    if pattern.search(_quick_skeleton(text)) is None:
        return []
    skeleton, origins = _skeleton(text)
    marks = []
    for match in pattern.finditer(skeleton):
        start, end = origins[match.start()], origins[match.end() - 1] + 1
        if match["domain"] or _disguised(text, start, end, match["name"]):
            marks.append(_extend(text, start, end))
    return marks


def _quick_skeleton(text: str) -> str:
    """The skeleton without positions: C-speed string operations only, for the common no-match case."""
    folded = unicodedata.normalize("NFKC", text).lower().translate(_LOOKALIKES)
    return _NOT_SKELETON.sub("", _DOT.sub(".", folded))


def _skeleton(text: str) -> tuple[str, list[int]]:
    """The skeleton, and for each of its characters the index of the original character it came from.

    Each dot word becomes a dot; each other character is folded on its own (NFKC, lower case,
    look-alikes) and gives the letters, ASCII digits and dots of its folding. Between dot words,
    when no character folds to more than one of those (a ligature does), the text is folded with
    one translate() and the skeleton read off in runs, instead of character by character.
    """
    chars: list[str] = []
    origins: list[int] = []
    cursor = 0
    for dot in _DOT.finditer(text):
        _add_folded(text, cursor, dot.start(), chars, origins)
        chars.append(".")
        origins.append(dot.start())
        cursor = dot.end()
    _add_folded(text, cursor, len(text), chars, origins)
    return "".join(chars), origins


def _add_folded(text: str, start: int, end: int, chars: list[str], origins: list[int]) -> None:
    """Add the skeleton of text[start:end] (no dot word in it), with its origins, to chars and origins."""
    try:
        folded = text[start:end].translate(_ONE_FOR_ONE)
    except _SeveralKept:
        for index in range(start, end):
            for char in _kept(text[index]):
                chars.append(char)
                origins.append(index)
        return
    for run in _SKELETON_RUN.finditer(folded):
        chars.append(run[0])
        origins.extend(range(start + run.start(), start + run.end()))


_SKELETON_RUN = re.compile(r"[a-z0-9.]+")


@cache
def _kept(char: str) -> str:
    """What the skeleton keeps of one character: the letters, ASCII digits and dots of its folding."""
    folded = unicodedata.normalize("NFKC", char).lower().translate(_LOOKALIKES)
    return "".join(kept for kept in folded if kept == "." or "a" <= kept <= "z" or kept.isdigit() and kept.isascii())


class _SeveralKept(Exception):
    """A character the skeleton keeps more than one character of: text with it is folded one by one.
    Not a LookupError, which translate() would take as "leave the character as it is"."""


class _OneForOne(dict):
    """A translate() table giving each character the one the skeleton keeps of it, or a space for
    none (never in a skeleton); made as characters are met."""

    def __missing__(self, code: int) -> str:
        kept = _kept(chr(code))
        if len(kept) > 1:
            raise _SeveralKept
        self[code] = kept or " "
        return self[code]


_ONE_FOR_ONE = _OneForOne()


def _disguised(text: str, start: int, end: int, name: str) -> bool:
    """Written other than plainly: look-alikes, zero-width characters, separators inside the name.

    The plain name inside a longer word (`novel binder`) is not a disguise of it.
    """
    original = text[start:end]
    if original.lower() == name:
        return False
    if any(char in _ZERO_WIDTH or not char.isascii() for char in original):
        return True
    separators = sum(1 for char in original if not char.isalnum())
    spaced_words = original.count(" ")
    touches_word = (start > 0 and text[start - 1].isalpha()) or (end < len(text) and text[end].isalpha())
    return not touches_word and (separators - spaced_words > 0 or spaced_words >= 3)


def _extend(text: str, start: int, end: int) -> Watermark:
    """Take in the words before the name that belong to the notice (`Read latest chapters at`) and what follows it."""
    end += _AFTER_NAME.match(text, end).end() - end
    words = list(_WORD.finditer(text[:start]))
    for word in reversed(words):
        bare = word[0].strip(":-|()[]【】（）<>").lower()
        if bare not in _WATERMARK_WORDS:
            break
        start = word.start()
    return Watermark(start, end)
