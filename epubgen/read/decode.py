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
_BINARY_BYTES = [bytes([code]) for code in range(0x20) if code not in b"\t\n\r\f"]
_NEWLINES = re.compile(r"\r\n?|[\u2028\u2029\x85]")


def decode(data: bytes, name: str) -> str:
    """Decode a text file's bytes, or raise InputError naming the file."""
    text = sanitize(_decode_bytes(data, name))
    if not text.strip():
        raise InputError(f"{name}: the file is empty")
    return text


def _decode_bytes(data: bytes, name: str) -> str:
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return data.decode(encoding, errors="replace")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        if _looks_binary(data):
            raise InputError(f"{name}: this is a binary file, not text") from None
        raise InputError(
            f"{name}: not valid UTF-8 (bad byte at offset {error.start}); save it as UTF-8"
        ) from None


def _looks_binary(data: bytes) -> bool:
    """More than 10% control bytes (other than tab and newlines) in the first 64 KB.

    Only asked of bytes that are not UTF-8: a stray NUL in a UTF-8 text is dropped by sanitize().
    """
    sample = data[:65536]
    controls = sum(sample.count(byte) for byte in _BINARY_BYTES)
    return controls > len(sample) * 0.10


def sanitize(text: str) -> str:
    """Normalise newlines to \\n, compose to NFC and drop characters XML cannot carry."""
    text = _NEWLINES.sub("\n", text)
    text = _XML_UNSAFE.sub("", text)
    return unicodedata.normalize("NFC", text)
