"""Structure: headings, paragraphs, scene breaks and the reading order of chapters."""

from __future__ import annotations

import pickle
from dataclasses import FrozenInstanceError, dataclass, field, replace
from decimal import Decimal
from unittest.mock import patch

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from epubgen.marks import EM_CLOSE, EM_OPEN, image_line
from epubgen.model import Chapter, Heading, Line, NotedChapter, NoteRef, Paragraph, Picture, Removal, SceneBreak, Span, TextLine, _set_through_slots
from epubgen.structure import _strip_spans, drop_duplicates, is_scene_break, missing_chapters, order_chapters, structure_chapter


def noted(source: str, text: str) -> NotedChapter:
    return NotedChapter(source, tuple(TextLine(n, (line,)) for n, line in enumerate(text.split("\n"), 1)))


@pytest.mark.parametrize("line", ["***", "* * *", "---", "- - -", "o0o", "0o0", "oOo", "◇◇◇", "~~~", "###", "⁂", "  ＊＊＊ ".replace("＊", "*")])
def test_scene_break_lines(line: str) -> None:
    assert is_scene_break(line)


@pytest.mark.parametrize("line", ["Ooo!", "oh", "**", "--", "*Sigh*", "So... ---no.", "000"])
def test_lines_that_are_not_scene_breaks(line: str) -> None:
    assert not is_scene_break(line)


def test_heading_is_found_below_a_site_title_and_text_is_cut_into_blocks() -> None:
    chapter = structure_chapter(noted("1.txt", "Site Title\n\nChapter 1: Start\n\n  First   line.  \n\n***\n* * *\n\nSecond.\n\n---\n"))
    assert chapter.heading == Heading("chapter", Decimal(1), "Start")
    assert chapter.blocks == (
        Paragraph(("Site Title",)),
        Paragraph(("First line.",)),
        SceneBreak(),
        Paragraph(("Second.",)),
    )


def test_scene_breaks_and_image_lines_are_found_behind_white_space_and_emphasis_marks() -> None:
    text = f"Chapter 1\n\nOne.\n\u3000 * * *\nTwo.\n{EM_OPEN}***{EM_CLOSE}\nThree.\n  {image_line(0)} \nFour.\nOoh, o0o.\n§"
    assert structure_chapter(noted("1.txt", text)).blocks == (
        Paragraph(("One.",)),
        SceneBreak(),
        Paragraph(("Two.",)),
        SceneBreak(),
        Paragraph(("Three.",)),
        Picture(0),
        Paragraph(("Four.",)),
        Paragraph(("Ooh, o0o.",)),
    )


@pytest.mark.parametrize(
    ("line", "collapsed"),
    [("One  two.", "One two."), ("One\t\ttwo.", "One two."), ("One\u3000\u3000two.", "One two."), ("One\t two.", "One two."),
     ("One\ttwo.", "One\ttwo."), ("One\u3000two.", "One\u3000two.")],
)  # fmt: skip
def test_a_run_of_spaces_tabs_or_ideographic_spaces_becomes_one_space_and_a_lone_one_stays(line: str, collapsed: str) -> None:
    chapter = structure_chapter(noted("1.txt", f"Chapter 1\n\n{line}\nPlain."))
    assert chapter.blocks == (Paragraph((collapsed,)), Paragraph(("Plain.",)))


PIECES = ["word", "Ooh", "o0o", "0", "*", "* ", "-", "—", "***", "⁂", "§", "#", " ", "  ", "\t", "\u3000", "\xa0",
          EM_OPEN, EM_CLOSE, image_line(2), "7", "Chapter 1", "_", "\n"]  # fmt: skip
texts = st.lists(st.sampled_from(PIECES), max_size=6).map("".join)
line_spans = st.lists(st.one_of(texts, st.builds(NoteRef, st.integers(0, 2))), max_size=3).map(tuple)


@settings(max_examples=300, deadline=None)
@given(st.lists(line_spans, max_size=12), st.booleans())
def test_the_fast_way_makes_the_blocks_the_line_by_line_way_makes(lines: list[tuple[Span, ...]], plain_emphasis: bool) -> None:
    chapter = NotedChapter("1.txt", tuple(TextLine(number, spans) for number, spans in enumerate(lines, 1)))
    with patch("epubgen.structure.joined_lines", return_value=None):
        line_by_line = structure_chapter(chapter, plain_emphasis)
    assert structure_chapter(chapter, plain_emphasis) == line_by_line


class NotStr(str):
    """A string whose type is not str, which _strip_spans takes the general way."""


@settings(max_examples=300, deadline=None)
@given(texts)
def test_one_string_is_stripped_the_fast_way_as_the_general_way_strips_it(text: str) -> None:
    assert _strip_spans((text,)) == _strip_spans((NotStr(text),))


def test_lines_and_paragraphs_made_through_their_slots_are_the_frozen_dataclasses_they_were() -> None:
    source_line = Line(2, "Zero")
    assert source_line == Line(number=2, text="Zero") == pickle.loads(pickle.dumps(source_line)) and repr(source_line) == "Line(number=2, text='Zero')"
    with pytest.raises(FrozenInstanceError):
        source_line.text = "One"  # type: ignore[misc]
    line = TextLine(3, ("One", NoteRef(0)))
    assert line == TextLine(number=3, spans=("One", NoteRef(0))) == pickle.loads(pickle.dumps(line))
    assert (line.number, line.spans, line.text, hash(line)) == (3, ("One", NoteRef(0)), "One", hash((3, ("One", NoteRef(0)))))
    assert replace(line, number=4) == TextLine(4, line.spans) and repr(line) == "TextLine(number=3, spans=('One', NoteRef(index=0)))"
    assert Paragraph(spans=("Two",)) == Paragraph(("Two",)) and Paragraph(("Two",)).text == "Two"
    with pytest.raises(FrozenInstanceError):
        line.number = 5  # type: ignore[misc]
    with pytest.raises(TypeError):
        TextLine(3)  # type: ignore[call-arg]
    removal = Removal("a.txt", 3, "Junk", "rule")
    assert (removal.stage, replace(removal, stage="notes").stage, Removal("a.txt", 3, "Junk", "rule", stage="notes").stage) == ("clean", "notes", "notes")
    assert Heading() == Heading(kind="chapter", number=None, title="") and Heading("prologue").kind == "prologue"

    @dataclass(frozen=True, slots=True)
    class Keyword:
        value: int = field(kw_only=True)

    with pytest.raises(TypeError, match="only plain fields"):
        _set_through_slots(Keyword)


def test_a_chapter_without_a_heading_is_titled_from_its_file_name() -> None:
    assert structure_chapter(noted("Chapter 7 - Dawn.txt", "Just text.")).heading.label == "Chapter 7: Dawn"
    assert structure_chapter(noted("bonus_story.txt", "Just text.")).heading.label == "bonus story"


def test_a_repeated_heading_in_another_form_is_dropped_but_a_different_heading_is_kept() -> None:
    repeated = structure_chapter(noted("1.txt", "Chapter 78 - Title\nChapter 78: Title\n\nText."))
    assert repeated.blocks == (Paragraph(("Text.",)),)
    different = structure_chapter(noted("1.txt", "Chapter 78 - Title\nChapter 79: Next\n\nText."))
    assert different.blocks[0] == Paragraph(("Chapter 79: Next",))


def chapter(source: str, heading: Heading) -> Chapter:
    return Chapter(source, heading, ())


def test_without_a_file_sequence_chapters_are_ordered_by_their_headings() -> None:
    chapters = [
        chapter("c.txt", Heading("epilogue")),
        chapter("a.txt", Heading("chapter", Decimal(10))),
        chapter("b.txt", Heading("chapter", Decimal(2))),
        chapter("d.txt", Heading("prologue")),
        chapter("e.txt", Heading("chapter", Decimal(1), volume=2)),
    ]
    ordered, warnings = order_chapters(chapters, named_in_sequence=False)
    assert [c.source for c in ordered] == ["d.txt", "b.txt", "a.txt", "e.txt", "c.txt"]
    assert warnings == []


def test_a_file_sequence_wins_and_a_disagreement_is_warned_about() -> None:
    chapters = [chapter("1.txt", Heading("chapter", Decimal(1))), chapter("2.txt", Heading("chapter", Decimal(3))), chapter("3.txt", Heading("chapter", Decimal(2)))]
    ordered, warnings = order_chapters(chapters, named_in_sequence=True)
    assert [c.source for c in ordered] == ["1.txt", "2.txt", "3.txt"]
    assert warnings == [
        "file order and chapter numbers disagree: 3.txt (Chapter 2) comes after 2.txt (Chapter 3); keeping the file order"
    ]


def test_side_stories_between_numbered_chapters_raise_no_warning() -> None:
    chapters = [chapter("1.txt", Heading("chapter", Decimal(1))), chapter("2.txt", Heading("side story", Decimal(1))), chapter("3.txt", Heading("chapter", Decimal(2)))]
    assert order_chapters(chapters, named_in_sequence=True) == (chapters, [])


def story(source: str, number: int, *paragraphs: str, title: str = "") -> Chapter:
    return Chapter(source, Heading("chapter", Decimal(number), title), tuple(Paragraph((text,)) for text in paragraphs))


def test_a_chapter_downloaded_twice_is_kept_once_the_longer_copy_with_a_warning() -> None:
    chapters = [story("11.txt", 11, "Eleven."), story("12.txt", 12, "Opening.", "Cut"), story("12b.txt", 12, "Opening.", "Cut short, then finished."), story("13.txt", 13, "Thirteen.")]
    kept, warnings = drop_duplicates(chapters)
    assert [c.source for c in kept] == ["11.txt", "12b.txt", "13.txt"]
    assert warnings == ["Chapter 12 is in both 12.txt and 12b.txt: kept 12b.txt, dropped 12.txt"]


def test_an_equal_duplicate_keeps_the_later_file() -> None:
    kept, _ = drop_duplicates([story("a.txt", 1, "Same."), story("b.txt", 1, "Same.")])
    assert [c.source for c in kept] == ["b.txt"]


def test_chapters_that_only_share_a_number_are_both_kept() -> None:
    chapters = [story("v1-01.txt", 1, "The first volume opens.", title="Dawn"), story("v2-01.txt", 1, "The second volume opens.", title="Dusk")]
    assert drop_duplicates(chapters) == (chapters, [])


def test_gaps_in_the_numbering_are_listed_in_one_warning_run_by_run() -> None:
    numbers = [1, 2, 5, 6, 8, 1, 2, 4]
    chapters = [story(f"{i}.txt", n, "x") for i, n in enumerate(numbers)]
    assert missing_chapters(chapters) == ["missing chapters 3–4, 7, 3"]
    assert missing_chapters([story("a", 1, "x"), story("b", 2, "x")]) == []


WRAPPED = """Chapter 1: Wrapped

The lantern on Tern Point had burned every night for sixty-one
years, and on the sixty-second it went out without a sound. Wren
saw it from the shop window.

She put down the broom. The street outside was empty, the fog
already thick between the houses, and somewhere below the cliff
the sea was working at the rocks as it always had.

* * *

Her grandmother's ledger lay open on the counter where it had
been left, the last entry written in a hand that shook.
"""


def test_hard_wrapped_text_is_unwrapped_into_its_paragraphs() -> None:
    chapter = structure_chapter(noted("1.txt", WRAPPED))
    texts = [block.text if isinstance(block, Paragraph) else "***" for block in chapter.blocks]
    assert texts == [
        "The lantern on Tern Point had burned every night for sixty-one years, and on the sixty-second it went out "
        "without a sound. Wren saw it from the shop window.",
        "She put down the broom. The street outside was empty, the fog already thick between the houses, and "
        "somewhere below the cliff the sea was working at the rocks as it always had.",
        "***",
        "Her grandmother's ledger lay open on the counter where it had been left, the last entry written in a hand that shook.",
    ]


def test_one_paragraph_per_line_text_is_not_unwrapped() -> None:
    lines = [f"Line {n} of the story, " + "word " * (n * 7 % 30) for n in range(12)]
    chapter = structure_chapter(noted("1.txt", "Chapter 1\n" + "\n".join(lines)))
    assert len(chapter.blocks) == 12


def test_plain_text_emphasis_becomes_marks_when_turned_on_and_snake_case_stays() -> None:
    text = "Chapter 1\n\nShe *meant* it, _truly_, and **loudly**, in snake_case_names and 2*3*4."
    plain = structure_chapter(noted("1.txt", text))
    assert plain.blocks[0].text == "She *meant* it, _truly_, and **loudly**, in snake_case_names and 2*3*4."
    marked = structure_chapter(noted("1.txt", text), plain_emphasis=True)
    assert marked.blocks[0].text == (
        "She \ufdd0meant\ufdd1 it, \ufdd0truly\ufdd1, and \ufdd2loudly\ufdd3, in snake_case_names and 2*3*4."
    )
