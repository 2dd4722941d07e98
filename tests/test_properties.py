"""Property tests: whatever Unicode a chapter holds, the book is valid and the text survives."""

from __future__ import annotations

import re
import tempfile
import unicodedata
from pathlib import Path

from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from conftest import OpenedEpub, assert_valid, write_chapters
from epubgen.builder import build
from epubgen.config import BookConfig
from epubgen.errors import InputError
from epubgen.read.decode import decode, sanitize
from epubgen.structure import is_scene_break

# Any code point a UTF-8 file can hold, plus the characters markup and XML care about, often.
chapter_text = st.text(
    alphabet=st.one_of(st.characters(exclude_categories=("Cs",)), st.sampled_from("<>&\"'\x00\x07\r\n\u2028*-")),
    min_size=1,
    max_size=400,
)
titles = st.text(st.characters(exclude_categories=("Cs",)), min_size=1, max_size=60).filter(lambda t: sanitize(t).strip())


def _build(folder: Path, texts: list[str], title: str) -> OpenedEpub:
    files = {f"{n:04d}.txt": text.encode("utf-8") for n, text in enumerate(texts, 1)}
    write_chapters(folder / "in", files)
    return OpenedEpub(build(folder / "in", BookConfig(title=sanitize(title).strip()), folder / "book.epub").path)


def _decoded(text: str) -> str | None:
    """The text as the reader hands it on (mojibake repaired, sanitized), or None if it holds no text."""
    try:
        return decode(text.encode("utf-8"), "x.txt").text
    except InputError:
        return None


def _non_blank(texts: list[str]) -> list[str]:
    return [t for t in texts if _decoded(t) is not None]


@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(texts=st.lists(chapter_text, min_size=30, max_size=60), title=titles)
def test_arbitrary_unicode_chapters_always_make_a_book_epubcheck_accepts(texts: list[str], title: str) -> None:
    texts = _non_blank(texts) or ["fallback"]
    with tempfile.TemporaryDirectory() as folder:
        book = _build(Path(folder), texts, title)
        assert len(book.chapter_files()) == len(texts)
        assert_valid(book.path)


def _words(text: str) -> list[str]:
    """The words of text's lines, but those of a scene-break line (`o0o`, `* * *`): the book shows it as `<hr>`."""
    lines = unicodedata.normalize("NFC", text).split("\n")
    return [word for line in lines if not is_scene_break(line) for word in re.findall(r"\w+", line)]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=st.text(st.characters(exclude_categories=("Cs", "Cc")), min_size=1, max_size=300))
@example(text="o0o")
@example(text="Her sign was o0o, drawn twice.\no0o\nShe went on.")
def test_every_word_of_a_chapter_reaches_the_book(text: str) -> None:
    decoded = _decoded(text)
    assume(decoded is not None)
    with tempfile.TemporaryDirectory() as folder:
        book = _build(Path(folder), [text], "T")
        written = book.text().casefold()
        for word in _words(decoded):
            assert word.casefold() in written  # a heading's words come out in normalised case


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.binary(max_size=600), suffix=st.sampled_from([".txt", ".html"]))
def test_arbitrary_bytes_as_a_chapter_file_are_a_book_or_a_clean_error(data: bytes, suffix: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        write_chapters(Path(folder) / "in", {f"0001{suffix}": data})
        try:
            book = build(Path(folder) / "in", BookConfig(title="T"), Path(folder) / "book.epub")
        except InputError as error:
            named = str(error).split(": ")[0]
            assert named in (f"0001{suffix}", str(Path(folder) / "in")) and "\n" not in str(error)
        else:
            assert book.path.stat().st_size > 0


@settings(max_examples=2, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(files=st.lists(st.tuples(st.binary(min_size=1, max_size=400), st.sampled_from([".txt", ".html"])), min_size=20, max_size=40))
def test_whatever_arbitrary_bytes_are_accepted_makes_a_book_epubcheck_passes(files: list[tuple[bytes, str]]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        write_chapters(Path(folder) / "in", {f"{n:04d}{suffix}": data for n, (data, suffix) in enumerate(files, 1)})
        write_chapters(Path(folder) / "in", {"9999.txt": "Chapter 9999\n\nA chapter that is surely text."})
        book = OpenedEpub(build(Path(folder) / "in", BookConfig(title="T", skip_bad=True), Path(folder) / "book.epub").path)
        assert_valid(book.path)
