"""Stage 2: remove site boilerplate from the chapters, recording every removal."""

from __future__ import annotations

from epubgen.model import Removal, SourceChapter


def clean(chapters: tuple[SourceChapter, ...]) -> tuple[tuple[SourceChapter, ...], tuple[Removal, ...]]:
    """Return the chapters without their boilerplate, and the record of what was removed.

    No rules exist yet: every chapter passes through unchanged.
    """
    return chapters, ()
