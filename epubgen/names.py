"""File names and messages as text: the same whatever the locale, and on one line."""

from __future__ import annotations

import os
import re


def shown_name(name: str) -> str:
    """A file name as text that can be shown on one line and written into a book, the same whatever
    the locale: its bytes read as UTF-8 (those that are not become U+FFFD), then made printable."""
    return printable(_name_bytes(name).decode("utf-8", "replace"))


def name_text(name: str) -> str:
    """A file name as UTF-8 text whatever the locale (which decides how Python decodes names): bytes
    of the name that are not UTF-8 stay lone surrogates, so that no two names read the same."""
    return _name_bytes(name).decode("utf-8", "surrogateescape")


def _name_bytes(name: str) -> bytes:
    """The bytes a name from the file system is made of (a name from elsewhere, as UTF-8)."""
    try:
        return os.fsencode(name)
    except UnicodeEncodeError:
        return name.encode("utf-8", "surrogatepass")


_UNPRINTABLE = re.compile(
    "[\x00-\x08\x0e-\x1b\x7f-\x84\x86-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\ud800-\udfff\ufdd0-\ufdef"
    + "".join(f"{chr(plane + 0xFFFE)}{chr(plane + 0xFFFF)}" for plane in range(0, 0x110000, 0x10000))
    + "]"
)
_LINE_BREAKING = re.compile("[\t\n\v\f\r\x1c-\x1f\x85\u2028\u2029]")


def printable(text: str) -> str:
    """Text that prints as one line and is safe in a book: line breaks and tabs become spaces;
    other control characters, bidi controls, lone surrogates and noncharacters become U+FFFD."""
    return _UNPRINTABLE.sub("\ufffd", _LINE_BREAKING.sub(" ", text))
