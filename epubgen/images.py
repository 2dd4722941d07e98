"""What an image file is, told by its bytes: a file name's extension is often wrong."""

from __future__ import annotations

import io
import warnings

_SIGNATURES = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
)


def image_media_type(data: bytes) -> str | None:
    """image/png, image/jpeg, image/gif or image/webp; None for anything else.

    >>> image_media_type(b"GIF89a...")
    'image/gif'
    """
    for signature, media_type in _SIGNATURES:
        if data.startswith(signature):
            return media_type
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


MAX_IMAGE_PIXELS = 40_000_000
"""The most pixels an image may hold: far above any illustration or cover (a 6000×6000 photograph
is 36 million), far below what a few hundred kilobytes of PNG can claim (a 12500×12500 one took
18 seconds and 650 MB to decode). Below Pillow's own limit (89 million), so that its decompression
bomb warning is never the first to see one."""

_NOT_WHOLE = "is not an image that decodes whole (a fake or a broken file)"
_TOO_LARGE = f"is too large (over {MAX_IMAGE_PIXELS:,} pixels, far more than any illustration)"


def image_refusal(data: bytes) -> str | None:
    """Why data is no image a book can hold, as the words after "image x" in a warning; None when it
    is one. A fake or truncated file gives an invalid book; an image over MAX_IMAGE_PIXELS is refused
    by the size its header gives, before it is decoded. Nothing from Pillow reaches stderr (our
    messages are one line each): its decompression bomb warning is a refusal, its other warnings are
    silenced. Pillow is imported here: most builds hold no image."""
    if image_media_type(data) is None:
        return _NOT_WHOLE
    from PIL import Image

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            with Image.open(io.BytesIO(data)) as image:
                if image.width * image.height > MAX_IMAGE_PIXELS:
                    return _TOO_LARGE
                image.verify()
            with Image.open(io.BytesIO(data)) as image:
                image.load()
        except (Image.DecompressionBombError, Image.DecompressionBombWarning):
            return _TOO_LARGE
        except (OSError, SyntaxError, ValueError, EOFError):
            return _NOT_WHOLE
    return None
