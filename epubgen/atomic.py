"""Write a file all or nothing: to a temporary file beside it, then rename over it.

Only a regular file is ever replaced: a device, a FIFO, a socket or a folder at the path is refused.
A symlink is refused too, unless the caller follows it (writable_file: a path the user named), to
the file it points to, which is then replaced (or made), the link kept: a symlink planted in an
output folder never leads a write outside it.
"""

from __future__ import annotations

import os
import re
import stat
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from epubgen.errors import OutputError

STALE_PART_SECONDS = 60
"""How long a temporary file must have been left alone, its writer gone, to be taken for one a killed write left."""


def write_atomically(path: Path, write: Callable[[BinaryIO], None]) -> None:
    """Call write() on a temporary file in path's folder and rename it to path when it returns.

    A failure, or a kill, part-way leaves whatever was at path before untouched.
    """
    staged_write(path, write).commit()


def staged_write(path: Path, write: Callable[[BinaryIO], None]) -> Staged:
    """Call write() on a temporary file beside the file path names (writable_file), synced to disk:
    in place once committed. The parts killed writes of the same file left are removed first."""
    writable_folder(path.parent)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise OutputError(f"{path}: cannot write here ({error.strerror})") from None
    target = writable_file(path)
    _remove_stale_parts(target)
    try:
        descriptor, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.{os.getpid()}.", suffix=".part")
    except OSError as error:
        raise OutputError(f"{path}: cannot write here ({error.strerror})") from None
    staged = Staged(path, target, Path(temporary))
    with staged.discarded_on_failure():
        with os.fdopen(descriptor, "wb") as file:
            write(file)
            file.flush()
            os.fsync(file.fileno())
        os.chmod(temporary, 0o644)
    return staged


@dataclass(frozen=True)
class Staged:
    """A file written in full beside the file it is to replace, not yet in its place."""

    path: Path
    """The path it was asked for, as named."""
    target: Path
    """The file it replaces: path, its symlinks resolved."""
    temporary: Path

    def commit(self) -> None:
        """Rename it over its target (still a regular file, or nothing)."""
        with self.discarded_on_failure():
            writable_file(self.path)
            os.replace(self.temporary, self.target)

    @contextmanager
    def discarded_on_failure(self) -> Iterator[None]:
        """The temporary file removed if the block fails; an OSError as an OutputError naming the path."""
        try:
            yield
        except OSError as error:
            self.discard()
            raise OutputError(f"{self.path}: cannot write the file ({error.strerror})") from None
        except BaseException:
            self.discard()
            raise

    def discard(self) -> None:
        with suppress(FileNotFoundError):
            os.unlink(self.temporary)


def writable_file(path: Path, follow_symlinks: bool = False) -> Path:
    """The file a write to path replaces, or makes. OutputError when something else than a regular
    file is there, or a symlink unless follow_symlinks: then path's symlinks are resolved (a dangling
    one leads to where the file is made)."""
    if not follow_symlinks:
        try:
            if stat.S_ISLNK(os.lstat(path).st_mode):
                raise OutputError(f"{path}: a symlink, not followed (name it with -o to write where it leads)")
        except (FileNotFoundError, NotADirectoryError):
            pass
        except OSError as error:
            raise OutputError(f"{path}: cannot write here ({error.strerror})") from None
    try:
        target = path.resolve()
    except (OSError, RuntimeError):
        raise OutputError(f"{path}: cannot write here (a loop of symlinks)") from None
    try:
        status = os.stat(target)
    except FileNotFoundError:
        return target
    except OSError as error:
        raise OutputError(f"{path}: cannot write here ({error.strerror})") from None
    if not stat.S_ISREG(status.st_mode):
        raise OutputError(f"{path}: not a regular file, not replaced")
    return target


def writable_folder(folder: Path) -> None:
    """OutputError unless folder is a folder, or can be made one: the nearest of its ancestors
    that exists is a folder."""
    for ancestor in (folder, *folder.parents):
        try:
            status = os.stat(ancestor)
        except (FileNotFoundError, NotADirectoryError):
            continue
        except OSError as error:
            raise OutputError(f"{ancestor}: cannot write here ({error.strerror})") from None
        if not stat.S_ISDIR(status.st_mode):
            raise OutputError(f"{ancestor}: not a folder")
        return


def _remove_stale_parts(target: Path) -> None:
    """Remove the temporary files of target that killed writes left: of staged_write's naming
    (.<name>.<pid>.<8 characters>.part), whose writer is no live process here and which have not
    been written to for STALE_PART_SECONDS. Both, so that a part another build is writing is kept:
    a build here is alive, and one in another process space (a container sharing the folder), whose
    pid says nothing here, writes to its part as it goes."""
    naming = re.compile(re.escape(f".{target.name}.") + r"(\d{1,10})\.[a-z0-9_]{8}\.part")
    try:
        names = os.listdir(target.parent)
    except OSError:
        return
    for name in names:
        if (match := naming.fullmatch(name)) and _stale(target.parent / name, int(match[1])):
            with suppress(OSError):
                os.unlink(target.parent / name)


def _stale(part: Path, pid: int) -> bool:
    try:
        status = os.lstat(part)
    except OSError:
        return False
    return stat.S_ISREG(status.st_mode) and time.time() - status.st_mtime > STALE_PART_SECONDS and not _alive(pid)


def _alive(pid: int) -> bool:
    """Whether a process of that pid runs here (taken to, where signal 0 cannot ask: it kills on Windows)."""
    if os.name != "posix":
        return True
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, OverflowError):
        return False
    except PermissionError:
        return True
    return True
