"""What an image file is, told by its bytes: a file name's extension is often wrong."""

from __future__ import annotations

import io

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


def verified_media_type(data: bytes) -> str | None:
    """The media type of an image that decodes whole (a fake or truncated file gives an invalid
    book); None when it is not one. Pillow is imported here: most builds hold no image."""
    media_type = image_media_type(data)
    if media_type is None:
        return None
    from PIL import Image

    try:
        with Image.open(io.BytesIO(data)) as image:
            image.verify()
        with Image.open(io.BytesIO(data)) as image:
            image.load()
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError, EOFError):
        return None
    return media_type
