"""The heading parser: every form a downloaded chapter starts with, and prose that only looks like one."""

from decimal import Decimal

import pytest

from epubgen.headings import parse_heading
from epubgen.model import Heading

PARSED = [
    ("Chapter 12: The Storm", Heading("chapter", Decimal(12), "The Storm"), "Chapter 12: The Storm"),
    ("Chapter 12 - The Storm", Heading("chapter", Decimal(12), "The Storm"), "Chapter 12: The Storm"),
    ("CHAPTER 12 — The Storm", Heading("chapter", Decimal(12), "The Storm"), "Chapter 12: The Storm"),
    ("Ch. 12 The Storm", Heading("chapter", Decimal(12), "The Storm"), "Chapter 12: The Storm"),
    ("Chapter 12", Heading("chapter", Decimal(12)), "Chapter 12"),
    ("Chapter 2524 Escape from the Sea", Heading("chapter", Decimal(2524), "Escape from the Sea"), "Chapter 2524: Escape from the Sea"),
    ("Chapter 6: Title (Part 2)", Heading("chapter", Decimal(6), "Title", part=2), "Chapter 6: Title (Part 2)"),
    ("Chapter 6 Part 2", Heading("chapter", Decimal(6), part=2), "Chapter 6: Part 2"),
    ("Chapter 12.5: Interval", Heading("chapter", Decimal("12.5"), "Interval"), "Chapter 12.5: Interval"),
    ("Vol. 2 Ch. 3 - Homecoming", Heading("chapter", Decimal(3), "Homecoming", volume=2), "Chapter 3: Homecoming"),
    ("Volume 2 Chapter 1: Ashes", Heading("chapter", Decimal(1), "Ashes", volume=2), "Chapter 1: Ashes"),
    ("Volume IV Chapter 9", Heading("chapter", Decimal(9), volume=4), "Chapter 9"),
    ("Prologue", Heading("prologue"), "Prologue"),
    ("Prologue: Before the Fall", Heading("prologue", title="Before the Fall"), "Prologue: Before the Fall"),
    ("Epilogue", Heading("epilogue"), "Epilogue"),
    ("Side Story 3: The Cook", Heading("side story", Decimal(3), "The Cook"), "Side Story 3: The Cook"),
    ("Extra", Heading("extra"), "Extra"),
    ("第12章 风起", Heading("chapter", Decimal(12), "风起"), "Chapter 12: 风起"),
    ("第十二章 风起", Heading("chapter", Decimal(12), "风起"), "Chapter 12: 风起"),
    ("第一百零五章：归来", Heading("chapter", Decimal(105), "归来"), "Chapter 105: 归来"),
    ("第三卷 第二十章 雪", Heading("chapter", Decimal(20), "雪", volume=3), "Chapter 20: 雪"),
]


@pytest.mark.parametrize(("line", "heading", "label"), PARSED, ids=[case[0] for case in PARSED])
def test_heading_forms_parse_to_volume_number_part_and_title(line: str, heading: Heading, label: str) -> None:
    parsed = parse_heading(line)
    assert parsed == heading
    assert parsed.label == label


NOT_HEADINGS = [
    "Chapter 3 of the statutes says the debt is void.",
    "Chapter and verse, he could quote them all.",
    "Extra! Extra! Read all about it!",
    "Extra cheese, please.",
    "The prologue was the best part, she said.",
    "Chapter 12, as everyone knew, was cursed,",
    "",
    "Chapter 1: " + "x" * 200,
]


@pytest.mark.parametrize("line", NOT_HEADINGS)
def test_prose_that_starts_like_a_heading_is_not_one(line: str) -> None:
    assert parse_heading(line) is None
