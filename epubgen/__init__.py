"""epubgen: turn downloaded web-novel chapters into clean, valid EPUB 3 books.

The public API: build() writes a book, make_book() returns it unwritten.
"""

from epubgen.build import BuildResult, build, make_book
from epubgen.config import BookConfig, load_config
from epubgen.errors import ConfigError, EpubgenError, InputError, OutputError
from epubgen.model import Book, Chapter, Heading, Metadata

__all__ = [
    "Book",
    "BookConfig",
    "BuildResult",
    "Chapter",
    "ConfigError",
    "EpubgenError",
    "Heading",
    "InputError",
    "Metadata",
    "OutputError",
    "build",
    "load_config",
    "make_book",
]
