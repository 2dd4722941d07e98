"""The sample series shipped in input/ builds into a valid book, as the README promises."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from conftest import OpenedEpub, assert_valid

REPO = Path(__file__).resolve().parent.parent
SAMPLE = REPO / "input" / "the-lantern-keeper"


def test_the_readme_build_command_builds_the_sample_into_output(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "epubgen", "build", str(SAMPLE)], cwd=tmp_path, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    book = OpenedEpub(tmp_path / "output" / "the-lantern-keeper.epub")
    assert book.metadata("dc:title") == ["The Lantern Keeper"]
    assert book.metadata("dc:creator") == ["Ash Vale"]
    assert book.metadata("dc:contributor") == ["Mo Lin"]
    assert book.nav_labels() == [
        "Chapter 1: The Unlit Tower",
        "Chapter 2: The Keeper\u2019s Ledger",
        "Chapter 3: The Salt Road",
        "Chapter 4: The Ferryman\u2019s Price",
        "Chapter 5: The Bell",
        "Chapter 6: What the Fog Keeps",
        "Chapter 7: The Keeper\u2019s Bargain",
        "Chapter 8: The Lantern Relit",
    ]
    assert_valid(book.path)


def test_the_readme_python_api_example_runs(tmp_path: Path) -> None:
    from epubgen import BookConfig, build

    result = build(SAMPLE, BookConfig(title="The Lantern Keeper"), tmp_path / "book.epub")
    assert (result.path, len(result.book.chapters)) == (tmp_path / "book.epub", 8)


SAMPLE_JUNK = [
    "Tap the screen to use advanced tools",
    "You'll Also Like",
    "Reborn as the Villain's Teapot",
    "The Archmage Only Wants to Nap",
    "Previous Chapter | Table of Contents | Next Chapter",
    "n/o/v/e/l/b/i/n",
    "novelbin.com",
    "Find authorized novels in Webnovel",
    "Patreon",
]
SAMPLE_STORY = [
    "\u201cNext chapter of my life begins now,\u201d she said.",
    "Advertisement boards lined the market street.",
    "\u201cTable of contents?\u201d she asked.",
    "<- Ferry",
    "\u201cNo.\u201d",
    "Hale & Daughters",
    "Above them, on Tern Point, the lantern burned.",
]


def test_the_sample_loses_its_junk_and_keeps_every_story_line(tmp_path: Path) -> None:
    from epubgen import BookConfig, build

    book = OpenedEpub(build(SAMPLE, BookConfig(), tmp_path / "book.epub").path)
    paragraphs = [p for index in range(len(book.chapter_files())) for p in book.paragraphs(index)]
    text = "\n".join(paragraphs)
    assert [junk for junk in SAMPLE_JUNK if junk in text] == []
    assert [line for line in SAMPLE_STORY if line not in text] == []
    assert paragraphs.count("Ding.") == 6
    assert "The Lantern Keeper" not in paragraphs
    assert "Next Chapter" not in paragraphs


def test_the_samples_translator_note_becomes_a_footnote(tmp_path: Path) -> None:
    from conftest import NS
    from epubgen import BookConfig, build

    book = OpenedEpub(build(SAMPLE, BookConfig(), tmp_path / "book.epub").path)
    chapter = book.chapter(1)
    assert not any("(TL:" in p for p in book.paragraphs(1))
    asides = chapter.findall(".//x:aside[@epub:type='footnote']", NS)
    assert len(asides) == 1
    assert "\u201cshifu\u201d means master and teacher at once" in "".join(asides[0].itertext())
