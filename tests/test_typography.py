"""Typography: straight quotes, typed dashes and dot runs become the punctuation a typesetter would use.

The golden table is the specification: each row is a paragraph as typed and as it reads in the book.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass, fields, replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from epubgen import typography
from epubgen.model import Chapter, Heading, Note, NoteRef, Paragraph, SceneBreak, Span
from epubgen.typography import refine

GOLDEN = [
    # Dialogue.
    ('"Hello," she said.', "“Hello,” she said."),
    ('She said, "Come here."', "She said, “Come here.”"),
    ('"Stop!" "Why?"', "“Stop!” “Why?”"),
    ('"Wait--" he began.', "“Wait—” he began."),
    ('"I was going to--"', "“I was going to—”"),
    ('"...and then?"', "“…and then?”"),
    ('"Well..." she said.', "“Well…” she said."),
    # Nested quotes.
    ("\"She said 'no' to me.\"", "“She said ‘no’ to me.”"),
    ("\"He told me, 'Run.'\"", "“He told me, ‘Run.’”"),
    ("\"She said 'no'\", he replied.", "“She said ‘no’”, he replied."),
    ("'She said \"yes\",' he replied.", "‘She said “yes”,’ he replied."),
    ("\"'Tis nothing,\" he said.", "“’Tis nothing,” he said."),
    ("'Is it?' she asked.", "‘Is it?’ she asked."),
    # Apostrophes and elisions.
    ("I don't know, it's late.", "I don’t know, it’s late."),
    ("It was the '90s.", "It was the ’90s."),
    ("The summer of '69.", "The summer of ’69."),
    ("Get 'em!", "Get ’em!"),
    ("'em first", "’em first"),
    ("rock 'n' roll", "rock ’n’ roll"),
    ("O'Brien's rock'n'roll", "O’Brien’s rock’n’roll"),
    ("the students' books", "the students’ books"),
    ("'Tis the season, 'cause I said so.", "’Tis the season, ’cause I said so."),
    # Quotes after a dash or an opening bracket, and around plain-text emphasis.
    ("—'Wait'", "—‘Wait’"),
    ("('Yes')", "(‘Yes’)"),
    ('["Quoted"]', "[“Quoted”]"),
    ('He paused--"No."', "He paused—“No.”"),
    ('a so-called "expert"', "a so-called “expert”"),
    ('*"Hello"*', "*“Hello”*"),
    # Quotes at the start and the end of a paragraph.
    ('"And so it went on.', "“And so it went on."),
    ('It ended."', "It ended.”"),
    ("'Begin", "‘Begin"),
    ("the boys'", "the boys’"),
    # Text already typeset is left as it is; only the straight characters change.
    ("“Don’t,” she said—“please…”", "“Don’t,” she said—“please…”"),
    ("‘Yes’ – she said – ‘no’.", "‘Yes’ – she said – ‘no’."),
    ("“Don't,” she said.", "“Don’t,” she said."),
    # Dashes.
    ("Wait--what?", "Wait—what?"),
    ("Wait---what?", "Wait—what?"),
    ("He ran - fast - away.", "He ran — fast — away."),
    ("It was -- no.", "It was — no."),
    ("--Stop!", "—Stop!"),
    ("Level 1 --> Level 2 <-- back", "Level 1 --> Level 2 <-- back"),
    ("Sign here: ----------", "Sign here: ----------"),
    ("- a list item", "- a list item"),
    # Ellipses.
    ("Wait...", "Wait…"),
    ("Wait . . . what?", "Wait … what?"),
    ("Wait. . . . What?", "Wait… What?"),
    ("So......", "So…"),
    ("Version 1..2 only", "Version 1..2 only"),
    # URLs are never touched, but quotes around them are.
    ("See http://a.example/x--y... now", "See http://a.example/x--y... now"),
    ("Visit www.example.com/a--b today -- or not.", "Visit www.example.com/a--b today — or not."),
    ('"Go to https://a.example/it\'s-here"', "“Go to https://a.example/it's-here”"),
    ("'www.example.com'", "‘www.example.com’"),
    ("Awww... so cute", "Awww… so cute"),
    # Number ranges and hyphenated words stay hyphenated.
    ("pages 10-20", "pages 10-20"),
    ("from 1990-1995", "from 1990-1995"),
    ("the score was 10 - 20", "the score was 10 - 20"),
    ("pages 10--20", "pages 10--20"),
    ("a well-known, self-made man", "a well-known, self-made man"),
    # CJK text and its full-width punctuation are never touched: any CJK character leaves the paragraph as is.
    ('他说："你好..."', '他说："你好..."'),
    ("「待って」--彼は言った...", "「待って」--彼は言った..."),
    ('"Qi (气)..." he said.', '"Qi (气)..." he said.'),
    ("＂Ｈｅｌｌｏ＂...", "＂Ｈｅｌｌｏ＂..."),
    ('"안녕..."', '"안녕..."'),
]


def chapter(*blocks: Paragraph | SceneBreak, title: str = "", notes: tuple[Note, ...] = ()) -> Chapter:
    return Chapter("1.txt", Heading("chapter", None, title), tuple(blocks), notes)


def refined(text: str, language: str = "en") -> str:
    (paragraph,) = refine(chapter(Paragraph((text,))), language).blocks
    (span,) = paragraph.spans
    return span


@pytest.mark.parametrize(("typed", "typeset"), GOLDEN, ids=[typed for typed, _ in GOLDEN])
def test_golden_table(typed: str, typeset: str) -> None:
    assert refined(typed) == typeset


def test_the_golden_table_is_already_typeset_on_its_right_side() -> None:
    for _, typeset in GOLDEN:
        assert refined(typeset) == typeset


# A paragraph is text interleaved with note references: quotes are decided across them.
AROUND_NOTE_REFS = [
    (('"Hello,', NoteRef(0), '" she said.'), ("“Hello,", NoteRef(0), "” she said.")),
    (('"Hello,"', NoteRef(0), " she said."), ("“Hello,”", NoteRef(0), " she said.")),
    (('He said "Dao', NoteRef(0), '" twice.'), ("He said “Dao", NoteRef(0), "” twice.")),
    (("'", NoteRef(0), "Yes,' she said."), ("‘", NoteRef(0), "Yes,’ she said.")),
    ((NoteRef(0), "'em all"), (NoteRef(0), "’em all")),
    (("the Dao", NoteRef(0), " - the Way", NoteRef(1), "..."), ("the Dao", NoteRef(0), " — the Way", NoteRef(1), "…")),
    (("Wait--", NoteRef(0), '"No."'), ("Wait—", NoteRef(0), "“No.”")),
    # A replacement that would swallow a note reference is not made.
    (("Wait.", NoteRef(0), ".."), ("Wait.", NoteRef(0), "..")),
    (("a-", NoteRef(0), "-b"), ("a-", NoteRef(0), "-b")),
]


@pytest.mark.parametrize(("typed", "typeset"), AROUND_NOTE_REFS, ids=[str(typed) for typed, _ in AROUND_NOTE_REFS])
def test_quotes_are_decided_across_note_references_which_stay_in_place(typed: tuple[Span, ...], typeset: tuple[Span, ...]) -> None:
    (paragraph,) = refine(chapter(Paragraph(typed))).blocks
    assert paragraph.spans == typeset


def test_the_heading_title_and_note_texts_are_refined_too() -> None:
    notes = (Note("TL", 'A "Dao" is a way--or a path...'), Note("TL", "Qi (气) is 'energy'..."))
    book_chapter = chapter(Paragraph(("It's", NoteRef(0))), SceneBreak(), title="The '90s -- Part One...", notes=notes)
    result = refine(book_chapter)
    assert result.heading.title == "The ’90s — Part One…"
    assert result.heading.label == "Chapter: The ’90s — Part One…"
    assert result.blocks == (Paragraph(("It’s", NoteRef(0))), SceneBreak())
    assert [note.text for note in result.notes] == ["A “Dao” is a way—or a path…", "Qi (气) is 'energy'..."]


def test_a_note_is_refined_line_by_line_so_a_cjk_line_only_keeps_itself() -> None:
    result = refine(chapter(notes=(Note("TL", "\"Qi\"...\n气...\n'Dao'..."),)))
    assert result.notes[0].text == "“Qi”…\n气...\n‘Dao’…"


@dataclass(frozen=True)
class RicherNote(Note):
    """Note may gain fields: refine keeps them, whatever they are."""

    anchor: str = ""


def test_notes_keep_fields_refine_does_not_know_about() -> None:
    result = refine(chapter(notes=(RicherNote("TL", "It's...", anchor="n1"),)))
    assert result.notes == (RicherNote("TL", "It’s…", anchor="n1"),)


def test_other_languages_get_only_the_ellipsis() -> None:
    typed = "\"Non...\" -- dit-il - 'oui' . . ."
    assert refined(typed, "fr") == "\"Non…\" -- dit-il - 'oui' …"
    assert refined(typed, "de-DE") == "\"Non…\" -- dit-il - 'oui' …"
    assert refined("See http://a.example/x... ok...", "fr") == "See http://a.example/x... ok…"
    assert refined("他说：“你好...”", "zh") == "他说：“你好...”"


@pytest.mark.parametrize("language", ["en", "en-GB", "en_US", "EN", ""])
def test_every_english_tag_gets_the_full_refinement(language: str) -> None:
    assert refined("\"It's--\"", language) == "“It’s—”"


def test_refine_can_be_switched_off() -> None:
    book_chapter = chapter(Paragraph(('"Hi..."',)), title="'90s")
    assert refine(book_chapter, enabled=False) is book_chapter


def test_a_chapter_with_nothing_to_refine_is_returned_as_is() -> None:
    book_chapter = chapter(Paragraph(("Plain text.",)), SceneBreak(), Paragraph(("“Done.”",)), title="Dawn")
    assert refine(book_chapter) is book_chapter


@pytest.mark.parametrize(
    "paragraph",
    [
        "-" * 300_000,
        "." * 300_000,
        ". " * 150_000,
        "'" * 300_000,
        "\"a" * 150_000,
        "a - " * 75_000,
        " -" * 150_000,
        "http://" + "a-." * 100_000,
        "www." * 75_000,
        "a." * 150_000,
        "'a" * 150_000,
        "x" * 300_000,
    ],
    ids=lambda paragraph: repr(paragraph[:8]) + "...",
)
def test_a_300_kb_paragraph_of_any_punctuation_is_refined_whole(paragraph: str) -> None:
    """Worst cases for a backtracking scan (benchmarks/ measures the speed; this checks the result)."""
    result = refined(paragraph)
    assert [char for char in result if char.isalnum()] == [char for char in paragraph if char.isalnum()]


# Property: whatever the text, refine only swaps punctuation, never raises, keeps NoteRefs, and is idempotent.
_typed_text = st.lists(
    st.one_of(
        st.sampled_from(list("\"'-. ")),
        st.sampled_from(list("aZé9 0\u00a0([*—–“”‘’…<>/:w\n")),
        st.sampled_from(["http://", "www.", "em", "'90s", "气", "。", "＂"]),
        st.characters(exclude_categories=("Cs",)),
    ),
    max_size=40,
).map("".join)
_spans = st.lists(st.one_of(_typed_text, st.builds(NoteRef, st.integers(0, 3))), max_size=6).map(tuple)


def _letters_and_digits(text: str) -> list[str]:
    return [character for character in text if character.isalnum()]


def _texts(book_chapter: Chapter) -> list[str]:
    paragraphs = ["".join(span for span in block.spans if isinstance(span, str)) for block in book_chapter.blocks]
    return [book_chapter.heading.title, *paragraphs, *(note.text for note in book_chapter.notes)]


@settings(max_examples=200, deadline=None)
@given(paragraphs=st.lists(_spans, max_size=4), title=_typed_text, note=_typed_text, language=st.sampled_from(["en", "fr"]))
def test_refine_only_changes_punctuation_and_is_idempotent(
    paragraphs: list[tuple[Span, ...]], title: str, note: str, language: str
) -> None:
    typed = chapter(*(Paragraph(spans) for spans in paragraphs), title=title, notes=(Note("TL", note),))
    once = refine(typed, language)
    for before, after in zip(_texts(typed), _texts(once), strict=True):
        assert _letters_and_digits(after) == _letters_and_digits(before)
    for before, after in zip(typed.blocks, once.blocks, strict=True):
        assert [span if isinstance(span, NoteRef) else str for span in after.spans] == [
            span if isinstance(span, NoteRef) else str for span in before.spans
        ]
    assert refine(once, language) == once
    assert replace(once, blocks=typed.blocks, heading=typed.heading, notes=typed.notes) == typed


# The fast path: a chapter's plain paragraphs refined at once by substitutions in C must give what the
# general way (typography._refine_spans, one paragraph at a time) gives. Each alphabet below is dense in
# what one group of rules looks at, so that its corner cases come up often.
_OPENERS = sorted("([{<\u00ab\u2039*_-\u2010\u2011\u2012\u2013\u2014\u2015\u201c\u2018\u201e\u201a")
_QUOTING = ['"', "'", " ", "a", ".", "'em", "'90s", "'Tis", "'n'", "\n", "\u201d", "\u2019"]
_DIGITS = ["1", "0", "\u0663", "\u00b2", "\u00b9", "\u2460", "\u2070", "\U0001f101"]
_DASHING = ["-", "--", "---", " - ", " ", "\u00a0", "\t", "a", "<", ">", "\n"]
_DOTTING = [".", "..", "...", ". .", " ", "\u00a0", "a", "\n", "\u2026"]
_LINKING = ["http://", "HTTPS://", "www.", "WWW.", "a", "--", "...", "'", '"', " ", "\n", "/"]
_MIXING = list("\"'-. \u00a0<>(a1\u00b2\n")
_RARE = ["\u6c14", "\uff02", "\U0001f600", "\u2028", "\x0b", "\u3000", "\u2003", "http://", "www."]
_tricky_text = st.one_of(
    st.lists(st.one_of(st.sampled_from(_QUOTING), st.sampled_from(_OPENERS)), max_size=20),
    st.lists(st.one_of(st.sampled_from(_DASHING), st.sampled_from(_DIGITS)), max_size=20),
    st.lists(st.sampled_from(_DOTTING), max_size=20),
    st.lists(st.sampled_from(_LINKING), max_size=12),
    st.lists(
        st.one_of(st.sampled_from(_MIXING), st.sampled_from(_RARE), st.characters(exclude_categories=("Cs",))),
        max_size=20,
    ),
).map("".join)


def _scanner(language: str) -> re.Pattern[str]:
    return typography._NEUTRAL if language == "fr" else typography._ENGLISH


@settings(max_examples=400, deadline=None)
@given(texts=st.lists(_tricky_text, min_size=1, max_size=5), language=st.sampled_from(["en", "fr"]))
def test_the_fast_path_refines_plain_paragraphs_as_the_general_way_does(texts: list[str], language: str) -> None:
    scanner = _scanner(language)
    generally = [typography._refine_spans((text,), scanner)[0] for text in texts]
    joined = "\n".join(texts)
    if typography._fits_fast_path(joined, len(texts)):
        assert typography._refine_plain(joined, scanner).split("\n") == generally
    for text, refined_text in zip(texts, generally):
        if typography._fits_fast_path(text, 1):
            assert typography._refine_plain(text, scanner) == refined_text


@settings(max_examples=200, deadline=None)
@given(
    paragraphs=st.lists(st.one_of(_tricky_text.map(lambda text: (text,)), _spans), max_size=6),
    language=st.sampled_from(["en", "en-GB", "fr"]),
)
def test_refine_gives_each_paragraph_what_the_general_way_gives(
    paragraphs: list[tuple[Span, ...]], language: str
) -> None:
    blocks = tuple(Paragraph(spans) for spans in paragraphs)
    result = refine(chapter(*blocks, SceneBreak()), language)
    assert [block.spans for block in result.blocks[:-1]] == [
        typography._refine_spans(spans, _scanner(language)) for spans in paragraphs
    ]
    unchanged_plain = [(new, old) for new, old in zip(result.blocks, blocks) if new == old and len(old.spans) == 1]
    assert all(new is old for new, old in unchanged_plain)


FAST_PATH_EDGES = [
    # A line break between paragraphs is their end and start: quotes close and open there, nothing spans it.
    (['He said "yes', '"No," she said.'], ["He said “yes", "“No,” she said."]),
    (["It ended'", "'Tis so."], ["It ended’", "’Tis so."]),
    (["a -", "- b", "a --", "> b", "x <", "-- y"], ["a -", "- b", "a —", "> b", "x <", "— y"]),
    (["Wait..", ".", "Wait. .", ". ok"], ["Wait..", ".", "Wait. .", ". ok"]),
    # str.isdigit, not the regex \d: superscripts and circled digits are digits to the dash rules.
    (["x²--³ and ①-- ② and ² - ³ and 2 - x"], ["x²--³ and ①— ② and ² - ³ and 2 — x"]),
    (["a\u00a0-\u00a0b, a \u00a0- b, a\t-\tb"], ["a\u00a0—\u00a0b, a \u00a0- b, a\t-\tb"]),
    (["'20 more,' she said about the '80s and 'em all"], ["’20 more,’ she said about the ’80s and ’em all"]),
    # Paragraphs that cannot take the fast path keep the general way's result among those that can.
    (
        ['"Hi," he said.', "See www.a--b.com -- 'ok'", "Qi (气)...", "He said 'no'\", then \"'Tis\"", "a\n'b' --"],
        ["“Hi,” he said.", "See www.a--b.com — ‘ok’", "Qi (气)...", "He said ‘no’”, then “’Tis”", "a\n‘b’ —"],
    ),
]


@pytest.mark.parametrize(
    ("typed", "typeset"), FAST_PATH_EDGES, ids=[" | ".join(typed) for typed, _ in FAST_PATH_EDGES]
)
def test_plain_paragraphs_refined_together_at_their_edges(typed: list[str], typeset: list[str]) -> None:
    result = refine(chapter(*(Paragraph((text,)) for text in typed)))
    assert [block.spans for block in result.blocks] == [(text,) for text in typeset]


@pytest.fixture(scope="module")
def every_character() -> str:
    return "".join(chr(code) for code in range(sys.maxunicode + 1) if not 0xD800 <= code <= 0xDFFF)


def test_the_regex_classes_of_the_fast_path_match_the_str_tests_of_the_general_way(every_character: str) -> None:
    digits = [character for character in every_character if character.isdigit()]
    assert re.findall(f"[{typography._DIGIT}]", every_character) == digits
    assert re.findall(r"\s", every_character) == [character for character in every_character if character.isspace()]


def test_no_cjk_character_escapes_the_quick_cjk_test(every_character: str) -> None:
    cjk = typography._CJK.findall(every_character)
    assert len(cjk) > 100_000
    assert all(typography._may_hold_cjk(character) for character in cjk)
    assert not typography._may_hold_cjk("Plain — “text” … with ø, ǎ, Ō and ™")


def test_a_paragraph_is_its_spans_alone() -> None:
    """The fast path rebuilds a changed plain Paragraph from its new spans; a new field would be lost."""
    assert [field.name for field in fields(Paragraph)] == ["spans"]
