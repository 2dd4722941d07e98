"""Images that are bombs (issue 19, item 17): a few hundred kilobytes of PNG can hold more pixels than
any illustration, and decoding them takes seconds and gigabytes. They are refused before decoding,
with one line saying so and nothing from Pillow on stderr; each image of a page is checked once."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image

import epubgen.read.html
from epubgen.errors import InputError
from epubgen.images import MAX_IMAGE_PIXELS, image_media_type, image_refusal
from epubgen.package.cover import cover_from_bytes
from epubgen.read.html import html_to_lines, images_beside

STORY = "The ferryman counted the lanterns twice, and twice he came up one short of the night before."


def blank_png(size: tuple[int, int]) -> bytes:
    """A one-bit picture of nothing: a few kilobytes on the disk, whatever its size in pixels."""
    buffer = io.BytesIO()
    Image.new("1", size).save(buffer, format="PNG")
    return buffer.getvalue()


BOMB = blank_png((12500, 12500))
PICTURE = blank_png((48, 32))
TOO_LARGE = f"is too large (over {MAX_IMAGE_PIXELS:,} pixels, far more than any illustration)"


def page(body: str) -> str:
    return f"<html><head><title>Chapter 3: The Ferry</title></head><body><div id='chapter-content'>{body}</div></body></html>"


def test_hostile_images_a_bomb_is_small_on_the_disk() -> None:
    assert len(BOMB) < 100_000 and 12500 * 12500 > 2 * MAX_IMAGE_PIXELS


@pytest.fixture
def never_decoded(monkeypatch: pytest.MonkeyPatch) -> None:
    """Decoding pixels fails the test: a bomb must be refused from its header alone."""
    from PIL import ImageFile, PngImagePlugin

    def decoded(*arguments: object) -> None:
        raise AssertionError("the image was decoded")

    monkeypatch.setattr(ImageFile.ImageFile, "load", decoded)
    monkeypatch.setattr(PngImagePlugin.PngImageFile, "verify", decoded)


def test_hostile_images_a_bomb_is_refused_at_once_and_silently(capfd: pytest.CaptureFixture[str], never_decoded: None) -> None:
    assert image_refusal(BOMB) is not None
    assert image_refusal(BOMB) == TOO_LARGE
    assert capfd.readouterr().err == ""


def test_hostile_images_the_pixel_cap_is_where_refusal_starts() -> None:
    width = 8000
    exactly_at_the_cap = blank_png((width, MAX_IMAGE_PIXELS // width))
    assert image_refusal(exactly_at_the_cap) is None and image_media_type(exactly_at_the_cap) == "image/png"
    assert image_refusal(blank_png((width + 1, MAX_IMAGE_PIXELS // width))) is not None


def test_hostile_images_pillows_own_bomb_warning_is_a_refusal_never_printed(capfd: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    """Our cap is below Pillow's, so Pillow's warning is only a safety net: lowered here to be reached."""
    assert MAX_IMAGE_PIXELS < Image.MAX_IMAGE_PIXELS
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 48 * 32 - 1)
    assert image_refusal(PICTURE) == TOO_LARGE
    assert capfd.readouterr().err == ""


def test_hostile_images_fake_and_whole_images_are_told_apart() -> None:
    assert image_refusal(PICTURE) is None and image_media_type(PICTURE) == "image/png"
    assert image_refusal(b"\x89PNG\r\n\x1a\n not a picture") == "is not an image that decodes whole (a fake or a broken file)"
    assert image_refusal(b"plain text") == "is not an image that decodes whole (a fake or a broken file)"


def test_hostile_images_a_bomb_in_a_page_is_left_out_with_a_warning_and_the_page_kept(tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "big.png").write_bytes(BOMB)
    (tmp_path / "map.png").write_bytes(PICTURE)
    markup = page(f"<p>One. {STORY}</p><img src='big.png' alt='huge'><p>Two. {STORY}</p><img src='map.png' alt='map'><p>Three. {STORY}</p>")
    result = html_to_lines(markup, "0003.html", images_beside(tmp_path / "0003.html"))
    assert result.warnings == [f"0003.html: image big.png {TOO_LARGE}, left out"]
    assert [(image.data, image.alt) for image in result.images] == [(PICTURE, "map")]
    assert [line for line in result.lines if STORY in line] == [f"One. {STORY}", f"Two. {STORY}", f"Three. {STORY}"]
    assert capfd.readouterr().err == ""


def test_hostile_images_an_image_used_many_times_in_a_page_is_loaded_and_checked_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "big.png").write_bytes(BOMB)
    (tmp_path / "map.png").write_bytes(PICTURE)
    checked: list[bytes] = []

    def counted(data: bytes) -> str | None:
        checked.append(data)
        return image_refusal(data)

    monkeypatch.setattr(epubgen.read.html, "image_refusal", counted)
    images = "".join(f"<p>{n}. {STORY}</p><img src='big.png'><img src='map.png' alt='map {n}'><img src='gone.png'>" for n in range(50))
    result = html_to_lines(page(images), "0003.html", images_beside(tmp_path / "0003.html"))
    assert checked == [BOMB, PICTURE]
    assert [image.alt for image in result.images] == [f"map {n}" for n in range(50)]
    assert [warning.split(" is ")[0].split(" not ")[0] for warning in result.warnings] == ["0003.html: image big.png", "0003.html: image gone.png"]


def test_hostile_images_a_bomb_as_the_cover_is_refused_in_one_line(capfd: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(InputError) as refused:
        cover_from_bytes(BOMB, "cover.png")
    assert str(refused.value).startswith("cover.png: ") and "\n" not in str(refused.value)
    assert capfd.readouterr().err == ""
