"""Covers: a user's JPEG or PNG, recognised by its bytes and decoded whole, or one generated from the metadata.

The generated cover is typeset with the font Pillow ships (no system font path that may be
missing), on a plain background whose colour comes from the series title, so the volumes of
one series share a colour and differ by the large volume number on them.
"""

from __future__ import annotations

import hashlib
import io
import textwrap
from pathlib import Path
from typing import TYPE_CHECKING

from epubgen.errors import InputError
from epubgen.files import MAX_IMAGE_BYTES, read_regular_file
from epubgen.images import image_media_type, image_refusal
from epubgen.model import Cover
from epubgen.names import shown_name

if TYPE_CHECKING:
    from PIL import ImageDraw, ImageFont

WIDTH, HEIGHT = 1200, 1800
_MARGIN = 100


def given_cover(path: str, epub_cover: bytes | None) -> tuple[Cover | None, tuple[str, ...]]:
    """The cover at path (book.toml's or --cover), else the one an input EPUB had; and the warnings.

    A cover file that cannot be used stops the build; an input EPUB's broken cover is left out with
    a warning, for a generated one: its chapters are still a book.
    """
    if path:
        return cover_from_bytes(read_regular_file(Path(path), "cover", MAX_IMAGE_BYTES), shown_name(path)), ()
    if epub_cover is None:
        return None, ()
    try:
        return cover_from_bytes(epub_cover, "the input EPUB's cover"), ()
    except InputError as error:
        return None, (f"{error}; it is left out",)


def cover_from_bytes(data: bytes, name: str) -> Cover:
    """A cover image, declared by what its bytes are, not by its file name, and decoded whole:
    a fake or truncated image gives an invalid book."""
    if image_media_type(data) not in ("image/png", "image/jpeg"):
        raise InputError(f"{name}: a cover must be a JPEG or PNG image")
    refusal = image_refusal(data)
    if refusal is not None:
        raise InputError(f"{name}: the cover image {refusal}")
    return Cover(data, image_media_type(data))


def generated_cover(title: str, authors: tuple[str, ...], series: str = "", volume: int | None = None) -> Cover:
    """A plain, legible cover: the title on top, the volume number large, the authors at the foot.

    The text is drawn as a mask of ink coverage, which becomes the cover through a palette of 256
    steps from the background colour to the ink: the same picture as drawing in colour, made and
    compressed in a fraction of the time (a series of thirty volumes has thirty covers), and smaller.
    Pillow is imported here, when a cover is made: the worker processes never need it.
    """
    from PIL import Image, ImageDraw

    background = _colour(series or title)
    ink = (255, 255, 255) if sum(background) < 380 else (20, 20, 20)
    mask = Image.new("L", (WIDTH, HEIGHT), 0)
    draw = ImageDraw.Draw(mask)
    _centred_lines(draw, textwrap.wrap(series or title, 18)[:5], _font(96), top=_MARGIN * 2)
    if volume is not None:
        _centred_lines(draw, ["VOLUME", str(volume)], _font(0), top=HEIGHT // 2 - 150, sizes=(72, 300))
    if authors:
        _centred_lines(draw, textwrap.wrap(", ".join(authors), 28)[:2], _font(64), top=HEIGHT - _MARGIN * 3)
    mask.putpalette([round(paper + (colour - paper) * level / 255) for level in range(256) for paper, colour in zip(background, ink)])
    buffer = io.BytesIO()
    mask.save(buffer, format="PNG")  # the mask, its palette put on, is the cover
    return Cover(buffer.getvalue(), "image/png")


def _colour(key: str) -> tuple[int, int, int]:
    """A muted colour chosen by the key's hash: stable across runs and machines."""
    digest = hashlib.sha256(key.casefold().encode()).digest()
    return tuple(40 + byte % 120 for byte in digest[:3])  # type: ignore[return-value]


def _font(size: int) -> ImageFont.FreeTypeFont:
    from PIL import ImageFont

    return ImageFont.load_default(size=size or 72)


def _centred_lines(
    draw: ImageDraw.ImageDraw,
    lines: list[str],
    font: ImageFont.FreeTypeFont,
    top: int,
    sizes: tuple[int, ...] = (),
) -> None:
    """Draw lines centred on a mask, in full ink."""
    y = top
    for index, line in enumerate(lines):
        line_font = _font(sizes[index]) if sizes else font
        left, upper, right, lower = draw.textbbox((0, 0), line, font=line_font)
        draw.text(((WIDTH - (right - left)) // 2 - left, y - upper), line, font=line_font, fill=255)
        y += (lower - upper) + line_font.size // 3
