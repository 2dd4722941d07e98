"""Write a file all or nothing: to a temporary file beside it, then rename over it."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from epubgen.errors import OutputError


def write_atomically(path: Path, write: Callable[[BinaryIO], None]) -> None:
    """Call write() on a temporary file in path's folder and rename it to path when it returns.

    A failure, or a kill, part-way leaves whatever was at path before untouched.
    """
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    except OSError as error:
        raise OutputError(f"{path}: cannot write here ({error.strerror})") from None
    try:
        with os.fdopen(descriptor, "wb") as file:
            write(file)
            file.flush()
            os.fsync(file.fileno())
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except OSError as error:
        os.unlink(temporary)
        raise OutputError(f"{path}: cannot write the file ({error.strerror})") from None
    except BaseException:
        os.unlink(temporary)
        raise
