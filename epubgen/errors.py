"""The exceptions epubgen raises on purpose: each carries a one-line message for the user."""


class EpubgenError(Exception):
    """Base class: the CLI prints `error: <message>` and exits non-zero, never a traceback."""


class InputError(EpubgenError):
    """The input folder or one of its chapter files cannot be used."""


class ConfigError(EpubgenError):
    """book.toml or a command-line option is wrong."""


class OutputError(EpubgenError):
    """The book cannot be written where it was asked to go."""
