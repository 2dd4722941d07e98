"""Stage 3: take translator, editor and author notes out of the running text."""

from __future__ import annotations

from epubgen.model import NotedChapter, SourceChapter, TextLine


def extract_notes(chapter: SourceChapter) -> NotedChapter:
    """Split the chapter's notes from its text.

    No note forms are recognised yet: every line is running text.
    """
    return NotedChapter(
        source=chapter.source,
        lines=tuple(TextLine(line.number, (line.text,)) for line in chapter.lines),
    )
