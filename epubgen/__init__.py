"""epubgen: turn downloaded web-novel chapters into clean, valid EPUB 3 books.

The public API: build() writes a book, make_book() returns it unwritten. Its names are loaded when
first used, so that `epubgen` starts, and a Ctrl-C while it starts ends it, without a traceback
(epubgen.__main__).
"""

from importlib import import_module
from typing import Any

_WHERE = {
    "Book": "epubgen.model",
    "BookConfig": "epubgen.config",
    "BuildResult": "epubgen.builder",
    "Chapter": "epubgen.model",
    "ConfigError": "epubgen.errors",
    "EpubgenError": "epubgen.errors",
    "Heading": "epubgen.model",
    "InputError": "epubgen.errors",
    "Metadata": "epubgen.model",
    "OutputError": "epubgen.errors",
    "build": "epubgen.builder",
    "load_config": "epubgen.config",
    "make_book": "epubgen.builder",
}

__all__ = sorted(_WHERE)


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module 'epubgen' has no attribute {name!r}")
    return getattr(import_module(_WHERE[name]), name)
