"""Bytes from disk -> clean text: decoded in whatever encoding, mojibake repaired, newlines
normalised, NFC, no zero-width junk, nothing XML forbids."""

from __future__ import annotations

import codecs
import re
import unicodedata
from dataclasses import dataclass

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
_XML_UNSAFE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufdd0-\ufdef\ufffe\uffff]")
# The astral noncharacters, kept apart: a class with astral ranges is ten times slower to scan,
# and most texts hold no astral character at all.
_XML_UNSAFE_ASTRAL = re.compile("[" + "".join(f"{chr(plane << 16 | 0xFFFE)}{chr(plane << 16 | 0xFFFF)}" for plane in range(1, 17)) + "]")
# Zero-width characters used as invisible watermarks or left inside words. ZWJ and ZWNJ are
# kept: emoji sequences and several scripts (Persian, Indic) need them.
_ZERO_WIDTH_CHARACTERS = "\u200b\u00ad\u2060\ufeff\u180e"
_ZERO_WIDTH = re.compile(f"[{_ZERO_WIDTH_CHARACTERS}]")
# The same sets, looked for in UTF-8 bytes: a byte search runs at C speed, a character class does not.
_ASCII_UNSAFE = bytes([*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F])
_C1_BYTES = re.compile(b"\xc2[\x80-\x9f]")
_SURROGATE_BYTES = re.compile(b"\xed[\xa0-\xbf]")
_ASTRAL_LEADS = (b"\xf0", b"\xf1", b"\xf2", b"\xf3", b"\xf4")
# A lead byte of a UTF-8 sequence read as cp1252/Latin-1, followed by a continuation byte read the same way;
# also searched for in the UTF-8 bytes of a text read as UTF-8 (a byte search is several times faster).
_MOJIBAKE_LEADS = "".join(map(chr, range(0xC2, 0xF5)))
_MOJIBAKE_FOLLOWERS = "".join(map(chr, range(0x80, 0xC0))) + (
    "\u20ac\u201a\u0192\u201e\u2026\u2020\u2021\u02c6\u2030\u0160\u2039\u0152\u017d\u2018\u2019\u201c\u201d"
    "\u2022\u2013\u2014\u02dc\u2122\u0161\u203a\u0153\u017e\u0178"
)
_MOJIBAKE_HINT = re.compile(f"[{re.escape(_MOJIBAKE_LEADS)}][{re.escape(_MOJIBAKE_FOLLOWERS)}]")
_MOJIBAKE_HINT_BYTES = re.compile(
    b"(?:%s)(?:%s)" % tuple(b"|".join(re.escape(char.encode()) for char in chars) for chars in (_MOJIBAKE_LEADS, _MOJIBAKE_FOLLOWERS))
)
# The encodings detection chooses among: the ones downloaded chapters come in. Letting the
# detector consider every code page makes it pick cp1250 for French or cp949 for Japanese on
# short texts; a user with another encoding names it (book.toml `encoding`, --encoding).
DETECTED_ENCODINGS = ["gb18030", "big5", "shift_jis", "euc_jp", "euc_kr", "cp1252", "latin_1", "cp1251", "utf_16"]
_BINARY_BYTES = [bytes([code]) for code in range(0x20) if code not in b"\t\n\r\f"]
_NEWLINES = re.compile(r"\r\n?|[\u2028\u2029\x85]")


@dataclass(frozen=True)
class Decoded:
    text: str
    encoding: str
    """The encoding the bytes were read in: found from a BOM, UTF-8, detected, or given."""
    repaired: bool = False
    """True when mojibake (UTF-8 read as cp1252, `itâ€™s`) was repaired."""


def decode(data: bytes, name: str, encoding: str | None = None) -> Decoded:
    """Decode a text file's bytes into clean text, or raise InputError naming the file.

    With encoding, the bytes are read in it; else a BOM, then UTF-8, then detection decide.
    """
    raw, used = _decode_bytes(data, name, encoding)
    text, repaired = repair_mojibake(raw, data if used == "utf-8" else None)
    text = sanitize(text, data if used == "utf-8" and not repaired else None)
    if not text.strip():
        blank = not raw.strip()
        raise InputError(f"{name}: the file is empty" if blank else f"{name}: no text in this file, only control characters")
    return Decoded(text, used, repaired)


def repair_mojibake(text: str, encoded: bytes | None = None) -> tuple[str, bool]:
    """Repair UTF-8 that was once decoded as cp1252 or Latin-1 (`itâ€™s` -> `it’s`).

    ftfy does the repair, set up to leave typographic quotes and full-width CJK punctuation
    alone. It is slow, so it only runs on text holding the character pairs mojibake is made of
    (looked for in encoded, the text in UTF-8, when the caller has it).
    """
    if (_MOJIBAKE_HINT.search(text) if encoded is None else _MOJIBAKE_HINT_BYTES.search(encoded)) is None:
        return text, False
    import ftfy  # imported when needed: most texts never need it, and it is slow to import

    config = ftfy.TextFixerConfig(uncurl_quotes=False, fix_character_width=False, unescape_html=False, normalization=None)
    fixed = ftfy.fix_text(text, config=config)
    return fixed, fixed != text


def _decode_bytes(data: bytes, name: str, encoding: str | None) -> tuple[str, str]:
    if encoding is not None:
        return _decode_as(data, name, encoding), encoding
    for bom, bom_encoding in _BOMS:
        if data.startswith(bom):
            return data.decode(bom_encoding, errors="replace"), bom_encoding
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    if _looks_binary(data):
        raise InputError(f"{name}: this is a binary file, not text")
    import charset_normalizer  # imported when needed: only for text that is not UTF-8

    best = charset_normalizer.from_bytes(data, cp_isolation=DETECTED_ENCODINGS).best()
    if best is None:
        raise InputError(f"{name}: cannot tell the text's encoding; set `encoding` in book.toml or use --encoding")
    return str(best), best.encoding


def _decode_as(data: bytes, name: str, encoding: str) -> str:
    try:
        return data.decode(encoding)
    except LookupError:
        raise InputError(f"{name}: unknown encoding '{encoding}'") from None
    except UnicodeDecodeError as error:
        raise InputError(f"{name}: not valid {encoding} (bad byte at offset {error.start})") from None


def _looks_binary(data: bytes) -> bool:
    """More than 10% control bytes (other than tab and newlines) in the first 64 KB.

    Only asked of bytes that are not UTF-8: a stray NUL in a UTF-8 text is dropped by sanitize().
    """
    sample = data[:65536]
    controls = sum(sample.count(byte) for byte in _BINARY_BYTES)
    return controls > len(sample) * 0.10


def sanitize(text: str, encoded: bytes | None = None) -> str:
    """Normalise newlines to \\n, compose to NFC, drop zero-width junk and characters XML cannot carry.

    Each pattern scans the text slowly, and most texts hold nothing any of them would change: each
    only runs when a quick look (substring tests, and byte tests on the UTF-8 form: encoded, when
    the caller has it) finds something.
    """
    if encoded is None:
        encoded = text.encode("utf-8", "surrogatepass")
    if "\r" in text or "\u2028" in text or "\u2029" in text or "\x85" in text:
        text = _NEWLINES.sub("\n", text)
    if _may_hold_xml_unsafe(encoded):
        text = _XML_UNSAFE.sub("", text)
    if any(lead in encoded for lead in _ASTRAL_LEADS):
        text = _XML_UNSAFE_ASTRAL.sub("", text)
    if any(char in text for char in _ZERO_WIDTH_CHARACTERS):
        text = _ZERO_WIDTH.sub("", text)
    return unicodedata.normalize("NFC", text)


def sanitize_parsed(text: str) -> str:
    """Text a parser took out of markup, cleaned as sanitize() cleans a file's: sanitize() ran on the
    markup, but a character reference (`&#1;`, `&#xFFFE;`, `&#xFDD0;`, one of epubgen.marks' own
    characters, `&shy;`, `&ZeroWidthSpace;`) only becomes its character in the parse.

    Quick on text with nothing to clean: every character sanitize() changes is a control, a format
    character, a separator other than the space, a surrogate or a noncharacter, none of which
    str.isprintable() passes.

    >>> sanitize_parsed("a\\x01b\\ufdd0c\\u200bd")
    'abcd'
    """
    if text.isprintable() and (text.isascii() or unicodedata.is_normalized("NFC", text)):
        return text
    return sanitize(text)


def _may_hold_xml_unsafe(encoded: bytes) -> bool:
    """Whether the UTF-8 bytes may hold a character of _XML_UNSAFE: an ASCII control, a C1 control,
    a surrogate (encoded with surrogatepass) or a noncharacter of the U+FDxx/U+FFFx blocks. A lead
    byte is looked for first: a search for one byte runs many times faster than for several."""
    return (
        len(encoded.translate(None, _ASCII_UNSAFE)) != len(encoded)
        or (b"\xc2" in encoded and _C1_BYTES.search(encoded) is not None)
        or (b"\xed" in encoded and _SURROGATE_BYTES.search(encoded) is not None)
        or (b"\xef" in encoded and (b"\xef\xb7" in encoded or b"\xef\xbf\xbe" in encoded or b"\xef\xbf\xbf" in encoded))
    )
