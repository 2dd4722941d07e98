"""Stage 1: find the chapter files of an input and read them into SourceChapters."""

from epubgen.read.text import read_input

__all__ = ["read_input"]
