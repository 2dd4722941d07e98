"""Stage 6: package a Book as an EPUB 3 file."""

from epubgen.package.epub import write_epub

__all__ = ["write_epub"]
