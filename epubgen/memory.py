"""What a build made of each chapter file, remembered so that a rebuild after new chapters only works
on what is new (epubgen.pipeline: Job.memory).

The memory is one file beside the EPUBs, `.epubgen-chapters-<digest of the input folder's path>`
(several series may be built into one folder): for each chapter text file of a folder, by name, a
digest of its bytes and its time (and its stat, where that vouches for them), what the rules made of
it (credits, the detector's keyed lines, a digest of the chapter as read) and its outline, which
holds while the chapter's digest (its source, the settings, the language, the junk detected) is the
same. It is only used by the same epubgen code, on the same Python and libraries, with the same
settings and language (its setup key).

A memory that is missing, damaged (its SHA-256 is checked before anything is read from it), of
another setup or holding anything but what a build writes there is no memory: a full build, to the
same bytes. A memory is trusted as written: whoever can write into the output folder can write the
EPUBs themselves. It is pickled, a chunk of chapters at a time by the worker process that holds them
(while the calling process makes the book), and read back with an unpickler that makes nothing but
epubgen's plain data classes and a few plain types: reading one runs no code of its own.
"""

from __future__ import annotations

import hashlib
import io
import pickle
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from epubgen.atomic import write_atomically
from epubgen.config import BookConfig
from epubgen.errors import OutputError
from epubgen.incremental import code_fingerprint, dependency_versions
from epubgen.pipeline import Outline, ReadChapter, Remembered

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


@dataclass(frozen=True)
class Memory:
    """The memory of one input folder's chapters, in the folder its EPUBs are built into."""

    path: Path
    setup: str
    """What every remembered chapter was made with: epubgen's code, Python and the libraries, the settings, the language."""

    @classmethod
    def of(cls, output_folder: Path, input_folder: Path, config: BookConfig, language: str) -> Memory:
        """The memory of input_folder's chapters in output_folder (several series may share one)."""
        name = hashlib.sha256(str(input_folder.resolve()).encode("utf-8", "surrogatepass")).hexdigest()[:16]
        setup = f"{_FORMAT}\n{code_fingerprint()}\n{dependency_versions()}\n{config!r}\n{language}"
        return cls(output_folder / f"{MEMORY_PREFIX}{name}", hashlib.sha256(setup.encode("utf-8", "surrogatepass")).hexdigest())

    def recall(self) -> dict[str, Remembered]:
        """The chapters remembered for this setup, by file name; none when there is no usable memory."""
        try:
            data = self.path.read_bytes()
        except OSError:
            return {}
        payload = data[len(_MAGIC) + 32 :]
        if not data.startswith(_MAGIC) or data[len(_MAGIC) : len(_MAGIC) + 32] != hashlib.sha256(payload).digest():
            return {}
        try:
            memory = _load(payload)
            if not isinstance(memory, dict) or memory.get("setup") != self.setup or not isinstance(memory.get("slices"), list):
                return {}
            slices = [_load(part) for part in memory["slices"]]
        except Exception:  # noqa: BLE001 - a memory that cannot be read is no memory
            return {}
        if not all(isinstance(entries, dict) for entries in slices):
            return {}
        return {name: entry for entries in slices for name, entry in entries.items() if _well_formed(entry)}

    def remember(self, slices: Sequence[bytes]) -> None:
        """Write, atomically, what a build made of each chapter file it read: each chunk of them
        pickled already by the process that holds it (epubgen.pipeline: Chapters.memory). A memory
        that cannot be written is none: the EPUBs written into the same folder say what is wrong with it."""
        payload = pickle.dumps({"setup": self.setup, "slices": list(slices)}, protocol=pickle.HIGHEST_PROTOCOL)
        try:
            write_atomically(self.path, lambda file: file.write(_MAGIC + hashlib.sha256(payload).digest() + payload))
        except OutputError:
            return


def _load(data: bytes) -> object:
    return _Unpickler(io.BytesIO(data)).load()


def _well_formed(entry: object) -> bool:
    """An entry of the shape remember() writes."""
    return (
        isinstance(entry, Remembered)
        and isinstance(entry.file_key, tuple)
        and isinstance(entry.read, ReadChapter)
        and (entry.outline is None or isinstance(entry.outline, Outline))
    )


class _Unpickler(pickle.Unpickler):
    """Makes epubgen's own data classes and a few plain types; refuses anything else."""

    def find_class(self, module: str, name: str) -> object:
        if _ALLOWED.get(name) == module:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"{module}.{name} is not part of a memory")
