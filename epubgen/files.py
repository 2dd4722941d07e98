"""Read a file the user or a page names, guarded: a regular file only, inside a folder when one is
given, never more than a size cap. Devices, FIFOs, sockets and names with a NUL byte are refused
without being opened."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from epubgen.errors import InputError
from epubgen.names import printable

MAX_IMAGE_BYTES = 64 * 1024 * 1024
"""The largest cover or page image read: far above any real illustration."""

MAX_STYLESHEET_BYTES = 4 * 1024 * 1024
"""The largest stylesheet read."""


def read_regular_file(path: Path, what: str, limit: int, inside: Path | None = None) -> bytes:
    """The bytes of path, or an InputError saying in one line why they cannot be had.

    With inside, the file must lie in that folder once every symlink is resolved.
    """
    if "\x00" in str(path):
        raise InputError(f"{printable(str(path))}: {what} refused (a NUL byte in its name)")
    try:
        resolved = path.resolve(strict=True)
    except (OSError, RuntimeError):
        raise InputError(f"{printable(str(path))}: {what} not found") from None
    if inside is not None and not resolved.is_relative_to(inside.resolve()):
        raise InputError(f"{printable(str(path))}: {what} refused (outside the input folder)")
    try:
        status = resolved.stat()
    except OSError as error:
        raise InputError(f"{printable(str(path))}: cannot read the {what} ({error.strerror})") from None
    if not stat.S_ISREG(status.st_mode):
        raise InputError(f"{printable(str(path))}: {what} refused (not a regular file)")
    if status.st_size > limit:
        raise InputError(f"{printable(str(path))}: {what} refused (larger than {limit // (1024 * 1024)} MB)")
    try:
        descriptor = os.open(resolved, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0))
    except OSError as error:
        raise InputError(f"{printable(str(path))}: cannot read the {what} ({error.strerror})") from None
    with os.fdopen(descriptor, "rb") as file:
        if not stat.S_ISREG(os.fstat(file.fileno()).st_mode):
            raise InputError(f"{printable(str(path))}: {what} refused (not a regular file)")
        data = file.read(limit + 1)
    if len(data) > limit:
        raise InputError(f"{printable(str(path))}: {what} refused (larger than {limit // (1024 * 1024)} MB)")
    return data

