"""Inline emphasis inside text lines, as marks that travel through every stage as characters.

The marks are Unicode noncharacters, which the reader strips from every input (XML
discourages them), so text can never hold one by accident. Stages that match text (the
cleaner's rules) compare it without marks; the packager turns them into <em> and <strong>.
"""

from __future__ import annotations

EM_OPEN = "\ufdd0"
EM_CLOSE = "\ufdd1"
STRONG_OPEN = "\ufdd2"
STRONG_CLOSE = "\ufdd3"
MARKS = EM_OPEN + EM_CLOSE + STRONG_OPEN + STRONG_CLOSE
IMAGE = "\ufdd4"
"""A line `IMAGE + n` stands for the chapter's n-th illustration."""
_NO_MARKS = str.maketrans("", "", MARKS)


def image_line(index: int) -> str:
    return f"{IMAGE}{index}"


def image_index(text: str) -> int | None:
    """The illustration a line stands for, if it is an image line."""
    text = text.strip()
    return int(text[1:]) if text.startswith(IMAGE) and text[1:].isdigit() else None


def strip_marks(text: str) -> str:
    """The text without emphasis marks.

    Most lines hold none, and str.translate is slow on non-ASCII text: look before translating.
    """
    if EM_OPEN in text or EM_CLOSE in text or STRONG_OPEN in text or STRONG_CLOSE in text:
        return text.translate(_NO_MARKS)
    return text
