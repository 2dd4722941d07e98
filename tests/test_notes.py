"""Translator, editor, proofreader and author notes: found, taken out of the story, and shown as
pop-up footnotes, endnotes, inline notes, or dropped (issue 4)."""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path
from unittest.mock import patch

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from conftest import NS, OpenedEpub, assert_valid, write_chapters
from epubgen.builder import build
from epubgen.config import BookConfig, NotesConfig, load_config
from epubgen.marks import EM_CLOSE, EM_OPEN, STRONG_CLOSE, STRONG_OPEN
from epubgen.model import Chapter, Heading, Line, Note, NotedChapter, NoteRef, Paragraph, Removal, SourceChapter, TextLine
from epubgen.notes import _anchored, _Collector, _is_story, _renumbered, bracket_pairs, extract_notes
from epubgen.package.xhtml import chapter_document

EPUB_TYPE = f"{{{NS['epub']}}}type"


def extract(text: str, title_hint: str = "", **config: object) -> tuple[NotedChapter, tuple[Removal, ...]]:
    """Run the notes stage on a chapter whose lines are text's lines, numbered from 1."""
    lines = tuple(Line(number, line) for number, line in enumerate(text.split("\n"), 1))
    return extract_notes(SourceChapter("ch.txt", lines, title_hint), NotesConfig(**config))  # type: ignore[arg-type]


def shown(noted: NotedChapter) -> str:
    """The chapter's non-blank lines, each note reference written in its place as {KIND: words}."""

    def span(item: str | NoteRef) -> str:
        if isinstance(item, str):
            return item
        note = noted.notes[item.index]
        return "{" + f"{note.kind}: {note.text.replace(chr(10), ' / ')}" + "}"

    lines = ("".join(span(item) for item in line.spans).strip() for line in noted.lines)
    return "\n".join(line for line in lines if line)


def shown_text(text: str, **config: object) -> str:
    return shown(extract(text, **config)[0])


# Labelled notes in brackets


@pytest.mark.parametrize(
    ("note", "kind"),
    [
        ("(TL: a bow)", "TL"),
        ("(T/N: a bow)", "TL"),
        ("[TN: a bow]", "TL"),
        ("(TN: a bow)", "TL"),
        ("(Translator's note: a bow)", "TL"),
        ("(Translator’s Note: a bow)", "TL"),
        ("(Translator: a bow)", "TL"),
        ("(tl: a bow)", "TL"),
        ("(ED: a bow)", "ED"),
        ("(E/N: a bow)", "ED"),
        ("(Editor: a bow)", "ED"),
        ("(PR: a bow)", "PR"),
        ("(A/N: a bow)", "AN"),
        ("(Author's note: a bow)", "AN"),
        ("[A/N: a bow]", "AN"),
        ("（TL: a bow）", "TL"),
        ("（T/N：a bow）", "TL"),
        ("［ED: a bow］", "ED"),
        ("【A/N: a bow】", "AN"),
    ],
)
def test_a_labelled_note_in_brackets_becomes_a_reference_right_after_the_word_before_it(note: str, kind: str) -> None:
    assert shown_text(f"Chapter 1\n\nHe made {note} and left.") == "Chapter 1\nHe made{" + kind + ": a bow} and left."


def test_brackets_nested_inside_a_note_stay_in_the_note() -> None:
    text = "Chapter 1\n\nHe breathed (TL: the word [qi] means (roughly) breath) slowly."
    assert shown_text(text) == "Chapter 1\nHe breathed{TL: the word [qi] means (roughly) breath} slowly."


def test_a_note_that_runs_over_several_lines_is_one_note_of_several_paragraphs() -> None:
    text = "Chapter 1\n\nShe whispered (T/N: this line\nruns over\ntwo more lines) and left.\nNext paragraph."
    assert shown_text(text) == "Chapter 1\nShe whispered{TL: this line / runs over / two more lines}\nand left.\nNext paragraph."


def test_a_note_inside_a_parenthetical_leaves_the_parenthetical_in_the_story() -> None:
    assert shown_text("Chapter 1\n\nHe (as ever (TL: a joke) he did) smiled.") == "Chapter 1\nHe (as ever{TL: a joke} he did) smiled."


def test_full_width_brackets_between_english_words_leave_a_space_and_chinese_text_none() -> None:
    assert shown_text("Chapter 1\n\nThe qi（TL：vital energy）flowed.") == "Chapter 1\nThe qi{TL: vital energy} flowed."
    assert shown_text("第1章\n\n他说（TL：注）好。") == "第1章\n他说{TL: 注}好。"


def test_the_users_own_labels_are_notes_of_the_kind_they_name() -> None:
    labels = (("Raw", "TL"), ("Cleaner", "ED"))
    text = "Chapter 1\n\nThe dumpling (Raw: 饺子) steamed [Cleaner: typo fixed].\n\nStory ends.\n\nRaw: literally 'hot pot'"
    assert shown_text(text, labels=labels) == (
        "Chapter 1\nThe dumpling{TL: 饺子} steamed{ED: typo fixed}.\nStory ends.\n{TL: literally 'hot pot'}"
    )


def test_the_heading_and_the_novel_title_above_it_are_left_alone() -> None:
    text = "My Novel (TL: a title)\nChapter 5: The Pun (TL: a pun)\n\nText (TL: note) here."
    assert shown_text(text) == "My Novel (TL: a title)\nChapter 5: The Pun (TL: a pun)\nText{TL: note} here."


def test_the_title_the_source_gave_is_passed_on_and_its_line_left_alone() -> None:
    noted, _ = extract("Information\nA/N: hello\nText.", title_hint="Information")
    assert noted.title_hint == "Information"
    assert shown(noted) == "Information\n{AN: hello}\nText."


def test_emphasis_marks_hide_neither_a_heading_nor_a_label() -> None:
    bold, plain = f"{STRONG_OPEN}Chapter 1 (TL: pun){STRONG_CLOSE}", f"{STRONG_OPEN}A/N:{STRONG_CLOSE} hello"
    assert shown_text(f"{bold}\n\n{plain}\n\nText.") == f"{bold}\n" + "{AN: hello}\nText."


def test_bracket_pairs_match_by_shape_in_one_pass_ignoring_strays() -> None:
    assert bracket_pairs("（a) [b］ c) ]") == {0: 2, 4: 6}


# Numbered markers and the notes block at the end of the chapter


@pytest.mark.parametrize("marker", ["[1]", "(1)", "¹", "*"])
def test_a_marker_in_the_text_links_to_the_entry_that_starts_with_it(marker: str) -> None:
    text = f"Chapter 1\n\nThe mooncake{marker} was sweet.\n\nTL Notes:\n{marker} A pastry for the moon festival."
    assert shown_text(text) == "Chapter 1\nThe mooncake{TL: A pastry for the moon festival.} was sweet."


@pytest.mark.parametrize("heading", ["TL Notes:", "Translator's Notes:", "Notes:", "T/N:", "Translator Notes", "Footnotes:"])
def test_every_notes_block_heading_is_recognised(heading: str) -> None:
    text = f"Chapter 1\n\nThe mooncake [1] was sweet.\n\n{heading}\n[1]: A pastry."
    assert shown_text(text) == "Chapter 1\nThe mooncake{TL: A pastry.} was sweet."


def test_a_block_of_several_entries_links_each_marker_and_keeps_an_entrys_later_paragraphs() -> None:
    text = (
        "Chapter 1\n\nMooncakes[1] and zongzi[2] on the table.\nMore mooncakes[1].\n\n"
        "Translator's Notes:\n[1] A pastry.\nEaten at the moon festival.\n\n[2] Rice dumplings."
    )
    noted, _ = extract(text)
    assert shown(noted) == (
        "Chapter 1\nMooncakes{TL: A pastry. / Eaten at the moon festival.} and zongzi{TL: Rice dumplings.} on the table.\n"
        "More mooncakes{TL: A pastry. / Eaten at the moon festival.}."
    )
    assert len(noted.notes) == 2


def test_an_entry_whose_marker_is_not_in_the_text_stays_after_the_story() -> None:
    text = "Chapter 1\n\nThe mooncake[1] was sweet.\nThe end.\n\nTL Notes:\n[1] A pastry.\n[2] Unused."
    assert shown_text(text) == "Chapter 1\nThe mooncake{TL: A pastry.} was sweet.\nThe end.\n{TL: Unused.}"


def test_an_author_block_gives_its_entries_the_author_kind() -> None:
    text = "Chapter 1\n\nThe cake* was sweet.\n\nAuthor's Notes:\n* My favourite cake."
    assert shown_text(text) == "Chapter 1\nThe cake{AN: My favourite cake.} was sweet."


# Whole-paragraph notes at the start or the end of a chapter


def test_an_authors_note_opening_the_chapter_keeps_its_place_before_the_story() -> None:
    text = "Chapter 1: Start\n\nAuthor's Note: Sorry for the delay!\n\nShe woke.\nShe left."
    assert shown_text(text) == "Chapter 1: Start\n{AN: Sorry for the delay!}\nShe woke.\nShe left."


def test_a_note_after_the_pages_repeated_heading_still_opens_the_chapter() -> None:
    text = "Chapter 5 - Dawn\nChapter 5: Dawn\nA/N: Short one today.\nShe woke."
    assert shown_text(text) == "Chapter 5 - Dawn\nChapter 5: Dawn\n{AN: Short one today.}\nShe woke."


@pytest.mark.parametrize(("paragraph", "kind"), [("A/N: Thanks for reading!", "AN"), ("TL Note: Thanks for reading!", "TL"),
                                                 ("Author's Note: Thanks for reading!", "AN"), ("E/N: Thanks for reading!", "ED"),
                                                 ("[T/N: Thanks for reading!]", "TL")])  # fmt: skip
def test_a_note_paragraph_closing_the_chapter_keeps_its_place_after_the_story(paragraph: str, kind: str) -> None:
    text = f"Chapter 1\n\nShe woke.\nShe left.\n\n{paragraph}"
    assert shown_text(text) == "Chapter 1\nShe woke.\nShe left.\n{" + kind + ": Thanks for reading!}"


def test_translators_thoughts_are_one_note_of_the_paragraphs_under_the_heading() -> None:
    text = "Chapter 1\n\nShe left.\n\nTranslator's Thoughts\nWhat a chapter.\n\nSee you Monday."
    assert shown_text(text) == "Chapter 1\nShe left.\n{TL: What a chapter. / See you Monday.}"


def test_closing_notes_of_several_forms_follow_one_another() -> None:
    text = "Chapter 1\n\nThe cake[1] was sweet.\n\nTL Notes:\n[1] A pastry.\n\nA/N: Bye!\nSee you."
    assert shown_text(text) == "Chapter 1\nThe cake{TL: A pastry.} was sweet.\n{AN: Bye! / See you.}"


def test_a_note_paragraph_in_the_middle_of_the_story_hangs_on_the_paragraph_before_it() -> None:
    text = "Chapter 1\n\nShe woke.\n(A/N: this scene was hard.)\nShe left."
    assert shown_text(text) == "Chapter 1\nShe woke.{AN: this scene was hard.}\nShe left."


def test_a_chapter_of_nothing_but_a_note_keeps_its_reference_on_a_line_of_its_own() -> None:
    noted, _ = extract("Chapter 9: Hiatus\n\nA/N: Back in two weeks.")
    assert [line.spans for line in noted.lines] == [("Chapter 9: Hiatus",), ("",), (NoteRef(0),)]


def test_notes_are_numbered_in_the_order_the_reader_meets_them() -> None:
    noted, _ = extract("Chapter 1\n\nAuthor's Note: first met late.\n\nOne[1] (TL: two) three.\n\nTL Notes:\n[1] one.")
    assert [note.text for note in noted.notes] == ["first met late.", "one.", "two"]


# What is not a note stays story text, untouched

STORY_LIKE = 13
"""The traps before this index are one line of story each; the books hold them too (the credit lines
after them are the clean stage's to remove)."""

NOT_NOTES = [
    "He smiled (a little sadly) and left.",
    "[Hello?] she called through the door.",
    "(Stop right there!) he thought.",
    "[System: Quest accepted]",
    "[Strength: 12]",
    "[Skill: Fireball (Lv. 3)] [Mana: 40/40]",
    "A bare marker [1] with no notes block.",
    "Choose: (1) run, (2) fight.",
    "*sigh* She rolled her eyes at his *bold* plan.",
    "E = mc² is famous.",
    "(TL;DR: he lost.)",
    "(Edit: the door was open.)",
    "(Note: the sign read CLOSED.)",
    "TL: ready for the meeting",
    "Translator: Mo Lin",
    "Editor: Bo Reed",
    "An open bracket (TL: that never closes.",
    "She paused (TL: a pause that\n" + "goes on\n" * 12 + "for too many lines) and went on.",
    "Her list read:\n\nNotes:\n* buy milk\n* feed the cat",
    "The end.\n\nNotes:\n[1] a list item, while the text has no [1] before it",
    "***\nA/N",
]


@pytest.mark.parametrize("story", NOT_NOTES, ids=range(len(NOT_NOTES)))
def test_what_is_not_a_note_stays_in_the_story_untouched(story: str) -> None:
    text = f"Chapter 1\n\n{story}"
    noted, removals = extract(text)
    assert (noted.notes, removals) == ((), ())
    assert [line.text for line in noted.lines] == text.split("\n")


# Modes, chapter by chapter


def test_a_dropped_note_leaves_one_space_and_is_recorded_as_written() -> None:
    noted, removals = extract("Chapter 1\n\nHe bowed (TL: a gesture) and left.\nDone (A/N: bye).", mode="drop")
    assert shown(noted) == "Chapter 1\nHe bowed and left.\nDone."
    assert removals == (
        Removal("ch.txt", 3, "(TL: a gesture)", "note:TL:drop", stage="notes"),
        Removal("ch.txt", 4, "(A/N: bye)", "note:AN:drop", stage="notes"),
    )


def test_a_dropped_numbered_note_takes_its_markers_and_its_block_with_it() -> None:
    noted, removals = extract("Chapter 1\n\nThe cake [1] was sweet[1].\n\nTL Notes:\n[1] A pastry.", mode="drop")
    assert shown(noted) == "Chapter 1\nThe cake was sweet."
    assert removals == (Removal("ch.txt", 5, "TL Notes:\n[1] A pastry.", "note:TL:drop", stage="notes"),)


def test_an_inline_note_stays_where_it_was_written_with_its_spaces() -> None:
    noted, _ = extract("Chapter 1\n\nHe bowed (TL: a gesture) and left.\n\nA/N: bye", mode="inline")
    assert shown(noted) == "Chapter 1\nHe bowed {TL: a gesture} and left.\n{AN: bye}"
    assert {note.mode for note in noted.notes} == {"inline"}


def test_an_inline_numbered_note_stays_in_its_block_and_keeps_its_marker() -> None:
    noted, _ = extract("Chapter 1\n\nThe cake[1] was sweet.\n\nTL Notes:\n[1] A pastry.", mode="inline")
    assert shown(noted) == "Chapter 1\nThe cake[1] was sweet.\n{TL: [1] A pastry.}"


def test_each_kind_can_have_its_own_mode() -> None:
    by_kind = (("AN", "drop"), ("ED", "inline"), ("PR", "endnote"))
    noted, removals = extract("Chapter 1\n\nA (TL: t) b (ED: e) c (PR: p) d (A/N: a) e.", by_kind=by_kind)
    assert shown(noted) == "Chapter 1\nA{TL: t} b (ED: e} c{PR: p} d e.".replace("(ED", "{ED")
    assert [note.mode for note in noted.notes] == ["footnote", "inline", "endnote"]
    assert [removal.rule for removal in removals] == ["note:TL:footnote", "note:ED:inline", "note:PR:endnote", "note:AN:drop"]


def test_every_note_found_is_in_the_audit_with_its_line_in_every_mode() -> None:
    text = "Chapter 1\n\nAuthor's Note: hi\n\nOne (TL: a)\ntwo[1].\n\nNotes:\n[1] b"
    for mode in ("footnote", "endnote", "inline", "drop"):
        _, removals = extract(text, mode=mode)
        assert [(removal.line, removal.text, removal.stage) for removal in removals] == [
            (3, "Author's Note: hi", "notes"),
            (5, "(TL: a)", "notes"),
            (8, "Notes:\n[1] b", "notes"),
        ]


# Linear time on hostile input (a hang here would be the failure)


@pytest.mark.parametrize(
    "line",
    ["(TL: " * 60_000, "(" * 150_000 + "]" * 150_000, "(TL: (" * 50_000 + ")" * 50_000, "(TL" + " " * 300_000, "*a " * 100_000],
    ids=["unclosed-notes", "mismatched-brackets", "nested-notes", "label-then-spaces", "asterisks"],
)
def test_a_300_kb_line_of_brackets_is_scanned_in_linear_time(line: str) -> None:
    noted, _ = extract(f"Chapter 1\n\n{line}\n\nTL Notes:\n* a star")
    assert len(noted.lines) >= 2


def test_a_300_kb_line_of_notes_gives_every_note() -> None:
    noted, _ = extract("Chapter 1\n\n" + "word (TL: x) " * 23_000)
    assert len(noted.notes) == 23_000


# The fast ways: searches over the whole chapter first, and only the lines they find taken apart

PIECES = ["TL", "T/N", "A/N", "Author's", "Translator’s", " Note", " Thoughts", "Notes", "Footnotes", "ED", "Raw", "word", "qi",
          ":", "：", " ", "  ", "\t", "\u3000", "(", ")", "[", "]", "（", "）", "【", "】", "[1]", "(1)", "¹", "*", "1.",
          "Chapter 1", "***", "o0o", EM_OPEN, EM_CLOSE, STRONG_OPEN, "\n", "\n\n",
          "(TL: ", "[T/N: ", "（A/N：", "\nA/N: ", "\nTL Notes:\n", "\nNotes:\n", "\n[1] "]  # fmt: skip
chapters = st.lists(st.lists(st.sampled_from(PIECES), max_size=6).map("".join), max_size=10).map("\n".join)


def extract_the_long_way(text: str, **config: object) -> tuple[NotedChapter, tuple[Removal, ...]]:
    """extract, with no search over the whole chapter (every line may hold a label or a marker) and
    every line of story taken apart and put together again."""

    def one_region_of_every_line(cuts: list[object], starts: list[int]) -> list[tuple[int, int, list[object]]]:
        return [(0, len(starts) - 1, cuts)]

    with patch("epubgen.notes.joined_lines", return_value=None), patch("epubgen.notes._regions", one_region_of_every_line):
        return extract(text, **config)


@settings(max_examples=300, deadline=None)
@given(chapters, st.sampled_from(["footnote", "endnote", "inline", "drop"]), st.sampled_from([(), (("Raw", "TL"),), (("", "ED"),)]))
def test_the_fast_way_finds_and_cuts_what_the_long_way_does(text: str, mode: str, labels: tuple[tuple[str, str], ...]) -> None:
    assert extract(text, mode=mode, labels=labels) == extract_the_long_way(text, mode=mode, labels=labels)


@pytest.mark.parametrize(
    "text",
    [
        "Chapter 1\n\nShe left.\n\n  \u3000TL Notes:\n[1] never used.",
        "Chapter 1\n\nShe left¹.\n\n\tFootnotes\n¹ a note",
        f"Chapter 1\n\nShe left.\n\n{EM_OPEN}A/N{EM_CLOSE}: bye",
        "Chapter 1\n\nShe left (\u3000TL : a note).",
        "Chapter 1\n\nOne (TL: a\nnote) two[1]\nthree (A/N: b) four[1].\n\nNotes:\n[1] c",
    ],
)
def test_labels_after_white_space_or_emphasis_marks_are_found_the_fast_way_too(text: str) -> None:
    assert extract(text)[0].notes
    assert extract(text) == extract_the_long_way(text)


def test_notes_in_brackets_that_share_lines_are_cut_from_each_of_their_lines() -> None:
    text = "Chapter 1\n\nOne (TL: a) two (TL: b\nc) three (TL: d\ne\nf) four.\nFive (TL: g) six."
    assert shown_text(text) == "Chapter 1\nOne{TL: a} two{TL: b / c}\nthree{TL: d / e / f}\nfour.\nFive{TL: g} six."


def test_a_note_paragraph_with_story_after_it_is_story_only_the_last_run_closes_the_chapter() -> None:
    text = "Chapter 1\n\nShe woke.\n\nA/N: one\n\nShe left.\n\nA/N: two\n\nA/N: three"
    assert shown_text(text) == "Chapter 1\nShe woke.\nA/N: one\nShe left.\n{AN: two}\n{AN: three}"


def test_a_note_paragraph_after_a_scene_break_hangs_on_the_story_before_the_break() -> None:
    text = "Chapter 1\n\nShe woke.\n\n***\n\n(A/N: a hard scene)\n\nShe left."
    assert shown_text(text) == "Chapter 1\nShe woke.{AN: a hard scene}\n***\nShe left."


def test_notes_before_the_first_line_of_story_keep_their_places_over_a_scene_break() -> None:
    text = "Chapter 1\n\nA/N: first\n\n***\n(TL: second)\n\nShe woke (TL: third)."
    assert shown_text(text) == "Chapter 1\n{AN: first}\n***\n{TL: second}\nShe woke{TL: third}."


def anchored_line_by_line(lines: list[TextLine], notes: _Collector) -> list[TextLine]:
    """notes._anchored written plainly: every line looked at, one at a time (the oracle of the runs)."""
    story = [index for index, line in enumerate(lines) if _is_story(line.text)]
    result: list[TextLine] = []
    hung: dict[int, list[NoteRef]] = {}
    last_story: int | None = None
    for index, line in enumerate(lines):
        refs = [span for span in line.spans if isinstance(span, NoteRef)]
        if _is_story(line.text) or not refs:
            last_story = len(result) if _is_story(line.text) else last_story
            result.append(line)
            continue
        in_story = last_story is not None and index < story[-1]
        loose = [ref for ref in refs if notes.mode(ref) != "inline"]
        if in_story and loose:
            hung.setdefault(last_story, []).extend(loose)
        if line.text.strip():
            result.append(TextLine(line.number, (line.text,)))
        staying = [ref for ref in refs if not in_story or notes.mode(ref) == "inline"]
        if staying:
            result.append(TextLine(line.number, tuple(staying)))
    for index, refs in hung.items():
        spans = result[index].spans
        spans = (*spans[:-1], spans[-1].rstrip()) if isinstance(spans[-1], str) else spans
        result[index] = TextLine(result[index].number, (*spans, *refs))
    return result


def renumbered_line_by_line(lines: list[TextLine], notes: list[Note]) -> tuple[tuple[TextLine, ...], tuple[Note, ...]]:
    """notes._renumbered as it was written first: every line looked at (the oracle of the lines with references)."""
    order: dict[int, int] = {}
    renumbered = []
    for line in lines:
        for span in line.spans:
            if isinstance(span, NoteRef):
                order.setdefault(span.index, len(order))
        spans = tuple(NoteRef(order[span.index]) if isinstance(span, NoteRef) else span for span in line.spans)
        renumbered.append(TextLine(line.number, spans) if spans != line.spans else line)
    return tuple(renumbered), tuple(notes[index] for index in order)


SPANS = ["", " ", "She left. ", "word", "***", "Chapter 2", "o0o", "  "]
line_spans = st.lists(st.one_of(st.sampled_from(SPANS), st.builds(NoteRef, st.integers(0, 3))), max_size=3).map(tuple)


@settings(max_examples=400, deadline=None)
@given(st.lists(line_spans, max_size=14), st.lists(st.sampled_from(["footnote", "endnote", "inline"]), min_size=4, max_size=4))
def test_references_are_hung_and_numbered_looking_only_at_the_lines_that_hold_them_as_line_by_line(
    spans: list[tuple[str | NoteRef, ...]], modes: list[str]
) -> None:
    notes = _Collector("ch.txt", NotesConfig(), notes=[Note("TL", f"note {index}", mode) for index, mode in enumerate(modes)])
    lines = [TextLine(number, line_spans) for number, line_spans in enumerate(spans, 1)]
    anchored = _anchored(lines, notes)
    assert anchored == anchored_line_by_line(lines, notes)
    assert _renumbered(anchored, notes.notes) == renumbered_line_by_line(anchored, notes.notes)


# Whole books, one per mode, holding every form

FORMS = {
    "01.txt": "Chapter 1: Labels\n\n"
    "He bowed (TL: a gesture of respect) and left.\n"
    'She frowned [T/N: literally "ate vinegar"] at him.\n'
    "The elder (TN: a sect elder) nodded.\n"
    "He ate (Translator's note: zongzi are rice dumplings) happily.\n"
    'They met (Translator: the original says "fated") again.\n'
    "The sword (ED: fixed a typo) gleamed.\n"
    "The pill (E/N: a healing pill) glowed.\n"
    "The gate (Editor: renamed) opened.\n"
    "The river (PR: checked) ran.\n"
    "He laughed (A/N: my favourite scene) loudly.\n"
    "She sighed (Author's note: based on my aunt) deeply.\n"
    "The qi（TL：vital energy）flowed.\n"
    "The dao［TL: the way］shone.\n"
    "He said (TL: the word [qi] means (roughly) breath) softly.\n"
    "She whispered (T/N: this line\nruns over two lines) and left.\n"
    "The dumpling (Raw: jiaozi) steamed.\n",
    "02.txt": "Chapter 2: Markers\n\n"
    "The mooncake[1] was sweet (1) and the tea¹ hot, the rice* fresh.\n"
    "Another mooncake[1].\n\n"
    "TL Notes:\n[1] A pastry.\nEaten at the moon festival.\n(1) A second note.\n¹ Green tea.\n* Jasmine rice.\n",
    "03.txt": "Chapter 3: Paragraphs\n\nAuthor's Note: Sorry for the delay!\n\nShe woke.\nShe left.\n\nA/N: Thanks for reading!\n",
    "04.txt": "Chapter 4: Sections\n\nThe cake[2] was sweet.\n\nNotes:\n[2] A sponge.\n\nTL Note: a paragraph note.\n\n"
    "Translator's Thoughts\nWhat a chapter.\nSee you Monday.\n",
    "05.txt": "Chapter 5: Not notes\n\n" + "\n".join(NOT_NOTES[:STORY_LIKE]) + "\n",
    "06.txt": "Chapter 6: Thirty\n\n" + "\n".join(f"Line {n} has a note (TL: note {n}) here." for n in range(1, 31)) + "\n",
}
NOTES_IN_FORMS = 16 + 4 + 2 + 3 + 0 + 30
NOT_NOTE_LINES = NOT_NOTES[:STORY_LIKE]
MODES = ("footnote", "endnote", "inline", "drop")


@pytest.fixture(scope="module")
def books(tmp_path_factory: pytest.TempPathFactory) -> dict[str, OpenedEpub]:
    os.environ["SOURCE_DATE_EPOCH"] = "1700000000"
    try:
        folder = write_chapters(tmp_path_factory.mktemp("forms") / "chapters", FORMS)
        out = tmp_path_factory.mktemp("out")
        return {
            mode: OpenedEpub(build(folder, BookConfig(title="Notes", notes=NotesConfig(mode, labels=(("Raw", "TL"),))), out / f"{mode}.epub").path)
            for mode in MODES
        }
    finally:
        del os.environ["SOURCE_DATE_EPOCH"]


class Documents:
    """A built book's content documents (chapters and endnotes), parsed, by their path in the zip."""

    def __init__(self, book: OpenedEpub):
        self.book = book
        self.trees = {name: book.xml(name) for name in book.names if name.startswith("EPUB/text/")}

    def elements(self, xpath: str) -> list[tuple[str, etree._Element]]:
        return [(name, element) for name, tree in self.trees.items() for element in tree.iterfind(xpath, NS)]

    def ids(self) -> list[str]:
        return [f"{name}#{element.get('id')}" for name, element in self.elements(".//*[@id]")]

    def target(self, name: str, href: str) -> etree._Element | None:
        """The element an href in document name points to: `#x` in the same document, `file.xhtml#x` beside it."""
        file, _, fragment = href.partition("#")
        document = f"EPUB/text/{file}" if file else name
        found = self.trees[document].xpath("//*[@id=$id]", id=fragment) if document in self.trees else []
        return found[0] if found else None

    def noterefs(self) -> list[tuple[str, etree._Element]]:
        return self.elements(".//x:a[@role='doc-noteref']")


def text_of(element: etree._Element) -> str:
    return "".join(element.itertext())


@pytest.mark.parametrize("mode", MODES)
def test_every_mode_makes_a_book_epubcheck_accepts(books: dict[str, OpenedEpub], mode: str) -> None:
    assert_valid(books[mode].path)


@pytest.mark.parametrize("mode", MODES)
def test_ids_are_unique_across_the_whole_book(books: dict[str, OpenedEpub], mode: str) -> None:
    ids = [element.get("id") for _, element in Documents(books[mode]).elements(".//*[@id]")]
    assert [name for name, count in Counter(ids).items() if count > 1] == []


@pytest.mark.parametrize("mode", MODES)
def test_the_stories_that_are_not_notes_reach_the_book_untouched(books: dict[str, OpenedEpub], mode: str) -> None:
    assert books[mode].paragraphs(4) == NOT_NOTE_LINES


@pytest.mark.parametrize("mode", ["footnote", "endnote"])
def test_every_reference_and_every_note_link_to_each_other(books: dict[str, OpenedEpub], mode: str) -> None:
    documents = Documents(books[mode])
    notes = documents.elements(f".//*[@epub:type='{mode}']")
    assert len(notes) == NOTES_IN_FORMS
    referenced = set()
    for name, ref in documents.noterefs():
        note = documents.target(name, ref.get("href"))
        assert note is not None and note.get(EPUB_TYPE) == mode, ref.get("href")
        referenced.add(note.get("id"))
        backlink = note.find(".//x:a[@role='doc-backlink']", NS)
        first_ref = documents.target(documents_name(documents, note), backlink.get("href"))
        assert first_ref is not None and first_ref.get(EPUB_TYPE) == "noteref"
        assert documents.target(documents_name(documents, first_ref), first_ref.get("href")) is note
    assert referenced == {note.get("id") for _, note in notes}


def documents_name(documents: Documents, element: etree._Element) -> str:
    return next(name for name, tree in documents.trees.items() if element.getroottree().getroot() is tree)


def test_a_footnote_reference_is_the_markup_readers_pop_up(books: dict[str, OpenedEpub]) -> None:
    chapter = books["footnote"].chapter(0)
    paragraph = chapter.find(".//x:section/x:p", NS)
    assert text_of(paragraph) == "He bowed1 and left."
    ref = paragraph.find("x:a", NS)
    assert dict(ref.attrib) == {"href": "#note-1-1", "id": "noteref-1-1", EPUB_TYPE: "noteref", "role": "doc-noteref"}


def test_footnotes_are_asides_after_the_text_labelled_with_their_kind_and_linking_back(books: dict[str, OpenedEpub]) -> None:
    section = books["footnote"].chapter(0).find(".//x:section", NS)
    tags = [etree.QName(child).localname for child in section]
    assert tags == ["h2"] + ["p"] * 17 + ["aside"] * 16
    first = section.find("x:aside", NS)
    assert (first.get("id"), first.get(EPUB_TYPE), first.get("role")) == ("note-1-1", "footnote", "doc-footnote")
    assert text_of(first) == "1. TL: a gesture of respect"
    assert first.find(".//x:a", NS).attrib == {"href": "#noteref-1-1", "role": "doc-backlink", "class": "note-number"}
    kinds = [text_of(span) for span in section.iterfind("x:aside//x:span[@class='note-kind']", NS)]
    assert kinds == ["TL:"] * 5 + ["ED:"] * 3 + ["PR:", "AN:", "AN:"] + ["TL:"] * 5
    assert books["footnote"].chapter(0).find(".//x:p//x:aside", NS) is None


def test_a_note_of_several_paragraphs_is_an_aside_of_several_paragraphs(books: dict[str, OpenedEpub]) -> None:
    asides = books["footnote"].chapter(1).findall(".//x:aside", NS)
    assert [text_of(p) for p in asides[0].iterfind("x:p", NS)] == ["1. TL: A pastry.", "Eaten at the moon festival."]


def test_markers_become_numbered_references_in_the_sentence(books: dict[str, OpenedEpub]) -> None:
    assert books["footnote"].paragraphs(1) == ["The mooncake1 was sweet2 and the tea3 hot, the rice4 fresh.", "Another mooncake1."]


def test_whole_paragraph_notes_before_or_after_the_story_are_links_named_for_their_kind(books: dict[str, OpenedEpub]) -> None:
    assert books["footnote"].paragraphs(2) == ["Author's note", "She woke.", "She left.", "Author's note"]
    assert books["footnote"].paragraphs(3) == ["The cake1 was sweet.", "Translator's note", "Translator's note"]


def test_a_chapter_with_thirty_notes_numbers_them_one_to_thirty(books: dict[str, OpenedEpub]) -> None:
    chapter = books["footnote"].chapter(5)
    assert [text_of(ref) for ref in chapter.iterfind(".//x:a[@role='doc-noteref']", NS)] == [str(n) for n in range(1, 31)]
    assert len(chapter.findall(".//x:aside[@role='doc-footnote']", NS)) == 30


def test_no_element_with_an_id_and_an_epub_type_turns_into_a_fake_page_list(books: dict[str, OpenedEpub]) -> None:
    nav = books["footnote"].xml("EPUB/nav.xhtml")
    assert nav.find(".//x:nav[@epub:type='page-list']", NS) is None


def test_endnotes_are_gathered_in_a_notes_section_at_the_end_listed_in_the_toc(books: dict[str, OpenedEpub]) -> None:
    book = books["endnote"]
    assert book.spine_files()[-1] == "text/notes.xhtml"
    assert book.nav_labels()[-1] == "Notes"
    ncx = book.xml("EPUB/toc.ncx")
    assert [text.text for text in ncx.iterfind(".//ncx:navPoint/ncx:navLabel/ncx:text", NS)][-1] == "Notes"
    notes = book.xml("EPUB/text/notes.xhtml")
    section = notes.find(".//x:section[@epub:type='endnotes']", NS)
    assert section.get("role") == "doc-endnotes"
    groups = [text_of(heading) for heading in section.iterfind("x:section/x:h3", NS)]
    assert groups == ["Chapter 1: Labels", "Chapter 2: Markers", "Chapter 3: Paragraphs", "Chapter 4: Sections", "Chapter 6: Thirty"]
    assert notes.find(".//*[@role='doc-endnote']", NS) is None
    assert book.chapter(0).find(".//x:aside", NS) is None
    first = book.chapter(0).find(".//x:a[@role='doc-noteref']", NS)
    assert first.get("href") == "notes.xhtml#note-1-1"


def test_inline_notes_stay_in_the_sentence_marked_up_as_notes(books: dict[str, OpenedEpub]) -> None:
    book = books["inline"]
    assert book.paragraphs(0)[0] == "He bowed (TL: a gesture of respect) and left."
    note = book.chapter(0).find(".//x:p/x:span[@class='note note-tl']", NS)
    assert text_of(note) == "(TL: a gesture of respect)"
    assert note.find("x:span[@class='note-kind']", NS).text == "TL:"
    assert book.chapter(0).find(".//x:a", NS) is None
    assert "text/notes.xhtml" not in book.spine_files()


def test_inline_paragraph_notes_are_note_asides_where_they_were(books: dict[str, OpenedEpub]) -> None:
    section = books["inline"].chapter(2).find(".//x:section", NS)
    assert [(etree.QName(child).localname, child.get("role"), text_of(child)) for child in section] == [
        ("h2", None, "Chapter 3: Paragraphs"),
        ("aside", "note", "AN: Sorry for the delay!"),
        ("p", None, "She woke."),
        ("p", None, "She left."),
        ("aside", "note", "AN: Thanks for reading!"),
    ]


def test_dropped_notes_leave_no_trace_in_the_book_and_are_all_in_its_audit(books: dict[str, OpenedEpub], tmp_path: Path) -> None:
    book = books["drop"]
    assert Documents(book).elements(".//x:aside") == Documents(book).elements(".//x:span[@class]") == []
    assert book.paragraphs(0)[:2] == ["He bowed and left.", "She frowned at him."]
    assert book.paragraphs(2) == ["She woke.", "She left."]
    folder = write_chapters(tmp_path / "c", FORMS)
    result = build(folder, BookConfig(notes=NotesConfig("drop", labels=(("Raw", "TL"),))), tmp_path / "b.epub")
    dropped = [removal for removal in result.book.removals if removal.stage == "notes"]
    assert len(dropped) == NOTES_IN_FORMS
    assert {removal.rule.rsplit(":", 1)[1] for removal in dropped} == {"drop"}


def test_emphasis_around_a_reference_keeps_it_inside_and_a_note_keeps_its_own_emphasis() -> None:
    paragraph = Paragraph((f"She walked {EM_OPEN}slowly", NoteRef(0), f"{EM_CLOSE} past.{EM_CLOSE}"))
    notes = (Note("TL", f"a {STRONG_OPEN}pun{STRONG_CLOSE}"), Note("AN", f"{EM_OPEN}aside{EM_CLOSE}", "inline"))
    chapter = Chapter("1.txt", Heading(number=None), (paragraph, Paragraph(("Then", NoteRef(1), "."))), notes)
    document = etree.fromstring(chapter_document(chapter, 1, "en", ("style.css",)))
    first, second = document.iterfind(".//x:section/x:p", NS)
    assert etree.tostring(first, encoding=str, with_tail=False).split(">", 1)[1] == (
        'She walked <em>slowly<a href="#note-1-1" id="noteref-1-1" epub:type="noteref" role="doc-noteref"><sup>1</sup></a></em> past.</p>'
    )
    assert document.find(".//x:aside//x:strong", NS).text == "pun"
    assert second.find("x:span/x:em", NS).text == "aside"


def test_an_endnote_book_is_byte_identical_when_built_twice(tmp_path: Path) -> None:
    folder = write_chapters(tmp_path / "c", FORMS)
    config = BookConfig(title="Notes", notes=NotesConfig("endnote"))
    assert build(folder, config, tmp_path / "one.epub").path.read_bytes() == build(folder, config, tmp_path / "two.epub").path.read_bytes()


def test_book_toml_gives_each_kind_its_own_mode_in_one_valid_book(tmp_path: Path) -> None:
    folder = write_chapters(tmp_path / "c", {
        "1.txt": "Chapter 1\n\nA (TL: t) b (ED: e) c (PR: p) d (A/N: a) e (Raw: r) f.\n",
        "2.txt": "Chapter 2\n\nG (TL: t2) h (ED: e2) i.\n",
        "book.toml": '[notes]\nmode = "footnote"\nby_kind = { ED = "endnote", AN = "inline", PR = "drop" }\nlabels = { "Raw" = "ED" }\n',
    })  # fmt: skip
    book = OpenedEpub(build(folder, load_config(folder), tmp_path / "b.epub").path)
    assert book.paragraphs(0) == ["A1 b2 c d (AN: a) e3 f."]
    assert [ref.get("href") for ref in book.chapter(0).iterfind(".//x:a[@role='doc-noteref']", NS)] == [
        "#note-1-1", "notes.xhtml#note-1-2", "notes.xhtml#note-1-3",
    ]  # fmt: skip
    assert [text_of(aside) for aside in book.chapter(0).iterfind(".//x:aside", NS)] == ["1. TL: t"]
    endnotes = [text_of(item) for item in book.xml("EPUB/text/notes.xhtml").iterfind(".//x:ol/x:li", NS)]
    assert endnotes == ["2. ED: e", "3. ED: r", "2. ED: e2"]
    assert_valid(book.path)


def test_a_book_of_three_thousand_notes_is_valid(tmp_path: Path) -> None:
    def chapter(number: int) -> str:
        lines = [f"Line {n} (TL: note {n}) and a marker[{n}] here." for n in range(1, 16)]
        entries = [f"[{n}] entry {n}" for n in range(1, 16)]
        return "\n".join([f"Chapter {number}: Many notes", "", *lines, "", "TL Notes:", *entries])

    folder = write_chapters(tmp_path / "c", {f"{number:03d}.txt": chapter(number) for number in range(1, 101)})
    book = OpenedEpub(build(folder, BookConfig(title="Many"), tmp_path / "b.epub").path)
    documents = Documents(book)
    assert len(documents.elements(".//x:aside[@role='doc-footnote']")) == 3000
    assert len(documents.noterefs()) == 3000
    assert len(set(documents.ids())) == len(documents.ids()) == 6000
    assert_valid(book.path)
