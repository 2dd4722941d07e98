"""Stage 3: take translator, editor and author notes out of the running text."""

from __future__ import annotations

from epubgen.config import NotesConfig
from epubgen.model import NotedChapter, Removal, SourceChapter, TextLine


def extract_notes(chapter: SourceChapter, config: NotesConfig) -> tuple[NotedChapter, tuple[Removal, ...]]:
    """Split the chapter's notes from its text; notes that are dropped are returned as removals.

    No note forms are recognised yet: every line is running text.
    """
    lines = tuple(TextLine(line.number, (line.text,)) for line in chapter.lines)
    return NotedChapter(source=chapter.source, lines=lines), ()
