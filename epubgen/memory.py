"""What a build made of each chapter file, remembered so that a rebuild after new chapters only works
on what is new (epubgen.pipeline: Job.memory).

The memory is one file in the state folder of the output folder (epubgen.incremental.state_folder),
`.epubgen-chapters-<identity of the input folder>` (several series may be built into one folder):
for each chapter text file of a folder, by name, a digest of its bytes and its time (and its stat,
where that vouches for them), what the rules made of it (credits, the detector's keyed lines, a
digest of the chapter as read) and its outline, which holds while the chapter's digest (its source,
the settings, the language, the junk detected) is the same. It is only used by the same epubgen
code, on the same Python and libraries, with the same settings and language (its setup key).

A memory that is missing, not a regular file, damaged (its SHA-256 is checked before anything is
read from it), of another setup, or holding anything but what a build writes there in the shape it
writes it (every field of every entry of its annotated type: _conforms) is no memory: a full build,
to the same bytes. Beyond its shape, a memory is trusted as written: the state folder is the
user's own, as the EPUBs are. It is pickled, a chunk of chapters at a time by the worker process
that holds them (while the calling process makes the book), and read back with an unpickler that makes nothing but
epubgen's plain data classes and a few plain types: reading one runs no code of its own. A build
writes it aside and puts it in place only once it has succeeded.
"""

from __future__ import annotations

import hashlib
import io
import pickle
from array import array
from collections.abc import Callable, Sequence
from contextlib import suppress
from dataclasses import dataclass, fields, is_dataclass
from decimal import Decimal
from functools import cache, partial
from operator import attrgetter, call
from pathlib import Path
from types import NoneType, UnionType
from typing import Union, get_args, get_origin, get_type_hints

from epubgen.atomic import Staged, staged_write
from epubgen.clean.repeated import key_hashes
from epubgen.config import BookConfig
from epubgen.errors import OutputError
from epubgen.files import read_regular_file
from epubgen.incremental import code_fingerprint, dependency_versions, identity, remove_if_ours
from epubgen.pipeline import Remembered

MEMORY_PREFIX = ".epubgen-chapters-"
_FORMAT = 2
_MAGIC = b"epubgen chapter memory\n"
"""A memory file starts with this, then the SHA-256 of the pickle that follows."""
_ALLOWED = {
    **dict.fromkeys(("ReadChapter", "Outline", "Remembered"), "epubgen.pipeline"),
    "KeyedLines": "epubgen.clean.repeated",
    **dict.fromkeys(("Chapter", "Heading", "Note", "NoteRef", "Removal", "Illustration"), "epubgen.model"),
    "Decimal": "decimal",
    "_array_reconstructor": "array",
    "array": "array",
    "frozenset": "builtins",
}
"""What a memory is made of: (name: module). Nothing else is made when one is read."""
_MAX_BYTES = 4 * 1024**3
"""The largest memory read: far above that of any series."""
_LARGEST_NUMBER = 2**63
"""No number in a memory is as large: a file's size, a time in nanoseconds, a count."""


@dataclass(frozen=True)
class Memory:
    """The memory of one input folder's chapters, in the state folder of the folder its EPUBs are built into."""

    path: Path
    setup: str
    """What every remembered chapter was made with: epubgen's code, Python and the libraries, the settings, the language."""

    @classmethod
    def of(cls, state: Path, input_folder: Path, config: BookConfig, language: str) -> Memory:
        """The memory of input_folder's chapters in the state folder (several series may share one)."""
        setup = f"{_FORMAT}\n{code_fingerprint()}\n{dependency_versions()}\n{config!r}\n{language}"
        return cls(state / _file_name(input_folder), hashlib.sha256(setup.encode("utf-8", "surrogatepass")).hexdigest())

    def recall(self) -> dict[str, Remembered]:
        """The chapters remembered for this setup, by file name; none when there is no usable memory."""
        try:
            return self._recalled(read_regular_file(self.path, "chapter memory", _MAX_BYTES))
        except Exception:  # noqa: BLE001 - a memory that cannot be read, or is not of the shape written, is no memory
            return {}

    def _recalled(self, data: bytes) -> dict[str, Remembered]:
        payload = _checked_payload(data)
        if payload is None:
            return {}
        memory = _load(payload)
        if not isinstance(memory, dict) or memory.get("setup") != self.setup or not isinstance(memory.get("slices"), list):
            return {}
        slices = [_load(part) for part in memory["slices"]]
        if not all(isinstance(entries, dict) for entries in slices):
            return {}
        remembered = {name: entry for entries in slices for name, entry in entries.items()}
        well_formed = _conforms(Remembered)
        if not all(type(name) is str and well_formed(entry) for name, entry in remembered.items()):
            return {}
        return remembered

    def remember(self, slices: Sequence[bytes]) -> Callable[[bool], None]:
        """Write, atomically, beside its place, what a build made of each chapter file it read: each
        chunk of them pickled already by the process that holds it (epubgen.pipeline: Chapters.memory).
        Returns the function to call with whether the build succeeded: it puts the memory in place,
        or throws it away. A memory that cannot be written is none: the EPUBs written into the same
        folder say what is wrong with it."""
        payload = pickle.dumps({"setup": self.setup, "slices": list(slices)}, protocol=pickle.HIGHEST_PROTOCOL)
        try:
            staged = staged_write(self.path, lambda file: file.write(_MAGIC + hashlib.sha256(payload).digest() + payload))
        except OutputError:
            return lambda succeeded: None
        return partial(_settle, staged)


def remove_memory_beside_the_books(output_folder: Path, input_folder: Path) -> None:
    """Remove the memory of input_folder's chapters an earlier version kept in output_folder itself, when it is one."""
    remove_if_ours(output_folder / _file_name(input_folder), "chapter memory", _MAX_BYTES, lambda data: _checked_payload(data) is not None)


def _file_name(input_folder: Path) -> str:
    return f"{MEMORY_PREFIX}{identity(input_folder)}"


def _checked_payload(data: bytes) -> bytes | None:
    """The pickle a memory file's bytes hold, when they are a memory file's, undamaged; else None."""
    payload = data[len(_MAGIC) + 32 :]
    if not data.startswith(_MAGIC) or data[len(_MAGIC) : len(_MAGIC) + 32] != hashlib.sha256(payload).digest():
        return None
    return payload


def _settle(staged: Staged, succeeded: bool) -> None:
    if not succeeded:
        staged.discard()
        return
    with suppress(OutputError):
        staged.commit()


def _load(data: bytes) -> object:
    return _Unpickler(io.BytesIO(data)).load()


@cache
def _conforms(hint: object) -> Callable[[object], bool]:
    """The test of a value's being of the annotated type hint, as a memory holds it: a plain type,
    a tuple, a union, or one of epubgen's data classes (_conforms_to_class). Numbers are no larger
    than any a build makes; a tuple of no stated items holds plain values only."""
    origin, arguments = get_origin(hint), get_args(hint)
    if origin in (Union, UnionType) and NoneType in arguments:
        other = _conforms(Union[tuple(argument for argument in arguments if argument is not NoneType)])
        return lambda value: value is None or other(value)
    if origin in (Union, UnionType):
        tests = [_conforms(argument) for argument in arguments]
        return lambda value: any(test(value) for test in tests)
    if origin is tuple and arguments[-1:] == (...,):
        each = _conforms(arguments[0])
        return lambda value: type(value) is tuple and all(map(each, value))
    if origin is tuple:
        tests = [_conforms(argument) for argument in arguments]
        return lambda value: type(value) is tuple and len(value) == len(tests) and all(map(call, tests, value))
    if hint is tuple:
        plain = _conforms(str | bytes | int | Decimal | None)
        return lambda value: type(value) is tuple and all(map(plain, value))
    if is_dataclass(hint):
        return _conforms_to_class(hint)
    return _PLAIN.get(hint, lambda value: False)


def _conforms_to_class(cls: type) -> Callable[[object], bool]:
    """The test of a value's being of the data class cls: each of its fields set (not left to the
    class's default) to a value of its annotated type."""
    hints = get_type_hints(cls)
    names = tuple(item.name for item in fields(cls))
    tests = [_conforms(hints[name]) for name in names]
    if "__slots__" not in vars(cls):
        return lambda value: type(value) is cls and vars(value).keys() == set(names) and all(map(call, tests, map(vars(value).get, names)))
    values = attrgetter(*names) if len(names) > 1 else lambda value: (getattr(value, names[0]),)

    def conforms(value: object) -> bool:
        try:
            return type(value) is cls and all(map(call, tests, values(value)))
        except AttributeError:  # a field not set
            return False

    return conforms


_HASHES = key_hashes([]).typecode
"""The type code of the detector's line hashes (KeyedLines.hashes)."""
_PLAIN: dict[object, Callable[[object], bool]] = {
    NoneType: lambda value: value is None,
    str: lambda value: type(value) is str,
    bytes: lambda value: type(value) is bytes,
    bool: lambda value: type(value) is bool,
    int: lambda value: type(value) is int and -_LARGEST_NUMBER < value < _LARGEST_NUMBER,
    Decimal: lambda value: type(value) is Decimal and value.is_finite() and abs(value) < _LARGEST_NUMBER,
    array: lambda value: type(value) is array and value.typecode == _HASHES,
}


class _Unpickler(pickle.Unpickler):
    """Makes epubgen's own data classes and a few plain types; refuses anything else."""

    def find_class(self, module: str, name: str) -> object:
        if _ALLOWED.get(name) == module:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"{module}.{name} is not part of a memory")
