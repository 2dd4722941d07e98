"""Stage 5: typographic refinements of the running text (quotes, dashes, ellipses).

`refine(chapter, language="en", enabled=True)` returns the chapter with straight punctuation typed on a
keyboard turned into the punctuation a typesetter would use. It refines the paragraphs, the heading's
title and the text of the notes; nothing else changes. Only these characters are ever replaced:
straight quotes `"` and `'`, hyphen runs and dot runs. Letters, digits and every other character
(curly quotes, dashes and ellipses already in the text, full-width punctuation, ...) are kept as they are.

The rules, for English (`en`, `en-GB`, `en_US`, ...; an empty language counts as the default, English):

- Quotes. Each straight quote is decided from its neighbours. It opens (`“`, `‘`) when it comes at the
  start of the text or after whitespace, an opening bracket `([{<«‹`, a dash (`-`, `–`, `—`, ...), an opening
  quote, or the `*`/`_` of plain-text emphasis, *and* a non-space character follows it; otherwise it
  closes (`”`, `’`). So `"Hello," she said.` -> `“Hello,” she said.`, nested `'no'` inside a double-quoted
  line -> `‘no’`, `—'Wait'` -> `—‘Wait’`, `('Yes')` -> `(‘Yes’)`, and a paragraph of a multi-paragraph
  speech that opens but never closes keeps its lone `“`. A quote right after another straight quote
  uses that quote's decision (`'no'",` closes twice).
- Apostrophes are `’` (the same character as a closing single quote): inside words (`don’t`,
  `O’Brien`, `rock’n’roll`), after words (`students’`), and before the elisions `’em`, `’n’`
  (rock ’n’ roll), `’tis`, `’twas`, `’twere`, `’til`, `’cause`, `’cos`, `’cuz`, `’bout`, `’round`,
  `’fore`, `’nother`, `’kay` (lower case, except `’Tis`, `’Twas`, `’Twere`, which cannot be anything
  else) and two digits (`’90s`, `’69`). Any other `'` before a word opens a quote: British-style dialogue
  `'Is it?' she asked.` keeps working. A quoted phrase that starts with two digits (`'20 more,' she
  said`) is mistaken for a year; feet and inches (`5'10"`) get `’` and `”`, not primes.
- Dashes: `--` and `---` become an em dash `—`, the conventional dash of (American) fiction for
  breaks and asides. A hyphen with one space (or no-break space) on each side between two non-space
  characters (`He ran - fast`) is a typed dash too and also becomes `—`: one dash for one role keeps a
  book consistent however its chapters were typed. The author's spacing is kept (`a -- b` -> `a — b`,
  `a--b` -> `a—b`): the stage replaces punctuation characters, never the whitespace around them.
  Left as written: a single hyphen between non-spaces (`well-known`, `pages 10-20`, `1990-1995`), any
  dash or spaced hyphen with a digit on both sides (`10--20`, `10 - 20`: a range or a sum the author
  wrote on purpose), arrows (`-->`, `<--`) and runs of four or more hyphens (a drawn line).
- Ellipsis: a run of three or more dots (`...`, `......`) and dots separated by single spaces
  (`. . .`, `. . . .`) become one `…`. Two dots stay.
- Never touched: the text of a URL, from `http://`, `https://`, `ftp://`, `ftps://` (any case) or
  `www.` (`WWW.`) up to whitespace, `"`, `<`, `>`, `“`, `”` or a `'` not followed by a letter or digit
  (so `http://a.example/x--y...` stays whole while the quotes around `'www.example.com'` still curl);
  and any text containing a CJK character (Han, kana, hangul, bopomofo, CJK symbols and punctuation,
  full-width and half-width forms). CJK typography has its own rules (`……`, `——`, `「」`), so a
  paragraph, title or note line with even one CJK character is left entirely as it is. The rule is
  deliberately simple and safe; its price is that an English paragraph glossing a term (`Qi (气)`)
  keeps its straight punctuation.

Other languages get only the ellipsis, the one refinement that is the same character in every
language written with Latin, Greek or Cyrillic punctuation. Quotes (`„…“`, `« … »`, `”…”`) and dashes
(German spaced `–` for `--`, French and Russian dialogue dashes) depend on the language and its
house style, so they are left as the translator typed them.

Note references: a paragraph's text is split into several string spans around `NoteRef` objects.
Every rule is applied to the paragraph's joined text (so in `"Hello,"[1] she said` the quote before
the NoteRef closes) and the result is cut back into the same spans, so every NoteRef stays where it
was and no span disappears. A replacement that would straddle a NoteRef (`..`[1]`.`) is not made.

Idempotent: refining refined text changes nothing (every straight quote outside URLs and CJK text is
decided on the first pass, and what the rules write is never matched again).

Why a small converter of our own rather than smartypants: smartypants converts HTML (it tokenises
tags, skips `<pre>`/`<code>` and writes entities such as `&#8220;` unless told otherwise), while this
stage works on plain text spans between NoteRef objects, before any markup exists. It has no notion
of URLs, digit ranges, spaced hyphens, CJK text or NoteRef boundaries, all of which would have to be
wrapped around it (escape, mask, convert, unmask, unescape, re-split), and its dash and apostrophe
rules are its own. The rules above are about a hundred lines with no new dependency.

Speed: the paragraphs of a chapter that are one plain string (no NoteRef) are joined by line breaks,
which every rule sees as the end and the start of a text, refined at once and cut back at the line
breaks; only the paragraphs that changed are rebuilt. The joined text is refined by a few regex
substitutions and str.replace calls that run in C with no Python code per match: quotes that open
(each decided by its neighbours alone), then every other straight quote closes; typed dashes; dot
runs. That cannot decide a URL, CJK text, a quote right after a straight quote, or a paragraph with a
line break of its own: when the joined text holds one of them, each paragraph is tested alone, and
those that do go the general way, with the paragraphs holding NoteRefs, the heading's title and the
notes. There, a paragraph holding no straight quote, `--`, spaced hyphen or pair of dots is left alone
after a few substring tests. Any other text is scanned by one compiled regex that starts with a
look-ahead for `"'-.`, so the scan skips other characters in C; the URL regex runs only on text
containing `://` or `ww.`/`WW.`; Python code runs once per match (a quote, a dash, a dot run), never
per character. The general way is the specification: tests check that the fast one agrees with it.
On either way every branch consumes what it matches or fails after a bounded look, so time is linear
in the text (a 300 KB paragraph of any punctuation takes milliseconds).
"""

from __future__ import annotations

import re
from dataclasses import replace

from epubgen.model import Block, Chapter, Note, Paragraph, Span

EM_DASH = "\u2014"
ELLIPSIS = "\u2026"

_URL = re.compile(
    r"""
    (?: \b (?i: https? | ftps? ) :// | \b (?: www | Www | WWW ) \. (?=\w) )
    (?: [^\s"'<>\u201c\u201d] | '(?=\w) )*
    """,
    re.VERBOSE,
)
"""A URL: from its scheme or `www.` to whitespace, `"`, `<`, `>`, a curly double quote or a `'` ending a word."""

_SCHEME_MARK = re.compile("://")
_WWW_MARK = re.compile(r"\.(?<=ww\.|WW\.)")
"""`://` and `ww.`/`WW.`, one of which every URL holds; a regex search for either is faster than `in`."""

_PUNCTUATION = r"""
    (?P<quote> ["'] )
    | (?P<dashes> -{2,} )
    | (?P<hyphen> -(?<=[ \u00a0]-)(?=[ \u00a0]) )
    | (?P<dots> \.(?: \.{2,} | (?:[ \u00a0]\.){2,} ) )
"""

_ENGLISH = re.compile(r"""(?=["'\-.]) (?:""" + _PUNCTUATION + ")", re.VERBOSE)
"""Everything English refinement may change. The leading look-ahead lets the scan skip other characters fast."""

_NEUTRAL = re.compile(r"(?P<dots> \.(?: \.{2,} | (?:[ \u00a0]\.){2,} ) )", re.VERBOSE)
"""Other languages: only ellipses."""

_CJK_RANGES = (
    (0x1100, 0x11FF), (0x2E80, 0x2FFF), (0x3000, 0x303F), (0x3040, 0x30FF), (0x3100, 0x31FF), (0x3200, 0x33FF),
    (0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xA960, 0xA97F), (0xAC00, 0xD7FF), (0xF900, 0xFAFF), (0xFE10, 0xFE1F),
    (0xFE30, 0xFE4F), (0xFF00, 0xFFEF), (0x1B000, 0x1B16F), (0x20000, 0x3134F),
)
"""The CJK characters, as (first, last) code points: Han, kana, hangul, bopomofo, CJK symbols and punctuation, forms."""

_CJK = re.compile("[" + "".join(f"{chr(first)}-{chr(last)}" for first, last in _CJK_RANGES) + "]")

_OPENING_CONTEXT = frozenset("([{<\u00ab\u2039*_-\u2010\u2011\u2012\u2013\u2014\u2015\u201c\u2018\u201e\u201a")
"""Characters after which a straight quote followed by text opens (besides whitespace and the start)."""

_ELISION = re.compile(
    r"(?:em|n|tis|twas|twere|til|cause|cos|cuz|bout|round|fore|nother|kay|Tis|Twas|Twere)\b|\d\d(?:s\b|(?!\w))"
)
"""What follows an apostrophe that stands for left-out letters at the start of a word: 'em, 'n', '90s."""

_NOT_OPENING_CONTEXT = "[^\\s" + "".join(re.escape(character) for character in sorted(_OPENING_CONTEXT)) + "]"
"""A character after which a straight quote closes: neither whitespace nor in _OPENING_CONTEXT."""

_OPENING_DOUBLE = re.compile('"(?<!' + _NOT_OPENING_CONTEXT + '")(?=\\S)')
_OPENING_SINGLE = re.compile("'(?<!" + _NOT_OPENING_CONTEXT + "')(?=\\S)(?!" + _ELISION.pattern + ")")
"""A straight quote that _edits opens, unless the character before it is a straight quote (see _fits_fast_path).
The quote comes first in the pattern, so that the search skips from quote to quote in C."""

_DIGIT = (
    r"\d\u00b2\u00b3\u00b9\u1369-\u1371\u19da\u2070\u2074-\u2079\u2080-\u2089\u2460-\u2468\u2474-\u247c"
    r"\u2488-\u2490\u24ea\u24f5-\u24fd\u24ff\u2776-\u277e\u2780-\u2788\u278a-\u2792"
    r"\U00010a40-\U00010a43\U00010e60-\U00010e68\U00011052-\U0001105a\U0001f100-\U0001f10a"
)
"""The characters for which str.isdigit is true, as the inside of a regex class (the class `\\d` holds only the
str.isdecimal ones; superscripts, circled digits, ... are digits to isdigit too). A test checks every code point."""

_TYPED_DASH = re.compile(
    r"""
    -(?:
        -(?<![-<]--)(?![->])(?: (?<![DIGIT]--) | (?![DIGIT]) )
        | --(?<![-<]---)(?![->])(?: (?<![DIGIT]---) | (?![DIGIT]) )
        | (?<=\S[ \u00a0]-)(?=[ \u00a0]\S)(?: (?<![DIGIT][ \u00a0]-) | (?![ \u00a0][DIGIT]) )
    )
    """.replace("DIGIT", _DIGIT),
    re.VERBOSE,
)
"""What _edits turns into an em dash: a run of exactly two or three hyphens not after `<` nor before `>`,
and a hyphen with one space on each side between non-spaces; either not with a digit on both sides."""

_QUOTE_PAIRS = (re.compile("\"(?=[\"'])"), re.compile("'(?=[\"'])"))
"""Two straight quotes side by side, the second taking the first one's decision (two searches, each fast)."""


def _utf16_high_byte(code: int) -> int:
    """The first byte of the character's first UTF-16-BE code unit (its high surrogate beyond U+FFFF)."""
    return (code if code <= 0xFFFF else 0xD800 + ((code - 0x10000) >> 10)) >> 8


_CJK_HIGH_BYTES = frozenset(
    high for first, last in _CJK_RANGES for high in range(_utf16_high_byte(first), _utf16_high_byte(last) + 1)
)
_OTHER_HIGH_BYTES = bytes(high for high in range(256) if high not in _CJK_HIGH_BYTES)
"""The first bytes of the UTF-16-BE code units that no CJK character begins with (see _may_hold_cjk)."""


def refine(chapter: Chapter, language: str = "en", enabled: bool = True) -> Chapter:
    """Return the chapter with its typography refined (see the module docstring for the rules).

    With enabled false, or nothing to change, the chapter itself is returned.
    """
    if not enabled:
        return chapter
    scanner = _ENGLISH if _is_english(language) else _NEUTRAL
    changes: dict[str, object] = {}
    title = _refine_lines(chapter.heading.title, scanner)
    if title != chapter.heading.title:
        changes["heading"] = replace(chapter.heading, title=title)
    blocks = _refine_blocks(chapter.blocks, scanner)
    if blocks is not chapter.blocks:
        changes["blocks"] = blocks
    notes = tuple(_refine_note(note, scanner) for note in chapter.notes)
    if any(new is not old for new, old in zip(notes, chapter.notes)):
        changes["notes"] = notes
    return replace(chapter, **changes) if changes else chapter


def _is_english(language: str) -> bool:
    primary = (language or "en").strip().replace("_", "-").split("-")[0].lower()
    return primary == "en"


def _refine_blocks(blocks: tuple[Block, ...], scanner: re.Pattern[str]) -> tuple[Block, ...]:
    """Refine the paragraphs among blocks; the same tuple if none changes.

    The paragraphs of one plain string (nearly all) are refined together by _refine_plain, which gives
    what _refine_spans would give on each, when their text joined by line breaks fits the fast path; if
    it does not, each such paragraph is tested on its own, and those that do not fit go the general way.
    """
    plain = {
        index: block.spans[0]
        for index, block in enumerate(blocks)
        if type(block) is Paragraph and len(block.spans) == 1 and type(block.spans[0]) is str
    }
    joined = "\n".join(plain.values())
    if not _fits_fast_path(joined, len(plain)):
        plain = {index: text for index, text in plain.items() if _fits_fast_path(text, 1)}
        joined = "\n".join(plain.values())
    refined = list(blocks)
    changed = False
    for (index, text), new_text in zip(plain.items(), _refine_plain(joined, scanner).split("\n")):
        if new_text != text:
            refined[index] = Paragraph((new_text,))  # a Paragraph holds its spans alone: no dataclasses.replace
            changed = True
    for index in set(range(len(blocks))).difference(plain):
        refined[index] = _refine_block(blocks[index], scanner)
        changed = changed or refined[index] is not blocks[index]
    return tuple(refined) if changed else blocks


def _fits_fast_path(text: str, paragraphs: int) -> bool:
    """Whether _refine_plain refines text, paragraphs joined by line breaks, as _refine_spans would each paragraph.

    A line break is whitespace and neither a word character, a digit, a space for the spaced hyphen nor
    part of any match, so every rule sees it as the start or the end of a text; paragraphs holding one
    of their own would be cut back wrong. Text with a URL or a CJK character (left as it is) and quotes
    side by side (the second takes the first one's decision) need the general way.
    """
    return (
        text.count("\n") == paragraphs - 1
        and not _may_hold_url(text)
        and not any(pair.search(text) for pair in _QUOTE_PAIRS)
        and not (_may_hold_cjk(text) and _CJK.search(text))
    )


def _may_hold_cjk(text: str) -> bool:
    """Whether the first byte of one of text's UTF-16-BE code units (the block of 256 code points its
    character is in) is one a CJK character begins with: false means no CJK character, and is found by
    C loops several times faster than by a _CJK search, which has to test every character against its ranges."""
    return bool(text.encode("utf-16-be", "surrogatepass")[::2].translate(None, _OTHER_HIGH_BYTES))


def _refine_plain(text: str, scanner: re.Pattern[str]) -> str:
    """Refine text that _fits_fast_path as _edits would, by substitutions in C with no Python code per match.

    The substitutions run one after the other, yet each decides as _edits does on the original text:
    what a rule looks at around a match is never something an earlier substitution changed in a way the
    rule tells apart. A curly quote, an em dash or an ellipsis is, like the straight character it replaced,
    neither whitespace, a word character, a digit, `-`, `<` nor `>`, and `—` is in _OPENING_CONTEXT as `-`
    is; only a quote right after a straight quote would see that quote curled (_fits_fast_path keeps
    such text out). Dot runs are matched by the same pattern, _NEUTRAL, in every language.
    """
    if scanner is _ENGLISH:
        text = _OPENING_DOUBLE.sub("\u201c", text).replace('"', "\u201d")
        text = _OPENING_SINGLE.sub("\u2018", text).replace("'", "\u2019")
        text = _TYPED_DASH.sub(EM_DASH, text)
    return _NEUTRAL.sub(ELLIPSIS, text)


def _refine_block(block: Block, scanner: re.Pattern[str]) -> Block:
    if not isinstance(block, Paragraph):
        return block
    spans = _refine_spans(block.spans, scanner)
    return block if spans is block.spans else replace(block, spans=spans)


def _refine_note(note: Note, scanner: re.Pattern[str]) -> Note:
    text = _refine_lines(note.text, scanner)
    return note if text == note.text else replace(note, text=text)


def _refine_lines(text: str, scanner: re.Pattern[str]) -> str:
    """Refine text line by line: a note may hold several paragraphs, each judged on its own (CJK)."""
    if "\n" not in text:
        return _refine_spans((text,), scanner)[0] if text else text
    return "\n".join(_refine_spans((line,), scanner)[0] if line else line for line in text.split("\n"))


def _refine_spans(spans: tuple[Span, ...], scanner: re.Pattern[str]) -> tuple[Span, ...]:
    """Refine the joined text of spans and cut it back at the same places; the same tuple if unchanged."""
    text = spans[0] if len(spans) == 1 and type(spans[0]) is str else "".join(span for span in spans if isinstance(span, str))
    if not _may_change(text, scanner) or _CJK.search(text) is not None:
        return spans
    edits = _edits(text, scanner)
    if not edits:
        return spans
    refined: list[Span] = []
    position = 0
    pending = iter(edits)
    edit = next(pending, None)
    for span in spans:
        if not isinstance(span, str):
            refined.append(span)
            continue
        end = position + len(span)
        pieces: list[str] = []
        cursor = position
        while edit is not None and edit[0] < end:
            start, stop, replacement = edit
            if stop <= end:  # an edit straddling a NoteRef is dropped: the NoteRef stays put
                pieces.append(text[cursor:start])
                pieces.append(replacement)
                cursor = stop
            edit = next(pending, None)
        pieces.append(text[cursor:end])
        refined.append("".join(pieces))
        position = end
    return tuple(refined)


def _may_change(text: str, scanner: re.Pattern[str]) -> bool:
    """Whether scanner can match anything in text, by substring tests alone: a straight quote, `--`,
    a hyphen after a space, or two dots together or one space apart. Most paragraphs of narration
    hold none of them, and cost no regex scan at all."""
    dots = ".." in text or ". ." in text or ".\u00a0." in text
    if scanner is _NEUTRAL:
        return dots
    return dots or '"' in text or "'" in text or "--" in text or " -" in text or "\u00a0-" in text


def _edits(text: str, scanner: re.Pattern[str]) -> list[tuple[int, int, str]]:
    """The replacements to make in text, as (start, stop, replacement), in order and never overlapping."""
    edits: list[tuple[int, int, str]] = []
    length = len(text)
    urls = iter(_url_ranges(text))
    url_start, url_stop = next(urls, (length, length))
    last_quote_stop = -1
    last_quote_opened = False
    for match in scanner.finditer(text):
        kind = match.lastgroup
        start, stop = match.span()
        while start >= url_stop:
            url_start, url_stop = next(urls, (length, length))
        if start >= url_start:  # inside a URL: left as written
            continue
        if kind == "quote":
            before = text[start - 1] if start else " "
            after = text[stop] if stop < length else " "
            if start == last_quote_stop:
                after_opener = last_quote_opened
            else:
                after_opener = before.isspace() or before in _OPENING_CONTEXT
            opens = after_opener and not after.isspace()
            if text[start] == '"':
                edits.append((start, stop, "\u201c" if opens else "\u201d"))
            else:
                if opens and _ELISION.match(text, stop):
                    opens = False
                edits.append((start, stop, "\u2018" if opens else "\u2019"))
            last_quote_stop, last_quote_opened = stop, opens
        elif kind == "dashes":
            before = text[start - 1] if start else ""
            after = text[stop] if stop < length else ""
            if stop - start > 3 or before == "<" or after == ">" or (before.isdigit() and after.isdigit()):
                continue
            edits.append((start, stop, EM_DASH))
        elif kind == "hyphen":
            before = text[start - 2] if start >= 2 else " "
            after = text[stop + 1] if stop + 1 < length else " "
            if before.isspace() or after.isspace() or (before.isdigit() and after.isdigit()):
                continue
            edits.append((start, stop, EM_DASH))
        elif kind == "dots":
            edits.append((start, stop, ELLIPSIS))
    return edits


def _url_ranges(text: str) -> list[tuple[int, int]]:
    """The (start, stop) of each URL in text, in order; a cheap look for `://` or `ww.` first, as URLs are rare."""
    return [match.span() for match in _URL.finditer(text)] if _may_hold_url(text) else []


def _may_hold_url(text: str) -> bool:
    """Whether text holds `://`, `ww.` or `WW.`: a URL needs one of them (two searches each faster than `in`)."""
    return _SCHEME_MARK.search(text) is not None or _WWW_MARK.search(text) is not None
