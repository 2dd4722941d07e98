"""Bytes from disk -> clean text: decoded, newlines normalised, NFC, nothing XML forbids."""

from __future__ import annotations

import codecs
import re
import unicodedata

from epubgen.errors import InputError

_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)

# XML 1.0 forbids C0 controls other than tab/newline, lone surrogates and U+FFFE/U+FFFF;
# C1 controls and the other noncharacters are allowed but only ever appear as corruption.
_XML_UNSAFE = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufdd0-\ufdef\ufffe\uffff"
    "\U0001fffe\U0001ffff\U0002fffe\U0002ffff\U0003fffe\U0003ffff\U0004fffe\U0004ffff"
    "\U0005fffe\U0005ffff\U0006fffe\U0006ffff\U0007fffe\U0007ffff\U0008fffe\U0008ffff"
    "\U0009fffe\U0009ffff\U000afffe\U000affff\U000bfffe\U000bffff\U000cfffe\U000cffff"
    "\U000dfffe\U000dffff\U000efffe\U000effff\U000ffffe\U000fffff\U0010fffe\U0010ffff]"
)
_NEWLINES = re.compile(r"\r\n?|[\u2028\u2029\x85]")


def decode(data: bytes, name: str) -> str:
    """Decode a text file's bytes, or raise InputError naming the file."""
    if not data.strip():
        raise InputError(f"{name}: the file is empty")
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return sanitize(data.decode(encoding, errors="replace"))
    if b"\x00" in data:
        raise InputError(f"{name}: this is a binary file, not text")
    try:
        return sanitize(data.decode("utf-8"))
    except UnicodeDecodeError as error:
        raise InputError(
            f"{name}: not valid UTF-8 (bad byte at offset {error.start}); save it as UTF-8"
        ) from None


def sanitize(text: str) -> str:
    """Normalise newlines to \\n, compose to NFC and drop characters XML cannot carry."""
    text = _NEWLINES.sub("\n", text)
    text = _XML_UNSAFE.sub("", text)
    return unicodedata.normalize("NFC", text)
