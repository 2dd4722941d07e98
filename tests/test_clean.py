"""Boilerplate removal: every rule removes its junk, and no story line is ever lost."""

from __future__ import annotations

import hashlib
import re
import sys
import unicodedata
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from epubgen.clean import Cleaner, _ChapterTexts, clean, repeated, watermark
from epubgen.clean.credits import credit_examples, credit_start, may_start_credit
from epubgen.clean.rules import RULE_GROUPS, builtin_rules, first_whole_line, rule_set, screen_key
from epubgen.clean.watermark import site_examples
from epubgen.config import CleanConfig
from epubgen.errors import ConfigError
from epubgen.marks import strip_marks
from epubgen.model import Line, SourceChapter

FIXTURES = Path(__file__).parent / "fixtures" / "clean"
STORY_BEFORE = "The lantern burned low over the harbour."
STORY_AFTER = "Wren counted the bells and said nothing."


def chapter(text: str, source: str = "1.txt") -> SourceChapter:
    return SourceChapter(source, tuple(Line(n, line) for n, line in enumerate(text.split("\n"), 1)))


def kept_lines(result_chapter: SourceChapter) -> list[str]:
    return [line.text for line in result_chapter.lines if line.text.strip()]


def clean_one(text: str, config: CleanConfig = CleanConfig()) -> tuple[list[str], list[str]]:
    """The lines left of one chapter, and the rule ids that removed something."""
    result = clean((chapter(text),), config)
    return kept_lines(result.chapters[0]), [removal.rule for removal in result.removals]


BUILTIN_EXAMPLES = [
    (rule.id, example) for group in RULE_GROUPS for rule in builtin_rules(group) for example in rule.examples
]


@pytest.mark.parametrize(("rule_id", "example"), BUILTIN_EXAMPLES, ids=[f"{r}:{e[:30]}" for r, e in BUILTIN_EXAMPLES])
def test_every_builtin_rule_removes_its_examples_and_nothing_else(rule_id: str, example: str) -> None:
    kept, rules = clean_one(f"{STORY_BEFORE}\n\n{example}\n\n{STORY_AFTER}")
    assert kept[0] == STORY_BEFORE
    assert example not in kept
    if not rule_id.startswith("reader-chrome:you-ll-also-like"):
        assert kept[-1] == STORY_AFTER
    assert rules[0] == rule_id


def test_every_builtin_rule_has_hints_its_examples_hold() -> None:
    """A rule is only tried on lines holding one of its hints: a hint its examples lack would hide it."""
    for group in RULE_GROUPS:
        for rule in builtin_rules(group):
            assert rule.hints, rule.id
            assert all(rule.may_match(example.lower()) for example in rule.examples), rule.id


@pytest.mark.parametrize("example", site_examples())
def test_disguised_watermarks_are_removed_however_they_are_written(example: str) -> None:
    kept, rules = clean_one(f"{STORY_BEFORE}\n{example}\n{STORY_AFTER}")
    assert kept == [STORY_BEFORE, STORY_AFTER]
    assert rules[0] in ("watermarks:site-name", "host-notices:updated-by-site", "host-notices:read-latest-at")


def test_a_watermark_glued_to_a_sentence_goes_and_the_sentence_stays() -> None:
    kept, rules = clean_one("He drew his sword.Read at l_ight_novelworld.c_om The blade shone.")
    assert kept == ["He drew his sword. The blade shone."]
    assert rules == ["watermarks:site-name"]


def test_a_plain_site_name_in_prose_is_not_a_watermark() -> None:
    prose = ["She read webnovel stories late into the night.", "Wren opened the novel binder.", "He typed www.example.org/novel into the bar."]
    assert clean_one("\n".join(prose))[0] == prose


@pytest.mark.parametrize("example", credit_examples())
def test_credit_lines_are_removed_and_their_names_kept_as_contributors(example: str) -> None:
    result = clean((chapter(f"{STORY_BEFORE}\n{example}"),), CleanConfig())
    assert kept_lines(result.chapters[0]) == [STORY_BEFORE]
    assert result.credits


def test_credits_carry_their_role_and_each_name_once() -> None:
    result = clean(
        (chapter("Translator: Mo Lin  Editor: Quill\nText."), chapter("Translated by Mo Lin\nMore.", "2.txt")), CleanConfig()
    )
    assert result.credits == (("trl", "Mo Lin"), ("edt", "Quill"))


TRAPS = [
    '"You\'ll also like this one," she said.',
    "Translator Li bowed deeply to the court.",
    "Next chapter of my life begins now.",
    "Advertisement boards lined the street.",
    "He typed www.example-bank.test into the browser and waited.",
    "The thief had stolen the Amazon parrot and reported it lost.",
    "She checked her Patreon earnings and laughed.",
    "The two families were related by marriage.",
    "Like this: a fold, then another.",
    "Print the letter, Oda said, and burn the copy.",
    "Related by blood, they were strangers by choice.",
    "Previous chapters of her life were better left unread.",
    "Table of contents? She had never seen one.",
    "Find the latest chapter of the ledger and read it to me.",
    "Tap the screen twice to wake the old machine.",
    "Editor: that was his title, and he hated it.",
    "Posted on the door was a notice in red ink.",
    "Chapter 3 of the statutes says the debt is void.",
    "Ding!",
    "[System: Quest accepted]",
]


def test_not_one_line_of_the_trap_corpus_is_removed() -> None:
    text = "\n\n".join(TRAPS)
    assert clean_one(text) == (TRAPS, [])


# Detection across chapters


WORDS = "amber birch cedar dune ember fjord grove heath inlet juniper kestrel lagoon".split()


def story_line(chapter_number: int, line_number: int) -> str:
    """A line of story no other chapter has (numbers alone would be masked alike)."""
    return f"The {WORDS[chapter_number % 12]} road passed the {WORDS[line_number % 12]} stone."


def series(count: int, top: str | None, bottom: str | None, middle: str | None = None) -> tuple[SourceChapter, ...]:
    """Chapters of twelve story lines, with a line on top, at the bottom and in the middle if given."""
    chapters = []
    for n in range(1, count + 1):
        body = [story_line(n, i) for i in range(12)]
        if middle:
            body.insert(6, middle)
        lines = ([top] if top else []) + [f"Chapter {n}"] + body + ([bottom] if bottom else [])
        chapters.append(chapter("\n".join(lines), f"{n}.txt"))
    return tuple(chapters)


def test_the_title_repeated_on_top_of_every_chapter_is_removed_and_found() -> None:
    result = clean(series(5, "Lantern Keeper Online", "Page 7 of 310 at Example Reader"), CleanConfig())
    assert result.title == "Lantern Keeper Online"
    for cleaned in result.chapters:
        assert kept_lines(cleaned)[0].startswith("Chapter ")
        assert kept_lines(cleaned)[-1].endswith("lagoon stone.")
    assert {r.rule for r in result.removals} == {"repeated:edge-line"}
    assert len(result.removals) == 10


def test_numbers_are_masked_so_counters_count_as_one_line() -> None:
    chapters = tuple(
        chapter("\n".join([f"Chapter {n}", *(story_line(n, i) for i in range(12)), f"Views: {n * 1234}"]), f"{n}.txt")
        for n in range(1, 5)
    )
    result = clean(chapters, CleanConfig())
    assert all(not line.startswith("Views") for c in result.chapters for line in kept_lines(c))


@pytest.mark.parametrize("refrain", ["Ding.", '"No."', "[Quest accepted]", "* * *"])
def test_a_line_the_story_repeats_survives(refrain: str) -> None:
    chapters = series(6, None, refrain, middle=refrain)
    result = clean(chapters, CleanConfig())
    assert all(kept_lines(c).count(refrain) == 2 for c in result.chapters)


def test_short_dialogue_at_the_edge_of_every_chapter_survives() -> None:
    result = clean(series(6, '"Wake up."', '"Good night."'), CleanConfig())
    assert all(kept_lines(c)[0] == '"Wake up."' and kept_lines(c)[-1] == '"Good night."' for c in result.chapters)


def test_detection_thresholds_are_configurable_and_it_can_be_switched_off() -> None:
    chapters = series(5, "Site Title", None)[:3] + series(5, None, None)[3:]
    assert clean(chapters, CleanConfig()).title == "Site Title"
    assert clean(chapters, CleanConfig(repeated_share=0.8)).title is None
    assert clean(chapters, CleanConfig(repeated_min_chapters=4)).title is None
    assert clean(chapters, CleanConfig(detect_repeated=False)).removals == ()


# The user's own rules


def test_user_remove_regex_cut_after_and_keep() -> None:
    text = "\n".join([
        "Join our Discord! The story begins.",
        "Brought to you by Lantern Oil Co.",
        "Ding!",
        "Plain story.",
        "Recommended Reading",
        "Another Novel",
        "Keep me: the epilogue note",
    ])
    config = CleanConfig(
        remove=("Join our Discord!",),
        remove_regex=(r"^Brought to you by .*$",),
        cut_after=("Recommended Reading",),
        keep=("Keep me: the epilogue note",),
    )
    kept, rules = clean_one(text, config)
    assert kept == ["The story begins.", "Ding!", "Plain story.", "Keep me: the epilogue note"]
    assert rules == ["user:remove-1", "user:remove_regex-1", "user:cut_after-1", "user:cut_after-1"]


def test_keep_overrides_builtin_rules() -> None:
    assert clean_one("Advertisement\nText.", CleanConfig(keep=("advertisement",)))[0] == ["Advertisement", "Text."]


def test_builtin_groups_can_be_switched_off() -> None:
    text = "Advertisement\nShare this:\nn/o/v/e/l/b/i/n\nTranslated by Mo Lin"
    kept, _ = clean_one(text, CleanConfig(disable=("reader-chrome", "blog-chrome", "watermarks", "credits")))
    assert kept == text.split("\n")


def test_a_bad_user_regex_is_a_config_error_naming_it() -> None:
    with pytest.raises(ConfigError, match=r"clean.remove_regex: '\(unclosed' is not a valid regular expression"):
        clean_one("Text.", CleanConfig(remove_regex=("(unclosed",)))


def test_a_user_regex_with_capturing_groups_still_names_its_rule() -> None:
    assert clean_one("Brought by Oil\nText.", CleanConfig(remove_regex=(r"(Brought) by (\w+)",)))[1] == ["user:remove_regex-1"]


# Golden files: raw chapter in, expected cleaned text out, per site family


GOLDEN = sorted(path.name for path in FIXTURES.iterdir() if (path / "raw.txt").is_file())


def golden(name: str) -> tuple[list[str], list[str], list[str]]:
    raw = (FIXTURES / name / "raw.txt").read_text(encoding="utf-8")
    expected = [line for line in (FIXTURES / name / "expected.txt").read_text(encoding="utf-8").split("\n") if line.strip()]
    return [line for line in raw.split("\n") if line.strip()], expected, clean_one(raw)[0]


@pytest.mark.parametrize("name", GOLDEN)
def test_golden_raw_chapter_cleans_to_expected_text(name: str) -> None:
    _, expected, kept = golden(name)
    assert kept == expected


def test_junk_recall_and_story_precision_are_both_100_percent_on_the_labelled_fixtures(capsys: pytest.CaptureFixture[str]) -> None:
    junk = removed = story = story_kept = 0
    for name in GOLDEN:
        raw, expected, kept = golden(name)
        junk_lines = [line for line in raw if line not in expected]
        junk += len(junk_lines)
        removed += sum(line not in kept for line in junk_lines)
        story += len(expected)
        story_kept += sum(line in kept for line in expected)
    recall, precision = removed / junk, story_kept / story
    with capsys.disabled():
        print(f"\ncleaning on {len(GOLDEN)} labelled fixtures: junk recall {recall:.1%} ({removed}/{junk}), story precision {precision:.1%} ({story_kept}/{story})")
    assert len(GOLDEN) == 7
    assert (recall, precision) == (1.0, 1.0)


def test_a_numbered_line_that_opens_every_chapter_below_its_heading_is_story() -> None:
    chapters = tuple(
        chapter("\n".join(["Site Name Here", f"Chapter {n}", f"Day {n * 3}", *(story_line(n, i) for i in range(12))]), f"{n}.txt")
        for n in range(1, 6)
    )
    result = clean(chapters, CleanConfig())
    assert [kept_lines(c)[:2] for c in result.chapters] == [[f"Chapter {n}", f"Day {n * 3}"] for n in range(1, 6)]
    assert result.title == "Site Name Here"


_BUILTIN_RULES = [rule for group in RULE_GROUPS for rule in builtin_rules(group)]
_LINE_PIECES = st.sampled_from(
    [example for rule in _BUILTIN_RULES for example in rule.examples]
    + [STORY_BEFORE, STORY_AFTER, "“Advertisement,” she said.", "— Next chapter, then.", "«Index»", " ", "ad", "Tap the screen"]
)
_LINE_OPENERS = st.sampled_from(["", " ", "“", "‘", "—", "«", "[", "(", "<", "Ä", "ß", "İ", "ﬀ", "本", "\u00a0", '"', "”"])
_LONG_TAILS = st.sampled_from(["", " " + "and on " * 20, " " + "and on " * 40, " " + "x" * 160, " Patreon " + "y" * 290])
"""Lengths around the rules' longest matches (9, 168, 200, 300 characters): those screen a line out too."""


@settings(max_examples=200, deadline=None)
@given(opener=_LINE_OPENERS, pieces=st.lists(_LINE_PIECES, min_size=1, max_size=2), tail=_LONG_TAILS)
def test_the_rules_tried_on_a_line_are_those_that_can_match_it(opener: str, pieces: list[str], tail: str) -> None:
    """The first-character, length and hint screens only skip rules that cannot match: the same
    answer as trying every whole-line rule, in order, on the line."""
    rules = rule_set(CleanConfig())
    stripped = (opener + " ".join(pieces) + tail).strip()
    cut_checks, line_checks = rules.checks_by_key(screen_key(stripped, rules.line_lengths))
    for kind, checks in (("line", line_checks), ("cut", cut_checks)):
        every_rule = next((rule.id for rule in rules.rules if rule.kind == kind and rule.compiled.fullmatch(stripped)), None)
        assert first_whole_line(checks, stripped, stripped.lower()) == every_rule


def test_the_screens_skip_the_rules_a_line_cannot_match() -> None:
    """Dialogue never meets the rules whose lookahead rules out a quote, nor a paragraph the rules
    whose longest match is shorter: the screens do screen (the test above only shows they are safe)."""
    rules = rule_set(CleanConfig())

    def tried(line: str) -> set[str]:
        return {check[0] for checks in rules.checks_by_key(screen_key(line, rules.line_lengths)) for check in checks}

    assert {"begging:patreon-plea", "begging:support-the-translator"} <= tried("Please support the translator on Patreon!")
    dialogue = tried("“Please support the translator on Patreon!”")
    assert "begging:patreon-plea" not in dialogue and "begging:support-the-translator" not in dialogue
    assert "begging:patreon-plea" not in tried("Please support the translator, she said, " + "and the rain went on " * 20)


@settings(max_examples=100, deadline=None)
@given(first=st.characters(), example=st.sampled_from(credit_examples()))
def test_the_credit_screen_passes_every_line_a_credit_marker_starts(first: str, example: str) -> None:
    line = (first + example).strip()
    if credit_start()(line):
        assert may_start_credit(line[:1])
    assert not may_start_credit("“")


@settings(max_examples=100, deadline=None)
@given(lines=st.lists(st.tuples(_LINE_OPENERS, _LINE_PIECES), min_size=1, max_size=12))
def test_a_line_holding_a_fragment_is_never_skipped_by_the_chapter_screen(lines: list[tuple[str, str]]) -> None:
    source = chapter("\n".join(opener + piece for opener, piece in lines))
    cleaner = Cleaner.of(CleanConfig())
    texts = _ChapterTexts(source.lines, cleaner.watermarks, cleaner.rules)
    for index, line in enumerate(source.lines):
        if cleaner.rules.fragments(line.text, line.text.lower()):
            assert texts.fragment_lines is None or index in texts.fragment_lines


_KEY_ALPHABETS = ("aB      ßİΣÉ—#", "aB      \ufdd0\t\x0c\x1f\x001#", "aB    \u00a0\u3000٣²Ⅻ1\t", "aB  *_éς—ﬁ\u0301 1", "aB  *_é—æ 11\t\r#")
"""Digits and spaces all ASCII (keys made by byte operations), or some beyond ASCII (by the patterns
on every line); characters that fold further than lower case does (ß, ς), or not NFKC (ﬁ, a combining
accent); or neither, when the keys come from the lines in lower case; a "#" of the text beside digits."""


@settings(max_examples=300, deadline=None)
@given(texts=st.sampled_from(_KEY_ALPHABETS).flatmap(lambda alphabet: st.lists(st.text(st.sampled_from(alphabet), max_size=12), max_size=8)))
def test_the_key_hashes_of_a_chapter_worked_out_at_once_are_each_line_s_own(texts: list[str]) -> None:
    lines = [Line(number, text) for number, text in enumerate(texts, 1)]
    expected = list(repeated.key_hashes([repeated.line_key(text) for text in texts]))
    assert list(repeated.line_key_hashes(lines)) == expected
    assert list(repeated.line_key_hashes(lines, [strip_marks(text).lower() for text in texts])) == expected


def test_case_folding_changes_no_more_than_lower_case_where_lower_case_leaves_nothing_to_fold() -> None:
    """What line_key_hashes relies on to take a chapter's lower case for its case folding, for every
    character of this Python's Unicode: where no character of c.lower() changes when case-folded,
    c.casefold() is c.lower(). (Σ, lowered to ς at a word's end, has ς to fold: it is covered.)"""
    differing = [
        hex(code)
        for code in range(sys.maxunicode + 1)
        if (char := chr(code)).casefold() != (lowered := char.lower()) and all(part.casefold() == part for part in lowered)
    ]
    assert differing == []
    assert "ς".casefold() != "ς"


def test_a_line_s_key_collapses_its_spaces_and_masks_its_digits() -> None:
    texts = ["Page  12 of\tThe Novel ", "plain line", "two  spaces —  here", "ÉTÉ — 3", "#1 and #22"]
    expected = ["page # of the novel", "plain line", "two spaces — here", "été — #", "## and ##"]
    assert [repeated.line_key(text) for text in texts] == expected
    lines = [Line(number, text) for number, text in enumerate(texts, 1)]
    assert list(repeated.line_key_hashes(lines)) == list(repeated.key_hashes(expected))


def test_a_key_s_hash_is_the_same_on_every_machine() -> None:
    """Hashes are remembered between builds: they are the key's BLAKE2b digest, read little-endian."""
    keys = ["page # of the novel", "", "été — #"]
    expected = [int.from_bytes(hashlib.blake2b(key.encode(), digest_size=8).digest(), "little") for key in keys]
    assert list(repeated.key_hashes(keys)) == expected


_TOKEN = re.compile(rf"(?P<dot>{watermark._DOT_WORD})|.", re.IGNORECASE | re.DOTALL)


def _skeleton_one_by_one(text: str) -> tuple[str, list[int]]:
    """The skeleton as the watermark module's docstring defines it, token by token: the oracle."""
    chars, origins = [], []
    for token in _TOKEN.finditer(text):
        folded = "." if token["dot"] else unicodedata.normalize("NFKC", token[0]).lower().translate(watermark._LOOKALIKES)
        for char in folded:
            if char == "." or "a" <= char <= "z" or (char.isdigit() and char.isascii()):
                chars.append(char)
                origins.append(token.start())
    return "".join(chars), origins


_SKELETON_PIECES = st.sampled_from(
    ["novelbin", "n0vel", "(dot)", "[.]", " dot ", "dotcom", ".", "com", "Ｎｏｖｅｌ", "ﬁ", "㎞", "½", "ß", "İ", "ΑΒΓ", "а", "٣", "\u200b", "Read at ", "!", "本"]
)


@settings(max_examples=200, deadline=None)
@given(pieces=st.lists(_SKELETON_PIECES, max_size=12))
def test_a_skeleton_read_off_in_runs_is_the_one_made_character_by_character(pieces: list[str]) -> None:
    text = "".join(pieces)
    assert watermark._skeleton(text) == _skeleton_one_by_one(text)


def test_the_repeated_line_detector_never_takes_every_line_of_a_chapter(tmp_path: Path) -> None:
    """One chapter file linked under three names repeats its only line in every chapter: that is
    story the user downloaded three times, not junk, and it stays."""
    from conftest import OpenedEpub, write_chapters
    from epubgen.builder import build
    from epubgen.config import BookConfig

    folder = write_chapters(tmp_path / "in", {"0001.txt": "Kakar walked the long road home before the rain.\n"})
    for name in ("0002.txt", "0003.txt"):
        (folder / name).symlink_to("0001.txt")
    book = OpenedEpub(build(folder, BookConfig(), tmp_path / "book.epub").path)
    assert "Kakar walked the long road home before the rain." in book.text()
