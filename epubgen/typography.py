"""Stage 5: typographic refinements of the running text (quotes, dashes, ellipses)."""

from __future__ import annotations

from epubgen.model import Chapter


def refine(chapter: Chapter) -> Chapter:
    """Return the chapter with its typography refined. Nothing is changed yet."""
    return chapter
